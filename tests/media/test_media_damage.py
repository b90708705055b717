"""Damaged videos get one clear MediaError naming the file (and the frame, mid-stream), never a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from clips import half_written_mp4, write_clip

from soundstage.errors import MediaError
from soundstage.media import probe, read_frames, read_rgba_frames


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_clip(tmp_path_factory.mktemp("good") / "good.mp4", 48).read_bytes()


@pytest.mark.parametrize("prefetch", [0, 3])
def test_truncated_video_names_where_it_ends(good: bytes, tmp_path: Path, prefetch: int) -> None:
    path = tmp_path / "cut short.mp4"
    path.write_bytes(good[: len(good) * 3 // 10])       # the index is whole (faststart), the frames are not
    assert probe(path).frames == 48
    with pytest.raises(MediaError, match=r"cut short\.mp4: ends after frame \d+ of the 48"):
        list(read_frames(path, prefetch=prefetch))


def test_truncated_video_without_its_index_is_unreadable(tmp_path: Path) -> None:
    path = half_written_mp4(tmp_path)
    with pytest.raises(MediaError, match=r"half\.mp4: not a readable video"):
        list(read_frames(path))


@pytest.mark.parametrize("content", [b"", b"\x00\x01junk" * 500, np.random.default_rng(3).bytes(20_000),
                                     b"INT. HANOK - NIGHT\n" * 40])
def test_not_a_video_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "plate.mp4"
    path.write_bytes(content)
    with pytest.raises(MediaError, match=r"plate\.mp4: not a readable video"):
        probe(path)
    with pytest.raises(MediaError, match=r"plate\.mp4: not a readable video"):
        list(read_frames(path, prefetch=2))


@pytest.mark.parametrize("reader", [read_frames, read_rgba_frames])
def test_garbage_in_the_middle_names_the_frame(good: bytes, tmp_path: Path, reader: object) -> None:
    data = bytearray(good)
    start, end = len(data) * 2 // 5, len(data) * 3 // 5
    data[start:end] = np.random.default_rng(0).integers(0, 256, end - start, dtype=np.uint8).tobytes()
    path = tmp_path / "overwritten.mp4"
    path.write_bytes(bytes(data))
    frames = []
    with pytest.raises(MediaError, match=r"overwritten\.mp4: damaged at frame (\d+)") as caught:
        frames.extend(reader(path))  # type: ignore[operator]
    # the frames before the damage came through, and the message says where it stopped
    assert 0 < len(frames) < 48 and f"frame {len(frames)} " in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no such file"):
        probe(tmp_path / "nope.mp4")
