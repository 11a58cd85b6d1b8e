"""``python -m constructs_lib.cost CDK_OUT --usage FILE``: what a synthesized app costs a month."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .._core.errors import ConstructsLibValidationError
from ._estimate import estimate, load_assembly
from ._overrides import load_prices
from ._prices import FREE_TIERS
from ._report import render
from ._usage import load_usage
from .levels import chart_points, levels_markdown, parse_levels, write_chart

FREE_TIER_HELP = (
    "subtract the free tier: 'always' (the allowances that never expire) or 'all' (and the 12-month ones; "
    "the flag alone means all). The 12-month allowances apply only to accounts created before 2025-07-15: "
    "accounts created since get credits instead, so use 'always' for them. Default: none"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m constructs_lib.cost", description=__doc__)
    parser.add_argument("cdk_out", nargs="?", help="a cloud assembly directory (cdk.out)")
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
        metavar="{none,always,all}",
        help=FREE_TIER_HELP,
    )
    parser.add_argument("--prices", help="a TOML file of prices (USD per unit) that replace the pinned ones")
    parser.add_argument(
        "--allow-price-change",
        action="store_true",
        help="accept a --prices value (or free allowance) more than 100 times away from the pinned one",
    )
    parser.add_argument("--levels", help="comma-separated page-view levels: print the total at each instead")
    parser.add_argument("--chart", type=Path, help="write the cost-against-traffic chart (SVG) here")
    args = parser.parse_args(argv)
    _positional(parser, args)
    try:
        return _run(args)
    except (ConstructsLibValidationError, OSError) as error:  # OSError: the assembly or --chart's file
        print(error, file=sys.stderr)
        return 2


def _positional(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``--free-tier`` takes only its words: anything else after it is the cloud assembly
    (``--free-tier cdk.out`` is the bare flag, then the directory)."""
    if args.free_tier not in FREE_TIERS:
        if args.cdk_out is not None:
            parser.error(
                f"argument --free-tier: got {args.free_tier!r}; use one of {', '.join(FREE_TIERS)} "
                "(e.g. --free-tier all)"
            )
        args.cdk_out, args.free_tier = args.free_tier, "all"
    if args.cdk_out is None:
        parser.error("the following arguments are required: cdk_out")


def _run(args: argparse.Namespace) -> int:
    levels = parse_levels(args.levels) if args.levels is not None else None
    usage = load_usage(args.usage, args.set)
    prices = load_prices(args.prices, allow_change=args.allow_price_change)
    templates = load_assembly(args.cdk_out)
    if args.chart:
        write_chart(args.chart, chart_points(templates, usage, prices=prices, free_tier=args.free_tier))
    if levels is not None:
        print(levels_markdown(templates, usage, levels, prices=prices, free_tier=args.free_tier), end="")
        return 0
    report = estimate(templates, usage, prices=prices, free_tier=args.free_tier)
    print(render(report, args.format), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
