"""The cut's sound in the editor's timelines: a stem per audio track, each shot's clip in step with its picture,
read back by OpenTimelineIO's own readers (.otio, the CMX 3600 adapter, the FCP 7 XML adapter).

The tiny film is rendered once at 25 fps; shot 1-1 is then given stems (BWF written here, as the render will)
and a record of its sound, and shot 2-1 is left as rendered before sound: its audio is a gap, not an error.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from opentimelineio import opentime

from soundstage.edit import export_cut
from soundstage.errors import ProjectError
from soundstage.pipeline import breakdown_project, render_project
from soundstage.project import Project
from soundstage.records.settings import STEMS
from soundstage.records.shot import SoundRecord, read_shot_record, shot_stem_path, write_shot_record
from soundstage.sound import RATE, Sound, write_bwf
from tiny_film import FPS, green_plate, make_tiny

RECORDED = "digitalCapture"
ALGORITHMIC = "algorithmicMedia"
START = 25 * 3600          # 01:00:00:00 at 25 fps
SHOT_FRAMES = (25, 12)     # 1-1 (1 s) and 2-1 (0.5 s)


def sound_of_1_1() -> tuple[SoundRecord, ...]:
    return (SoundRecord("dialogue", "production", "plates/actor.mp4", RECORDED, 0.8),
            SoundRecord("dialogue", "recorder", "plates/actor.wav", RECORDED, 0.8, sync="timecode", offset_ms=-120.0,
                        confidence=1.0),
            SoundRecord("effects", "fire", "element/fire", ALGORITHMIC, 1.0, gain_db=-6.0, take_id=4, version="v001",
                        engine="procedural", model="fire-crackle"),
            SoundRecord("ambience", "room tone", "plates/actor.mp4", RECORDED, 1.0))


def sounding(root: Path, fps: float) -> Project:
    """The tiny film at ``fps``, rendered; then 1-1 given a stem of each kind (1 s) and its sound's record, and
    2-1 made a shot rendered before sound."""
    make_tiny(root)
    settings = root / "soundstage.toml"
    settings.write_text(settings.read_text().replace(f"fps = {FPS}\n", f"fps = {fps}\n")
                        + '[labels]\npolicy = "none"\n')
    green_plate(root / "plates" / "actor.mp4", round(fps), fps=fps)
    project = Project.load(root)
    assert not render_project(project).failed
    record = read_shot_record(project, "1-1")
    assert record is not None
    write_shot_record(project, replace(record, sound=sound_of_1_1()))
    for stem in STEMS:                         # 2-1 as a shot rendered before sound: no stems, no sound record
        shot_stem_path(project, "2-1", stem).unlink()
    older = read_shot_record(project, "2-1")
    assert older is not None
    write_shot_record(project, replace(older, sound=()))
    for index, stem in enumerate(STEMS):       # a tone per stem, so each file is its own
        tone = np.sin(np.arange(RATE) * (index + 1) * 440 * 2 * np.pi / RATE).astype(np.float32) * 0.1
        write_bwf(shot_stem_path(project, "1-1", stem), Sound(np.repeat(tone[:, None], 2, axis=1)))
    return project


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return sounding(tmp_path_factory.mktemp("sound-film"), 25)


def export(project: Project, fmt: str) -> Path:
    shots = [shot.id for shot in breakdown_project(project, lock=False).shots]
    return export_cut(project, fmt, shot_ids=shots).path


def placed(clip: otio.core.Item, start: opentime.RationalTime) -> tuple[int, int]:
    """The clip's record in and out, in frames from midnight."""
    span = clip.range_in_parent()
    return (round((start + span.start_time).value), round((start + span.end_time_exclusive()).value))


def test_the_otio_master_has_a_track_per_stem_in_step_with_the_picture(film: Project) -> None:
    timeline = otio.adapters.read_from_file(str(export(film, "otio")))
    video, *audio = timeline.tracks
    sound = timeline.metadata["soundstage"]["sound"]
    assert (list(sound["tracks"]), sound["channels"], sound["rate"], sound["stems"]) == (list(STEMS), 2, 48000, 3)
    assert video.kind == otio.schema.TrackKind.Video
    assert [(track.name, track.kind) for track in audio] == [(stem, otio.schema.TrackKind.Audio) for stem in STEMS]
    start = timeline.global_start_time
    pictures = [placed(clip, start) for clip in video]
    assert pictures == [(START, START + 25), (START + 25, START + 37)]
    for stem, track in zip(STEMS, audio, strict=True):
        first, second = track
        assert isinstance(first, otio.schema.Clip) and isinstance(second, otio.schema.Gap)
        assert [placed(item, start) for item in track] == pictures
        wav = shot_stem_path(film, "1-1", stem)
        assert first.media_reference.target_url == wav.as_uri()
        assert first.media_reference.available_range.duration == opentime.RationalTime(25, 25)   # 1 s of WAV
        made = first.metadata["soundstage"]
        assert (made["shot"], made["stem"], made["channels"], made["file"]) == (
            "1-1", stem, 2, f"out/shots/1-1.{stem}.wav")
        assert [layer["name"] for layer in made["layers"]] == [
            layer.name for layer in sound_of_1_1() if layer.stem == stem]
    dialogue = audio[0][0].metadata["soundstage"]
    assert [(layer["recorded"], layer["ai"], layer["sync"], layer["offset_ms"]) for layer in dialogue["layers"]] == [
        (True, False, None, None), (True, False, "timecode", -120.0)]
    assert [dict(each) for each in dialogue["production"]] == [
        {"file": name, "url": (film.root / name).as_uri()} for name in ("plates/actor.mp4", "plates/actor.wav")]
    fire = audio[1][0].metadata["soundstage"]["layers"][0]
    assert (fire["recorded"], fire["ai"], fire["engine"], fire["gain_db"]) == (False, False, "procedural", -6.0)


def test_the_edl_lists_each_stem_on_its_own_channel(film: Project) -> None:
    text = export(film, "edl").read_text()
    events = [line.split() for line in text.splitlines() if re.match(r"\d{3} ", line)]
    assert [(e[0], e[2], e[6], e[7]) for e in events] == [
        ("001", "V", "01:00:00:00", "01:00:01:00"), ("002", "V", "01:00:01:00", "01:00:01:12"),
        ("003", "A", "01:00:00:00", "01:00:01:00"), ("004", "A2", "01:00:00:00", "01:00:01:00"),
        ("005", "A3", "01:00:00:00", "01:00:01:00")]
    assert "* PRODUCTION SOUND FROM plates/actor.wav" in text

    timeline = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=25)
    tracks = {track.name: track for track in timeline.tracks}
    assert sorted(tracks) == ["A1", "A2", "A3", "V"]
    assert [tracks[name].kind for name in ("A1", "A2", "A3")] == [otio.schema.TrackKind.Audio] * 3
    video = [placed(clip, -tracks["V"].source_range.start_time) for clip in tracks["V"].find_clips()]
    for name, stem in zip(("A1", "A2", "A3"), STEMS, strict=True):
        (clip,) = tracks[name].find_clips()
        assert clip.name == f"1-1 {stem}"
        assert clip.media_reference.target_url == shot_stem_path(film, "1-1", stem).as_uri()
        assert placed(clip, -tracks[name].source_range.start_time) == video[0]


def test_the_fcp_xml_carries_the_stems_as_audio_tracks(film: Project) -> None:
    text = export(film, "fcpxml").read_text()
    timeline = otio.adapters.read_from_string(text, adapter_name="fcp_xml")
    assert [track.kind for track in timeline.tracks] == [otio.schema.TrackKind.Video] + [
        otio.schema.TrackKind.Audio] * 3
    start = timeline.global_start_time
    video = [placed(clip, start) for clip in timeline.tracks[0].find_clips()]
    for track, stem in zip(timeline.tracks[1:], STEMS, strict=True):
        (clip,) = track.find_clips()
        assert clip.media_reference.target_url == shot_stem_path(film, "1-1", stem).as_uri()
        assert clip.source_range.duration == opentime.RationalTime(25, 25)
        assert placed(clip, start) == video[0]
    assert text.count("<channelcount>2</channelcount>") >= 3



def test_at_drop_frame_the_sound_keeps_step_with_the_picture(tmp_path: Path) -> None:
    """29.97 fps: 1 s of stem is 30 frames (29.97 rounded), the record timecodes drop-frame like the picture's."""
    project = sounding(tmp_path / "ntsc", 29.97)
    settings = project.settings_path
    settings.write_text(settings.read_text() + '[edit]\nstart_timecode = "00:00:59;28"\n')
    project = Project.load(project.root)
    text = export(project, "edl").read_text()
    events: dict[str, list[str]] = {}
    for line in text.splitlines():
        if re.match(r"\d{3} ", line):
            events.setdefault(line.split()[2], line.split())        # each channel's first event: shot 1-1
    assert events["V"][4:] == events["A"][4:] == events["A2"][4:] == events["A3"][4:] == [
        "00:00:00;00", "00:00:01;00", "00:00:59;28", "00:01:01;00"]
    timeline = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=30000 / 1001)
    assert [len(list(track.find_clips())) for track in timeline.tracks] == [2, 1, 1, 1]

    master = otio.adapters.read_from_file(str(export(project, "otio")))
    (first,) = master.tracks[1].find_clips()
    assert first.source_range == master.tracks[0][0].source_range
    assert first.media_reference.available_range.duration.value == 30


def test_a_damaged_stem_is_named_in_one_line(film: Project, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(film.root, root)
    project = Project.load(root)
    stem = shot_stem_path(project, "1-1", "effects")
    stem.write_bytes(b"RIFF\x00\x00\x00\x00not a wave at all")
    with pytest.raises(ProjectError, match=rf"^{re.escape(str(stem))}: cannot be read as a stem: ") as caught:
        export(project, "otio")
    assert "\n" not in str(caught.value)
