"""The same app at several traffic levels: the README's table and chart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from ..checks._model import Templates
from ._estimate import CostReport, cents, estimate, scaled_usage
from ._prices import Meter
from ._usage import Usage

#: The chart's traffic levels: page views a month.
CHART_LEVELS = (1e5, 3e5, 1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9)


def without_cdn_usd(report: CostReport) -> Decimal:
    """The whole app's cost if viewers reached the origins directly (the CDN's cost removed)."""
    cdn = report.cdn
    if cdn is None:
        return report.total_monthly_usd
    return (
        report.total_monthly_usd
        - cdn.cdn_monthly_usd
        - cdn.origin_monthly_usd
        + cdn.origin_monthly_usd_without_cdn
    )


def at_levels(
    templates: Templates,
    usage: Usage,
    levels: Sequence[float],
    *,
    prices: Mapping[str, Meter] | None = None,
    free_tier: bool = False,
) -> list[tuple[float, CostReport]]:
    """The app's report at each traffic level (page views a month; see ``scaled_usage``)."""
    return [
        (level, estimate(templates, scaled_usage(usage, level), prices=prices, free_tier=free_tier))
        for level in levels
    ]


def levels_markdown(
    templates: Templates,
    usage: Usage,
    levels: Sequence[float],
    *,
    prices: Mapping[str, Meter] | None = None,
    free_tier: bool = False,
) -> str:
    rows = [
        "| page views a month | orders | monthly cost | without the CDN | CDN net saving | breaker saves |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for level, report in at_levels(templates, usage, levels, prices=prices, free_tier=free_tier):
        breaker = sum((c.saves_usd for c in report.comparisons if c.name.startswith("breaker")), Decimal(0))
        net = report.cdn.net_savings_usd if report.cdn else Decimal(0)
        rows.append(
            f"| {level:,.0f} | {report.usage.orders:,.0f} | ${cents(report.total_monthly_usd):,} "
            f"| ${cents(without_cdn_usd(report)):,} | ${cents(net):,} | ${cents(breaker):,} |"
        )
    return "\n".join(rows) + "\n"


def chart_points(
    templates: Templates,
    usage: Usage,
    *,
    prices: Mapping[str, Meter] | None = None,
    free_tier: bool = False,
) -> list[tuple[float, Decimal, Decimal]]:
    return [
        (level, report.total_monthly_usd, without_cdn_usd(report))
        for level, report in at_levels(templates, usage, CHART_LEVELS, prices=prices, free_tier=free_tier)
    ]


def write_chart(path: Path, points: Sequence[tuple[float, Decimal, Decimal]]) -> None:
    from ._report import chart_svg

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(chart_svg(points, title="Storefront: monthly cost against traffic"))
