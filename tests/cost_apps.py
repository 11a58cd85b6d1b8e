"""Plain aws-cdk-lib apps, written as users write them, that cover the types the cost model prices: a
nested stack, a stack with an explicit environment and a VPC with a NAT gateway, provisioned and warmed
DynamoDB tables, Kinesis streams, Step Functions, an HTTP API, alarms and EventBridge rules that invoke
functions, an SNS subscription and a Lambda authorizer. ``synth_plain_apps`` synthesizes them once."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

EXPLICIT_ENV = cdk.Environment(account="111111111111", region="us-east-1")
#: The stacks, for the tests' construct paths.
STACKS = ("Parent", "Network", "Data", "Workflows")


def handler(scope: Construct, id: str, **options: object) -> lambda_.Function:
    return lambda_.Function(
        scope,
        id,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        **options,  # type: ignore[arg-type]
    )


class Child(cdk.NestedStack):
    """A queue, its consumer and an on-demand table, in a nested stack."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.queue = sqs.Queue(self, "Jobs")
        consumer = handler(self, "Worker")
        consumer.add_event_source(sources.SqsEventSource(self.queue, batch_size=10))
        dynamodb.Table(
            self,
            "Results",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        )


class Parent(cdk.Stack):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        child = Child(self, "Child")
        producer = handler(self, "Producer", environment={"QUEUE_URL": child.queue.queue_url})
        child.queue.grant_send_messages(producer)


class Network(cdk.Stack):
    """An explicit environment: a VPC with one NAT gateway, and a function in its private subnets."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, env=EXPLICIT_ENV)
        vpc = ec2.Vpc(self, "Vpc", max_azs=2, nat_gateways=1)
        handler(self, "Fetcher", vpc=vpc)


class Data(cdk.Stack):
    """Provisioned capacity with autoscaling, warm throughput, and Kinesis in both modes."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        key = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
        ledger = dynamodb.Table(
            self,
            "Ledger",
            partition_key=key,
            billing_mode=dynamodb.BillingMode.PROVISIONED,
            read_capacity=20,
            write_capacity=3,
        )
        ledger.auto_scale_read_capacity(min_capacity=5, max_capacity=50).scale_on_utilization(
            target_utilization_percent=70
        )
        dynamodb.Table(
            self,
            "Sessions",
            partition_key=key,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            warm_throughput=dynamodb.WarmThroughput(
                read_units_per_second=15_000, write_units_per_second=6_000
            ),
        )
        dynamodb.TableV2(self, "Profiles", partition_key=key)
        clicks = kinesis.Stream(self, "Clicks", stream_mode=kinesis.StreamMode.ON_DEMAND)
        kinesis.Stream(self, "Audit", shard_count=2)
        reader = handler(self, "ClickReader")
        reader.add_event_source(
            sources.KinesisEventSource(clicks, starting_position=lambda_.StartingPosition.LATEST)
        )


class Workflows(cdk.Stack):
    """What invokes functions besides a queue: Step Functions, an HTTP API, an alarm, EventBridge rules,
    an SNS subscription and a REST API's Lambda authorizer."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        step = handler(self, "Step")
        standard = sfn.StateMachine(
            self,
            "Orders",
            definition_body=sfn.DefinitionBody.from_chainable(
                tasks.LambdaInvoke(self, "Charge", lambda_function=step).next(sfn.Succeed(self, "Done"))
            ),
        )
        sfn.StateMachine(
            self,
            "Enrich",
            state_machine_type=sfn.StateMachineType.EXPRESS,
            definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(self, "Copy")),
        )
        events.Rule(self, "Nightly", schedule=events.Schedule.rate(Duration.hours(1))).add_target(
            targets.SfnStateMachine(standard)
        )
        listener = handler(self, "Listener")
        events.Rule(
            self,
            "OnUpload",
            event_pattern=events.EventPattern(source=["aws.s3"], detail_type=["Object Created"]),
        ).add_target(targets.LambdaFunction(listener))
        api_handler = handler(self, "ApiHandler")
        http = apigwv2.HttpApi(self, "Http")
        http.add_routes(
            path="/items",
            methods=[apigwv2.HttpMethod.GET],
            integration=integrations.HttpLambdaIntegration("Items", api_handler),
        )
        responder = handler(self, "Responder")
        alarm = cloudwatch.Alarm(
            self, "Errors", metric=api_handler.metric_errors(), threshold=1, evaluation_periods=1
        )
        alarm.add_alarm_action(actions.LambdaAction(responder))
        topic = sns.Topic(self, "Events")
        topic.add_subscription(subscriptions.LambdaSubscription(handler(self, "Notified")))
        checker = handler(self, "Checker")
        rest = apigateway.RestApi(self, "Rest")
        rest.root.add_method(
            "GET",
            apigateway.MockIntegration(),
            authorizer=apigateway.TokenAuthorizer(
                self, "Token", handler=checker, results_cache_ttl=Duration.seconds(0)
            ),
        )


def synth_plain_apps(outdir: Path) -> Path:
    """Every plain app in one cloud assembly at ``outdir``."""
    app = cdk.App(outdir=str(outdir))
    Parent(app, "Parent")
    Network(app, "Network")
    Data(app, "Data")
    Workflows(app, "Workflows")
    app.synth()
    return outdir
