"""End to end: a small project rendered for real — sets, keyed plates, shots, the cut — and re-rendered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soundstage.media import VideoWriter, probe, read_frames
from soundstage.pipeline import render_project
from soundstage.pipeline.render import Quiet
from soundstage.project import Project

W, H, FPS = 192, 108, 12

SCRIPT = """\
Title: Tiny

EXT. HANOK ROOFTOPS - NIGHT

Fire on the eaves. MIN-JI runs.

EXT. SEA CLIFF - DUSK

Rain sweeps in.
"""

SHOTS = """\
[[shot]]
id = "1-1"
scene = "1"
plate = "plates/actor.mp4"
duration = 1.0
elements = []

[[shot]]
id = "2-1"
scene = "2"
duration = 0.5
elements = ["{element}"]
camera = {{ move = "push-in", amount = 0.1 }}
"""


def green_plate(path: Path, frames: int, fps: float = FPS) -> None:
    """An 'actor' (a red block) on an unevenly lit green screen: the alpha is known exactly."""
    ramp = np.linspace(0.8, 1.0, W, dtype=np.float32)[None, :, None]
    screen = (np.array([40, 190, 50], np.float32) * ramp).repeat(H, 0).astype(np.uint8)
    with VideoWriter(path, width=W, height=H, fps=fps) as writer:
        for index in range(frames):
            frame = screen.copy()
            frame[40:100, 60 + index: 110 + index] = (200, 60, 50)
            writer.write(frame)


@pytest.fixture
def tiny(tmp_path: Path) -> Project:
    (tmp_path / "soundstage.toml").write_text(
        f'title = "Tiny"\nscreenplay = "tiny.fountain"\nfps = {FPS}\nresolution = [{W}, {H}]\nseed = 3\n'
        '[look]\npalette = "teal nights"\n')
    (tmp_path / "tiny.fountain").write_text(SCRIPT)
    (tmp_path / "shots.toml").write_text(SHOTS.format(element="rain"))
    (tmp_path / "plates").mkdir()
    green_plate(tmp_path / "plates" / "actor.mp4", FPS)
    return Project.load(tmp_path)


def statuses(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {step.step: step.status for step in report.steps}


def test_render_cut_and_incremental_rerender(tiny: Project) -> None:
    report = render_project(tiny)
    assert not report.failed, report.failed
    cut = tiny.out_dir / "cut.mp4"
    info = probe(cut)
    assert (info.width, info.height, info.frames) == (W, H, FPS + FPS // 2)

    frames = list(read_frames(cut))
    first = frames[0].astype(int)
    r, g, _ = first[70, 85]
    assert r > 150 and g < 110, "the actor is keyed in, red and despilled"
    corner = first[5:30, 5:40].reshape(-1, 3).mean(0)
    assert not (corner[1] > corner[0] + 40 and corner[1] > corner[2] + 40), "no green screen left in the comp"
    assert corner.mean() < 110, "a night set behind the actor"
    assert frames[FPS].std() > 5, "the second shot has a picture"

    shot_files = {p.name: p.stat().st_mtime_ns for p in (tiny.out_dir / "shots").iterdir()}
    again = render_project(tiny)
    assert set(statuses(again).values()) == {"cached"}
    assert {p.name: p.stat().st_mtime_ns for p in (tiny.out_dir / "shots").iterdir()} == shot_files

    # another element for one shot makes that take, rebuilds that shot and the cut, and nothing else
    (tiny.root / "shots.toml").write_text(SHOTS.format(element="snow"))
    third = statuses(render_project(tiny))
    assert third["take shot/2-1/element/snow"] == "built"
    assert third["shot 2-1"] == "built" and third["cut"] == "built"
    assert third["shot 1-1"] == "cached" and third["take set/hanok-rooftops-night"] == "cached"
    assert third["take set/sea-cliff-dusk"] == "cached"


def test_a_step_that_breaks_fails_alone_and_the_rerun_builds_it(tiny: Project) -> None:
    class Broken(Exception):
        pass

    class BreakMidway(Quiet):
        def advanced(self, step: str, done: int) -> None:
            if step == "shot 2-1" and done == 3:
                raise Broken("the watcher broke")

    report = render_project(tiny, progress=BreakMidway())
    result = statuses(report)
    assert result["shot 2-1"] == "failed" and "Broken: the watcher broke" in report.failed[0].reason
    assert result["shot 1-1"] == "built" and result["cut"] == "skipped"
    shots = tiny.out_dir / "shots"
    assert sorted(p.name for p in shots.iterdir()) == ["1-1.mp4"]      # no half-written 2-1, no temp files
    finished = (shots / "1-1.mp4").stat().st_mtime_ns
    resumed = statuses(render_project(tiny))
    assert resumed["shot 1-1"] == "cached" and resumed["shot 2-1"] == "built" and resumed["cut"] == "built"
    assert (shots / "1-1.mp4").stat().st_mtime_ns == finished


def test_wrong_frame_rate_fails_that_shot_only(tiny: Project) -> None:
    green_plate(tiny.root / "plates" / "actor.mp4", FPS * 2, fps=25)
    report = render_project(tiny)
    result = statuses(report)
    assert result["shot 1-1"] == "failed" and result["shot 2-1"] == "built" and result["cut"] == "skipped"
    reason = report.failed[0].reason
    assert "actor.mp4" in reason and "25 fps but the project is 12 fps" in reason and "\n" not in reason
    assert not (tiny.out_dir / "cut.mp4").exists()


def test_short_plate_is_refused(tiny: Project) -> None:
    green_plate(tiny.root / "plates" / "actor.mp4", 5)
    report = render_project(tiny)
    assert "plate has 5 frames but the shot needs 12" in report.failed[0].reason
