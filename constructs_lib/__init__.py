"""constructs_lib: secure, observable AWS CDK L3 constructs for serverless patterns."""

from ._core.validation import ConstructsLibValidationError
from .cdn import CdnFrontedOrigin, CdnOrigin
from .ingest import ApiAuthorization, QueueBufferedIngest
from .snapstart import JavaToolchainError, SnapStartFunction, java_code

__all__ = [
    "ApiAuthorization",
    "CdnFrontedOrigin",
    "CdnOrigin",
    "ConstructsLibValidationError",
    "JavaToolchainError",
    "QueueBufferedIngest",
    "SnapStartFunction",
    "java_code",
]
__version__ = "0.1.0"
