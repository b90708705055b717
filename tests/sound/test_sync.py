"""Double-system sound: timecode sync exact to the sample, waveform sync within 1 ms, or refused in one line."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from recordings import click, speechlike, write_plate, write_wav

from soundstage.errors import MediaError
from soundstage.sound.sync import Timecode, plate_timecode, recorder_sound, timecode_offset, waveform_offset
from soundstage.sound.track import RATE, Sound

NTSC = 30_000 / 1001


def stereo(mono: np.ndarray) -> Sound:
    return Sound(np.repeat(mono[:, None], 2, axis=1).astype(np.float32))


@pytest.mark.parametrize(("text", "fps", "frames"), [
    ("01:00:00:00", 25, 90_000),
    ("01:00:00:00", 24_000 / 1001, 86_400),
    ("01:00:00;00", NTSC, 107_892),            # the SMPTE table: an hour of 29.97 drop-frame
    ("00:01:00;02", NTSC, 1_800),              # minute 1 starts at ;02
    ("00:10:00;00", NTSC, 17_982),             # every tenth minute keeps its frames
    ("01:00:00;00", 60_000 / 1001, 215_784),
])
def test_timecode_is_real_seconds_since_midnight(text: str, fps: float, frames: int) -> None:
    nominal = round(fps)
    rate = Fraction(nominal * 1000, 1001) if nominal != fps else Fraction(nominal)
    assert Timecode(text, fps).seconds == frames / rate


@pytest.mark.parametrize(("text", "fps"), [("01:00:00;00", 25), ("01:00:00:25", 25), ("1 hour", 24)])
def test_a_bad_timecode_is_refused(text: str, fps: float) -> None:
    with pytest.raises(ValueError, match="timecode"):
        Timecode(text, fps).seconds  # noqa: B018


def test_a_plates_drop_frame_timecode_is_read_and_a_misfit_is_one_line_naming_it(tmp_path: Path) -> None:
    plate = write_plate(tmp_path / "p.mp4", fps=NTSC, frames=3, timecode="01:00:00;00")
    assert plate_timecode(plate, NTSC) == Timecode("01:00:00;00", NTSC)
    with pytest.raises(MediaError, match="drop-frame") as caught:
        plate_timecode(plate, 25)                  # drop-frame at a rate that has none
    assert str(caught.value).startswith(f"{plate}: ")


def test_timecode_sync_is_exact_to_the_sample_at_another_rate(tmp_path: Path) -> None:
    # a 96 kHz WAV started 1.25 s before the 29.97 DF plate, with a click on the plate's first frame
    plate = write_plate(tmp_path / "p.mp4", fps=NTSC, frames=30, timecode="01:00:00;00")
    start = Fraction(107_892 * 1001, 30_000)
    at_plate = round(start * 96_000)
    wav = write_wav(tmp_path / "r.wav", click(3 * 96_000, 120_000), rate=96_000, time_reference=at_plate - 120_000)
    sound, sync = recorder_sound(wav, None, plate_timecode(plate, NTSC), fps=NTSC, frames=30)
    assert sync.method == "timecode" and sync.confidence == 1.0 and sync.offset_samples == 60_000
    assert int(np.argmax(np.abs(sound.samples[:, 0]))) == 0
    assert sound.count == round(30 / NTSC * RATE)
    assert "96 kHz resampled to 48 kHz" in sync.notes


def test_timecode_offset_takes_the_near_way_round_midnight() -> None:
    assert timecode_offset(Timecode("23:59:59:00", 25), RATE // 2, RATE) == -int(1.5 * RATE)


def test_a_wav_whose_timecode_misses_the_plate_is_one_line_naming_it(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "r.wav", click(RATE, 10), time_reference=10 * 3600 * RATE)
    with pytest.raises(MediaError, match="does not overlap its plate's") as caught:
        recorder_sound(wav, None, Timecode("01:00:00:00", 25), fps=25, frames=25)
    assert str(caught.value).startswith(f"{wav}: its timecode (10:00:00") and "\n" not in str(caught.value)


def test_a_wav_covering_part_of_the_shot_is_padded_and_said_so(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "r.wav", np.full((RATE // 2, 2), 0.5, np.float32), time_reference=3600 * RATE)
    sound, sync = recorder_sound(wav, None, Timecode("01:00:00:00", 25), fps=25, frames=25)
    assert np.allclose(sound.samples[:RATE // 2 - 10], 0.5, atol=1e-3) and not sound.samples[RATE // 2:].any()
    assert any("covers 0.50 s of the shot's 1.00 s" in note for note in sync.notes)


def take(seconds: float, offset: int, seed: int, snr_db: float = 6.0) -> tuple[Sound, Sound]:
    """(recorder, camera scratch) of one take, the recorder's sample ``offset`` on the camera's first."""
    rng = np.random.default_rng(seed)
    lead = 2 * RATE
    source = speechlike(seconds + 4, seed=seed)
    scratch = source[lead:lead + int(seconds * RATE)]
    recorder = 0.3 * source[lead - offset:lead - offset + int((seconds + 2.5) * RATE)]
    def noise(signal: np.ndarray) -> np.ndarray:
        return signal + rng.standard_normal(signal.shape[0]) * np.sqrt(np.mean(signal**2) / 10 ** (snr_db / 10))
    return stereo(noise(recorder)), stereo(noise(scratch))


@pytest.mark.parametrize("offset", [-30_001, 0, 12_345, 95_000])
def test_waveform_sync_finds_the_offset_within_a_millisecond(offset: int) -> None:
    recorder, scratch = take(3.0, offset, seed=offset % 97)
    found, confidence = waveform_offset(recorder, scratch)
    assert abs(found - offset) <= RATE / 1000
    assert confidence >= 0.5


def test_recorder_sound_by_waveform_lines_the_take_up(tmp_path: Path) -> None:
    recorder, scratch = take(2.0, 30_000, seed=5)
    wav = write_wav(tmp_path / "r.wav", recorder.samples)              # no BWF timecode
    sound, sync = recorder_sound(wav, scratch, Timecode("01:00:00:00", 25), fps=25, frames=50)
    assert sync.method == "waveform" and abs(sync.offset_samples - 30_000) <= 48
    assert sync.offset_ms == pytest.approx(625.0, abs=1.0)
    expected = recorder.samples[sync.offset_samples:sync.offset_samples + 2 * RATE]
    assert np.allclose(sound.samples, expected, atol=1e-4)


def test_no_clear_match_is_refused_with_its_confidence(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    wav = write_wav(tmp_path / "other.wav", rng.standard_normal((3 * RATE, 2)).astype(np.float32) * 0.1)
    scratch = Sound(rng.standard_normal((2 * RATE, 2)).astype(np.float32) * 0.1)
    with pytest.raises(MediaError, match=r"no clear match with its plate's sound \(confidence 0\.\d\d, under 0.5\)"
                       ) as caught:
        recorder_sound(wav, scratch, None, fps=25, frames=50)
    assert str(caught.value).startswith(f"{wav}: ")


def test_no_timecode_and_no_scratch_cannot_be_synced(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "r.wav", click(RATE, 10))
    with pytest.raises(MediaError, match="cannot be synced"):
        recorder_sound(wav, None, Timecode("01:00:00:00", 25), fps=25, frames=25)


def test_a_wav_in_a_codec_ffmpeg_cannot_read_is_one_line_naming_it(tmp_path: Path) -> None:
    fmt = struct.pack("<HHIIHH", 0x3F3F, 2, 48_000, 192_000, 4, 16)      # a format tag no decoder knows
    data = bytes(range(256)) * 40
    body = b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    wav = tmp_path / "odd.wav"
    wav.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    with pytest.raises(MediaError) as caught:
        recorder_sound(wav, None, Timecode("01:00:00:00", 25), fps=25, frames=25)
    assert str(caught.value).startswith(f"{wav}: its audio is in a codec FFmpeg cannot read")
    assert "\n" not in str(caught.value)
