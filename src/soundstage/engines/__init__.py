"""Generator engines, found by the ``soundstage.engines`` entry point (one module per backend)."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from soundstage.engines.base import (
    AssetKind,
    AssetRequest,
    Engine,
    EngineOptions,
    Generated,
    HTTPOptions,
    Quote,
    SourceType,
    Unit,
)
from soundstage.errors import EngineError, ProjectError, install_hint

__all__ = ["AssetKind", "AssetRequest", "Engine", "EngineOptions", "Generated", "HTTPOptions", "Quote",
           "SourceType", "Unit", "available", "load_engine"]


def available() -> list[str]:
    return sorted(ep.name for ep in entry_points(group="soundstage.engines"))


def load_engine(name: str, options: Mapping[str, Any] | None = None, *, root: Path | None = None,
                source: Path | None = None) -> Engine:
    """Instantiate an engine by name with its ``[engines.<name>]`` table.

    A missing optional extra gives a clear line, not an ImportError; a bad option names the file and key.
    """
    found = [ep for ep in entry_points(group="soundstage.engines") if ep.name == name]
    if not found:
        raise EngineError(f"no engine named {name!r}; installed engines: {', '.join(available()) or 'none'}")
    try:
        engine_class = found[0].load()
    except ImportError as exc:
        raise EngineError(f"engine {name!r} needs a package that is not installed ({exc.name})",
                          hint=install_hint(name)) from None
    try:
        checked = engine_class.Options.model_validate(dict(options or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(["engines", name, *(str(part) for part in first["loc"])])
        message = "is not a known setting" if first["type"] == "extra_forbidden" else first["msg"]
        raise ProjectError(f"{key}: {message}", path=source) from None
    engine: Engine = engine_class(checked, root=(root or Path.cwd()).resolve())
    return engine
