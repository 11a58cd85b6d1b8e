"""Queue-buffered ingest: API Gateway enqueues straight into SQS; a Lambda consumer drains the queue.

``construct`` holds ``QueueBufferedIngest``; ``authorization`` ``ApiAuthorization``; ``identity``
``CallerIdentity`` (the caller on every message); ``_plan`` the props' checks and defaults; ``templates``
the API's Velocity templates.
"""

from .authorization import ApiAuthorization
from .construct import QueueBufferedIngest
from .identity import CallerIdentity

__all__ = ["ApiAuthorization", "CallerIdentity", "QueueBufferedIngest"]
