"""What each caller sends: the request context that policy conditions are matched on, per service.

A key a caller sends has its value; a key it is known not to send is None (a condition on it fails, its
negated and ``IfExists`` forms pass); a key the pack cannot know is left out, and a condition on it
leaves the edge undecided, never refused.

What each service sends is taken from its documentation:

- Calls a service principal makes to a resource policy carry ``aws:SourceArn`` (the resource that
  caused the call: the alarm, rule, topic, bucket, distribution, API method) and ``aws:SourceAccount``
  (its owner), as each service's "cross-service confused deputy prevention" page shows. S3 also sends
  ``aws:SourceOwner`` (the bucket owner), the undocumented older key its SNS topic examples used
  (aws:SourceAccount replaced it: awsdocs/iam-user-guide#111); for other services it stays unknown.
- When a service assumes a role, Scheduler sends ``aws:SourceAccount`` and ``aws:SourceArn`` = the
  schedule group's ARN (https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html),
  EventBridge the rule's ARN, Pipes the pipe's ARN (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-permissions.html)
  and Step Functions the state machine's ARN (aws-cdk-lib writes ``arn:...:stateMachine:*`` for it).
  What API Gateway and SNS send when they assume a credentials or subscription role is not documented:
  a trust policy conditioned on it stays undecided.
- KMS. A role's call through a data service (SQS decrypting for a consumer, SNS encrypting for a
  publisher) carries ``kms:ViaService`` = ``<service>.<region>.amazonaws.com``, ``kms:CallerAccount`` =
  the role's account and the service's encryption context (``kms:EncryptionContext:aws:sqs:arn``,
  ``kms:EncryptionContext:aws:sns:topicArn``). A service principal calls KMS itself: no
  ``kms:ViaService``, which is why AWS managed keys (whose policies admit principals only through
  ``kms:CallerAccount`` and ``kms:ViaService``) can never be used by one. CloudWatch, CloudFront and
  SNS send their source keys to KMS too (SNS's "compatibility with AWS services" page, CloudFront's OAC
  page and SNS's encrypted-queue subscriptions condition key policies on them; aws-cdk-lib's
  ``SqsSubscription`` writes ``aws:SourceArn`` = the topic); EventBridge does not (its documentation:
  ``aws:SourceArn`` and ``aws:SourceAccount`` are not supported in a key policy for its deliveries).
  S3 sends them to KMS for an encrypted SNS topic (SNS's "encrypted topics with AWS services" page
  conditions the key policy for S3 on ``aws:SourceAccount`` and ``aws:SourceArn``).
- A service principal is in no organization and calls from no VPC of the app: ``aws:PrincipalOrgID``,
  ``aws:PrincipalOrgPaths``, ``aws:SourceVpc`` and ``aws:SourceVpce`` are in its request context only
  when the principal is in an organization or calls through a VPC endpoint (the IAM User Guide's
  "Availability" of each key), so they are absent from every call a service principal makes.
- S3 compares ``s3:TlsVersion`` with the connection's TLS version; AWS services and SDKs connect with
  TLS 1.2 or 1.3, so a condition that tells the two apart cannot be decided.
"""

from __future__ import annotations

from ._conditions import ContextValue
from ._env import region_of
from ._iam import Principal
from ._model import Resource

Context = dict[str, ContextValue]
SOURCE_ARN, SOURCE_ACCOUNT, SOURCE_OWNER = "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner"
_BOTH = (SOURCE_ARN, SOURCE_ACCOUNT)

#: Source keys each service principal sends with a call to a resource policy.
_CALL_KEYS: dict[str, tuple[str, ...]] = {
    "cloudwatch.amazonaws.com": _BOTH,
    "lambda.alarms.cloudwatch.amazonaws.com": _BOTH,
    "events.amazonaws.com": _BOTH,
    "sns.amazonaws.com": _BOTH,
    "s3.amazonaws.com": (*_BOTH, SOURCE_OWNER),
    "cloudfront.amazonaws.com": _BOTH,
    "apigateway.amazonaws.com": _BOTH,
}
#: Source keys each service sends when it assumes a role.
_ASSUME_KEYS: dict[str, tuple[str, ...]] = {
    "scheduler.amazonaws.com": _BOTH,
    "events.amazonaws.com": _BOTH,
    "pipes.amazonaws.com": _BOTH,
    "states.amazonaws.com": _BOTH,
}
#: Source keys each service principal sends to KMS (an empty tuple: documented as not sent).
_KMS_KEYS: dict[str, tuple[str, ...]] = {
    "cloudwatch.amazonaws.com": _BOTH,
    "sns.amazonaws.com": _BOTH,
    "cloudfront.amazonaws.com": _BOTH,
    "s3.amazonaws.com": _BOTH,
    "events.amazonaws.com": (),
}
#: Keys a service principal's call never carries: it is in no organization and calls from no VPC.
_NEVER_FROM_A_SERVICE: Context = {
    "aws:principalorgid": None,
    "aws:principalorgpaths": None,
    "aws:sourcevpc": None,
    "aws:sourcevpce": None,
}
#: The TLS versions AWS services and SDKs connect to S3 with.
TLS_VERSIONS = ("1.2", "1.3")
#: The encryption context each data service sends to KMS, as ``(key, what names it)``.
_ENCRYPTION_CONTEXT = {
    "AWS::SQS::Queue": "kms:encryptioncontext:aws:sqs:arn",
    "AWS::SNS::Topic": "kms:encryptioncontext:aws:sns:topicarn",
}
_DATA_SERVICE = {
    "AWS::SQS::Queue": "sqs",
    "AWS::SNS::Topic": "sns",
    "AWS::S3::Bucket": "s3",
    "AWS::Kinesis::Stream": "kinesis",
}


def secure() -> Context:
    """What every call carries: services and roles call over TLS."""
    return {"aws:securetransport": "true"}


def _source(keys: tuple[str, ...], source_arn: str | None, source_account: str | None) -> Context:
    values = {SOURCE_ARN: source_arn, SOURCE_ACCOUNT: source_account, SOURCE_OWNER: source_account}
    return {key: values[key] for key in keys if values[key] is not None}


def service_call(service: str, source_arn: str | None, source_account: str | None) -> Context:
    """A service principal's call to a resource policy, caused by ``source_arn`` of ``source_account``."""
    return {
        **secure(),
        **_NEVER_FROM_A_SERVICE,
        "aws:principalisawsservice": "true",
        "aws:principalservicename": service,
        **_source(_CALL_KEYS.get(service, ()), source_arn, source_account),
    }


def assume_call(service: str, source_arn: str | None, source_account: str | None) -> Context:
    """A service's ``sts:AssumeRole`` on a role, for ``source_arn`` (a schedule group, a rule, a pipe...)."""
    return {
        **secure(),
        **_NEVER_FROM_A_SERVICE,
        "aws:principalisawsservice": "true",
        "aws:principalservicename": service,
        **_source(_ASSUME_KEYS.get(service, ()), source_arn, source_account),
    }


def s3_call() -> Context:
    """What a call to S3 carries beside the caller's keys: the TLS version of the connection."""
    return {"s3:tlsversion": TLS_VERSIONS}


def role_call(principal: Principal, arn: str) -> Context:
    """A role's own call: no source keys (only service principals send them)."""
    return {
        **secure(),
        "aws:principalarn": arn,
        "aws:principalaccount": principal.account,
        "aws:principaltype": "AssumedRole",
        "aws:principalisawsservice": "false",
        SOURCE_ARN: None,
        SOURCE_ACCOUNT: None,
        SOURCE_OWNER: None,
    }


def kms_call(principal: Principal, target: Resource, target_arn: str, call: Context) -> Context:
    """The context of the KMS call behind a call to ``target`` (encrypted with a customer managed key)."""
    context: Context = {**call}
    data_service = _DATA_SERVICE.get(target.type)
    encryption = _ENCRYPTION_CONTEXT.get(target.type)
    if encryption is not None:
        context[encryption] = target_arn
    if principal.role is not None:
        if data_service is not None:
            context["kms:viaservice"] = f"{data_service}.{region_of(target.stack)}.amazonaws.com"
        context["kms:calleraccount"] = principal.account
        return context
    context["kms:viaservice"] = None
    keys = _KMS_KEYS.get(principal.service or "")
    for key in (SOURCE_ARN, SOURCE_ACCOUNT, SOURCE_OWNER):
        if keys is None:
            context.pop(key, None)  # not documented: a condition on it cannot be decided
        elif key not in keys:
            context[key] = None
    return context
