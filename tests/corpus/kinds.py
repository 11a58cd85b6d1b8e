"""The registry of edge kinds, and the small helpers every builder uses.

A kind builds one edge (or a few that belong together) into two scopes: ``targets`` (what is called:
queues, topics, keys, functions...) and ``sources`` (what calls: alarms, rules, mappings, APIs...). In
the environment-agnostic and explicit forms both are one stack; split, they are two stacks (references
then cross stacks); nested, two nested stacks of one parent (references cross the parent). A builder
writes the kind as a team would with aws-cdk-lib's L2 constructs, and returns how to break it: a change
a team could make by mistake (a grant left out, a permission for another service, a policy that only
denies, an AWS managed key), applied after the correct app is synthesized, so the broken twin is
synthesized from the same constructs (``app.synth(force=True)``) without building them twice. The
broken twin must be refused with ``rule``, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

Break = Callable[[], None]
Build = Callable[[Construct, Construct], Break]


@dataclass(frozen=True)
class Kind:
    name: str
    rule: str
    build: Build
    #: The two ends reference each other (a permission or policy names its source, which names its
    #: target): aws-cdk-lib refuses to split them across stacks, so the split and nested forms keep them
    #: in one stack.
    together: bool = False


KINDS: dict[str, Kind] = {}


def kind(name: str, rule: str, *, together: bool = False) -> Callable[[Build], Build]:
    """Registers a builder as the edge kind ``name``, whose broken twin gives ``rule``."""

    def register(build: Build) -> Build:
        assert name not in KINDS, name
        KINDS[name] = Kind(name, rule, build, together)
        return build

    return register


def function(scope: Construct, id: str = "Fn", **props: object) -> lambda_.Function:
    return lambda_.Function(
        scope,
        id,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        timeout=Duration.seconds(30),
        **props,  # type: ignore[arg-type]
    )


def queue(scope: Construct, id: str = "Queue", **props: object) -> sqs.Queue:
    """A queue a 30 s consumer may read (visibility 6 x 30 s)."""
    return sqs.Queue(scope, id, visibility_timeout=Duration.seconds(180), **props)  # type: ignore[arg-type]


def key(scope: Construct, id: str = "Key") -> kms.Key:
    return kms.Key(scope, id)


#: What a revoked role may still do: nothing any edge of the corpus needs.
_NOTHING = iam.PolicyStatement(actions=["logs:CreateLogGroup"], resources=["*"])


def grant_only(role: iam.IRole | None, *statements: iam.PolicyStatement) -> None:
    """Replaces every grant aws-cdk-lib wrote into the role's default policy with ``statements``."""
    assert role is not None
    policy = role.node.find_child("DefaultPolicy").node.default_child
    assert isinstance(policy, iam.CfnPolicy)
    documents = [s.to_statement_json() for s in statements or (_NOTHING,)]
    policy.add_property_override("PolicyDocument.Statement", documents)


def revoke(role: iam.IRole | None) -> None:
    """Takes back every grant aws-cdk-lib wrote into the role's default policy."""
    grant_only(role)


def override(construct: Construct, path: str, value: object) -> None:
    """An escape-hatch override of the construct's CloudFormation resource."""
    cfn = construct.node.default_child
    assert isinstance(cfn, cdk.CfnResource)
    if value is None:
        cfn.add_property_deletion_override(path)
    else:
        cfn.add_property_override(path, value)


def drop_permissions(*scopes: Construct) -> None:
    """Points every Lambda permission written under ``scopes`` at another service, so none admits the
    caller (aws-cdk-lib writes a target's permission under the function, the rule, the method or the
    bucket that calls it; resources may depend on it, so it stays)."""
    for scope in _distinct(scopes):
        for child in scope.node.find_all():
            if isinstance(child, lambda_.CfnPermission):
                child.add_property_override("Principal", "ec2.amazonaws.com")


def revoke_roles(*scopes: Construct, named: str) -> None:
    """Revokes every role under ``scopes`` whose id contains ``named`` (roles aws-cdk-lib creates)."""
    for scope in _distinct(scopes):
        for child in scope.node.find_all():
            if isinstance(child, iam.Role) and named in child.node.id:
                revoke(child)


def _distinct(scopes: tuple[Construct, ...]) -> list[Construct]:
    """The scopes, each once (a kind kept in one stack passes the same scope twice)."""
    return list({id(scope): scope for scope in scopes}.values())


def account(scope: Construct) -> str:
    return cdk.Stack.of(scope).account


def deny_only(policy: Construct) -> None:
    """Rewrites a queue, topic or bucket policy to the TLS Deny alone, as ``enforce_ssl`` writes it."""
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    override(policy, "PolicyDocument.Statement", [deny])
