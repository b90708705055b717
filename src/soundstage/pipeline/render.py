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
from typing import Literal

import cv2
import numpy as np

from soundstage.atomic import write_text
from soundstage.comp import key, measure_screen, over
from soundstage.comp.camera import CameraMove, overscan_size
from soundstage.edit import assemble_cut
from soundstage.engines import AssetKind, AssetRequest, Engine, load_engine
from soundstage.errors import MediaError, SoundstageError
from soundstage.media import VideoWriter, probe, read_frames, read_image
from soundstage.pipeline.breakdown import breakdown_project
from soundstage.pipeline.ledger import RENDER_CODE, Ledger, content_key, file_digest
from soundstage.project import Project
from soundstage.script.breakdown import SetDesign, Shot

# Elements that fall between the camera and the actors; everything else plays behind them.
FRONT_ELEMENTS = frozenset({"rain", "snow", "fog", "sparks"})

Status = Literal["built", "cached", "failed", "skipped"]
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
    name = project.settings.engine
    engine = load_engine(name, project.settings.engines.get(name), root=project.root, source=project.settings_path)
    sets = {s.id: s for s in breakdown.sets}

    set_files: dict[str, tuple[Path, str]] = {}
    for set_id in dict.fromkeys(shot.set for shot in breakdown.shots):
        _, made = _step(f"set {set_id}", report, partial(_make_set, project, engine, sets[set_id], ledger))
        if made:
            set_files[set_id] = made

    shot_files: list[tuple[Path, str]] = []
    for shot in breakdown.shots:
        if shot.set not in set_files:
            report.steps.append(StepResult(f"shot {shot.id}", "skipped", reason=f"its set {shot.set} failed"))
            continue
        _, made = _step(f"shot {shot.id}", report,
                        partial(_render_shot, project, engine, shot, set_files[shot.set], ledger, report, progress))
        if made:
            shot_files.append(made)

    if len(shot_files) < len(breakdown.shots):
        report.steps.append(StepResult("cut", "skipped", reason="not every shot rendered"))
    else:
        _step("cut", report, lambda: _make_cut(project, shot_files, ledger, progress))
    return report


def _step(name: str, report: RenderReport, work: Callable[[], tuple[Status, Path, str]],
          ) -> tuple[StepResult, tuple[Path, str] | None]:
    """Run one step; a SoundstageError fails this step only and is reported with its one-line reason."""
    started = time.perf_counter()
    try:
        status, output, output_key = work()
    except SoundstageError as exc:
        result = StepResult(name, "failed", reason=str(exc), seconds=time.perf_counter() - started)
        report.steps.append(result)
        return result, None
    result = StepResult(name, status, output, seconds=time.perf_counter() - started)
    report.steps.append(result)
    return result, (output, output_key)


# ---------------------------------------------------------------------------------------------- sets


def _make_set(project: Project, engine: Engine, design: SetDesign, ledger: Ledger) -> tuple[Status, Path, str]:
    width, height = overscan_size(*project.settings.resolution)
    request = AssetRequest(kind=AssetKind.SET, prompt=design.prompt, width=width, height=height,
                           seed=project.settings.seed)
    set_key = content_key("set", engine.name, request)
    folder = project.state_dir / "takes" / "sets" / design.id / set_key[:16]
    existing = folder / "set.png"
    if ledger.is_current(existing, set_key):
        return "cached", existing, set_key
    generated = engine.generate(request, folder)
    output = generated.files[0]
    ledger.record(output, set_key)
    return "built", output, set_key


def _make_elements(project: Project, engine: Engine, shot: Shot, frames: int, ledger: Ledger,
                   report: RenderReport) -> list[tuple[str, list[Path]]]:
    """Each element of the shot as a folder of RGBA frames; ones the engine cannot make are reported."""
    width, height = project.settings.resolution
    layers = []
    for name in shot.elements:
        request = AssetRequest(kind=AssetKind.ELEMENT, prompt=name, width=width, height=height, element=name,
                               seed=shot.seed, duration=frames / project.settings.fps, fps=project.settings.fps)
        element_key = content_key("element", engine.name, request)
        folder = project.state_dir / "takes" / "elements" / name / element_key[:16]
        marker = folder / "take.done"
        if ledger.is_current(marker, element_key):
            files = sorted(folder.glob("*.png"))
        else:
            try:
                files = list(engine.generate(request, folder).files)
            except SoundstageError as exc:
                report.warnings.append(f"shot {shot.id}: element {name!r} left out: {exc}")
                continue
            write_text(marker, element_key)
            ledger.record(marker, element_key)
        layers.append((name, files))
    return layers


# ---------------------------------------------------------------------------------------------- shots


def _render_shot(project: Project, engine: Engine, shot: Shot, set_file: tuple[Path, str], ledger: Ledger,
                 report: RenderReport, progress: Progress) -> tuple[Status, Path, str]:
    settings = project.settings
    width, height = settings.resolution
    frames = max(1, round(shot.duration * settings.fps))
    plate = project.inside(shot.plate, source=project.shots_file, key="plate") if shot.plate else None
    shot_key = content_key(RENDER_CODE, "shot", shot.model_dump(), set_file[1], settings.fps, width, height,
                           engine.name, file_digest(plate) if plate else None)
    output = project.out_dir / "shots" / f"{shot.id}.mp4"
    if ledger.is_current(output, shot_key):
        return "cached", output, shot_key

    backdrop = read_image(set_file[0])
    camera = CameraMove(shot.camera.move, shot.camera.amount)
    layers = _make_elements(project, engine, shot, frames, ledger, report)
    behind = [files for name, files in layers if name not in FRONT_ELEMENTS]
    front = [files for name, files in layers if name in FRONT_ELEMENTS]
    plate_frames = _plate_frames(plate, shot, frames, settings.fps, width, height) if plate else None

    screen = None
    with VideoWriter(output, width=width, height=height, fps=settings.fps) as writer:
        for index in range(frames):
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
    return "built", output, shot_key


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
