"""The storefront's payments outage at full size: 1,000 orders, with and without the pause.

The scenario and simulation of ``tests/outage_run.py`` (the tests run it at 400 orders); the figure lines
are the ones docs/storefront.md quotes. ``python benchmarks/outage.py [--orders 1000]`` prints both lines
and the wall time of each run; ``make bench`` adds them to its table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def measure(orders: int) -> list[dict[str, Any]]:
    """Each run's figure line and wall seconds (the templates are synthesized once, before either)."""
    import pytest

    from tests.localcloud import storefront_templates
    from tests.outage_run import run_storefront, scenario, storefront_environment

    templates = storefront_templates()
    planned = scenario(orders)
    results = []
    for pause, label in ((True, "with the pause   "), (False, "without the pause")):
        with pytest.MonkeyPatch.context() as patch:
            storefront_environment(patch)
            started = time.perf_counter()
            run = run_storefront(templates, planned, pause=pause, monkeypatch=patch)
            seconds = time.perf_counter() - started
        results.append(
            {"pause": pause, "figures": run.figures(planned, f"outage run, {label}"), "s": seconds}
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="one JSON line (for benchmarks/run.py)")
    args = parser.parse_args()
    results = measure(args.orders)
    if args.json:
        print(json.dumps(results))
        return
    for result in results:
        print(f"{result['figures']} (wall {result['s']:.1f} s)")


if __name__ == "__main__":
    main()
