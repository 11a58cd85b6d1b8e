"""The same app at several traffic levels: the docs' table and chart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from .._core.errors import ConstructsLibValidationError, Problem
from ..checks._model import Templates
from ._cdn import PAY_AS_YOU_GO, WITH_ALLOWANCE, CdnSavings
from ._chart import ChartPoint, chart_svg
from ._estimate import CostReport, estimate, scaled_usage
from ._prices import Meter, cents
from ._usage import Usage

#: The chart's traffic levels: page views a month.
CHART_LEVELS = (1e5, 3e5, 1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9)
CHART_TITLE = "Storefront: monthly cost against traffic"
#: The flat-rate plans the chart draws; Premium at the cheapest of its usage levels that fits.
CHART_PLANS = ("Free", "Pro", "Business", "Premium")


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


def parse_levels(text: str) -> list[float]:
    """``--levels``: comma-separated page views a month, each above 0 (``1e5,1e7,1e9``)."""
    fix = "give comma-separated page views a month, each above 0, e.g. --levels 1e5,1e7,1e9"
    try:
        levels = [float(part) for part in text.split(",")]
    except ValueError:
        raise ConstructsLibValidationError("--levels", [Problem("--levels", text, fix)]) from None
    if not levels or any(not level > 0 or level == float("inf") for level in levels):
        raise ConstructsLibValidationError("--levels", [Problem("--levels", text, fix)])
    return levels


def at_levels(
    templates: Templates,
    usage: Usage,
    levels: Sequence[float],
    *,
    prices: Mapping[str, Meter] | None = None,
    free_tier: bool | str = False,
) -> list[tuple[float, CostReport]]:
    """The app's report at each traffic level (page views a month; see ``scaled_usage``).

    Raises:
        ConstructsLibValidationError: the profile has no ``viewer_requests`` to scale from.
    """
    if not usage.viewer_requests:
        fix = "levels scale the profile's viewer_requests; set viewer_requests above 0"
        raise ConstructsLibValidationError(
            "--levels", [Problem("viewer_requests", usage.viewer_requests, fix)]
        )
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
    free_tier: bool | str = False,
) -> str:
    rows = [
        "| page views a month | orders | monthly cost | origin with the CDN | origin without it "
        "| edge, pay-as-you-go | edge, with the free allowance | cheapest flat-rate plan | breaker saves |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for level, report in at_levels(templates, usage, levels, prices=prices, free_tier=free_tier):
        breaker = sum((c.saves_usd for c in report.comparisons if c.name.startswith("breaker")), Decimal(0))
        cdn = report.cdn
        cells = _cdn_cells(cdn) if cdn else ["", "", "", "", ""]
        rows.append(
            f"| {level:,.0f} | {report.usage.orders:,.0f} | ${cents(report.total_monthly_usd):,} | "
            + " | ".join(cells)
            + f" | ${cents(breaker):,} |"
        )
    return "\n".join(rows) + "\n"


def _cdn_cells(cdn: CdnSavings) -> list[str]:
    edges = {option.name: option.edge_usd for option in cdn.options}
    plan = cdn.cheapest_plan
    return [
        f"${cents(cdn.origin_monthly_usd):,}",
        f"${cents(cdn.origin_monthly_usd_without_cdn):,}",
        f"${cents(edges[PAY_AS_YOU_GO] or Decimal(0)):,}",
        f"${cents(edges[WITH_ALLOWANCE] or Decimal(0)):,}",
        f"{plan.name} (${cents(plan.edge_usd or Decimal(0)):,})" if plan else "none fits",
    ]


def chart_points(
    templates: Templates,
    usage: Usage,
    *,
    prices: Mapping[str, Meter] | None = None,
    free_tier: bool | str = False,
) -> list[ChartPoint]:
    return [
        _point(level, report)
        for level, report in at_levels(templates, usage, CHART_LEVELS, prices=prices, free_tier=free_tier)
    ]


def _point(level: float, report: CostReport) -> ChartPoint:
    series: dict[str, Decimal | None] = {}
    cdn = report.cdn
    if cdn is not None:
        series["origin with the CDN"] = cdn.origin_monthly_usd
        series["origin without the CDN"] = cdn.origin_monthly_usd_without_cdn
        for option in cdn.options:
            if option.name == PAY_AS_YOU_GO:
                series["edge, pay-as-you-go"] = option.edge_usd
            elif option.name == WITH_ALLOWANCE:
                series["edge, with the free allowance"] = option.edge_usd
        for plan in CHART_PLANS:
            fitting = [
                o.edge_usd for o in cdn.options if o.name.split(" (")[0] == plan and o.edge_usd is not None
            ]
            series[f"edge, {plan} plan"] = min(fitting) if fitting else None
    return ChartPoint(level, series, report.by_service)


def write_chart(path: Path, points: Sequence[ChartPoint]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(chart_svg(points, title=CHART_TITLE))
