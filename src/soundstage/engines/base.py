"""The Engine protocol: what every generator backend implements, in one file per backend.

A request says what to make. Before anything is spent the engine *quotes* it (which model, priced in which
unit, how many units), so ``soundstage plan`` and the budget cap can work without sending a byte. Then it
generates, writing files under a folder it is given, and returns the facts a take records (model, version,
parameters, units used, whether the pixels are AI-made).

Engines are found by the ``soundstage.engines`` entry point, so adding one never edits the pipeline. Each
engine reads its own ``[engines.<name>]`` table of ``soundstage.toml`` through its ``Options`` model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, Self, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from soundstage.records import AssetKind, SourceType
from soundstage.records.slot import AMBIENCE

Unit = Literal["image", "video_second", "gpu_second", "cpu_second"]

#: What a request can carry beyond its words, by the names engines declare and ``plan`` shows.
CONDITIONING = ("first_frame", "last_frame", "references:subject", "references:style", "references:set",
                "extend", "camera_hint")
#: What a take is refused without, when asked for: the crew's own frames, its cast, an extension. The rest
#: (style and set references, a camera hint) only steer, and an engine that cannot take them drops them,
#: saying so in the plan.
REQUIRED = frozenset({"first_frame", "last_frame", "references:subject", "extend"})


@dataclass(frozen=True, slots=True)
class Honours:
    """What an engine does with a request's conditioning for one kind of take, and how far it goes."""

    uses: frozenset[str] = frozenset()   # names from CONDITIONING
    max_references: int = 0             # images it takes at once, all roles together
    extend_seconds: float = 0.0         # seconds one extension adds
    max_seconds: float = 0.0            # the longest a clip may grow by extension (0: no extension)
    max_clip: float = 0.0               # the longest clip one job makes (0: any length)


@dataclass(frozen=True, slots=True)
class Reference:
    """An image that steers a take, and what it steers: the subject, the style or the set."""

    path: Path
    role: Literal["subject", "style", "set"] = "set"


@dataclass(frozen=True, slots=True)
class AssetRequest:
    kind: AssetKind
    prompt: str
    width: int
    height: int
    seed: int
    look: str = ""                      # the project's style bible; engines add it to the prompt
    negative_prompt: str = ""
    duration: float | None = None       # seconds, for BACKGROUND, ELEMENT and SOUND
    fps: float | None = None
    references: tuple[Reference, ...] = ()   # images that steer it: the set, a cast member's sheet, a style
    element: str | None = None          # ELEMENT: "fire", "rain", ...; SOUND: the element heard, None: ambience
    screen: Literal["green", "blue"] | None = None   # ELEMENT: made opaque on this chroma screen (a creature) and
                                                     # keyed by soundstage; None: made on black, keyed by luminance
    first_frame: Path | None = None     # the picture a moving take starts from (image-to-video)
    last_frame: Path | None = None      # the picture it ends on
    extend: Path | None = None          # the video of the take to extend: the new take is it, continued
    camera_hint: str | None = None      # the camera's move in words ("slow push-in"), for engines that take it

    def asks(self) -> tuple[str, ...]:
        """The conditioning this request carries, by CONDITIONING's names, in that order."""
        roles = {f"references:{r.role}" for r in self.references}
        present = {"first_frame": self.first_frame is not None, "last_frame": self.last_frame is not None,
                   "extend": self.extend is not None, "camera_hint": bool(self.camera_hint)}
        return tuple(name for name in CONDITIONING if present.get(name, name in roles))

    @property
    def full_prompt(self) -> str:
        """The prompt as sent to a text-to-image model: the shot's words, then the look."""
        return f"{self.prompt}. {self.look}" if self.look else self.prompt


@dataclass(frozen=True, slots=True)
class Quote:
    """What a request will use before it is sent: the model that answers it, its price unit and how many.

    The take store turns this into money with the price table, and refuses the request if it would cross the
    budget. ``quantity`` is an estimate for local engines (GPU- or CPU-seconds) and exact for priced APIs.
    """

    engine: str
    model: str
    unit: Unit
    quantity: float


@dataclass(frozen=True, slots=True)
class Generated:
    """What an engine made: the files and the facts a take records about them."""

    files: tuple[Path, ...]
    engine: str
    model: str
    version: str
    source_type: SourceType
    parameters: dict[str, Any] = field(default_factory=dict)
    unit: Unit = "image"
    quantity: float = 1.0     # units actually used: images, seconds of video, GPU- or CPU-seconds
    seconds: float = 0.0      # wall time spent generating


class EngineOptions(BaseModel):
    """Base of each engine's ``[engines.<name>]`` table. Unknown keys are refused, as in the rest of the file."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def checked(cls, options: EngineOptions | None) -> Self:
        """These options as this engine's own Options (validated again if they came as the base class)."""
        if isinstance(options, cls):
            return options
        return cls.model_validate(options.model_dump() if options else {})


class HTTPOptions(EngineOptions):
    """What every engine that calls a service shares: where, how long to wait, and how hard to retry."""

    base_url: str | None = None                          # None: the service's public address
    timeout: float = Field(300.0, gt=0, le=7200)         # seconds for one call
    retries: int = Field(4, ge=0, le=20)                 # on rate limits (429) and server errors (5xx)
    backoff: float = Field(2.0, ge=0, le=120)            # first wait in seconds; doubles each retry
    poll_interval: float = Field(5.0, gt=0, le=600)      # long-running jobs (Veo, ComfyUI)


@runtime_checkable
class Engine(Protocol):
    """One generator backend.

    Constructed as ``EngineClass(options, root)``: ``options`` is the engine's validated ``Options``, ``root``
    the project folder that relative paths in the options are resolved against.
    """

    name: ClassVar[str]
    Options: ClassVar[type[EngineOptions]]
    kinds: ClassVar[frozenset[AssetKind]]      # what it can make
    # the elements it makes, by every name it answers to (lower case); None: any, since a prompt asks for it
    elements: ClassVar[frozenset[str] | None]
    # the elements it makes sound for, by every name it answers to, and "ambience" if it makes a shot's bed;
    # None: any, since a prompt asks for it. Only read where AssetKind.SOUND is in kinds. An instance may
    # decide it from its options (ComfyUI makes sound only with an audio workflow).
    sounds: frozenset[str] | None
    takes_references: ClassVar[bool]           # whether request.references steer it (continuity)
    # An engine says what conditioning it honours with ``honours_for(kind) -> Honours`` (read through
    # :func:`honours`, which falls back on ``takes_references`` for engines written before it), and refuses in
    # ``quote`` a request that needs what it cannot do (:func:`dropped`).
    source_type: ClassVar[SourceType]

    def quote(self, request: AssetRequest) -> Quote:
        """Say what the request would use, without sending anything. Raises EngineError if it cannot be made."""
        ...

    def generate(self, request: AssetRequest, out_dir: Path) -> Generated:
        """Make the asset, writing its files atomically under ``out_dir`` (which exists and is empty).

        Files: ``set.png`` for SET; ``background.mp4`` for BACKGROUND (and ``background.wav`` where the
        model made its sound too); ``element_0000.png``… (straight RGBA) for ELEMENT; ``sound.wav`` (48 kHz
        24-bit BWF, ``request.duration`` long) for SOUND. Failures raise the EngineError subclasses in
        ``soundstage.errors``.
        """
        ...


def honours(engine: Engine, kind: AssetKind) -> Honours:
    """What ``engine`` does with conditioning on a take of ``kind``: its ``honours_for(kind)``, or for an engine
    written before conditioning, one set reference where it said ``takes_references``."""
    declared = getattr(engine, "honours_for", None)
    if declared is not None:
        return declared(kind)
    return Honours(frozenset({"references:set"}), max_references=1) if engine.takes_references else Honours()


def dropped(request: AssetRequest, honoured: Honours) -> tuple[list[str], list[str]]:
    """(refused, dropped): what the request asks that the engine cannot do and the take needs, and what it
    only steers with and the engine leaves out. References past ``max_references`` are dropped set first, then
    style; subject references are the last to go, and going at all is refused."""
    refused, left = [], []
    for name in request.asks():
        if name not in honoured.uses:
            (refused if name in REQUIRED else left).append(name)
    kept = [r for r in request.references if f"references:{r.role}" in honoured.uses]
    order = {"subject": 0, "style": 1, "set": 2}
    over = sorted(kept, key=lambda r: order[r.role])[honoured.max_references:]
    for reference in over:
        (refused if reference.role == "subject" else left).append(f"references:{reference.role} {reference.path}")
    return refused, left


def kept_references(request: AssetRequest, honoured: Honours) -> tuple[Reference, ...]:
    """The references an engine sends: the roles it takes, subject first, at most ``max_references``."""
    order = {"subject": 0, "style": 1, "set": 2}
    kept = [r for r in request.references if f"references:{r.role}" in honoured.uses]
    return tuple(sorted(kept, key=lambda r: order[r.role])[:honoured.max_references])


def makes_element(engine: Engine, name: str) -> bool:
    """Whether ``engine`` makes the element ``name`` (as a shot names it), asked before anything is generated."""
    return engine.elements is None or name.strip().lower() in engine.elements


def makes_sound(engine: Engine, element: str | None) -> bool:
    """Whether ``engine`` makes the sound of the element ``element`` (None: the shot's ambience bed), asked before
    anything is generated. An engine without the SOUND kind makes none."""
    if AssetKind.SOUND not in engine.kinds:
        return False
    sounds = getattr(engine, "sounds", None)
    return sounds is None or (element or AMBIENCE).strip().lower() in sounds
