"""Every Python example on the documentation site runs, in the setting its page describes.

Each block runs in a fresh stack whose namespace holds the names the page's prose assumes (``self`` is the
stack; ``fn``, ``consumer``, ``order_consumer`` and ``payments_fn`` are functions; ``site_bucket`` a bucket;
``customer_authorizer`` a Cognito authorizer; ``ingest`` a ``QueueBufferedIngest``). A construct example
must then synthesize with no warning of this library: a documented setup passes untouched. The breaker's
runtime example runs against moto with the environment its infrastructure example's ``attach()`` wrote.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from aws_cdk.assertions import Annotations, Match, Template

import constructs_lib
from tests import breaker_support
from tests.conftest import make_function
from tests.harness import REPO_ROOT, new_app

DOCS = REPO_ROOT / "docs"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def examples() -> list[tuple[str, int, str]]:
    """(page, index on the page, code) of every Python block on the site's pages."""
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        for index, match in enumerate(BLOCK.finditer(page.read_text())):
            found.append((str(page.relative_to(DOCS)), index, match.group(1)))
    return found


EXAMPLES = {f"{page}#{index}": code for page, index, code in examples()}
#: Blocks run by a test of their own below, in the setting they need.
RUN_APART = {
    "index.md#0",  # a whole app: run in a directory of its own
    "patterns/circuit-breaker.md#0",  # infrastructure, then
    "patterns/circuit-breaker.md#1",  # the runtime against moto, with what attach() wrote
    "testing.md#1",  # test functions: defined, then called
}


def namespace(stack: cdk.Stack, code: str) -> dict[str, Any]:
    """The library's public names, and the names ``code`` uses of those the prose assumes, in ``stack``."""
    factories: dict[str, Any] = {
        "fn": lambda: make_function(stack, "Fn"),
        "consumer": lambda: make_function(stack, "Consumer"),
        "order_consumer": lambda: make_function(stack, "OrderConsumer"),
        "payments_fn": lambda: make_function(stack, "Payments"),
        "site_bucket": lambda: s3.Bucket(stack, "Site"),
        "bucket": lambda: s3.Bucket(stack, "Artifacts"),
        "customer_authorizer": lambda: apigateway.CognitoUserPoolsAuthorizer(
            stack, "CustomerAuthorizer", cognito_user_pools=[cognito.UserPool(stack, "Customers")]
        ),
        "ingest": lambda: constructs_lib.QueueBufferedIngest(
            stack, "Ingest", consumer=make_function(stack, "Ingested")
        ),
    }
    names: dict[str, Any] = {name: getattr(constructs_lib, name) for name in constructs_lib.__all__}
    names.update(self=stack, stack=stack, app=stack.node.root, Template=Template)
    ssm.StringParameter(stack, "Stage", string_value="prod")  # every stack synthesizes, even one left empty
    for name, make in factories.items():
        if re.search(rf"\b{name}\b", code):
            names[name] = make()
    return names


def docs_stack() -> cdk.Stack:
    """A stack as the pages' users write theirs: an explicit account and region (us-east-1, where
    CloudFront publishes its metrics)."""
    return cdk.Stack(new_app(), "Docs", env=cdk.Environment(account="111111111111", region="us-east-1"))


def library_warnings(stack: cdk.Stack) -> list[str]:
    found = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("constructs_lib:"))
    return [str(entry.entry.data) for entry in found]


def test_the_site_has_the_examples_this_module_knows():
    assert len(EXAMPLES) >= 14
    assert set(EXAMPLES) >= RUN_APART


@pytest.mark.parametrize("key", sorted(set(EXAMPLES) - RUN_APART))
def test_each_construct_example_runs_and_synthesizes_with_no_warning(key):
    stack = docs_stack()
    names = namespace(stack, EXAMPLES[key])
    if key.startswith("testing.md"):  # the velocity example reads a stack with a caller on each message
        names["stack"] = _ingest_with_caller_identity()
    exec(EXAMPLES[key], names)
    Template.from_stack(stack)  # synthesizes: every validation of the app runs
    assert library_warnings(stack) == [], key


def _ingest_with_caller_identity() -> cdk.Stack:
    stack = docs_stack()
    names = namespace(stack, "order_consumer customer_authorizer")
    constructs_lib.QueueBufferedIngest(
        stack,
        "Orders",
        consumer=names["order_consumer"],
        authorization=constructs_lib.ApiAuthorization.authorizer_of(names["customer_authorizer"]),
        caller_identity=constructs_lib.CallerIdentity(),
    )
    return stack


@pytest.mark.slow
def test_the_smallest_stack_synthesizes_as_a_whole_app(tmp_path):
    """Run as a user runs it: a program of its own, in a directory with its consumer's code."""
    (tmp_path / "consumer").mkdir()
    (tmp_path / "consumer" / "index.py").write_text("def handler(event, context):\n    return {}\n")
    (tmp_path / "app.py").write_text(EXAMPLES["index.md#0"])
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path / "cdk.out"), "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "cdk.out" / "Orders.template.json").is_file()


def test_the_breakers_two_examples_work_together(aws, monkeypatch):
    """The infrastructure example's attach() writes the function's environment; the runtime example,
    given that environment, guards calls against the table (moto's)."""
    stack = docs_stack()
    names = namespace(stack, EXAMPLES["patterns/circuit-breaker.md#0"])
    exec(EXAMPLES["patterns/circuit-breaker.md#0"], names)
    template = Template.from_stack(stack)
    assert library_warnings(stack) == []
    [payments] = [
        r
        for r in template.find_resources("AWS::Lambda::Function").values()
        if "CIRCUIT_BREAKER_TABLE" in r["Properties"].get("Environment", {}).get("Variables", {})
    ]
    for name, value in payments["Properties"]["Environment"]["Variables"].items():
        if name.startswith("CIRCUIT_BREAKER_"):
            monkeypatch.setenv(name, value if isinstance(value, str) else breaker_support.TABLE)
    runtime: dict[str, Any] = {}
    exec(EXAMPLES["patterns/circuit-breaker.md#1"], runtime)
    assert runtime["charge"]({"orderId": "o-1"}) is None  # the guarded call ran: CLOSED
    assert runtime["breaker"].state.name == "CLOSED"
    assert os.environ["CIRCUIT_BREAKER_TABLE"] == breaker_support.TABLE


@pytest.mark.slow
def test_the_testing_pages_own_tests_pass(tmp_path):
    """Defined as the page writes them, then called: a clean app's policy report and a scrubbed snapshot."""
    names: dict[str, Any] = {"Template": Template}
    exec(EXAMPLES["testing.md#1"], names)

    def build_my_stacks(app: cdk.App) -> cdk.App:
        ssm.StringParameter(cdk.Stack(app, "Settings"), "Stage", string_value="prod")
        return app

    names.update(build_my_stacks=build_my_stacks, expected_acknowledgments=[])
    names["test_my_app_passes_policy"](Path(tmp_path))
    stack = docs_stack()
    ssm.StringParameter(stack, "Stage", string_value="prod")
    names["stack"] = stack
    expected = Template.from_stack(stack).to_json()
    names["test_my_stack_snapshot"](expected)
