"""The traditional rate card: what a shot would cost as a VFX bid, to set beside what its AI takes cost.

Public per-shot bids are rare, so the traditional side is a card the producer edits: artist-hours per shot
type × a day rate, plus supervision and contingency. The defaults (``templates/ratecard.toml``, copied into
new projects) carry their sources, which the report prints. A project's ``ratecard.toml`` replaces the
defaults whole, so a figure left out is refused rather than silently taken from somewhere else.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from soundstage.errors import ProjectError
from soundstage.project import find_key_line, read_toml
from soundstage.script.breakdown import Shot

RATECARD_FILE = "ratecard.toml"
SHOT_TYPES = ("simple", "medium", "complex")     # what the rule infers; a card may add its own for [shots]

# Strict numbers: "5" in quotes is a typo in a bid, not five hours; inf and nan are never an amount.
_NUMBER = ConfigDict(extra="forbid", strict=True)


class ShotType(BaseModel):
    model_config = _NUMBER

    hours: float = Field(ge=0, le=10_000, allow_inf_nan=False, description="artist-hours for one shot")
    description: str = ""


class AiCrew(BaseModel):
    model_config = _NUMBER

    crew_minutes_per_take: float = Field(10.0, ge=0, le=24 * 60, allow_inf_nan=False,
                                         description="the crew's time around one AI take (an estimate)")


class RateCard(BaseModel):
    """``ratecard.toml``."""

    model_config = _NUMBER

    currency: Literal["USD", "KRW"] = "USD"
    day_rate: float = Field(gt=0, allow_inf_nan=False, description="one artist-day, in `currency`")
    day_hours: float = Field(8.0, gt=0, le=24, allow_inf_nan=False)
    supervision: float = Field(ge=0, le=100, allow_inf_nan=False, description="percent of the artists' cost")
    contingency: float = Field(ge=0, le=100, allow_inf_nan=False, description="percent of the artists' cost")
    source: str = ""
    date: str = ""
    type: dict[str, ShotType]
    ai: AiCrew = AiCrew()
    shots: dict[str, str] = Field(default_factory=dict, description="shot id → shot type, by hand")

    @model_validator(mode="after")
    def _known_types(self) -> RateCard:
        missing = [name for name in SHOT_TYPES if name not in self.type]
        if missing:
            raise ValueError(f"type.{missing[0]}: is missing (the card needs the hours of each of "
                             f"{', '.join(SHOT_TYPES)})")
        for shot, name in self.shots.items():
            if name not in self.type:
                raise ValueError(f"shots.{shot}: unknown shot type {name!r} (the card has "
                                 f"{', '.join(self.type)})")
        return self

    @property
    def hour_rate(self) -> float:
        """One artist-hour, in the card's currency."""
        return self.day_rate / self.day_hours

    @property
    def markup(self) -> float:
        """What supervision and contingency add to the artists' cost."""
        return 1.0 + (self.supervision + self.contingency) / 100.0


@dataclass(frozen=True)
class ShotClass:
    """A shot's type on the card and why: the rule's reading of its layers, or the card's [shots] entry."""

    name: str
    reason: str                       # in words, for the CSV
    layers: tuple[str, ...] = ()      # what the rule read: "keyed plate", "set", "fire"…; empty when set by hand


def load_ratecard(project_root: Path | None = None) -> tuple[RateCard, str]:
    """The project's ``ratecard.toml`` if it has one, else the built-in card; and where it came from."""
    own = project_root / RATECARD_FILE if project_root is not None else None
    if own is not None and own.is_file():
        raw, text = read_toml(own)
        return _checked(raw, text, own), RATECARD_FILE
    text = resources.files("soundstage.templates").joinpath(RATECARD_FILE).read_text("utf-8")
    return _checked(tomllib.loads(text), text, Path(RATECARD_FILE)), "built-in rate card"


def _checked(raw: dict, text: str, path: Path) -> RateCard:
    try:
        return RateCard.model_validate(raw)
    except ValidationError as exc:
        raise _ratecard_error(exc, path, text) from None


def _ratecard_error(exc: ValidationError, path: Path, text: str) -> ProjectError:
    """One line naming the file, the key and its line. A misspelt key is named before the one it left missing."""
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    loc = [str(part) for part in first["loc"]]
    key = ".".join(loc)
    kind = first["type"]
    if kind == "missing":
        message = "is missing"
    elif kind == "extra_forbidden":
        message = "is not a key a rate card has"
    elif kind in ("float_type", "int_type", "string_type", "dict_type"):
        wanted = {"float_type": "a number", "int_type": "a whole number", "string_type": "text",
                  "dict_type": "a table"}[kind]
        message = f"must be {wanted}, not {first['input']!r}"
    elif kind == "value_error":
        message = str(first.get("ctx", {}).get("error", first["msg"]))
        if not loc:                                  # the card's own checks name their key first
            key, _, message = message.partition(": ")
            loc = key.split(".")
    else:
        message = first["msg"]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ProjectError(f"{key}: {message}{more}", path=path, line=_line(text, loc))


def _line(text: str, loc: list[str]) -> int | None:
    """Where ``loc`` (``type.medium.hours``) is written: the key inside its table, else the table, else the key."""
    if not loc:
        return None
    if len(loc) > 1:
        table = find_key_line(text, loc[-2])
        if table is not None:
            lines = text.splitlines()
            for number in range(table, len(lines)):
                row = lines[number].strip()
                if row.startswith("["):
                    break
                if find_key_line(row, loc[-1]):
                    return number + 1
            return table
    return find_key_line(text, loc[-1])


def classify(shot: Shot, card: RateCard) -> ShotClass:
    """The shot's type: what the card says for it, else the rule written in ``ratecard.toml``."""
    if shot.id in card.shots:
        return ShotClass(card.shots[shot.id], "set in ratecard.toml")
    elements = len(shot.elements)
    layers = (("keyed plate",) if shot.plate else ()) + ("moving set" if shot.background == "moving" else "set",) \
        + tuple(shot.elements)
    described = " + ".join(layers)
    if elements >= 2 or shot.background == "moving":
        return ShotClass("complex", described, layers)
    if shot.plate or elements == 1:
        return ShotClass("medium", described, layers)
    return ShotClass("simple", described, layers)
