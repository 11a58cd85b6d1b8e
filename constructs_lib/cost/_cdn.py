"""What the CDN changes: the origin's cost with and without it, and the edge's cost under each way
CloudFront sells it (pay-as-you-go with and without its perpetual free allowance, and each flat-rate
plan the traffic fits), with the same protection on both sides where the origin can take it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from .._core.limits import LAMBDA_DEFAULT_MEMORY_MB
from ..checks._lambda import function_target
from ..checks._model import Resource, Templates
from ._prices import PLANS, Meter, Plan, cents, usd_text
from ._traffic import KB_PER_GB, Traffic
from ._usage import Usage
from ._volumes import construct_path

DISTRIBUTION = "AWS::CloudFront::Distribution"
WEB_ACL = "AWS::WAFv2::WebACL"
EDGE_TYPES = (DISTRIBUTION, WEB_ACL)
#: What a flat-rate plan covers: CloudFront's requests, transfer and Functions, and the web ACL.
PLAN_COVERS = ("cloudfront.", "waf.")
#: Origins that cannot take a web ACL of their own.
ORIGIN_NAMES = {
    "AWS::S3::Bucket": "S3 bucket",
    "AWS::Lambda::Url": "function URL",
    "AWS::ApiGatewayV2::Api": "HTTP API",
}
PAY_AS_YOU_GO = "pay-as-you-go"
WITH_ALLOWANCE = "pay-as-you-go with the perpetual free allowance"


@dataclass(frozen=True)
class EdgeOption:
    """The edge's monthly cost under one way of buying CloudFront (None where the traffic does not fit),
    and the origin's with and without the CDN priced under the same free-tier mode."""

    name: str
    edge_usd: Decimal | None
    detail: str
    origin_usd: Decimal = Decimal(0)
    origin_without_usd: Decimal = Decimal(0)
    #: The free-tier mode both sides are priced in: ``none``, ``always`` or ``all``.
    free_tier: str = "none"


@dataclass(frozen=True)
class DistributionLoad:
    """One distribution's month: what a flat-rate plan must cover."""

    path: str
    requests: float
    gb: float


@dataclass(frozen=True)
class CdnSavings:
    viewer_requests: float
    origin_requests: float
    origin_requests_avoided: float
    origin_monthly_usd: Decimal
    origin_monthly_usd_without_cdn: Decimal
    #: The edge (CloudFront and its web ACL) as this report prices it.
    cdn_monthly_usd: Decimal
    #: Pay-as-you-go without and with the perpetual free allowance, then each flat-rate plan.
    options: tuple[EdgeOption, ...] = ()
    #: What protects the origins without the CDN.
    protection: str = ""
    transfer_gb: float = 0.0

    @property
    def net_savings_usd(self) -> Decimal:
        return self.origin_monthly_usd_without_cdn - self.origin_monthly_usd - self.cdn_monthly_usd

    def net_under(self, option: EdgeOption) -> Decimal | None:
        """What the CDN saves under ``option``: both sides priced in the option's free-tier mode."""
        if option.edge_usd is None:
            return None
        return option.origin_without_usd - option.origin_usd - option.edge_usd

    @property
    def cheapest_plan(self) -> EdgeOption | None:
        plans = [o for o in self.options[2:] if o.edge_usd is not None]
        return min(plans, key=lambda o: o.edge_usd or Decimal(0)) if plans else None

    @property
    def verdict(self) -> str:
        """One sentence, naming the pricing assumption that decides whether the CDN pays for itself."""
        nets = [(o, n) for o in self.options if (n := self.net_under(o)) is not None]
        if not nets:
            return _saving_sentence(self.net_savings_usd, "at this report's prices")
        list_net = self.net_under(self.options[0]) or Decimal(0)
        best, best_net = max(nets, key=lambda item: item[1])
        if list_net >= 0:
            more = f", and ${cents(best_net):,} with {_named(best)}" if best_net > list_net else ""
            return f"The CDN saves ${cents(list_net):,} a month at pay-as-you-go list prices{more}."
        if best_net < 0:
            return (
                f"At this traffic the CDN costs more than it saves under every way CloudFront is sold: "
                f"${cents(-list_net):,} a month more at pay-as-you-go list prices, ${cents(-best_net):,} "
                f"with {_named(best)}."
            )
        return (
            f"Whether the CDN pays for itself depends on how CloudFront is bought: at pay-as-you-go list "
            f"prices it costs ${cents(-list_net):,} a month more than it saves, but with {_named(best)} it "
            f"saves ${cents(best_net):,}."
        )


def cdn_section(
    templates: Templates,
    traffic: Traffic,
    edge_charges: Mapping[str, float],
    usage: Usage,
    meters: Mapping[str, Meter],
    free_tier: str,
) -> CdnSavings | None:
    """The CDN section, from the edge resources' meter quantities (``edge_charges``)."""
    if not traffic.behaviors:
        return None
    with_cdn: dict[str, float] = defaultdict(float)
    without: dict[str, float] = defaultdict(float)
    for behavior in traffic.behaviors:
        for target in behavior.targets:
            _origin_quantities(templates, target, behavior.origin_requests, usage, with_cdn)
            _origin_quantities(templates, target, behavior.viewer_requests, usage, without)
        without["datatransfer.internet_out"] += behavior.viewer_requests * behavior.response_kb / KB_PER_GB
    protection = _protect(templates, traffic, without)
    viewers = sum(b.viewer_requests for b in traffic.behaviors)
    origin = sum(b.origin_requests for b in traffic.behaviors)
    gb = edge_charges.get("cloudfront.data_transfer_out", 0.0)

    def price(quantities: Mapping[str, float], mode: str = free_tier) -> Decimal:
        return sum((meters[k].charge(q, free_tier=mode) for k, q in quantities.items()), Decimal(0))

    def option(name: str, mode: str, edge: Decimal | None, detail: str) -> EdgeOption:
        return EdgeOption(name, edge, detail, price(with_cdn, mode), price(without, mode), mode)

    options = [
        option(PAY_AS_YOU_GO, "none", price(edge_charges, "none"), "list prices, no free allowance"),
        option(
            WITH_ALLOWANCE, "always", price(edge_charges, "always"), "1 TB, 10 M requests, 2 M functions free"
        ),
    ]
    uncovered = price({k: q for k, q in edge_charges.items() if not k.startswith(PLAN_COVERS)})
    for name, edge, detail in _plan_options(_loads(traffic), uncovered):
        options.append(option(name, free_tier, edge, detail))
    return CdnSavings(
        viewer_requests=viewers,
        origin_requests=origin,
        origin_requests_avoided=viewers - origin,
        origin_monthly_usd=price(with_cdn),
        origin_monthly_usd_without_cdn=price(without),
        cdn_monthly_usd=price(edge_charges),
        options=tuple(options),
        protection=protection,
        transfer_gb=gb,
    )


def _loads(traffic: Traffic) -> list[DistributionLoad]:
    """Each distribution's viewer requests and GB to viewers."""
    found: dict[Resource, tuple[float, float]] = {}
    for behavior in traffic.behaviors:
        requests, gb = found.get(behavior.behavior.distribution, (0.0, 0.0))
        found[behavior.behavior.distribution] = (
            requests + behavior.viewer_requests,
            gb + behavior.viewer_requests * behavior.response_kb / KB_PER_GB,
        )
    return [DistributionLoad(construct_path(d), r, g) for d, (r, g) in found.items()]


def edge_quantities(charges: Iterable[tuple[Resource, str, float]]) -> dict[str, float]:
    """Meter quantities of the edge: the distributions and the web ACLs that protect them."""
    found: dict[str, float] = defaultdict(float)
    for resource, meter, quantity in charges:
        if resource.type == DISTRIBUTION or (
            resource.type == WEB_ACL and resource.props.get("Scope") == "CLOUDFRONT"
        ):
            found[meter] += quantity
    return dict(found)


#: The option that puts each distribution on the plan that suits it (with several distributions).
EACH_ON_ITS_PLAN = "each distribution on its cheapest plan"


def _plan_options(loads: list[DistributionLoad], extra: Decimal) -> list[tuple[str, Decimal | None, str]]:
    """Each plan (Free, Pro, Business, Premium at the cheapest of its usage levels that fits every
    distribution), and, with several distributions, each on the cheapest plan that fits it."""
    options: dict[str, tuple[str, Decimal | None, str]] = {}
    for plan in PLANS:
        family = plan.name.split(" (")[0]
        option = _plan_option(plan, loads, extra)
        if family not in options or (options[family][1] is None and option[1] is not None):
            options[family] = option
    found = list(options.values())
    if len(loads) > 1:
        found.append(_each_on_its_plan(loads, extra))
    return found


def _plan_option(
    plan: Plan, loads: list[DistributionLoad], extra: Decimal
) -> tuple[str, Decimal | None, str]:
    misfits = [load for load in loads if not plan.fits(load.requests, load.gb)]
    if misfits:
        load = max(misfits, key=lambda m: m.requests)
        return (
            plan.name,
            None,
            f"does not fit: {load.path} has {load.requests:,.0f} requests and {load.gb:,.0f} GB, the plan "
            f"covers {plan.requests:,.0f} and {plan.transfer_gb:,.0f} GB a distribution",
        )
    total = plan.monthly_usd * len(loads) + extra
    detail = f"{usd_text(plan.monthly_usd)} a distribution a month" + (
        f" ({len(loads)} distributions)" if len(loads) > 1 else ""
    )
    return plan.name, total, detail + (f", plus {usd_text(extra)} the plan does not cover" if extra else "")


def _each_on_its_plan(loads: list[DistributionLoad], extra: Decimal) -> tuple[str, Decimal | None, str]:
    chosen = []
    for load in loads:
        fitting = [p for p in PLANS if p.fits(load.requests, load.gb)]
        if not fitting:
            return (
                EACH_ON_ITS_PLAN,
                None,
                f"does not fit: no plan covers {load.path}'s {load.requests:,.0f} requests",
            )
        chosen.append((load.path, min(fitting, key=lambda p: p.monthly_usd)))
    total = sum((plan.monthly_usd for _, plan in chosen), Decimal(0)) + extra
    detail = ", ".join(f"{path} on {plan.name}" for path, plan in chosen)
    return EACH_ON_ITS_PLAN, total, detail + (f", plus {usd_text(extra)} no plan covers" if extra else "")


def _protect(templates: Templates, traffic: Traffic, without: dict[str, float]) -> str:
    """Price, on the no-CDN side, the regional web ACL that the origins could take in place of the
    distribution's: REST APIs can; buckets, function URLs and HTTP APIs cannot."""
    acls = {
        acl
        for b in traffic.behaviors
        for acl in templates.references(
            b.behavior.distribution.stack,
            b.behavior.distribution.props.get("DistributionConfig", {}).get("WebACLId"),
            WEB_ACL,
        )
    }
    if not acls:
        return "Neither side has a web ACL: the distribution has none."
    rules = max(len(acl.props.get("Rules") or []) for acl in acls)
    apis = {t for b in traffic.behaviors for t in b.targets if t.type == "AWS::ApiGateway::RestApi"}
    others = sorted(
        {ORIGIN_NAMES[t.type] for b in traffic.behaviors for t in b.targets if t.type in ORIGIN_NAMES}
    )
    if apis:
        without["waf.web_acls"] += len(apis)
        without["waf.rules"] += rules * len(apis)
        without["waf.requests"] += sum(
            b.viewer_requests for b in traffic.behaviors if any(t in apis for t in b.targets)
        )
    shielded = (
        f"a regional web ACL with the same {rules} rule{'s' if rules != 1 else ''} on each REST API "
        f"({len(apis)})"
        if apis
        else ""
    )
    bare = f"{' and '.join(others)} origins cannot take a web ACL and have none" if others else ""
    return "Without the CDN: " + "; ".join(part for part in (shielded, bare) if part) + "."


def _origin_quantities(
    templates: Templates, target: Resource, requests: float, usage: Usage, into: dict[str, float]
) -> None:
    """What ``requests`` cost at the origin ``target``, as meter quantities added to ``into``."""
    if target.type == "AWS::S3::Bucket":
        into["s3.get_requests"] += requests
    elif target.type == "AWS::ApiGateway::RestApi":
        into["apigateway.rest_requests"] += requests
    elif target.type == "AWS::ApiGatewayV2::Api":
        into["apigateway.http_requests"] += requests
    elif target.type == "AWS::Lambda::Url":
        invoked = function_target(templates, target.stack, target.props.get("TargetFunctionArn"))
        if invoked:
            props = invoked.function.props
            arch = (props.get("Architectures") or ["x86_64"])[0]
            seconds = usage.duration_of(construct_path(invoked.function)) / 1000
            into["lambda.requests"] += requests
            into[f"lambda.gb_seconds.{arch}"] += (
                requests * seconds * float(props.get("MemorySize", LAMBDA_DEFAULT_MEMORY_MB)) / 1024
            )


def _named(option: EdgeOption) -> str:
    if option.name in (PAY_AS_YOU_GO, WITH_ALLOWANCE):
        return "CloudFront's perpetual free allowance" if option.name == WITH_ALLOWANCE else "list prices"
    if option.name == EACH_ON_ITS_PLAN:
        return "each distribution on its cheapest flat-rate plan"
    return f"the {option.name} flat-rate plan"


def _saving_sentence(net: Decimal, where: str) -> str:
    if net < 0:
        return f"At this traffic the CDN costs ${cents(-net):,} a month more than it saves {where}."
    return f"The CDN saves ${cents(net):,} a month after paying for itself {where}."
