"""From a cloud assembly and a usage profile to a priced report."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from .._core.errors import ConstructsLibValidationError, Problem
from .._core.limits import (
    LAMBDA_DEFAULT_MEMORY_MB,
    SQS_DEFAULT_BATCH_SIZE,
    SQS_DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
)
from ..checks._lambda import sqs_mappings
from ..checks._model import Resource, Templates
from ._breakers import breaker_read_units, breaker_reads, breaker_writes
from ._cdn import CdnSavings, cdn_section, edge_quantities
from ._json import report_json
from ._model import Charge, Model
from ._prices import (
    GUIDES,
    METERS,
    PRICES_AS_OF,
    REGION,
    UNCHECKED,
    Meter,
    free_tier_mode,
    price_rows,
)
from ._traffic import LONG_POLL_SECONDS, Traffic, derive, pollers, queue_meter
from ._usage import MONTH_SECONDS, Usage
from ._volumes import construct_path, resolve

SERVICES = {
    "lambda": "Lambda",
    "apigateway": "API Gateway",
    "sqs": "SQS",
    "dynamodb": "DynamoDB",
    "cloudfront": "CloudFront",
    "waf": "WAF",
    "cloudwatch": "CloudWatch",
    "kms": "KMS",
    "secretsmanager": "Secrets Manager",
    "cognito": "Cognito",
    "s3": "S3",
    "sns": "SNS",
    "scheduler": "EventBridge Scheduler",
    "xray": "X-Ray",
    "datatransfer": "Data transfer",
    "vpc": "VPC",
    "kinesis": "Kinesis",
    "states": "Step Functions",
    "ssm": "Systems Manager",
}
#: Significant digits of an effective price per unit (after tiers and the free tier are shared out).
EFFECTIVE_PRICE_DIGITS = 10
#: The 12-month allowances since AWS's free tier changed (AWS Free Tier page, https://aws.amazon.com/free/;
#: AWS's billing notes in github.com/aws/agent-toolkit-for-aws, "July 2025 Transition").
TWELVE_MONTH_CAVEAT = (
    "The 12-month allowances apply only to accounts created before 2025-07-15; accounts created since get "
    "credits (up to $200, for 6 months) in their place, so for them use --free-tier always."
)
#: How a line's price is marked in the table and Markdown when it was not read on the pricing page.
MARKS = {GUIDES: "[guides]", UNCHECKED: "[unchecked]"}
MARK_MEANINGS = {
    "[guides]": "Prices marked [guides] are the rates independent guides quote: the pricing page renders "
    "them in script and no stored copy shows them.",
    "[unchecked]": "Prices marked [unchecked] were found on no stored page: AWS's published rates as known; "
    "check them against your bill.",
}
#: How long a consumer invocation takes when the open circuit rejects every call at once.
REJECTED_CALL_SECONDS = 0.01


@dataclass(frozen=True)
class Line:
    """One priced quantity of one resource."""

    stack: str
    path: str
    resource_type: str
    service: str
    item: str
    meter: str
    quantity: float
    unit: str
    #: The published price per unit of the tier the account's monthly total of this meter reaches.
    unit_price_usd: Decimal
    monthly_usd: Decimal
    #: That price as the pricing page quotes it (``$0.20 per million requests``).
    quoted_price: str = ""
    #: What this line costs per unit after tiers and the free tier are shared out.
    effective_unit_price_usd: Decimal = Decimal(0)
    #: How the price was checked (``checked`` of its meter).
    checked: str = ""

    @property
    def marked_price(self) -> str:
        """The quoted price, marked where it was not read on the pricing page."""
        mark = MARKS.get(self.checked)
        return f"{self.quoted_price} {mark}" if mark else self.quoted_price


@dataclass(frozen=True)
class Listed:
    """A resource that is free, or that the model does not price, and why."""

    path: str
    resource_type: str
    why: str


@dataclass(frozen=True)
class Comparison:
    """This library's design against the alternative, at the same traffic."""

    name: str
    path: str
    this_usd: Decimal
    alternative_usd: Decimal
    detail: str

    @property
    def saves_usd(self) -> Decimal:
        return self.alternative_usd - self.this_usd


@dataclass(frozen=True)
class CostReport:
    lines: list[Line]
    free: list[Listed]
    not_priced: list[Listed]
    cdn: CdnSavings | None
    comparisons: list[Comparison]
    usage: Usage
    #: ``none``, ``always`` (the allowances that never expire) or ``all`` (and the 12-month ones).
    free_tier: str
    #: The newest and the oldest date on which a price the lines use was read, and whether any was given
    #: in ``--prices``.
    prices_as_of: str = PRICES_AS_OF
    prices_read_from: str = PRICES_AS_OF
    prices_given: bool = False
    region: str = REGION
    notes: list[str] = field(default_factory=list)
    #: Each meter the lines use: its prices per unit by tier, free allowance, page and date read.
    prices: list[dict[str, Any]] = field(default_factory=list)
    #: Charges billed once (warm throughput), kept out of the monthly total.
    one_time: list[Line] = field(default_factory=list)

    @property
    def total_monthly_usd(self) -> Decimal:
        return sum((line.monthly_usd for line in self.lines), Decimal(0))

    @property
    def one_time_usd(self) -> Decimal:
        return sum((line.monthly_usd for line in self.one_time), Decimal(0))

    @property
    def by_service(self) -> dict[str, Decimal]:
        return _grouped(self.lines, lambda line: line.service)

    @property
    def by_construct(self) -> dict[str, Decimal]:
        """Totals by construct: the first two segments of each construct path (stack/construct)."""
        return _grouped(self.lines, lambda line: "/".join(line.path.split("/")[:2]))

    def to_json(self) -> dict[str, Any]:
        return report_json(self)


def _grouped(lines: Iterable[Line], key: Any) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        totals[key(line)] += line.monthly_usd
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def load_assembly(cdk_out: str | Path) -> Templates:
    """Every stack template of a cloud assembly (nested stage assemblies included)."""
    root = Path(cdk_out)
    manifest = root / "manifest.json"
    if not manifest.is_file():
        raise ConstructsLibValidationError(
            "cost",
            [Problem("CDK_OUT", str(root), "is not a cloud assembly (no manifest.json); run cdk synth")],
        )
    return Templates.load([str(path) for path in _template_paths(root)])


def _template_paths(root: Path) -> list[Path]:
    artifacts = json.loads((root / "manifest.json").read_text()).get("artifacts", {})
    paths: list[Path] = []
    for artifact in artifacts.values():
        properties = artifact.get("properties", {})
        if artifact.get("type") == "aws:cloudformation:stack":
            paths.append(root / properties["templateFile"])
        elif artifact.get("type") == "cdk:cloud-assembly":
            paths.extend(_template_paths(root / properties["directoryName"]))
    return paths


def estimate(
    source: str | Path | Templates,
    usage: Usage | None = None,
    *,
    prices: Mapping[str, Meter] | None = None,
    free_tier: bool | str = False,
) -> CostReport:
    """The monthly cost of every resource in ``source`` (a cloud assembly directory, or templates).

    Args:
        source: ``cdk.out`` (or any assembly directory), or :class:`Templates` already loaded.
        usage: The month's traffic. Default: ``Usage()`` (no traffic: the fixed costs only).
        prices: The meters to price with. Default: the pinned us-east-1 table (``METERS``).
        free_tier: ``"none"``, ``"always"`` (the allowances that never expire) or ``"all"`` (and the
            12-month ones); True and False mean ``"all"`` and ``"none"``. Default ``"none"`` (platform
            teams at scale).

    Raises:
        ConstructsLibValidationError: a profile key that names no resource of the app, or several where
            it must name one; a volume the resource's mode does not use; ``viewer_requests`` for an app
            with several distributions.
    """
    templates = source if isinstance(source, Templates) else load_assembly(source)
    usage = usage or Usage()
    mode = free_tier_mode(free_tier)
    meters = dict(prices or METERS)
    traffic = derive(templates, usage, resolve(templates, usage))
    priced = Model(templates, usage, traffic).run()
    lines = price_charges(priced.charges, meters, free_tier=mode)
    monthly = [ln for ln, c in zip(lines, priced.charges, strict=True) if not meters[c.meter].one_time]
    once = [ln for ln, c in zip(lines, priced.charges, strict=True) if meters[c.meter].one_time]
    run = _Run(templates, traffic, lines, usage, meters, mode)
    edge = edge_quantities((c.resource, c.meter, c.quantity) for c in priced.charges)
    used = [meters[key] for key in sorted({charge.meter for charge in priced.charges})]
    read = sorted({m.as_of for m in used if m.as_of != "given"}) or [PRICES_AS_OF]
    return CostReport(
        lines=monthly,
        free=[_listed(resource, why) for resource, why in priced.free],
        not_priced=[_listed(resource, why) for resource, why in priced.not_priced],
        cdn=cdn_section(templates, traffic, edge, usage, meters, mode),
        comparisons=_comparisons(run),
        usage=usage,
        free_tier=mode,
        notes=_notes(templates, mode, used),
        prices=price_rows(used),
        one_time=once,
        prices_as_of=read[-1],
        prices_read_from=read[0],
        prices_given=any(m.as_of == "given" for m in used),
    )


def price_charges(
    charges: Iterable[Charge], meters: Mapping[str, Meter], *, free_tier: bool | str
) -> list[Line]:
    """Lines for ``charges``: each meter priced on its account-wide total, shared out by quantity; a free
    allowance that meters share (a pool) is shared out by their totals."""
    charges = list(charges)
    totals: dict[str, float] = defaultdict(float)
    for charge in charges:
        totals[charge.meter] += charge.quantity
    allowances = _allowances(totals, meters, free_tier)
    costs = {
        key: meters[key].charge(total, free_tier=free_tier, allowance=allowances[key])
        for key, total in totals.items()
    }
    lines = []
    for charge in charges:
        meter, total = meters[charge.meter], totals[charge.meter]
        # The meter's cost shared out by quantity, multiplied before it is divided (exact where it can be).
        monthly = (
            costs[charge.meter] * Decimal(repr(charge.quantity)) / Decimal(repr(total))
            if total
            else Decimal(0)
        )
        published = meter.billed_tier_of(total, allowances[charge.meter])
        lines.append(
            Line(
                stack=charge.resource.stack.name,
                path=construct_path(charge.resource),
                resource_type=charge.resource.type,
                service=SERVICES[meter.service],
                item=charge.item,
                meter=charge.meter,
                quantity=charge.quantity,
                unit=meter.unit,
                unit_price_usd=published,
                monthly_usd=monthly,
                quoted_price=meter.quoted(published),
                checked=meter.checked,
                effective_unit_price_usd=_significant(monthly / Decimal(repr(charge.quantity)))
                if charge.quantity
                else Decimal(0),
            )
        )
    return lines


def _significant(value: Decimal) -> Decimal:
    """``value`` to ``EFFECTIVE_PRICE_DIGITS`` significant digits (no float noise in JSON)."""
    if not value:
        return Decimal(0)
    exponent = value.adjusted() - EFFECTIVE_PRICE_DIGITS + 1
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP).normalize()


def _allowances(
    totals: Mapping[str, float], meters: Mapping[str, Meter], free_tier: bool | str
) -> dict[str, float]:
    """Each meter's free allowance; a pool's is split between its meters in proportion to their totals."""
    allowances = {key: meters[key].allowance(free_tier) for key in totals}
    pools: dict[str, list[str]] = defaultdict(list)
    for key in totals:
        if meters[key].pool:
            pools[str(meters[key].pool)].append(key)
    for keys in pools.values():
        pooled = max(allowances[k] for k in keys)
        used = sum(totals[k] for k in keys)
        for key in keys:
            allowances[key] = pooled * totals[key] / used if used else pooled / len(keys)
    return allowances


def _listed(resource: Resource, why: str) -> Listed:
    return Listed(construct_path(resource), resource.type, why)


@dataclass(frozen=True)
class _Run:
    """One estimate's inputs and lines, for the sections computed after pricing."""

    templates: Templates
    traffic: Traffic
    lines: list[Line]
    usage: Usage
    meters: Mapping[str, Meter]
    free_tier: str

    def price_alone(self, quantities: Mapping[str, float]) -> Decimal:
        """``quantities`` priced by themselves (tiers and allowances as if nothing else were billed)."""
        return sum(
            (self.meters[k].charge(q, free_tier=self.free_tier) for k, q in quantities.items()), Decimal(0)
        )


def _comparisons(run: _Run) -> list[Comparison]:
    traffic, usage = run.traffic, run.usage
    found = []
    for api, requests in traffic.api_requests.items():
        if api.type != "AWS::ApiGateway::RestApi":
            continue
        found.append(
            Comparison(
                "REST API against an HTTP API",
                construct_path(api),
                run.price_alone({"apigateway.rest_requests": requests}),
                run.price_alone({"apigateway.http_requests": requests}),
                f"{requests:,.0f} requests; an HTTP API has no request validation, usage plans or API keys, "
                "which this API uses",
            )
        )
    for circuit in traffic.circuits:
        ours = {
            "dynamodb.read_request_units": breaker_read_units(circuit),
            "dynamodb.write_request_units": breaker_writes(circuit, usage),
        }
        naive = {"dynamodb.read_request_units": circuit.calls, "dynamodb.write_request_units": circuit.calls}
        found.append(
            Comparison(
                f"breaker '{circuit.circuit_id}': cached reads against a read and a write per call",
                construct_path(circuit.function),
                run.price_alone(ours),
                run.price_alone(naive),
                f"{circuit.calls:,.0f} calls by {circuit.containers:g} containers; "
                f"{breaker_reads(circuit):,.0f} reads (one per container per {circuit.cache_ttl:g} s"
                + (", of a copy: half a read unit each)" if circuit.fleet else ")"),
            )
        )
    found.extend(_pause_savings(run))
    return found


def _pause_savings(run: _Run) -> list[Comparison]:
    templates, traffic, usage = run.templates, run.traffic, run.usage
    found = []
    open_seconds = min(usage.circuit_open_hours * 3600, MONTH_SECONDS)
    for mapping in sqs_mappings(templates):
        if (
            mapping.mapping.logical_id not in traffic.paused_mappings
            or mapping.queue is None
            or not mapping.function
        ):
            continue
        batch = float(mapping.mapping.props.get("BatchSize", SQS_DEFAULT_BATCH_SIZE))
        visibility = float(
            mapping.queue.props.get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY_TIMEOUT_SECONDS)
        )
        redrive = mapping.queue.props.get("RedrivePolicy") or {}
        max_receives = float(redrive.get("maxReceiveCount", 10)) if isinstance(redrive, dict) else 10.0
        arriving = traffic.messages.get(mapping.function, 0.0) * open_seconds / MONTH_SECONDS
        receives = arriving * min(max_receives, max(1.0, open_seconds / visibility)) / batch
        idle = pollers(mapping.mapping) * open_seconds / LONG_POLL_SECONDS
        props = mapping.function.props
        arch = (props.get("Architectures") or ["x86_64"])[0]
        memory_gb = float(props.get("MemorySize", LAMBDA_DEFAULT_MEMORY_MB)) / 1024
        gb_s = receives * REJECTED_CALL_SECONDS * memory_gb
        unpaused = {
            queue_meter(mapping.queue): receives + idle,
            "lambda.requests": receives,
            f"lambda.gb_seconds.{arch}": gb_s,
        }
        found.append(
            Comparison(
                "pausing the consumer while its circuit is open",
                construct_path(mapping.mapping),
                Decimal(0),
                run.price_alone(unpaused),
                f"{usage.circuit_open_hours:g} h open a month: {receives + idle:,.0f} receives and "
                f"{receives:,.0f} failing invocations avoided; without the pause, messages could exhaust "
                f"{max_receives:g} receives and reach the DLQ",
            )
        )
    return found


def _notes(templates: Templates, free_tier: str, used: Iterable[Meter]) -> list[str]:
    regions = {
        str(r.props.get("Region"))
        for r in templates.of_type("AWS::CDK::Metadata")
        if isinstance(r.props.get("Region"), str)
    } | {stack.region for stack in templates.stacks.values() if stack.region}
    notes = ["Prices are us-east-1 list prices; data transfer to viewers uses North America/Europe rates."]
    if regions - {REGION}:
        notes.append(f"Some stacks are in {sorted(regions - {REGION})}; their prices may differ.")
    if free_tier == "all":
        notes.append(TWELVE_MONTH_CAVEAT)
    used = list(used)
    marked = sorted({MARKS[m.checked] for m in used if m.checked in MARKS})
    notes += [MARK_MEANINGS[mark] for mark in marked]
    by_note: dict[str, list[str]] = defaultdict(list)
    for meter in used:
        if meter.note:
            by_note[meter.note].append(meter.key)
    notes += [f"{', '.join(keys)}: {note}." for note, keys in by_note.items()]
    return notes


def scaled_usage(usage: Usage, viewer_requests: float) -> Usage:
    """``usage`` at another traffic level: orders and users grow in proportion to viewer requests."""
    factor = viewer_requests / usage.viewer_requests if usage.viewer_requests else 0.0
    users = usage.monthly_active_users
    return replace(
        usage,
        viewer_requests=viewer_requests,
        orders=usage.orders * factor,
        monthly_active_users={k: v * factor for k, v in users.items()}
        if isinstance(users, Mapping)
        else users * factor,
    )
