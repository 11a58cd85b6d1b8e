"""The private core every pattern shares: errors, escape-hatch merging, alarms, Lambda facts."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match

import constructs_lib
from constructs_lib._core import (
    ConstructsLibValidationError,
    Problems,
    acknowledge,
    acknowledge_checkov_function_defaults,
    has_snap_start,
    is_unresolved,
    merge_props,
    timeout_seconds,
    unqualified_snapstart_fix,
    wire_alarms,
)
from constructs_lib.testing import acknowledgments_disabled
from tests.conftest import make_function
from tests.harness import template_of


def test_every_public_name_resolves_lazily():
    assert sorted(constructs_lib.__all__) == sorted(constructs_lib._EXPORTS)
    for name in constructs_lib.__all__:
        assert getattr(constructs_lib, name).__name__ == name
    with pytest.raises(AttributeError):
        _ = constructs_lib.NotAThing


class TestValidationError:
    def test_is_a_value_error_exported_from_the_package_root(self):
        assert constructs_lib.ConstructsLibValidationError is ConstructsLibValidationError
        assert issubclass(ConstructsLibValidationError, ValueError)

    def test_lists_every_problem_with_prop_value_and_fix(self):
        problems = Problems("Thing 'Stack/Thing'")
        problems.add("size", 3, "must be even")
        problems.check(False, "name", "x y", "must not contain spaces")
        problems.check(True, "ignored", 1, "never reported")
        with pytest.raises(ConstructsLibValidationError) as raised:
            problems.raise_if_any()
        assert str(raised.value).splitlines() == [
            "Thing 'Stack/Thing' is misconfigured (2 problem(s)):",
            "  - size: got 3; must be even",
            "  - name: got 'x y'; must not contain spaces",
        ]
        assert [p.prop for p in raised.value.problems] == ["size", "name"]

    def test_no_problems_raises_nothing(self):
        Problems("Thing").raise_if_any()

    def test_durations_are_described_readably(self):
        problems = Problems("Thing")
        problems.add("timeout", Duration.minutes(2), "too long")
        with pytest.raises(ConstructsLibValidationError, match="timeout: got 2 minutes; too long"):
            problems.raise_if_any()

    def test_tokens_are_unresolved(self, stack):
        number = cdk.CfnParameter(stack, "N", type="Number").value_as_number
        assert is_unresolved(number)
        assert is_unresolved(Duration.seconds(number))
        assert is_unresolved(cdk.Aws.REGION)
        assert not is_unresolved(5)
        assert not is_unresolved(Duration.seconds(5))
        assert not is_unresolved(True)


class TestMergeProps:
    def merge(self, stack, problems, **kwargs):
        return merge_props(
            problems, prop_name="queue_props", l2_class=sqs.Queue, struct_class=sqs.QueueProps, **kwargs
        )

    def test_order_is_defaults_then_user_then_required(self, stack):
        problems = Problems("T")
        merged = self.merge(
            stack,
            problems,
            defaults={"enforce_ssl": True, "retention_period": Duration.days(4)},
            user={"retention_period": Duration.days(7), "queue_name": "q"},
            required={"fifo": False},
        )
        assert merged["enforce_ssl"] is True
        assert merged["retention_period"].to_days() == 7
        assert merged["queue_name"] == "q"
        assert merged["fifo"] is False
        assert not problems

    def test_unknown_keys_name_the_valid_ones(self, stack):
        problems = Problems("T")
        self.merge(stack, problems, defaults={}, user={"retenion_period": 1})
        with pytest.raises(ConstructsLibValidationError) as raised:
            problems.raise_if_any()
        message = str(raised.value)
        assert "queue_props['retenion_period']" in message
        assert "retention_period" in message
        assert "visibility_timeout" in message

    def test_required_and_owned_keys_cannot_be_overridden(self, stack):
        problems = Problems("T")
        self.merge(
            stack,
            problems,
            defaults={},
            user={"fifo": True, "visibility_timeout": Duration.seconds(1)},
            required={"fifo": False},
            owned={"visibility_timeout": "the visibility_timeout prop"},
        )
        with pytest.raises(ConstructsLibValidationError) as raised:
            problems.raise_if_any()
        fixes = {p.prop: p.fix for p in raised.value.problems}
        assert "must set this itself" in fixes["queue_props['fifo']"]
        assert "use the visibility_timeout prop instead" in fixes["queue_props['visibility_timeout']"]

    def test_a_props_struct_merges_like_the_mapping(self, stack):
        as_struct, as_mapping = Problems("T"), Problems("T")
        kwargs = {"defaults": {"enforce_ssl": True}, "owned": {"visibility_timeout": "visibility_timeout"}}
        user = {"retention_period": Duration.days(7), "visibility_timeout": Duration.seconds(5)}
        from_struct = self.merge(stack, as_struct, user=sqs.QueueProps(**user), **kwargs)
        from_mapping = self.merge(stack, as_mapping, user=user, **kwargs)
        assert from_struct.keys() == from_mapping.keys()
        assert from_struct["retention_period"].to_days() == 7
        for problems in (as_struct, as_mapping):
            with pytest.raises(ConstructsLibValidationError, match="use visibility_timeout instead"):
                problems.raise_if_any()

    def test_a_value_of_another_type_is_a_problem(self, stack):
        problems = Problems("T")
        assert self.merge(stack, problems, defaults={}, user=sqs.DeadLetterQueue) == {}
        with pytest.raises(ConstructsLibValidationError, match=r"must be aws_sqs.QueueProps or a dict"):
            problems.raise_if_any()

    def test_overriding_a_security_default_adds_a_warning(self, stack):
        sqs.Queue(stack, "Q")  # a stack must not be empty
        problems = Problems("T")
        self.merge(
            stack,
            problems,
            defaults={"enforce_ssl": True},
            user={"enforce_ssl": False},
            security_defaults=("enforce_ssl",),
        )
        problems.emit_warnings(stack)
        Annotations.from_stack(stack).has_warning(
            "*", Match.string_like_regexp(r"queue_props\['enforce_ssl'\] overrides a security default")
        )


class TestAlarmsAndNag:
    def test_wire_alarms_sends_alarm_and_ok_to_the_topic(self, stack):
        topic = sns.Topic(stack, "Topic")
        metric = cloudwatch.Metric(namespace="N", metric_name="M")
        alarms = [metric.create_alarm(stack, f"A{i}", threshold=1, evaluation_periods=1) for i in range(2)]
        wire_alarms(alarms, topic)
        found = template_of(stack).find_resources("AWS::CloudWatch::Alarm")
        assert len(found) == 2
        for alarm in found.values():
            assert alarm["Properties"]["AlarmActions"] == [
                {"Ref": stack.get_logical_id(topic.node.default_child)}
            ]
            assert alarm["Properties"]["OKActions"] == alarm["Properties"]["AlarmActions"]

    def test_wire_alarms_without_topic_does_nothing(self, stack):
        metric = cloudwatch.Metric(namespace="N", metric_name="M")
        wire_alarms([metric.create_alarm(stack, "A", threshold=1, evaluation_periods=1)], None)
        alarm = next(iter(template_of(stack).find_resources("AWS::CloudWatch::Alarm").values()))
        assert "AlarmActions" not in alarm["Properties"]

    def test_acknowledge_requires_a_specific_reason(self, stack):
        queue = sqs.Queue(stack, "Q")
        with pytest.raises(ValueError, match="needs a specific reason"):
            acknowledge(queue, "AwsSolutions::AwsSolutions-SQS3", "because")
        acknowledge(queue, "AwsSolutions::AwsSolutions-SQS3", "this queue is a test fixture only")
        entries = [m for m in queue.node.metadata if m.type == "aws:cdk:acknowledged-rules"]
        assert entries[0].data == {"AwsSolutions::AwsSolutions-SQS3": "this queue is a test fixture only"}

    def test_a_checkov_acknowledgment_is_also_checkovs_own_skip_on_every_resource_below(self, stack):
        function = make_function(stack)
        acknowledge(function, "checkov::CKV_AWS_117", "reaches only public AWS endpoints here")
        acknowledge(function, "checkov::CKV_AWS_115", "bounded by its event source mapping here")
        acknowledge(function, "checkov::CKV_AWS_117", "reaches only public AWS endpoints, said twice")
        resources = template_of(stack).to_json()["Resources"]
        [fn] = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
        [role] = [r for r in resources.values() if r["Type"] == "AWS::IAM::Role"]
        expected = [
            {"id": "CKV_AWS_115", "comment": "bounded by its event source mapping here"},
            {"id": "CKV_AWS_117", "comment": "reaches only public AWS endpoints, said twice"},
        ]
        for resource in (fn, role):  # the function's children (its role) are covered too
            assert resource["Metadata"]["checkov"]["skip"] == expected
        entries = [m for m in function.node.metadata if m.type == "aws:cdk:acknowledged-rules"]
        assert {rule for entry in entries for rule in entry.data} == {
            "checkov::CKV_AWS_117",
            "checkov::CKV_AWS_115",
        }

    def test_generic_checkov_checks_are_acknowledged_only_where_they_apply(self, stack):
        key = kms.Key(stack, "Key")
        plain, encrypted = (
            make_function(stack, "Plain"),
            lambda_.Function(
                stack,
                "Encrypted",
                runtime=lambda_.Runtime.PYTHON_3_13,
                handler="index.handler",
                code=lambda_.Code.from_inline("def handler(e, c):\n    return {}\n"),
                environment_encryption=key,
            ),
        )
        plain_logs = logs.LogGroup(stack, "PlainLogs")
        encrypted_logs = logs.LogGroup(stack, "EncryptedLogs", encryption_key=key)
        acknowledge_checkov_function_defaults(plain, plain_logs)
        acknowledge_checkov_function_defaults(encrypted, encrypted_logs)

        def skipped(construct):
            return [entry["id"] for entry in construct.node.default_child.get_metadata("checkov")["skip"]]

        assert skipped(plain) == ["CKV_AWS_117", "CKV_AWS_173"]
        assert skipped(plain_logs) == ["CKV_AWS_158"]
        assert skipped(encrypted) == ["CKV_AWS_117"], "a function with a KMS key needs no CKV_AWS_173 skip"
        assert encrypted_logs.node.default_child.get_metadata("checkov") is None

    def test_acknowledgments_disabled_records_neither_kind(self, stack):
        queue = sqs.Queue(stack, "Q")
        with acknowledgments_disabled():
            acknowledge(queue, "checkov::CKV_AWS_27", "the queue's messages are not sensitive here")
            acknowledge(queue, "AwsSolutions::AwsSolutions-SQS3", "this queue is a test fixture only")
        assert not [m for m in queue.node.metadata if m.type == "aws:cdk:acknowledged-rules"]
        [resource] = template_of(stack).to_json()["Resources"].values()
        assert "checkov" not in resource.get("Metadata", {})


class TestLambdaFacts:
    def test_timeout_of_function_version_and_alias(self, stack):
        fn = make_function(stack, timeout=Duration.seconds(40))
        alias = lambda_.Alias(stack, "Alias", alias_name="live", version=fn.current_version)
        assert timeout_seconds(fn) == 40
        assert timeout_seconds(fn.current_version) == 40
        assert timeout_seconds(alias) == 40

    def test_timeout_defaults_to_three_seconds_and_is_unknown_for_imports(self, stack):
        assert timeout_seconds(make_function(stack, timeout=None)) == 3
        imported = lambda_.Function.from_function_name(stack, "Imp", "x")
        assert timeout_seconds(imported) is None

    def test_snapstart_needs_an_alias_or_version(self, stack):
        fn = make_function(stack, snap_start=True)
        assert has_snap_start(fn)
        assert "pass its alias" in (unqualified_snapstart_fix(fn) or "")
        assert unqualified_snapstart_fix(fn.current_version) is None
        assert unqualified_snapstart_fix(make_function(stack, "Plain")) is None
