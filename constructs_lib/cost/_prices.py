"""The pinned price table: us-east-1 on-demand list prices, each with the page it came from.

A meter is one thing AWS bills by (Lambda requests, REST API calls, CloudFront HTTPS requests...). Its
tiers apply to the account's monthly total, so the model sums a meter over every resource before it
prices it. ``free`` is the monthly allowance the free tier gives (used only with ``--free-tier``).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._core.errors import ConstructsLibValidationError, Problem

#: The day the table was last compared with the pricing pages.
PRICES_AS_OF = "2026-11-29"
REGION = "us-east-1"

_PAGES = {
    "lambda": "https://aws.amazon.com/lambda/pricing/",
    "apigateway": "https://aws.amazon.com/api-gateway/pricing/",
    "sqs": "https://aws.amazon.com/sqs/pricing/",
    "dynamodb": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "cloudfront": "https://aws.amazon.com/cloudfront/pricing/",
    "waf": "https://aws.amazon.com/waf/pricing/",
    "cloudwatch": "https://aws.amazon.com/cloudwatch/pricing/",
    "kms": "https://aws.amazon.com/kms/pricing/",
    "secretsmanager": "https://aws.amazon.com/secrets-manager/pricing/",
    "cognito": "https://aws.amazon.com/cognito/pricing/",
    "s3": "https://aws.amazon.com/s3/pricing/",
    "sns": "https://aws.amazon.com/sns/pricing/",
    "scheduler": "https://aws.amazon.com/eventbridge/pricing/",
    "xray": "https://aws.amazon.com/xray/pricing/",
    "datatransfer": "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer",
}

_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Meter:
    """One billed quantity: tiers of ``(up to this monthly quantity, USD per unit)``, the last unbounded."""

    key: str
    service: str
    unit: str
    tiers: tuple[tuple[float, Decimal], ...]
    source: str
    free: float = 0.0
    as_of: str = PRICES_AS_OF

    @property
    def first_price(self) -> Decimal:
        return self.tiers[0][1]

    def charge(self, quantity: float, *, free_tier: bool) -> Decimal:
        """USD for a monthly ``quantity`` of this meter, tier by tier, after the free allowance."""
        billable = max(0.0, quantity - (self.free if free_tier else 0.0))
        total, floor = Decimal(0), 0.0
        for ceiling, price in self.tiers:
            if billable <= floor:
                break
            total += Decimal(repr(min(billable, ceiling) - floor)) * price
            floor = ceiling
        return total


def _meter(key: str, unit: str, per: float, *prices: float | tuple[float, float], free: float = 0.0) -> Meter:
    """A meter whose prices are quoted per ``per`` units (e.g. per million requests), as the page does.

    Each price is a number (the only or last tier) or ``(tier size in units, price)``.
    """
    tiers: list[tuple[float, Decimal]] = []
    floor = 0.0
    for price in prices:
        size, value = price if isinstance(price, tuple) else (math.inf, price)
        floor += size
        tiers.append((floor, Decimal(repr(value)) / Decimal(repr(per))))
    service = key.split(".")[0]
    return Meter(key, service, unit, tuple(tiers), _PAGES[service], free)


_M, _B = 1e6, 1e9
_TB = 1024.0  # GB
METERS: dict[str, Meter] = {
    meter.key: meter
    for meter in (
        # Lambda: requests, and compute per architecture (the free tier's 400,000 GB-s covers both).
        _meter("lambda.requests", "requests", _M, 0.20, free=1e6),
        _meter(
            "lambda.gb_seconds.x86_64",
            "GB-s",
            1,
            (6e9, 0.0000166667),
            (9e9, 0.000015),
            0.0000133334,
            free=400_000,
        ),
        _meter(
            "lambda.gb_seconds.arm64",
            "GB-s",
            1,
            (7.5e9, 0.0000133334),
            (11.25e9, 0.0000120001),
            0.0000106667,
        ),
        # SnapStart on Python and .NET (Java's SnapStart has no charge).
        _meter("lambda.snapstart_cache", "GB-s", 1, 0.0000015046),
        _meter("lambda.snapstart_restore", "GB restored", 1, 0.0001397998),
        _meter(
            "apigateway.rest_requests",
            "requests",
            _M,
            (333e6, 3.50),
            (667e6, 2.80),
            (19e9, 2.38),
            1.51,
            free=1e6,
        ),
        _meter("apigateway.http_requests", "requests", _M, (300e6, 1.00), 0.90, free=1e6),
        _meter("sqs.standard_requests", "requests", _M, (100e9, 0.40), (100e9, 0.30), 0.24, free=1e6),
        _meter("sqs.fifo_requests", "requests", _M, (100e9, 0.50), (100e9, 0.40), 0.35),
        _meter("dynamodb.write_request_units", "WRU", _M, 0.625),
        _meter("dynamodb.read_request_units", "RRU", _M, 0.125),
        _meter("dynamodb.storage", "GB-month", 1, 0.25, free=25),
        _meter("dynamodb.pitr", "GB-month", 1, 0.20),
        _meter("cloudfront.https_requests", "requests", 10_000, 0.0100, free=10e6),
        _meter(
            "cloudfront.data_transfer_out",
            "GB",
            1,
            (10 * _TB, 0.085),
            (40 * _TB, 0.080),
            (100 * _TB, 0.060),
            (350 * _TB, 0.040),
            (524 * _TB, 0.030),
            (4096 * _TB, 0.025),
            0.020,
            free=1 * _TB,
        ),
        _meter("cloudfront.data_transfer_to_origin", "GB", 1, 0.020),
        _meter("cloudfront.function_invocations", "invocations", _M, 0.10, free=2e6),
        _meter("waf.web_acls", "web ACL-months", 1, 5.00),
        _meter("waf.rules", "rule-months", 1, 1.00),
        _meter("waf.requests", "requests", _M, 0.60),
        _meter(
            "cloudwatch.custom_metrics",
            "metric-months",
            1,
            (10_000, 0.30),
            (240_000, 0.10),
            (750_000, 0.05),
            0.02,
            free=10,
        ),
        _meter("cloudwatch.alarm_metrics", "alarm metric-months", 1, 0.10, free=10),
        _meter("cloudwatch.high_resolution_alarm_metrics", "alarm metric-months", 1, 0.30),
        _meter("cloudwatch.composite_alarms", "alarm-months", 1, 0.50),
        _meter("cloudwatch.dashboards", "dashboard-months", 1, 3.00, free=3),
        _meter("cloudwatch.logs_ingested", "GB", 1, 0.50, free=5),
        _meter("cloudwatch.logs_stored", "GB-month", 1, 0.03, free=5),
        _meter("kms.keys", "key-months", 1, 1.00),
        _meter("kms.requests", "requests", 10_000, 0.03, free=20_000),
        _meter("secretsmanager.secrets", "secret-months", 1, 0.40),
        _meter("secretsmanager.api_calls", "API calls", 10_000, 0.05),
        _meter(
            "cognito.lite_mau",
            "MAU",
            1,
            (100_000, 0.0055),
            (900_000, 0.0046),
            (9e6, 0.00325),
            0.0025,
            free=10_000,
        ),
        _meter("cognito.essentials_mau", "MAU", 1, 0.015, free=10_000),
        _meter("cognito.plus_mau", "MAU", 1, 0.02),
        _meter("s3.standard_storage", "GB-month", 1, (50 * _TB, 0.023), (450 * _TB, 0.022), 0.021, free=5),
        _meter("s3.get_requests", "requests", 1000, 0.0004, free=20_000),
        _meter("s3.put_requests", "requests", 1000, 0.005, free=2_000),
        _meter("sns.publishes", "requests", _M, 0.50, free=1e6),
        _meter("sns.email_deliveries", "notifications", 100_000, 2.00, free=1_000),
        _meter("scheduler.invocations", "invocations", _M, 1.00, free=14e6),
        _meter("xray.traces_recorded", "traces", _M, 5.00, free=100_000),
        _meter(
            "datatransfer.internet_out",
            "GB",
            1,
            (10 * _TB, 0.09),
            (40 * _TB, 0.085),
            (100 * _TB, 0.07),
            0.05,
            free=100,
        ),
    )
}


def with_overrides(
    meters: Mapping[str, Meter], overrides: Mapping[str, Any], source: str
) -> dict[str, Meter]:
    """``meters`` with some prices replaced: ``key = price`` (one flat price per unit) or
    ``key = {price = ..., free = ...}``. Unknown keys and non-numbers are refused, never ignored."""
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
        tiers = ((math.inf, Decimal(repr(float(numbers["price"])))),) if "price" in numbers else meter.tiers
        result[key] = replace(
            meter, tiers=tiers, free=float(numbers.get("free", meter.free)), source=source, as_of="given"
        )
    if problems:
        raise ConstructsLibValidationError("prices", problems)
    return result


def load_prices(path: str | Path | None, meters: Mapping[str, Meter] = METERS) -> dict[str, Meter]:
    """The pinned table, with the prices in the TOML file at ``path`` (if any) put over it."""
    if path is None:
        return dict(meters)
    overrides = tomllib.loads(Path(path).read_text())
    return with_overrides(meters, overrides, source=str(path))


def price_rows(meters: Iterable[Meter]) -> list[dict[str, Any]]:
    """The table as rows (for ``--format json`` and the README)."""
    return [
        {
            "meter": meter.key,
            "unit": meter.unit,
            "usd_per_unit": [str(price) for _, price in meter.tiers],
            "free_tier": meter.free,
            "source": meter.source,
            "as_of": meter.as_of,
        }
        for meter in meters
    ]
