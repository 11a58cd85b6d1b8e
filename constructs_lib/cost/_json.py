"""The report as JSON: money to at least the cent, every published price in full."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from ._prices import PLANS, cents, plan_rows

if TYPE_CHECKING:
    from ._cdn import CdnSavings
    from ._estimate import CostReport, Line


def _money(value: Decimal) -> float:
    """Money as a JSON number: at least cents, up to a millionth of a dollar."""
    return float(value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))


def _line_json(ln: Line) -> dict[str, Any]:
    return {
        "stack": ln.stack,
        "path": ln.path,
        "resource_type": ln.resource_type,
        "service": ln.service,
        "item": ln.item,
        "meter": ln.meter,
        "quantity": ln.quantity,
        "unit": ln.unit,
        # The published price in full (every price has fewer than 15 significant digits).
        "unit_price_usd": float(ln.unit_price_usd),
        "quoted_price": ln.quoted_price,
        "effective_unit_price_usd": float(ln.effective_unit_price_usd),
        "checked": ln.checked,
        "monthly_usd": _money(ln.monthly_usd),
    }


def _cdn_json(cdn: CdnSavings | None) -> dict[str, Any] | None:
    if cdn is None:
        return None
    return {
        "viewer_requests": cdn.viewer_requests,
        "origin_requests": cdn.origin_requests,
        "origin_requests_avoided": cdn.origin_requests_avoided,
        "transfer_gb": cdn.transfer_gb,
        "origin_monthly_usd": float(cents(cdn.origin_monthly_usd)),
        "origin_monthly_usd_without_cdn": float(cents(cdn.origin_monthly_usd_without_cdn)),
        "cdn_monthly_usd": float(cents(cdn.cdn_monthly_usd)),
        "net_savings_usd": float(cents(cdn.net_savings_usd)),
        "edge_options": [
            {
                "name": o.name,
                "edge_monthly_usd": None if o.edge_usd is None else float(cents(o.edge_usd)),
                "net_savings_usd": None if (n := cdn.net_under(o)) is None else float(cents(n)),
                "origin_monthly_usd": float(cents(o.origin_usd)),
                "origin_monthly_usd_without_cdn": float(cents(o.origin_without_usd)),
                "free_tier": o.free_tier,
                "detail": o.detail,
            }
            for o in cdn.options
        ],
        "protection": cdn.protection,
        "verdict": cdn.verdict,
        "plans": plan_rows(PLANS),
    }


def report_json(report: CostReport) -> dict[str, Any]:
    return {
        "total_monthly_usd": float(cents(report.total_monthly_usd)),
        "one_time_usd": float(cents(report.one_time_usd)),
        "by_service": {k: float(cents(v)) for k, v in report.by_service.items()},
        "by_construct": {k: float(cents(v)) for k, v in report.by_construct.items()},
        "lines": [_line_json(ln) for ln in report.lines],
        "one_time": [_line_json(ln) for ln in report.one_time],
        "cdn": _cdn_json(report.cdn),
        "comparisons": [
            {
                "name": c.name,
                "path": c.path,
                "this_usd": float(cents(c.this_usd)),
                "alternative_usd": float(cents(c.alternative_usd)),
                "saves_usd": float(cents(c.saves_usd)),
                "detail": c.detail,
            }
            for c in report.comparisons
        ],
        "free": [vars(item) for item in report.free],
        "not_priced": [vars(item) for item in report.not_priced],
        "prices_as_of": report.prices_as_of,
        "prices_read_from": report.prices_read_from,
        "prices": report.prices,
        "region": report.region,
        "free_tier": report.free_tier,
        "usage": _plain(vars(report.usage)),
        "notes": report.notes,
    }


def _plain(value: Any) -> Any:
    """Mappings (of mappings) as dicts, for JSON."""
    return {k: _plain(v) for k, v in value.items()} if isinstance(value, Mapping) else value
