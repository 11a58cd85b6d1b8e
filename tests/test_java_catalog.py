"""The Java catalog handler, compiled with javac and run under java, and java_code's synth-time build."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import uuid
import zipfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from apps.catalog.stack import CATALOG_PROJECT
from constructs_lib import java_code
from tests.harness import new_app

#: These tests compile the catalog with javac and run it on a JVM: end to end, so marked slow.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def classes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("catalog-classes")
    sources = sorted(str(p) for p in (CATALOG_PROJECT / "src" / "main" / "java").rglob("*.java"))
    subprocess.run(
        ["javac", "--release", "17", "-Xlint:all", "-Werror", "-d", str(out), *sources], check=True
    )
    shutil.copytree(CATALOG_PROJECT / "src" / "main" / "resources", out, dirs_exist_ok=True)
    return out


def invoke(classpath: Path, event: Any) -> dict[str, Any]:
    """Run the handler's stream entry point under java with one event, as Lambda would."""
    payload = event if isinstance(event, str) else json.dumps(event)
    result = subprocess.run(
        ["java", "-cp", str(classpath), "catalog.CatalogHandler"],
        input=payload,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    response: dict[str, Any] = json.loads(result.stdout)
    response["body"] = json.loads(response["body"])
    return response


def url_event(path: str, method: str = "GET", query: dict[str, str] | None = None) -> dict[str, Any]:
    """A Lambda function URL (payload 2.0) event."""
    return {
        "version": "2.0",
        "rawPath": path,
        "queryStringParameters": query,
        "requestContext": {"http": {"method": method, "path": path}},
    }


def proxy_event(path: str, method: str = "GET") -> dict[str, Any]:
    """An API Gateway REST proxy (payload 1.0) event."""
    return {"resource": "/{proxy+}", "path": path, "httpMethod": method, "queryStringParameters": None}


def test_found_product(classes):
    response = invoke(classes, url_event("/products/hand-grinder"))
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert response["body"] == {
        "id": "hand-grinder",
        "name": "Hand grinder",
        "category": "equipment",
        "priceCents": 8900,
        "inStock": False,
    }


def test_missing_product_is_404(classes):
    response = invoke(classes, proxy_event("/products/unicorn"))
    assert response["statusCode"] == 404
    assert response["body"] == {"message": "no product unicorn"}


@pytest.mark.parametrize(
    "event",
    [
        "this is not json",
        ["an", "array"],
        {"rawPath": "/products/x"},
        url_event("/products/Not_A_Valid_Id!"),
    ],
    ids=["not-json", "not-an-object", "no-method", "bad-id"],
)
def test_malformed_request_is_400(classes, event):
    response = invoke(classes, event)
    assert response["statusCode"] == 400
    assert response["body"]["message"]


def test_listing_filters_by_category_behind_a_path_prefix(classes):
    response = invoke(classes, url_event("/api/products", query={"category": "coffee"}))
    assert response["statusCode"] == 200
    assert response["body"]["count"] == 2
    assert {p["id"] for p in response["body"]["products"]} == {"espresso-beans", "filter-beans"}


def test_the_storefront_prices_orders_from_exactly_what_the_catalog_serves(classes):
    """One source of truth: the order consumer's catalog and the order model's products are the ones the
    Java function serves, prices and stock included."""
    from apps.storefront.orders import ORDER_SCHEMA, PRODUCTS, consumer_catalog

    served = invoke(classes, url_event("/products"))["body"]["products"]
    assert json.loads(consumer_catalog(PRODUCTS)) == {
        p["id"]: {"priceCents": p["priceCents"], "inStock": p["inStock"]} for p in served
    }
    # Only what is in stock can be ordered: the model refuses the rest with its hint (400).
    assert ORDER_SCHEMA["properties"]["items"]["items"]["properties"]["sku"]["enum"] == [
        p["id"] for p in served if p["inStock"]
    ]
    assert any(not p["inStock"] for p in served), "the catalog has a product out of stock to refuse"


def test_other_methods_are_405(classes):
    assert invoke(classes, proxy_event("/products/green-tea", method="DELETE"))["statusCode"] == 405


def test_each_response_carries_a_fresh_request_id(classes):
    ids = {invoke(classes, url_event("/products/green-tea"))["headers"]["x-request-id"] for _ in range(2)}
    assert len(ids) == 2
    for value in ids:
        uuid.UUID(value)


def test_nothing_unique_is_created_during_static_initialisation():
    """Values made at init would be shared by every environment restored from the snapshot."""
    source = (CATALOG_PROJECT / "src" / "main" / "java" / "catalog" / "CatalogHandler.java").read_text()
    static_block = source.split("static {", 1)[1].split("\n    }\n", 1)[0]
    for forbidden in ("UUID", "Random", "currentTimeMillis", "nanoTime", "Instant.now"):
        assert forbidden not in static_block
    assert "UUID.randomUUID()" in source.split("static String handle(", 1)[1]


# --------------------------------------------------------------------------------------- java_code


def synth_code(tmp_path: Path, project: Path) -> Path:
    """Synthesize a function with java_code(project) and return the jar that bundling produced."""
    app = new_app(outdir=tmp_path / "cdk.out")
    stack = cdk.Stack(app, "Java")
    lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.JAVA_21,
        handler="catalog.CatalogHandler::handleRequest",
        code=java_code(project),
    )
    app.synth()
    jars = sorted((tmp_path / "cdk.out").glob("asset.*.jar"))
    assert len(jars) == 1, sorted(p.name for p in (tmp_path / "cdk.out").iterdir())
    return jars[0]


def test_java_code_builds_a_jar_that_runs(tmp_path):
    jar = synth_code(tmp_path, CATALOG_PROJECT)
    names = zipfile.ZipFile(jar).namelist()
    assert "catalog/CatalogHandler.class" in names
    assert "catalog.json" in names
    assert invoke(jar, url_event("/products/green-tea"))["statusCode"] == 200


def test_java_code_is_reproducible(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSTRUCTS_LIB_CACHE", str(tmp_path / "cache-a"))
    first = synth_code(tmp_path / "a", CATALOG_PROJECT)
    monkeypatch.setenv("CONSTRUCTS_LIB_CACHE", str(tmp_path / "cache-b"))  # built again, not reused
    second = synth_code(tmp_path / "b", CATALOG_PROJECT)
    assert first.name == second.name, "the asset hash depends on the sources only"
    assert first.read_bytes() == second.read_bytes()


def test_an_unchanged_project_is_not_compiled_again(tmp_path, monkeypatch):
    """The jar is kept by a hash of the sources, the JDK and the release: javac runs once per change."""
    import constructs_lib.java as java_build

    monkeypatch.setenv("CONSTRUCTS_LIB_CACHE", str(tmp_path / "cache"))
    project = tmp_path / "catalog"
    shutil.copytree(CATALOG_PROJECT, project)
    compiled: list[str] = []
    real_run = java_build._run

    def counting(command: list[str], cwd: Path | None = None) -> None:
        compiled.extend(command[:1])
        real_run(command, cwd)

    monkeypatch.setattr(java_build, "_run", counting)
    first = synth_code(tmp_path / "a", project)
    second = synth_code(tmp_path / "b", project)
    assert compiled.count("javac") == 1
    assert first.read_bytes() == second.read_bytes()
    handler = project / "src" / "main" / "java" / "catalog" / "CatalogHandler.java"
    handler.write_text(handler.read_text() + "\n// changed\n")
    synth_code(tmp_path / "c", project)
    assert compiled.count("javac") == 2, "a changed source is compiled again"


def test_java_code_uses_maven_when_the_project_has_a_pom(tmp_path, monkeypatch):
    project = tmp_path / "svc"
    project.mkdir()
    (project / "pom.xml").write_text("<project/>")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_mvn = bin_dir / "mvn"
    fake_mvn.write_text(
        "#!/bin/sh\nmkdir -p target\ncd target && echo built-by-maven > marker.txt && "
        "jar --create --file svc-1.0.jar marker.txt\n"
    )
    fake_mvn.chmod(fake_mvn.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    jar = synth_code(tmp_path, project)
    assert zipfile.ZipFile(jar).read("marker.txt").decode().strip() == "built-by-maven"


def test_java_code_names_the_missing_jdk(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RuntimeError, match="'javac' was not found on PATH; install a JDK 17"):
        synth_code(tmp_path, CATALOG_PROJECT)


def test_java_code_rejects_a_missing_project(tmp_path):
    with pytest.raises(RuntimeError, match="does not exist"):
        java_code(tmp_path / "nowhere")
