"""Render a project: sets → shots (key, comp, encode) → the cut.

Every output is keyed by a hash of the inputs that made it (see ``ledger``), so a re-run rebuilds only what
changed, and a killed run resumes where it stopped. A shot that fails does not stop the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal, TypeVar

import cv2
import numpy as np

from soundstage.comp import key, measure_screen, over
from soundstage.comp.camera import CameraMove
from soundstage.db import TakeRecord
from soundstage.edit import assemble_cut
from soundstage.errors import MediaError, SoundstageError
from soundstage.keys import content_key, file_digest
from soundstage.media import VideoWriter, probe, read_frames, read_image
from soundstage.pipeline.breakdown import breakdown_project
from soundstage.pipeline.ledger import RENDER_CODE, Ledger
from soundstage.pipeline.takes import Generation, Order
from soundstage.project import Project
from soundstage.script.breakdown import Shot
from soundstage.takes import background_slot, element_slot, set_slot

# Elements that fall between the camera and the actors; everything else plays behind them.
FRONT_ELEMENTS = frozenset({"rain", "snow", "fog", "sparks"})

Status = Literal["built", "cached", "failed", "skipped"]
T = TypeVar("T")
Progress = Callable[[str, int, int], None]   # (step, frames done, frames in step)


@dataclass
class StepResult:
    step: str                 # "set hanok-rooftops-night", "shot 3-1", "cut"
    status: Status
    output: Path | None = None
    reason: str = ""
    seconds: float = 0.0


@dataclass
class RenderReport:
    steps: list[StepResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[StepResult]:
        return [s for s in self.steps if s.status == "failed"]

    def count(self, status: Status) -> int:
        return sum(1 for s in self.steps if s.status == status)


def _quiet(step: str, done: int, total: int) -> None:
    return None


def render_project(project: Project, *, progress: Progress = _quiet) -> RenderReport:
    breakdown = breakdown_project(project)
    report = RenderReport(warnings=list(breakdown.warnings))
    ledger = Ledger(project.state_dir / "renders.json")
    generation = Generation(project)
    orders = generation.orders(breakdown)

    takes: dict[str, TakeRecord] = {}
    for order in orders:
        take = _step(f"take {order.slot}", report, partial(_take, generation, order, report))
        if take is not None:
            takes[order.slot] = take

    shot_files: list[tuple[Path, str]] = []
    for shot in breakdown.shots:
        needed = [o.slot for o in orders if shot.id in o.shots]
        missing = [slot for slot in needed if slot not in takes]
        if missing:
            report.steps.append(StepResult(f"shot {shot.id}", "skipped", reason=f"its take {missing[0]} failed"))
            continue
        layers = {slot: generation.store.files(takes[slot]) for slot in needed}
        key_of = {slot: takes[slot].key for slot in needed}
        made = _step(f"shot {shot.id}", report,
                     partial(_render_shot, project, shot, layers, key_of, ledger, progress))
        if made is not None:
            shot_files.append(made)

    if len(shot_files) == len(breakdown.shots) and shot_files:
        _step("cut", report, partial(_make_cut, project, shot_files, ledger, progress))
    else:
        report.steps.append(StepResult("cut", "skipped", reason="not every shot rendered"))
    return report


def _step(name: str, report: RenderReport, work: Callable[[], tuple[Status, Path, T]]) -> T | None:
    """Run one step; a SoundstageError fails this step only and is reported with its one-line reason."""
    started = time.perf_counter()
    try:
        status, output, value = work()
    except SoundstageError as exc:
        report.steps.append(StepResult(name, "failed", reason=str(exc), seconds=time.perf_counter() - started))
        return None
    report.steps.append(StepResult(name, status, output, seconds=time.perf_counter() - started))
    return value


# ---------------------------------------------------------------------------------------------- takes


def _take(generation: Generation, order: Order, report: RenderReport) -> tuple[Status, Path, TakeRecord]:
    """The slot's chosen take (approved, else the newest of this design), generated if there is none."""
    take = generation.chosen(order.slot, order.design)
    if take is not None:
        if take.design != order.design:
            report.warnings.append(f"{order.slot}: using approved take {take.label}, made from another prompt "
                                   "or engine than the script now asks for")
        return "cached", generation.store.files(take)[0], take
    take, made = generation.make(order)
    return ("built" if made else "cached"), generation.store.files(take)[0], take


# ---------------------------------------------------------------------------------------------- shots


def _render_shot(project: Project, shot: Shot, layers: dict[str, list[Path]], key_of: dict[str, str],
                 ledger: Ledger, progress: Progress) -> tuple[Status, Path, tuple[Path, str]]:
    settings = project.settings
    width, height = settings.resolution
    frames = max(1, round(shot.duration * settings.fps))
    plate = project.inside(shot.plate, source=project.shots_file, key="plate") if shot.plate else None
    shot_key = content_key(RENDER_CODE, "shot", shot.model_dump(exclude={"prompt", "seed", "engine"}),
                           sorted(key_of.items()), settings.fps, width, height,
                           file_digest(plate) if plate else None)
    output = project.out_dir / "shots" / f"{shot.id}.mp4"
    if ledger.is_current(output, shot_key):
        return "cached", output, (output, shot_key)

    moving = layers.get(background_slot(shot.id))
    backdrop = read_image(layers[set_slot(shot.set)][0])
    background = _background_frames(moving[0], frames, width, height) if moving else None
    camera = CameraMove(shot.camera.move, shot.camera.amount)
    elements = [(name, layers[element_slot(shot.id, name)]) for name in shot.elements]
    behind = [files for name, files in elements if name not in FRONT_ELEMENTS]
    front = [files for name, files in elements if name in FRONT_ELEMENTS]
    plate_frames = _plate_frames(plate, shot, frames, settings.fps, width, height) if plate else None

    screen = None
    with VideoWriter(output, width=width, height=height, fps=settings.fps) as writer:
        for index in range(frames):
            if background is not None:
                frame = next(background)
            else:
                frame = camera.frame(backdrop, index / max(frames - 1, 1), width, height)
            frame = _layer(frame, behind, index)
            if plate_frames is not None:
                picture = next(plate_frames)
                if screen is None:
                    screen = measure_screen(picture, shot.screen)
                foreground, alpha = key(picture, screen)
                frame = over(foreground, alpha, frame)
            frame = _layer(frame, front, index)
            writer.write(frame)
            progress(f"shot {shot.id}", index + 1, frames)
    ledger.record(output, shot_key)
    return "built", output, (output, shot_key)


def _background_frames(video: Path, frames: int, width: int, height: int) -> Iterator[np.ndarray]:
    """A moving background's frames at the project's size; a short one holds its last frame."""
    last = None
    count = 0
    for picture in read_frames(video):
        if count == frames:
            return
        last = picture if picture.shape[:2] == (height, width) else cv2.resize(picture, (width, height),
                                                                              interpolation=cv2.INTER_AREA)
        count += 1
        yield last
    if last is None:
        raise MediaError("the moving background has no frames", path=video)
    for _ in range(frames - count):
        yield last


def _layer(frame: np.ndarray, elements: list[list[Path]], index: int) -> np.ndarray:
    for files in elements:
        rgba = read_image(files[index % len(files)])
        frame = over(rgba[..., :3], rgba[..., 3], frame)
    return frame


def _plate_frames(plate: Path, shot: Shot, frames: int, fps: float, width: int, height: int,
                  ) -> Iterator[np.ndarray]:
    """The plate's frames at the project's size, checked against the project's frame rate and the shot's length."""
    info = probe(plate)
    if abs(float(info.fps) - fps) > 0.01:
        raise MediaError(f"plate runs at {float(info.fps):g} fps but the project is {fps:g} fps", path=plate,
                         shot=shot.id, hint="conform the plate, or change fps in soundstage.toml")
    available = info.frames or int(info.duration * fps + 0.5)
    if available and available < frames:
        raise MediaError(f"plate has {available} frames but the shot needs {frames} ({shot.duration:g} s)",
                         path=plate, shot=shot.id, hint="shorten the shot's duration in shots.toml")
    count = 0
    for picture in read_frames(plate):
        if count == frames:
            return
        if picture.shape[:2] != (height, width):
            picture = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
        count += 1
        yield picture
    if count < frames:
        raise MediaError(f"plate ended after {count} frames; the shot needs {frames}", path=plate, shot=shot.id)


# ---------------------------------------------------------------------------------------------- the cut


def _make_cut(project: Project, shot_files: list[tuple[Path, str]], ledger: Ledger, progress: Progress,
              ) -> tuple[Status, Path, str]:
    settings = project.settings
    width, height = settings.resolution
    cut_key = content_key(RENDER_CODE, "cut", [k for _, k in shot_files])
    output = project.out_dir / "cut.mp4"
    if ledger.is_current(output, cut_key):
        return "cached", output, cut_key
    total = sum(probe(path).frames for path, _ in shot_files)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        progress("cut", done, total)

    assemble_cut([p for p, _ in shot_files], output, width=width, height=height, fps=settings.fps, on_frame=tick)
    ledger.record(output, cut_key)
    return "built", output, cut_key
