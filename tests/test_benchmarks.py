"""The benchmark scripts run (with few calls); their timings are reported, never asserted."""

from __future__ import annotations

import subprocess
import sys

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
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
    assert lines["DynamoDB requests during the runs"].strip() == "0"
    assert float(lines["overhead ratio, shared / pybreaker"]) > 0
