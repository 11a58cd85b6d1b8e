"""The documentation site builds strictly, and what it generates comes from the code."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from constructs_lib.checks import ALL_RULES
from tests.harness import REPO_ROOT

_spec = importlib.util.spec_from_file_location("docs_hooks", REPO_ROOT / "docs" / "hooks.py")
assert _spec is not None
assert _spec.loader is not None
hooks = importlib.util.module_from_spec(_spec)  # the site's build hooks
_spec.loader.exec_module(hooks)


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path):
    """A broken link, a missing page or a public name without a docstring fails the build."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "constructs" / "index.html").is_file()


def test_the_rules_table_has_a_row_per_rule_with_its_acknowledgment_id():
    table = hooks.rules_table().splitlines()
    assert len(table) == 2 + len(ALL_RULES)
    for rule, row in zip(ALL_RULES, table[2:], strict=True):
        assert row.startswith(f"| `{rule.id}` |")
        assert f'"{rule.acknowledgment_id}"' in row
        assert (rule.severity or "error") in row
    [visibility] = [row for row in table if "SqsVisibilityTimeout" in row]
    assert "warning under 6 x" in visibility


def test_every_public_name_has_a_docstring():
    assert hooks.undocumented() == []
