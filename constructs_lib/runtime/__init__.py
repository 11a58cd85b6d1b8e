"""Code that runs inside Lambda: a circuit breaker whose state all containers share in DynamoDB.

Only the standard library and boto3 are used, so this package imports on a Lambda runtime where aws_cdk
is absent; ``constructs_lib.CircuitBreaker`` ships it to functions as a layer.

    from constructs_lib.runtime import CircuitBreaker, CircuitOpenError

    breaker = CircuitBreaker("payments")  # table from CIRCUIT_BREAKER_TABLE

    @breaker.guard(fallback=lambda order: {"status": "queued-for-retry"})
    def charge(order): ...
"""

from ._store import State
from .breaker import CircuitBreaker, CircuitOpenError
from .settings import BreakerSettings, InvalidSettingsError

__all__ = [
    "BreakerSettings",
    "CircuitBreaker",
    "CircuitOpenError",
    "InvalidSettingsError",
    "State",
]
