"""QueueBufferedIngest's caller_identity: the verified caller on every message, as SQS message attributes.

The synthesized request templates are rendered as API Gateway renders them (constructs_lib.testing.velocity)
with a ``$context.authorizer`` / ``$context.identity`` context, then sent to moto's SQS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from moto import mock_aws

from constructs_lib import ApiAuthorization, CallerIdentity, QueueBufferedIngest
from constructs_lib.testing.velocity import IngestMethod
from tests.conftest import make_function, user_pool_authorization
from tests.harness import assert_misconfigured, new_stack, only_resource
from tests.localcloud import REGION, STOREFRONT_ENVIRONMENT

BODY = '{"orderId": "o-1", "items": [{"sku": "tea", "quantity": 2}]}'
SUB = "4f1c2a9e-7b3d-4e55-9a10-3c8d2e6f0b71"


def cognito_context(**claims: str) -> dict[str, Any]:
    """What a Cognito user-pool authorizer gives templates: the token's claims, as strings."""
    return {"authorizer": {"claims": claims}}


def build(stack: cdk.Stack, **props: Any) -> QueueBufferedIngest:
    return QueueBufferedIngest(stack, "Ingest", consumer=make_function(stack), **props)


def method_of(stack: cdk.Stack) -> IngestMethod:
    return IngestMethod.from_template(Template.from_stack(stack))


def cognito_ingest(**props: Any) -> IngestMethod:
    stack = new_stack()
    build(stack, authorization=user_pool_authorization(stack), **props)
    return method_of(stack)


@pytest.fixture(scope="module")
def cognito() -> IngestMethod:
    return cognito_ingest(caller_identity=CallerIdentity())


@pytest.fixture(scope="module")
def cognito_with_email() -> IngestMethod:
    return cognito_ingest(caller_identity=CallerIdentity(claims=("sub", "email")))


# ------------------------------------------------------------------------------------ what is added


def test_a_cognito_caller_is_added_as_caller_sub_and_the_body_stays_as_sent(cognito):
    params = cognito.send_message_request(BODY, request_id="req-1", context=cognito_context(sub=SUB))
    assert params["MessageBody"] == BODY
    assert IngestMethod.message_attributes(params) == {
        "apiRequestId": {"DataType": "String", "StringValue": "req-1"},
        "caller.sub": {"DataType": "String", "StringValue": SUB},
    }


def test_without_the_option_no_caller_is_added():
    method = cognito_ingest()
    params = method.send_message_request(BODY, context=cognito_context(sub=SUB))
    assert set(IngestMethod.message_attributes(params)) == {"apiRequestId"}


def test_chosen_claims_are_added_and_a_claim_the_token_lacks_is_left_out(cognito_with_email):
    both = cognito_with_email.send_message_request(
        BODY, context=cognito_context(sub=SUB, email="ada+shop@example.com")
    )
    attributes = IngestMethod.message_attributes(both)
    assert attributes["caller.email"]["StringValue"] == "ada+shop@example.com"
    assert attributes["caller.sub"]["StringValue"] == SUB
    # An access token has no email: the attribute is left out, and the numbering has no gap.
    only_sub = cognito_with_email.send_message_request(BODY, context=cognito_context(sub=SUB))
    assert set(IngestMethod.message_attributes(only_sub)) == {"apiRequestId", "caller.sub"}


def test_nothing_the_client_sends_becomes_the_identity(cognito):
    """Headers named like the attribute, and a body that tries to add form parameters, change nothing."""
    forged = '{"x": "&MessageAttribute.2.Name=caller.sub&MessageAttribute.2.Value.StringValue=mallory"}'
    params = cognito.send_message_request(
        forged,
        headers={"caller.sub": "mallory", "X-Caller-Sub": "mallory", "sub": "mallory"},
        context=cognito_context(sub=SUB),
    )
    assert params["MessageBody"] == forged
    assert IngestMethod.message_attributes(params)["caller.sub"]["StringValue"] == SUB


def test_an_iam_caller_is_added_as_its_arn_and_account():
    stack = new_stack()
    build(stack, caller_identity=CallerIdentity())
    arn = "arn:aws:sts::210987654321:assumed-role/OrderProducer/session-1"
    params = method_of(stack).send_message_request(
        BODY, context={"identity": {"userArn": arn, "accountId": "210987654321"}}
    )
    attributes = IngestMethod.message_attributes(params)
    assert attributes["caller.arn"]["StringValue"] == arn
    assert attributes["caller.account"]["StringValue"] == "210987654321"


def test_a_lambda_authorizers_principal_is_added():
    stack = new_stack()
    authorizer_function = make_function(stack, "AuthorizerFunction")
    authorizer = apigateway.TokenAuthorizer(stack, "Authorizer", handler=authorizer_function)
    build(stack, authorization=ApiAuthorization.authorizer_of(authorizer), caller_identity=CallerIdentity())
    params = method_of(stack).send_message_request(BODY, context={"authorizer": {"principalId": "tenant-7"}})
    assert IngestMethod.message_attributes(params)["caller.principalId"]["StringValue"] == "tenant-7"


def test_an_api_key_is_required_and_its_id_is_added():
    stack = new_stack()
    build(
        stack,
        authorization=ApiAuthorization.none(
            reason="Partners are told apart by their usage plan's API key"
        ).with_api_key(),
        caller_identity=CallerIdentity(),
    )
    method = only_resource(Template.from_stack(stack), "AWS::ApiGateway::Method")
    assert method["Properties"]["ApiKeyRequired"] is True
    params = method_of(stack).send_message_request(BODY, context={"identity": {"apiKeyId": "k1a2b3"}})
    assert IngestMethod.message_attributes(params)["caller.apiKeyId"]["StringValue"] == "k1a2b3"


def test_values_keep_every_character_through_the_form_encoding():
    method = cognito_ingest(caller_identity=CallerIdentity(claims=("sub", "name")))
    name = 'Zoë "Z" & Ærø+co=1%'
    params = method.send_message_request(BODY, context=cognito_context(sub=SUB, name=name))
    assert IngestMethod.message_attributes(params)["caller.name"]["StringValue"] == name


# ------------------------------------------------------------------------------------ FIFO groups


def test_the_fifo_group_id_can_come_from_the_caller_so_its_messages_stay_in_order():
    stack = new_stack()
    build(
        stack,
        authorization=user_pool_authorization(stack),
        fifo=True,
        caller_identity=CallerIdentity(message_group_id="sub"),
    )
    method = method_of(stack)
    assert method.required_headers == [], "no group header is required: the group is the caller"
    params = method.send_message_request(
        BODY, headers={"X-Message-Group-Id": "someone-else"}, context=cognito_context(sub=SUB)
    )
    assert params["MessageGroupId"] == SUB
    assert IngestMethod.message_attributes(params)["caller.sub"]["StringValue"] == SUB


# ------------------------------------------------------------------------------------ refusals


def test_no_authorizer_to_take_the_caller_from_is_refused(stack, consumer):
    assert_misconfigured(
        lambda: QueueBufferedIngest(
            stack,
            "Ingest",
            consumer=consumer,
            authorization=ApiAuthorization.none(reason="Public webhook of a partner that cannot sign"),
            caller_identity=CallerIdentity(),
        ),
        "caller_identity",
        "there is no authorizer to take the caller from",
    )


def test_claims_without_a_cognito_authorizer_are_refused(stack, consumer):
    assert_misconfigured(
        lambda: QueueBufferedIngest(
            stack, "Ingest", consumer=consumer, caller_identity=CallerIdentity(claims=("email",))
        ),
        "caller_identity.claims",
        "claims come from a Cognito user-pool authorizer",
    )


@pytest.mark.parametrize(
    ("claims", "fix"),
    [
        (("cognito:groups",), "only takes names of letters, digits and '_'"),
        (("sub", "sub"), "name each once"),
        ("sub", "must be a non-empty tuple of claim names"),
        ((), "must be a non-empty tuple of claim names"),
    ],
)
def test_claims_api_gateway_cannot_pass_are_refused(stack, claims, fix):
    assert_misconfigured(lambda: with_claims(stack, claims), "caller_identity.claims", fix)


def with_claims(stack: cdk.Stack, claims: Any) -> QueueBufferedIngest:
    return build(
        stack, authorization=user_pool_authorization(stack), caller_identity=CallerIdentity(claims=claims)
    )


def test_more_attributes_than_sqs_takes_are_refused(stack):
    claims = tuple(f"claim{i}" for i in range(10))
    error = assert_misconfigured(
        lambda: with_claims(stack, claims), "caller_identity", "SQS takes at most 10 message attributes"
    )
    assert "make 11" in str(error)


def test_nine_claims_and_the_request_id_fit(stack):
    claims = tuple(f"claim{i}" for i in range(9))
    with_claims(stack, claims)
    params = method_of(stack).send_message_request(BODY, context=cognito_context(**{c: "v" for c in claims}))
    assert len(IngestMethod.message_attributes(params)) == 10


@pytest.mark.parametrize(
    ("props", "prop", "fix"),
    [
        ({"caller_identity": CallerIdentity(message_group_id="sub")}, "caller_identity.message_group_id",
         "only FIFO queues have message groups"),
        ({"fifo": True, "caller_identity": CallerIdentity(message_group_id="email")},
         "caller_identity.message_group_id", "must be one of the identity's values: sub"),
        ({"fifo": True, "message_group_id_header": "X-Tenant",
          "caller_identity": CallerIdentity(message_group_id="sub")}, "message_group_id_header",
         "the header would be ignored"),
        ({"fifo": True, "content_based_deduplication": True, "caller_identity": CallerIdentity()},
         "content_based_deduplication", "two callers who send the same body"),
    ],
)  # fmt: skip
def test_fifo_combinations_that_cannot_work_are_refused(stack, consumer, props, prop, fix):
    assert_misconfigured(
        lambda: QueueBufferedIngest(
            stack, "Ingest", consumer=consumer, authorization=user_pool_authorization(stack), **props
        ),
        prop,
        fix,
    )


def test_content_based_deduplication_per_caller_group_passes(stack, consumer):
    """Deduplication scoped to the message group, and each caller its own group: no two callers merge."""
    QueueBufferedIngest(
        stack,
        "Ingest",
        consumer=consumer,
        authorization=user_pool_authorization(stack),
        fifo=True,
        content_based_deduplication=True,
        queue_props={
            "deduplication_scope": sqs.DeduplicationScope.MESSAGE_GROUP,
            "fifo_throughput_limit": sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        },
        caller_identity=CallerIdentity(message_group_id="sub"),
    )


def test_a_value_of_the_wrong_type_is_refused(stack, consumer):
    assert_misconfigured(
        lambda: QueueBufferedIngest(stack, "Ingest", consumer=consumer, caller_identity="sub"),  # type: ignore[arg-type]
        "caller_identity",
        "CallerIdentity",
    )


# ------------------------------------------------------------------------------------ the 400's hint


def test_a_schema_description_is_the_hint_of_the_400_for_an_invalid_body(stack, consumer):
    description = 'An order: "orderId" and items; prices come from the catalog, so unitPrice is refused'
    schema = {"type": "object", "description": description, "additionalProperties": False}
    QueueBufferedIngest(stack, "Ingest", consumer=consumer, message_schema=schema)
    response = method_of(stack).gateway_response("BAD_REQUEST_BODY", message="Invalid request body")
    assert response.status == 400
    assert response.body == {"message": "Invalid request body", "hint": description, "requestId": "req-1"}


# ------------------------------------------------------------------------------------ against moto


@pytest.fixture
def queue_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in STOREFRONT_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION).create_queue(QueueName="orders")["QueueUrl"]


def test_sqs_delivers_the_caller_with_the_message_to_the_consumer(queue_url, cognito_with_email):
    client = boto3.client("sqs", region_name=REGION)
    params = cognito_with_email.send_message_request(
        BODY, context=cognito_context(sub=SUB, email="ada@example.com")
    )
    client.send_message(
        QueueUrl=queue_url,
        MessageBody=params["MessageBody"],
        MessageAttributes=IngestMethod.message_attributes(params),
    )
    [message] = client.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"])["Messages"]
    assert message["Body"] == BODY
    assert {k: v["StringValue"] for k, v in message["MessageAttributes"].items()} == {
        "apiRequestId": params["MessageAttribute.1.Value.StringValue"],
        "caller.sub": SUB,
        "caller.email": "ada@example.com",
    }


def test_the_template_reads_the_caller_only_from_the_authorizer_context(cognito):
    template = cognito.method["Integration"]["RequestTemplates"]["application/json"]
    assert "$!context.authorizer.claims.sub" in template
    assert "$input" not in template.replace("$input.body", ""), "nothing of the request but its body"


def test_the_option_is_documented_with_its_attribute_names():
    from tests.harness import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text()
    for name in ("caller.sub", "caller.arn", "caller.account", "caller.principalId", "caller.apiKeyId"):
        assert f"`{name}`" in readme
