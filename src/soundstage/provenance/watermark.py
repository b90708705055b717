"""An invisible, keyed watermark that carries a take's 64-bit id in its rendered frames.

Why this design: the mark must survive what happens to review renders — an H.264 re-encode and a downscale
(1080p → 720p) — while costing a few ms a 1080p frame, a small share of the ~35–100 ms render.

- Spread spectrum on a coarse grid of cells (:data:`CELL_ROWS` rows, columns from the aspect). Each cell
  carries one payload bit times a key-seeded ±1 chip; cells are dealt to bits by a key-seeded shuffle.
  The grid is tied to the picture, not to pixels, so a resize keeps every cell where it was.
- The chip grid is upsampled smoothly (bicubic) to the frame: a low-frequency pattern that a downscale
  keeps and H.264's quantiser mostly leaves alone. It is added equally to R, G and B, i.e. to luma only,
  where chroma subsampling cannot halve it.
- A texture mask (local contrast at cell scale) lowers the strength on flat sky and raises it on busy
  detail, where the eye does not see it.
- The signed cell grid is precomputed once per payload, key and grid; per frame, embedding is a mask at
  cell scale, one bicubic upsample and one saturating OpenCV add, vectorised.
- Detection averages each frame's luma down to the cell grid, whitens it (subtracts what the 8 neighbour
  cells predict, so the picture's own shading drops out; divides by local activity, so busy detail does
  not drown the rest), sums over frames, and correlates with each bit's chips. A 16-bit
  CRC over the payload and a minimum correlation decide "watermarked"; a wrong key or an unmarked frame
  gives ``payload=None``.
"""

from __future__ import annotations

import binascii
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

PAYLOAD_BYTES = 8
CRC_BITS = 16
BITS = PAYLOAD_BYTES * 8 + CRC_BITS
CELL_ROWS = 90                 # 12 px cells at 1080p, 8 px at 720p
STRENGTH = 2.5                 # luma levels (of 255) before the texture mask
_FIXED = 16                    # uint8 fixed-point steps per luma level (±7.9 levels of headroom)
MIN_CONFIDENCE = 2.5           # mean |z| over the bits; an unmarked frame gives about 0.8


_scratch = threading.local()
_NEIGHBOURS = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], np.float32) / 8


@dataclass(frozen=True)
class Detection:
    """What :func:`detect` read: the payload when the mark checks out, else None.

    ``confidence`` is the mean |z-score| of the bit correlations (about 0.8 with no mark, well above
    :data:`MIN_CONFIDENCE` with one); ``bits`` are the raw decoded payload bits, CRC check or not, so a
    benchmark can count how many a weak mark still got right.
    """

    payload: bytes | None
    confidence: float
    bits: np.ndarray
    frames: int


def grid_size(width: int, height: int, rows: int = CELL_ROWS) -> tuple[int, int]:
    """(rows, cols) of the cell grid for a picture of this aspect; a resize keeps the same grid."""
    return rows, max(1, round(rows * width / height))


@lru_cache(maxsize=16)
def _chips(key: int, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Key-seeded ±1 chip per cell and the bit each cell carries (a shuffle, so bits spread evenly)."""
    rng = np.random.default_rng([key, rows, cols, 0x5D57A6E])    # a 64-bit key seeds as it always did
    chips = rng.choice(np.array([-1.0, 1.0], np.float32), size=(rows, cols))
    owner = (rng.permutation(rows * cols) % BITS).reshape(rows, cols)
    return chips, owner


def _bits(payload: bytes) -> np.ndarray:
    if len(payload) != PAYLOAD_BYTES:
        raise ValueError(f"watermark payload must be {PAYLOAD_BYTES} bytes, not {len(payload)}")
    crc = binascii.crc_hqx(payload, 0xFFFF).to_bytes(2, "big")
    return np.unpackbits(np.frombuffer(payload + crc, np.uint8)).astype(np.float32)


@lru_cache(maxsize=32)
def _pattern(payload: bytes, key: int, rows: int, cols: int) -> np.ndarray:
    """The signed cell grid (luma levels at full strength) for one payload and key, made once and kept."""
    chips, owner = _chips(key, rows, cols)
    signs = _bits(payload) * 2 - 1
    cells = chips * signs[owner] * STRENGTH
    cells.setflags(write=False)
    return cells


def _texture(frame: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Texture mask per cell, 0.5 (flat) … 1.3 (busy): local contrast of the green channel at cell scale."""
    step = max(1, frame.shape[0] // (rows * 4))
    sample = np.ascontiguousarray(frame[::step, ::step, 1])      # a cheap look at the picture, not a filter
    small = cv2.resize(sample, (cols * 4, rows * 4), interpolation=cv2.INTER_AREA).astype(np.float32)
    mean = cv2.blur(small, (5, 5))
    contrast = np.sqrt(np.maximum(cv2.blur(small * small, (5, 5)) - mean * mean, 0))
    contrast = cv2.resize(contrast, (cols, rows), interpolation=cv2.INTER_AREA)
    return np.clip(0.5 + contrast / 12.0, 0.5, 1.3)


def embed(frame: np.ndarray, payload: bytes, key: int, *, rows: int = CELL_ROWS,
          where: np.ndarray | None = None) -> np.ndarray:
    """Return a copy of the RGB frame (H×W×3 uint8) carrying ``payload`` (8 bytes), readable with ``key``.

    ``where`` (any size of the frame's aspect, 0…1) limits the mark to part of the picture: a comp marks
    only its generated pixels and leaves the actors' plate as it was shot. The payload's cell grid is cached
    per (payload, key, grid); per frame only the texture mask, one bicubic upsample and one saturating add
    run at full size.
    """
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"watermark needs an H×W×3 uint8 RGB frame, not {frame.shape} {frame.dtype}")
    height, width = frame.shape[:2]
    grid = grid_size(width, height, rows)
    cells = _pattern(bytes(payload), key, *grid) * _texture(frame, *grid)
    if where is not None:
        cells = cells * cv2.resize(np.asarray(where, np.float32), (grid[1], grid[0]), interpolation=cv2.INTER_AREA)
    # fixed point in uint8 (128 + 16 × levels) so the upsample and the add stay on OpenCV's 8-bit paths;
    # addWeighted saturates only once, after taking the offset back off
    fixed = np.clip(cells * _FIXED + 128.5, 0, 255).astype(np.uint8)
    delta = cv2.resize(fixed, (width, height), interpolation=cv2.INTER_CUBIC)
    scratch = getattr(_scratch, "rgb", None)
    if scratch is None or scratch.shape != frame.shape:
        scratch = _scratch.rgb = np.empty_like(frame)     # one per thread: renders mark frames in parallel
    cv2.merge((delta, delta, delta), dst=scratch)
    return cv2.addWeighted(np.ascontiguousarray(frame), 1.0, scratch, 1 / _FIXED, -128 / _FIXED)


def _cells(frame: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The frame's luma averaged into the cell grid, high-passed so the picture's shading drops out."""
    luma = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
    cells = cv2.resize(luma, (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float32)
    # whiten: subtract what the 8 neighbours predict (the chips are independent, the picture is not), then
    # weight by local activity so busy detail, loud in the picture, does not drown quiet areas
    residual = cells - cv2.filter2D(cells, -1, _NEIGHBOURS, borderType=cv2.BORDER_REFLECT)
    local = np.sqrt(cv2.GaussianBlur(residual * residual, (0, 0), 2.0)) + 1.0
    return residual / local


def detect(frames: Iterable[np.ndarray], key: int, *, rows: int = CELL_ROWS,
           crop: tuple[float, float] = (0.0, 0.0)) -> Detection:
    """Read the mark from one or more frames of a shot (any size of the same aspect); None if absent.

    More frames help where the picture moves (its interference averages out while the mark stays).
    ``crop`` (the share cut off each side, across and down) reads a copy that was cropped from the centre
    (and scaled to any size): each frame is put back where it sat in the whole picture before reading.
    """
    if crop != (0.0, 0.0):
        frames = (_uncropped(frame, *crop, rows) for frame in frames)
    total: np.ndarray | None = None
    count = 0
    grid = (0, 0)
    for frame in frames:
        if total is None:
            grid = grid_size(frame.shape[1], frame.shape[0], rows)
            total = np.zeros(grid, np.float64)
        elif grid_size(frame.shape[1], frame.shape[0], rows) != grid:
            raise ValueError(f"frame {count} is {frame.shape[1]}×{frame.shape[0]}, another aspect than frame 0")
        total += _cells(frame, *grid)
        count += 1
    if total is None:
        raise ValueError("watermark detection needs at least one frame")
    chips, owner = _chips(key, *grid)
    signal = (total * chips).ravel()
    owners = owner.ravel()
    sums = np.bincount(owners, weights=signal, minlength=BITS)
    counts = np.bincount(owners, minlength=BITS)
    spread = float(np.std(total)) or 1.0
    z = sums / (spread * np.sqrt(np.maximum(counts, 1)))
    bits = (z > 0).astype(np.uint8)
    confidence = float(np.mean(np.abs(z)))
    packed = np.packbits(bits).tobytes()
    payload, crc = packed[:PAYLOAD_BYTES], packed[PAYLOAD_BYTES:]
    ok = confidence >= MIN_CONFIDENCE and binascii.crc_hqx(payload, 0xFFFF).to_bytes(2, "big") == crc
    return Detection(payload if ok else None, confidence, bits[: PAYLOAD_BYTES * 8], count)


# Centre crops tried by :func:`detect_reframed`: 0–12% off each side, across and down, in 1% steps, and the crops
# that make a 16:9 picture 1:1, 4:5 or 9:16 (social cut-downs). The grid of cells is tied to the whole picture,
# so a crop moves every cell; the mark is read where the picture is put back in place.
REFRAMINGS = tuple(sorted({(x / 100, y / 100) for x in range(13) for y in range(13)} |
                          {((1 - aspect / (16 / 9)) / 2, 0.0) for aspect in (1.0, 4 / 5, 9 / 16)},
                          key=lambda c: (max(c), c)))


def detect_reframed(frames: Iterable[np.ndarray], key: int, *, rows: int = CELL_ROWS,
                    crops: Iterable[tuple[float, float]] = REFRAMINGS) -> tuple[Detection, tuple[float, float]]:
    """Read the mark of a copy that may have been cropped: each crop in ``crops`` in turn (the uncropped
    first), stopping at the first that reads. Returns the detection (its payload None if none read) and the crop.

    The CRC and the confidence threshold hold for every try, and an unmarked picture reads nothing under any
    of them (the benchmark's false-positive count covers the search).
    """
    pictures = list(frames)
    best: tuple[Detection, tuple[float, float]] | None = None
    for crop in crops:
        found = detect(pictures, key, rows=rows, crop=crop)
        if found.payload is not None:
            return found, crop
        if best is None or found.confidence > best[0].confidence:
            best = (found, crop)
    if best is None:
        raise ValueError("detect_reframed needs at least one crop to try")
    return best


def _uncropped(frame: np.ndarray, crop_x: float, crop_y: float, rows: int) -> np.ndarray:
    """The frame's luma put back where it sat in the whole (uncropped) picture, at 4 px a cell; the rest grey."""
    height, width = frame.shape[:2]
    whole_h, whole_w = height / (1 - 2 * crop_y), width / (1 - 2 * crop_x)
    scale = rows * 4 / whole_h
    canvas_h, canvas_w = rows * 4, max(1, round(whole_w * scale))
    luma = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
    inner_h, inner_w = max(1, round(height * scale)), max(1, round(width * scale))
    inner = cv2.resize(luma, (inner_w, inner_h), interpolation=cv2.INTER_AREA)
    canvas = np.full((canvas_h, canvas_w), int(inner.mean()), np.uint8)
    top, left = (canvas_h - inner_h) // 2, (canvas_w - inner_w) // 2
    canvas[top:top + inner_h, left:left + inner_w] = inner
    return canvas
