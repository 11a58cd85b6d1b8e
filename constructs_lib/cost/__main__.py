"""``python -m constructs_lib.cost CDK_OUT --usage FILE``: what a synthesized app costs a month."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .._core.errors import ConstructsLibValidationError
from ._estimate import estimate, load_assembly
from ._prices import FREE_TIERS, load_prices
from ._report import render
from ._usage import load_usage
from .levels import chart_points, levels_markdown, parse_levels, write_chart


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m constructs_lib.cost", description=__doc__)
    parser.add_argument("cdk_out", help="a cloud assembly directory (cdk.out)")
    parser.add_argument("--usage", help="the usage profile (TOML); default: no traffic")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a usage value"
    )
    parser.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    parser.add_argument(
        "--free-tier",
        nargs="?",
        const="all",
        default="none",
        choices=FREE_TIERS,
        help="subtract the free tier: 'always' (the allowances that never expire) or 'all' (and the "
        "12-month ones; the flag alone means all). Default: none",
    )
    parser.add_argument("--prices", help="a TOML file of prices (USD per unit) that replace the pinned ones")
    parser.add_argument(
        "--allow-price-change",
        action="store_true",
        help="accept a --prices value more than 100 times away from the pinned price",
    )
    parser.add_argument("--levels", help="comma-separated page-view levels: print the total at each instead")
    parser.add_argument("--chart", type=Path, help="write the cost-against-traffic chart (SVG) here")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (ConstructsLibValidationError, OSError) as error:
        print(error, file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    levels = parse_levels(args.levels) if args.levels else None
    usage = load_usage(args.usage, args.set)
    prices = load_prices(args.prices, allow_change=args.allow_price_change)
    templates = load_assembly(args.cdk_out)
    if args.chart:
        write_chart(args.chart, chart_points(templates, usage, prices=prices, free_tier=args.free_tier))
    if levels:
        print(levels_markdown(templates, usage, levels, prices=prices, free_tier=args.free_tier), end="")
        return 0
    report = estimate(templates, usage, prices=prices, free_tier=args.free_tier)
    print(render(report, args.format), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
