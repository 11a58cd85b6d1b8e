"""The profile and price files: TOML, with errors that name the option, the file, and the line and column
where it stops being TOML."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .._core.errors import ConstructsLibValidationError, Problem

_AT_END = "(at end of document)"


def read_toml(path: str | Path, option: str) -> dict[str, Any]:
    """A TOML file, or an error naming the option, the file, and the line and column where it stops being
    TOML (a file that ends too soon: its last line)."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConstructsLibValidationError(
            option, [Problem(option, str(path), f"cannot be read ({reason}); give a TOML file that exists")]
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        if message.endswith(_AT_END):
            lines = text.splitlines() or [""]
            where = f"(at line {len(lines)}, column {len(lines[-1]) + 1}: the end of the file)"
            message = message[: -len(_AT_END)] + where
        raise ConstructsLibValidationError(
            option, [Problem(option, str(path), f"is not valid TOML: {message}")]
        ) from None
