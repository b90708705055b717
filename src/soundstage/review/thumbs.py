"""Small JPEG stills of shots and takes for the review pages, kept in ``.soundstage/review/thumbs``.

A still is keyed by its source's path, size and modification time, so a re-rendered shot gets a new one. An
element's frame sequence is shown by its most telling frame, the one its alpha covers most (frame 0 of fire or
an explosion is often empty), over a checkerboard; and by a strip of a few frames for scrubbing on hover.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from soundstage.atomic import write_bytes
from soundstage.errors import MediaError
from soundstage.media import probe, read_frames

WIDTH = 384


def thumbnail(source: Path, cache: Path, *, width: int = WIDTH) -> Path:
    """The JPEG still of ``source`` (a still, or the frame a third of the way into a movie)."""
    stat = source.stat()
    name = hashlib.sha256(f"{source}|{stat.st_size}|{stat.st_mtime_ns}|{width}".encode()).hexdigest()[:24]
    target = cache / f"{name}.jpg"
    if target.is_file():
        return target
    _write_jpeg(target, _small(_frame(source), width), source)
    return target


STRIP_CELLS = 8
SAMPLED = 24          # frames of a long sequence weighed for the telling one


def sequence_thumbnail(frames: Sequence[Path], cache: Path, *, width: int = WIDTH) -> Path:
    """The JPEG still of a frame sequence: its frame of peak alpha coverage, over a checkerboard."""
    target = cache / f"{_key(frames, f'peak|{width}')}.jpg"
    if not target.is_file():
        weighed = [frames[i] for i in _spread(len(frames), SAMPLED)]
        telling = max(weighed, key=_coverage)
        _write_jpeg(target, _small(_frame(telling), width), telling)
    return target


def strip(frames: Sequence[Path], cache: Path, *, cells: int = STRIP_CELLS, width: int = WIDTH // 2) -> Path:
    """A JPEG of ``cells`` frames spread over the sequence, side by side: the page shows one cell at a time as the
    pointer moves across the thumbnail."""
    target = cache / f"{_key(frames, f'strip|{cells}|{width}')}.jpg"
    if not target.is_file():
        picked = [_small(_frame(frames[i]), width) for i in _spread(len(frames), cells)]
        _write_jpeg(target, np.concatenate(picked, axis=1), frames[0])
    return target


def _spread(count: int, most: int) -> list[int]:
    """Up to ``most`` indices spread evenly over ``count`` frames, first and last included."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def _coverage(path: Path) -> float:
    """How much of the frame its alpha covers (1.0 for a frame without alpha)."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim == 2 or image.shape[2] < 4:
        return 1.0
    return float(image[..., 3].mean()) / float(np.iinfo(image.dtype).max)


def _key(frames: Sequence[Path], what: str) -> str:
    digest = hashlib.sha256(what.encode())
    for path in frames:
        stat = path.stat()
        digest.update(f"|{path}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:24]


def _small(rgb: np.ndarray, width: int) -> np.ndarray:
    height = max(2, round(rgb.shape[0] * width / rgb.shape[1]))
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)


def _write_jpeg(target: Path, rgb: np.ndarray, source: Path) -> None:
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise MediaError("could not encode a thumbnail", path=source)
    write_bytes(target, encoded.tobytes())


def _frame(source: Path) -> np.ndarray:
    if source.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"):
        image = cv2.imread(str(source), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise MediaError("cannot be read as an image", path=source)
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        if image.dtype != np.uint8:
            image = (image / 257).astype(np.uint8)
        if image.shape[2] == 4:       # an element over a grey checkerboard, so its edges show
            alpha = image[..., 3:4].astype(np.float32) / 255
            board = _checkerboard(image.shape[0], image.shape[1])
            image = (image[..., :3] * alpha + board * (1 - alpha)).astype(np.uint8)
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    wanted = (probe(source).frames or 1) // 3
    frames = list(itertools.islice(read_frames(source), wanted, wanted + 1)) or \
        list(itertools.islice(read_frames(source), 1))
    if not frames:
        raise MediaError("has no frames", path=source)
    return frames[0]


def _checkerboard(height: int, width: int, cell: int = 12) -> np.ndarray:
    ys, xs = np.indices((height, width))
    board = np.where(((ys // cell) + (xs // cell)) % 2 == 0, 70, 95).astype(np.float32)
    return np.repeat(board[..., None], 3, axis=2)
