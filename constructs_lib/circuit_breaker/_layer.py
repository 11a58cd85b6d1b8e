"""The runtime layer: ``constructs_lib.runtime``'s own files, copied into a layer (and into the governor's
code) at synth, with no Docker and no download."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_

from .._core import local_bundling

#: The package whose files the layer holds: ``constructs_lib/__init__.py`` and ``runtime/*.py``.
PACKAGE_DIR = Path(__file__).resolve().parent.parent
#: The runtimes that load the layer (the runtime imports on Python 3.10 and later).
LAYER_RUNTIMES = (
    lambda_.Runtime.PYTHON_3_10,
    lambda_.Runtime.PYTHON_3_11,
    lambda_.Runtime.PYTHON_3_12,
    lambda_.Runtime.PYTHON_3_13,
    lambda_.Runtime.PYTHON_3_14,
)


def runtime_layer_code() -> lambda_.Code:
    """The package's own runtime files as ``python/constructs_lib/...``, copied at synth (no Docker)."""
    return _runtime_code("python/constructs_lib")


def runtime_function_code() -> lambda_.Code:
    """The same files as a function's code, ``constructs_lib/...`` at the root (the governor)."""
    return _runtime_code("constructs_lib")


def _runtime_code(root: str) -> lambda_.Code:
    files = [PACKAGE_DIR / "__init__.py", *sorted((PACKAGE_DIR / "runtime").glob("*.py"))]
    digest = hashlib.sha256(root.encode())
    for path in files:
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return lambda_.Code.from_asset(
        str(PACKAGE_DIR / "runtime"),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=digest.hexdigest(),
        bundling=local_bundling(lambda out: _copy_files(files, out / root)),
    )


def _copy_files(files: list[Path], root: Path) -> None:
    for path in files:
        destination = root / path.relative_to(PACKAGE_DIR)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
