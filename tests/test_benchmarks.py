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
    # The printed ratio is the one its own timings give; how large it is depends on the machine's load,
    # so it is a benchmark's figure (make bench), never a test's bound.
    assert ratio == pytest.approx((ours - bare) / (theirs - bare), rel=0.05, abs=0.02)
    assert ratio > 0


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


def test_the_fleet_extrapolation_is_a_least_squares_line_and_the_table_sets_the_designs_side_by_side():
    from benchmarks import breaker_fleet as fleet

    assert fleet.linear_at([(100, 10.0), (300, 30.0)]) == pytest.approx(2000.0)
    assert fleet.linear_at([(100, 5.0), (1000, 5.0), (5000, 5.0)]) == pytest.approx(5.0)  # flat stays flat
    assert fleet.linear_at([(100, 7.0)]) == pytest.approx(1400.0)  # one point: proportional
    row = {"containers": 1000, "steady_requests": 1000, "onset_writes": 800, "onset_requests": 1005}
    before = fleet.DesignFigures(
        1,
        [{**row, "reaction_p99": 0.5, "max_probes": 1}],
        {"steady_requests": 20000.0, "onset_writes": 16000.0, "onset_requests": 21000.0},
    )
    fleet_rows = [
        {**row, "steady_requests": 50, "onset_writes": 7, "onset_requests": 45, "reaction_p99": 1.02},
        {
            **row,
            "containers": 20_000,
            "steady_requests": 686,
            "onset_writes": 8,
            "onset_requests": 692,
            "reaction_p99": 0.86,
        },
    ]
    after = fleet.DesignFigures(
        32,
        [{**r, "max_probes": 1} for r in fleet_rows],
        {"steady_requests": 686.0, "onset_writes": 8.0, "onset_requests": 692.0},
    )
    lines = fleet.table(before, after).splitlines()
    assert "1 → 32 copies" in lines[0]
    assert lines[2] == "| 1,000 | 1,000 → 50 | 800 → 7 | 1,005 → 45 | 0.50 s → 1.02 s | 1 → 1 |"
    assert lines[3] == "| 20,000 | - → 686 | - → 8 | - → 692 | - → 0.86 s | - → 1 |", "simulated, not a line"
    assert lines[4] == "| 20,000: one item extrapolated | 20,000 | 16,000 | 21,000 | | |"


def test_the_partition_model_follows_dynamodbs_figures():
    from benchmarks import breaker_fleet as fleet

    assert fleet.Table.on_demand().partitions == 4, "a new on-demand table: 12,000 reads, 4,000 writes"
    assert fleet.Table.on_demand(24_000, 4_000).partitions == 8
    assert fleet.Table.on_demand(12_000, 8_000).partitions == 8, "writes split partitions too"
    table = fleet.Table(7)
    placed = [table.partition_of(f"payments#copy-{i}") for i in range(64)]
    assert placed == [table.partition_of(f"payments#copy-{i}") for i in range(64)], "by key hash, stable"
    assert set(placed) == set(range(7)), "every partition holds a share"
    assert fleet.Table(1).overloaded_circuits(1000, 32) == 0.0
    assert fleet.Table(1, read_units=10).overloaded_circuits(1000, 32) == 1.0


def test_the_partition_table_reports_throttling_with_and_without_warm_throughput():
    from benchmarks import breaker_fleet as fleet

    row = fleet.PartitionRow(
        containers=20_000,
        table=fleet.Table.on_demand(24_000),
        busiest_partition=2_205.0,
        first_second_throttled=0,
        steady_throttled=0,
        onset_throttled=3,
        reaction_p99=0.86,
        wrong_decisions=0,
        overloaded_circuits=0.007,
    )
    lines = fleet.partition_table([row]).splitlines()
    assert (
        lines[2] == "| 20,000 | pre-warmed by attach() (24,000) | 8 | 2,205 | 0, 0, 3 | 0.86 s | 0 | 0.7% |"
    )
    units = fleet.read_units_table(
        fleet.DesignFigures(
            32, [{"containers": 1000, "strong_read_units": 1000.0, "copy_read_units": 500.0}], {}
        )
    )
    assert units.splitlines()[2] == "| 1,000 | 1,000 → 500 | 500 units/s |"
