"""The construct's props and its table: checked, defaulted, and what a table must be for the runtime."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns
from constructs import Construct

from .._core import Problems, check_types, merge_props, or_default
from .._core.regions import environment_mismatch
from ..runtime._store import TTL_ATTRIBUTE
from ..runtime.breaker import DEFAULT_NAMESPACE


@dataclass(frozen=True, kw_only=True)
class TablePlan:
    """The construct's props, checked, with their defaults."""

    problems: Problems
    existing_table: dynamodb.ITable | None
    removal_policy: RemovalPolicy
    table_kwargs: dict[str, Any]
    metrics_namespace: str
    alarm_topic: sns.ITopic | None


def plan(scope: Construct, where: str, given: Mapping[str, Any], signature: Callable[..., Any]) -> TablePlan:
    """Check every prop (typed as ``signature``), resolve defaults and merge the escape hatch; raise once
    with every problem."""
    problems = Problems(f"CircuitBreaker '{where}'")
    if not check_types(problems, signature, given):
        problems.raise_if_any()  # the checks below assume the right types
    existing_table = given["existing_table"]
    table_props = given["table_props"]
    _check_table_choice(problems, scope, given)
    table_kwargs = merge_props(
        problems,
        prop_name="table_props",
        l2_class=dynamodb.Table,
        struct_class=dynamodb.TableProps,
        defaults={
            "billing_mode": dynamodb.BillingMode.PAY_PER_REQUEST,
            "encryption": dynamodb.TableEncryption.AWS_MANAGED,
            "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
        },
        user=table_props,
        required={
            "partition_key": dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            "time_to_live_attribute": TTL_ATTRIBUTE,
            # pause_while_open drives governed consumers from this stream; reading it from Lambda is free.
            "stream": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        },
        owned={"removal_policy": "removal_policy"},
        security_defaults=("encryption", "point_in_time_recovery_specification"),
    )
    namespace = or_default(given["metrics_namespace"], DEFAULT_NAMESPACE)
    problems.check(
        bool(re.fullmatch(r"[A-Za-z0-9._/#:-]{1,255}", namespace)),
        "metrics_namespace",
        namespace,
        "must be 1-255 letters, digits or . _ / # : -",
    )
    problems.raise_if_any()
    return TablePlan(
        problems=problems,
        existing_table=existing_table,
        removal_policy=or_default(given["removal_policy"], RemovalPolicy.RETAIN),
        table_kwargs=table_kwargs,
        metrics_namespace=namespace,
        alarm_topic=given["alarm_topic"],
    )


def _check_table_choice(problems: Problems, scope: Construct, given: Mapping[str, Any]) -> None:
    """An existing table is usable here, and no prop that only a created table takes is given with it."""
    existing_table, table_props = given["existing_table"], given["table_props"]
    if existing_table is not None:
        _check_existing_table(problems, existing_table)
        mismatch = environment_mismatch(existing_table, scope)
        if mismatch:
            problems.add("existing_table", existing_table.node.path, mismatch)
        if given["removal_policy"] is not None:
            problems.add(
                "removal_policy",
                given["removal_policy"],
                "only applies to a table the construct creates; existing_table keeps its own removal policy, "
                "so remove removal_policy",
            )
    if existing_table is not None and table_props:
        problems.add(
            "table_props",
            table_props,
            "existing_table is used as it is; pass one of the two, not both",
        )


def _check_existing_table(problems: Problems, table: dynamodb.ITable) -> None:
    """The runtime addresses items by a string ``id``; a table keyed otherwise turns the breaker off."""
    schema = table.schema_v2() if isinstance(table, dynamodb.Table) else None
    if schema is None:
        problems.warn(
            "breakerTableUnknown",
            f"existing_table '{table.node.path}' is imported, so its key schema cannot be checked at "
            f"synth: it must have the partition key 'id' (string) and no sort key, with TTL on "
            f"'{TTL_ATTRIBUTE}'; otherwise every state read fails and the breaker fails open (the "
            "StateStoreErrors alarm fires)",
        )
        return
    if _ttl_attribute(table) != TTL_ATTRIBUTE:
        problems.warn(
            "breakerTableTtl",
            f"existing_table '{table.node.path}' has no TTL on '{TTL_ATTRIBUTE}' (TTL: "
            f"{_ttl_attribute(table) or 'none'}), so idle circuits' items are never cleaned up; set "
            f"time_to_live_attribute='{TTL_ATTRIBUTE}' on the table (the breaker never relies on TTL for "
            "state changes)",
        )
    keys = [*schema.partition_keys, *(schema.sort_keys or [])]
    if [(k.name, k.type) for k in keys] != [("id", dynamodb.AttributeType.STRING)]:
        described = " + ".join(f"{k.name} ({k.type.name})" for k in keys)
        problems.add(
            "existing_table",
            f"{table.node.path} keyed {described}",
            "the breaker's runtime reads and writes items by the partition key 'id' of type string with no "
            "sort key; give it such a table, or let the construct create one",
        )


def stream_view_type(table: dynamodb.ITable) -> str | None:
    """The stream view type of a table defined in this app (None when unknown or absent)."""
    cfn = table.node.default_child if isinstance(table, dynamodb.Table) else None
    spec = getattr(cfn, "stream_specification", None)
    view = getattr(spec, "stream_view_type", None) if spec is not None else None
    return view if isinstance(view, str) and not Token.is_unresolved(view) else None


def _ttl_attribute(table: dynamodb.ITable) -> str | None:
    cfn = table.node.default_child if isinstance(table, dynamodb.Table) else None
    spec = getattr(cfn, "time_to_live_specification", None)
    if spec is None or not getattr(spec, "enabled", False):
        return None
    name = getattr(spec, "attribute_name", None)
    return name if isinstance(name, str) else None


def encryption_is_aws_owned_or_managed(table_kwargs: Mapping[str, Any]) -> bool:
    return "encryption_key" not in table_kwargs and table_kwargs.get("encryption") in (
        None,
        dynamodb.TableEncryption.DEFAULT,
        dynamodb.TableEncryption.AWS_MANAGED,
    )
