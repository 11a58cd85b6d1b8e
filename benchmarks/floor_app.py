"""The floor of the whole-process synth measurement: one stack with one queue, checked like the samples.

Run as ``python benchmarks/floor_app.py`` with ``CDK_OUTDIR`` and ``CDK_CONTEXT_JSON`` set, as the CDK CLI
runs an app.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs

import apps.common
from constructs_lib import acknowledge


def one_queue(app: cdk.App | None = None) -> cdk.App:
    """One stack with one queue, with the samples' packs and App settings (a new App by default)."""
    app = apps.common.checked_app(app)
    queue = sqs.Queue(cdk.Stack(app, "Floor"), "Queue", enforce_ssl=True)
    for rule in ("AwsSolutions::AwsSolutions-SQS3", "Serverless::Serverless-SQSRedrivePolicy"):
        acknowledge(queue, rule, "The benchmark's floor: one queue and nothing else, not deployed")
    return app


if __name__ == "__main__":
    one_queue().synth()
