"""The AI/human ledger's records: what made each shot's pixels, measured from its comp's mattes, and the cut's sum.

Every rendered shot has a record beside its movie (``out/shots/<id>.json``): each layer's take (engine, model,
version, prompt, seed, cost, time, who approved it) and the share of frame area × time it shows in the final
comp. The plate's share is the human performance; the rest is generated, and ``ai_share`` is the part made
by trained models (the procedural engine is generated but not AI). A copy is kept for good under
``.soundstage/marks/<watermark>.json``, so a file found in the wild leads back to its takes even after the
shot was re-rendered.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from soundstage.atomic import write_text
from soundstage.records.slot import Slot
from soundstage.records.source import AssetKind, SourceType, is_ai

MARKS_DIR = "marks"


class Folders(Protocol):
    """Where a project keeps its outputs and its state (a ``Project`` is one)."""

    @property
    def out_dir(self) -> Path: ...

    @property
    def state_dir(self) -> Path: ...


class TakeFacts(Protocol):
    """What a layer record copies from the take it shows."""

    id: Any
    engine: Any
    model: Any
    engine_version: Any
    source_type: Any
    prompt: Any
    seed: Any
    cost_usd: Any
    seconds: Any

    @property
    def label(self) -> str: ...


class Approved(Protocol):
    """Who chose a slot's take, and when."""

    take_id: Any
    approved_by: Any
    approved_at: datetime


@dataclass(frozen=True)
class LayerRecord:
    """One generated layer of a shot: the take it shows, and how much of the shot it fills."""

    slot: str
    role: str                 # "set" | "background" | "element"
    name: str                 # the set id, the element name, or "background"
    take_id: int
    version: str              # "v002"
    engine: str
    model: str
    engine_version: str
    source_type: str          # IPTC digital source type of the take
    prompt: str
    seed: int
    cost_usd: float
    seconds: float
    approved_by: str | None = None
    approved_at: str | None = None
    share: float = 0.0        # of the shot's frame area × time, 0…1

    @property
    def is_ai(self) -> bool:
        return is_ai(self.source_type)

    @classmethod
    def of(cls, slot: str, take: TakeFacts, approval: Approved | None = None) -> LayerRecord:
        """The layer a take fills in its slot (share still unmeasured)."""
        parsed = Slot.parse(slot)
        by = at = None
        if approval is not None and approval.take_id == take.id:
            by, at = approval.approved_by or "unnamed", approval.approved_at.isoformat(timespec="seconds")
        return cls(slot, parsed.role, parsed.name, take.id, take.label, take.engine, take.model, take.engine_version,
                   take.source_type, take.prompt, take.seed, float(take.cost_usd), float(take.seconds), by, at)


@dataclass(frozen=True)
class SoundRecord:
    """One layer of a shot's sound: where it came from, the stem it plays in, and how long it sounds.

    Recorded sound (the plate's own, a recorder's WAV, room tone cut from them) is ``digitalCapture``; a sound
    take carries its take's source type, so "is it AI?" is asked of sound the same way as of pictures.
    """

    stem: str                     # "dialogue" | "effects" | "ambience"
    name: str                     # "production", "recorder", "room tone", or the element name
    source: str                   # the plate or WAV (project-relative), or the take's slot
    source_type: str              # IPTC digital source type
    seconds: float                # how long it is heard in the shot (not silent), s
    gain_db: float = 0.0          # shots.toml's gain for it
    take_id: int | None = None    # a sound take's, as LayerRecord's
    version: str | None = None
    engine: str | None = None
    model: str | None = None
    cost_usd: float = 0.0
    sync: str | None = None       # a recorder's: "timecode" or "waveform"
    offset_ms: float | None = None   # where the recorder's file starts against the plate's first sample, ms
    confidence: float | None = None  # a waveform sync's, 0…1
    notes: tuple[str, ...] = ()   # what was converted on the way in ("44.1 kHz resampled to 48 kHz")

    @property
    def is_ai(self) -> bool:
        return is_ai(self.source_type)

    @property
    def recorded(self) -> bool:
        """Captured on set (the plate's, a recorder's, room tone cut from them), not generated."""
        return self.source_type == SourceType.CAPTURED


@dataclass(frozen=True)
class ShotRecord:
    shot: str
    scene: str
    frames: int
    fps: float
    width: int
    height: int
    plate: str | None            # project-relative; None when the shot is wholly generated
    plate_share: float           # area × time that is the plate: the actors' performance
    ai_share: float              # area × time made by trained models
    generated_share: float       # area × time generated at all (AI and procedural)
    layers: tuple[LayerRecord, ...]
    watermark: str | None        # hex of the payload marked into the generated pixels
    render_seconds: float = 0.0
    rendered_at: str = ""
    key: str = ""                # the shot's render key (what the pixels were made from)
    sound: tuple[SoundRecord, ...] = ()   # its sound's layers; () for a record made before sound
    track_unsolved: tuple[int, ...] = ()  # frames of the plate's track that could not be solved (held)
    track_jumps: tuple[int, ...] = ()     # frames where the plate's track jumps

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ShotRecord:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        values["layers"] = tuple(LayerRecord(**layer) for layer in raw.get("layers", []))
        values["sound"] = tuple(SoundRecord(**{**layer, "notes": tuple(layer.get("notes", ()))})
                                for layer in raw.get("sound", []))
        for name in ("track_unsolved", "track_jumps"):
            values[name] = tuple(raw.get(name, ()))
        return cls(**values)


@dataclass(frozen=True)
class CutRecord:
    """The cut's ledger: its shots in order, with shares weighted by their frames."""

    shots: tuple[ShotRecord, ...]
    frames: int = field(init=False)
    ai_share: float = field(init=False)
    generated_share: float = field(init=False)
    plate_share: float = field(init=False)

    def __post_init__(self) -> None:
        frames = sum(s.frames for s in self.shots)
        weight = max(frames, 1)
        object.__setattr__(self, "frames", frames)
        for name in ("ai_share", "generated_share", "plate_share"):
            object.__setattr__(self, name, sum(getattr(s, name) * s.frames for s in self.shots) / weight)


def measured(layers: list[LayerRecord], coverage: dict[str, float]) -> tuple[tuple[LayerRecord, ...], dict[str, float]]:
    """Put the comp's coverage (``background``, element names, ``plate``) on the shot's layers.

    Returns the layers with their shares and the shot's plate / AI / generated shares.
    """
    placed = []
    for layer in layers:
        share = coverage.get("background" if layer.role in ("set", "background") else layer.name, 0.0)
        if layer.role == "set" and any(other.role == "background" for other in layers):
            share = 0.0            # a moving background plays in place of the still set
        if layer.role == AssetKind.SOUND:
            share = 0.0            # heard, not seen: the fire's sound covers none of the fire's pixels
        placed.append(replace(layer, share=round(share, 6)))
    plate = coverage.get("plate", 0.0)
    ai = float(sum(layer.share for layer in placed if layer.is_ai))
    return tuple(placed), {"plate_share": round(plate, 6), "ai_share": round(min(ai, 1.0), 6),
                           "generated_share": round(1.0 - plate, 6)}


def record_path(project: Folders, shot_id: str) -> Path:
    return project.out_dir / "shots" / f"{shot_id}.json"


def shot_stem_path(project: Folders, shot_id: str, stem: str) -> Path:
    """A shot's stem, beside its movie: ``out/shots/<id>.dialogue.wav`` (48 kHz 24-bit BWF)."""
    return project.out_dir / "shots" / f"{shot_id}.{stem}.wav"


def cut_stem_path(project: Folders, stem: str) -> Path:
    """The cut's stem, normalised with the mix: ``out/stems/dialogue.wav`` (BWF, the cut's start timecode)."""
    return project.out_dir / "stems" / f"{stem}.wav"


def write_shot_record(project: Folders, record: ShotRecord) -> Path:
    """Write the record beside the shot's movie, and keep a copy under its watermark for good."""
    path = record_path(project, record.shot)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = record.to_json()
    if record.watermark:
        marks = project.state_dir / MARKS_DIR
        marks.mkdir(parents=True, exist_ok=True)
        write_text(marks / f"{record.watermark}.json", text)
    write_text(path, text)
    return path


def read_shot_record(project: Folders, shot_id: str) -> ShotRecord | None:
    """The shot's record; None when the shot has not been rendered (or predates records)."""
    return _read(record_path(project, shot_id))


def read_cut_record(project: Folders, shot_ids: list[str]) -> CutRecord | None:
    """The records of the cut's shots in order; None if one is missing."""
    records = [read_shot_record(project, shot_id) for shot_id in shot_ids]
    if not records or any(r is None for r in records):
        return None
    return CutRecord(tuple(r for r in records if r is not None))


def find_mark(project: Folders, payload: bytes) -> ShotRecord | None:
    """The shot render a watermark payload was put in, from the kept copies."""
    return _read(project.state_dir / MARKS_DIR / f"{payload.hex()}.json")


def _read(path: Path) -> ShotRecord | None:
    if not path.is_file():
        return None
    try:
        return ShotRecord.from_dict(json.loads(path.read_text("utf-8")))
    except (ValueError, TypeError, KeyError):
        return None
