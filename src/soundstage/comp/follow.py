"""The set, its elements and the clean plate follow the plate's solved camera (a track's homographies).

A track gives, per frame i, ``H_i``: where a pixel of the plate's first frame lands on frame i, through a
straight (undistorted) lens, for a scene at infinity. The set is framed on frame 0 as a still shot frames it
(wider if the move needs more of it, so its edge never shows) and each frame is that framing warped by ``H_i``:
exact for a camera turning on its nodal point in front of a distant set. When the crew says the camera also
travels (``camera.parallax`` > 0 with the set's depth), the solved move drives the rig's per-pixel depth
parallax instead of a made-up one: near things follow ``H_i`` fully, far ones ``1 − parallax`` of it.

Then the frame is blurred along the camera's own motion while the shutter was open (see :func:`shutter_blur`)
and bent by the plate's lens (:class:`~soundstage.comp.lens.Lens`), on a canvas a little larger than the frame
so a barrel lens pulls in real set, not a reflection of it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import cv2
import numpy as np

from soundstage.comp.camera import OVERSCAN, CameraMove, CameraRig
from soundstage.comp.depth import fit_depth
from soundstage.comp.lens import Lens
from soundstage.errors import MediaError

_SPACING = 1.0     # px between the shutter's samples on the fastest-moving pixel (up to _PASSES doublings)
_PASSES = 4        # at most 16 warped samples: a blur longer than 16 px gets samples a little farther apart
_SHIFT_PASSES = 6  # at most 64 shifted ones (a shift costs a fraction of a warp)
_ALIKE = 1.5       # px: a frame whose corners travel within this of its centre blurs as one (shifts, no warps)


def tracked_background(set_image: np.ndarray, homographies: np.ndarray, width: int, height: int, *,
                       depth: np.ndarray | None = None, parallax: float = 0.0, lens: Lens | None = None,
                       shutter: float = 180.0) -> Callable[[int], np.ndarray]:
    """The set as the tracked camera sees it, frame by frame (index → H×W×3 uint8).

    ``homographies`` (frames×3×3): plate px of frame 0 → frame i. ``depth`` with ``parallax`` > 0: how far the
    solved move is a travel rather than a turn (see module). ``lens``: the plate's, applied last. ``shutter``:
    the shutter angle in degrees (0 leaves the set sharp).
    """
    moves = _normalised(homographies)
    if set_image.ndim != 3 or set_image.dtype != np.uint8:
        raise MediaError(f"a set must be an H×W×C uint8 image, got {set_image.shape} {set_image.dtype}")
    pad_x, pad_y = _lens_margin(lens, width, height)
    canvas = (width + 2 * pad_x, height + 2 * pad_y)
    shift = np.array([[1, 0, pad_x], [0, 1, pad_y], [0, 0, 1]], np.float64)   # frame px → canvas px
    framing = _framing(set_image, moves, width, height, shift, canvas)
    on_canvas = np.array([shift @ h for h in moves])                               # frame 0 → canvas of i
    fraction = shutter / 360.0
    if depth is not None and parallax > 0:
        rig = _TrackedRig(set_image, canvas, depth=depth, parallax=parallax, reference=np.linalg.inv(framing),
                          moves=on_canvas)
        straight: Callable[[int], np.ndarray] = rig.frame_at
    else:
        def straight(index: int) -> np.ndarray:
            onto = on_canvas[index] @ framing
            if abs(onto[2, 0]) < 1e-12 and abs(onto[2, 1]) < 1e-12:     # a similarity track: one affine warp
                return cv2.warpAffine(set_image, onto[:2] / onto[2, 2], canvas, flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REFLECT)
            return cv2.warpPerspective(set_image, onto, canvas, flags=cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_REFLECT)

    bend = None
    if lens is not None and not lens.straight:
        (map1, map2), _ = lens.maps
        bend = (map1 + np.array([pad_x, pad_y], np.int16), map2)

    def frame(index: int) -> np.ndarray:
        picture = straight(index)
        if fraction > 0:
            picture = shutter_blur(picture, on_canvas, index, fraction)
        if bend is not None:
            return cv2.remap(picture, bend[0], bend[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return picture[pad_y: pad_y + height, pad_x: pad_x + width]

    return frame


def shutter_blur(picture: np.ndarray, homographies: np.ndarray, index: int, fraction: float) -> np.ndarray:
    """Frame ``index`` (``picture``, in the homographies' pixels) averaged over the ``fraction`` of a frame the
    shutter was open, each sample where the camera's motion put the picture at that moment.

    The motion at the frame is the mean of the step from the previous frame and to the next (one of them at
    the shot's ends). 2ⁿ samples come from n passes, each averaging the last result with itself moved twice as
    far as the pass before. Where the whole frame moves alike (pans, tilts, shake: the frame's corners travel
    within a pixel of its centre) a pass is a whole-pixel shift, a few ms at 1080p; where a roll or a zoom makes
    the corners travel differently, each pass is a warp by the motion itself. Sideways motion blurs sideways only.
    """
    frames = len(homographies)
    here = homographies[index]
    steps = []
    if index + 1 < frames:
        steps.append(_step(here, homographies[index + 1]) - np.eye(3))
    if index > 0:
        steps.append(np.eye(3) - _step(here, homographies[index - 1]))
    if not steps:
        return picture
    velocity = np.mean(steps, axis=0)
    height, width = picture.shape[:2]
    travel = _travels(velocity, width, height) * fraction      # px over the open shutter: corners, then centre
    reach = float(np.max(np.hypot(*travel.T)))
    if reach < _SPACING:
        return picture
    passes = math.ceil(math.log2(reach / _SPACING))
    if float(np.max(np.hypot(*(travel[:4] - travel[4]).T))) <= _ALIKE:
        return _shift_blur(picture, travel[4], min(passes, _SHIFT_PASSES))
    passes = min(passes, _PASSES)
    samples = 2**passes
    step = np.eye(3) + velocity * (fraction / samples)
    blurred = picture
    jump = step
    for _ in range(passes):
        moved = cv2.warpPerspective(blurred, jump, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                    borderMode=cv2.BORDER_REFLECT)
        blurred = cv2.addWeighted(blurred, 0.5, moved, 0.5, 0.0)
        jump = jump @ jump
    start = np.eye(3) + velocity * (-fraction / 2 + fraction / (2 * samples))
    return cv2.warpPerspective(blurred, start, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REFLECT)


def _shift_blur(picture: np.ndarray, travel: np.ndarray, passes: int) -> np.ndarray:
    """The shutter's 2^passes samples of a frame that moves as a whole by ``travel`` (px): whole-pixel shifts, one
    average a pass, the first also centring the samples on the frame's moment (they span −½…+½ the travel)."""
    samples = 2**passes
    start = -travel * (samples - 1) / (2 * samples)
    blurred = picture
    for level in range(passes):
        step = travel * (2**level / samples)
        first = np.rint(start) if level == 0 else np.zeros(2)
        blurred = _average_shifted(blurred, first, np.rint(step + (start if level == 0 else 0)))
    return blurred


def _average_shifted(picture: np.ndarray, one: np.ndarray, two: np.ndarray) -> np.ndarray:
    """``(picture[q + one] + picture[q + two]) / 2`` for whole-pixel offsets (x, y); the picture itself in the strips
    at the frame's edge where either offset reads outside."""
    height, width = picture.shape[:2]
    (ax, ay), (bx, by) = (int(v) for v in one), (int(v) for v in two)
    top, bottom = max(0, -ay, -by), height - max(0, ay, by)
    left, right = max(0, -ax, -bx), width - max(0, ax, bx)
    if top >= bottom or left >= right:
        return picture
    out = np.empty_like(picture)
    cv2.addWeighted(picture[top + ay: bottom + ay, left + ax: right + ax], 0.5,
                    picture[top + by: bottom + by, left + bx: right + bx], 0.5, 0.0, dst=out[top:bottom, left:right])
    out[:top], out[bottom:] = picture[:top], picture[bottom:]
    out[top:bottom, :left], out[top:bottom, right:] = picture[top:bottom, :left], picture[top:bottom, right:]
    return out


def pinned(homographies: np.ndarray, *, lens: Lens | None = None) -> Callable[[np.ndarray, int], np.ndarray]:
    """How an element pinned to the set moves: ``pin(rgba, index)`` warps frame ``index``'s RGBA, as placed on
    frame 0 of the plate, by that frame's ``H`` (premultiplied, so no dark fringe) and bends it by the lens.
    Outside it is transparent."""
    moves = _normalised(homographies)

    def pin(rgba: np.ndarray, index: int) -> np.ndarray:
        height, width = rgba.shape[:2]
        alpha = rgba[..., 3:4].astype(np.float32) * (1 / 255)
        premultiplied = np.dstack([rgba[..., :3].astype(np.float32) * alpha, alpha[..., 0] * 255])
        moved = cv2.warpPerspective(premultiplied, moves[min(index, len(moves) - 1)], (width, height),
                                    flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        if lens is not None:
            moved = lens.distort(moved, border=cv2.BORDER_CONSTANT)
        a = moved[..., 3:4]
        colour = np.divide(moved[..., :3] * 255, a, out=np.zeros_like(moved[..., :3]), where=a > 0.5)
        return np.dstack([colour, a]).clip(0, 255).round().astype(np.uint8)

    return pin


def followed(picture: np.ndarray, homographies: np.ndarray, *, lens: Lens | None = None,
             ) -> Callable[[int], np.ndarray]:
    """A picture shot on frame 0's set-up (a clean plate) as the moving camera sees it on each frame: straightened,
    warped by ``H_i``, bent back; its edge repeated where the move uncovers what it never saw."""
    moves = _normalised(homographies)
    height, width = picture.shape[:2]
    flat = lens.undistort(picture, border=cv2.BORDER_REPLICATE) if lens is not None else picture

    def at(index: int) -> np.ndarray:
        moved = cv2.warpPerspective(flat, moves[min(index, len(moves) - 1)], (width, height),
                                    flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return lens.distort(moved, border=cv2.BORDER_REPLICATE) if lens is not None else moved

    return at


# -- framing ---------------------------------------------------------------------------------------------------


def _normalised(homographies: np.ndarray) -> np.ndarray:
    h = np.asarray(homographies, np.float64)
    if h.ndim != 3 or h.shape[1:] != (3, 3) or len(h) == 0 or not np.isfinite(h).all():
        raise MediaError(f"a track's homographies must be frames×3×3 and finite, got {h.shape}")
    return h / h[:, 2:3, 2:3]


def _step(here: np.ndarray, there: np.ndarray) -> np.ndarray:
    """Where a pixel of this frame samples this frame to show the picture of ``there`` (H_here · H_there⁻¹)."""
    step = here @ np.linalg.inv(there)
    return step / step[2, 2]


def _travels(velocity: np.ndarray, width: int, height: int) -> np.ndarray:
    """How far (x, y px per frame) the frame's four corners and then its centre move under ``I + velocity``."""
    points = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1], [width - 1, height - 1, 1],
                       [(width - 1) / 2, (height - 1) / 2, 1]], np.float64)
    moved = points @ (np.eye(3) + velocity).T
    return moved[:, :2] / moved[:, 2:3] - points[:, :2]


def _travel(velocity: np.ndarray, width: int, height: int) -> float:
    """How far, in px per frame, the fastest of the frame's corners and centre moves under ``I + velocity``."""
    return float(np.max(np.hypot(*_travels(velocity, width, height).T)))


def _lens_margin(lens: Lens | None, width: int, height: int) -> tuple[int, int]:
    """How far outside the frame a lens reaches into the straight picture (px each side, x and y)."""
    if lens is None or lens.straight:
        return 0, 0
    edge = np.concatenate([np.stack([np.linspace(0, width - 1, 64), np.full(64, y)], 1) for y in (0, height - 1)]
                          + [np.stack([np.full(64, x), np.linspace(0, height - 1, 64)], 1) for x in (0, width - 1)])
    straight = lens.undistort_points(edge)
    over_x = max(0.0, -straight[:, 0].min(), straight[:, 0].max() - (width - 1))
    over_y = max(0.0, -straight[:, 1].min(), straight[:, 1].max() - (height - 1))
    return math.ceil(over_x) + 2, math.ceil(over_y) + 2


def _framing(set_image: np.ndarray, moves: np.ndarray, width: int, height: int, shift: np.ndarray,
             canvas: tuple[int, int]) -> np.ndarray:
    """Set px → frame 0 px: the still shot's framing (the set's middle 1/OVERSCAN), widened as far as every
    frame's canvas needs so the set's edge never shows."""
    set_h, set_w = set_image.shape[:2]
    cw, ch = canvas
    corners = np.array([[0, 0, 1], [cw, 0, 1], [0, ch, 1], [cw, ch, 1], [cw / 2, 0, 1], [cw / 2, ch, 1],
                        [0, ch / 2, 1], [cw, ch / 2, 1]], np.float64).T
    need_x = need_y = 0.0
    for h in moves:
        seen = np.linalg.inv(shift @ h) @ corners           # where each frame's canvas lies on frame 0
        xs, ys = seen[0] / seen[2], seen[1] / seen[2]
        need_x = max(need_x, float(np.abs(xs - width / 2).max()))
        need_y = max(need_y, float(np.abs(ys - height / 2).max()))
    # A half-open shutter reaches half a frame's travel beyond, and bilinear sampling a pixel more.
    steps = [_travel(_step(a, b) - np.eye(3), cw, ch) for a, b in itertools.pairwise(moves)]
    reach = 0.5 * max(steps, default=0.0) + 2
    # set px per frame px: the still framing shows set_w / OVERSCAN across the frame; a wider move needs the
    # set's half-width (less two pixels) to reach the farthest point any frame sees. Square pixels, centred.
    a = min(set_w / (OVERSCAN * width), (set_w / 2 - 2) / (need_x + reach), (set_h / 2 - 2) / (need_y + reach))
    to_set = np.array([[a, 0, set_w / 2 - a * width / 2], [0, a, set_h / 2 - a * height / 2], [0, 0, 1]])
    return np.linalg.inv(to_set)


class _TrackedRig(CameraRig):
    """The rig's per-pixel depth parallax driven by a solved move: each canvas pixel of frame i sees the set
    at ``ref + k·(flat_i − ref)``, where ``flat_i`` is the set through ``H_i`` and ``ref`` frame 0's framing."""

    def __init__(self, set_image: np.ndarray, canvas: tuple[int, int], *, depth: np.ndarray, parallax: float,
                 reference: np.ndarray, moves: np.ndarray) -> None:
        self.move = CameraMove("static", 0.0, parallax)
        self.set_image = set_image
        self.width, self.height = canvas
        self.frames = len(moves)
        self.shutter = 0.0
        self.parallax = True
        self._to_set = reference                                  # frame 0 px → set px
        self._moves = moves
        set_h, set_w = set_image.shape[:2]
        self._prepare_parallax(fit_depth(depth, set_w, set_h))
        grid = self._map_grid
        gx, gy = np.meshgrid(grid.xs(), grid.ys())
        self._grid_points = np.stack([gx, gy, np.ones_like(gx)], axis=-1).astype(np.float64)
        r = self._reference
        self._base_x, self._base_y = r[0] * gx + r[1], r[2] * gy + r[3]

    def _reference_affine(self) -> tuple[float, float, float, float]:
        m = self._flat(0)       # frame 0's canvas → set: an axis-aligned scale and offset (H_0 is the identity)
        return float(m[0, 0]), float(m[0, 2]), float(m[1, 1]), float(m[1, 2])

    def _flat(self, index: int) -> np.ndarray:
        """Canvas px of frame ``index`` → set px, through the solved move."""
        flat = self._to_set @ np.linalg.inv(self._moves[index])
        return flat / flat[2, 2]

    def _reach(self, set_w: int, set_h: int, margin: float) -> tuple[float, float, float, float]:
        ax0, bx0, ay0, by0 = self._reference
        w, h = self.width + margin, self.height + margin
        corners = np.array([[-margin, -margin, 1], [w, -margin, 1], [-margin, h, 1], [w, h, 1]], np.float64).T
        ref_x, ref_y = ax0 * corners[0] + bx0, ay0 * corners[1] + by0
        xs, ys = [ref_x], [ref_y]
        for index in range(len(self._moves)):
            seen = self._flat(index) @ corners
            for k in (1.0 - self.move.parallax, 1.0):
                xs.append(ref_x + k * (seen[0] / seen[2] - ref_x))
                ys.append(ref_y + k * (seen[1] / seen[2] - ref_y))
        return float(np.min(xs)), float(np.max(xs)), float(np.min(ys)), float(np.max(ys))

    def frame_at(self, index: int) -> np.ndarray:
        flat = self._flat(min(index, len(self._moves) - 1))
        seen = self._grid_points @ flat.T
        flat_x = (seen[..., 0] / seen[..., 2]).astype(np.float32)
        flat_y = (seen[..., 1] / seen[..., 2]).astype(np.float32)
        # the move's affine part about the canvas centre, for the coarse depth splat (the remap itself is exact)
        cx, cy = self.width / 2, self.height / 2
        centre, right, down = (flat @ np.array(p) for p in ([cx, cy, 1.0], [cx + 1, cy, 1.0], [cx, cy + 1, 1.0]))
        x0, y0 = centre[:2] / centre[2]
        ax, ay = right[0] / right[2] - x0, down[1] / down[2] - y0
        ax0, bx0, ay0, by0 = self._reference
        move = (ax - ax0, x0 - ax * cx - bx0, ay - ay0, y0 - ay * cy - by0)
        return self._parallax_remap(move, self._base_x, flat_x - self._base_x, self._base_y, flat_y - self._base_y)
