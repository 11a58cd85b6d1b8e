"""Deploy smoke: both storefront stacks created in moto's CloudFormation, and what it created wired together.

moto's CloudFormation needs three workarounds (shared/DESIGN.md): the bootstrap version in SSM, file
assets uploaded to the bootstrap bucket, and Outputs it cannot resolve left out. It silently skips some
resource types; this test lists them, and template assertions elsewhere cover them (CloudFront, API
Gateway stages, alarms, Cognito). Custom resources are left out too: moto would run their handlers in
Docker.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from moto import mock_aws
from moto.cloudformation.parsing import get_model_map

from tests import localcloud

ACCOUNT, REGION = "123456789012", "us-east-1"
POWERTOOLS_LAYER_ARN = (
    f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:1"
)
BOOTSTRAP_BUCKET = f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
#: Resource types moto's CloudFormation does not create (it warns and goes on); checked below.
SKIPPED_BY_MOTO = {
    "AWS::Cognito::UserPool",
    "AWS::SQS::QueuePolicy",
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def assembly() -> Any:
    """The storefront pinned to ACCOUNT in REGION, as the local cloud runs it (one cached synth)."""
    assert (ACCOUNT, REGION) == ("123456789012", localcloud.REGION)
    return cdk.cx_api.CloudAssembly(str(localcloud.pinned_storefront_assembly()))


def upload_assets(assembly: Any, stack_name: str) -> None:
    """What `cdk deploy` publishes first: each file asset, zipped when it is a directory."""
    s3 = boto3.client("s3", region_name=REGION)
    manifest = json.loads((Path(assembly.directory) / f"{stack_name}.assets.json").read_text())
    for asset in manifest.get("files", {}).values():
        source = Path(assembly.directory) / asset["source"]["path"]
        for destination in asset["destinations"].values():
            if source.is_dir():
                data = io.BytesIO()
                with zipfile.ZipFile(data, "w") as archive:
                    for path in sorted(source.rglob("*")):
                        if path.is_file():
                            archive.write(path, path.relative_to(source).as_posix())
                body = data.getvalue()
            else:
                body = source.read_bytes()
            s3.put_object(Bucket=BOOTSTRAP_BUCKET, Key=destination["objectKey"], Body=body)


def left_out(resources: dict[str, Any]) -> set[str]:
    """Resources moto's CloudFormation cannot create (custom resources, types it has no model for), and
    those that reference them (it refuses a template with a reference to a resource it dropped)."""
    supported = set(get_model_map())
    out = {k for k, r in resources.items() if r["Type"].startswith("Custom::") or r["Type"] not in supported}
    while True:
        more = {
            k
            for k, r in resources.items()
            if k not in out and any(f'"{name}"' in json.dumps({**r, "Type": ""}) for name in out)
        }
        if not more:
            return out
        out |= more


def deployable(template: dict[str, Any], outputs: dict[str, str]) -> dict[str, Any]:
    """The template as moto can take it: custom resources left out, the other stack's outputs (which
    moto's CloudFormation cannot read with Fn::GetStackOutput) filled in, and only the outputs kept whose
    values it can resolve."""

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Fn::GetStackOutput"}:
                return outputs[value["Fn::GetStackOutput"]["OutputName"]]
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    result: dict[str, Any] = fill(template)
    for parameter in result.get("Parameters", {}).values():
        # moto keeps /aws/... names reserved, so AWS's public parameter (the Powertools layer's ARN) is
        # given as the value it resolves to.
        if str(parameter.get("Default", "")).startswith("/aws/service/"):
            parameter.update(Type="String", Default=POWERTOOLS_LAYER_ARN)
    for resource in result["Resources"].values():
        if resource["Type"] == "AWS::KMS::Key" and "Tags" in resource.get("Properties", {}):
            # moto's KMS model reads tags in the KMS API's shape (TagKey/TagValue), not CloudFormation's.
            resource["Properties"]["Tags"] = [
                {"TagKey": t["Key"], "TagValue": t["Value"]} for t in resource["Properties"]["Tags"]
            ]
    result["Resources"] = {
        k: r for k, r in result["Resources"].items() if k not in left_out(result["Resources"])
    }
    skipped = [k for k, r in template["Resources"].items() if k not in result["Resources"]]
    result["Outputs"] = {
        k: o
        for k, o in result.get("Outputs", {}).items()
        if k.startswith("PublishOutput") and not any(s in json.dumps(o) for s in skipped)
    }
    return result


def test_both_stacks_create_in_moto_and_are_wired_together(assembly, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    stateful_template = assembly.get_stack_by_name("StorefrontStateful").template
    stateless_template = assembly.get_stack_by_name("Storefront").template
    with mock_aws():
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String"
        )
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BOOTSTRAP_BUCKET)
        upload_assets(assembly, "Storefront")
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        # The user pool is skipped by moto, so its ARN output is filled in by hand.
        outputs = {
            name: f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_skipped"
            for name, output in stateful_template["Outputs"].items()
            if "Customers" in json.dumps(output["Value"])
        }
        created: dict[str, dict[str, str]] = {}
        skipped_types: dict[str, set[str]] = {}
        for name, source in (("StorefrontStateful", stateful_template), ("Storefront", stateless_template)):
            template = deployable(source, outputs)
            cloudformation.create_stack(
                StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"]
            )
            [stack] = cloudformation.describe_stacks(StackName=name)["Stacks"]
            assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
            outputs.update({o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])})
            summaries = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
            created[name] = {s["LogicalResourceId"]: s.get("PhysicalResourceId", "") for s in summaries}
            missing = Counter(r["Type"] for k, r in source["Resources"].items() if k not in created[name])
            print(
                f"\n{name}: moto created {len(created[name])} of {len(source['Resources'])} resources; "
                "left out (template assertions cover them): "
                + ", ".join(f"{t} x{n}" for t, n in sorted(missing.items()))
            )
            skipped_types[name] = set(missing)

        stateful_ids, stateless_ids = created["StorefrontStateful"], created["Storefront"]
        sqs = boto3.client("sqs", region_name=REGION)
        # The order queue redrives to its DLQ after 10 receives.
        [queue_id] = [k for k in stateful_ids if k.startswith("Orders") and "DeadLetter" not in k]
        attributes = sqs.get_queue_attributes(QueueUrl=stateful_ids[queue_id], AttributeNames=["All"])[
            "Attributes"
        ]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["maxReceiveCount"] == 10
        assert redrive["deadLetterTargetArn"].endswith(
            ":" + stateful_ids[next(k for k in stateful_ids if "DeadLetter" in k)].split("/")[-1]
        )
        assert attributes["VisibilityTimeout"] == "180"
        # The tables.
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        tables = {
            k: dynamodb.describe_table(TableName=v)["Table"]
            for k, v in stateful_ids.items()
            if k.startswith(("CircuitState", "Idempotency"))
        }
        assert len(tables) == 2
        [circuit] = [t for k, t in tables.items() if k.startswith("CircuitState")]
        assert circuit["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        # The event source mappings: the order queue feeds the consumer, the table's stream the governor.
        lambda_client = boto3.client("lambda", region_name=REGION)
        mappings = lambda_client.list_event_source_mappings()["EventSourceMappings"]
        by_source = {m["EventSourceArn"]: m["FunctionArn"] for m in mappings}
        assert any(
            arn.endswith(":" + stateful_ids[queue_id].split("/")[-1]) and "OrderConsumer" in fn
            for arn, fn in by_source.items()
        )
        assert any(arn == circuit["LatestStreamArn"] and "Governor" in fn for arn, fn in by_source.items())
        # The roles' policies name the right ARNs.
        iam = boto3.client("iam", region_name=REGION)
        governor_role = stateless_ids[
            next(k for k in stateless_ids if k.startswith("BreakerGovernorRole") and "Policy" not in k)
        ]
        policies = iam.list_role_policies(RoleName=governor_role)["PolicyNames"]
        documents = json.dumps(
            [iam.get_role_policy(RoleName=governor_role, PolicyName=p)["PolicyDocument"] for p in policies]
        )
        [mapping] = [m for m in mappings if "OrderConsumer" in m["FunctionArn"]]
        assert "lambda:UpdateEventSourceMapping" in documents
        assert f":event-source-mapping:{mapping['UUID']}" in documents
        assert circuit["TableArn"] in documents
