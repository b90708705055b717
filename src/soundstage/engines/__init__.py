"""Generator engines, found by the ``soundstage.engines`` entry point (one module per backend)."""

from __future__ import annotations

from importlib.metadata import entry_points

from soundstage.engines.base import AssetKind, AssetRequest, Engine, Generated, SourceType
from soundstage.errors import EngineError

__all__ = ["AssetKind", "AssetRequest", "Engine", "Generated", "SourceType", "available", "load_engine"]


def available() -> list[str]:
    return sorted(ep.name for ep in entry_points(group="soundstage.engines"))


def load_engine(name: str) -> Engine:
    """Instantiate an engine by name; a missing optional extra gives a clear line, not an ImportError."""
    found = [ep for ep in entry_points(group="soundstage.engines") if ep.name == name]
    if not found:
        raise EngineError(f"no engine named {name!r}; installed engines: {', '.join(available()) or 'none'}")
    try:
        engine_class = found[0].load()
    except ImportError as exc:
        raise EngineError(f"engine {name!r} needs a package that is not installed ({exc.name})",
                          hint=f"pip install 'soundstage[{name}]'") from None
    engine: Engine = engine_class()
    return engine
