"""Small JPEG stills of shots and takes for the review pages, kept in ``.soundstage/review/thumbs``.

A still is keyed by its source's path, size and modification time, so a re-rendered shot gets a new one.
"""

from __future__ import annotations

import hashlib
import itertools
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
    rgb = _frame(source)
    height = max(2, round(rgb.shape[0] * width / rgb.shape[1]))
    small = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise MediaError("could not encode a thumbnail", path=source)
    write_bytes(target, encoded.tobytes())
    return target


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
