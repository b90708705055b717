"""Decode ahead and encode behind in threads: same frames, bounded queues, errors where the caller sees them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import numpy as np
import pytest
from clips import H, W, plate, write_clip

from soundstage.errors import MediaError
from soundstage.media import Background, VideoWriter, ahead, open_writer, read_frames


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "plate.mp4", 40)


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("soundstage-")]


def _settle() -> None:
    for _ in range(100):
        if not _workers():
            return
        time.sleep(0.01)


def test_prefetch_gives_the_same_frames_in_order(clip: Path) -> None:
    plain = list(read_frames(clip))
    for depth in (1, 3):
        ahead_frames = list(read_frames(clip, prefetch=depth))
        assert len(ahead_frames) == len(plain) == 40
        assert all(np.array_equal(a, b) for a, b in zip(plain, ahead_frames, strict=True))
    _settle()
    assert _workers() == []


def test_stopping_early_stops_the_decoder(clip: Path) -> None:
    frames = read_frames(clip, prefetch=2)
    for index, _ in enumerate(frames):
        if index == 3:
            break
    frames.close()
    assert _workers() == []                      # close() joins the thread: nothing is left running
    frames = read_frames(clip, prefetch=2)
    next(frames)
    del frames                                   # dropped without close: the generator's finally still runs
    _settle()
    assert _workers() == []


def test_prefetch_stays_bounded() -> None:
    made: list[int] = []

    def source() -> Iterator[int]:
        for index in range(1000):
            made.append(index)
            yield index

    items = ahead(source, 3)
    assert next(items) == 0
    time.sleep(0.2)
    assert len(made) <= 1 + 3 + 1                # the one consumed, a full queue, one waiting to go in
    items.close()
    assert _workers() == []


def test_prefetch_reraises_the_decoders_error(clip: Path, tmp_path: Path) -> None:
    data = bytearray(clip.read_bytes())
    start, end = len(data) * 2 // 5, len(data) * 3 // 5
    data[start:end] = np.random.default_rng(0).integers(0, 256, end - start, dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with pytest.raises(MediaError) as plain:
        list(read_frames(damaged))
    with pytest.raises(MediaError) as threaded:
        list(read_frames(damaged, prefetch=4))
    assert str(threaded.value) == str(plain.value) and "damaged at frame" in str(plain.value)
    with pytest.raises(MediaError, match="no such file"):
        next(read_frames(tmp_path / "missing.mp4", prefetch=2))
    _settle()
    assert _workers() == []


def test_background_writer_encodes_the_same_video(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    buffer = np.empty((H, W, 3), np.uint8)
    with Background(VideoWriter(out, width=W, height=H, fps=24), depth=2) as writer:
        for index in range(40):
            buffer[:] = plate(index)             # a comp that reuses its buffer: write() must copy
            writer.write(buffer)
    assert writer.frames == writer.writer.frames == 40
    assert all(np.array_equal(a, b) for a, b in zip(read_frames(out), read_frames(clip), strict=True))
    assert _workers() == []


def test_encoder_error_surfaces_and_publishes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "bad.mp4"
    with pytest.raises(ValueError, match="the writer expects"), \
            open_writer(out, width=W, height=H, fps=24, alpha=False, threaded=True) as writer:
        writer.write(plate(0))
        writer.write(np.zeros((10, 10, 3), np.uint8))      # fails in the encoder thread...
        for index in range(50):                           # ...and is raised by a later write
            writer.write(plate(index))
    assert list(tmp_path.iterdir()) == []
    # an error on the very last frame is raised by the close
    with pytest.raises(ValueError, match="the writer expects"), \
            Background(VideoWriter(out, width=W, height=H, fps=24)) as writer:
        writer.write(np.zeros((10, 10, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []
    assert _workers() == []


class _Slow:
    """A writer that takes its time, to check that a failing block does not wait for the whole queue."""

    def __init__(self) -> None:
        self.frames = 0
        self.closed_with: type[BaseException] | None = None

    def write(self, frame: np.ndarray) -> None:
        time.sleep(0.05)
        self.frames += 1

    def __enter__(self) -> _Slow:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.closed_with = exc_type


def test_exception_in_the_block_aborts_the_encoder(tmp_path: Path) -> None:
    slow = _Slow()
    with pytest.raises(KeyError), Background(slow, depth=8) as writer:
        for index in range(8):
            writer.write(plate(index))
        raise KeyError("comp failed")
    assert slow.closed_with is KeyError and slow.frames < 8
    assert _workers() == []
