"""The settings schema of ``shots.toml``, declared once, on the ground floor.

``project.py`` (the film's ``[comp]``), the breakdown (each shot's entry), the pipeline and the ``key`` command
all read these models; none of them declares a setting of its own. Only pydantic is imported here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Camera(BaseModel):
    model_config = ConfigDict(extra="forbid")

    move: Literal["static", "push-in", "pull-out", "pan-left", "pan-right", "tilt-up", "tilt-down"] = "static"
    amount: float = Field(0.08, ge=0, le=0.5, description="fraction of the frame the move travels")
    parallax: float = Field(0.0, ge=0, le=1, description="0: the set moves as one card; 1: near layers move most")


Point = tuple[Annotated[float, Field(ge=0, le=1)], Annotated[float, Field(ge=0, le=1)]]
Shape = Annotated[list[Point], Field(min_length=3)]


class KeySettings(BaseModel):
    """A shot's ``key = {…}``: how its plate is keyed. Defaults suit a well-lit screen."""

    model_config = ConfigDict(extra="forbid")

    screen_colour: tuple[int, int, int] | None = Field(None, description="RGB 0..255; default: measured")
    clean_plate: str | None = Field(None, description="the empty screen from the same set-up (image or clip)")
    clip_black: float = Field(0.12, ge=0, lt=1)
    clip_white: float = Field(0.9, gt=0, le=1)
    detail_black: float = Field(0.03, ge=0, lt=1)
    gain: float = Field(1.0, ge=0.1, le=10)
    balance: float | None = Field(None, ge=0, le=1)
    despill: Literal["edge", "average", "limit", "none"] = "edge"
    spill_luma: float = Field(0.0, ge=0, le=1)
    refine: int = Field(0, ge=0, le=8, description="px radius of the guided edge refit; 0: off")
    fill_holes: bool = Field(True, description="solid where the subject walls in a screen-coloured patch")
    shrink: int = Field(0, ge=-20, le=20, description="erode (< 0) or grow (> 0) the matte, px")
    softness: float = Field(0.0, ge=0, le=20, description="blur of the matte edge, px")
    keep: list[Shape] = Field(default_factory=list, description="shapes the subject stays inside")
    garbage: list[Shape] = Field(default_factory=list, description="shapes always keyed out")
    core: list[Shape] = Field(default_factory=list, description="shapes always kept solid")
    feather: float = Field(2.0, ge=0, le=50, description="px of softness on the roto shapes")

    @model_validator(mode="after")
    def _levels_in_order(self) -> KeySettings:
        if not (self.clip_black < self.clip_white and self.detail_black < self.clip_white):
            raise ValueError("clip_black and detail_black must be below clip_white")
        return self

    def keyer_arguments(self) -> dict[str, Any]:
        """These settings as ``comp.keyer.key`` takes them: the levels, despill and matte tools; the clean
        plate, roto shapes and screen colour are pictures and shapes the caller builds at the plate's size."""
        return {"clip_black": self.clip_black, "clip_white": self.clip_white, "detail_black": self.detail_black,
                "gain": self.gain, "balance": self.balance, "despill": None if self.despill == "none" else self.despill,
                "spill_luma": self.spill_luma, "refine": self.refine, "shrink": self.shrink,
                "softness": self.softness, "fill_holes": self.fill_holes}


BlendMode = Literal["over", "screen", "add"]


class CompSettings(BaseModel):
    """How a shot's layers sit together: ``[comp]`` in soundstage.toml for the film, ``comp = {…}`` per shot."""

    model_config = ConfigDict(extra="forbid")

    match_colour: float = Field(0.0, ge=0, le=1, description="move the actors' colour toward the set's")
    light_wrap: float = Field(0.0, ge=0, le=1, description="the set's light bleeding onto the actors' edges")
    grain: Literal["match", "none"] = Field("match", description="grain measured on the plate, added to the set")
    defocus: float = Field(0.0, ge=0, le=1, description="lens blur of the set away from the focus depth")
    focus: float = Field(0.0, ge=0, le=1, description="depth in focus: 0 nearest, 1 the horizon")
    motion_blur: float = Field(0.0, ge=0, le=1, description="shutter of the elements' motion blur (0.5 = 180°)")
    blend: dict[str, BlendMode] = Field(default_factory=dict, description="element → over, screen or add")
    lut: str | None = Field(None, description="a .cube file inside the project: the final grade")


# A shot id is slate-sized. It names files (out/shots/<id>.mp4, masters as <id>_exr/<id>.0001.exr, records),
# and a file name holds 255 bytes, a Hangul letter taking 3; it names take slots and timeline clips, and is
# read at a glance in a burn-in, a table cell or a review playlist. 32 letters leave all of these room.
SHOT_ID_MAX = 32
SCENE_NUMBER_MAX = SHOT_ID_MAX // 2    # room for the shot's own part (12A → 12A-3) and inserted scenes (12AB)
SHOT_ID = re.compile(r"[^\W_][\w.-]*")   # the characters a shot id (and so a scene number) may hold


class ShotEntry(BaseModel):
    """One ``[[shot]]`` of ``shots.toml``: anything left out comes from the screenplay and the settings."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    scene: str = Field(min_length=1)
    plate: str | None = None
    duration: float | None = Field(None, gt=0, le=600)
    prompt: str | None = None
    elements: list[str] | None = None
    camera: Camera = Field(default_factory=Camera)   # a factory: a default instance is deep-copied, slowly
    screen: Literal["auto", "green", "blue"] = "auto"
    seed: int | None = Field(None, ge=0)
    engine: str | None = None                       # this shot's elements and background; None: the project's
    background: Literal["still", "moving"] = "still"  # moving: a generated video instead of a camera move on the set
    key: KeySettings = Field(default_factory=KeySettings)
    comp: CompSettings = Field(default_factory=CompSettings)  # what it sets overrides the project's [comp]

    @field_validator("id")
    @classmethod
    def _shot_id(cls, value: str) -> str:
        """Refused when shots.toml is read, not when its first file is written minutes into a render."""
        if len(value) > SHOT_ID_MAX:
            raise ValueError(f"is {len(value)} characters; a shot id is at most {SHOT_ID_MAX} (it names files)")
        if not SHOT_ID.fullmatch(value):
            if not re.fullmatch(r"[\w.-]+", value):
                raise ValueError(f"{value!r} may hold only letters, digits, '.', '_' and '-'")
            raise ValueError(f"{value!r} must start with a letter or digit")
        return value


def choices(model: type[BaseModel], name: str) -> tuple[str, ...]:
    """The words a setting takes (a ``Literal``), in the order declared: for a command-line flag of the same."""
    return get_args(model.model_fields[name].annotation)


def bounds(model: type[BaseModel], name: str) -> tuple[Any, Any]:
    """A setting's least and greatest value (its ``ge`` and ``le``): for a command-line flag of the same."""
    metadata = model.model_fields[name].metadata
    return tuple(next(getattr(m, bound) for m in metadata if hasattr(m, bound)) for bound in ("ge", "le"))  # type: ignore[return-value]
