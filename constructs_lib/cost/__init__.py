"""What an app costs a month: ``python -m constructs_lib.cost CDK_OUT --usage FILE``.

Reads every stack of a synthesized cloud assembly, derives the month's volumes from the templates' wiring
and a usage profile in the user's terms (TOML), and prices them with a pinned table of us-east-1 list
prices. Every resource is priced, known to be free, or listed as not priced with the reason; nested
stacks are read with their parents. The command line imports nothing from aws-cdk-lib.
"""

from ._cdn import CdnSavings, EdgeOption
from ._estimate import Comparison, CostReport, Line, Listed, estimate, load_assembly, scaled_usage
from ._overrides import load_prices, with_overrides
from ._prices import METERS, PLANS, PRICES_AS_OF, REGION, Meter, Plan
from ._report import chart_svg, render
from ._usage import MONTH_SECONDS, Usage, load_usage, usage_from

__all__ = [
    "METERS",
    "MONTH_SECONDS",
    "PLANS",
    "PRICES_AS_OF",
    "REGION",
    "CdnSavings",
    "Comparison",
    "CostReport",
    "EdgeOption",
    "Line",
    "Listed",
    "Meter",
    "Plan",
    "Usage",
    "chart_svg",
    "estimate",
    "load_assembly",
    "load_prices",
    "load_usage",
    "render",
    "scaled_usage",
    "usage_from",
    "with_overrides",
]
