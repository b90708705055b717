"""Conform a plate to the project: frame size and frame rate, never by stretching.

These are the tools; the render decides the policy (refuse, or conform per a setting). Sizes keep the
picture's aspect: ``fit`` letterboxes or pillarboxes the whole picture, ``fill`` covers the frame and crops
the overflow from the centre. Rates retime by picking the nearest source frame (drop or repeat), the way an
editor's conform does without optical flow: no new frames are invented, so motion may judder.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import Literal, TypeVar

import cv2
import numpy as np

from soundstage.media.video import as_rate

T = TypeVar("T")
ConformMode = Literal["fit", "fill"]


def conform_size(frame: np.ndarray, width: int, height: int, mode: ConformMode) -> np.ndarray:
    """The frame scaled to ``width``×``height`` with its aspect kept.

    ``fit``: the whole picture, centred, with black bars (transparent where the frame is RGBA) filling the
    rest. ``fill``: scaled to cover the frame, the overflow cropped equally from both sides. Works on RGB,
    RGBA and single-channel mattes alike; a frame already that size comes back unchanged.
    """
    if width < 1 or height < 1:
        raise ValueError(f"target size must be positive, not {width}×{height}")
    source_h, source_w = frame.shape[:2]
    if (source_w, source_h) == (width, height):
        return frame
    if mode == "fit":
        scale = min(width / source_w, height / source_h)
        new_w = min(width, max(1, round(source_w * scale)))
        new_h = min(height, max(1, round(source_h * scale)))
        scaled = _resize(frame, new_w, new_h)
        left, top = (width - new_w) // 2, (height - new_h) // 2
        return cv2.copyMakeBorder(scaled, top, height - new_h - top, left, width - new_w - left,
                                  cv2.BORDER_CONSTANT, value=(0, 0, 0, 0))
    if mode == "fill":
        # crop the source to the target's aspect first, so only the pixels that are kept get resampled
        scale = max(width / source_w, height / source_h)
        crop_w = min(source_w, max(1, round(width / scale)))
        crop_h = min(source_h, max(1, round(height / scale)))
        left, top = (source_w - crop_w) // 2, (source_h - crop_h) // 2
        return _resize(frame[top:top + crop_h, left:left + crop_w], width, height)
    raise ValueError(f"mode must be 'fit' or 'fill', not {mode!r}")


def _resize(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    shrinking = width * height < frame.shape[0] * frame.shape[1]
    return cv2.resize(np.ascontiguousarray(frame), (width, height),
                      interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def conform_rate(frames: Iterable[T], source_fps: float, target_fps: float) -> Iterator[T]:
    """Retime a stream of frames from ``source_fps`` to ``target_fps`` by dropping or repeating frames.

    Target frame *k* shows the source frame nearest its time, ``floor(k × source/target + ½)``; 30 → 24
    drops one frame in five (source 2, 7, 12…), 24 → 30 repeats one in four. Streaming: one source frame is
    held at a time. The result ends when the source does (its duration is kept, to the nearest frame).
    """
    if source_fps <= 0 or target_fps <= 0:
        raise ValueError(f"frame rates must be positive, not {source_fps} → {target_fps}")
    step = Fraction(as_rate(source_fps)) / Fraction(as_rate(target_fps))
    return _retimed(iter(frames), step)


def _retimed(source: Iterator[T], step: Fraction) -> Iterator[T]:
    position = -1
    current: T | None = None
    index = 0
    while True:
        wanted = math.floor(index * step + Fraction(1, 2))
        while position < wanted:
            try:
                current = next(source)
            except StopIteration:
                return
            position += 1
        yield current  # type: ignore[misc]
        index += 1
