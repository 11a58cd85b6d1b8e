"""Synth as a user pays for it: the whole-process CPU of a fresh app process, as ``cdk synth`` starts one.

Each run starts ``python -m apps.<app>`` (or the one-queue floor) in a new process with the CLI's
environment (``CDK_OUTDIR``, ``CDK_CONTEXT_JSON`` from cdk.json) and counts the CPU of the process and
everything it started and waited for: Python, jsii's node runtime, javac. jsii's start, the imports, the
constructs, cdk-nag, the ServerlessPatterns pack and writing the assembly are all in it. The figure per
resource is the app's median minus the floor's, over the difference in resources (nested stacks included).

``python benchmarks/synth_process.py [--runs 5] [APP ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
#: The apps measured by default: the storefront (the default app of cdk.json) against the floor.
DEFAULT_APPS = ("storefront",)


def command(app: str) -> list[str]:
    if app == "floor":
        return [sys.executable, str(HERE / "floor_app.py")]
    return [sys.executable, "-m", f"apps.{app}"]


def environment(outdir: str) -> dict[str, str]:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    path = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "CDK_OUTDIR": outdir, "CDK_CONTEXT_JSON": json.dumps(context), "PATH": path}


def resources_in(outdir: Path) -> int:
    return sum(
        len(json.loads(path.read_text()).get("Resources", {})) for path in outdir.glob("*.template.json")
    )


def run_once(app: str) -> dict[str, float]:
    """One fresh process: its CPU seconds (with its children's), wall seconds and resources."""
    with tempfile.TemporaryDirectory() as outdir:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command(app), cwd=ROOT, env=environment(outdir), capture_output=True, check=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return {"cpu_s": cpu, "wall_s": wall, "resources": resources_in(Path(outdir))}


def measure(apps: tuple[str, ...] = DEFAULT_APPS, runs: int = 5) -> dict[str, Any]:
    """Medians of ``runs`` fresh processes per app (runs take turns, so drift hits every app alike)."""
    names = ("floor", *apps)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    run_once("floor")  # the first process of a run also warms the disk cache and jsii's unpacked bundle
    for _ in range(runs):
        for name in names:
            samples[name].append(run_once(name))
    medians = {
        name: {
            "cpu_s": statistics.median(s["cpu_s"] for s in runs_of),
            "wall_s": statistics.median(s["wall_s"] for s in runs_of),
            "resources": runs_of[0]["resources"],
        }
        for name, runs_of in samples.items()
    }
    floor = medians["floor"]
    for name in apps:
        extra = medians[name]["resources"] - floor["resources"]
        medians[name]["ms_per_resource"] = (medians[name]["cpu_s"] - floor["cpu_s"]) / extra * 1000
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("apps", nargs="*", default=list(DEFAULT_APPS))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    medians = measure(tuple(args.apps), args.runs)
    for name, m in medians.items():
        per = f", {m['ms_per_resource']:.1f} ms CPU per resource above the floor" if name != "floor" else ""
        print(
            f"{name}: {m['resources']:.0f} resources, CPU {m['cpu_s']:.2f} s, wall {m['wall_s']:.2f} s{per}"
        )


if __name__ == "__main__":
    main()
