"""Working/broken pairs for the pack's policy semantics on plain aws-cdk-lib apps: qualifiers, name
prefixes, managed policies and permissions boundaries, conditions, what a service principal never sends,
CloudWatch Logs targets, numeric conditions and guessed SDK actions. ``tests/test_checks.py`` builds each
pair environment-agnostic and with an explicit account (``Pair-<name>-<env>-<working|broken>``)."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from tests.corpus.kinds import function

READ = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]


def consumer_queue(scope: Construct) -> sqs.Queue:
    return sqs.Queue(scope, "Queue", visibility_timeout=Duration.seconds(180))


def mapping(scope: Construct, queue: sqs.IQueue, fn: lambda_.IFunction) -> None:
    """A mapping written directly, as teams do when the role is shared: it grants nothing."""
    lambda_.EventSourceMapping(
        scope,
        "Mapping",
        target=fn,
        event_source_arn=queue.queue_arn,
        report_batch_item_failures=True,
        max_concurrency=2,
    )


def consumer_role(scope: Construct, **props: object) -> iam.Role:
    return iam.Role(scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), **props)  # type: ignore[arg-type]


def arn_in(scope: Construct, service: str, resource: str) -> str:
    """An ARN in the scope's account and region, written out as a team writes a literal pattern."""
    stack = cdk.Stack.of(scope)
    return f"arn:{cdk.Aws.PARTITION}:{service}:{stack.region}:{stack.account}:{resource}"


# ---------------------------------------------------------------------------------------- qualifiers


def alias_only_permission(scope: Construct, broken: bool) -> None:
    """A rule invokes the function itself; the broken twin's permission names only an alias, which
    admits calls through that alias alone (Lambda: a permission applies to the ARN it names)."""
    fn = function(scope)
    alias = lambda_.Alias(scope, "Live", alias_name="live", version=fn.current_version)
    events.Rule(
        scope,
        "Rule",
        schedule=events.Schedule.rate(Duration.minutes(5)),
        targets=[targets.LambdaFunction(fn)],
    )
    if broken:
        for child in scope.node.find_all():
            if isinstance(child, lambda_.CfnPermission):
                child.function_name = alias.function_arn


# ---------------------------------------------------------------------------------------- name prefixes


def prefix_source_arn(scope: Construct, broken: bool) -> None:
    """A queue policy admitting every topic whose name starts with the stack's name (CloudFormation names
    a topic <stack>-<logical id>-<suffix>)."""
    topic, queue = sns.Topic(scope, "Events"), sqs.Queue(scope, "Queue")
    prefix = "Billing" if broken else cdk.Stack.of(scope).stack_name
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("sns.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={"ArnLike": {"aws:SourceArn": arn_in(scope, "sns", f"{prefix}-*")}},
        )
    )
    sns.Subscription(
        scope, "Subscription", topic=topic, endpoint=queue.queue_arn, protocol=sns.SubscriptionProtocol.SQS
    )


def prefix_grant(scope: Construct, broken: bool) -> None:
    """A consumer allowed on every queue whose name starts with the stack's name."""
    queue, fn = consumer_queue(scope), function(scope)
    mapping(scope, queue, fn)
    prefix = "Billing" if broken else cdk.Stack.of(scope).stack_name
    fn.add_to_role_policy(iam.PolicyStatement(actions=READ, resources=[arn_in(scope, "sqs", f"{prefix}-*")]))


def queue_policy_by_url(scope: Construct, broken: bool) -> None:
    """A queue policy written with L1 naming its queue by URL, as a string (no reference to the queue)."""
    stack = cdk.Stack.of(scope)
    name = f"{stack.stack_name}-orders"
    topic, queue = sns.Topic(scope, "Topic"), sqs.Queue(scope, "Queue", queue_name=name)
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com" if broken else "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": arn_in(scope, "sqs", name),
        "Condition": {"ArnEquals": {"aws:SourceArn": topic.topic_arn}},
    }
    url = f"https://sqs.{stack.region}.amazonaws.com/{stack.account}/{name}"
    sqs.CfnQueuePolicy(scope, "Policy", queues=[url], policy_document={"Statement": [statement]})
    sns.Subscription(
        scope, "Subscription", topic=topic, endpoint=queue.queue_arn, protocol=sns.SubscriptionProtocol.SQS
    )


# ---------------------------------------------------------------------------------------- managed policies


def app_managed_policy(scope: Construct, broken: bool) -> None:
    """The consumer's grant in a customer managed policy of the app, attached with managed_policies."""
    queue = consumer_queue(scope)
    other = sqs.Queue(scope, "Other")
    grant = iam.ManagedPolicy(
        scope,
        "Consume",
        statements=[iam.PolicyStatement(actions=READ, resources=[(other if broken else queue).queue_arn])],
    )
    role = consumer_role(scope, managed_policies=[grant])
    mapping(scope, queue, function(scope, role=role))


def unrelated_managed_policy(scope: Construct, broken: bool) -> None:
    """A managed policy for a group (no Roles) beside a consumer: it attaches to no role."""
    queue, fn = consumer_queue(scope), function(scope)
    mapping(scope, queue, fn)
    if not broken:
        queue.grant_consume_messages(fn)
    group = iam.Group(scope, "Operators")
    iam.ManagedPolicy(
        scope,
        "OperatorsRead",
        groups=[group],
        statements=[iam.PolicyStatement(actions=["sqs:*"], resources=["*"])],
    )


def permissions_boundary(scope: Construct, broken: bool) -> None:
    """The consumer's role under a permissions boundary of the app, which must allow the read too."""
    allowed = ["logs:*"] + ([] if broken else ["sqs:*"])
    boundary = iam.ManagedPolicy(
        scope, "Boundary", statements=[iam.PolicyStatement(actions=allowed, resources=["*"])]
    )
    role = consumer_role(scope, permissions_boundary=boundary)
    queue = consumer_queue(scope)
    fn = function(scope, role=role)
    queue.grant_consume_messages(fn)
    mapping(scope, queue, fn)


def aws_managed_boundary(scope: Construct, broken: bool) -> None:
    """A boundary whose content no template holds (an AWS managed policy): the read cannot be decided."""
    boundary = iam.ManagedPolicy.from_aws_managed_policy_name("PowerUserAccess") if broken else None
    role = consumer_role(scope, permissions_boundary=boundary)
    queue = consumer_queue(scope)
    fn = function(scope, role=role)
    queue.grant_consume_messages(fn)
    mapping(scope, queue, fn)


# ---------------------------------------------------------------------------------------- conditions


def conditional_permission(scope: Construct, broken: bool) -> None:
    """SNS → a function whose permission exists only in one environment (a CfnCondition on it)."""
    stage = cdk.CfnParameter(scope, "Stage", allowed_values=["dev", "prod"], default="dev")
    production = cdk.CfnCondition(
        scope, "IsProd", expression=cdk.Fn.condition_equals(stage.value_as_string, "prod")
    )
    fn = function(scope)
    sns.Topic(scope, "Topic").add_subscription(subscriptions.LambdaSubscription(fn))
    if broken:
        for child in scope.node.find_all():
            if isinstance(child, lambda_.CfnPermission):
                child.cfn_options.condition = production


def conditional_queue_key(scope: Construct, broken: bool) -> None:
    """SNS → a queue encrypted, in one environment only, with a key that does not admit SNS."""
    topic, master_key = sns.Topic(scope, "Topic"), kms.Key(scope, "Key")
    queue = sqs.Queue(scope, "Queue")
    topic.add_subscription(subscriptions.SqsSubscription(queue))
    if broken:
        stage = cdk.CfnParameter(scope, "Stage", allowed_values=["dev", "prod"], default="dev")
        production = cdk.CfnCondition(
            scope, "IsProd", expression=cdk.Fn.condition_equals(stage.value_as_string, "prod")
        )
        cfn = queue.node.default_child
        assert isinstance(cfn, sqs.CfnQueue)
        cfn.add_property_override(
            "KmsMasterKeyId", cdk.Fn.condition_if(production.logical_id, master_key.key_arn, cdk.Aws.NO_VALUE)
        )


# ---------------------------------------------------------------------------------------- service principals


def organization_guard(scope: Construct, broken: bool) -> None:
    """A queue policy denying callers outside the organization: SNS is in none, so the working twin exempts
    AWS services (aws:PrincipalIsAWSService), as AWS's data perimeter examples do."""
    topic, queue = sns.Topic(scope, "Topic"), sqs.Queue(scope, "Queue")
    topic.add_subscription(subscriptions.SqsSubscription(queue))
    conditions: dict[str, object] = {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    if not broken:
        conditions["BoolIfExists"] = {"aws:PrincipalIsAWSService": "false"}
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            sid="OnlyTheOrganization",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions=conditions,
        )
    )


def rule_to_log_group(scope: Construct, broken: bool) -> None:
    """EventBridge → CloudWatch Logs: aws-cdk-lib puts a log resource policy for events.amazonaws.com;
    the broken twin's policy admits another service (and one set outside the app still might)."""
    group = logs.LogGroup(scope, "Events")
    rule = events.Rule(scope, "Rule", event_pattern=events.EventPattern(source=["team.orders"]))
    rule.add_target(targets.CloudWatchLogGroup(group))
    if broken:
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
        document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        call = {
            "service": "CloudWatchLogs",
            "action": "putResourcePolicy",
            "parameters": {"policyName": "other", "policyDocument": document},
        }
        for child in scope.node.find_all():
            if (
                isinstance(child, cdk.CfnResource)
                and child.cfn_resource_type == "Custom::CloudwatchLogResourcePolicy"
            ):
                child.add_property_override("Create", json.dumps(call))


def rule_to_api_destination(scope: Construct, broken: bool) -> None:
    """EventBridge → an API destination, with the target's role (events:InvokeApiDestination)."""
    connection = events.Connection(
        scope,
        "Connection",
        authorization=events.Authorization.api_key("x-api-key", cdk.SecretValue.unsafe_plain_text("pairs")),
    )
    destination = events.ApiDestination(
        scope, "Destination", connection=connection, endpoint="https://example.com/orders"
    )
    role = iam.Role(scope, "RuleRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
    events.Rule(
        scope,
        "Rule",
        schedule=events.Schedule.rate(Duration.minutes(5)),
        targets=[targets.ApiDestination(destination, event_role=role)],
    )
    if broken:
        policy = role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(policy, iam.CfnPolicy)
        nothing = [{"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "*"}]
        policy.add_property_override("PolicyDocument.Statement", nothing)


def minimum_tls_bucket(scope: Construct, broken: bool) -> None:
    """An OAC bucket with minimum_tls_version (a NumericLessThan Deny on s3:TlsVersion). CloudFront
    connects with TLS 1.2 or 1.3; the broken twin's Deny covers both."""
    bucket = s3.Bucket(scope, "Site", enforce_ssl=True, minimum_tls_version=1.2)
    cloudfront.Distribution(
        scope,
        "Cdn",
        default_behavior=cloudfront.BehaviorOptions(
            origin=origins.S3BucketOrigin.with_origin_access_control(bucket)
        ),
    )
    if broken:
        policy = bucket.node.find_child("Policy").node.default_child
        assert isinstance(policy, s3.CfnBucketPolicy)
        policy.add_property_override(
            "PolicyDocument.Statement.1.Condition.NumericLessThan.s3:TlsVersion", 1.4
        )


def guessed_sdk_action(scope: Construct, broken: bool) -> None:
    """An SDK task whose IAM action the pack does not know: taken from the API's name, it may allow the
    call but never refuses it."""
    queue = sqs.Queue(scope, "Queue")
    task = tasks.CallAwsService(
        scope,
        "Lookup",
        service="sqs",
        action="getQueueUrl",
        parameters={"QueueName": queue.queue_name},
        iam_resources=[queue.queue_arn],
    )
    machine = sfn.StateMachine(scope, "Workflow", definition_body=sfn.DefinitionBody.from_chainable(task))
    if broken:
        policy = machine.role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(policy, iam.CfnPolicy)
        nothing = [{"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "*"}]
        policy.add_property_override("PolicyDocument.Statement", nothing)


__all__ = [
    "alias_only_permission",
    "app_managed_policy",
    "aws_managed_boundary",
    "conditional_permission",
    "conditional_queue_key",
    "guessed_sdk_action",
    "minimum_tls_bucket",
    "organization_guard",
    "permissions_boundary",
    "prefix_grant",
    "prefix_source_arn",
    "queue_policy_by_url",
    "rule_to_api_destination",
    "rule_to_log_group",
    "unrelated_managed_policy",
]
