"""The Engine protocol: what every generator backend implements, in one file per backend.

A request says what to make; the engine returns the files it wrote and the facts a take must record
(model, version, parameters, cost, whether the pixels are AI-made). Engines are found by the
``soundstage.engines`` entry point, so adding one never edits the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


class AssetKind(StrEnum):
    SET = "set"                # a still environment for a location
    BACKGROUND = "background"  # a moving environment (video)
    ELEMENT = "element"        # a VFX layer with alpha


class SourceType(StrEnum):
    """IPTC digital source types that provenance needs (see shared/compliance.md)."""

    ALGORITHMIC = "algorithmicMedia"                 # procedural, not trained
    TRAINED_ALGORITHMIC = "trainedAlgorithmicMedia"  # AI-generated


@dataclass(frozen=True, slots=True)
class AssetRequest:
    kind: AssetKind
    prompt: str
    width: int
    height: int
    seed: int
    look: str = ""
    negative_prompt: str = ""
    duration: float | None = None       # seconds, for BACKGROUND and ELEMENT
    fps: float | None = None
    references: tuple[Path, ...] = ()   # images for continuity, where the engine accepts them
    element: str | None = None          # ELEMENT: "fire", "rain", ...


@dataclass(frozen=True, slots=True)
class Generated:
    """What an engine made: the files and the facts a take records about them."""

    files: tuple[Path, ...]
    engine: str
    model: str
    version: str
    source_type: SourceType
    parameters: dict[str, Any] = field(default_factory=dict)
    cost: float = 0.0        # in the pricing file's currency; 0 for local engines
    seconds: float = 0.0     # wall time spent generating


@runtime_checkable
class Engine(Protocol):
    name: str

    def generate(self, request: AssetRequest, out_dir: Path) -> Generated:
        """Make the asset, writing its files atomically under ``out_dir``."""
        ...
