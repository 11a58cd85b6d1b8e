"""The Java catalog handler on a local JVM: what SnapStart's snapshot saves, and what it does not.

A local proxy, not a Lambda measurement: SnapStart restores a snapshot taken after static initialisation,
so a restored environment skips the JVM's start and the handler's static initialisation (here: loading
and indexing the catalog, and one primed request). This measures those two on this machine, against the
first request after them and steady-state requests, with and without the ``JAVA_TOOL_OPTIONS`` that
``SnapStartFunction`` sets for Java (tiered compilation stopped at C1). Lambda's restore time, its CPU
share and network are not modelled.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from constructs_lib.snapstart import DEFAULT_JAVA_TOOL_OPTIONS

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "apps" / "java" / "catalog" / "src" / "main"
BENCH_SOURCE = Path(__file__).resolve().parent / "java" / "CatalogBench.java"


def compile_classes(outdir: Path) -> None:
    sources = [str(p) for p in sorted((CATALOG / "java").rglob("*.java"))] + [str(BENCH_SOURCE)]
    subprocess.run(["javac", "--release", "17", "-d", str(outdir), *sources], check=True)
    shutil.copytree(CATALOG / "resources", outdir, dirs_exist_ok=True)


def run_once(classes: Path, java_tool_options: str | None, steady_requests: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "JAVA_TOOL_OPTIONS"}
    if java_tool_options:
        env["JAVA_TOOL_OPTIONS"] = java_tool_options
    launched_ms = time.time() * 1000
    result = subprocess.run(
        ["java", "-cp", str(classes), "CatalogBench", str(steady_requests)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    line = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "jvm_start_ms": line["mainEnteredMs"] - launched_ms,
        "static_init_ms": line["staticInitNs"] / 1e6,
        "first_request_ms": line["firstRequestNs"] / 1e6,
        "steady_request_us": line["steadyMedianNs"] / 1e3,
    }


def measure(runs: int = 5, steady_requests: int = 2000) -> dict[str, dict[str, float]]:
    """Medians over ``runs`` JVMs, keyed by "with JAVA_TOOL_OPTIONS" / "without"."""
    with tempfile.TemporaryDirectory() as tmp:
        classes = Path(tmp)
        compile_classes(classes)
        results = {}
        for label, options in (("without", None), ("with", DEFAULT_JAVA_TOOL_OPTIONS)):
            samples = [run_once(classes, options, steady_requests) for _ in range(runs)]
            results[label] = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
    return results


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
