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


#: The most lines a function, a class and a module of the library may have: a newcomer reads a function
#: on one screen, and a class or module holds one concern.
MAX_FUNCTION_LINES, MAX_CLASS_LINES, MAX_MODULE_LINES = 60, 400, 600


def test_no_library_function_class_or_module_is_past_a_readable_size():
    import ast

    too_long = []
    for path in sorted((REPO_ROOT / "constructs_lib").rglob("*.py")):
        where = path.relative_to(REPO_ROOT)
        text = path.read_text()
        if (lines := len(text.splitlines())) > MAX_MODULE_LINES:
            too_long.append(f"{where}: module of {lines} lines")
        for node in ast.walk(ast.parse(text)):
            limit = (
                MAX_CLASS_LINES
                if isinstance(node, ast.ClassDef)
                else MAX_FUNCTION_LINES
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                else None
            )
            length = (getattr(node, "end_lineno", None) or 0) - getattr(node, "lineno", 0) + 1
            if limit is not None and length > limit:
                kind = "class" if isinstance(node, ast.ClassDef) else "function"
                too_long.append(f"{where}:{node.lineno} {kind} {node.name} ({length} lines)")
    assert too_long == [], "split these along what they do:\n" + "\n".join(too_long)
