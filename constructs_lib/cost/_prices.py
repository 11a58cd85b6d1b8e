"""The pinned price table: us-east-1 on-demand list prices, each with the page it came from.

A meter is one thing AWS bills by (Lambda requests, REST API calls, CloudFront HTTPS requests...). Its
tiers apply to the account's monthly total, so the model sums a meter over every resource before it
prices it. ``free`` is the monthly allowance the free tier gives: ``always`` for the allowances that never
expire (Lambda, SQS, SNS, DynamoDB storage, CloudFront, CloudWatch basics, X-Ray, KMS...), ``12-month``
for those of an account's first year. Meters in one ``pool`` share one allowance (Lambda's GB-seconds
across architectures, SQS's million across standard and FIFO queues).

Each meter says how its price was checked: on the pricing page itself (``PAGE``), or only through
transcriptions of it (``TRANSCRIBED``), since some pages render their prices in script.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .._core.errors import ConstructsLibValidationError, Problem

#: The day the table was last compared with the pricing pages.
PRICES_AS_OF = "2026-11-29"
#: The day the meters added this round (NAT, provisioned and warm DynamoDB, Kinesis, Step Functions,
#: CloudFront's flat-rate plans) were read.
ADDED_AS_OF = "2026-12-03"
REGION = "us-east-1"
#: How much a ``--prices`` value may differ from the pinned price before it is refused.
PRICE_CHANGE_LIMIT = 100

#: How a price was checked: on AWS's page; on a stored transcription of it (the page renders its prices in
#: script); only in independent guides; or nowhere that could be read here.
PAGE = "read on the pricing page"
TRANSCRIBED = "read on a stored transcription of the pricing page (the page renders prices in script)"
GUIDES = "not on a stored copy of the pricing page: the rate independent guides quote"
UNCHECKED = "not found on any stored page: AWS's published rate as known, unchecked"
#: Free tier modes: no allowance, the allowances that never expire, or those and the 12-month ones.
FREE_TIERS = ("none", "always", "all")

_PAGES = {
    "lambda": "https://aws.amazon.com/lambda/pricing/",
    "apigateway": "https://aws.amazon.com/api-gateway/pricing/",
    "sqs": "https://aws.amazon.com/sqs/pricing/",
    "dynamodb": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "dynamodb_provisioned": "https://aws.amazon.com/dynamodb/pricing/provisioned/",
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
    "vpc": "https://aws.amazon.com/vpc/pricing/",
    "kinesis": "https://aws.amazon.com/kinesis/data-streams/pricing/",
    "states": "https://aws.amazon.com/step-functions/pricing/",
    "ssm": "https://aws.amazon.com/systems-manager/pricing/",
}
_PER_LABEL = {1e6: "million", 1e5: "100,000", 1e4: "10,000", 1e3: "1,000"}


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
    #: The pricing page quotes the price per this many units (1,000,000 for "per million requests").
    per: float = 1.0
    #: ``always`` (the allowance never expires) or ``12-month`` (an account's first year only).
    free_kind: str = "always"
    #: Meters with the same pool share one free allowance (``free`` is the pool's).
    pool: str | None = None
    checked: str = PAGE
    #: Billed once (when the resource is created or changed), not every month.
    one_time: bool = False
    #: The tiers count every unit, the free ones included (Cognito: "10,001-100,000 MAU"); otherwise
    #: they count the units billed after the free allowance.
    free_within_tiers: bool = False
    #: What the price or its allowance assumes beyond the page (shown in JSON and the report's notes).
    note: str = ""

    @property
    def first_price(self) -> Decimal:
        return self.tiers[0][1]

    def allowance(self, free_tier: bool | str) -> float:
        """The free allowance that applies under ``free_tier`` (``none``, ``always`` or ``all``)."""
        mode = free_tier_mode(free_tier)
        if mode == "all" or (mode == "always" and self.free_kind == "always"):
            return self.free
        return 0.0

    def charge(self, quantity: float, *, free_tier: bool | str, allowance: float | None = None) -> Decimal:
        """USD for a monthly ``quantity`` of this meter, tier by tier, after the free allowance (``allowance``
        when given, for a share of a pooled one)."""
        free = self.allowance(free_tier) if allowance is None else allowance
        if self.free_within_tiers:
            return self._tiered(quantity) - self._tiered(min(quantity, free))
        return self._tiered(max(0.0, quantity - free))

    def _tiered(self, units: float) -> Decimal:
        """USD for ``units`` counted from the first tier."""
        total, floor = Decimal(0), 0.0
        for ceiling, price in self.tiers:
            if units <= floor:
                break
            total += Decimal(repr(min(units, ceiling) - floor)) * price
            floor = ceiling
        return total

    def billed_tier_of(self, total: float, allowance: float) -> Decimal:
        """The published price per unit of the tier that the account's monthly ``total`` reaches."""
        return self.price_at(total if self.free_within_tiers else max(0.0, total - allowance))

    def price_at(self, billable: float) -> Decimal:
        """The published price per unit of the tier that a billable monthly total reaches."""
        for ceiling, price in self.tiers:
            if billable <= ceiling:
                return price
        return self.tiers[-1][1]

    def quoted(self, price: Decimal | None = None) -> str:
        """A price as the pricing page quotes it: ``$0.20 per million requests``, ``$0.0000166667 per
        GB-s``."""
        value = (price if price is not None else self.first_price) * Decimal(repr(self.per))
        label = _PER_LABEL.get(self.per)
        per = f"per {label} {self.unit}" if label else f"per {singular(self.unit)}"
        return f"{usd_text(value)} {per}"


@dataclass(frozen=True)
class Plan:
    """A CloudFront flat-rate plan: a monthly price per distribution covering its requests and transfer up
    to the allowances (no overage charges), the distribution's web ACL and its CloudFront Functions."""

    name: str
    monthly_usd: Decimal
    requests: float
    transfer_gb: float
    source: str = _PAGES["cloudfront"]
    as_of: str = ADDED_AS_OF
    checked: str = TRANSCRIBED

    def fits(self, requests: float, gb: float) -> bool:
        return requests <= self.requests and gb <= self.transfer_gb


def free_tier_mode(free_tier: bool | str) -> str:
    """``True``/``False`` (the flag's old form) as ``all``/``none``; a mode as itself, checked."""
    if isinstance(free_tier, bool):
        return "all" if free_tier else "none"
    if free_tier not in FREE_TIERS:
        raise ConstructsLibValidationError(
            "--free-tier", [Problem("--free-tier", free_tier, f"use one of: {', '.join(FREE_TIERS)}")]
        )
    return free_tier


def singular(unit: str) -> str:
    """``requests`` -> ``request``, ``rule-months`` -> ``rule-month``; ``GB-s`` and ``MAU`` stay."""
    head, _, last = unit.rpartition(" ")
    if last.endswith("s") and not last.endswith("-s") and len(last) > 2:
        last = last[:-1]
    return f"{head} {last}".strip()


def cents(value: Decimal) -> Decimal:
    """``value`` rounded to the cent, half up, as a bill rounds."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def usd_text(value: Decimal) -> str:
    """``$0.20``, ``$0.0000166667``, ``$1,000.00``: at least cents, and every published digit."""
    text = format(value.normalize(), "f")
    whole, _, fraction = text.partition(".")
    return f"${int(whole):,}.{fraction.ljust(2, '0')}"


def _meter(
    key: str,
    unit: str,
    per: float,
    *prices: float | tuple[float, float],
    free: float = 0.0,
    free_kind: str = "always",
    pool: str | None = None,
    page: str | None = None,
    checked: str = PAGE,
    as_of: str = PRICES_AS_OF,
    one_time: bool = False,
    free_within_tiers: bool = False,
    note: str = "",
) -> Meter:
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
    source = _PAGES[page or service]
    return Meter(
        key,
        service,
        unit,
        tuple(tiers),
        source,
        free,
        as_of,
        per,
        free_kind,
        pool,
        checked,
        one_time,
        free_within_tiers,
        note,
    )


def _added(key: str, unit: str, per: float, *prices: float | tuple[float, float], **options: Any) -> Meter:
    """A meter added on ``ADDED_AS_OF``; ``checked`` says how its price was checked."""
    return _meter(key, unit, per, *prices, as_of=ADDED_AS_OF, **options)


_M, _B = 1e6, 1e9
_COGNITO_POOL = (
    "Lite and Essentials share one allowance of 10,000 users an account, as independent guides say (the "
    "pricing page could not be read here); the model shares it out in proportion to each plan's users"
)
_TB = 1024.0  # GB
#: Hours in the month the model prices (30 days).
MONTH_HOURS = 720.0
METERS: dict[str, Meter] = {
    meter.key: meter
    for meter in (
        # Lambda: requests, and compute per architecture; the free 400,000 GB-s are shared by both.
        _meter("lambda.requests", "requests", _M, 0.20, free=1e6),
        _meter(
            "lambda.gb_seconds.x86_64",
            "GB-s",
            1,
            (6e9, 0.0000166667),
            (9e9, 0.000015),
            0.0000133334,
            free=400_000,
            pool="lambda.gb_seconds",
        ),
        _meter(
            "lambda.gb_seconds.arm64",
            "GB-s",
            1,
            (7.5e9, 0.0000133334),
            (11.25e9, 0.0000120001),
            0.0000106667,
            free=400_000,
            pool="lambda.gb_seconds",
        ),
        # Ephemeral storage above the 512 MB every function has, per GB-second it runs.
        _added(
            "lambda.ephemeral_storage",
            "GB-s",
            1,
            0.0000000309,
            checked=GUIDES,
            note="the x86 rate; arm64 is assumed to be billed the same (unchecked)",
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
            free_kind="12-month",
        ),
        _meter(
            "apigateway.http_requests", "requests", _M, (300e6, 1.00), 0.90, free=1e6, free_kind="12-month"
        ),
        # SQS: the free million requests are shared by standard and FIFO queues.
        _meter(
            "sqs.standard_requests",
            "requests",
            _M,
            (100e9, 0.40),
            (100e9, 0.30),
            0.24,
            free=1e6,
            pool="sqs.requests",
        ),
        _meter(
            "sqs.fifo_requests",
            "requests",
            _M,
            (100e9, 0.50),
            (100e9, 0.40),
            0.35,
            free=1e6,
            pool="sqs.requests",
        ),
        _meter("dynamodb.write_request_units", "WRU", _M, 0.625),
        _meter("dynamodb.read_request_units", "RRU", _M, 0.125),
        _meter("dynamodb.storage", "GB-month", 1, 0.25, free=25),
        _meter("dynamodb.pitr", "GB-month", 1, 0.20),
        # Provisioned capacity, per capacity unit-hour; the free tier's 25 WCU and 25 RCU never expire.
        _added(
            "dynamodb.write_capacity_unit_hours",
            "WCU-hours",
            1,
            0.00065,
            free=25 * MONTH_HOURS,
            page="dynamodb_provisioned",
            checked=GUIDES,
        ),
        _added(
            "dynamodb.read_capacity_unit_hours",
            "RCU-hours",
            1,
            0.00013,
            free=25 * MONTH_HOURS,
            page="dynamodb_provisioned",
            checked=GUIDES,
        ),
        # Warm throughput: a one-time charge per unit per second raised above what the table has, at the
        # provisioned capacity rates.
        _added("dynamodb.warm_write_units", "warm write units", 1, 0.00065, one_time=True, checked=GUIDES),
        _added("dynamodb.warm_read_units", "warm read units", 1, 0.00013, one_time=True, checked=GUIDES),
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
        # Parameter Store: standard parameters are free, an advanced one is billed by the month.
        _added("ssm.advanced_parameters", "parameter-months", 1, 0.05, checked=GUIDES),
        _meter("secretsmanager.api_calls", "API calls", 10_000, 0.05),
        # Cognito: the tiers count every monthly active user, the free ones included ("10,001-100,000");
        # Lite and Essentials share the account's 10,000 free users.
        _meter(
            "cognito.lite_mau",
            "MAU",
            1,
            (100_000, 0.0055),
            (900_000, 0.0046),
            (9e6, 0.00325),
            0.0025,
            free=10_000,
            pool="cognito.mau",
            free_within_tiers=True,
            note=_COGNITO_POOL,
        ),
        _meter(
            "cognito.essentials_mau",
            "MAU",
            1,
            0.015,
            free=10_000,
            pool="cognito.mau",
            free_within_tiers=True,
            note=_COGNITO_POOL,
        ),
        _meter("cognito.plus_mau", "MAU", 1, 0.02),
        _meter(
            "s3.standard_storage",
            "GB-month",
            1,
            (50 * _TB, 0.023),
            (450 * _TB, 0.022),
            0.021,
            free=5,
            free_kind="12-month",
        ),
        _meter("s3.get_requests", "requests", 1000, 0.0004, free=20_000, free_kind="12-month"),
        _meter("s3.put_requests", "requests", 1000, 0.005, free=2_000, free_kind="12-month"),
        _meter("sns.publishes", "requests", _M, 0.50, free=1e6),
        _meter("sns.email_deliveries", "notifications", 100_000, 2.00, free=1_000),
        _meter("scheduler.invocations", "invocations", _M, 1.00, free=14e6, free_kind="12-month"),
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
        # VPC: a NAT gateway by the hour and by the GB it processes; its Elastic IP as a public IPv4
        # address by the hour.
        _added("vpc.nat_gateway_hours", "NAT gateway-hours", 1, 0.045, checked=TRANSCRIBED),
        _added("vpc.nat_gateway_gb", "GB processed", 1, 0.045, checked=TRANSCRIBED),
        _added("vpc.public_ipv4_hours", "public IPv4 address-hours", 1, 0.005, checked=GUIDES),
        # Kinesis Data Streams: on-demand by the stream-hour and the GB written and read (each record
        # rounded up to 1 KB); provisioned by the shard-hour and the 25 KB PUT payload unit.
        _added("kinesis.on_demand_stream_hours", "stream-hours", 1, 0.04, checked=UNCHECKED),
        _added("kinesis.on_demand_gb_written", "GB", 1, 0.08, checked=UNCHECKED),
        _added("kinesis.on_demand_gb_read", "GB", 1, 0.04, checked=UNCHECKED),
        _added("kinesis.shard_hours", "shard-hours", 1, 0.015, checked=UNCHECKED),
        _added("kinesis.put_payload_units", "PUT payload units", _M, 0.014, checked=UNCHECKED),
        # Step Functions: Standard by state transition (4,000 free a month, never expiring); Express by
        # request and by GB-second (100 ms steps, 64 MB steps of memory).
        _added("states.state_transitions", "state transitions", 1000, 0.025, free=4000, checked=GUIDES),
        _added("states.express_requests", "requests", _M, 1.00, checked=GUIDES),
        _added(
            "states.express_gb_seconds",
            "GB-s",
            1,
            (3.6e6, 0.00001667),
            (14.4e6, 0.00000833),
            0.00000456,
            checked=UNCHECKED,
        ),
    )
}

#: CloudFront's flat-rate plans (launched 2025-11-18), per distribution: Free, Pro, Business, and Premium
#: at each of its published usage levels.
PLANS: tuple[Plan, ...] = (
    Plan("Free", Decimal("0"), 1e6, 100),
    Plan("Pro", Decimal("15"), 10e6, 50 * _TB),
    Plan("Business", Decimal("200"), 125e6, 50 * _TB),
    Plan("Premium", Decimal("1000"), 500e6, 50 * _TB),
    Plan("Premium (75 TB)", Decimal("1450"), 750e6, 75 * _TB),
    Plan("Premium (125 TB)", Decimal("2250"), 1.25e9, 125 * _TB),
    Plan("Premium (200 TB)", Decimal("3500"), 2e9, 200 * _TB),
    Plan("Premium (350 TB)", Decimal("6000"), 3.5e9, 350 * _TB),
    Plan("Premium (600 TB)", Decimal("10000"), 6e9, 600 * _TB),
)


def price_rows(meters: Iterable[Meter]) -> list[dict[str, Any]]:
    """The table as rows (for ``--format json`` and the docs)."""
    return [
        {
            "meter": meter.key,
            "unit": meter.unit,
            "usd_per_unit": [str(price) for _, price in meter.tiers],
            "quoted": meter.quoted(),
            "free_tier": meter.free,
            "free_tier_kind": meter.free_kind if meter.free else None,
            "free_tier_pool": meter.pool,
            "one_time": meter.one_time,
            "note": meter.note or None,
            "source": meter.source,
            "as_of": meter.as_of,
            "checked": meter.checked,
        }
        for meter in meters
    ]


def plan_rows(plans: Iterable[Plan]) -> list[dict[str, Any]]:
    return [
        {
            "plan": plan.name,
            "monthly_usd": str(plan.monthly_usd),
            "requests": plan.requests,
            "transfer_gb": plan.transfer_gb,
            "source": plan.source,
            "as_of": plan.as_of,
            "checked": plan.checked,
        }
        for plan in plans
    ]
