"""Reading a project's TOML files (soundstage.toml, shots.toml, prices.toml, ratecard.toml): one place, one
clear line for each way such a file can be wrong.

Separate from project.py so that the script and takes packages, which project.py itself imports, can use it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from soundstage.errors import ProjectError

__all__ = ["read_toml"]


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """(table, text) of a TOML file; not readable, not UTF-8 (line and byte said) or not TOML is a ProjectError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProjectError(f"cannot be read: {exc.strerror or exc}", path=path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectError(f"is not UTF-8 text (byte {exc.start})", path=path, line=data.count(b"\n", 0, exc.start) + 1,
                           hint="save it as UTF-8; editors call it 'UTF-8' or 'Unicode (UTF-8)'") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"not valid TOML: {exc}", path=path) from None
