"""The report as a text table, Markdown or JSON, and the cost-against-traffic chart as SVG."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from decimal import Decimal

from ._estimate import CostReport, cents


def _usd(value: Decimal) -> str:
    return f"${cents(value):,}"


def render(report: CostReport, form: str) -> str:
    """The report as ``"table"`` (plain text), ``"markdown"`` or ``"json"``."""
    if form == "json":
        return json.dumps(report.to_json(), indent=2)
    return _markdown(report) if form == "markdown" else _table(report)


def _rows(report: CostReport) -> list[tuple[str, list[tuple[str, ...]], tuple[str, ...]]]:
    """Each section: title, rows, header."""
    sections: list[tuple[str, list[tuple[str, ...]], tuple[str, ...]]] = [
        ("By service", [(k, _usd(v)) for k, v in report.by_service.items()], ("service", "monthly")),
        ("By construct", [(k, _usd(v)) for k, v in report.by_construct.items()], ("construct", "monthly")),
        (
            "Lines",
            [
                (ln.path, ln.item, f"{ln.quantity:,.2f} {ln.unit}", _usd(ln.monthly_usd))
                for ln in sorted(report.lines, key=lambda ln: (-ln.monthly_usd, ln.path))
                if ln.monthly_usd >= Decimal("0.005")
            ],
            ("construct path", "item", "quantity", "monthly"),
        ),
    ]
    if report.cdn:
        cdn = report.cdn
        sections.append(
            (
                "CDN",
                [
                    ("viewer requests", f"{cdn.viewer_requests:,.0f}"),
                    ("origin requests", f"{cdn.origin_requests:,.0f}"),
                    ("origin requests avoided", f"{cdn.origin_requests_avoided:,.0f}"),
                    ("origin cost with the CDN", _usd(cdn.origin_monthly_usd)),
                    ("origin cost without the CDN", _usd(cdn.origin_monthly_usd_without_cdn)),
                    ("the CDN's own cost (CloudFront, WAF)", _usd(cdn.cdn_monthly_usd)),
                    ("net saving", _usd(cdn.net_savings_usd)),
                ],
                ("", ""),
            )
        )
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


def _head(report: CostReport) -> list[str]:
    tier = "with the free tier" if report.free_tier else "without the free tier"
    return [
        f"Monthly cost: {_usd(report.total_monthly_usd)} ({report.region} list prices as of "
        f"{report.prices_as_of}, {tier})",
        *report.notes,
    ]


def _table(report: CostReport) -> str:
    out = _head(report)
    for title, rows, header in _rows(report):
        out += ["", f"== {title} ({len(rows)}) =="]
        if title == "CDN" and report.cdn:
            rows = [*rows, (report.cdn.verdict, "")]
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        out += [
            "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]
    return "\n".join(out) + "\n"


def _markdown(report: CostReport) -> str:
    out = ["**" + _head(report)[0] + "**", "", *(f"> {note}" for note in report.notes)]
    for title, rows, header in _rows(report):
        if not rows:
            continue
        out += ["", f"### {title}", "", "| " + " | ".join(h or " " for h in header) + " |"]
        out.append("|" + "---|" * len(header))
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        if title == "CDN" and report.cdn:
            out += ["", report.cdn.verdict]
    return "\n".join(out) + "\n"


def chart_svg(points: Sequence[tuple[float, Decimal, Decimal]], *, title: str) -> str:
    """A log-log line chart of monthly cost against viewer requests: ``(requests, with CDN, without)``."""
    width, height, left, bottom, top, right = 640, 380, 80, 50, 40, 160
    xs = [math.log10(p[0]) for p in points]
    ys = [math.log10(max(float(v), 0.01)) for p in points for v in p[1:]]
    x0, x1, y0, y1 = min(xs), max(xs), math.floor(min(ys)), math.ceil(max(ys))

    def at(x: float, y: float) -> str:
        px = left + (math.log10(x) - x0) / (x1 - x0) * (width - left - right)
        py = height - bottom - (math.log10(max(y, 0.01)) - y0) / (y1 - y0) * (height - top - bottom)
        return f"{px:.1f},{py:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="24" font-size="14">{title}</text>',
    ]
    for exponent in range(y0, y1 + 1):
        y = at(10**x0, 10**exponent).split(",")[1]
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 8}" y="{y}" text-anchor="end" dy="4">${10**exponent:,.0f}</text>')
    for x in (p[0] for p in points):
        px = at(x, 10**y0).split(",")[0]
        parts.append(f'<text x="{px}" y="{height - bottom + 18}" text-anchor="middle">{_short(x)}</text>')
    parts.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">'
        "page views a month (orders and users in proportion)</text>"
    )
    for index, (label, colour) in enumerate((("with the CDN", "#1f77b4"), ("without the CDN", "#d62728"))):
        line = " ".join(at(p[0], float(p[1 + index])) for p in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        ly = top + 20 + index * 20
        parts.append(
            f'<line x1="{width - right + 12}" x2="{width - right + 36}" y1="{ly}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(f'<text x="{width - right + 42}" y="{ly + 4}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _short(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"
