"""CDN-fronted origin: CloudFront in front of a REST API, a Lambda function URL or an S3 bucket.

``construct`` holds ``CdnFrontedOrigin``; ``origins`` the origins it fronts, each of which binds itself;
``_plan`` the props' checks and defaults.
"""

from ._plan import DEFAULT_CONTENT_SECURITY_POLICY
from .construct import CdnFrontedOrigin
from .origins import BucketCdnOrigin, CdnOrigin, FunctionUrlCdnOrigin, RestApiCdnOrigin

__all__ = [
    "DEFAULT_CONTENT_SECURITY_POLICY",
    "BucketCdnOrigin",
    "CdnFrontedOrigin",
    "CdnOrigin",
    "FunctionUrlCdnOrigin",
    "RestApiCdnOrigin",
]
