"""The render pipeline as a crew leans on it: killed at any moment, run in parallel, on Ray, on PostgreSQL.

Every test compares real outputs (the bytes of the shots and the cut, which soundstage renders
deterministically) against an uninterrupted, serial render of the same film.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from soundstage.db import Job, RenderRecord, TakeRecord, open_database
from soundstage.media import write_png
from soundstage.pipeline import render_project
from soundstage.project import DATABASE_ENV, Project
from soundstage.records.settings import STEMS
from tiny_film import FPS, green_plate, make_tiny, pictures

SOUNDSTAGE = str(Path(sys.executable).parent / "soundstage")
LONG = 8.0      # seconds of film: long enough (about 2 s of render) to be caught mid-way


def film(project: Project) -> dict[str, str]:
    """What a render delivers, by what a viewer sees: every shot movie and the cut."""
    files = [*sorted((project.out_dir / "shots").glob("*.mp4")), project.out_dir / "cut.mp4"]
    return {f.relative_to(project.out_dir).as_posix(): pictures(f) for f in files}


def statuses(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {step.step: step.status for step in report.steps}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The long film rendered once, serially and uninterrupted."""
    project = make_tiny(tmp_path_factory.mktemp("reference"), seconds=LONG)
    report = render_project(project)
    assert not report.failed, report.failed
    return film(project)


def start_render(project: Project, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([SOUNDSTAGE, "render", str(project.root), "--json", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill_when(render: subprocess.Popen[bytes], seen: Callable[[], bool], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not seen():
        assert render.poll() is None, f"the render ended before the moment came: {render.stderr.read()!r}"  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.002)
    render.send_signal(signal.SIGKILL)
    render.wait()


def partials(project: Project, pattern: str) -> Callable[[], bool]:
    return lambda: any(project.root.glob(pattern))


MOMENTS = {
    # a take being generated
    "take": lambda p: partials(p, ".soundstage/takes/.partial-*"),
    # the first shot half encoded (into the file it is signed from)
    "mid-shot": lambda p: partials(p, "out/shots/.*1-1.*.partial.mp4"),
    # the first shot encoded, being signed on its way to its name
    "signing": lambda p: partials(p, "out/shots/.1-1.signing.partial.mp4"),
    # the first shot just renamed into place, maybe not yet in the ledger: it may be rendered again
    "published": lambda p: partials(p, "out/shots/1-1.mp4"),
    # the first shot finished and in the ledger, the second half encoded
    "second shot": lambda p: partials(p, "out/shots/.*2-1.*.partial.mp4"),
    # the cut half written
    "cut": lambda p: partials(p, "out/.*cut.*.partial.mp4"),
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_render_killed_at_any_moment_resumes_to_the_same_film(tmp_path: Path, reference: dict[str, str],
                                                                  moment: str) -> None:
    project = make_tiny(tmp_path / "film", seconds=LONG)
    render = start_render(project)
    kill_when(render, MOMENTS[moment](project))

    resumed = subprocess.run([SOUNDSTAGE, "render", str(project.root), "--json"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    steps = {s["step"]: s["status"] for s in json.loads(resumed.stdout)["steps"]}
    if moment in ("second shot", "cut"):
        assert steps["shot 1-1"] == "cached", "finished work is never redone"
    assert film(project) == reference
    assert not list(project.root.rglob("*.partial*")), "the killed run's half-written files are swept"

    sessions = open_database(project.database)
    with sessions() as session:
        jobs = [(job.command, job.status) for job in session.scalars(select(Job).order_by(Job.id))]
        assert jobs == [("render", "killed"), ("render", "finished")]
        takes = list(session.scalars(select(TakeRecord)))
        # two sets and the rain; the rain's sound and each shot's ambience bed
        assert sorted(t.label for t in takes) == ["v001"] * 6, "the killed take is made once, not twice"
        for row in session.scalars(select(RenderRecord)):
            assert (project.root / row.output).exists()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):     # a thread that ended while we looked
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_killing_a_parallel_render_takes_its_workers_with_it(tmp_path: Path, reference: dict[str, str]) -> None:
    project = make_tiny(tmp_path / "film", seconds=LONG)
    render = start_render(project, "--jobs", "2")
    workers: list[int] = []

    def rendering() -> bool:
        workers[:] = _children(render.pid)
        return any(project.root.glob("out/shots/.*.partial.mp4"))

    kill_when(render, rendering)
    assert workers, "the render had worker processes"
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), "no orphan worker goes on writing"

    resumed = subprocess.run([SOUNDSTAGE, "render", str(project.root), "--jobs", "2"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert film(project) == reference


def test_jobs_2_renders_the_same_film_and_logs_its_job(tmp_path: Path, reference: dict[str, str]) -> None:
    project = make_tiny(tmp_path / "film", seconds=LONG)
    report = render_project(project, jobs=2)
    assert not report.failed, report.failed
    assert film(project) == reference
    with open_database(project.database)() as session:
        job = session.get(Job, report.job)
        assert job is not None
        # six takes (two sets, the rain, the rain's sound, two ambience beds), two shots, the cut
        assert (job.executor, job.status, job.built, job.failed) == ("local ×2", "finished", 9, 0)
        assert [s["status"] for s in job.steps["steps"]] == ["built"] * 9


def test_a_failing_shot_in_a_parallel_render_does_not_stop_the_others(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    write_png(project.root / "plates" / "clean.png", np.zeros((10, 10, 3), np.uint8))
    shots = project.shots_file.read_text().replace('plate = "plates/actor.mp4"\n', 'plate = "plates/actor.mp4"\n'
                                                   'key = { clean_plate = "plates/clean.png" }\n', 1)
    project.shots_file.write_text(shots)     # a clean plate of another set-up: found only at comp time
    report = render_project(project, jobs=2)
    result = statuses(report)
    assert result["shot 1-1"] == "failed" and result["shot 2-1"] == "built" and result["cut"] == "skipped"
    assert "clean.png" in report.failed[0].reason and "\n" not in report.failed[0].reason
    assert (project.out_dir / "shots" / "2-1.mp4").is_file()


def test_a_change_rebuilds_what_uses_it_and_nothing_else(tmp_path: Path) -> None:
    """(A changed shot prompt, through a generated background: tests/engines/test_render_one_prompt.py.)"""
    project = make_tiny(tmp_path / "film")
    render_project(project)
    first_cut = (project.out_dir / "cut.mp4").read_bytes()

    # A still-set shot's prompt steers nothing it is made of: nothing is rebuilt.
    shots = project.root / "shots.toml"
    shots.write_text(shots.read_text().replace('id = "2-1"', 'id = "2-1"\nprompt = "storm over the sea cliff"'))
    assert set(statuses(render_project(Project.load(project.root))).values()) == {"cached"}

    # One shot's plate: that shot and the cut.
    green_plate(project.root / "plates" / "actor.mp4", FPS, block=(255, 40, 40))
    built = {s for s, status in statuses(render_project(Project.load(project.root))).items() if status == "built"}
    assert built == {"shot 1-1", "cut"}

    # The look is in every picture's prompt: every picture take, every shot and the cut. Not in the sound.
    settings = project.root / "soundstage.toml"
    settings.write_text(settings.read_text().replace("teal nights", "amber dusk"))
    changed = statuses(render_project(Project.load(project.root)))
    assert {s for s, status in changed.items() if status != "built"} == {
        "take shot/1-1/sound/ambience", "take shot/2-1/sound/rain", "take shot/2-1/sound/ambience"}, changed
    assert (project.out_dir / "cut.mp4").read_bytes() != first_cut


def test_a_render_on_postgresql(tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_ENV, postgres_url)
    project = make_tiny(tmp_path / "film")
    report = render_project(project, jobs=2)
    assert not report.failed, report.failed
    assert not (project.state_dir / "soundstage.db").exists(), "nothing went to SQLite"
    again = render_project(project)
    assert set(statuses(again).values()) == {"cached"}
    with open_database(postgres_url)() as session:
        # two shots (a movie, three stems and a record each) and the cut (its movie, stems and subtitles)
        assert session.scalar(select(func.count()).select_from(RenderRecord)) == 2 * 5 + 1 + 3 + 2
        assert [j.status for j in session.scalars(select(Job).order_by(Job.id))] == ["finished", "finished"]


def test_the_ray_executor_renders_the_same_film(tmp_path: Path, reference: dict[str, str]) -> None:
    pytest.importorskip("ray")
    project = make_tiny(tmp_path / "film", seconds=LONG)
    report = render_project(project, executor="ray")
    assert not report.failed, report.failed
    assert film(project) == reference
    with open_database(project.database)() as session:
        job = session.get(Job, report.job)
        assert job is not None and job.executor == "ray (local)"


def test_an_old_project_keeps_its_renders_across_the_move_to_the_database(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    render_project(project)
    # As soundstage 0.1 left it: the ledger in renders.json, no ledger table rows.
    sessions = open_database(project.database)
    with sessions.begin() as session:
        rows = {row.output: row.key for row in session.scalars(select(RenderRecord))}
        session.query(RenderRecord).delete()
        session.query(Job).delete()
    (project.state_dir / "renders.json").write_text(json.dumps(rows))
    again = render_project(project)
    assert set(statuses(again).values()) == {"cached"}
    assert (project.state_dir / "renders.json.adopted").is_file()


def test_copying_a_project_folder_keeps_it_cached(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    render_project(project)
    moved = Project.load(shutil.copytree(project.root, tmp_path / "moved"))
    assert set(statuses(render_project(moved)).values()) == {"cached"}


def test_finished_outputs_are_published_to_storage_by_the_worker_that_made_them(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    render_project(project)                      # rendered before there was any storage
    store = tmp_path / "store"
    settings = project.root / "soundstage.toml"
    settings.write_text(settings.read_text() + f'[render]\nstorage = "file://{store}"\n')
    project = Project.load(project.root)

    # Added later: the finished outputs are published, not rendered again.
    assert set(statuses(render_project(project, jobs=2)).values()) == {"cached"}
    published = {p.relative_to(store).as_posix(): p.read_bytes() for p in store.rglob("*") if p.is_file()}
    assert published == {name: (project.root / name).read_bytes()
                         for name in ("out/shots/1-1.mp4", "out/shots/1-1.json", "out/shots/2-1.mp4",
                                      "out/shots/2-1.json", "out/cut.mp4", "out/cut.srt", "out/cut.vtt",
                                      *(f"out/shots/{shot}.{stem}.wav" for shot in ("1-1", "2-1") for stem in STEMS),
                                      *(f"out/stems/{stem}.wav" for stem in STEMS))}
    stamps = {p: p.stat().st_mtime_ns for p in store.rglob("*.mp4")}
    assert set(statuses(render_project(project, jobs=2)).values()) == {"cached"}
    assert {p: p.stat().st_mtime_ns for p in store.rglob("*.mp4")} == stamps, "nothing published twice"

    # A changed shot is published by the worker that rendered it, then the cut.
    green_plate(project.root / "plates" / "actor.mp4", FPS, block=(255, 40, 40))
    assert not render_project(project, jobs=2).failed
    for name in ("out/shots/1-1.mp4", "out/cut.mp4"):
        assert (store / name).read_bytes() == (project.root / name).read_bytes()
    assert not list(store.rglob(".*partial*"))


def test_storage_that_cannot_be_reached_fails_the_step_in_one_line(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    settings = project.root / "soundstage.toml"
    settings.write_text(settings.read_text() + '[render]\nstorage = "nosuchstore://bucket/film"\n')
    report = render_project(Project.load(project.root))
    assert statuses(report)["shot 1-1"] == "failed"
    reason = report.failed[0].reason
    assert "cannot open storage nosuchstore://bucket/film" in reason and "\n" not in reason
