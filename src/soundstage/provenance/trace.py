"""Trace a file that lost its manifest (re-encoded, downscaled, screen-grabbed) back to its shots and takes.

The invisible watermark in the generated pixels carries the shot render's payload; the project keeps a
record under every payload it ever marked (``records.shot``), so the payload leads to the takes.
A cut carries one payload per shot: the file is read in short windows, and neighbouring windows that agree
are joined into one span.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from soundstage.errors import MediaError
from soundstage.media import STILL_SUFFIXES, read_frames, read_image
from soundstage.project import Project
from soundstage.provenance.record import mark_key
from soundstage.provenance.watermark import detect, detect_reframed
from soundstage.records.shot import ShotRecord, find_mark

WINDOW = 8     # frames read together: enough for a re-encoded mark, short enough for a 1-second shot
SEARCHES = 3   # windows in a row searched for a crop before the rest of a file is read as it is


@dataclass(frozen=True)
class Trace:
    """One span of frames that carries one mark, and the shot render it leads to (None: not this project's)."""

    first: int
    last: int
    payload: bytes
    confidence: float
    shot: ShotRecord | None

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"frames": [self.first, self.last], "payload": self.payload.hex(),
                                 "confidence": round(self.confidence, 2), "shot": None, "takes": []}
        if self.shot is not None:
            found["shot"] = self.shot.shot
            found["rendered_at"] = self.shot.rendered_at
            found["takes"] = [{"slot": layer.slot, "take": layer.version, "take_id": layer.take_id,
                               "engine": layer.engine, "model": layer.model, "engine_version": layer.engine_version,
                               "source_type": layer.source_type, "share": layer.share} for layer in self.shot.layers]
        return found


@dataclass(frozen=True)
class Reading:
    """What a file's frames gave: the marked spans, how many frames were read, and why reading stopped early."""

    traces: list[Trace]
    frames: int
    damage: str | None = None       # a truncated or damaged movie: read up to there

    @property
    def complete(self) -> bool:
        return self.damage is None


def trace_watermark(project: Project, path: Path, *, window: int = WINDOW) -> list[Trace]:
    """Every marked span of ``path`` (a movie or a still), with the shot render each leads to."""
    return read_watermark(project, path, window=window).traces


def read_watermark(project: Project, path: Path, *, window: int = WINDOW) -> Reading:
    """Every marked span of ``path`` (a movie or a still), with the shot render each leads to.

    A truncated or damaged movie is read as far as it decodes (a cut cut short still names its first shots);
    the reading says how many frames that was. A file with no decodable frame at all is refused.

    A copy cropped from the centre (a zoom-in, a 1:1 or 9:16 cut-down) is read too: where a window does not
    read as it is, the crops of ``watermark.REFRAMINGS`` are tried, and a crop that reads is tried first from
    then on. The search costs about a second a window, so it is given up after :data:`SEARCHES` windows in a
    row that found nothing.
    """
    if not path.is_file():
        raise MediaError("no such file", path=path)
    key = mark_key(project)
    found: list[Trace] = []
    crop = (0.0, 0.0)
    searches = 0
    windows = _Windows(path, window)
    for first, frames in windows:
        detection = detect(frames, key, crop=crop)
        if detection.payload is None and searches < SEARCHES:
            detection, tried = detect_reframed(frames, key)
            searches += 1
            if detection.payload is not None:
                crop = tried
        if detection.payload is None:
            continue
        searches = 0
        last = first + detection.frames - 1
        previous = found[-1] if found else None
        if previous is not None and previous.payload == detection.payload and previous.last == first - 1:
            found[-1] = Trace(previous.first, last, previous.payload, max(previous.confidence,
                                                                          detection.confidence), previous.shot)
        else:
            found.append(Trace(first, last, detection.payload, detection.confidence,
                               find_mark(project, detection.payload)))
    return Reading(found, windows.read, windows.damage)


class _Windows:
    """The file's frames in windows of ``window``; a movie that breaks off ends the windows where it broke."""

    def __init__(self, path: Path, window: int) -> None:
        self.path, self.window = path, window
        self.read = 0
        self.damage: str | None = None

    def __iter__(self) -> Iterator[tuple[int, list[np.ndarray]]]:
        if self.path.suffix.lower() in STILL_SUFFIXES:
            self.read = 1
            yield 0, [read_image(self.path)[..., :3]]
            return
        batch: list[np.ndarray] = []
        frames = read_frames(self.path)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except MediaError as exc:
                if self.read == 0:      # nothing decodes: not a movie to read a mark from
                    raise
                self.damage = exc.message
                break
            batch.append(frame)
            self.read += 1
            if len(batch) == self.window:
                yield self.read - len(batch), batch
                batch = []
        if batch:
            yield self.read - len(batch), batch
