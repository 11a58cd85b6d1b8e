"""``make bench``: the numbers a team asks for, in one table.

- Synth as a user pays for it: the whole-process CPU of a fresh ``python -m apps.storefront`` (jsii's
  start, the imports, the constructs, the checks, the assembly) minus the same for a one-queue app, per
  resource (``synth_process.py``), with the samples' settings and with aws-cdk-lib's built-in validation.
- Synth: each sample app in a fresh process (``synth_worker.py``), the median wall and CPU time of 5 warm
  synths, milliseconds per resource above a one-queue app measured the same way in the same run, the cold
  first synth of the process, and its peak memory (python plus jsii's node).
- What checking costs: the edge sample (the largest app without a Java build, whose javac run would
  drown the difference) synthesized with and without cdk-nag's packs, the ServerlessPatterns pack, and
  the library's own validation.
- The breaker: per-call overhead of a CLOSED call against pybreaker, DynamoDB requests per 1,000 calls, and
  the fleet simulation (``breaker_fleet.py``): each state item's load with one item and with fleet mode,
  the read units eventually consistent copy reads save, and the table's partitions (throttled requests
  with and without the warm throughput attach() writes).
- The Java catalog on a local JVM (a proxy for what SnapStart saves, not a Lambda measurement).
- The storefront's payments outage at 1,000 orders, with and without the pause (``outage.py``): the
  figures docs/storefront.md quotes, and what each simulated run costs.

Benchmarks measure; they never gate. ``python benchmarks/run.py [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import breaker_fleet
import breaker_overhead
import java_catalog
import synth_process

HERE = Path(__file__).resolve().parent
SAMPLES = ("ingest", "edge", "catalog", "breaker", "storefront")
#: Apps whose synth bundles the Java catalog (local bundling): javac on the cold run, the jar cache after.
JAVA_APPS = ("catalog", "storefront")
#: The app the checking costs are measured on: the largest without a Java build.
COST_APP = "edge"
#: Rounds of the interleaved cost measurement (each round synthesizes the app once in every mode).
COST_ROUNDS = 9
COST_MODES = (
    ("cdk-nag (AwsSolutions + Serverless packs)", "full", "no-nag"),
    ("ServerlessPatterns pack", "no-nag", "no-packs"),
    ("the library's prop validation", "no-packs", "no-packs-no-validation"),
)


def synth(app: str, modes: str, repeats: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(HERE / "synth_worker.py"), app, modes, str(repeats)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def signed_ms(seconds: float) -> str:
    return f"{seconds * 1000:+,.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="warm synths per measurement (median)")
    parser.add_argument("--calls", type=int, default=200_000, help="breaker calls per timing run")
    parser.add_argument(
        "--fleet", default="1000,5000,20000", help="the breaker fleet's sizes, comma-separated"
    )
    parser.add_argument("--outage-orders", type=int, default=1000, help="orders of the outage run")
    args = parser.parse_args()
    started = time.perf_counter()
    rows: list[tuple[str, str, str]] = []

    floor = synth("floor", "full", args.repeats)
    floor.update(floor["modes"]["full"])
    rows.append(
        (
            "synth",
            f"floor: one queue ({floor['resources']} resources)",
            f"wall {ms(floor['median_wall_s'])}, CPU {ms(floor['median_cpu_s'])}; cold "
            f"{floor['cold_wall_s']:.1f} s; peak memory {floor['peak_rss_mb']:,.0f} MB",
        )
    )
    full: dict[str, dict[str, Any]] = {}
    for app in SAMPLES:
        m = full[app] = synth(app, "full", args.repeats)
        m.update(m["modes"]["full"])
        extra = m["resources"] - floor["resources"]
        per_resource = (m["median_wall_s"] - floor["median_wall_s"]) / extra
        rows.append(
            (
                "synth",
                f"{app} ({m['resources']} resources)",
                f"wall {ms(m['median_wall_s'])}, CPU {ms(m['median_cpu_s'])}; "
                f"{per_resource * 1000:.1f} ms per resource above the floor; cold {m['cold_wall_s']:.1f} s; "
                f"peak memory {m['peak_rss_mb']:,.0f} MB"
                + (
                    "; the catalog jar from java_code's cache (javac on a change only)"
                    if app in JAVA_APPS
                    else ""
                ),
            )
        )

    # As a user pays for it: whole fresh processes, as the CLI starts the app (synth_process.py); the
    # samples' setting (aws-cdk-lib's built-in validation off), then with the built-in engine on.
    given = os.environ.get("CDK_VALIDATION")
    for label, validation in (("samples' settings", "false"), ("built-in validation on", "true")):
        os.environ["CDK_VALIDATION"] = validation
        whole = synth_process.measure(synth_process.DEFAULT_APPS, args.repeats)
        for app in synth_process.DEFAULT_APPS:
            m, base = whole[app], whole["floor"]
            rows.append(
                (
                    "synth, whole process (what `cdk synth` costs)",
                    f"{app}, {label}",
                    f"{m['ms_per_resource']:.1f} ms CPU per resource above the floor "
                    f"({m['cpu_s']:.2f} s for {m['resources']:.0f} resources against {base['cpu_s']:.2f} s "
                    f"for {base['resources']:.0f}); wall {m['wall_s']:.2f} s",
                )
            )
    if given is None:
        os.environ.pop("CDK_VALIDATION")
    else:
        os.environ["CDK_VALIDATION"] = given

    # Time: every mode in turns within one process, so drift hits all alike. Memory: a process per mode.
    modes = ("full", "no-nag", "no-packs", "no-packs-no-validation")
    timed = synth(COST_APP, ",".join(modes), COST_ROUNDS)["modes"]
    memory = {mode: synth(COST_APP, mode, 1)["peak_rss_mb"] for mode in modes}
    for label, with_mode, without_mode in COST_MODES:
        on, off = timed[with_mode], timed[without_mode]
        rows.append(
            (
                f"what checking costs ({COST_APP})",
                label,
                f"{signed_ms(on['median_wall_s'] - off['median_wall_s'])} wall, "
                f"{signed_ms(on['median_cpu_s'] - off['median_cpu_s'])} CPU, "
                f"{memory[with_mode] - memory[without_mode]:+,.0f} MB peak memory "
                f"({ms(off['median_wall_s'])} → {ms(on['median_wall_s'])} wall)",
            )
        )

    breaker = breaker_overhead.measure(args.calls)
    bare = breaker["bare_ns"]
    rows.append(
        (
            "breaker",
            "overhead of a CLOSED call",
            f"constructs_lib.runtime {breaker['shared_ns'] - bare:,.0f} ns, pybreaker "
            f"{breaker['pybreaker_ns'] - bare:,.0f} ns (in memory, not shared); ratio "
            f"{(breaker['shared_ns'] - bare) / (breaker['pybreaker_ns'] - bare):.2f}; "
            f"bare call {bare:,.0f} ns",
        )
    )
    rates = ", ".join(
        f"{breaker[f'requests_per_1000_at_{rate}']:.0f} at {rate:,} calls/s"
        for rate in breaker_overhead.CALL_RATES
    )
    rows.append(("breaker", "DynamoDB requests per 1,000 CLOSED calls (one container)", rates))

    fleet = breaker_fleet.report([int(n) for n in args.fleet.split(",")])

    java = java_catalog.measure(runs=args.repeats)
    for key, label in (
        ("jvm_start_ms", "JVM start (saved by SnapStart)"),
        ("static_init_ms", "static initialisation, with priming (saved by SnapStart)"),
        ("first_request_ms", "first request after it"),
        ("steady_request_us", "steady-state request (median of 2,000)"),
    ):
        unit = "µs" if key.endswith("_us") else "ms"
        rows.append(
            (
                "Java catalog, local JVM (a proxy)",
                label,
                f"{java['without'][key]:,.2f} {unit} without JAVA_TOOL_OPTIONS, "
                f"{java['with'][key]:,.2f} {unit} with",
            )
        )

    outage = subprocess.run(
        [sys.executable, str(HERE / "outage.py"), "--orders", str(args.outage_orders), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=1200,
    )
    for result in json.loads(outage.stdout.strip().splitlines()[-1]):
        rows.append(
            (
                f"storefront outage run ({args.outage_orders:,} orders, benchmarks/outage.py)",
                "with the pause" if result["pause"] else "without the pause",
                f"wall {result['s']:.1f} s; {result['figures'].split(': ', 1)[1]}",
            )
        )

    print("| benchmark | case | result |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(
        "\nThe breaker's fleet (benchmarks/breaker_fleet.py): every container calls 5 times a second on "
        "average; the busiest state item's requests per simulated second (fleet mode on the table attach() "
        "pre-warms; one item per item only, extrapolated above 5,000), the copies' read units, and the "
        "table's partitions with and without warm throughput.\n"
    )
    print(fleet)
    cpus = Path("/proc/cpuinfo").read_text().count("processor")
    print(
        f"\nMedians of {args.repeats} runs each, on {cpus} CPUs; differences of a few tens of ms are within "
        f"run-to-run noise here. Total {time.perf_counter() - started:.0f} s."
    )


if __name__ == "__main__":
    main()
