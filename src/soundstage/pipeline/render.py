"""Render a project: sets → shots (key, comp, encode) → the cut.

Every output is keyed by a hash of the inputs that made it (see ``ledger``), so a re-run rebuilds only what
changed, and a killed run resumes where it stopped. A shot that fails does not stop the others.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np

from soundstage.comp import ScreenColour
from soundstage.comp.camera import CameraMove
from soundstage.comp.depth import estimate_depth
from soundstage.comp.grade import Lut3D
from soundstage.comp.light import defocus
from soundstage.comp.matte import Roto
from soundstage.comp.shot import Element, Look, ShotComp
from soundstage.db import TakeRecord
from soundstage.edit import assemble_cut
from soundstage.errors import MediaError, ProjectError, SoundstageError
from soundstage.keys import content_key, file_digest
from soundstage.media import (
    STILL_SUFFIXES,
    Background,
    conform_rate,
    conform_size,
    open_writer,
    probe,
    read_frames,
    read_image,
)
from soundstage.pipeline.breakdown import breakdown_project
from soundstage.pipeline.ledger import RENDER_CODE, Ledger
from soundstage.pipeline.lock import render_lock
from soundstage.pipeline.takes import Generation, Order
from soundstage.project import PlateSettings, Project
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


def render_project(project: Project, *, shots: Sequence[str] | None = None, progress: Progress = _quiet,
                   wait: bool = False) -> RenderReport:
    """Render the film: every shot and the cut, or with ``shots`` only those shots (and no cut).

    One render of a project runs at a time: a second one is refused with a clear message, or with ``wait``
    waits for the first to finish.
    """
    with render_lock(project.state_dir, wait=wait):
        return _render(project, shots, progress)


def _render(project: Project, shots: Sequence[str] | None, progress: Progress) -> RenderReport:
    breakdown = breakdown_project(project)
    if shots is not None:
        known = {shot.id for shot in breakdown.shots}
        unknown = [shot for shot in shots if shot not in known]
        if unknown:
            raise ProjectError(f"no shot {unknown[0]!r}; shots: {', '.join(sorted(known))}", path=project.shots_file)
        breakdown = breakdown.model_copy(update={"shots": [s for s in breakdown.shots if s.id in shots]})
    report = RenderReport(warnings=list(breakdown.warnings))
    ledger = Ledger(project.state_dir / "renders.json")
    generation = Generation(project)
    orders = generation.orders(breakdown)

    takes: dict[str, TakeRecord] = {}
    for order in orders:
        take = _step(f"take {order.slot}", report, partial(_take, generation, order, report))
        if take is not None:
            takes[order.slot] = take

    slots_of: dict[str, list[str]] = {}
    for order in orders:
        for shot_id in order.shots:
            slots_of.setdefault(shot_id, []).append(order.slot)
    shot_files: list[tuple[Path, str]] = []
    for shot in breakdown.shots:
        needed = slots_of.get(shot.id, [])
        missing = [slot for slot in needed if slot not in takes]
        if missing:
            report.steps.append(StepResult(f"shot {shot.id}", "skipped", reason=f"its take {missing[0]} failed"))
            continue
        layers = {slot: generation.store.files(takes[slot]) for slot in needed}
        key_of = {slot: takes[slot].key for slot in needed}
        made = _step(f"shot {shot.id}", report,
                     partial(_render_shot, project, shot, layers, key_of, ledger, progress, report))
        if made is not None:
            shot_files.append(made)

    if shots is not None:
        return report
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
                 ledger: Ledger, progress: Progress, report: RenderReport) -> tuple[Status, Path, tuple[Path, str]]:
    settings = project.settings
    width, height = settings.resolution
    frames = max(1, round(shot.duration * settings.fps))
    plate = _shot_file(project, shot.plate, "plate")
    clean_plate = _shot_file(project, shot.key.clean_plate, "key.clean_plate")
    lut = _shot_file(project, shot.comp.lut, "comp.lut")
    shot_key = content_key(RENDER_CODE, "shot", shot.model_dump(exclude={"prompt", "seed", "engine"}),
                           shot.seed if shot.comp.grain == "match" else None,
                           sorted(key_of.items()), settings.fps, width, height, settings.plates.model_dump(),
                           [file_digest(path) if path else None for path in (plate, clean_plate, lut)])
    output = project.out_dir / "shots" / f"{shot.id}.mp4"
    masters = {kind: master_path(project.out_dir, shot.id, kind) for kind in settings.render.deliver}
    finished = [output, *(_published(path) for path in masters.values())]
    if all(ledger.is_current(path, shot_key) for path in finished):
        return "cached", output, (output, shot_key)

    def warn(message: str) -> None:
        report.warnings.append(f"shot {shot.id}: {message}")

    plates = _plate_frames(plate, shot, frames, settings.fps, width, height, settings.plates) if plate else None
    first = next(plates) if plates is not None else None
    comp = ShotComp.prepare(
        width=width, height=height, frames=frames, seed=shot.seed, warn=warn,
        background=_background(layers, shot, frames, width, height),
        elements=_elements(layers, shot, width, height), look=_look(shot, lut),
        first_plate=first, screen=_screen(shot), plate_fit=None if settings.plates.size == "refuse" else
        settings.plates.size, key_options=_key_options(shot, first, clean_plate),
    )
    moving = layers.get(background_slot(shot.id))
    backgrounds = _moving_frames(moving[0], frames, width, height) if moving else None
    pictures = itertools.chain([first], plates) if plates is not None and first is not None else None
    with contextlib.ExitStack() as stack:
        # Each writer encodes in its own thread; comped frames are never changed after, so none is copied.
        writers = [stack.enter_context(Background(open_writer(path, width=width, height=height, fps=settings.fps,
                                                              alpha=False), copy=False))
                   for path in (output, *masters.values())]
        comp.render(writers, plates=pictures, backgrounds=backgrounds, threads=settings.render.threads,
                    on_frame=lambda done: progress(f"shot {shot.id}", done, frames))
    for path in finished:
        ledger.record(path, shot_key)
    return "built", output, (output, shot_key)


def master_path(out_dir: Path, shot_id: str, kind: str) -> Path:
    """Where a shot's finishing master goes: ProRes 4444 ``.mov``, or a folder of numbered PNG / EXR frames."""
    if kind == "prores":
        return out_dir / "masters" / f"{shot_id}.mov"
    return out_dir / "masters" / f"{shot_id}_{kind}" / f"{shot_id}.%04d.{kind}"


def _published(path: Path) -> Path:
    """What appears when a writer finishes: the file, or for a numbered sequence its folder."""
    return path.parent if "%" in path.name else path


def _shot_file(project: Project, relative: str | None, key: str) -> Path | None:
    return project.inside(relative, source=project.shots_file, key=key) if relative else None


def _screen(shot: Shot) -> ScreenColour | Literal["auto", "green", "blue"]:
    """The shot's screen: the colour the crew gave, else measured (of the channel they named, or either)."""
    if shot.key.screen_colour is None:
        return shot.screen
    rgb = tuple(c / 255.0 for c in shot.key.screen_colour)
    channel = shot.screen if shot.screen != "auto" else ("green" if rgb[1] >= rgb[2] else "blue")
    return ScreenColour(rgb=(rgb[0], rgb[1], rgb[2]), channel=channel)


def _key_options(shot: Shot, plate: np.ndarray | None, clean_plate: Path | None) -> dict[str, Any]:
    """The shot's key settings as ``key()`` takes them, with roto and clean plate at the plate's own size."""
    k = shot.key
    options: dict[str, Any] = {
        "clip_black": k.clip_black, "clip_white": k.clip_white, "detail_black": k.detail_black, "gain": k.gain,
        "balance": k.balance, "despill": None if k.despill == "none" else k.despill, "spill_luma": k.spill_luma,
        "refine": k.refine, "shrink": k.shrink, "softness": k.softness, "fill_holes": k.fill_holes,
    }
    if plate is None:
        return options
    height, width = plate.shape[:2]
    if k.keep or k.garbage or k.core:
        options["roto"] = Roto.build(width, height, keep=k.keep, garbage=k.garbage, core=k.core, feather=k.feather)
    if clean_plate is not None:
        picture = read_image(clean_plate)[..., :3] if clean_plate.suffix.lower() in STILL_SUFFIXES else \
            next(iter(read_frames(clean_plate)))
        if picture.shape != plate.shape:
            raise MediaError(f"clean plate is {picture.shape[1]}×{picture.shape[0]} but the plate is "
                             f"{width}×{height}", path=clean_plate, shot=shot.id,
                             hint="shoot the clean plate with the same camera set-up")
        options["clean_plate"] = picture
    return options


def _look(shot: Shot, lut: Path | None) -> Look:
    c = shot.comp
    return Look(match_colour=c.match_colour, light_wrap=c.light_wrap, grain=c.grain == "match",
                motion_blur=c.motion_blur, lut=Lut3D.read(lut) if lut else None)


def _background(layers: dict[str, list[Path]], shot: Shot, frames: int, width: int, height: int,
                ) -> Callable[[int], np.ndarray]:
    """The set as the camera sees it, frame by frame (defocused and moved as the shot asks)."""
    still = read_image(layers[set_slot(shot.set)][0])[..., :3]
    camera = CameraMove(shot.camera.move, shot.camera.amount, shot.camera.parallax)
    depth = estimate_depth(still) if shot.camera.parallax > 0 or shot.comp.defocus > 0 else None
    if depth is not None and shot.comp.defocus > 0:
        still = defocus(still, depth, focus=shot.comp.focus, amount=shot.comp.defocus)
    return camera.prepare(still, width, height, depth=depth if shot.camera.parallax > 0 else None,
                          frames=frames, shutter=shot.comp.motion_blur)


def _elements(layers: dict[str, list[Path]], shot: Shot, width: int, height: int) -> list[Element]:
    found = []
    for name in shot.elements:
        files = layers[element_slot(shot.id, name)]
        found.append(Element(name, _element_frames(files, width, height), shot.comp.blend.get(name, "over"),
                             front=name in FRONT_ELEMENTS))
    return found


def _element_frames(files: list[Path], width: int, height: int) -> Callable[[int], np.ndarray]:
    """An element's frames, looped if shorter than the shot; a few kept decoded (motion blur reads two)."""
    @functools.lru_cache(maxsize=6)
    def at(index: int) -> np.ndarray:
        rgba = read_image(files[index % len(files)])
        if rgba.shape[:2] != (height, width):
            raise MediaError(f"element frame is {rgba.shape[1]}×{rgba.shape[0]}, the project is {width}×{height}",
                             path=files[index % len(files)])
        return rgba if rgba.shape[2] == 4 else np.dstack([rgba, np.full(rgba.shape[:2], 255, np.uint8)])

    return at


def _moving_frames(video: Path, frames: int, width: int, height: int) -> Iterator[np.ndarray]:
    """A moving background's frames at the project's size; a short one holds its last frame."""
    last = None
    count = 0
    for picture in read_frames(video, prefetch=4):
        if count == frames:
            return
        last = picture if picture.shape[:2] == (height, width) else conform_size(picture, width, height, "fill")
        count += 1
        yield last
    if last is None:
        raise MediaError("the moving background has no frames", path=video)
    for _ in range(frames - count):
        yield last


def _plate_frames(plate: Path, shot: Shot, frames: int, fps: float, width: int, height: int,
                  policy: PlateSettings) -> Iterator[np.ndarray]:
    """The plate's frames at the project's rate, at their own size (the comp conforms them after the key, so
    letterbox bars are transparent); a mismatch is refused unless ``[plates]`` allows it."""
    info = probe(plate)
    rate = float(info.fps)
    if abs(rate - fps) > 0.01 and policy.rate == "refuse":
        raise MediaError(f"plate runs at {rate:g} fps but the project is {fps:g} fps", path=plate, shot=shot.id,
                         hint="conform the plate, or set [plates] rate = 'retime' in soundstage.toml")
    available = info.frames or int(info.duration * rate + 0.5)
    available = int(available * fps / rate) if abs(rate - fps) > 0.01 else available
    if available and available < frames:
        raise MediaError(f"plate has {available} frames but the shot needs {frames} ({shot.duration:g} s)",
                         path=plate, shot=shot.id, hint="shorten the shot's duration in shots.toml")
    if (info.width, info.height) != (width, height) and policy.size == "refuse":
        raise MediaError(f"plate is {info.width}×{info.height} but the project is {width}×{height}", path=plate,
                         shot=shot.id, hint="set [plates] size = 'fit' or 'fill' in soundstage.toml to conform it")
    pictures: Iterator[np.ndarray] = read_frames(plate, prefetch=4)
    if abs(rate - fps) > 0.01:
        pictures = conform_rate(pictures, rate, fps)
    count = 0
    for picture in pictures:
        if count == frames:
            return
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
