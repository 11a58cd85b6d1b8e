"""Synth measurements in a fresh process: ``python benchmarks/synth_worker.py APP MODES REPEATS``.

Synthesizes the sample app ``APP`` once cold (jsii starts, modules load), three times to let node's JIT
settle, then ``REPEATS`` times measured, each into a new directory. With several MODES (comma-separated)
the measured synths take turns, mode after mode in each round, so drift hits every mode alike. Prints one
JSON line: wall and CPU seconds of each measured synth, the cold synth, the resource count, and the peak
resident memory of this process and of jsii's node processes. CPU time counts them all, since jsii runs
aws-cdk-lib in node, and javac (local bundling) runs as a child.

Modes (what synth runs besides building the constructs):
- ``full``: cdk-nag's AwsSolutions and Serverless packs, the ServerlessPatterns pack, and the library's
  own prop validation, as ``cdk synth`` runs the samples;
- ``no-nag``: without cdk-nag's two packs;
- ``no-packs``: without any policy pack;
- ``no-packs-no-validation``: without any pack, and with the library's validation switched off
  (``check_types`` and every check that only records problems return at once).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs

import apps.common
from constructs_lib import acknowledge

APPS = {
    "floor": None,
    "ingest": "apps.ingest.app",
    "edge": "apps.edge.app",
    "catalog": "apps.catalog.app",
    "breaker": "apps.breaker.app",
    "storefront": "apps.storefront.app",
}
MODES = ("full", "no-nag", "no-packs", "no-packs-no-validation")
#: The modules whose checks the "no validation" mode switches off (each construct's plan and checks).
CONSTRUCT_MODULES = ("constructs_lib.ingest._plan", "constructs_lib.ingest._plan_queue",
                     "constructs_lib.ingest._plan_consumer", "constructs_lib.ingest._plan_api",
                     "constructs_lib.cdn._plan", "constructs_lib.cdn.origins",
                     "constructs_lib.snapstart", "constructs_lib.circuit_breaker._table",
                     "constructs_lib.circuit_breaker._attach",
                     "constructs_lib.circuit_breaker._pause")  # fmt: skip
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: Unmeasured synths between the cold one and the measured ones (BENCH_WARM_UPS overrides it).
WARM_UPS = int(os.environ.get("BENCH_WARM_UPS", "3"))


def one_queue(app: cdk.App) -> cdk.App:
    """The floor: an app of one stack with one queue, checked like the samples."""
    app = apps.common.checked_app(app)
    queue = sqs.Queue(cdk.Stack(app, "Floor"), "Queue", enforce_ssl=True)
    for rule in ("AwsSolutions::AwsSolutions-SQS3", "Serverless::Serverless-SQSRedrivePolicy"):
        acknowledge(queue, rule, "The benchmark's floor: one queue and nothing else, not deployed")
    return app


@contextlib.contextmanager
def mode_applied(mode: str) -> Iterator[None]:
    """Synth in ``mode`` (see the module docstring) inside the block; everything is restored after it."""
    assert mode in MODES, f"mode is one of {MODES}"
    with contextlib.ExitStack() as stack:
        packs = apps.common.policy_packs
        if mode == "no-nag":
            patched = lambda app: [p for p in packs(app) if p.name == "ServerlessPatterns"]  # noqa: E731
            stack.enter_context(mock.patch.object(apps.common, "policy_packs", patched))
        if mode.startswith("no-packs"):
            stack.enter_context(mock.patch.object(apps.common, "policy_packs", return_value=[]))
        if mode == "no-packs-no-validation":
            for owner, attr, replacement in validation_switches():
                stack.enter_context(mock.patch.object(owner, attr, replacement))
        yield


def validation_switches() -> list[tuple[Any, str, Callable[..., Any]]]:
    """``check_types`` passes everything, and each ``_check_*`` that only records problems does nothing.

    Checks that also work out values the construct needs (they return something) keep running.
    """
    switches: list[tuple[Any, str, Callable[..., Any]]] = []
    for name in CONSTRUCT_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "check_types"):
            switches.append((module, "check_types", lambda *args, **kwargs: True))
        owners: list[Any] = [module, *(c for c in vars(module).values() if inspect.isclass(c))]
        for owner in owners:
            for attr, value in list(vars(owner).items()):
                if attr.startswith("_check") and callable(value) and _returns_none(value):
                    switches.append((owner, attr, _nothing))
    return switches


def _returns_none(function: Callable[..., Any]) -> bool:
    try:
        return typing.get_type_hints(function).get("return") is type(None)
    except Exception:
        return False


def _nothing(*_args: Any, **_kwargs: Any) -> None:
    return None


def node_pids(pid: int | None = None) -> list[int]:
    """jsii's node processes (a wrapper and the kernel it starts): every live descendant of this process."""
    pid = pid or os.getpid()
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *node_pids(int(child))]
    return found


def cpu_seconds() -> float:
    """CPU time of this process, its finished children (javac) and its live node descendants, in seconds."""
    own = time.process_time() + sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
    children = 0.0
    for pid in node_pids():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children += (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    return own + children


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def synth_once(build: Callable[[cdk.App], cdk.App], outdir: str) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    app = build(cdk.App(outdir=outdir, context=dict(CONTEXT)))
    assembly = app.synth()
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    resources = sum(len(stack.template.get("Resources", {})) for stack in assembly.stacks)
    return wall, cpu, resources


CONTEXT: dict[str, Any] = {
    **json.loads((Path(__file__).resolve().parent.parent / "cdk.json").read_text())["context"],
    "aws:cdk:version-reporting": False,
}


def measure(build: Callable[[cdk.App], cdk.App], modes: tuple[str, ...], repeats: int) -> dict[str, Any]:
    """Cold, warm-up and measured synths; with several modes, the measured ones take turns in each round."""
    wall: dict[str, list[float]] = {m: [] for m in modes}
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    with tempfile.TemporaryDirectory() as root:
        with mode_applied(modes[0]):
            cold, _, resources = synth_once(build, f"{root}/cold")
        for i in range(WARM_UPS):  # node's JIT settles; these are not measured
            for mode in modes:
                with mode_applied(mode):
                    synth_once(build, f"{root}/warm-{mode}-{i}")
        for i in range(repeats):
            for mode in modes:
                with mode_applied(mode):
                    w, c, _ = synth_once(build, f"{root}/run-{mode}-{i}")
                wall[mode].append(w)
                cpu[mode].append(c)
    return {
        "cold_wall_s": cold,
        "resources": resources,
        "modes": {
            m: {
                "wall_s": wall[m],
                "cpu_s": cpu[m],
                "median_wall_s": statistics.median(wall[m]),
                "median_cpu_s": statistics.median(cpu[m]),
            }
            for m in modes
        },
        "peak_rss_mb": peak_rss_mb(os.getpid()) + sum(peak_rss_mb(p) for p in node_pids()),
    }


def main() -> None:
    """``APP MODES REPEATS``: MODES is one mode, or several joined by commas to measure them in turns."""
    app_name, modes, repeats = sys.argv[1], tuple(sys.argv[2].split(",")), int(sys.argv[3])
    assert app_name in APPS, f"app is one of {sorted(APPS)}"
    module = APPS[app_name]
    build = one_queue if module is None else importlib.import_module(module).build_app
    print(json.dumps({"app": app_name, **measure(build, modes, repeats)}))


if __name__ == "__main__":
    main()
