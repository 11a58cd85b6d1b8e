"""Plain aws-cdk-lib apps, written as users write them, that cover the types the cost model prices: a
nested stack, a stack with an explicit environment and a VPC with a NAT gateway, provisioned and warmed
DynamoDB tables, Kinesis streams, Step Functions, an HTTP API, alarms and EventBridge rules that invoke
functions, an SNS subscription and a Lambda authorizer; provisioned capacity split between tables and
their indexes, cron schedules, S3 notifications, an advanced parameter, ephemeral storage, a provisioned
SQS mapping, and two CloudFront distributions. ``synth_plain_apps`` synthesizes them once."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration, Size
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

EXPLICIT_ENV = cdk.Environment(account="111111111111", region="us-east-1")
#: The stacks, for the tests' construct paths.
STACKS = ("Parent", "Network", "Data", "Workflows", "Capacity", "Events", "Web")


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


class Capacity(cdk.Stack):
    """Provisioned capacity split between a table and its indexes, each fixed or autoscaled, in both table
    classes; and an on-demand TableV2."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, env=EXPLICIT_ENV)
        key = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
        status = dynamodb.Attribute(name="status", type=dynamodb.AttributeType.STRING)
        provisioned = dynamodb.BillingMode.PROVISIONED
        # The table autoscales (reads from 50, writes from 20); its index is fixed at 5 and 5.
        orders = dynamodb.Table(
            self, "Orders", partition_key=key, billing_mode=provisioned, read_capacity=10, write_capacity=10
        )
        orders.auto_scale_read_capacity(min_capacity=50, max_capacity=500).scale_on_utilization(
            target_utilization_percent=70
        )
        orders.auto_scale_write_capacity(min_capacity=20, max_capacity=200).scale_on_utilization(
            target_utilization_percent=70
        )
        orders.add_global_secondary_index(
            index_name="byStatus", partition_key=status, read_capacity=5, write_capacity=5
        )
        # The reverse: the table is fixed at 10 and 10, its index's reads autoscale from 100.
        events_table = dynamodb.Table(
            self, "Audit", partition_key=key, billing_mode=provisioned, read_capacity=10, write_capacity=10
        )
        events_table.add_global_secondary_index(
            index_name="byStatus", partition_key=status, read_capacity=5, write_capacity=5
        )
        events_table.auto_scale_global_secondary_index_read_capacity(
            "byStatus", min_capacity=100, max_capacity=200
        ).scale_on_utilization(target_utilization_percent=70)
        # A TableV2: reads fixed (10, its index 7), writes autoscaled (from 20, its index from 4).
        dynamodb.TableV2(
            self,
            "Accounts",
            partition_key=key,
            billing=dynamodb.Billing.provisioned(
                read_capacity=dynamodb.Capacity.fixed(10),
                write_capacity=dynamodb.Capacity.autoscaled(min_capacity=20, max_capacity=100),
            ),
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name="byStatus",
                    partition_key=status,
                    read_capacity=dynamodb.Capacity.fixed(7),
                    write_capacity=dynamodb.Capacity.autoscaled(min_capacity=4, max_capacity=30),
                )
            ],
        )
        dynamodb.TableV2(self, "Carts", partition_key=key)


class Events(cdk.Stack):
    """What fires without a request: cron rules, a schedule, S3 notifications (to a function, a queue and a
    topic with a queue subscribed); and what bills beside it: an advanced parameter, ephemeral storage
    above 512 MB, a mapping in provisioned mode."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        nightly, minutely, ticking = (
            handler(self, "Nightly"),
            handler(self, "Minutely"),
            handler(self, "Ticking"),
        )
        events.Rule(self, "NightlyRule", schedule=events.Schedule.cron(minute="0", hour="2")).add_target(
            targets.LambdaFunction(nightly)
        )
        events.Rule(self, "MinuteRule", schedule=events.Schedule.cron(minute="*")).add_target(
            targets.LambdaFunction(minutely)
        )
        scheduler.Schedule(
            self,
            "EveryMinute",
            schedule=scheduler.ScheduleExpression.rate(Duration.minutes(1)),
            target=scheduler_targets.LambdaInvoke(ticking),
        )
        uploads = s3.Bucket(self, "Uploads")
        on_upload = handler(self, "OnUpload")
        uploads.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.LambdaDestination(on_upload))
        removed = sqs.Queue(self, "Removed")
        uploads.add_event_notification(s3.EventType.OBJECT_REMOVED, s3n.SqsDestination(removed))
        created = sns.Topic(self, "Created")
        uploads.add_event_notification(s3.EventType.OBJECT_CREATED_PUT, s3n.SnsDestination(created))
        fanned = sqs.Queue(self, "Fanned")
        created.add_subscription(subscriptions.SqsSubscription(fanned))
        ssm.StringParameter(self, "Big", string_value="x", tier=ssm.ParameterTier.ADVANCED)
        ssm.StringParameter(self, "Small", string_value="x")
        handler(self, "Scratch", ephemeral_storage_size=Size.gibibytes(10), memory_size=2048)
        jobs = sqs.Queue(self, "Jobs")
        handler(self, "Poller").add_event_source(
            sources.SqsEventSource(
                jobs,
                provisioned_poller_config=lambda_.ProvisionedPollerConfig(
                    minimum_pollers=20, maximum_pollers=100
                ),
            )
        )


class Web(cdk.Stack):
    """Two distributions: a site with an API behind one, a docs bucket behind the other."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, env=EXPLICIT_ENV)
        site, docs = s3.Bucket(self, "Site"), s3.Bucket(self, "Docs")
        api = apigateway.LambdaRestApi(self, "Api", handler=handler(self, "ApiFn"))
        cloudfront.Distribution(
            self,
            "Cdn",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(site)
            ),
            additional_behaviors={
                "/api/*": cloudfront.BehaviorOptions(
                    origin=origins.RestApiOrigin(api),
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                )
            },
        )
        cloudfront.Distribution(
            self,
            "DocsCdn",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(docs)
            ),
        )


def synth_plain_apps(outdir: Path) -> Path:
    """Every plain app in one cloud assembly at ``outdir``."""
    app = cdk.App(outdir=str(outdir))
    Parent(app, "Parent")
    Network(app, "Network")
    Data(app, "Data")
    Workflows(app, "Workflows")
    Capacity(app, "Capacity")
    Events(app, "Events")
    Web(app, "Web")
    app.synth()
    return outdir
