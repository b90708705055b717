"""A film with production sound, end to end: a camera file with sound and a recorder's WAV go in; a cut that
plays in sync at the delivery loudness, its stems, subtitles and a timeline carrying the sound come out. And
the bad sound inputs, each refused before anything is made, in one line naming the file, exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
from typer.testing import CliRunner

from soundstage.cli import app
from soundstage.project import Project
from soundstage.sound import read_sound
from soundstage.sound.loudness import ebur128
from tiny_film import FPS, make_tiny

sys.path.insert(0, str(Path(__file__).resolve().parent / "sound"))
from recordings import speechlike, write_plate, write_wav

RATE = 48_000
OFFSET = 0.75                 # the recorder started this long before the camera
PLATE_TC = "10:00:00:00"


def stereo(mono: np.ndarray) -> np.ndarray:
    return np.repeat(mono[:, None], 2, axis=1).astype(np.float32)


def film_with_sound(root: Path, *, recorder: bool = True) -> Project:
    """The tiny film, its plate a camera file with scratch sound (a voice at -30 dBFS-ish, and a clap at
    frame 3), and, if asked, the recorder's WAV of the same voice, cleaner, started OFFSET s earlier."""
    make_tiny(root)
    seconds = 1.0
    voice = speechlike(seconds + OFFSET + 0.5, seed=4) * 0.3
    rng = np.random.default_rng(1)
    scratch = voice[round(OFFSET * RATE):round((OFFSET + seconds) * RATE)] * 0.5 + \
        rng.normal(0, 0.003, round(seconds * RATE))
    write_plate(root / "plates" / "actor.mp4", fps=FPS, frames=round(FPS * seconds), sound=stereo(scratch),
                codec="aac", timecode=PLATE_TC)
    if recorder:
        start = round((10 * 3600 - OFFSET) * RATE)
        write_wav(root / "plates" / "actor_rec.wav", stereo(voice), time_reference=start)
        shots = (root / "shots.toml").read_text().replace(
            'plate = "plates/actor.mp4"', 'plate = "plates/actor.mp4"\nsound = { wav = "plates/actor_rec.wav" }')
        (root / "shots.toml").write_text(shots)
    return Project.load(root)


def test_a_film_with_a_camera_file_and_a_recorder_renders_to_a_cut_that_carries_its_sound(tmp_path: Path) -> None:
    project = film_with_sound(tmp_path / "film")
    result = CliRunner().invoke(app, ["render", str(project.root)])
    assert result.exit_code == 0, result.output
    assert "synced by timecode, offset +750.0 ms" in result.output

    record = json.loads((project.out_dir / "shots" / "1-1.json").read_text())
    recorder = next(layer for layer in record["sound"] if layer["name"] == "recorder")
    assert recorder["sync"] == "timecode" and recorder["offset_ms"] == pytest.approx(750.0)
    assert recorder["source_type"].endswith("digitalCapture")

    # the shot's dialogue stem is the recorder's voice from the camera's first frame: OFFSET s into the WAV
    stem = read_sound(project.out_dir / "shots" / "1-1.dialogue.wav")
    assert stem.codec == "pcm_s24le" and stem.rate == RATE
    assert stem.time_reference == 10 * 3600 * RATE          # the plate's timecode, as the roll's
    voice = speechlike(1.0 + OFFSET + 0.5, seed=4) * 0.3
    heard = stem.sound.samples[:RATE // 2, 0]
    expected = voice[round(OFFSET * RATE):round(OFFSET * RATE) + RATE // 2]
    assert np.corrcoef(heard[480:-480], expected[480:-480])[0, 1] > 0.99

    # the cut: AAC stereo as long as the picture, at -23 LUFS by the meter it was not normalised with
    with av.open(str(project.out_dir / "cut.mp4")) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac" and audio.channels == 2 and audio.rate == RATE
    stems = {name: read_sound(project.out_dir / "stems" / f"{name}.wav") for name in ("dialogue", "effects",
                                                                                       "ambience")}
    assert all(s.time_reference == 3600 * RATE for s in stems.values())     # [edit] start_timecode 01:00:00:00
    mix = read_sound(project.out_dir / "cut.mp4").sound
    lufs, peak = ebur128(mix)
    assert lufs == pytest.approx(-23.0, abs=0.5) and peak <= -1.0 + 0.2

    # the editor's timeline has a track per stem, linked to the shot's stems
    result = CliRunner().invoke(app, ["cut", str(project.root), "--format", "otio"])
    assert result.exit_code == 0, result.output
    timeline = otio.adapters.read_from_file(str(project.out_dir / "cut.otio"))
    audio_tracks = [track for track in timeline.tracks if track.kind == otio.schema.TrackKind.Audio]
    assert [track.name for track in audio_tracks] == ["dialogue", "effects", "ambience"]
    first = next(iter(audio_tracks[0].find_clips()))
    assert first.media_reference.target_url.endswith("1-1.dialogue.wav")

    # the subtitles exist (the tiny script has no dialogue: empty but well formed)
    assert (project.out_dir / "cut.srt").is_file() and (project.out_dir / "cut.vtt").read_text().startswith("WEBVTT")


def test_a_shot_without_sound_gets_room_tone_so_the_cut_has_no_hole(tmp_path: Path) -> None:
    project = film_with_sound(tmp_path / "film", recorder=False)
    result = CliRunner().invoke(app, ["render", str(project.root)])
    assert result.exit_code == 0, result.output
    assert "shot 2-1: no production sound; room tone cut from the film's own" in result.output
    dialogue = read_sound(project.out_dir / "stems" / "dialogue.wav").sound.samples
    second = dialogue[RATE + RATE // 10: RATE + RATE // 2 - RATE // 10]        # inside shot 2-1, off its fades
    assert np.sqrt((second.astype(np.float64) ** 2).mean()) > 1e-4                # not digital silence


def bad(root: Path, what: str) -> Project:
    project = film_with_sound(root)
    plates = root / "plates"
    if what == "timecode":
        write_wav(plates / "actor_rec.wav", stereo(speechlike(2.0, seed=4)), time_reference=12 * 3600 * RATE)
    elif what == "codec":
        (plates / "actor_rec.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(200)))
    elif what == "corrupt":
        write_plate(plates / "actor.mp4", fps=FPS, frames=FPS, sound=np.zeros((RATE, 2), np.float32), codec="aac",
                    corrupt=True, timecode=PLATE_TC)
    elif what == "no match":
        write_plate(plates / "actor.mp4", fps=FPS, frames=FPS, sound=stereo(speechlike(1.0, seed=9) * 0.3),
                    codec="aac")                                  # no timecode: synced by waveform, and it fails
        write_wav(plates / "actor_rec.wav", stereo(np.random.default_rng(5).normal(0, 0.1, 3 * RATE)))
    return project


@pytest.mark.parametrize(("what", "named", "said"), [
    ("timecode", "plates/actor_rec.wav", "does not overlap its plate's"),
    ("codec", "plates/actor_rec.wav", "cannot be read"),
    ("corrupt", "plates/actor.mp4", "damaged"),
    ("no match", "plates/actor_rec.wav", "confidence"),
])
def test_bad_sound_is_refused_before_anything_is_made(tmp_path: Path, what: str, named: str, said: str) -> None:
    project = bad(tmp_path / "film", what)
    result = CliRunner().invoke(app, ["render", str(project.root)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if named in line]
    assert lines and said in lines[0] and "shot 1-1" in lines[0], result.output
    assert "Traceback" not in result.output
    assert not (project.out_dir / "shots").exists()                  # nothing half made
