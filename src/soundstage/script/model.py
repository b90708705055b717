"""The typed screenplay: what both the Fountain and the Final Draft parsers produce.

Plain frozen dataclasses: a 120-page script has ~5,000 elements and parsing must stay well under a second.
Every element keeps the 1-based line of the source it came from, so every later error can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Kind(StrEnum):
    SCENE_HEADING = "scene_heading"
    ACTION = "action"
    CHARACTER = "character"
    PARENTHETICAL = "parenthetical"
    DIALOGUE = "dialogue"
    TRANSITION = "transition"
    CENTERED = "centered"
    SECTION = "section"
    SYNOPSIS = "synopsis"
    NOTE = "note"            # a [[note]] standing on its own; inline notes go to Element.notes
    PAGE_BREAK = "page_break"
    LYRICS = "lyrics"


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of text with one emphasis (Fountain *italic*, **bold**, _underline_; FDX Style)."""

    text: str
    bold: bool = False
    italic: bool = False
    underline: bool = False


@dataclass(frozen=True, slots=True)
class Heading:
    """A parsed scene heading, English (``INT. HOUSE - NIGHT``) or Korean (``S#12. 한옥 지붕 위 (밤)``)."""

    int_ext: str | None        # "INT", "EXT", "INT/EXT" or None when the heading does not say
    location: str              # "HANOK ROOFTOPS", "한옥 지붕 위"
    time: str | None           # normalised: DAY, NIGHT, DAWN, MORNING, EVENING, DUSK, CONTINUOUS, LATER, ...
    time_original: str | None  # as written: "밤", "NIGHT", "Night"
    number: str | None         # "12A" from #12A# or S#12; None when unnumbered


@dataclass(frozen=True, slots=True)
class Element:
    """One paragraph of the screenplay.

    ``text`` is the plain text with emphasis markers, inline notes and boneyard removed; ``runs`` keeps the
    emphasis. Only the fields that belong to the element's kind are set.
    """

    kind: Kind
    text: str
    line: int
    runs: tuple[Run, ...] = ()
    notes: tuple[str, ...] = ()          # inline [[notes]] found inside this element
    heading: Heading | None = None       # SCENE_HEADING
    character: str | None = None         # CHARACTER: the name without extension, e.g. "MIN-JI"
    extension: str | None = None         # CHARACTER: "V.O.", "O.S.", "CONT'D"
    dual: bool = False                   # CHARACTER/PARENTHETICAL/DIALOGUE: in either column of dual dialogue;
                                         # the first cue of the pair is the left column
    depth: int = 0                       # SECTION: number of '#'
    forced: bool = False                 # written with a forcing mark (., !, @, >, ~)


@dataclass(frozen=True, slots=True)
class Screenplay:
    source: Path | None
    title_page: dict[str, str] = field(default_factory=dict)   # keys as written, e.g. "Title", "Credit"
    elements: tuple[Element, ...] = ()
    encoding: str = "utf-8"        # what the file was read as: utf-8, utf-8-sig, cp949
    warnings: tuple[str, ...] = ()  # what was read otherwise than written (each says where)

    @property
    def title(self) -> str:
        return self.title_page.get("Title", "").strip() or (self.source.stem if self.source else "Untitled")
