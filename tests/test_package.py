"""The package a team installs: built with ``python -m build``, installed into a fresh virtual environment.

The sdist and the wheel are built the way a release is (the wheel from the sdist), without network:
``--no-isolation`` uses the build tools of the project's venv. The fresh venv gets the wheel only; for the
synth step it borrows aws-cdk-lib, jsii and cdk-nag from the project's venv through a ``.pth`` line (pip
cannot download them offline), which never makes the source tree importable.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import constructs_lib
from tests.harness import REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), str(REPO_ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return outdir


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    [found] = dist.glob("constructs_lib-*-py3-none-any.whl")
    return found


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A new venv with the wheel installed, and nothing else."""
    root = tmp_path_factory.mktemp("fresh") / "venv"
    venv.EnvBuilder(with_pip=False).create(root)
    python = root / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
         "--no-index", "--disable-pip-version-check", str(wheel)],
        check=True,
        timeout=300,
    )  # fmt: skip
    return root


def run_in(root: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(root / "bin" / "python"), "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_build_makes_an_sdist_and_a_wheel_of_the_one_version(dist):
    version = constructs_lib.__version__
    assert sorted(p.name for p in dist.iterdir()) == [
        f"constructs_lib-{version}-py3-none-any.whl",
        f"constructs_lib-{version}.tar.gz",
    ]
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject, "the version is defined once, in constructs_lib/__init__.py"
    assert not re.search(r"^version\s*=\s*\"", pyproject, re.MULTILINE), "no second, literal version"
    with tarfile.open(dist / f"constructs_lib-{version}.tar.gz") as sdist:
        top = {Path(name).parts[1] for name in sdist.getnames() if len(Path(name).parts) > 1}
    assert {"constructs_lib", "LICENSE", "README.md", "pyproject.toml"} <= top
    assert not top & {"tests", "apps", "benchmarks"}


def test_the_wheel_holds_the_library_its_runtime_and_license_and_nothing_else(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    version = constructs_lib.__version__
    assert {n.split("/")[0] for n in names} == {"constructs_lib", f"constructs_lib-{version}.dist-info"}
    for expected in (
        "constructs_lib/py.typed",
        "constructs_lib/runtime/breaker.py",
        "constructs_lib/runtime/governor.py",
        "constructs_lib/checks/rules/sqs_visibility_timeout.py",
        "constructs_lib/testing/__init__.py",
        "constructs_lib/testing/velocity.py",
        "constructs_lib/cost/__main__.py",
        "constructs_lib/cost/_prices.py",
        f"constructs_lib-{version}.dist-info/licenses/LICENSE",
    ):
        assert expected in names
    assert not [n for n in names if re.search(r"(^|/)(tests?|apps|benchmarks)/|__pycache__", n)]


def test_the_package_page_has_no_links_into_the_repository_tree(wheel):
    version = constructs_lib.__version__
    metadata = Parser().parsestr(
        zipfile.ZipFile(wheel).read(f"constructs_lib-{version}.dist-info/METADATA").decode()
    )
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Version"] == version
    readme = metadata.get_payload()
    assert readme.startswith("# constructs_lib")
    links = re.findall(r"(!?)\[[^\]]*\]\(([^)]+)\)", readme)
    assert links, "the README has links (anchors or absolute)"
    # Text links must work on the package page too. A screenshot is an image in docs/ that the
    # repository's page shows; the package is installed from a tag or a wheel, never browsed on an index.
    relative = [link for image, link in links if not link.startswith(("https://", "http://", "#"))]
    assert [link for link in relative if not link.startswith("docs/")] == []
    assert all(image for image, link in links if link.startswith("docs/")), "only images point into docs/"
    assert all((REPO_ROOT / link).is_file() for link in relative)


def test_the_runtime_imports_from_the_wheel_without_aws_cdk(fresh_venv, tmp_path):
    result = run_in(
        fresh_venv,
        """
        import importlib.util, json
        import constructs_lib.runtime as runtime
        from constructs_lib.runtime import CircuitBreaker, BreakerSettings
        print(json.dumps({
            "file": runtime.__file__,
            "aws_cdk": importlib.util.find_spec("aws_cdk") is not None,
            "settings": BreakerSettings().failure_threshold,
        }))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["file"].startswith(str(fresh_venv)), "imported from the installed wheel"
    assert found["aws_cdk"] is False, "the fresh venv has no aws_cdk: the runtime needs none"
    assert found["settings"] > 0


def test_an_app_of_every_construct_synthesizes_from_the_installed_package(fresh_venv, tmp_path):
    """The wheel's constructs, breaker layer and policy pack, with the project's aws-cdk-lib and jsii."""
    site = Path(sysconfig.get_paths(vars={"base": str(fresh_venv), "platbase": str(fresh_venv)})["purelib"])
    (site / "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    outdir = tmp_path / "cdk.out"
    result = run_in(
        fresh_venv,
        f"""
        import json
        import aws_cdk as cdk
        from aws_cdk import aws_apigateway as apigateway, aws_cognito as cognito, aws_lambda as lambda_
        import constructs_lib
        from constructs_lib import (
            ApiAuthorization, CdnFrontedOrigin, CdnOrigin, CircuitBreaker, QueueBufferedIngest,
            SnapStartFunction,
        )
        from constructs_lib.testing import checked_app

        app = checked_app(outdir={str(outdir)!r})
        stack = cdk.Stack(app, "Installed", env=cdk.Environment(region="us-east-1"))
        consumer = lambda_.Function(
            stack, "Consumer", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\\n    return {{}}\\n"),
        )
        users = cognito.UserPool(stack, "Users")
        users.add_client("Web")  # without a client no caller gets a token (DeliveryCognitoAuthorizers)
        authorizer = apigateway.CognitoUserPoolsAuthorizer(stack, "Auth", cognito_user_pools=[users])
        ingest = QueueBufferedIngest(
            stack, "Orders", consumer=consumer,
            authorization=ApiAuthorization.authorizer_of(authorizer),
        )
        breaker = CircuitBreaker(stack, "Breaker")
        breaker.attach(consumer, circuit_id="payments")
        catalog = SnapStartFunction(
            stack, "Catalog", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\\n    return {{}}\\n"),
        )
        CdnFrontedOrigin(
            stack, "Cdn", default_origin=CdnOrigin.function_url(catalog.alias),
            additional_behaviors={{"/messages*": CdnOrigin.rest_api(ingest.api)}},
        )
        try:
            app.synth()
        except RuntimeError as exc:
            if "ValidationFailed" not in str(exc):
                raise
        print(json.dumps({{"file": constructs_lib.__file__}}))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1])["file"].startswith(str(fresh_venv))
    template = json.loads((outdir / "Installed.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {
        "AWS::ApiGateway::RestApi",
        "AWS::SQS::Queue",
        "AWS::DynamoDB::Table",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::Alias",
        "AWS::CloudFront::Distribution",
    } <= types
    # The breaker layer was copied from the installed package's own runtime files.
    installed = next(fresh_venv.glob("lib/python*/site-packages/constructs_lib/runtime/breaker.py"))
    [copied] = outdir.glob("asset.*/python/constructs_lib/runtime/breaker.py")
    assert copied.read_bytes() == installed.read_bytes()
    # All three packs ran; the library's own constructs leave none of the ServerlessPatterns findings.
    reports = json.loads((outdir / "validation-report.json").read_text())["pluginReports"]
    assert {r["pluginName"] for r in reports} >= {"AwsSolutions", "Serverless"}
    patterns = [r for r in reports if r["pluginName"] == "ServerlessPatterns"]
    assert [v["ruleName"] for r in patterns for v in r["violations"]] == []
