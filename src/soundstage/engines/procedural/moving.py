"""Moving backgrounds by algorithm: a still set given life by a slow camera move, as Veo does from an image.

The clip starts on the first frame exactly (image-to-video), ends on the last frame exactly where one is given
(the move dissolves into it over the clip), and an extension keeps the clip it is given, frame for frame, and
goes on from its last frame with the same move, so the join cannot be seen. With no first frame the set is
drawn from the prompt, as a text-to-video model would, so two such clips do not join: what
``benchmarks/continuity.py`` measures.

The camera hint picks the move: ``pan left``/``right``, ``tilt up``/``down``, ``locked``/``static``; anything
else (and no hint) is a slow push-in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from soundstage.engines.procedural.noise import Array

PUSH_PER_SECOND = 0.02      # the push-in's zoom per second: slow enough that frames a 24th apart look alike
PAN_PER_SECOND = 0.03       # a pan's travel per second, as a share of the frame's width (or height, tilting)


@dataclass(frozen=True)
class Move:
    """The camera's move: zoom per second, and travel per second as shares of the frame (x right, y down)."""

    zoom: float
    dx: float
    dy: float
    name: str

    @classmethod
    def of(cls, hint: str | None) -> Move:
        words = (hint or "").lower()
        if any(w in words for w in ("locked", "static", "still")):
            return cls(0.0, 0.0, 0.0, "locked")
        for word, dx, dy in (("left", -1, 0), ("right", 1, 0), ("up", 0, -1), ("down", 0, 1)):
            if word in words:
                # a pan needs room past the frame's edge: it pushes in as it goes, half a pan's worth
                return cls(PAN_PER_SECOND, dx * PAN_PER_SECOND / 2, dy * PAN_PER_SECOND / 2,
                           f"{'pan' if dx else 'tilt'} {word}")
        return cls(PUSH_PER_SECOND, 0.0, 0.0, "push-in")


def framed(picture: Array, move: Move, seconds: float) -> Array:
    """``picture`` as the camera sees it ``seconds`` into the move: at 0, the picture itself."""
    height, width = picture.shape[:2]
    scale = 1.0 + move.zoom * seconds
    if scale <= 1.0 + 1e-9:
        return picture.copy()
    w, h = width / scale, height / scale
    room_x, room_y = (width - w) / 2, (height - h) / 2
    cx = width / 2 + float(np.clip(move.dx * seconds * width, -room_x, room_x))
    cy = height / 2 + float(np.clip(move.dy * seconds * height, -room_y, room_y))
    # An affine warp samples the sub-pixel box: the move stays smooth where a whole-pixel crop would step.
    matrix = np.array([[1 / scale, 0, cx - w / 2], [0, 1 / scale, cy - h / 2]], np.float64)
    return cv2.warpAffine(picture, matrix, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def moving_frames(first: Array, count: int, fps: float, move: Move, last: Array | None = None,
                  start: float = 0.0) -> Iterator[Array]:
    """``count`` frames of the move over ``first`` from ``start`` seconds in, dissolving into ``last`` (which the
    final frame is, exactly) where it is given."""
    for i in range(count):
        frame = framed(first, move, start + i / fps)
        if last is not None:
            t = (i + 1) / count if count > 1 else 1.0
            weight = t * t * (3 - 2 * t)            # smoothstep: leaves the first frame and lands on the last gently
            frame = cv2.addWeighted(frame, 1.0 - weight, last, weight, 0.0) if weight < 1 else last.copy()
        yield frame
