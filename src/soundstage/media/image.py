"""Stills: PNG in and out through OpenCV, in RGB(A) order."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

from soundstage.atomic import write_bytes
from soundstage.errors import MediaError
from soundstage.media.video import MAX_PIXELS, _open, _video_stream, oversize

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
    if raw is not None and raw.size:
        width, height = _header_size(raw[:65536].tobytes(), path)
        if not width or width * height > MAX_PIXELS:
            raise oversize(path, width, height)
    image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED) if raw is not None and raw.size else None
    if image is None:
        raise MediaError("not a readable image", path=path)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.dtype != np.uint8:
        image = (image / 257).astype(np.uint8)
    order = cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(image, order)


_JPEG_FRAMES = frozenset({*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0)})


def _header_size(head: bytes, path: Path) -> tuple[int, int]:
    """(width, height) a still's header claims, read before OpenCV decodes it (a 20000×20000 PNG of a few
    kilobytes would make it allocate 1.2 GB, then more): PNG and JPEG from their bytes, other formats from
    FFmpeg's headers, whose own pixel cap refuses them unallocated (a size of 0 then)."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
        return width, height
    if head[:2] == b"\xff\xd8":
        index = 2
        while index + 9 <= len(head) and head[index] == 0xFF:
            marker = head[index + 1]
            if marker in _JPEG_FRAMES:
                height, width = struct.unpack(">HH", head[index + 5:index + 9])
                return width, height
            if marker == 0xFF:
                index += 1                  # fill byte
            elif marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
                index += 2
            else:
                index += 2 + struct.unpack(">H", head[index + 2:index + 4])[0]
    try:
        with _open(path) as container:
            context = _video_stream(container, path).codec_context
            return (context.width, context.height) if context is not None else (0, 0)
    except MediaError:
        return 1, 1                         # not a picture FFmpeg knows: OpenCV says what it is
