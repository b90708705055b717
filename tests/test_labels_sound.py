"""The closing card names the sound's tools too: each sound take's engine and model from the shot records, AI
or procedural (not AI) as the pictures' tools are; sound recorded on set is no tool's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from soundstage.edit.labels import CutLabels, Layer, ShotCredits, Tool, credits_from_record
from soundstage.project import Project
from soundstage.records.shot import ShotRecord, SoundRecord
from tiny_film import make_tiny

RECORDED, PROCEDURAL, AI = "digitalCapture", "algorithmicMedia", "trainedAlgorithmicMedia"
SET = Layer("set", "hanok", "v001", Tool("procedural", "soundstage-procedural", "0.1", PROCEDURAL))
SOUND = (SoundRecord("dialogue", "production", "plates/actor.mp4", RECORDED, 1.0),
         SoundRecord("effects", "fire", "element/fire", PROCEDURAL, 1.0, version="v001", engine="procedural",
                     model="fire-crackle"),
         SoundRecord("ambience", "storm", "element/storm", AI, 0.5, version="v002", engine="google",
                     model="veo-3.0-generate-001"),
         SoundRecord("effects", "thunder", "element/thunder", AI, 0.0, version="v001", engine="comfyui",
                     model="stable-audio-open"))    # not heard (0 s): not credited


def record(shot: str, sound: tuple[SoundRecord, ...], generated: float = 0.0) -> ShotRecord:
    return ShotRecord(shot, "1", 12, 12.0, 192, 108, "plates/actor.mp4", 1.0 - generated, 0.0, generated, (), None,
                      sound=sound)


def card_text(labels: CutLabels) -> str:
    return "\n".join(line for _, line in labels.card_lines())


def test_the_card_names_each_sound_tool_ai_or_procedural(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    shot = credits_from_record(record("1-1", SOUND))
    assert [(layer.name, layer.tool.engine, layer.tool.ai) for layer in shot.sound] == [
        ("fire", "procedural", False), ("storm", "google", True)]
    pictures = ShotCredits("2-1", 6, (SET,), generated=True)
    labels = CutLabels.prepare(project, [shot, pictures])
    text = card_text(labels)
    assert "google · veo-3.0-generate-001 (generative AI)" in text
    assert "procedural · fire-crackle (procedural, not AI)" in text
    assert "procedural · soundstage-procedural · 0.1 (procedural, not AI)" in text      # the pictures' as before
    assert "Its sound includes AI-generated sound." in text
    assert "This film contains computer-generated imagery (no generative AI)." in text
    assert "sound: fire (shot\u00a01-1), storm (shot\u00a01-1)" in text
    assert "stable-audio" not in text and "production" not in text
    silent = CutLabels.prepare(project, [credits_from_record(record("1-1", ())), pictures])
    assert np.abs(labels.card_frame.astype(np.int16) - silent.card_frame).mean() > 0.5     # drawn on the card

    ko = make_tiny(tmp_path / "ko")
    ko.settings_path.write_text(ko.settings_path.read_text() + '[labels]\nlanguage = "ko"\n')
    korean = card_text(CutLabels.prepare(Project.load(ko.root), [shot, pictures]))
    assert "google · veo-3.0-generate-001 (생성형 AI)" in korean and "사운드: fire" in korean
    assert "procedural · fire-crackle (절차적 생성, AI 아님)" in korean


def test_a_film_of_plates_with_generated_sound_still_gets_the_card(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    plates_only = CutLabels.prepare(project, [credits_from_record(record("1-1", SOUND[:2]))])
    assert plates_only.card
    text = card_text(plates_only)
    assert "Its sound includes computer-generated sound (no generative AI)." in text
    assert "imagery" not in text            # no generated picture: no sentence about one
    recorded_only = CutLabels.prepare(project, [credits_from_record(record("1-1", SOUND[:1]))])
    assert not recorded_only.card
