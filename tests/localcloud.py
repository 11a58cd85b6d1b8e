"""A local cloud for the storefront: the real code paths, with AWS emulated where it must be.

Built from the synthesized templates, not from a second description of the system:

- the ingest API: the POST method's request model (validated with jsonschema, draft 4, as API Gateway's
  request validator does), its Velocity request and response templates (``constructs_lib.testing.velocity``);
- moto's SQS (the order queue with its redrive policy), DynamoDB (the circuit state with its stream,
  the idempotency records) and Lambda (the consumer's event source mapping, which the governor pauses);
- :class:`QueuePoller`, standing in for Lambda's SQS event source mapping: batches of up to the
  mapping's batch size, at most the mapping's maximum concurrency batches per tick, only while the
  mapping is enabled; the real consumer handler is called in-process with the event Lambda sends;
  what succeeded is deleted, reported failures reappear after the queue's visibility timeout (of the
  fake clock), and SQS (moto) moves a message to the DLQ after ``maxReceiveCount`` receives;
- :class:`StreamPoller`, standing in for the governor's DynamoDB stream mapping;
- the real governor (``constructs_lib.runtime.governor``) and the real breaker runtime.

A :class:`~tests.breaker_support.FakeClock` drives everything, so an hour runs in seconds.

To test your own consumer the same way: build a :class:`LocalCloud` from your synthesized templates
(``Template.from_stack(stack).to_json()``), load your handler module, point its breaker and clients at
the cloud (:meth:`LocalCloud.breaker`), then call :meth:`LocalCloud.post` and :meth:`LocalCloud.tick`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import jsonschema

from constructs_lib.runtime import CircuitBreaker
from constructs_lib.runtime.governor import GovernedMapping, Governor
from constructs_lib.testing.velocity import IngestMethod, Response
from tests.breaker_support import Events, FakeClock

REGION = "us-east-1"
#: moto's receive visibility: long enough never to expire by the wall clock; the poller keeps fake time.
_REAL_VISIBILITY = "43200"


def resources_of(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _join(value: Any, refs: Mapping[str, str]) -> str:
    """A template string value with each ``{"Ref": id}`` replaced by ``refs[id]``."""
    if isinstance(value, str):
        return value
    parts = value["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else refs[p["Ref"]] for p in parts)


class StreamPoller:
    """Reads a table's stream as Lambda's event source mapping does, in Lambda's event shape."""

    def __init__(self, stream_arn: str, region: str = REGION) -> None:
        self._client = boto3.client("dynamodbstreams", region_name=region)
        shard = self._client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
        self._iterator = self._client.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def poll(self) -> list[dict[str, Any]]:
        response = self._client.get_records(ShardIterator=self._iterator)
        self._iterator = response["NextShardIterator"]
        return list(response["Records"])


@dataclass
class FakeContext:
    """The parts of Lambda's context object that Powertools reads."""

    function_name: str = "order-consumer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:order-consumer"
    aws_request_id: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class QueuePoller:
    """Lambda's SQS event source mapping, on a fake clock."""

    sqs: Any
    queue_url: str
    queue_arn: str
    lambda_client: Any
    mapping_id: str
    invoke: Callable[[dict[str, Any]], dict[str, Any]]
    clock: FakeClock
    visibility_timeout: float
    receives: Counter[str] = field(default_factory=Counter)
    receive_times: list[float] = field(default_factory=list)
    _in_flight: dict[str, tuple[float, str]] = field(default_factory=dict)
    _mapping: dict[str, Any] | None = None

    def refresh(self) -> None:
        """Re-read the mapping (its state and settings may have been changed by the governor)."""
        self._mapping = self.lambda_client.get_event_source_mapping(UUID=self.mapping_id)

    @property
    def enabled(self) -> bool:
        if self._mapping is None:
            self.refresh()
        assert self._mapping is not None
        return self._mapping["State"] in ("Enabled", "Enabling", "Updating")

    def tick(self) -> None:
        now = self.clock()
        # The visibility timeout ran out: those messages may be received again.
        expired = [(m, handle) for m, (visible_at, handle) in self._in_flight.items() if visible_at <= now]
        for start in range(0, len(expired), 10):
            chunk = expired[start : start + 10]
            entries = [
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0} for i, (_, h) in enumerate(chunk)
            ]
            self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
            for message_id, _ in chunk:
                del self._in_flight[message_id]
        if not self.enabled:
            return
        assert self._mapping is not None
        batch_size = self._mapping["BatchSize"]
        concurrency = (self._mapping.get("ScalingConfig") or {}).get("MaximumConcurrency") or 1000
        most = min(batch_size, 10)
        for _ in range(concurrency):
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=most,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if messages:
                self._invoke(messages, now)
            # moto returns fewer than asked only once it has looked at every visible message, and nothing
            # becomes visible again within a tick: another receive would come back empty.
            if len(messages) < most:
                return

    def _invoke(self, messages: list[dict[str, Any]], now: float) -> None:
        for message in messages:
            self.receives[message["MessageId"]] += 1
            self.receive_times.append(now)
        result = self.invoke({"Records": [self._record(m) for m in messages]})
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for message in messages:
            if message["MessageId"] in failed:
                self._in_flight[message["MessageId"]] = (
                    now + self.visibility_timeout,
                    message["ReceiptHandle"],
                )
        if done:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {
            name: {"stringValue": value["StringValue"], "dataType": value["DataType"]}
            for name, value in message.get("MessageAttributes", {}).items()
        }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": attributes,
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)


def assumed_client(service: str, role_arn: str, session: str) -> Any:
    """A client of ``service`` with the credentials of ``role_arn``, assumed through moto's STS."""
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=role_arn, RoleSessionName=session
    )["Credentials"]
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def record_sender_ids(monkeypatch: Any) -> None:
    """SQS records who called SendMessage as the message's ``SenderId``: an IAM user's unique id, or
    ``<role unique id>:<session name>`` for an assumed role. moto records one fixed id on every message;
    patched, it records the caller of the request's credentials, as its STS resolves them."""
    from moto.sqs.responses import SQSResponse
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    original = SQSResponse.send_message

    def send_message(self: Any) -> Any:
        result = original(self)
        sts = sts_backends[self.current_account][get_partition(self.region)]
        sender, _, _ = sts.get_caller_identity(self.get_access_key(), self.region)
        queue = self.sqs_backend.get_queue(self._get_queue_name())
        for message in queue._messages:
            if message.id == result.result["MessageId"]:
                message.sender_id = sender
        return result

    monkeypatch.setattr(SQSResponse, "send_message", send_message)


def fast_sqs_clock(monkeypatch: Any) -> None:
    """moto's SQS converts a datetime for every message it looks at on every receive; the same
    milliseconds from ``time.time()`` make a long simulation several times faster."""
    import time

    import moto.sqs.models

    monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda: time.time() * 1000.0)


def lean_moto(monkeypatch: Any) -> None:
    """moto redoes per request work that depends only on its own code; done once, a long simulation
    runs about a third faster, with the same answers (profiled on the storefront's outage run):

    - the action's method name and the response class's method list (``camelcase_to_underscores`` and
      ``inspect.getmembers`` on every request), and each SQS attribute's name, cached;
    - SQS checks each received message against the queue's retention period by building every queue
      attribute three times (each counting the queue's messages); it reads the one attribute instead;
    - :func:`fast_sqs_clock`.
    """
    import moto.core.responses
    import moto.sqs.models
    from moto.core.utils import unix_time

    fast_sqs_clock(monkeypatch)
    for module in (moto.core.responses, moto.sqs.models):
        monkeypatch.setattr(
            module, "camelcase_to_underscores", functools.cache(module.camelcase_to_underscores)
        )
    monkeypatch.setattr(
        moto.core.responses,
        "method_names_from_class",
        functools.cache(moto.core.responses.method_names_from_class),
    )

    def retained(backend: Any, queue_name: str, message: Any) -> bool:
        retention = float(backend.get_queue(queue_name).message_retention_period)
        return bool(retention + message.sent_timestamp / 1000 > unix_time())

    monkeypatch.setattr(moto.sqs.models.SQSBackend, "is_message_valid_based_on_retention_period", retained)


class LocalCloud:
    """The storefront's queues, tables, mapping and API, created in moto from the synthesized templates.

    Call inside ``moto.mock_aws()``, with ``AWS_ACCOUNT_ID_ENDPOINT_MODE=disabled`` for the streams API.
    """

    def __init__(self, stateful: Mapping[str, Any], stateless: Mapping[str, Any], clock: FakeClock) -> None:
        self.clock = clock
        self.events = Events()
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.lambda_client = boto3.client("lambda", region_name=REGION)
        self.api = IngestMethod.from_template(stateless)
        [model] = resources_of(stateless, "AWS::ApiGateway::Model").values()
        self.validator = jsonschema.Draft4Validator(model["Properties"]["Schema"])
        self._create_queues(stateful)
        self._create_tables(stateful)
        [consumer] = [
            r
            for k, r in resources_of(stateless, "AWS::Lambda::Function").items()
            if k.startswith("OrderConsumer")
        ]
        self.consumer_environment = dict(consumer["Properties"]["Environment"]["Variables"])
        self._create_mapping(stateless)
        self._assume_api_role()

    # ------------------------------------------------------------------------------------ resources

    def _create_queues(self, stateful: Mapping[str, Any]) -> None:
        queues = resources_of(stateful, "AWS::SQS::Queue")
        [(main_id, main)] = [(k, q) for k, q in queues.items() if "RedrivePolicy" in q["Properties"]]
        properties = main["Properties"]
        dlq_url = self.sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
        self.dlq_url = dlq_url
        dlq_arn = self._arn(dlq_url)
        self.max_receive_count = int(properties["RedrivePolicy"]["maxReceiveCount"])
        self.visibility_timeout = float(properties["VisibilityTimeout"])
        self.queue_url = self.sqs.create_queue(
            QueueName="orders",
            Attributes={
                "VisibilityTimeout": _REAL_VISIBILITY,
                "MessageRetentionPeriod": str(properties["MessageRetentionPeriod"]),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": self.max_receive_count}
                ),
            },
        )["QueueUrl"]
        self.queue_arn = self._arn(self.queue_url)
        self.logical_ids = {main_id: "orders"}

    def _create_tables(self, stateful: Mapping[str, Any]) -> None:
        tables = resources_of(stateful, "AWS::DynamoDB::Table")
        self.table_names: dict[str, str] = {}
        for logical_id, table in tables.items():
            properties = table["Properties"]
            kwargs: dict[str, Any] = {
                "TableName": logical_id,
                "KeySchema": properties["KeySchema"],
                "AttributeDefinitions": properties["AttributeDefinitions"],
                "BillingMode": properties["BillingMode"],
            }
            if "StreamSpecification" in properties:
                kwargs["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
            description = self.dynamodb.create_table(**kwargs)["TableDescription"]
            self.table_names[logical_id] = logical_id
            if "StreamSpecification" in properties:
                self.circuit_table = logical_id
                self.stream = StreamPoller(description["LatestStreamArn"])
            else:
                self.idempotency_table = logical_id

    def _create_mapping(self, stateless: Mapping[str, Any]) -> None:
        [(mapping_id, mapping)] = [
            (k, m)
            for k, m in resources_of(stateless, "AWS::Lambda::EventSourceMapping").items()
            if "orders" in json.dumps(m["Properties"]["EventSourceArn"]).lower()
        ]
        properties = mapping["Properties"]
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="order-consumer", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("index.py", "def handler(event, context):\n    return {}\n")
        self.lambda_client.create_function(
            FunctionName="order-consumer",
            Runtime="python3.14",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": code.getvalue()},
        )
        # moto would invoke the function itself (through Docker) for messages on the mapping's queue, so
        # its mapping reads a shadow queue: it holds the state and settings the governor changes, and
        # QueuePoller reads those and drains the real queue.
        shadow = self._arn(self.sqs.create_queue(QueueName="orders-mapping-shadow")["QueueUrl"])
        created = self.lambda_client.create_event_source_mapping(
            EventSourceArn=shadow,
            FunctionName="order-consumer",
            BatchSize=properties["BatchSize"],
            ScalingConfig=properties["ScalingConfig"],
            FunctionResponseTypes=properties["FunctionResponseTypes"],
        )
        self.mapping_id = created["UUID"]
        self.mapping_properties = properties
        self.logical_ids[mapping_id] = self.mapping_id

    def _assume_api_role(self) -> None:
        """The role the API's integration sends with (its ``Credentials``), created in moto's IAM and
        assumed as API Gateway assumes it: SQS then records it as each message's sender (see
        :func:`record_sender_ids`). ``api_role_id`` is its unique id, which a ``{"Fn::GetAtt": [role,
        "RoleId"]}`` in the consumer's environment resolves to."""
        [logical_id, _] = self.api.method["Integration"]["Credentials"]["Fn::GetAtt"]
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName=logical_id, AssumeRolePolicyDocument="{}"
        )["Role"]
        self.api_role_id: str = role["RoleId"]
        for name, value in self.consumer_environment.items():
            if value == {"Fn::GetAtt": [logical_id, "RoleId"]}:
                self.consumer_environment[name] = self.api_role_id
        self.api_sqs = assumed_client("sqs", role["Arn"], "apigateway")

    def governed(self, stateless: Mapping[str, Any]) -> list[GovernedMapping]:
        """The governor's mappings, from its CIRCUIT_BREAKER_GOVERNED variable in the template."""
        [governor] = [
            r for k, r in resources_of(stateless, "AWS::Lambda::Function").items() if "Governor" in k
        ]
        raw = governor["Properties"]["Environment"]["Variables"]["CIRCUIT_BREAKER_GOVERNED"]
        return [GovernedMapping.parse(entry) for entry in json.loads(_join(raw, self.logical_ids))]

    def _arn(self, url: str) -> str:
        return str(
            self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        )

    # ------------------------------------------------------------------------------------ runtime parts

    def breaker(self, circuit_id: str) -> CircuitBreaker:
        """A runtime breaker on this cloud's state table and fake clock, with the settings attach() wrote."""
        return CircuitBreaker(
            circuit_id,
            table_name=self.circuit_table,
            client=self.dynamodb,
            clock=self.clock,
            emit=self.events,
        )

    def governor(self, stateless: Mapping[str, Any]) -> Governor:
        return Governor(
            table_name=self.circuit_table,
            governed=self.governed(stateless),
            lambda_client=self.lambda_client,
            dynamodb_client=self.dynamodb,
            clock=self.clock,
            emit=self.events,
        )

    def poller(self, invoke: Callable[[dict[str, Any]], dict[str, Any]]) -> QueuePoller:
        return QueuePoller(
            sqs=self.sqs,
            queue_url=self.queue_url,
            queue_arn=self.queue_arn,
            lambda_client=self.lambda_client,
            mapping_id=self.mapping_id,
            invoke=invoke,
            clock=self.clock,
            visibility_timeout=self.visibility_timeout,
        )

    # ------------------------------------------------------------------------------------ the edge

    def post(
        self, body: str, headers: Mapping[str, str], *, context: Mapping[str, Any] | None = None
    ) -> Response:
        """POST /api/orders: the request validator, the request template, SQS, the response templates.

        ``context`` is what the authorizer verified (``{"authorizer": {"claims": {...}}}``), which the
        request template reads the caller from.
        """
        try:
            document = json.loads(body)
        except json.JSONDecodeError:
            document = None
        request_id = str(uuid.uuid4())  # API Gateway's $context.requestId
        if document is None or not self.validator.is_valid(document):
            return self.api.gateway_response(
                "BAD_REQUEST_BODY", message="Invalid request body", request_id=request_id
            )
        params = self.api.send_message_request(body, headers, request_id=request_id, context=context)
        answer = self.api_sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=params["MessageBody"],
            MessageAttributes=self.api.message_attributes(params),
        )
        return self.api.respond(
            200,
            {"SendMessageResponse": {"SendMessageResult": {"MessageId": answer["MessageId"]}}},
            request_id=request_id,
        )

    def queue_depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def waiting(self) -> int:
        """Messages that wait to be received (not those in flight, such as poison being retried)."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def dead_letters(self) -> list[str]:
        bodies: list[str] = []
        while messages := self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get(
            "Messages"
        ):
            bodies.extend(m["Body"] for m in messages)
            for message in messages:
                self.sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"])
        return bodies


# ------------------------------------------------------------------------------------ identities


class LocalUserPool:
    """The stateful template's user pool and its app clients, created in moto's Cognito.

    The pool's password policy, MFA setting and factors, and invitation-only sign-up come from the
    template; each ``AWS::Cognito::UserPoolClient`` becomes a moto client with the same auth flows and
    secret setting (``clients``: logical id -> client id).

    ``mfa`` overrides the template's MFA setting. Cognito's adaptive authentication (PLUS plan) sends
    ``MFA_SETUP`` to a customer without a second factor when a sign-in looks risky; moto assesses no risk,
    and sends that challenge only where MFA is required (``mfa="ON"``), so a test of that path uses it.
    moto does not enforce ``AllowAdminCreateUserOnly`` either: :meth:`sign_up` answers as Cognito does.
    """

    def __init__(self, stateful: Mapping[str, Any], region: str = REGION, *, mfa: str | None = None) -> None:
        self.idp = boto3.client("cognito-idp", region_name=region)
        [(logical_id, pool)] = resources_of(stateful, "AWS::Cognito::UserPool").items()
        properties = pool["Properties"]
        self.mfa = mfa or properties.get("MfaConfiguration", "OFF")
        self.admin_create_only = bool(
            properties.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly", False)
        )
        created = self.idp.create_user_pool(
            PoolName=logical_id,
            UsernameAttributes=properties.get("UsernameAttributes", []),
            Policies=properties.get("Policies", {}),
            AdminCreateUserConfig=properties.get("AdminCreateUserConfig", {}),
            AccountRecoverySetting=properties.get("AccountRecoverySetting", {}),
        )
        self.pool_id: str = created["UserPool"]["Id"]
        if "SOFTWARE_TOKEN_MFA" in properties.get("EnabledMfas", []):
            self.idp.set_user_pool_mfa_config(
                UserPoolId=self.pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration=self.mfa,
            )
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{self.pool_id}"
        self.clients: dict[str, str] = {}
        for client_id, client in resources_of(stateful, "AWS::Cognito::UserPoolClient").items():
            props = client["Properties"]
            self.clients[client_id] = self.idp.create_user_pool_client(
                UserPoolId=self.pool_id,
                ClientName=client_id,
                GenerateSecret=bool(props.get("GenerateSecret", False)),
                ExplicitAuthFlows=props.get("ExplicitAuthFlows", []),
                WriteAttributes=props.get("WriteAttributes", []),
            )["UserPoolClient"]["ClientId"]

    @property
    def client_id(self) -> str:
        """The public web client's id (the only client of the storefront's pool)."""
        [client] = self.clients.values()
        return client

    def sign_up(self, email: str, password: str) -> dict[str, Any]:
        """SignUp through the public client, as a script would: refused when sign-up is invitation-only."""
        from botocore.exceptions import ClientError

        if self.admin_create_only:
            error = {
                "Code": "NotAuthorizedException",
                "Message": "SignUp is not permitted for this user pool",
            }
            raise ClientError({"Error": error}, "SignUp")
        return dict(self.idp.sign_up(ClientId=self.client_id, Username=email, Password=password))

    def invite(self, email: str, temporary_password: str) -> str:
        """The shop invites a customer (``apps.storefront.invite``); returns their ``sub``."""
        from apps.storefront.invite import invite_customer

        return invite_customer(self.idp, self.pool_id, email, temporary_password=temporary_password)

    def invite_and_sign_in(self, email: str, password: str) -> dict[str, Any]:
        """An invited customer signs in with the temporary password and chooses ``password``: their tokens."""
        temporary = "Temporary-" + password
        self.invite(email, temporary)
        challenge = self.initiate(email, temporary)
        assert challenge.get("ChallengeName") == "NEW_PASSWORD_REQUIRED", challenge
        answer = self.respond(challenge, email, NEW_PASSWORD=password)
        assert "AuthenticationResult" in answer, answer
        return dict(answer["AuthenticationResult"])

    def initiate(self, email: str, password: str) -> dict[str, Any]:
        """InitiateAuth (USER_PASSWORD_AUTH) through the public client: tokens or a challenge."""
        return dict(
            self.idp.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            )
        )

    def respond(self, challenge: Mapping[str, Any], email: str, **responses: str) -> dict[str, Any]:
        """RespondToAuthChallenge for ``challenge`` (an InitiateAuth or earlier answer), as the page does."""
        username = challenge.get("ChallengeParameters", {}).get("USERNAME") or email
        return dict(
            self.idp.respond_to_auth_challenge(
                ClientId=self.client_id,
                ChallengeName=challenge["ChallengeName"],
                Session=challenge["Session"],
                ChallengeResponses={"USERNAME": username, **responses},
            )
        )

    def sign_in(self, email: str, password: str, client_id: str | None = None) -> dict[str, Any]:
        answer = self.idp.initiate_auth(
            ClientId=client_id or self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return dict(answer["AuthenticationResult"])

    def enrol_totp(self, access_token: str) -> str:
        """A signed-in customer turns TOTP on, as the page does; returns the secret of their authenticator."""
        secret = str(self.idp.associate_software_token(AccessToken=access_token)["SecretCode"])
        verified = self.idp.verify_software_token(
            AccessToken=access_token, UserCode=totp(secret), FriendlyDeviceName="phone"
        )
        assert verified["Status"] == "SUCCESS", verified
        self.idp.set_user_mfa_preference(
            AccessToken=access_token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
        )
        return secret


def totp(secret: str, *, at: float | None = None) -> str:
    """The TOTP code of ``secret`` (base32, as Cognito's AssociateSoftwareToken returns it) per RFC 6238:
    HMAC-SHA1 over the 30-second step, dynamically truncated to six digits.

    Without ``at``, a code for now, waiting for the next step when this one is about to end, so the code
    is still valid when the service checks it.
    """
    import base64
    import hashlib
    import hmac
    import struct
    import time

    if at is None:
        left = TOTP_STEP_SECONDS - time.time() % TOTP_STEP_SECONDS
        if left < 3:
            time.sleep(left + 0.1)
        at = time.time()
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // TOTP_STEP_SECONDS)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 10**6:06d}"


#: RFC 6238's time step, which Cognito uses.
TOTP_STEP_SECONDS = 30


class CognitoAuthorizer:
    """API Gateway's Cognito user-pool authorizer, as the template configures it, checked with joserfc.

    The token in the identity-source header must carry a signature made with the pool's keys (its JWKS),
    the pool's issuer, ``token_use`` ``id`` (the method asks for no OAuth scopes, so API Gateway takes ID
    tokens), an audience that is a client of the pool, and an expiry after ``clock()``.
    """

    def __init__(self, stateless: Mapping[str, Any], pool: LocalUserPool, clock: Callable[[], float]) -> None:
        import requests
        from joserfc.jwk import KeySet

        [authorizer] = resources_of(stateless, "AWS::ApiGateway::Authorizer").values()
        properties = authorizer["Properties"]
        assert properties["Type"] == "COGNITO_USER_POOLS"
        self.header = properties["IdentitySource"].removeprefix("method.request.header.").lower()
        self.pool, self.clock = pool, clock
        self.keys = KeySet.import_key_set(requests.get(f"{pool.issuer}/.well-known/jwks.json").json())

    def claims(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """The token's claims when API Gateway would let the request through, else None (401)."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        token = next((v for k, v in headers.items() if k.lower() == self.header), None)
        if not token:
            return None
        try:
            claims = dict(jwt.decode(token, self.keys).claims)
        except (JoseError, ValueError):
            return None
        valid = (
            claims.get("iss") == self.pool.issuer
            and claims.get("token_use") == "id"
            and claims.get("aud") in self.pool.clients.values()
            and float(claims.get("exp", 0)) > self.clock()
        )
        return claims if valid else None


def authorizer_context(claims: Mapping[str, Any]) -> dict[str, Any]:
    """``$context.authorizer`` as a Cognito authorizer fills it: each claim of the token as a string."""
    text = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in claims.items()}
    return {"authorizer": {"claims": text}}


# ------------------------------------------------------------------------------------ the edge

#: CloudFront's managed origin request policy AllViewerExceptHostHeader.
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


@dataclass
class Behavior:
    """One cache behavior of the distribution, as CloudFront applies it to a request."""

    path_pattern: str
    origin: dict[str, Any]
    origin_request_policy_id: str | None

    def origin_headers(self, viewer: Mapping[str, str]) -> dict[str, str]:
        """The headers the origin receives: the viewer's (Host replaced) and the origin's custom headers."""
        assert self.origin_request_policy_id == ALL_VIEWER_EXCEPT_HOST_HEADER, self.origin_request_policy_id
        headers = {k: v for k, v in viewer.items() if k.lower() != "host"}
        headers["Host"] = json.dumps(
            self.origin["DomainName"]
        )  # the origin's own host, as the template has it
        for custom in self.origin.get("OriginCustomHeaders", []):
            headers = {k: v for k, v in headers.items() if k.lower() != custom["HeaderName"].lower()}
            headers[custom["HeaderName"]] = json.dumps(custom["HeaderValue"])
        return headers


def behaviors(stateless: Mapping[str, Any]) -> list[Behavior]:
    """The distribution's cache behaviors in CloudFront's order (additional ones, then the default)."""
    [distribution] = resources_of(stateless, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    ordered = [*config.get("CacheBehaviors", []), {**config["DefaultCacheBehavior"], "PathPattern": "*"}]
    return [
        Behavior(b["PathPattern"], origins[b["TargetOriginId"]], b.get("OriginRequestPolicyId"))
        for b in ordered
    ]


def behavior_for(stateless: Mapping[str, Any], path: str) -> Behavior:
    """The first behavior whose path pattern matches ``path`` (CloudFront's ``*`` and ``?``)."""
    import fnmatch

    for behavior in behaviors(stateless):
        pattern = "/" + behavior.path_pattern.lstrip("/")
        if behavior.path_pattern == "*" or fnmatch.fnmatchcase(path, pattern):
            return behavior
    raise AssertionError("the default behavior matches every path")


class OrdersApiThroughCdn:
    """``POST /api/orders`` as a browser sends it to the distribution, down to the queue.

    CloudFront: the behavior matching the path, its origin request policy and the origin's custom
    header (the API key). API Gateway: the method's API key requirement, its Cognito authorizer, then the
    request validator and templates of :class:`LocalCloud`.
    """

    def __init__(
        self, cloud: LocalCloud, stateless: Mapping[str, Any], authorizer: CognitoAuthorizer
    ) -> None:
        self.cloud, self.stateless, self.authorizer = cloud, stateless, authorizer
        method = cloud.api.method
        self.api_key_required = bool(method.get("ApiKeyRequired"))
        self.authorization_type = method.get("AuthorizationType")
        self.api_key_values = {
            json.dumps(key["Properties"]["Value"])
            for key in resources_of(stateless, "AWS::ApiGateway::ApiKey").values()
        }

    def post(self, path: str, body: str, viewer_headers: Mapping[str, str]) -> Response:
        """Through the distribution: the behavior for ``path`` shapes the headers the API receives."""
        headers = behavior_for(self.stateless, path).origin_headers(viewer_headers)
        return self.post_to_api(body, headers)

    def post_to_api(self, body: str, headers: Mapping[str, str]) -> Response:
        """Straight to the API (``execute-api``), as a caller that goes around the distribution would."""
        if self.api_key_required and headers.get("x-api-key") not in self.api_key_values:
            return Response(403, {"message": "Forbidden"})
        if self.authorization_type != "COGNITO_USER_POOLS":
            return self.cloud.post(body, headers)
        claims = self.authorizer.claims(headers)
        if claims is None:
            return Response(401, {"message": "Unauthorized"})
        return self.cloud.post(body, headers, context=authorizer_context(claims))


# ------------------------------------------------------------------------------------ test set-up

#: The process environment a storefront run needs: fake credentials, the streams endpoint moto serves
#: (shared/DESIGN.md), and quiet Powertools.
STOREFRONT_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_METRICS_DISABLED": "true",
    # moto checks TOTP codes (against the secret AssociateSoftwareToken returned) only when told to.
    "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP": "true",
}


def order_consumer(cloud: LocalCloud, monkeypatch: Any, payments: Any) -> Any:
    """The real order consumer, loaded as Lambda loads it, with the environment the template gives it
    (tables pointed at this cloud) and ``payments`` as its downstream."""
    from tests.harness import load_handler

    environment = cloud.consumer_environment
    for name in ("CIRCUIT_BREAKER_SETTINGS", "CATALOG", "CUSTOMER_ATTRIBUTE", "ORDER_API_ROLE_ID"):
        if name in environment:
            monkeypatch.setenv(name, environment[name])
    monkeypatch.setenv("CIRCUIT_BREAKER_TABLE", cloud.circuit_table)
    monkeypatch.setenv("IDEMPOTENCY_TABLE", cloud.idempotency_table)
    consumer = load_handler("storefront_orders")
    consumer.breaker = cloud.breaker("payments")
    consumer.payments = payments
    return consumer


def cognito_clock(monkeypatch: Any, clock: Callable[[], float]) -> None:
    """moto's Cognito stamps tokens with ``time.time()``; on ``clock``, they expire when the test says so."""
    import types

    import moto.cognitoidp.models

    monkeypatch.setattr(moto.cognitoidp.models, "time", types.SimpleNamespace(time=clock))


def storefront_templates() -> tuple[dict[str, Any], dict[str, Any]]:
    """The storefront's two templates (stateful, stateless), pinned to one account in us-east-1.

    Synthesized once per test process and shared by every module that runs the storefront offline; each
    caller gets its own copy.
    """
    import copy

    return copy.deepcopy(_storefront_templates())


def synthesize_pinned_storefront(outdir: Path) -> None:
    """The storefront's two stacks, pinned to account 123456789012 in us-east-1, synthesized into
    ``outdir`` (the local cloud and the deploy test share this assembly through the cache)."""
    import aws_cdk as cdk

    from apps.storefront.app import compose
    from tests.harness import new_app

    app = new_app(outdir=outdir)
    compose(app, env=cdk.Environment(account="123456789012", region=REGION))
    app.synth()


def pinned_storefront_assembly() -> Path:
    """The directory of the pinned storefront's assembly, synthesized once while the sources hold."""
    from tests.assembly_cache import cached_assembly

    return cached_assembly("pinned-storefront", synthesize_pinned_storefront)


@functools.cache
def _storefront_templates() -> tuple[dict[str, Any], dict[str, Any]]:
    from tests.assembly_cache import templates

    found = templates(pinned_storefront_assembly(), "StorefrontStateful", "Storefront")
    return found["StorefrontStateful"], found["Storefront"]


class CountingPayments:
    """A payments service that always charges, and counts the charges of each order id (``charges``)
    and records each charge's customer and amount (``calls``)."""

    def __init__(self) -> None:
        self.charges: Counter[str] = Counter()
        self.calls: list[tuple[str, str, Decimal]] = []

    def charge(self, customer: str, order_id: str, amount: Decimal) -> str:
        self.charges[order_id] += 1
        self.calls.append((customer, order_id, amount))
        return f"ch-{customer}-{order_id}"


@dataclass
class SignedInStorefront:
    """The storefront on moto, as a signed-in customer reaches it: the cloud, the pool, the orders API
    through the CDN behavior and its authorizer, the real consumer and a counting payments service."""

    clock: FakeClock
    cloud: LocalCloud
    pool: LocalUserPool
    orders: OrdersApiThroughCdn
    payments: CountingPayments
    #: The consumer's event source mapping: ``poller.tick()`` drains what the queue holds.
    poller: QueuePoller
    #: The order consumer's module, as Lambda loaded it.
    consumer: Any = None


@contextlib.contextmanager
def signed_in_storefront(
    templates: tuple[dict[str, Any], dict[str, Any]], monkeypatch: Any, *, mfa: str | None = None
) -> Iterator[SignedInStorefront]:
    """The set-up every customer-journey test shares (inside ``mock_aws``, on a fake clock that moto's
    Cognito stamps its tokens with); ``mfa`` as :class:`LocalUserPool` takes it."""
    import time

    from moto import mock_aws

    for name, value in STOREFRONT_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    clock = FakeClock(start=time.time())
    cognito_clock(monkeypatch, clock)
    record_sender_ids(monkeypatch)
    with mock_aws():
        stateful, stateless = templates
        cloud = LocalCloud(stateful, stateless, clock)
        pool = LocalUserPool(stateful, mfa=mfa)
        orders = OrdersApiThroughCdn(cloud, stateless, CognitoAuthorizer(stateless, pool, clock))
        payments = CountingPayments()
        consumer = order_consumer(cloud, monkeypatch, payments)
        poller = cloud.poller(lambda event: consumer.handler(event, FakeContext()))
        yield SignedInStorefront(clock, cloud, pool, orders, payments, poller, consumer)


def fresh_storefront(
    shop: SignedInStorefront, templates: tuple[dict[str, Any], dict[str, Any]], *, mfa: str | None = None
) -> SignedInStorefront:
    """``shop``'s cloud and consumer (inside its ``mock_aws``), with the state a test can see made new: an
    empty order queue and DLQ, no idempotency records, a new user pool (``mfa`` as :class:`LocalUserPool`
    takes it) with its authorizer, a new counting payments service and a new poller. Far cheaper than
    :func:`signed_in_storefront` for each test; the circuit's state and the clock carry over."""
    import os
    from unittest import mock

    stateful, stateless = templates
    cloud = shop.cloud
    # SQS allows one purge a minute per queue (moto too, unless told otherwise); tests follow each other
    # faster, and nothing here depends on that limit.
    with mock.patch.dict(os.environ, {"MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false"}):
        for url in (cloud.queue_url, cloud.dlq_url):
            cloud.sqs.purge_queue(QueueUrl=url)
    table = cloud.idempotency_table
    keys = [a["AttributeName"] for a in cloud.dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]]
    for page in cloud.dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            cloud.dynamodb.delete_item(TableName=table, Key={k: item[k] for k in keys})
    pool = LocalUserPool(stateful, mfa=mfa)
    orders = OrdersApiThroughCdn(cloud, stateless, CognitoAuthorizer(stateless, pool, shop.clock))
    payments = CountingPayments()
    consumer = shop.consumer
    consumer.payments = payments
    poller = cloud.poller(lambda event: consumer.handler(event, FakeContext()))
    return SignedInStorefront(shop.clock, cloud, pool, orders, payments, poller, consumer)


def local_site_config(pool: LocalUserPool) -> dict[str, str]:
    """``/config.json`` as the deployment writes it, for this pool, with sign-in on the local edge."""
    return {
        "region": REGION,
        "userPoolId": pool.pool_id,
        "userPoolClientId": pool.client_id,
        "cognitoEndpoint": "/cognito/",
    }
