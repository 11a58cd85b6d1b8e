"""The cost-against-traffic chart (SVG): what the CDN changes, and the whole bill by service."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ._prices import cents

WIDTH, LEFT, RIGHT = 760, 80, 250
TOP_HEIGHT, BOTTOM_HEIGHT = 360, 300
#: Lines of the top panel: (series, colour, dashed).
SERIES = (
    ("origin with the CDN", "#1f77b4", False),
    ("origin without the CDN", "#d62728", False),
    ("edge, pay-as-you-go", "#2ca02c", False),
    ("edge, with the free allowance", "#2ca02c", True),
    ("edge, Free plan", "#9467bd", True),
    ("edge, Pro plan", "#8c564b", True),
    ("edge, Business plan", "#e377c2", True),
    ("edge, Premium plan", "#7f7f7f", True),
)
SERVICE_COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#bab0ac")
OTHER = "other services"


@dataclass(frozen=True)
class ChartPoint:
    """One traffic level: what the CDN changes (series name -> USD, None where a plan does not fit) and
    the whole bill by service."""

    level: float
    series: Mapping[str, Decimal | None]
    by_service: Mapping[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.by_service.values(), Decimal(0))


def chart_svg(points: Sequence[ChartPoint], *, title: str) -> str:
    """Two panels: a log-log chart of the origin's and the edge's monthly cost against traffic, with and
    without the CDN, pay-as-you-go and under each flat-rate plan; below it, the whole bill at each level
    as a bar stacked by service (shares of the total, the total printed above)."""
    height = 44 + TOP_HEIGHT + BOTTOM_HEIGHT + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" '
        'font-size="12">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="24" font-size="14">{title}</text>',
        *_lines_panel(points, heading_top=44),
        *_bars_panel(points, top=44 + TOP_HEIGHT + 20),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def _lines_panel(points: Sequence[ChartPoint], heading_top: int) -> list[str]:
    top, bottom = heading_top + 24, heading_top + TOP_HEIGHT - 50
    xs = [math.log10(p.level) for p in points]
    values = [float(v) for p in points for v in p.series.values() if v is not None]
    y0 = math.floor(math.log10(max(min(values), 0.01)))
    y1 = math.ceil(math.log10(max(max(values), 0.01)))
    x0, x1 = min(xs), max(xs)

    def px(level: float) -> float:
        return LEFT + (math.log10(level) - x0) / ((x1 - x0) or 1) * (WIDTH - LEFT - RIGHT)

    def py(usd: float) -> float:
        return bottom - (math.log10(max(usd, 10.0**y0)) - y0) / ((y1 - y0) or 1) * (bottom - top)

    heading = "What the CDN changes: monthly cost of the origin and of the edge"
    parts = [f'<text x="{LEFT}" y="{heading_top + 4}">{heading}</text>']
    for exponent in range(y0, y1 + 1):
        y = py(10.0**exponent)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        label = f"${10.0**exponent:,.0f}" if exponent >= 0 else f"${10.0**exponent:,.2f}"
        parts.append(f'<text x="{LEFT - 8}" y="{y:.1f}" text-anchor="end" dy="4">{label}</text>')
    for p in points:
        parts.append(
            f'<text x="{px(p.level):.1f}" y="{bottom + 18}" text-anchor="middle">{_short(p.level)}</text>'
        )
    parts.append(
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{bottom + 36}" text-anchor="middle">'
        "page views a month (orders and users in proportion)</text>"
    )
    for index, (name, colour, dashed) in enumerate(SERIES):
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        for run in _runs([(p.level, p.series.get(name)) for p in points]):
            line = " ".join(f"{px(level):.1f},{py(float(usd)):.1f}" for level, usd in run)
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
            if len(run) == 1:  # a plan that fits one level only: a dot
                parts.append(
                    f'<circle cx="{line.split(",")[0]}" cy="{line.split(",")[1]}" r="3" fill="{colour}"/>'
                )
        ly = top + 20 + index * 18
        key = f'x1="{WIDTH - RIGHT + 12}" x2="{WIDTH - RIGHT + 36}" y1="{ly}" y2="{ly}"'
        parts.append(f'<line {key} stroke="{colour}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{WIDTH - RIGHT + 42}" y="{ly + 4}">{name}</text>')
    parts.append(
        f'<text x="{WIDTH - RIGHT + 12}" y="{top + 20 + len(SERIES) * 18}" font-size="10">'
        "a plan's line stops where the traffic outgrows it</text>"
    )
    return parts


def _bars_panel(points: Sequence[ChartPoint], top: int) -> list[str]:
    bottom = top + BOTTOM_HEIGHT - 50
    services = _services(points)
    slot = (WIDTH - LEFT - RIGHT) / len(points)
    parts = [
        f'<text x="{LEFT}" y="{top + 4}">The whole bill by service (share of each month\'s total)</text>'
    ]
    for index, p in enumerate(points):
        x = LEFT + index * slot + slot * 0.15
        total, floor = p.total, float(bottom)
        shares = _grouped(p.by_service, services)
        for service, colour in zip([*services, OTHER], SERVICE_COLOURS, strict=False):
            usd = shares.get(service, Decimal(0))
            if not total or not usd:
                continue
            size = float(usd / total) * (bottom - top - 30)
            floor -= size
            box = f'x="{x:.1f}" y="{floor:.1f}" width="{slot * 0.7:.1f}" height="{size:.1f}"'
            parts.append(f'<rect {box} fill="{colour}"/>')
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{floor - 4:.1f}" text-anchor="middle" font-size="10">'
            f"${cents(total):,.0f}</text>"
        )
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{bottom + 18}" text-anchor="middle">{_short(p.level)}</text>'
        )
    for index, (service, colour) in enumerate(zip([*services, OTHER], SERVICE_COLOURS, strict=False)):
        ly = top + 20 + index * 18
        parts.append(f'<rect x="{WIDTH - RIGHT + 12}" y="{ly - 9}" width="24" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{WIDTH - RIGHT + 42}" y="{ly + 2}">{service}</text>')
    return parts


def _services(points: Sequence[ChartPoint]) -> list[str]:
    """The services that make most of the bill over all levels (the rest are grouped)."""
    totals: dict[str, Decimal] = {}
    for p in points:
        for service, usd in p.by_service.items():
            totals[service] = totals.get(service, Decimal(0)) + (usd / p.total if p.total else Decimal(0))
    ranked = sorted(totals, key=lambda s: (-totals[s], s))
    return ranked[: len(SERVICE_COLOURS) - 1]


def _grouped(by_service: Mapping[str, Decimal], shown: list[str]) -> dict[str, Decimal]:
    grouped = {s: by_service.get(s, Decimal(0)) for s in shown}
    grouped[OTHER] = sum((usd for s, usd in by_service.items() if s not in shown), Decimal(0))
    return grouped


def _runs(values: list[tuple[float, Decimal | None]]) -> list[list[tuple[float, Decimal]]]:
    """The stretches of a series where it has values (a plan's line stops where it does not fit)."""
    runs: list[list[tuple[float, Decimal]]] = [[]]
    for level, usd in values:
        if usd is None:
            runs.append([])
        else:
            runs[-1].append((level, usd))
    return [run for run in runs if run]


def _short(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"
