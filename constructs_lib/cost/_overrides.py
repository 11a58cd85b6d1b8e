"""``--prices``: the user's own rates over the pinned table, checked as strictly as the profile."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._core.errors import ConstructsLibValidationError, Problem
from ._files import read_toml
from ._prices import METERS, PRICE_CHANGE_LIMIT, Meter, singular, usd_text


def with_overrides(
    meters: Mapping[str, Meter], overrides: Mapping[str, Any], source: str, *, allow_change: bool = False
) -> dict[str, Meter]:
    """``meters`` with some prices replaced: ``key = price`` (one flat price per unit) or
    ``key = {price = ..., free = ...}``. Unknown keys and non-numbers are refused, never ignored; so is a
    price more than 100 times away from the pinned one (a price per million given as per unit), unless
    ``allow_change``. A ``free`` given for a pooled meter is the pool's allowance."""
    problems, result = [], dict(meters)
    for key, value in overrides.items():
        meter = meters.get(key)
        if meter is None:
            problems.append(Problem(key, value, f"is not a meter; known meters: {', '.join(sorted(meters))}"))
            continue
        table = value if isinstance(value, Mapping) else {"price": value}
        unknown = set(table) - {"price", "free"}
        numbers = {name: table[name] for name in ("price", "free") if name in table}
        if unknown or any(
            isinstance(v, bool) or not isinstance(v, int | float) or v < 0 for v in numbers.values()
        ):
            problems.append(Problem(key, value, "use a number (USD per unit) or {price = ..., free = ...}"))
            continue
        price = Decimal(repr(float(numbers["price"]))) if "price" in numbers else None
        if price is not None and not allow_change and _far_from(meter, price):
            problems.append(Problem(key, value, _far_fix(meter, price)))
            continue
        if "free" in numbers and not allow_change and _free_far(meter, float(numbers["free"])):
            problems.append(Problem(key, value, _free_fix(meter)))
            continue
        tiers = ((math.inf, price),) if price is not None else meter.tiers
        free = float(numbers.get("free", meter.free))
        result[key] = replace(meter, tiers=tiers, free=free, source=source, as_of="given", checked="given")
        if "free" in numbers and meter.pool:
            for other in [m for m in result.values() if m.pool == meter.pool and m.key != key]:
                result[other.key] = replace(other, free=free)
    if problems:
        raise ConstructsLibValidationError("prices", problems)
    return result


def _far_from(meter: Meter, price: Decimal) -> bool:
    pinned = [p for _, p in meter.tiers]
    return price > max(pinned) * PRICE_CHANGE_LIMIT or price * PRICE_CHANGE_LIMIT < min(pinned)


def _far_fix(meter: Meter, price: Decimal) -> str:
    pinned = meter.first_price
    ratio = price / pinned if pinned else Decimal("Infinity")
    times = f"{ratio:,.0f} times" if ratio >= 1 else f"1/{1 / ratio:,.0f} of"
    return (
        f"is {times} the pinned {usd_text(pinned)} per {singular(meter.unit)} ({meter.quoted()}); "
        f"give USD per {singular(meter.unit)}, or pass --allow-price-change to use it on purpose"
    )


def _free_far(meter: Meter, free: float) -> bool:
    if meter.free:
        return free > meter.free * PRICE_CHANGE_LIMIT
    return free > 0


def _free_fix(meter: Meter) -> str:
    pinned = f"{meter.free:,.0f} {meter.unit} a month" if meter.free else "no free allowance"
    return (
        f"the pinned free allowance is {pinned}; give at most {PRICE_CHANGE_LIMIT} times it, or pass "
        "--allow-price-change to use it on purpose"
    )


def load_prices(
    path: str | Path | None, meters: Mapping[str, Meter] = METERS, *, allow_change: bool = False
) -> dict[str, Meter]:
    """The pinned table, with the prices in the TOML file at ``path`` (if any) put over it."""
    if path is None:
        return dict(meters)
    overrides = read_toml(path, "--prices")
    return with_overrides(meters, overrides, source=str(path), allow_change=allow_change)
