"""End to end: a small project rendered for real — sets, keyed plates, shots, the cut — and re-rendered."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundstage.errors import PreflightError
from soundstage.media import probe, read_frames
from soundstage.pipeline import render_project
from soundstage.pipeline.render import Quiet
from soundstage.project import Project
from tiny_film import FPS, H, W, green_plate, make_tiny, shots_toml


@pytest.fixture
def tiny(tmp_path: Path) -> Project:
    return make_tiny(tmp_path)


def statuses(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {step.step: step.status for step in report.steps}


def test_render_cut_and_incremental_rerender(tiny: Project) -> None:
    report = render_project(tiny)
    assert not report.failed, report.failed
    cut = tiny.out_dir / "cut.mp4"
    info = probe(cut)
    # the two shots, then the 5 s closing card naming the tools (the default [labels] policy, realistic)
    assert (info.width, info.height, info.frames) == (W, H, FPS + FPS // 2 + 5 * FPS)

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
    (tiny.root / "shots.toml").write_text(shots_toml(element="snow"))
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
    assert sorted(p.name for p in shots.iterdir()) == [   # no half-written 2-1, no temp
        "1-1.ambience.wav", "1-1.dialogue.wav", "1-1.effects.wav", "1-1.json", "1-1.mp4"]
    finished = (shots / "1-1.mp4").stat().st_mtime_ns
    resumed = statuses(render_project(tiny))
    assert resumed["shot 1-1"] == "cached" and resumed["shot 2-1"] == "built" and resumed["cut"] == "built"
    assert (shots / "1-1.mp4").stat().st_mtime_ns == finished


def test_wrong_frame_rate_is_refused_before_anything_is_made(tiny: Project) -> None:
    green_plate(tiny.root / "plates" / "actor.mp4", FPS * 2, fps=25)
    with pytest.raises(PreflightError) as caught:
        render_project(tiny)
    rate = str(caught.value.problems[0])    # then that its 24 frames at 25 fps make 11 at 12 fps, not 12
    assert "actor.mp4" in rate and "25 fps but the project is 12 fps" in rate
    assert not tiny.out_dir.exists() and not (tiny.state_dir / "takes").exists()


def test_short_plate_is_refused(tiny: Project) -> None:
    green_plate(tiny.root / "plates" / "actor.mp4", 5)
    with pytest.raises(PreflightError, match="plate has 5 frames but the shot needs 12"):
        render_project(tiny)
