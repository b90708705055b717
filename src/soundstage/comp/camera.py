"""Camera moves on still sets: push-in, pull-out, pans and tilts, as a moving crop of an oversized set.

Sets are generated larger than the frame (``OVERSCAN``) so a move never runs off the edge of the picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

OVERSCAN = 1.2


def overscan_size(width: int, height: int) -> tuple[int, int]:
    """The size a set is generated at for a frame of ``width`` × ``height``: larger, and even."""
    return round(width * OVERSCAN / 2) * 2, round(height * OVERSCAN / 2) * 2


def _ease(t: float) -> float:
    """Smoothstep: a move starts and lands gently, as on a dolly or a fluid head."""
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


@dataclass(frozen=True)
class CameraMove:
    move: str = "static"
    amount: float = 0.08

    def window(self, t: float) -> tuple[float, float, float]:
        """The framed window at time ``t`` in 0..1: centre x, centre y and scale, in set-relative units."""
        e = _ease(t)
        scale = 1 / OVERSCAN
        cx = cy = 0.5
        travel = self.amount * (1 - scale) / 0.2   # amount 0.2 spends the whole overscan margin
        if self.move == "push-in":
            scale *= 1 - self.amount * e
        elif self.move == "pull-out":
            scale *= 1 - self.amount * (1 - e)
        elif self.move in ("pan-left", "pan-right"):
            sign = 1 if self.move == "pan-right" else -1
            cx += sign * min(travel, 1 - scale) * (e - 0.5)
        elif self.move in ("tilt-up", "tilt-down"):
            sign = -1 if self.move == "tilt-up" else 1
            cy += sign * min(travel, 1 - scale) * (e - 0.5)
        return cx, cy, scale

    def frame(self, set_image: np.ndarray, t: float, width: int, height: int) -> np.ndarray:
        """The frame the camera sees at time ``t``: one affine warp of the set, no full-size temporaries."""
        set_h, set_w = set_image.shape[:2]
        cx, cy, scale = self.window(t)
        win_w, win_h = set_w * scale, set_h * scale
        sx, sy = width / win_w, height / win_h
        matrix = np.array([[sx, 0, -(cx * set_w - win_w / 2) * sx],
                           [0, sy, -(cy * set_h - win_h / 2) * sy]], dtype=np.float64)
        return cv2.warpAffine(set_image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT)
