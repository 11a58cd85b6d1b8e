"""AWS service limits and defaults, said once for the constructs, the policy pack and the cost model.

The values are plain numbers, and ``snap_start_applies`` reads both a template's ``SnapStart`` and a
``CfnFunction``'s ``snap_start``, so the same definition judges constructs at synth and templates after.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: AWS guidance: an SQS queue's visibility timeout is at least 6 x its consumer's timeout (+ the batching
#: window), so that Lambda's retries of a batch finish before its messages become visible again.
VISIBILITY_TIMEOUT_FACTOR = 6

#: CloudFormation's defaults where a property is absent.
LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3
LAMBDA_DEFAULT_MEMORY_MB = 128
SQS_DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30
SQS_DEFAULT_BATCH_SIZE = 10

#: An SQS event source mapping's batch size: at most 10 without a batching window (and always on FIFO
#: queues), at most 10,000 with one; the window is at most 5 minutes.
SQS_MAX_BATCH_SIZE = 10
SQS_MAX_BATCH_SIZE_WITH_WINDOW = 10_000
SQS_MAX_BATCHING_WINDOW_SECONDS = 300
SQS_MAX_VISIBILITY_TIMEOUT_SECONDS = 12 * 60 * 60
SQS_MAX_RETENTION_SECONDS = 14 * 24 * 60 * 60
#: SQS takes at most 10 message attributes on a message.
SQS_MAX_MESSAGE_ATTRIBUTES = 10

#: An SQS event source mapping's maximum concurrency (ScalingConfig.MaximumConcurrency) range.
MAPPING_CONCURRENCY_MIN = 2
MAPPING_CONCURRENCY_MAX = 1000
MAPPING_CONCURRENCY_RANGE = f"{MAPPING_CONCURRENCY_MIN}-{MAPPING_CONCURRENCY_MAX}"


def snap_start_applies(setting: Any) -> bool:
    """True when a function's SnapStart setting (a template's ``SnapStart`` value, or a ``CfnFunction``'s
    ``snap_start``) applies SnapStart to published versions."""
    apply_on = setting.get("ApplyOn") if isinstance(setting, Mapping) else getattr(setting, "apply_on", None)
    return apply_on == "PublishedVersions"
