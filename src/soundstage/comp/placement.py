"""Where an element plays in the frame: its centre, size, path and start, and a default that keeps it off a face.

Generated elements come as whole frames with the effect wherever the engine drew it (a fire centred low, a
magic swirl in the middle). A compositor moves and scales each into place with a transform and, with nothing
else said, keeps it clear of the actor's face. This module does the same once per shot, on the first plate's
matte and the element's first frame, and gives each frame a plain 2×3 affine: the per-frame cost is one
``cv2.warpAffine`` of the box the element lands in, nothing where it is left as generated.

Which layers go behind the actor and which in front is the comp's business (``Element.front``): behind ones are
occluded by the matte as the plate is laid over them, front ones cover the actor.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

Box = tuple[int, int, int, int]          # x, y, width, height in pixels

_HEAD_SHARE = 0.22        # the top of a matte's bounding box this tall (of its height) is taken as the head
_HEAD_MARGIN = 0.04       # of the frame's width: room kept between an element and the head
_NEAR_METRES = 2.0        # the set's nearest ground (its depth 0, the bottom row) is taken as this far away


@dataclass(frozen=True)
class Placement:
    """An element's place in the shot, as shots.toml gives it (frame fractions, x right, y down).

    ``at`` None: where the default puts it (see :func:`place`). ``fill``: it fills the frame (rain, snow),
    left as generated unless ``at`` or ``scale`` say otherwise. ``depth`` is metres from the camera, read
    against the set's depth: the element stands on the ground where the set is that far, sized for it.
    """

    at: tuple[float, float] | None = None
    scale: float = 1.0
    to: tuple[float, float] | None = None
    start: int = 0                                  # the frame it appears on; its own frames count from there
    anchor: Literal["ground", "air"] = "air"
    depth: float | None = None
    fill: bool = False


@dataclass(frozen=True)
class Placed:
    """A placement solved for one shot: the affine at its start and at the shot's end (equal: it stays put)."""

    first: np.ndarray                 # 2×3 float64, element pixels → frame pixels
    last: np.ndarray
    start: int
    frames: int

    @functools.cached_property
    def identity(self) -> bool:
        return bool(np.allclose(self.first, _IDENTITY) and np.allclose(self.last, _IDENTITY))

    def matrix(self, index: int) -> np.ndarray:
        """The affine of frame ``index``: along the path, linearly, from the start to the shot's last frame."""
        span = max(self.frames - 1 - self.start, 1)
        t = min(max((index - self.start) / span, 0.0), 1.0)
        return (1.0 - t) * self.first + t * self.last

    def apply(self, rgba: np.ndarray, index: int) -> np.ndarray:
        """The element frame ``rgba`` (H×W×4 straight) moved into place for frame ``index``.

        Warped premultiplied, so its soft edge does not pick up the black of empty pixels; only the box the
        frame lands in is computed.
        """
        if self.identity:
            return rgba
        height, width = rgba.shape[:2]
        matrix = self.matrix(index)
        placed = np.zeros_like(rgba)
        shown = content_box(cv2.extractChannel(rgba, 3), threshold=0)
        if shown is None:
            return placed
        # only what shows of this frame (and a pixel round it, for the filter) is moved
        sx0, sy0 = max(0, shown[0] - 1), max(0, shown[1] - 1)
        sx1, sy1 = min(width, shown[0] + shown[2] + 1), min(height, shown[1] + shown[3] + 1)
        corners = np.array([[sx0, sy0, 1], [sx1, sy0, 1], [sx0, sy1, 1], [sx1, sy1, 1]], np.float64) @ matrix.T
        x0, y0 = np.floor(corners.min(0)).astype(int).clip(0, [width, height])
        x1, y1 = np.ceil(corners.max(0)).astype(int).clip(0, [width, height])
        if x1 <= x0 or y1 <= y0:
            return placed
        shifted = matrix.copy()
        shifted[:, 2] += matrix[:, :2] @ (sx0, sy0) - (x0, y0)
        premultiplied = cv2.cvtColor(rgba[sy0:sy1, sx0:sx1], cv2.COLOR_RGBA2mRGBA)
        box = cv2.warpAffine(premultiplied, shifted, (int(x1 - x0), int(y1 - y0)), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        placed[y0:y1, x0:x1] = cv2.cvtColor(box, cv2.COLOR_mRGBA2RGBA)
        return placed


_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def content_box(alpha: np.ndarray, *, threshold: int = 8) -> Box | None:
    """The bounding box of what shows (alpha above ``threshold`` of 255), or None for an empty layer."""
    shows = np.ascontiguousarray(alpha) if threshold == 0 else \
        cv2.threshold(alpha, threshold, 255, cv2.THRESH_BINARY)[1]      # a matte's box is its non-zero pixels'
    x, y, w, h = cv2.boundingRect(shows)
    return (x, y, w, h) if w and h else None


def head_box(matte: np.ndarray) -> Box | None:
    """Where the actor's head is on a matte: the top of its bounding box, as wide as the matte is there."""
    body = content_box(matte, threshold=128)
    if body is None:
        return None
    _, y, _, h = body
    band = max(1, round(h * _HEAD_SHARE))
    head = content_box(matte[y:y + band], threshold=128)
    if head is None:
        return None
    return head[0], y, head[2], band


def ground_row(matte: np.ndarray) -> int | None:
    """The lowest row of the actor (matte above half): where a standing actor meets the ground."""
    rows = np.flatnonzero((matte >= 128).any(axis=1))
    return int(rows[-1]) if rows.size else None


def depth_row(depth: np.ndarray, metres: float, column: float) -> int:
    """The row where the set's ground is ``metres`` away, in column ``column`` (pixels), from the bottom up.

    The set's depth is disparity, 0 at its nearest ground (taken as 2 m) and 1 at the horizon, so a distance
    z is ``1 − 2/z`` there; the first row from the bottom at least that deep is where the element stands.
    """
    height, width = depth.shape
    target = max(0.0, 1.0 - _NEAR_METRES / metres)
    x = int(min(max(column, 0), width - 1))
    deep = np.flatnonzero(depth[::-1, x] >= target)
    return height - 1 - int(deep[0]) if deep.size else 0


def place(placement: Placement, first: np.ndarray, *, frames: int, matte: np.ndarray | None = None,
          depth: np.ndarray | None = None) -> Placed:
    """Solve ``placement`` for a shot from the element's first frame (H×W×4) and the first plate's matte.

    - ``at`` puts the centre of what the element shows there, scaled by ``scale`` about that centre.
    - Without ``at``, the element keeps its own place, scaled about its centre; one that stands on the
      ``ground`` has its foot on the actor's ground line (or where the set is ``depth`` metres away, where
      its size also falls off as 1/distance); and one that would cover the actor's head moves aside, to the
      side with more room, or below the head when neither side has it.
    - ``to`` moves the centre there by the shot's end.
    """
    height, width = first.shape[:2]
    box = content_box(first[..., 3])
    if box is None or (placement.fill and placement.at is None and placement.scale == 1.0 and placement.to is None):
        return Placed(_IDENTITY, _IDENTITY, placement.start, frames)
    x, y, w, h = box
    centre = np.array([x + w / 2, y + h / 2])
    scale = placement.scale
    foot = None
    if placement.depth is not None and depth is not None:
        depth = depth if depth.shape == (height, width) else cv2.resize(depth, (width, height))
        foot = depth_row(depth, placement.depth, centre[0])
        scale *= min(8.0, _NEAR_METRES * 2.0 / placement.depth)   # its own size at 4 m: nearer grows, farther shrinks
    elif placement.anchor == "ground" and matte is not None:
        foot = ground_row(matte)
    if placement.at is not None:
        target = np.array([placement.at[0] * width, placement.at[1] * height])
    else:
        target = centre.copy()
        if foot is not None:
            target[1] = foot - scale * h / 2
        if matte is not None:
            target = _off_the_face(target, scale * w, scale * h, head_box(matte), width, height)
    end = target if placement.to is None else np.array([placement.to[0] * width, placement.to[1] * height])
    return Placed(_moved(centre, target, scale), _moved(centre, end, scale), placement.start, frames)


def _moved(centre: np.ndarray, target: np.ndarray, scale: float) -> np.ndarray:
    """The affine that scales about ``centre`` and puts it at ``target``."""
    return np.array([[scale, 0.0, target[0] - scale * centre[0]], [0.0, scale, target[1] - scale * centre[1]]])


def _off_the_face(target: np.ndarray, w: float, h: float, head: Box | None, width: int, height: int) -> np.ndarray:
    """``target`` (the element's centre) moved so an element w×h there does not cover ``head``."""
    if head is None:
        return target
    hx, hy, hw, hh = head
    margin = _HEAD_MARGIN * width
    left, right, top, bottom = hx - margin, hx + hw + margin, hy - margin, hy + hh + margin
    overlaps = (target[0] + w / 2 > left and target[0] - w / 2 < right and
                target[1] + h / 2 > top and target[1] - h / 2 < bottom)
    if not overlaps:
        return target
    room_left, room_right = left, width - right
    moved = target.copy()
    if max(room_left, room_right) >= w / 2:       # at least half of it fits beside the head
        moved[0] = left - w / 2 if room_left >= room_right else right + w / 2
    else:
        moved[1] = bottom + h / 2
    return moved
