"""The style gates run with the suite, so CI enforces them: ruff (lint + format) and mypy --strict."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness import REPO_ROOT

CHECKS = {
    "ruff check": [sys.executable, "-m", "ruff", "check", "constructs_lib", "apps", "tests", "benchmarks"],
    "ruff format": [
        sys.executable,
        "-m",
        "ruff",
        "format",
        "--check",
        "constructs_lib",
        "apps",
        "tests",
        "benchmarks",
    ],
    "mypy --strict": [sys.executable, "-m", "mypy"],
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_style_gate(name):
    result = subprocess.run(CHECKS[name], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
