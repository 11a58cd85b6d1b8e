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
from aws_cdk import aws_cognito
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template
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
        (("sub", "cognito:groups"), "only takes names of letters, digits and '_'"),
        (("sub", "sub"), "name each once"),
        ("sub", "must be a non-empty tuple of claim names"),
        ((), "must be a non-empty tuple of claim names"),
        (("email",), "must include 'sub', the one claim that names a user for good"),
        (("email", "email_verified"), "must include 'sub'"),
    ],
)
def test_claims_api_gateway_cannot_pass_are_refused(stack, claims, fix):
    assert_misconfigured(lambda: with_claims(stack, claims), "caller_identity.claims", fix)


def with_claims(stack: cdk.Stack, claims: Any) -> QueueBufferedIngest:
    return build(
        stack, authorization=user_pool_authorization(stack), caller_identity=CallerIdentity(claims=claims)
    )


def test_more_attributes_than_sqs_takes_are_refused(stack):
    claims = ("sub", *(f"claim{i}" for i in range(9)))
    error = assert_misconfigured(
        lambda: with_claims(stack, claims), "caller_identity", "SQS takes at most 10 message attributes"
    )
    assert "make 11" in str(error)


def test_nine_claims_and_the_request_id_fit(stack):
    claims = ("sub", *(f"claim{i}" for i in range(8)))
    with_claims(stack, claims)
    params = method_of(stack).send_message_request(BODY, context=cognito_context(**{c: "v" for c in claims}))
    assert len(IngestMethod.message_attributes(params)) == 10


@pytest.mark.parametrize(
    ("props", "prop", "fix"),
    [
        ({"caller_identity": CallerIdentity(message_group_id="sub")}, "caller_identity.message_group_id",
         "only FIFO queues have message groups"),
        ({"fifo": True, "caller_identity": CallerIdentity(message_group_id="email")},
         "caller_identity.message_group_id", "it is not one of the identity's values; use one of sub"),
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


@pytest.mark.parametrize(
    ("authorization", "group", "fix"),
    [
        # An email can be missing from a token: the group id would be empty, and SQS answers 400.
        ("cognito", "email", "a token without it would leave the group id empty"),
        # An assumed role's ARN can be 168 characters; SQS takes 128 in a group id.
        ("iam", "arn", "an ARN can be longer than the 128 characters"),
        # A Lambda authorizer's principal id may hold spaces or non-ASCII characters.
        ("lambda", "principalId", "may be longer than 128 characters or hold characters SQS refuses"),
        ("lambda", "sub", "use one of none (this authorization has no safe group id)"),
    ],
)
def test_a_group_id_that_can_be_empty_too_long_or_unsafe_is_refused(stack, authorization, group, fix):
    claims = ("sub", "email") if authorization == "cognito" else None
    assert_misconfigured(
        lambda: build(
            stack,
            authorization=authorization_of(stack, authorization),
            fifo=True,
            caller_identity=CallerIdentity(claims=claims, message_group_id=group),
        ),
        "caller_identity.message_group_id",
        fix,
    )


def authorization_of(stack: cdk.Stack, kind: str) -> ApiAuthorization:
    """One of the authorizations caller_identity reads a caller from."""
    if kind == "cognito":
        return user_pool_authorization(stack)
    if kind == "iam":
        return ApiAuthorization.iam()
    if kind == "lambda":
        authorizer = apigateway.TokenAuthorizer(
            stack, "Authorizer", handler=make_function(stack, "AuthorizerFunction")
        )
        return ApiAuthorization.authorizer_of(authorizer)
    if kind == "cognito+key":
        return user_pool_authorization(stack).with_api_key()
    assert kind == "key", kind
    partners = ApiAuthorization.none(reason="Partners are told apart by their usage plan's API key")
    return partners.with_api_key()


def test_claims_an_access_token_lacks_warn_when_the_method_takes_access_tokens(stack):
    """With OAuth scopes, API Gateway takes access tokens, which carry no email unless a
    pre-token-generation trigger adds it: only deploy time knows, so it is a warning, not an error."""
    pool = aws_cognito.UserPool(stack, "Users")
    authorizer = apigateway.CognitoUserPoolsAuthorizer(stack, "Authorizer", cognito_user_pools=[pool])
    build(
        stack,
        authorization=ApiAuthorization.authorizer_of(authorizer, scopes=("orders/write",)),
        caller_identity=CallerIdentity(claims=("sub", "email", "username")),
    )
    warnings = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp(r"caller_identity.claims \['email'\]: the method has OAuth scopes")
    )
    assert len(warnings) == 1


def test_claims_of_an_id_token_do_not_warn_without_scopes(stack):
    build(
        stack,
        authorization=user_pool_authorization(stack),
        caller_identity=CallerIdentity(claims=("sub", "email")),
    )
    assert not Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("access tokens"))


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
    method = method_of(stack)
    hashed = method.send_message_request(BODY, context=cognito_context(sub=SUB))
    assert "MessageDeduplicationId" not in hashed, "SQS hashes the body, per caller group"
    chosen = method.send_message_request(
        BODY, {"X-Message-Deduplication-Id": "o-1"}, context=cognito_context(sub=SUB)
    )
    assert chosen["MessageDeduplicationId"] == f"{SUB}:o-1"


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

    readme = (REPO_ROOT / "docs" / "patterns" / "ingest.md").read_text()
    for name in ("caller.sub", "caller.arn", "caller.account", "caller.principalId", "caller.apiKeyId"):
        assert f"`{name}`" in readme


# ------------------------------------------------------------------------------------ round trips in moto
# Each authorization, rendered as API Gateway renders it for two callers, then sent to moto's SQS as the
# integration sends it (attributes, group id and deduplication id): what the consumer receives.

ALICE_ROLE = "AROAALICEEXAMPLE00001"
BOB_ROLE = "AROABOBEXAMPLE0000002"
CALLERS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, str]]] = {
    # authorization: (Alice's $context, Bob's $context, what Alice's message carries)
    "cognito": (
        cognito_context(sub="sub-alice"),
        cognito_context(sub="sub-bob"),
        {"caller.sub": "sub-alice"},
    ),
    "iam": (
        {"identity": {"caller": f"{ALICE_ROLE}:session-1", "accountId": "111111111111",
                      "userArn": "arn:aws:sts::111111111111:assumed-role/Alice/session-1"}},
        {"identity": {"caller": f"{BOB_ROLE}:session-1", "accountId": "111111111111",
                      "userArn": "arn:aws:sts::111111111111:assumed-role/Bob/session-1"}},
        {"caller.arn": "arn:aws:sts::111111111111:assumed-role/Alice/session-1",
         "caller.account": "111111111111"},
    ),
    "lambda": (
        {"authorizer": {"principalId": "Zoë Alice"}},
        {"authorizer": {"principalId": "bob@partner"}},
        {"caller.principalId": "Zoë Alice"},
    ),
    "key": (
        {"identity": {"apiKeyId": "k1alice001"}},
        {"identity": {"apiKeyId": "k2bob00002"}},
        {"caller.apiKeyId": "k1alice001"},
    ),
    # Two customers who share a partner's API key are still two callers: the key is their sub.
    "cognito+key": (
        {**cognito_context(sub="sub-alice"), "identity": {"apiKeyId": "shared-key"}},
        {**cognito_context(sub="sub-bob"), "identity": {"apiKeyId": "shared-key"}},
        {"caller.sub": "sub-alice", "caller.apiKeyId": "shared-key"},
    ),
}  # fmt: skip


@pytest.fixture
def sqs_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in STOREFRONT_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def queue_like(client: Any, stack: cdk.Stack) -> str:
    """A moto queue with the synthesized main queue's FIFO and deduplication settings."""
    [main] = [
        q["Properties"]
        for q in Template.from_stack(stack).find_resources("AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    ]
    attributes = {
        name: str(main[name]).lower() if isinstance(main[name], bool) else str(main[name])
        for name in ("FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
        if name in main
    }
    suffix = ".fifo" if attributes.get("FifoQueue") == "true" else ""
    return str(client.create_queue(QueueName="orders" + suffix, Attributes=attributes)["QueueUrl"])


def send(client: Any, url: str, params: dict[str, str]) -> None:
    """The SendMessage request the integration makes, parameter for parameter."""
    extra = {k: params[k] for k in ("MessageGroupId", "MessageDeduplicationId") if k in params}
    client.send_message(
        QueueUrl=url,
        MessageBody=params["MessageBody"],
        MessageAttributes=IngestMethod.message_attributes(params),
        **extra,
    )


def received(client: Any, url: str) -> list[dict[str, str]]:
    """Every message's caller attributes, in the order SQS delivers them."""
    found: list[dict[str, str]] = []
    while messages := client.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages"):
        for message in messages:
            attributes = message.get("MessageAttributes", {})
            found.append({k: v["StringValue"] for k, v in attributes.items() if k.startswith("caller.")})
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


@pytest.mark.parametrize("kind", sorted(CALLERS))
def test_each_identity_reaches_the_consumer_through_sqs(sqs_client, kind):
    stack = new_stack()
    build(stack, authorization=authorization_of(stack, kind), caller_identity=CallerIdentity())
    method, url = method_of(stack), queue_like(sqs_client, stack)
    alice, _, expected = CALLERS[kind]
    send(sqs_client, url, method.send_message_request(BODY, context=alice))
    assert received(sqs_client, url) == [expected]


@pytest.mark.parametrize("kind", sorted(CALLERS))
def test_two_callers_who_choose_the_same_deduplication_id_are_both_queued_on_fifo(sqs_client, kind):
    """SQS deduplicates a FIFO queue across all its senders: Bob's order-1 must not be dropped as a
    duplicate of Alice's, and Alice's retry of hers still must be."""
    stack = new_stack()
    build(stack, authorization=authorization_of(stack, kind), fifo=True, caller_identity=CallerIdentity())
    method, url = method_of(stack), queue_like(sqs_client, stack)
    alice, bob, expected = CALLERS[kind]
    headers = {"X-Message-Group-Id": "orders", "x-message-deduplication-id": "order-1"}
    for context in (alice, bob, alice):  # Alice's second request retries her first
        send(sqs_client, url, method.send_message_request(BODY, headers, context=context))
    messages = received(sqs_client, url)
    assert len(messages) == 2, messages
    assert messages[0] == expected


def test_a_callers_group_and_deduplication_come_from_the_identity_on_fifo(sqs_client):
    stack = new_stack()
    build(
        stack,
        authorization=user_pool_authorization(stack),
        fifo=True,
        caller_identity=CallerIdentity(message_group_id="sub"),
    )
    method, url = method_of(stack), queue_like(sqs_client, stack)
    for sub in ("sub-alice", "sub-bob", "sub-alice"):
        params = method.send_message_request(
            BODY, {"X-Message-Deduplication-Id": "order-1"}, context=cognito_context(sub=sub)
        )
        assert params["MessageGroupId"] == sub
        assert params["MessageDeduplicationId"] == f"{sub}:order-1"
        send(sqs_client, url, params)
    assert received(sqs_client, url) == [{"caller.sub": "sub-alice"}, {"caller.sub": "sub-bob"}]


def test_an_iam_callers_deduplication_ids_count_per_principal_not_per_session():
    """The session name is chosen by whoever assumed the role: the role's unique id is the caller."""
    stack = new_stack()
    build(stack, fifo=True, caller_identity=CallerIdentity())
    method = method_of(stack)
    ids = {
        method.send_message_request(
            BODY,
            {"X-Message-Group-Id": "g", "X-Message-Deduplication-Id": "o-1"},
            context={"identity": {"caller": caller, "userArn": "arn", "accountId": "111111111111"}},
        )["MessageDeduplicationId"]
        for caller in (f"{ALICE_ROLE}:session-1", f"{ALICE_ROLE}:session-2", "AIDAUSEREXAMPLE000003")
    }
    assert ids == {f"{ALICE_ROLE}:o-1", "AIDAUSEREXAMPLE000003:o-1"}


def test_a_request_without_a_deduplication_id_keeps_its_own_on_fifo():
    stack = new_stack()
    build(stack, authorization=user_pool_authorization(stack), fifo=True, caller_identity=CallerIdentity())
    params = method_of(stack).send_message_request(
        BODY, {"X-Message-Group-Id": "g"}, request_id="req-7", context=cognito_context(sub=SUB)
    )
    assert params["MessageDeduplicationId"] == "req-7"
