"""The disclosure report's sound: recorded against generated, by stem and by time, from the shot records'
sound layers; AI and procedural kept apart; a shot with no sound record is "not measured", never 0%.

The tiny film is rendered for real; shot 1-1's record is then given the sound layers a render with sound
writes, and 2-1 is left as rendered before sound.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from browser import inked_share, screenshot
from soundstage.pipeline import render_project
from soundstage.project import Project
from soundstage.records.shot import SoundRecord, read_shot_record, write_shot_record
from soundstage.reports.disclosure import write_disclosure_report
from tiny_film import make_tiny

SHOTS_DIR = Path("/tmp/report-shots")
RECORDED, PROCEDURAL, AI = "digitalCapture", "algorithmicMedia", "trainedAlgorithmicMedia"
SOUND = (SoundRecord("dialogue", "production", "plates/actor.mp4", RECORDED, 0.75),
         SoundRecord("dialogue", "recorder", "plates/actor.wav", RECORDED, 0.75, sync="waveform", offset_ms=40.0,
                     confidence=0.91),
         SoundRecord("effects", "fire", "element/fire", PROCEDURAL, 1.0, take_id=2, version="v001",
                     engine="procedural", model="fire-crackle"),
         SoundRecord("effects", "storm", "element/storm", AI, 0.5, take_id=3, version="v002", engine="google",
                     model="veo-3.0-generate-001"),
         SoundRecord("ambience", "room tone", "plates/actor.mp4", RECORDED, 1.0))


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_tiny(tmp_path_factory.mktemp("sound-disclosure") / "tiny")
    assert not render_project(project).failed
    record = read_shot_record(project, "1-1")
    assert record is not None
    write_shot_record(project, replace(record, sound=SOUND))
    older = read_shot_record(project, "2-1")          # 2-1 as a shot rendered before sound
    assert older is not None
    write_shot_record(project, replace(older, sound=()))
    return project


def test_the_sound_shares_are_by_stem_and_by_time_and_only_what_was_measured(film: Project, tmp_path: Path) -> None:
    write_disclosure_report(film, out=tmp_path)
    data = json.loads((tmp_path / "disclosure.json").read_text("utf-8"))
    sound = data["sound"]
    assert sound["whole"]["seconds"] == {"recorded": 2.5, "ai": 0.5, "procedural": 1.0}
    assert sound["whole"]["recorded_share"] == pytest.approx(2.5 / 4)
    assert sound["whole"]["ai_share"] == pytest.approx(0.5 / 4)
    stems = sound["stems"]
    assert stems["dialogue"]["recorded_share"] == 1.0 and stems["dialogue"]["ai_share"] == 0.0
    assert stems["effects"]["seconds"] == {"recorded": 0.0, "ai": 0.5, "procedural": 1.0}
    assert stems["effects"]["ai_share"] == pytest.approx(1 / 3)
    assert stems["ambience"]["recorded_share"] == 1.0
    # by time: each shot at its place in the cut (12 fps: 1-1 is 1 s, 2-1 follows it)
    first, second = sound["shots"]
    assert (first["shot"], first["start"], first["seconds"], first["measured"]) == ("1-1", 0.0, 1.0, True)
    assert first["layers"][1]["sync"] == "waveform" and first["layers"][1]["confidence"] == 0.91
    assert (second["shot"], second["start"], second["measured"]) == ("2-1", 1.0, False)
    assert "stems" not in second                  # no share stated for it, not 0%
    assert sound["not_measured"] == ["2-1"] and sound["measured_seconds"] == 1.0
    assert [(t["engine"], t["ai"], t["seconds"]) for t in sound["tools"]] == [
        ("google", True, 0.5), ("procedural", False, 1.0)]

    registration = data["registration"]
    assert any(line.startswith("storm (effects sound) in shot 1-1: heard 0.5 s, made by google")
               for line in registration["ai_generated_parts_to_exclude"])
    assert any(line.startswith("fire (effects sound) in shot 1-1") for line in registration["generated_not_ai"])
    assert not any("fire" in line for line in registration["ai_generated_parts_to_exclude"])
    assert ("Sound, measured in 1 shots (4.0 s heard): 62.5% recorded on set, 12.5% AI-generated, 25.0% procedural; "
            "not measured: 2-1.") in registration["process"]

    html = (tmp_path / "disclosure.html").read_text("utf-8")
    row = re.search(r"<td><b>2-1</b></td>.*?</tr>", html.split("By time (the cut")[1], re.S)
    assert row is not None and "not measured" in row[0] and "%" not in row[0]
    assert "Sound not measured: 2-1" in html


def test_a_film_rendered_before_sound_states_no_sound_share(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "silent")
    assert not render_project(project).failed
    for shot in ("1-1", "2-1"):                        # records as a render before sound wrote them
        record = read_shot_record(project, shot)
        assert record is not None
        write_shot_record(project, replace(record, sound=()))
    write_disclosure_report(project, out=tmp_path)
    data = json.loads((tmp_path / "disclosure.json").read_text("utf-8"))
    assert data["sound"]["not_measured"] == ["1-1", "2-1"]
    assert data["sound"]["whole"]["recorded_share"] is None and data["sound"]["whole"]["ai_share"] is None
    assert data["registration"]["process"].endswith(
        "The sound was not measured: no shot record lists its sound (1-1, 2-1).")
    html = (tmp_path / "disclosure.html").read_text("utf-8")
    section = html.split("Sound: recorded and generated")[1].split("What is human")[0]
    assert "measured</span>" not in section.split("</h2>")[0]      # no "measured" tag on what was not
    assert "By track" not in section and "nothing heard" not in section and "%" not in section
    assert section.count("not measured") >= 2 + 1           # a row per shot, and the warning


def test_the_sound_section_reads_in_korean_and_in_a_browser(film: Project, tmp_path: Path) -> None:
    root = tmp_path / "ko"
    shutil.copytree(film.root, root)
    settings = root / "soundstage.toml"
    settings.write_text(settings.read_text() + '[reports]\nlanguage = "ko"\n')
    write_disclosure_report(Project.load(root), out=tmp_path)
    html = (tmp_path / "disclosure.html").read_text("utf-8")
    for korean in ("사운드: 녹음과 생성", "트랙(스템)별", "시간별 (편집본의 초)", "측정 안 됨", "사운드를 생성한 도구",
                   "효과음"):
        assert korean in html
    for english in ("Sound: recorded and generated", "By track (stem)", "not measured"):
        assert english not in html
    write_disclosure_report(film, out=tmp_path / "en")
    for page, name in ((tmp_path / "en" / "disclosure.html", "disclosure-sound.png"),
                       (tmp_path / "disclosure.html", "disclosure-sound-ko.png")):
        picture = screenshot(page, tmp_path / name, width=1400, height=3000)
        SHOTS_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / name, SHOTS_DIR / name)
        assert inked_share(picture) > 0.04
        # the sound's bar: AI orange (the storm) as a solid band, which the pictures (procedural only) never draw
        orange = np.all(np.abs(picture.astype(int) - (0xD0, 0x57, 0x2B)) < 8, axis=2)
        assert orange.sum(axis=1).max() > 100
