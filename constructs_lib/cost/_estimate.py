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
from ._cdn import CdnSavings, cdn_section, edge_quantities
from ._model import Charge, Model
from ._prices import (
    METERS,
    PLANS,
    PRICES_AS_OF,
    REGION,
    Meter,
    cents,
    free_tier_mode,
    plan_rows,
    price_rows,
)
from ._traffic import (
    LONG_POLL_SECONDS,
    Traffic,
    breaker_reads,
    breaker_writes,
    derive,
    pollers,
    queue_meter,
)
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
    prices_as_of: str = PRICES_AS_OF
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
        return _report_json(self)


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
            it must name one.
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
    return CostReport(
        lines=monthly,
        free=[_listed(resource, why) for resource, why in priced.free],
        not_priced=[_listed(resource, why) for resource, why in priced.not_priced],
        cdn=cdn_section(templates, traffic, edge, usage, meters, mode),
        comparisons=_comparisons(run),
        usage=usage,
        free_tier=mode,
        notes=_notes(templates),
        prices=price_rows(meters[key] for key in sorted({charge.meter for charge in priced.charges})),
        one_time=once,
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
        share = Decimal(repr(charge.quantity / total)) if total else Decimal(0)
        monthly = costs[charge.meter] * share
        published = meter.price_at(max(0.0, total - allowances[charge.meter]))
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
                effective_unit_price_usd=monthly / Decimal(repr(charge.quantity))
                if charge.quantity
                else Decimal(0),
            )
        )
    return lines


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
            "dynamodb.read_request_units": breaker_reads(circuit),
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
                f"{breaker_reads(circuit):,.0f} reads (one per container per {circuit.cache_ttl:g} s)",
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


def _notes(templates: Templates) -> list[str]:
    regions = {
        str(r.props.get("Region"))
        for r in templates.of_type("AWS::CDK::Metadata")
        if isinstance(r.props.get("Region"), str)
    } | {stack.region for stack in templates.stacks.values() if stack.region}
    notes = ["Prices are us-east-1 list prices; data transfer to viewers uses North America/Europe rates."]
    if regions - {REGION}:
        notes.append(f"Some stacks are in {sorted(regions - {REGION})}; their prices may differ.")
    return notes


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
                "detail": o.detail,
            }
            for o in cdn.options
        ],
        "protection": cdn.protection,
        "verdict": cdn.verdict,
        "plans": plan_rows(PLANS),
    }


def _report_json(report: CostReport) -> dict[str, Any]:
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
        "prices": report.prices,
        "region": report.region,
        "free_tier": report.free_tier,
        "usage": _plain(vars(report.usage)),
        "notes": report.notes,
    }


def _plain(value: Any) -> Any:
    """Mappings (of mappings) as dicts, for JSON."""
    return {k: _plain(v) for k, v in value.items()} if isinstance(value, Mapping) else value


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
