"""The profile and price files: TOML, with errors that say where a file stops being TOML."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .._core.errors import ConstructsLibValidationError, Problem


def read_toml(path: str | Path, option: str) -> dict[str, Any]:
    """A TOML file, or an error naming the file, the line and the column where it stops being TOML."""
    text = Path(path).read_text()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConstructsLibValidationError(
            option, [Problem(option, str(path), f"is not valid TOML: {error}")]
        ) from None
