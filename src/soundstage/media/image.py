"""Stills: PNG in and out through OpenCV, in RGB(A) order."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from soundstage.atomic import write_bytes
from soundstage.errors import MediaError

# What read_image opens: a file with one of these suffixes is a still; anything else is taken for a video.
STILL_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})
# The same formats by FFmpeg's decoder names, to tell a still by its content whatever its suffix (probe_plate).
STILL_CODECS = frozenset({"png", "mjpeg", "tiff", "bmp", "webp"})


def write_png(path: str | Path, image: np.ndarray) -> None:
    """Write an RGB or RGBA uint8 image as PNG, atomically."""
    order = cv2.COLOR_RGBA2BGRA if image.ndim == 3 and image.shape[2] == 4 else cv2.COLOR_RGB2BGR
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(image, order))
    if not ok:
        raise MediaError("could not be encoded as PNG", path=path)
    write_bytes(path, encoded.tobytes())


def read_image(path: str | Path) -> np.ndarray:
    """Read a still as RGB or RGBA uint8."""
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8) if path.is_file() else None
    image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED) if raw is not None and raw.size else None
    if image is None:
        raise MediaError("not a readable image", path=path)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.dtype != np.uint8:
        image = (image / 257).astype(np.uint8)
    order = cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(image, order)
