"""The IAM action an AWS SDK call needs, for Step Functions' ``aws-sdk:`` tasks and Scheduler's universal
targets, which name the API (``lambda:invoke``), not the action.

Most actions are the API's name with a capital (``sqs:sendMessage`` is ``sqs:SendMessage``), but not all:
``Invoke`` needs ``lambda:InvokeFunction`` and S3's ``ListObjectsV2`` needs ``s3:ListBucket`` (aws-cdk-lib's
``CallAwsService.iamAction`` and the Service Authorization Reference say so). The pack decides on the
calls below, whose action it knows; any other is a guess (the API's name), which may allow a call but
never refuses one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._iam import Decision

#: SDK service names whose IAM prefix differs.
IAM_PREFIX = {"sfn": "states", "eventbridge": "events", "cloudwatchlogs": "logs", "sesv2": "ses"}
#: (IAM prefix, API in lower case) → the IAM action, where the pack knows it: the actions that differ from
#: the API's name, and the common calls whose action is their name.
KNOWN = {
    ("lambda", "invoke"): "lambda:InvokeFunction",
    ("lambda", "invokeasync"): "lambda:InvokeFunction",
    ("s3", "listobjectsv2"): "s3:ListBucket",
    ("s3", "listobjects"): "s3:ListBucket",
    ("s3", "headobject"): "s3:GetObject",
    ("s3", "headbucket"): "s3:ListBucket",
    ("s3", "listbuckets"): "s3:ListAllMyBuckets",
    ("s3", "getobject"): "s3:GetObject",
    ("s3", "putobject"): "s3:PutObject",
    ("s3", "deleteobject"): "s3:DeleteObject",
    ("s3", "deleteobjects"): "s3:DeleteObject",
    ("sqs", "sendmessage"): "sqs:SendMessage",
    ("sqs", "sendmessagebatch"): "sqs:SendMessage",
    ("sqs", "deletemessagebatch"): "sqs:DeleteMessage",
    ("sqs", "changemessagevisibilitybatch"): "sqs:ChangeMessageVisibility",
    ("sns", "publish"): "sns:Publish",
    ("sns", "publishbatch"): "sns:Publish",
    ("events", "putevents"): "events:PutEvents",
    ("states", "startexecution"): "states:StartExecution",
    ("states", "startsyncexecution"): "states:StartSyncExecution",
    ("dynamodb", "putitem"): "dynamodb:PutItem",
    ("dynamodb", "getitem"): "dynamodb:GetItem",
    ("dynamodb", "updateitem"): "dynamodb:UpdateItem",
    ("dynamodb", "deleteitem"): "dynamodb:DeleteItem",
    ("dynamodb", "query"): "dynamodb:Query",
    ("dynamodb", "scan"): "dynamodb:Scan",
    ("kinesis", "putrecord"): "kinesis:PutRecord",
    ("kinesis", "putrecords"): "kinesis:PutRecords",
    ("firehose", "putrecord"): "firehose:PutRecord",
    ("firehose", "putrecordbatch"): "firehose:PutRecordBatch",
}


@dataclass(frozen=True)
class SdkAction:
    """The IAM action of an SDK call; ``guessed`` when the pack took the API's name for it."""

    action: str
    guessed: bool


def sdk_action(service: str, api: str) -> SdkAction:
    """The IAM action of ``service``'s ``api`` (``lambda``, ``invoke`` → ``lambda:InvokeFunction``)."""
    prefix = IAM_PREFIX.get(service, service)
    known = KNOWN.get((prefix, api.lower()))
    if known is not None:
        return SdkAction(known, guessed=False)
    return SdkAction(f"{prefix}:{api[:1].upper()}{api[1:]}", guessed=True)


def guessed_action(found: SdkAction, service: str, api: str, decision: Decision) -> Decision:
    """A refusal on an action the pack guessed from the API's name is undecided, naming the guess."""
    if not found.guessed or decision.allowed is not False:
        return decision
    return Decision(
        None,
        f"the pack takes {found.action} for the {service} API {api}, and {decision.why}; an SDK call's IAM "
        "action may differ from its name (aws-cdk-lib's iam_action), so check it by hand",
    )
