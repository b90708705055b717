"""A shot's production sound cut from its plate: from the first frame, in sync, converted and said so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from recordings import click, write_plate

from soundstage.errors import MediaError
from soundstage.sound.plate import plate_sound
from soundstage.sound.wav import read_timecode


def peak_at(samples: np.ndarray) -> int:
    return int(np.argmax(np.abs(samples[:, 0])))


def test_the_shot_hears_the_plate_from_its_first_frame(tmp_path: Path) -> None:
    plate = write_plate(tmp_path / "a.mov", frames=50, sound=click(96_000, 24_000))
    heard = plate_sound(plate, fps=25, frames=25)
    assert heard is not None
    assert heard.sound.count == 48_000                      # 25 frames at 25 fps
    assert peak_at(heard.sound.samples) == 24_000
    assert heard.notes == []


def test_sound_that_starts_after_the_picture_is_placed_by_its_timestamps(tmp_path: Path) -> None:
    # the audio stream's first sample is 0.1 s after the first frame; its click 0.4 s later still
    plate = write_plate(tmp_path / "late.mov", frames=50, sound=click(60_000, 19_200), sound_start=0.1)
    heard = plate_sound(plate, fps=25, frames=25)
    assert heard is not None
    assert peak_at(heard.sound.samples) == 24_000
    assert not heard.sound.samples[:4_800].any()            # the first 0.1 s is silence, padded
    assert any("100.0 ms shorter" in note for note in heard.notes)


def test_aac_at_44k1_mono_is_converted_in_sync_and_said_so(tmp_path: Path) -> None:
    plate = write_plate(tmp_path / "b.mp4", frames=50, sound=click(88_200, 22_050, channels=1), rate=44_100,
                        codec="aac")
    heard = plate_sound(plate, fps=25, frames=25)
    assert heard is not None and heard.rate == 44_100 and heard.channels == 1
    assert abs(peak_at(heard.sound.samples) - 24_000) <= 2  # AAC's priming is undone by the timestamps
    assert np.allclose(heard.sound.samples[:, 0], heard.sound.samples[:, 1])
    assert "44.1 kHz resampled to 48 kHz" in heard.notes and "mono mixed to stereo" in heard.notes


def test_five_one_is_folded_to_stereo_and_said_so(tmp_path: Path) -> None:
    plate = write_plate(tmp_path / "c.mov", sound=click(48_000, 100, channels=6))
    heard = plate_sound(plate, fps=25, frames=25)
    assert heard is not None and heard.channels == 6
    assert "5.1 mixed to stereo" in heard.notes
    assert np.abs(heard.sound.samples).max() > 0.1


def test_a_plate_without_sound_has_none(tmp_path: Path) -> None:
    assert plate_sound(write_plate(tmp_path / "mute.mov"), fps=25, frames=25) is None


def test_sound_shorter_than_the_picture_is_padded_and_said_so(tmp_path: Path) -> None:
    plate = write_plate(tmp_path / "short.mov", frames=25, sound=np.full((24_000, 2), 0.25, np.float32))
    heard = plate_sound(plate, fps=25, frames=25)
    assert heard is not None and heard.sound.count == 48_000
    assert np.allclose(heard.sound.samples[:23_000], 0.25, atol=1e-3)
    assert not heard.sound.samples[24_100:].any()
    assert any("500.0 ms shorter than the picture" in note for note in heard.notes)


def test_sound_longer_than_the_picture_is_trimmed_and_said_so(tmp_path: Path) -> None:
    plate = write_plate(tmp_path / "long.mov", frames=25, sound=np.full((96_000, 2), 0.25, np.float32))
    heard = plate_sound(plate, fps=25, frames=25)
    assert heard is not None and heard.sound.count == 48_000
    assert any("past the picture; trimmed" in note for note in heard.notes)


def test_a_retimed_plate_is_refused_in_one_line_when_asked(tmp_path: Path) -> None:
    plate = write_plate(tmp_path / "fast.mov", sound=click(48_000, 10))
    with pytest.raises(MediaError) as caught:
        plate_sound(plate, fps=24, frames=24, plate_fps=25, retime="refuse")
    assert str(caught.value).startswith(f"{plate}: plate runs at 25 fps and the project at 24 fps")
    assert "\n" not in str(caught.value)


def test_a_plate_played_slower_has_its_sound_resampled_to_follow(tmp_path: Path) -> None:
    # 25 fps frames played one for one at 24: the shot lasts 25/24 as long, so does every sound in it
    tone = np.sin(2 * np.pi * 1000 * np.arange(96_000) / 48_000)[:, None].repeat(2, 1).astype(np.float32) * 0.5
    plate = write_plate(tmp_path / "speed.mov", frames=50, sound=tone)
    heard = plate_sound(plate, fps=24, frames=24, plate_fps=25, conform="speed")
    assert heard is not None and heard.sound.count == 48_000
    spectrum = np.abs(np.fft.rfft(heard.sound.samples[4_800:43_200, 0] * np.hanning(38_400)))
    assert abs(np.argmax(spectrum) * 48_000 / 38_400 - 960.0) <= 2.0     # 1 kHz slowed by 24/25
    assert any("resampled by 1.0417" in note for note in heard.notes)

    clicked = write_plate(tmp_path / "speed-click.mov", frames=50, sound=click(96_000, 24_000))
    heard = plate_sound(clicked, fps=24, frames=24, plate_fps=25, conform="speed")
    assert heard is not None and abs(peak_at(heard.sound.samples) - 25_000) <= 2   # 0.5 s of plate → 0.52 s


def test_drop_repeat_keeps_the_sound_at_real_time(tmp_path: Path) -> None:
    plate = write_plate(tmp_path / "drop.mov", frames=50, sound=click(96_000, 24_000))
    heard = plate_sound(plate, fps=24, frames=24, plate_fps=25)
    assert heard is not None and heard.sound.count == 48_000 and peak_at(heard.sound.samples) == 24_000
    assert any("real time" in note for note in heard.notes)


def test_a_corrupt_audio_stream_is_one_line_naming_the_plate(tmp_path: Path) -> None:
    plate = write_plate(tmp_path / "bad.mp4", sound=np.zeros((4_800, 2), np.float32), codec="aac",
                        corrupt=True)
    with pytest.raises(MediaError) as caught:
        plate_sound(plate, fps=25, frames=25)
    assert str(caught.value).startswith(f"{plate}: ") and "\n" not in str(caught.value)
    assert "damaged" in str(caught.value)


def test_the_plates_timecode_is_read_from_its_tmcd_track(tmp_path: Path) -> None:
    plate = write_plate(tmp_path / "tc.mp4", timecode="01:02:03:04")
    assert read_timecode(plate) == "01:02:03:04"
    assert read_timecode(write_plate(tmp_path / "none.mov")) is None
