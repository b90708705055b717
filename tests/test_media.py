"""PyAV decode/encode: real files, real pixels, and clear errors for damaged ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soundstage.comp.camera import CameraMove, overscan_size
from soundstage.errors import MediaError
from soundstage.media import VideoWriter, probe, read_frames, read_image, write_png


def bars(index: int) -> np.ndarray:
    frame = np.zeros((72, 128, 3), np.uint8)
    frame[:, : 8 + index * 4] = (200, 40, 40)
    return frame


def test_encode_decode_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, width=128, height=72, fps=24) as writer:
        for index in range(24):
            writer.write(bars(index))
    info = probe(path)
    assert (info.width, info.height, info.fps, info.frames) == (128, 72, 24, 24)
    frames = list(read_frames(path))
    assert len(frames) == 24
    # the red bar grows by 4 px a frame; H.264 keeps it within a few levels
    assert abs(int(frames[10][36, 40, 0]) - 200) < 12 and frames[10][36, 60, 0] < 20


def test_failed_encode_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    with pytest.raises(ValueError), VideoWriter(path, width=128, height=72, fps=24) as writer:
        writer.write(bars(0))
        writer.write(np.zeros((10, 10, 3), np.uint8))
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_corrupt_and_truncated_video_are_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x01junk" * 500)
    with pytest.raises(MediaError, match=r"garbage\.mp4: not a readable video"):
        probe(garbage)
    good = tmp_path / "good.mp4"
    with VideoWriter(good, width=128, height=72, fps=24) as writer:
        for index in range(24):
            writer.write(bars(index))
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(MediaError, match=r"truncated\.mp4"):
        list(read_frames(truncated))


def test_png_round_trip_keeps_channel_order(tmp_path: Path) -> None:
    image = np.zeros((4, 4, 4), np.uint8)
    image[..., 0] = 255
    image[..., 3] = 128
    write_png(tmp_path / "a.png", image)
    back = read_image(tmp_path / "a.png")
    assert back.shape == (4, 4, 4) and back[0, 0].tolist() == [255, 0, 0, 128]
    with pytest.raises(MediaError):
        read_image(tmp_path / "missing.png")


def test_camera_moves_frame_the_set() -> None:
    width, height = 160, 90
    set_w, set_h = overscan_size(width, height)
    ramp = np.repeat(np.linspace(0, 255, set_w, dtype=np.float32)[None, :], set_h, 0).astype(np.uint8)
    backdrop = np.dstack([ramp] * 3)
    pan = CameraMove("pan-right", 0.1)
    first, last = pan.frame(backdrop, 0, width, height), pan.frame(backdrop, 1, width, height)
    assert first.shape == (height, width, 3)
    assert last[:, :, 0].mean() > first[:, :, 0].mean() + 5      # looking further right: brighter ramp
    push = CameraMove("push-in", 0.2)
    wide, tight = push.frame(backdrop, 0, width, height), push.frame(backdrop, 1, width, height)
    # pushing in narrows the range of the ramp that is seen
    assert np.ptp(tight[:, :, 0]) < np.ptp(wide[:, :, 0]) - 20
    static = CameraMove()
    assert np.array_equal(static.frame(backdrop, 0, width, height), static.frame(backdrop, 1, width, height))


def test_ntsc_rates_are_the_fractions_editors_know() -> None:
    from fractions import Fraction

    from soundstage.media.video import as_rate

    assert as_rate(23.976) == Fraction(24000, 1001)
    assert as_rate(29.97) == Fraction(30000, 1001)
    assert as_rate(59.94) == Fraction(60000, 1001)
    assert as_rate(24) == 24 and as_rate(25) == 25 and as_rate(12.5) == Fraction(25, 2)


def test_an_image_passed_off_as_a_movie_is_refused_in_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "plate.mp4"
    fake.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>')
    with pytest.raises(MediaError, match=r"no usable video stream|not a readable video|no video stream"):
        probe(fake)


def test_proxies_give_the_luma_a_small_rgb_and_keep_the_frames_read_frames_gives(tmp_path: Path) -> None:
    from soundstage.media import read_proxies

    path = tmp_path / "clip.mp4"
    ramp = np.linspace(0, 255, 96, dtype=np.float32)
    with VideoWriter(path, width=96, height=54, fps=24, crf=12) as writer:
        for shift in range(3):
            picture = np.zeros((54, 96, 3), np.uint8)
            picture[..., 0] = np.roll(ramp, 8 * shift).astype(np.uint8)[None]
            picture[..., 1] = 120
            writer.write(picture)
    kept: list[np.ndarray] = []
    views = list(read_proxies(path, 32, keep=kept))
    frames = list(read_frames(path))
    assert len(views) == len(kept) == len(frames) == 3
    for (luma, proxy), picture, full in zip(views, kept, frames, strict=True):
        assert np.array_equal(picture, full), "kept frames are what read_frames gives"
        assert luma.shape == (54, 96) and luma.dtype == np.uint8
        assert proxy.shape == (18, 32, 3)               # 96 / 3: a whole fraction, about 32 wide
        grey = full.astype(float) @ [0.2126, 0.7152, 0.0722]
        assert np.corrcoef(luma.ravel(), grey.ravel())[0, 1] > 0.99
