"""The benchmark scripts run (with few calls) and measure what they say; their timings are never asserted
against a target, only checked for being measurements at all."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness import REPO_ROOT


def test_breaker_overhead_benchmark_runs_without_dynamodb_requests():
    result = subprocess.run(
        [sys.executable, "benchmarks/breaker_overhead.py", "--calls", "500"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in result.stdout.splitlines())}
    assert lines["calls per run"] == "500"
    assert lines["DynamoDB requests during the runs"] == "0"
    bare = float(lines["bare function call"].split()[0])
    theirs = float(lines["pybreaker (in memory)"].split()[0])
    ours = float(lines["constructs_lib.runtime (shared)"].split()[0])
    # Each breaker does work on every call, so each costs more than the bare call it wraps; a benchmark
    # that timed the wrong thing (or nothing) fails here.
    assert 0 < bare < ours
    assert bare < theirs
    ratio = float(lines["overhead ratio, shared / pybreaker"])
    assert ratio == pytest.approx((ours - bare) / (theirs - bare), rel=0.05, abs=0.02)
    assert 0.05 < ratio < 20
