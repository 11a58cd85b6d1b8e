"""Rewrite tests/acknowledgments.json from the sample apps as they are now: ``python -m tests.inventory``.

Run it after adding or changing an acknowledgment on purpose, then review the diff: the tests compare
the apps' acknowledgments with this file, so a change that nobody meant shows up in review.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from apps.all import build_app as build_samples_app
from apps.storefront.app import build_app as build_storefront_app
from tests.harness import REPO_ROOT, check_policy

INVENTORY_PATH = REPO_ROOT / "tests" / "acknowledgments.json"
#: Each sample app and its stacks (the keys of the inventory).
SAMPLE_APPS: dict[str, tuple[str, ...]] = {
    "breaker": ("Breaker",),
    "catalog": ("Catalog",),
    "edge": ("Edge",),
    "ingest": ("OrderIngest",),
    "storefront": ("StorefrontStateful", "Storefront"),
}


def main() -> None:
    with tempfile.TemporaryDirectory() as outdir:
        report = check_policy(lambda app: build_storefront_app(build_samples_app(app)), Path(outdir))
    inventory = {name: report.only(*stacks).inventory() for name, stacks in SAMPLE_APPS.items()}
    INVENTORY_PATH.write_text(json.dumps(inventory, indent=2) + "\n")
    print(f"{sum(map(len, inventory.values()))} acknowledgments written to {INVENTORY_PATH}")


if __name__ == "__main__":
    main()
