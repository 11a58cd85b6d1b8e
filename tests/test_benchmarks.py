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
    # One state read per cache_ttl (1 s) per container, whatever the call rate.
    assert lines["DynamoDB requests per 1,000 calls at 10 calls/s"] == "100"
    assert lines["DynamoDB requests per 1,000 calls at 100 calls/s"] == "10"
    assert lines["DynamoDB requests per 1,000 calls at 1000 calls/s"] == "1"
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


def test_the_synth_worker_measures_modes_in_turns(monkeypatch):
    """In this process (jsii is already running), with no warm-ups: the measurement, not its figures."""
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    import synth_worker

    monkeypatch.setattr(synth_worker, "WARM_UPS", 0)
    measured = synth_worker.measure(synth_worker.one_queue, ("full", "no-packs-no-validation"), 2)
    assert measured["resources"] == 2, "the floor is one queue and its policy"
    assert set(measured["modes"]) == {"full", "no-packs-no-validation"}
    for mode in measured["modes"].values():
        assert len(mode["wall_s"]) == 2
        assert mode["median_wall_s"] > 0
        assert mode["median_cpu_s"] > 0
    assert measured["peak_rss_mb"] > 0


def test_switching_validation_off_touches_only_checks_and_is_undone():
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    import synth_worker

    from constructs_lib.ingest import _plan as ingest

    switches = synth_worker.validation_switches()
    names = {attr for _owner, attr, _replacement in switches}
    assert "check_types" in names
    assert all(name == "check_types" or name.startswith("_check") for name in names)
    original = ingest.check_types
    with synth_worker.mode_applied("no-packs-no-validation"):
        assert ingest.check_types is not original
    assert ingest.check_types is original


@pytest.mark.slow
def test_the_java_benchmark_times_init_first_and_steady_requests_with_and_without_options():
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    import java_catalog

    measured = java_catalog.measure(runs=1, steady_requests=20)
    assert set(measured) == {"with", "without"}
    for values in measured.values():
        assert set(values) == {"jvm_start_ms", "static_init_ms", "first_request_ms", "steady_request_us"}
        assert all(v > 0 for v in values.values())
