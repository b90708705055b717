"""A cast member: a character or creature that recurs across shots, with the images that keep it itself.

``cast/<name>/`` in a project holds its reference images and ``cast.toml`` (:class:`CastFile`); read and checked
by ``pipeline.cast``. Declared here, on the ground floor, so the breakdown, the generation and the reports name
the same noun. Only pydantic is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from soundstage.records.slot import Slot

CAST_DIR = "cast"
CAST_FILE = "cast.toml"

CastKind = Literal["creature", "character", "double"]
Made = Literal["drawing", "photo", "procedural", "generated", "unknown"]
HUMAN_MADE: frozenset[str] = frozenset({"drawing", "photo"})   # a person's work: the disclosure's human part


class CastFile(BaseModel):
    """``cast/<name>/cast.toml``: who the cast member is, by every name the script may call it."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    ko: str | None = Field(None, description="the Korean name, e.g. 용 (found with its particles: 용이, 용을…)")
    en: str | None = Field(None, description="the English name, e.g. dragon (found as a whole word)")
    aliases: list[str] = Field(default_factory=list, description="other names and spellings, either language")
    kind: CastKind = Field("creature", description="creature and double are generated; a character is acted")
    description: str = Field("", description="what it looks like: added to the prompt of every take of it")
    screen: Literal["green", "blue"] = Field("green", description="the chroma screen a creature is generated on")
    made: Made = Field("unknown", description="how its reference images were made: drawing or photo (a person's "
                                              "work), procedural, generated, or unknown")


@dataclass(frozen=True, slots=True)
class CastMember:
    """One member of the cast, read and checked: its folder's name, the names it answers to, its references."""

    name: str                         # the folder's name (NFC): the id shots.toml and the breakdown use
    names: tuple[str, ...]            # every name the script may call it, Korean and English, the id first
    kind: CastKind
    description: str
    screen: Literal["green", "blue"]
    made: Made
    references: tuple[Path, ...]      # its reference images, sorted by file name

    @property
    def generated(self) -> bool:
        """Whether a take makes it (a creature or a digital double), rather than an actor on the plate."""
        return self.kind != "character"

    @property
    def human_made(self) -> bool:
        """Whether its references are a person's work (a drawing, a photo), which the disclosure credits."""
        return self.made in HUMAN_MADE


def sheet_slot(name: str) -> str:
    """The slot of a cast member's model sheet (``cast/<name>/sheet``): once approved, the reference of every
    later take of it."""
    return str(Slot.sheet(name))
