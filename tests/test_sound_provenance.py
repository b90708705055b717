"""Content credentials on sound: BWF stems signed with real C2PA, carrying the recorded files and sound takes
they were mixed from, and the cut carrying its stems; each read back by the same verify path as pictures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from soundstage.project import Project
from soundstage.provenance import init_keys, load_identity, sign_file, verify_file
from soundstage.provenance.credentials import sign_cut, sign_cut_stems, sign_shot_stems
from soundstage.provenance.keys import Identity
from soundstage.records.settings import STEMS
from soundstage.records.shot import CutRecord, ShotRecord, SoundRecord, cut_stem_path, shot_stem_path
from soundstage.sound import RATE, Sound, write_bwf
from tiny_film import make_tiny

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
RECORDED = "digitalCapture"


def tone(path: Path, hz: float, seconds: float = 0.25) -> Path:
    wave = np.sin(np.arange(round(RATE * seconds)) * hz * 2 * np.pi / RATE).astype(np.float32) * 0.2
    return write_bwf(path, Sound(np.repeat(wave[:, None], 2, axis=1)), time_reference=RATE * 3600)


def shot(shot_id: str, sound: tuple[SoundRecord, ...]) -> ShotRecord:
    return ShotRecord(shot_id, "1", 12, 12.0, 192, 108, "plates/actor.mp4", 0.5, 0.0, 0.5, (), None, sound=sound)


@pytest.fixture()
def film(tmp_path: Path) -> tuple[Project, Identity]:
    project = make_tiny(tmp_path / "film")
    init_keys(project.root, title="Tiny")
    return project, load_identity(project.root)


def test_a_wav_is_signed_and_a_changed_sample_is_tampering(film: tuple[Project, Identity], tmp_path: Path) -> None:
    _, identity = film
    wav = tone(tmp_path / "fire.wav", 220)
    signed = sign_file(wav, tmp_path / "signed.wav", identity, title="fire take", actions=[
        {"action": "c2pa.created", "digitalSourceType": IPTC + "algorithmicMedia", "softwareAgent": "procedural"}])
    verdict = verify_file(signed)
    assert verdict.ok and verdict.title == "fire take"
    assert [(a.action, a.digital_source_type) for a in verdict.actions] == [
        ("c2pa.created", IPTC + "algorithmicMedia")]
    data = bytearray(signed.read_bytes())
    data[data.index(b"data") + 400] ^= 0x01          # one sample's low byte
    (tmp_path / "changed.wav").write_bytes(bytes(data))
    changed = verify_file(tmp_path / "changed.wav")
    assert changed.tampered and not changed.ok


def test_a_shots_stems_carry_what_they_were_mixed_from(film: tuple[Project, Identity]) -> None:
    project, identity = film
    recorder = tone(project.root / "plates" / "actor.wav", 330, 0.5)
    take = sign_file(tone(project.root / "fire-take.wav", 110), project.root / "fire-v001.wav", identity,
                     title="fire v001", actions=[{"action": "c2pa.created", "digitalSourceType":
                                                  IPTC + "algorithmicMedia", "softwareAgent": "procedural"}])
    record = shot("1-1", (
        SoundRecord("dialogue", "production", "plates/actor.mp4", RECORDED, 1.0),
        SoundRecord("dialogue", "recorder", "plates/actor.wav", RECORDED, 1.0, sync="timecode", offset_ms=-12.5),
        SoundRecord("effects", "fire", "element/fire", "algorithmicMedia", 1.0, gain_db=-6, take_id=3,
                    version="v001", engine="procedural", model="fire"),
        SoundRecord("ambience", "room tone", "plates/actor.mp4", RECORDED, 1.0)))
    for number, stem in enumerate(STEMS):
        tone(shot_stem_path(project, "1-1", stem), 200 + 100 * number)

    signed = sign_shot_stems(project, record, identity, takes={"element/fire": take})
    assert signed == [shot_stem_path(project, "1-1", stem) for stem in STEMS]
    dialogue, effects, ambience = (verify_file(path) for path in signed)
    assert all(v.ok for v in (dialogue, effects, ambience))
    assert dialogue.title == "shot 1-1 dialogue"
    assert [(a.action, a.digital_source_type) for a in dialogue.actions] == [
        ("c2pa.opened", IPTC + RECORDED), ("c2pa.placed", None), ("c2pa.edited", None)]
    assert b"recorder (synced by timecode, -12.5 ms) from plates/actor.wav" in signed[0].read_bytes()
    assert [(i.title, i.relationship) for i in dialogue.ingredients] == [
        ("actor.mp4", "parentOf"), (recorder.name, "componentOf")]
    assert dialogue.records["org.soundstage.sound"]["layers"][1]["offset_ms"] == -12.5

    assert [(a.action, a.digital_source_type) for a in effects.actions] == [
        ("c2pa.created", IPTC + "compositeSynthetic"), ("c2pa.placed", None),
        ("c2pa.edited", IPTC + "compositeSynthetic")]
    (fire,) = effects.ingredients
    assert (fire.title, fire.relationship, fire.state) == ("fire-v001.wav", "componentOf", "signed")
    assert [(a.action, a.digital_source_type) for a in fire.actions] == [("c2pa.created", IPTC + "algorithmicMedia")]
    assert [(i.title, i.relationship) for i in ambience.ingredients] == [("actor.mp4", "parentOf")]

    # A shot rendered before sound has no stems to sign.
    assert sign_shot_stems(project, shot("2-1", ()), identity) == []


def test_the_cut_carries_its_stems_and_they_carry_the_shots(film: tuple[Project, Identity]) -> None:
    project, identity = film
    ai = SoundRecord("effects", "storm", "element/storm", "trainedAlgorithmicMedia", 1.0, engine="google",
                     model="veo-3")
    first = shot("1-1", (SoundRecord("dialogue", "production", "plates/actor.mp4", RECORDED, 1.0),))
    second = replace(shot("2-1", (ai,)), plate=None)
    for stem in STEMS:
        tone(shot_stem_path(project, "1-1", stem), 300)
        tone(cut_stem_path(project, stem), 300, 0.5)
    tone(shot_stem_path(project, "2-1", "effects"), 500)   # 2-1 has an effects stem only
    record = CutRecord((first, second))
    sign_shot_stems(project, first, identity)
    sign_shot_stems(project, second, identity)

    stems = sign_cut_stems(project, record, identity)
    assert stems == [cut_stem_path(project, stem) for stem in STEMS]
    dialogue, effects, _ = (verify_file(path) for path in stems)
    assert dialogue.ok and effects.ok
    assert [(i.title, i.state) for i in dialogue.ingredients] == [("1-1.dialogue.wav", "signed")]
    assert [i.title for i in effects.ingredients] == ["1-1.effects.wav", "2-1.effects.wav"]
    assert effects.actions[0].digital_source_type == IPTC + "compositeWithTrainedAlgorithmicMedia"
    assert dialogue.actions[0].digital_source_type == IPTC + "composite"      # all of it recorded

    movie = project.root / "plates" / "actor.mp4"
    cut = project.out_dir / "cut.mp4"
    cut.write_bytes(movie.read_bytes())
    sign_cut(cut, [movie], record, identity, stems=stems)
    verdict = verify_file(cut)
    assert verdict.ok
    assert [i.title for i in verdict.ingredients] == ["actor.mp4", "dialogue.wav", "effects.wav", "ambience.wav"]
    assert [i.relationship for i in verdict.ingredients[1:]] == ["componentOf"] * 3
    assert all(i.state == "signed" for i in verdict.ingredients[1:])
