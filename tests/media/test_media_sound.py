"""Sound in the movies: AAC beside H.264, 24-bit PCM beside ProRes, in sync as a player decodes them.

The proof is PyAV decoding the file and placing the sound by its timestamps, as a player does: a click laid
on the first sample of a frame must be heard within 1 ms of that frame's time, so AAC's 1024 priming samples
(21 ms) are not heard as a late start.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from clips import click_track, decode_sound

from soundstage.errors import MediaError
from soundstage.media import ProResWriter, VideoWriter, frame_sample, open_writer

W, H = 64, 36
AAC_FRAME = 1024 / 48_000
RATES = [Fraction(24), Fraction(25), Fraction(30000, 1001)]


def picture(index: int) -> np.ndarray:
    frame = np.zeros((H, W, 3), np.uint8)
    frame[:, : 2 + index] = 200
    return frame


def write_movie(path: Path, frames: int, fps: Fraction, sound: np.ndarray, **options: object) -> Path:
    with open_writer(path, width=W, height=H, fps=float(fps), alpha=False, sound=sound, **options) as writer:
        for index in range(frames):
            writer.write(picture(index))
    return path


@pytest.mark.parametrize("fps", RATES, ids=str)
def test_a_click_on_frame_12_is_heard_at_frame_12s_time(tmp_path: Path, fps: Fraction) -> None:
    movie = write_movie(tmp_path / "cut.mp4", 30, fps, click_track(30, fps, at=12))
    heard = decode_sound(movie)
    assert (heard.codec, heard.rate, heard.samples.shape[1]) == ("aac", 48_000, 2)
    assert heard.start == 0 and heard.picture_start == 0            # sound and picture both begin at t = 0
    assert abs(heard.first_above(0.5) - 12 / fps) < 0.001            # the priming is not heard as a delay


def test_aac_is_written_at_192_kbit_s(tmp_path: Path) -> None:
    hiss = np.random.default_rng(2).uniform(-0.5, 0.5, (48_000 * 2, 2)).astype(np.float32)   # no shortcut for it
    heard = decode_sound(write_movie(tmp_path / "cut.mp4", 48, Fraction(24), hiss))
    assert 0.85 * 192_000 < heard.bit_rate < 1.15 * 192_000


@pytest.mark.parametrize("fps", RATES, ids=str)
def test_the_sound_lasts_as_long_as_the_picture(tmp_path: Path, fps: Fraction) -> None:
    movie = write_movie(tmp_path / "cut.mp4", 30, fps, click_track(30, fps, at=3))
    assert abs(decode_sound(movie).end - 30 / fps) <= AAC_FRAME


def test_no_drift_at_ntsc_rates_over_a_long_run() -> None:
    """Frame bounds are the exact rational ones: 23.976 taken as a float would be 3.6 ms off after an hour."""
    fps = 23.976
    hour = 86_314                                     # frames in an hour at 24000/1001
    assert frame_sample(hour, fps) == round(hour * 48_000 * Fraction(1001, 24000)) == 172_800_628
    assert [frame_sample(i, 29.97) for i in range(6)] == [0, 1602, 3203, 4805, 6406, 8008]


def test_a_short_sound_is_padded_with_silence_and_a_long_one_is_cut(tmp_path: Path) -> None:
    fps = Fraction(24)
    tone = np.full((48_000 * 3, 2), 0.25, np.float32)        # 3 s of DC-free level: a 1 kHz sine
    tone[:, :] = 0.25 * np.sin(2 * np.pi * 1000 * np.arange(len(tone)) / 48_000)[:, None]
    short = decode_sound(write_movie(tmp_path / "short.mp4", 24, fps, tone[:12_000]))   # a quarter of 1 s
    assert abs(short.end - 1.0) <= AAC_FRAME
    assert np.abs(short.samples[: 10_000]).max() > 0.2
    assert np.abs(short.samples[14_000:]).max() < 0.01                                  # silence after it
    long = decode_sound(write_movie(tmp_path / "long.mp4", 24, fps, tone))              # 3 s under 1 s
    assert abs(long.end - 1.0) <= AAC_FRAME
    assert np.abs(long.samples[2_000:46_000]).max() > 0.2


def test_prores_carries_24_bit_pcm_sample_exact(tmp_path: Path) -> None:
    fps = Fraction(30000, 1001)
    sound = click_track(10, fps, at=4)
    sound[:, 1] *= -0.5                                      # the sides differ, so a swap would show
    movie = write_movie(tmp_path / "master.mov", 10, fps, sound)
    heard = decode_sound(movie)
    assert heard.codec == "pcm_s24le" and heard.start == 0 and len(heard.samples) == frame_sample(10, fps) == len(sound)
    np.testing.assert_allclose(heard.samples, sound, atol=2 ** -23)
    assert abs(heard.first_above(0.3) - 4 / fps) < 1 / 48_000


def test_a_sequence_carries_no_sound_but_takes_it(tmp_path: Path) -> None:
    """A shot written as frames has its stems for sound: passing the mix must not break its render."""
    write_movie(tmp_path / "s" / "s.%04d.png", 2, Fraction(24), click_track(2, Fraction(24), at=1))
    assert len(list((tmp_path / "s").glob("s.*.png"))) == 2


def test_sound_that_is_not_numbers_is_one_line_and_nothing_is_left(tmp_path: Path) -> None:
    sound = click_track(10, Fraction(24), at=2)
    sound[5_000] = np.nan
    with pytest.raises(MediaError, match=r"not numbers .* in frame 2") as caught:
        write_movie(tmp_path / "cut.mp4", 10, Fraction(24), sound)
    assert "\n" not in str(caught.value) and str(tmp_path / "cut.mp4") in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_sound_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\(count, 2\) float32"):
        VideoWriter(tmp_path / "a.mp4", width=W, height=H, fps=24, sound=np.zeros(100, np.float32))
    with pytest.raises(ValueError, match=r"\(count, 2\) float32"):
        ProResWriter(tmp_path / "a.mov", width=W, height=H, fps=24, sound=np.zeros((100, 2)))
    assert list(tmp_path.iterdir()) == []


def test_the_same_sound_gives_the_same_bytes(tmp_path: Path) -> None:
    """A re-render must not change the cut: AAC and the muxer are deterministic here."""
    fps = Fraction(25)
    one = write_movie(tmp_path / "one.mp4", 12, fps, click_track(12, fps, at=5)).read_bytes()
    two = write_movie(tmp_path / "two.mp4", 12, fps, click_track(12, fps, at=5)).read_bytes()
    assert one == two
