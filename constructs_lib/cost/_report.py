"""The report as a text table, Markdown or JSON (the chart is in ``_chart``)."""

from __future__ import annotations

import json
from decimal import Decimal

from ._cdn import CdnSavings
from ._chart import ChartPoint, chart_svg
from ._estimate import CostReport
from ._prices import cents

__all__ = ["ChartPoint", "chart_svg", "render"]
_Section = tuple[str, list[tuple[str, ...]], tuple[str, ...]]
FREE_TIER_WORDS = {
    "none": "without the free tier",
    "always": "with the free allowances that never expire",
    "all": "with the free tier (the allowances that never expire and the 12-month ones)",
}


def _usd(value: Decimal) -> str:
    return f"${cents(value):,}"


def render(report: CostReport, form: str) -> str:
    """The report as ``"table"`` (plain text), ``"markdown"`` or ``"json"``."""
    if form == "json":
        return json.dumps(report.to_json(), indent=2)
    return _markdown(report) if form == "markdown" else _table(report)


def _rows(report: CostReport) -> list[_Section]:
    """Each section: title, rows, header."""
    sections: list[_Section] = [
        ("By service", [(k, _usd(v)) for k, v in report.by_service.items()], ("service", "monthly")),
        ("By construct", [(k, _usd(v)) for k, v in report.by_construct.items()], ("construct", "monthly")),
        (
            "Lines",
            [
                (ln.path, ln.item, f"{ln.quantity:,.2f} {ln.unit}", ln.marked_price, _usd(ln.monthly_usd))
                for ln in sorted(report.lines, key=lambda ln: (-ln.monthly_usd, ln.path))
                if ln.monthly_usd >= Decimal("0.005")
            ],
            ("construct path", "item", "quantity", "price", "monthly"),
        ),
    ]
    if report.one_time:
        sections.append(
            (
                "One-time charges (billed once, when the resource is created or raised; not monthly)",
                [
                    (ln.path, ln.item, f"{ln.quantity:,.2f} {ln.unit}", ln.marked_price, _usd(ln.monthly_usd))
                    for ln in report.one_time
                ],
                ("construct path", "item", "quantity", "price", "once"),
            )
        )
    if report.cdn:
        sections.extend(_cdn_sections(report.cdn))
    sections.append(
        (
            "What the patterns save",
            [
                (c.name, c.path, _usd(c.this_usd), _usd(c.alternative_usd), c.detail)
                for c in report.comparisons
            ],
            ("design", "where", "this", "alternative", "detail"),
        )
    )
    sections.append(
        ("Not priced", [(i.path, i.resource_type, i.why) for i in report.not_priced], ("path", "type", "why"))
    )
    sections.append(
        ("Free", [(i.path, i.resource_type, i.why) for i in report.free], ("path", "type", "why"))
    )
    return sections


def _cdn_sections(cdn: CdnSavings) -> list[_Section]:
    summary: list[tuple[str, ...]] = [
        ("viewer requests", f"{cdn.viewer_requests:,.0f}"),
        ("origin requests", f"{cdn.origin_requests:,.0f}"),
        ("origin requests avoided", f"{cdn.origin_requests_avoided:,.0f}"),
        ("data transfer to viewers", f"{cdn.transfer_gb:,.2f} GB"),
        ("origin cost with the CDN", _usd(cdn.origin_monthly_usd)),
        ("origin cost without the CDN", _usd(cdn.origin_monthly_usd_without_cdn)),
        ("the CDN's own cost (CloudFront, WAF), as this report prices it", _usd(cdn.cdn_monthly_usd)),
        ("net saving, as this report prices it", _usd(cdn.net_savings_usd)),
    ]
    options: list[tuple[str, ...]] = [
        (
            option.name,
            "does not fit" if option.edge_usd is None else _usd(option.edge_usd),
            "" if (net := cdn.net_under(option)) is None else _usd(net),
            option.detail,
        )
        for option in cdn.options
    ]
    return [
        ("CDN", summary, ("", "")),
        (
            "CDN: the edge's cost by how CloudFront is bought",
            options,
            ("option", "edge", "net saving", "detail"),
        ),
    ]


def _head(report: CostReport) -> list[str]:
    read = (
        f"as of {report.prices_as_of}"
        if report.prices_read_from == report.prices_as_of
        else f"read {report.prices_read_from} to {report.prices_as_of}"
    )
    given = ", some given in --prices" if report.prices_given else ""
    head = [
        f"Monthly cost: {_usd(report.total_monthly_usd)} ({report.region} list prices {read}{given}, "
        f"{FREE_TIER_WORDS[report.free_tier]})"
    ]
    if report.one_time:
        head.append(f"One-time charges: {_usd(report.one_time_usd)} (billed once; not in the monthly total)")
    return [*head, *report.notes]


def _table(report: CostReport) -> str:
    out = _head(report)
    for title, rows, header in _rows(report):
        out += ["", f"== {title} ({len(rows)}) =="]
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        out += [
            "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]
        if title == "CDN" and report.cdn:
            out += [report.cdn.protection, report.cdn.verdict]
    return "\n".join(out) + "\n"


def _markdown(report: CostReport) -> str:
    head = _head(report)
    out = ["**" + head[0] + "**", "", *(f"> {line}" for line in head[1:])]
    for title, rows, header in _rows(report):
        if not rows:
            continue
        out += ["", f"### {title}", "", "| " + " | ".join(h or " " for h in header) + " |"]
        out.append("|" + "---|" * len(header))
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        if title == "CDN" and report.cdn:
            out += ["", report.cdn.protection, "", report.cdn.verdict]
    return "\n".join(out) + "\n"
