"""constructs_lib: secure, observable AWS CDK L3 constructs for serverless patterns.

The constructs are imported lazily, so that ``constructs_lib.runtime`` (the code that runs inside
Lambda) imports where aws_cdk is not installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

if TYPE_CHECKING:
    from ._core.errors import ConstructsLibValidationError
    from ._core.nag import acknowledge
    from .cdn import BucketCdnOrigin, CdnFrontedOrigin, CdnOrigin, FunctionUrlCdnOrigin, RestApiCdnOrigin
    from .circuit_breaker import CircuitBreaker, CircuitBreakerWiring, ConsumerPause
    from .ingest import ApiAuthorization, CallerIdentity, QueueBufferedIngest
    from .java import JavaToolchainError, java_code
    from .snapstart import SnapStartFunction

_EXPORTS = {
    "ApiAuthorization": ".ingest",
    "BucketCdnOrigin": ".cdn",
    "CallerIdentity": ".ingest",
    "FunctionUrlCdnOrigin": ".cdn",
    "RestApiCdnOrigin": ".cdn",
    "acknowledge": "._core.nag",
    "CdnFrontedOrigin": ".cdn",
    "CdnOrigin": ".cdn",
    "CircuitBreaker": ".circuit_breaker",
    "CircuitBreakerWiring": ".circuit_breaker",
    "ConsumerPause": ".circuit_breaker",
    "ConstructsLibValidationError": "._core.errors",
    "JavaToolchainError": ".java",
    "QueueBufferedIngest": ".ingest",
    "SnapStartFunction": ".snapstart",
    "java_code": ".java",
}
__all__ = [
    "ApiAuthorization",
    "BucketCdnOrigin",
    "CallerIdentity",
    "CdnFrontedOrigin",
    "CdnOrigin",
    "CircuitBreaker",
    "CircuitBreakerWiring",
    "ConstructsLibValidationError",
    "ConsumerPause",
    "FunctionUrlCdnOrigin",
    "JavaToolchainError",
    "QueueBufferedIngest",
    "RestApiCdnOrigin",
    "SnapStartFunction",
    "acknowledge",
    "java_code",
]
__version__ = "0.1.0"


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
