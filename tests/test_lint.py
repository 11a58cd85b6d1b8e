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


#: The longest a function of the library may be: a newcomer reads one on one screen.
MAX_FUNCTION_LINES = 60


def test_no_library_function_is_longer_than_a_screen():
    import ast

    too_long = []
    for path in sorted((REPO_ROOT / "constructs_lib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(
                        f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name} ({length} lines)"
                    )
    assert too_long == [], "split these along what they do:\n" + "\n".join(too_long)
