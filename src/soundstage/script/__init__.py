"""Screenplays in, one typed model out: Fountain (``.fountain``, ``.spmd``, ``.txt``) and Final Draft (``.fdx``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from soundstage.errors import ScreenplayError
from soundstage.script.fountain import parse_fountain
from soundstage.script.heading import parse_heading
from soundstage.script.model import Element, Heading, Kind, Run, Screenplay
from soundstage.script.text import read_bytes, read_text

__all__ = [
    "FDX_SUFFIXES",
    "FOUNTAIN_SUFFIXES",
    "Element",
    "Heading",
    "Kind",
    "Run",
    "Screenplay",
    "parse_fdx",
    "parse_fountain",
    "parse_heading",
    "read_screenplay",
]

FOUNTAIN_SUFFIXES = frozenset({".fountain", ".spmd", ".txt"})
FDX_SUFFIXES = frozenset({".fdx"})


def read_screenplay(path: str | Path) -> Screenplay:
    """Read a screenplay file, choosing the parser from its suffix; bad input raises :class:`ScreenplayError`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in FOUNTAIN_SUFFIXES:
        text, encoding = read_text(path)
        return replace(parse_fountain(text, source=path), encoding=encoding)
    if suffix in FDX_SUFFIXES:
        from soundstage.script.fdx import parse_fdx

        return parse_fdx(read_bytes(path), source=path)
    raise ScreenplayError(f"is not a screenplay format soundstage reads ('{suffix or 'no suffix'}')", path=path,
                          hint="use Fountain (.fountain, .spmd, .txt) or Final Draft (.fdx)")


def __getattr__(name: str) -> Any:
    """``parse_fdx`` on first use: Final Draft's XML reader (defusedxml, expat) is no part of reading Fountain."""
    if name == "parse_fdx":
        from soundstage.script.fdx import parse_fdx

        return parse_fdx
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
