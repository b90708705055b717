"""The cut handed to an editor: .otio, EDL and FCP XML of a really rendered tiny film, read back by OTIO.

Each film is rendered once per rate; the record timecodes expected are written out by hand (not computed by
the code under test), across an hour boundary at 23.976 and a drop-frame minute at 29.97.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio
import pytest
from opentimelineio import opentime
from typer.testing import CliRunner

from soundstage.cli import app
from soundstage.edit import CutExport, export_cut
from soundstage.errors import ProjectError
from soundstage.media import probe
from soundstage.pipeline import Generation, breakdown_project, render_project
from soundstage.project import Project
from soundstage.records.shot import read_shot_record
from soundstage.review.notes import write_note
from tiny_film import FPS, green_plate, make_tiny

SHOTS = ["1-1", "2-1"]       # the tiny film's cut order


def export(project: Project, fmt: str, out: Path | None = None) -> CutExport:
    """As ``soundstage export`` does it: the breakdown's shots, in its order, handed to the edit."""
    return export_cut(project, fmt, out, shot_ids=[shot.id for shot in breakdown_project(project, lock=False).shots])


@dataclass(frozen=True)
class Case:
    fps: float
    start: str | None                 # [edit] start_timecode; None: the default
    rate: float                       # the rate editors count
    frames: tuple[int, int]           # shot 1-1 (1 s) and 2-1 (0.5 s)
    records: tuple[str, str, str]     # record in of each shot, then the record out of the last
    drop: bool


CASES = {
    "25": Case(25, None, 25.0, (25, 12), ("01:00:00:00", "01:00:01:00", "01:00:01:12"), False),
    "23.976": Case(23.976, "00:59:59:23", 24000 / 1001, (24, 12), ("00:59:59:23", "01:00:00:23", "01:00:01:11"),
                   False),
    # 00:01:00;00 and ;01 do not exist: the second shot starts 30 frames after 00:00:59;28, at 00:01:01;00.
    "29.97": Case(29.97, "00:00:59;28", 30000 / 1001, (30, 15), ("00:00:59;28", "00:01:01;00", "00:01:01;15"),
                  True),
}


def tiny_at(root: Path, fps: float, start: str | None = None, *, render: bool = True) -> Project:
    """The tiny film at another rate (its plate shot at that rate too), rendered."""
    make_tiny(root)
    settings = root / "soundstage.toml"
    text = settings.read_text().replace(f"fps = {FPS}\n", f"fps = {fps}\n")
    text += '[labels]\npolicy = "none"\n'      # the shots alone (the closing card has its own tests)
    if start is not None:
        text += f'[edit]\nstart_timecode = "{start}"\n'
    settings.write_text(text)
    green_plate(root / "plates" / "actor.mp4", round(fps), fps=fps)
    project = Project.load(root)
    if render:
        report = render_project(project)
        assert not report.failed, report.failed
    return project


@pytest.fixture(scope="module", params=list(CASES))
def film(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Case]:
    case = CASES[request.param]
    return tiny_at(tmp_path_factory.mktemp(f"film{request.param}"), case.fps, case.start), case


def test_the_otio_master_holds_the_cut_and_what_made_each_shot(film: tuple[Project, Case]) -> None:
    project, case = film
    made = export(project, "otio")
    assert made.path == project.out_dir / "cut.otio" and (made.shots, made.start, made.end) == (
        2, case.records[0], case.records[2])
    timeline = otio.adapters.read_from_file(str(made.path))

    assert opentime.to_timecode(timeline.global_start_time, case.rate, case.drop) == case.records[0]
    clips = list(timeline.video_tracks()[0].find_clips())   # the picture (the stems have tracks of their own)
    assert [clip.name for clip in clips] == SHOTS
    for clip, frames, record_in in zip(clips, case.frames, case.records, strict=False):
        movie = project.out_dir / "shots" / f"{clip.name}.mp4"
        assert probe(movie).frames == frames
        assert clip.source_range.duration == opentime.RationalTime(frames, case.rate)
        assert clip.media_reference.available_range == clip.source_range
        assert clip.media_reference.target_url == movie.as_uri()
        placed = timeline.global_start_time + clip.range_in_parent().start_time
        assert opentime.to_timecode(placed, case.rate, case.drop) == record_in

        record = read_shot_record(project, clip.name)
        assert record is not None
        made_of = clip.metadata["soundstage"]
        assert made_of["shot"] == clip.name and made_of["scene"] == record.scene == clip.name[0]
        assert made_of["takes"] == {layer.slot: layer.version for layer in record.layers}
        assert made_of["takes"]["set/hanok-rooftops-night" if clip.name == "1-1" else "set/sea-cliff-dusk"] == "v001"
        assert made_of["engine"] == "procedural" and made_of["model"] == record.layers[0].model
        assert made_of["ai_share"] == record.ai_share == 0.0          # procedural: generated, not AI
        assert made_of["generated_share"] == record.generated_share
        assert made_of["cost_usd"] == 0.0
    assert timeline.metadata["soundstage"]["timecode"] == ("drop-frame" if case.drop else "non-drop")


def test_the_edl_record_timecode_starts_at_the_start_timecode(film: tuple[Project, Case]) -> None:
    project, case = film
    text = export(project, "edl").path.read_text()
    assert ("FCM: DROP FRAME" if case.drop else "FCM: NON-DROP FRAME") in text.splitlines()[:3]
    events = [line.split() for line in text.splitlines() if re.match(r"\d{3} ", line) and line.split()[2] == "V"]
    assert [(e[1], e[6], e[7]) for e in events] == [
        ("1_1", case.records[0], case.records[1]), ("2_1", case.records[1], case.records[2])]
    assert [e[4] for e in events] == ["00:00:00;00" if case.drop else "00:00:00:00"] * 2    # source in

    timeline = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=case.rate)
    clips = list(timeline.video_tracks()[0].find_clips())   # the picture (the stems have tracks of their own)
    assert [clip.name for clip in clips] == SHOTS
    assert [clip.source_range.duration.value for clip in clips] == list(case.frames)
    track = timeline.tracks[0]          # the adapter keeps the record start as the track's start, negated
    for clip, record_in in zip(clips, case.records, strict=False):
        placed = clip.range_in_parent().start_time - track.source_range.start_time
        assert opentime.to_timecode(placed, case.rate, case.drop) == record_in


def test_the_fcp_xml_reads_back_with_its_timecode_and_media(film: tuple[Project, Case]) -> None:
    project, case = film
    made = export(project, "fcpxml", project.root / "edit" / "for-premiere.xml")
    text = made.path.read_text()
    assert made.path.name == "for-premiere.xml" and text.startswith('<?xml version="1.0" ?>\n<xmeml version="4">')
    assert "<width>192</width>" in text and "<height>108</height>" in text
    shown = f"<displayformat>{'DF' if case.drop else 'NDF'}</displayformat>"
    assert text.count(shown) == 3 + 2 * 3          # the sequence's and the picture's, then two per stem track

    timeline = otio.adapters.read_from_string(text, adapter_name="fcp_xml")
    assert opentime.to_timecode(timeline.global_start_time, case.rate, case.drop) == case.records[0]
    clips = list(timeline.video_tracks()[0].find_clips())   # the picture (the stems have tracks of their own)
    assert [clip.name for clip in clips] == SHOTS
    assert [clip.source_range.duration.value for clip in clips] == list(case.frames)
    assert [clip.media_reference.target_url for clip in clips] == [
        (project.out_dir / "shots" / f"{shot}.mp4").as_uri() for shot in SHOTS]
    for clip, record_in in zip(clips, case.records, strict=False):
        placed = timeline.global_start_time + clip.range_in_parent().start_time
        assert opentime.to_timecode(placed, case.rate, case.drop) == record_in


@pytest.mark.parametrize("film", ["25"], indirect=True)
def test_cut_command_writes_each_format_atomically(film: tuple[Project, Case], tmp_path: Path) -> None:
    project, _ = film
    runner = CliRunner()
    default = runner.invoke(app, ["cut", str(project.root)])
    assert default.exit_code == 0, default.stderr
    assert default.stdout == f"2 shots, 01:00:00:00–01:00:01:12 → {project.out_dir / 'cut.otio'}\n"
    for timeline_format, name in (("edl", "cut.edl"), ("fcpxml", "cut.xml"), ("otio", "cut.otio")):
        target = tmp_path / "to-editor" / name
        target.parent.mkdir(exist_ok=True)
        target.write_text("an older export")
        result = runner.invoke(app, ["cut", str(project.root), "--format", timeline_format, "--out", str(target)])
        assert result.exit_code == 0, result.stderr
        assert result.stdout.endswith(f"→ {target}\n") and "an older" not in target.read_text()
    assert sorted(p.name for p in (tmp_path / "to-editor").iterdir()) == ["cut.edl", "cut.otio", "cut.xml"]

    into_folder = runner.invoke(app, ["cut", str(project.root), "--format", "edl", "--out", str(tmp_path)])
    assert into_folder.exit_code == 0 and (tmp_path / "cut.edl").read_text().startswith("TITLE: Tiny\n")
    blocked = tmp_path / "to-editor" / "cut.edl" / "cut.edl"       # under a file
    unwritable = runner.invoke(app, ["cut", str(project.root), "--out", str(blocked)])
    assert unwritable.exit_code == 2 and unwritable.stderr.startswith(f"error: {blocked}: cannot be written: ")


def test_bad_requests_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    unrendered = tiny_at(tmp_path / "unrendered", 25, render=False)
    result = runner.invoke(app, ["cut", str(unrendered.root), "--format", "aaf"])
    assert result.exit_code == 2
    assert result.stderr == "error: unknown timeline format 'aaf'; choose one of otio, edl, fcpxml\n"

    result = runner.invoke(app, ["cut", str(unrendered.root), "--format", "edl"])
    assert result.exit_code == 2
    assert result.stderr == (f"error: shot 1-1: is not rendered yet: no out/shots/1-1.mp4 (run 'soundstage render "
                             f"{unrendered.root}' first)\n")
    assert not (unrendered.out_dir / "cut.edl").exists()

    settings = unrendered.settings_path
    settings.write_text(settings.read_text() + '[edit]\nstart_timecode = "1:00:00:00"\n')
    result = runner.invoke(app, ["cut", str(unrendered.root)])
    assert result.exit_code == 2
    assert result.stderr == (f"error: {settings}:11: edit.start_timecode: '1:00:00:00' is not a timecode like "
                             "01:00:00:00 (HH:MM:SS:FF)\n")


def test_one_shot_missing_is_named(tmp_path: Path) -> None:
    project = tiny_at(tmp_path / "film", 25, render=False)
    assert not render_project(project, shots=["1-1"]).failed
    with pytest.raises(ProjectError, match=r"^shot 2-1: is not rendered yet: no out/shots/2-1.mp4 \(run "):
        export(project, "otio")


@pytest.mark.parametrize(("fps", "start", "message"), [
    (25, "01:00:00:25", "'01:00:00:25' has frame 25, but 25 fps counts frames 00 to 24"),
    (25, "01:00:00;00", "'01:00:00;00' is drop-frame, but 25 fps counts non-drop; write it with ':'"),
    (29.97, "00:01:00:00", "'00:01:00:00' is a label drop-frame timecode skips"),
    (29.97, "01:00:00:30", "'01:00:00:30' has frame 30, but 29.97 fps counts frames 00 to 29"),
])
def test_a_start_timecode_that_is_no_frame_at_the_rate_is_refused(tmp_path: Path, fps: float, start: str,
                                                                   message: str) -> None:
    project = tiny_at(tmp_path / "film", fps, start, render=False)
    with pytest.raises(ProjectError) as caught:
        export(project, "otio")
    assert str(caught.value).startswith(f"{project.settings_path}:11: edit.start_timecode: {message}")


def test_a_rate_without_smpte_timecode_still_exports_otio(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")          # 12 fps: no EDL or FCP XML counts it
    assert not render_project(project).failed
    with pytest.raises(ProjectError, match=r"fps = 12: edl timecode needs a SMPTE frame rate .* --format otio"):
        export(project, "edl")
    made = export(project, "otio")
    # 12 + 6 frames of shots at 12 fps, then the 5 s closing label card
    assert (made.start, made.end) == ("01:00:00:00", "01:00:06:06")
    timeline = otio.adapters.read_from_file(str(made.path))
    assert timeline.global_start_time == opentime.RationalTime(3600 * 12, 12)
    assert [clip.source_range.duration.value for clip in timeline.video_tracks()[0].find_clips()] == [12, 6, 60]


def test_the_closing_label_card_is_the_last_clip(tmp_path: Path) -> None:
    """With the default [labels] policy the cut ends in a card naming the tools; the timeline keeps it."""
    project = make_tiny(tmp_path / "film")
    settings = project.settings_path
    settings.write_text(settings.read_text().replace(f"fps = {FPS}\n", "fps = 25\n"))
    green_plate(project.root / "plates" / "actor.mp4", 25, fps=25)
    project = Project.load(project.root)
    assert not render_project(project).failed
    shots = sum(probe(project.out_dir / "shots" / f"{shot}.mp4").frames for shot in SHOTS)
    for fmt in ("otio", "edl"):
        written = export(project, fmt).path
        timeline = otio.adapters.read_from_file(str(written), **({"rate": 25} if fmt == "edl" else {}))
        (track,) = timeline.video_tracks()
        for audio in timeline.audio_tracks():   # each stem under its shots, a gap under the card
            heard = list(audio.find_clips())
            assert len(heard) == len(SHOTS) and heard[-1].range_in_parent().end_time_exclusive().value <= shots
        clips = list(track.find_clips())
        assert len(clips) == 3 and clips[-1].source_range.duration.value == 5 * 25
        if fmt == "otio":
            assert clips[-1].name == "AI label card" and clips[-1].source_range.start_time.value == shots
            assert clips[-1].media_reference.target_url.endswith("/out/cut.mp4")


# A note on frame 3 of 1-1 (given by its record timecode) and on frame 7 of 2-1, as the editor reads them.
NOTED = {25: ("01:00:00:03", "01:00:01:07"), 23.976: ("01:00:00:02", "01:00:01:06"),
         29.97: ("00:01:00;03", "00:01:01;07")}     # 00:01:00;00 and ;01 do not exist


def test_frame_notes_are_markers_in_the_otio_and_locators_in_the_edl(film: tuple[Project, Case],
                                                                    tmp_path: Path) -> None:
    project, case = film
    shutil.copytree(project.root, tmp_path / "noted")
    noted = Project.load(tmp_path / "noted")
    generation, breakdown = Generation(noted), breakdown_project(noted, lock=False)
    first, second = NOTED[case.fps]
    note, _ = write_note(generation, breakdown, "shot/1-1", "the hand\nbrighter", by="pat", tc=first)
    assert note.frame == 3
    write_note(generation, breakdown, "shot/2-1/element/rain", "rain too thin", by="anna", frame=7)
    write_note(generation, breakdown, "shot/2-1", "no frame, no marker", by="anna")

    timeline = otio.adapters.read_from_file(str(export(noted, "otio").path))
    clips = list(timeline.video_tracks()[0].find_clips())
    marked = [(clip.name, marker.name, marker.marked_range.start_time.to_frames(),
               opentime.to_timecode(timeline.global_start_time + clip.range_in_parent().start_time
                                    + marker.marked_range.start_time - clip.source_range.start_time,
                                    case.rate, case.drop))
              for clip in clips for marker in clip.markers]
    assert marked == [("1-1", "pat: the hand brighter", 3, first), ("2-1", "anna: rain too thin", 7, second)]
    assert clips[1].markers[0].metadata["soundstage"]["subject"] == "shot/2-1/element/rain"

    text = export(noted, "edl").path.read_text()
    source = "00:00:00;07" if case.drop else "00:00:00:07"
    assert f"* LOC: {source} RED     ANNA: RAIN TOO THIN" in text.splitlines()
    if case.drop:     # OTIO's EDL reader passes over a drop-frame locator (its pattern wants ':'): read by hand
        located = [opentime.from_timecode(label, case.rate).to_frames()
                   for label in re.findall(r"^\* LOC: (\S+) ", text, re.MULTILINE)]
        assert located == [3, 7]
        return
    read = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=case.rate)
    clips = list(read.video_tracks()[0].find_clips())
    assert [(clip.name, [m.marked_range.start_time.to_frames() for m in clip.markers]) for clip in clips] == [
        ("1-1", [3]), ("2-1", [7])]
