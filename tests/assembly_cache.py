"""Cloud assemblies synthesized once and kept on disk, keyed by a hash of everything that shapes them.

Several test modules need the same synthesized app (the storefront pinned to one account, every sample
app, the cdk.json app command's output). Synthesizing it costs seconds of CPU in each pytest-xdist worker
and in each session, though the result only changes when the sources do. ``cached_assembly(name, build)``
returns a directory holding the assembly that ``build(outdir)`` writes, reused while its key holds.

The key hashes the library, the apps and the corpus (every file of ``constructs_lib/``, ``apps/`` and
``tests/corpus/``), the test modules that build apps (``SHAPING_FILES``), ``cdk.json``, ``package.json``
and ``pyproject.toml``, the installed versions of aws-cdk-lib, constructs, cdk-nag and jsii, the
Node.js version the CLI pins, the environment variables a synth reads (``SHAPING_ENVIRONMENT``), and
the caller's ``name`` and ``extra`` (what differs between two builds of the same sources). Change any of
them and the app is synthesized again. ``rm -rf .cache/assemblies`` (or ``make clean``) empties the
cache; CI starts without it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_ROOT = REPO_ROOT / ".cache" / "assemblies"
#: Sources hashed whole (every file under a folder).
SHAPING_FOLDERS = ("constructs_lib", "apps", "tests/corpus")
#: Single files that shape what the cached builds write.
SHAPING_FILES = (
    "cdk.json",
    "package.json",
    "pyproject.toml",
    "tests/assembly_cache.py",
    "tests/checks_pairs.py",
    "tests/cost_apps.py",
    "tests/harness.py",
    "tests/localcloud.py",
    "tests/test_apps.py",
    "tests/test_checks.py",
    "tests/test_storefront_deploy.py",
)
SHAPING_DISTRIBUTIONS = ("aws-cdk-lib", "constructs", "cdk-nag", "jsii")
#: Environment variables a synth reads (the CLI's own, such as its telemetry switch, shape nothing).
SHAPING_ENVIRONMENT = ("CDK_VALIDATION", "CDK_CONTEXT_JSON", "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")
#: Written last, so a directory without it is an interrupted build and is never read.
COMPLETE = ".complete"


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".class"}:
            yield path


def sources_key(name: str, extra: Any = None) -> str:
    """The hash that names ``name``'s cached assembly (see the module's docstring for what it covers)."""
    digest = hashlib.sha256(json.dumps([name, extra], sort_keys=True, default=str).encode())
    paths = [p for folder in SHAPING_FOLDERS for p in _files(REPO_ROOT / folder)]
    paths += [REPO_ROOT / f for f in SHAPING_FILES if (REPO_ROOT / f).is_file()]
    for path in paths:
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for distribution in SHAPING_DISTRIBUTIONS:
        digest.update(f"{distribution}=={importlib.metadata.version(distribution)}".encode())
    node = REPO_ROOT / "node_modules" / "node" / "package.json"
    digest.update(node.read_bytes() if node.is_file() else b"system node")
    digest.update(json.dumps([os.environ.get(k) for k in SHAPING_ENVIRONMENT]).encode())
    return digest.hexdigest()[:20]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder per key at a time, across xdist workers: the others wait, then read its result."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_assembly(name: str, build: Callable[[Path], object], *, extra: Any = None) -> Path:
    """The directory of the assembly ``build(outdir)`` synthesizes into ``outdir`` (what it returns is
    ignored), built at most once per key. Callers must treat the directory as read-only."""
    key = sources_key(name, extra)
    target = CACHE_ROOT / f"{name}-{key}"
    if (target / COMPLETE).exists():
        return target
    with _locked(CACHE_ROOT / f"{name}-{key}.lock"):
        if (target / COMPLETE).exists():
            return target
        for stale in CACHE_ROOT.glob(f"{name}-*"):
            # Only this name's earlier keys (20 hex digits), not another name that starts with this one.
            old_key = stale.name[len(name) + 1 :].removesuffix(".lock")
            if old_key != key and re.fullmatch(r"[0-9a-f]{20}", old_key):
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink(missing_ok=True)
        building = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=CACHE_ROOT))
        try:
            build(building)
            (building / COMPLETE).write_text(key)
            building.rename(target)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
    return target


def templates(directory: Path, *stacks: str) -> dict[str, dict[str, Any]]:
    """``{stack: template}`` of the named stacks of an assembly directory (fresh objects each call)."""
    return {stack: json.loads((directory / f"{stack}.template.json").read_text()) for stack in stacks}
