"""Depth for still sets: estimated from the picture, or loaded from a depth pass, and cut into depth bands.

Sets come from any engine as a single RGB still with no depth pass, yet parallax and defocus need to know
what is near and what is far. Generated landscapes and sets obey two old painters' rules that carry most of
it: the ground plane recedes toward the horizon (lower in frame is nearer, the sky is farthest), and the air
veils what is far (hazier, flatter, closer to the horizon sky's colour). :func:`estimate_depth` combines the
two on a small copy of the set, then smooths the result with a guided filter so depth edges sit on the
picture's edges, and brings it back to full size with the same filter's coefficients (He et al.'s fast
guided filter, with a colour guide), in ~85 ms for a 1080p shot's 2304×1296 set.

Convention: depth is H×W float32 in 0..1, **0 = nearest, 1 = farthest**, and it is linear in *inverse*
distance (disparity), which is what a camera move's parallax and a lens's circle of confusion are
proportional to. A ground plane's disparity is linear in the image row, so the ground prior is a straight
ramp. A depth pass from MiDaS or Depth Anything is inverse depth too (white = near), so :func:`load_depth`
only flips and normalises it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from soundstage.errors import MediaError

_WORK_WIDTH = 256            # the estimate runs on a copy this wide: depth is smooth, the picture is not needed
_HAZE_SWAY = 0.6             # below the horizon, haze moves the ground prior by up to ±30% of itself
_SKYLINE_JUMP = 6            # the skyline may climb or drop this many work rows from one column to the next
_GUIDE_RADIUS = 6            # guided filter window radius, in work pixels
_GUIDE_EPS = 2e-3            # guided filter regularisation (guide in 0..1): lower follows finer edges


def _check_set(set_rgb: np.ndarray) -> None:
    if set_rgb.ndim != 3 or set_rgb.shape[2] != 3 or set_rgb.dtype != np.uint8:
        raise MediaError(f"a set must be an H×W×3 uint8 RGB image, got {set_rgb.shape} {set_rgb.dtype}")
    if set_rgb.shape[0] < 8 or set_rgb.shape[1] < 8:
        raise MediaError(f"the set is too small to estimate depth ({set_rgb.shape[1]}×{set_rgb.shape[0]})")


def estimate_depth(set_rgb: np.ndarray) -> np.ndarray:
    """Estimate a set's depth (H×W float32, 0 = near, 1 = far) from a ground-plane prior and the air's haze.

    - The skyline splits each column into sky above (colours like the top of the frame) and ground below
      (colours like its bottom), along an edge, solved across the picture by dynamic programming on a
      256-pixel-wide copy: above it is sky, depth 1.
    - Below the horizon (the low points of the skyline), the ground recedes linearly in disparity from the
      bottom row (0) to the horizon (1); haze sways that by up to ±30%.
    - Above the horizon, what is not sky (a ridge, a roof, a tower) is far, nearer only by how un-hazed it
      looks (how unlike the horizon sky's colour, the airlight, and how contrasty), one depth per column so
      upright things stay upright when the camera moves.

    Compute it once per shot (~85 ms for a 2304×1296 set). It is a rough stage map, not a measurement: an
    upright object standing below the horizon still leans a little under strong parallax, and an interior
    is read as a floor receding to a far back wall. Provide a real depth pass with :func:`load_depth`
    where it matters.
    """
    _check_set(set_rgb)
    height, width = set_rgb.shape[:2]
    work_w = min(_WORK_WIDTH, width)
    work_h = max(8, round(height * work_w / width))
    small = cv2.resize(set_rgb, (work_w, work_h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)

    sky_rows = _skyline(small)
    rows = np.arange(work_h, dtype=np.float32)[:, None]
    sky = rows < sky_rows[None, :]
    horizon = _horizon(sky_rows, work_h)
    ground = np.clip((work_h - 0.5 - rows) / max(work_h - 0.5 - horizon, 1.0), 0.0, 1.0)
    ground = np.broadcast_to(ground, (work_h, work_w))

    haze = _haze(small, grey, sky, horizon)
    # The ground prior leads; haze sways it in proportion (a fog bank sits farther back, a dark rock nearer),
    # so the ground at our feet stays near however smooth its magnified texture looks.
    sway = 1.0 + _HAZE_SWAY * (haze - 0.5)
    raw = np.where(sky, 1.0, np.clip(ground * sway, 0.0, 1.0)).astype(np.float32)
    # Above the horizon but not sky (a ridge, a roof, a tower): far, nearer only by how un-hazed it looks,
    # and one depth per column, since what stands there is upright: a tower must not lean as the camera moves.
    above = ~sky & (rows < horizon)
    if above.any():
        standing = np.where(above, 1.0 - 0.6 * (1.0 - haze), np.nan)
        columns = np.isfinite(standing).any(axis=0)
        level = np.ones(work_w, np.float32)
        level[columns] = np.nanmedian(standing[:, columns], axis=0)
        raw = np.where(above, level[None, :], raw).astype(np.float32)

    a, b = _guided_coefficients(small, raw, _GUIDE_RADIUS, _GUIDE_EPS)
    depth: np.ndarray = cv2.resize(b, (width, height), interpolation=cv2.INTER_LINEAR)
    weights = cv2.resize(a, (width, height), interpolation=cv2.INTER_LINEAR) * np.float32(1.0 / 255.0)
    for channel, plane in enumerate(cv2.split(set_rgb)):
        depth += cv2.multiply(weights[..., channel], plane, dtype=cv2.CV_32F)
    return np.clip(depth, 0.0, 1.0, out=depth)


def _skyline(small: np.ndarray) -> np.ndarray:
    """Per column, the first work row below the sky (0 where the sky does not reach), as float32.

    A two-region split per column, solved for the whole picture at once by dynamic programming: rows above
    the line should look like the sky (colours like the top rows'), rows below like the ground (colours like
    the bottom rows'), the line should run along an edge, and it may climb or drop steeply (a tree, a tower)
    at a cost per row. The colour models are re-fitted once on the first split.
    """
    h, w = small.shape[:2]
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2Lab)
    blurred = cv2.GaussianBlur(small, (0, 0), 0.8)
    gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
    edge = np.sqrt((gx * gx + gy * gy).sum(axis=2))
    edge /= float(np.percentile(edge, 99)) + 1e-6
    np.clip(edge, 0.0, 1.0, out=edge)
    rows = np.arange(h)
    # The lower the sky is called, the dearer: sky sits high, and a sea mirroring it must stay ground.
    low_sky = np.cumsum((rows / h) ** 2).astype(np.float32)[:, None]
    sky_pixels = lab[: max(2, h // 8), w // 5 : w - w // 5]      # top middle: corners are often framing trees
    ground_pixels = lab[h - max(2, h // 4) :]
    path = np.zeros(w, np.int32)
    for _ in range(2):
        to_sky = _nearest(lab, _prototypes(sky_pixels))
        to_ground = _nearest(lab, _prototypes(ground_pixels))
        groundness = np.clip((to_sky - to_ground) / 20.0, -1.0, 1.0)     # > 0: looks like ground (Lab units)
        called_sky = np.cumsum(groundness, axis=0) - groundness          # cost of rows above y called sky
        called_ground = groundness.sum(axis=0)[None, :] - called_sky     # their benefit below y
        cost = (called_sky - called_ground + low_sky) / h - 0.5 * edge
        path = _cheapest_path(cost.astype(np.float32))
        sky = rows[:, None] < path[None, :] - 2
        ground = rows[:, None] > path[None, :] + 2
        if sky.sum() < 0.02 * h * w or ground.sum() < 0.02 * h * w:
            break
        sky_pixels, ground_pixels = lab[sky], lab[ground]
    if (rows[:, None] < path[None, :]).sum() < 0.03 * h * w:
        return np.zeros(w, np.float32)                                   # no sky to speak of: an interior
    return path.astype(np.float32)


def _prototypes(pixels: np.ndarray, count: int = 4) -> np.ndarray:
    """A few representative colours of a region (k-means, deterministic), count×3 float32."""
    pixels = np.ascontiguousarray(pixels.reshape(-1, 3), dtype=np.float32)
    if len(pixels) > 4000:
        pixels = pixels[np.linspace(0, len(pixels) - 1, 4000).astype(np.int64)]
    count = min(count, len(pixels))
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1e-3)
    _, _, centres = cv2.kmeans(pixels, count, None, criteria, 2, cv2.KMEANS_PP_CENTERS)  # type: ignore[call-overload]
    return centres


def _nearest(lab: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Per pixel, the distance to the nearest of ``centres``."""
    best = np.full(lab.shape[:2], np.inf, np.float32)
    for centre in centres:
        np.minimum(best, np.linalg.norm(lab - centre, axis=2), out=best)
    return best


def _cheapest_path(cost: np.ndarray) -> np.ndarray:
    """The left-to-right path of one row per column with the least total cost plus a cost per row jumped."""
    h, w = cost.shape
    jump = _SKYLINE_JUMP
    offsets = np.arange(-jump, jump + 1)
    penalty = (0.03 * np.abs(offsets)).astype(np.float32)[:, None]
    padded = np.full(h + 2 * jump, np.inf, np.float32)
    total = cost[:, 0].copy()
    back = np.zeros((h, w), np.int16)
    rows = np.arange(h)
    for x in range(1, w):
        padded[jump:-jump] = total
        options = np.stack([padded[jump + d : jump + d + h] for d in offsets]) + penalty
        best = np.argmin(options, axis=0)
        total = options[best, rows] + cost[:, x]
        back[:, x] = offsets[best]
    path = np.empty(w, np.int32)
    path[-1] = int(np.argmin(total))
    for x in range(w - 1, 0, -1):
        path[x - 1] = path[x] + back[path[x], x]
    return path


def _horizon(sky_rows: np.ndarray, work_h: int) -> float:
    """The ground plane's horizon: where the sky comes lowest (between ridges, over the sea), robustly."""
    if not sky_rows.any():
        return 0.35 * work_h            # an interior: the floor recedes toward the back wall
    return float(np.clip(np.percentile(sky_rows, 90), 0.2 * work_h, 0.9 * work_h))


def _haze(small: np.ndarray, grey: np.ndarray, sky: np.ndarray, horizon: float) -> np.ndarray:
    """How veiled by air each pixel looks, 0..1: near the airlight's colour and low in local contrast."""
    h = grey.shape[0]
    band = sky & (np.arange(h)[:, None] >= max(horizon - 0.15 * h, 0))
    if band.sum() >= 16:
        air = np.median(small[band], axis=0)
    else:
        # No sky: the airlight is the colour of the brightest dark-channel pixels (He et al.).
        dark = small.min(axis=2)
        brightest = dark >= np.percentile(dark, 99.5)
        air = small[brightest].mean(axis=0)
    air = np.maximum(air, 0.02).astype(np.float32)
    ratio = small / air
    dark = cv2.erode(ratio.min(axis=2), np.ones((3, 3), np.uint8))
    likeness = 1.0 - np.minimum(np.abs(ratio - 1.0).max(axis=2), 1.0)
    veil = np.clip(0.5 * np.minimum(dark, 1.0) + 0.5 * likeness, 0.0, 1.0)
    mean = cv2.blur(grey, (7, 7))
    spread = np.sqrt(np.maximum(cv2.blur(grey * grey, (7, 7)) - mean * mean, 0.0))
    spread /= float(np.percentile(spread[~sky], 95)) + 1e-4 if (~sky).any() else 1.0
    flat = 1.0 - np.minimum(spread, 1.0)
    haze = 0.6 * veil + 0.4 * flat
    if (~sky).sum() >= 16:
        # Relative to this set's own range: the clearest ground is as near as the air can say.
        low, high = np.percentile(haze[~sky], (5, 95))
        haze = (haze - low) / max(float(high - low), 1e-3)
    return np.clip(haze, 0.0, 1.0).astype(np.float32)


def _guided_coefficients(guide: np.ndarray, source: np.ndarray, radius: int, eps: float,
                         ) -> tuple[np.ndarray, np.ndarray]:
    """He et al.'s guided filter with a colour guide: per-pixel a (3 weights), b so that a·rgb + b follows
    the guide's edges, even where two regions differ in hue but not in brightness (a dusk sky and towers).

    Written over cv2.boxFilter (opencv-python-headless has no ximgproc); returning the coefficients lets
    the caller apply them to the full-size picture (the fast guided filter's upsampling).
    """
    size = (2 * radius + 1, 2 * radius + 1)

    def box(image: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(image, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)

    mean_i = box(guide)                                     # H×W×3
    mean_p = box(source)
    cov_ip = box(guide * source[..., None]) - mean_i * mean_p[..., None]
    outer = guide[..., :, None] * guide[..., None, :]       # H×W×3×3
    sigma = box(outer.reshape(*guide.shape[:2], 9)).reshape(*guide.shape[:2], 3, 3)
    sigma -= mean_i[..., :, None] * mean_i[..., None, :]
    sigma += eps * np.eye(3, dtype=np.float32)
    a = np.linalg.solve(sigma, cov_ip[..., None])[..., 0].astype(np.float32)
    b = mean_p - (a * mean_i).sum(axis=2)
    return box(a), box(b)


def load_depth(path: str | Path, *, white: Literal["near", "far"] = "near") -> np.ndarray:
    """Read a grey 8- or 16-bit depth PNG as depth (H×W float32, 0 = near, 1 = far), normalised to 0..1.

    The default, white = near, is the convention of MiDaS and Depth Anything, whose output is relative
    inverse depth: it maps straight onto soundstage's disparity-linear depth. Pass ``white="far"`` for a
    Z-depth style pass (white = far). A colour-mapped visualisation (inferno, turbo) cannot be read back as
    depth and is refused.
    """
    if white not in ("near", "far"):
        raise ValueError(f"white must be 'near' or 'far', not {white!r}")
    picture = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if picture is None:
        raise MediaError("cannot read the depth map (missing, or not an image)", path=path)
    if picture.ndim == 3:
        channels = picture[..., :3]
        if not (np.array_equal(channels[..., 0], channels[..., 1])
                and np.array_equal(channels[..., 1], channels[..., 2])):
            raise MediaError("the depth map is in colour; save the depth pass as a grey image, not a colour-mapped "
                             "preview", path=path)
        picture = channels[..., 0]
    if picture.dtype not in (np.uint8, np.uint16):
        raise MediaError(f"the depth map must be 8- or 16-bit grey, got {picture.dtype}", path=path)
    values = picture.astype(np.float32)
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-6:
        raise MediaError("the depth map is flat (one value everywhere)", path=path)
    depth = (values - low) / (high - low)
    return 1.0 - depth if white == "near" else depth


def fit_depth(depth: np.ndarray, width: int, height: int, *, what: str = "depth map") -> np.ndarray:
    """A depth map at ``width`` × ``height``: resized if it has the same shape of frame, refused otherwise.

    Depth passes are often made smaller than the set (Depth Anything works at ~518 px); a different aspect
    ratio means it is of another picture or was cropped, which no resize can mend.
    """
    if depth.ndim != 2 or depth.shape[0] < 2 or depth.shape[1] < 2:
        raise MediaError(f"a {what} must be H×W, got {depth.shape}")
    h, w = depth.shape
    if abs(w / h - width / height) > 0.01 * width / height:
        raise MediaError(f"the {what} is {w}×{h} but the set is {width}×{height}: another shape of frame")
    depth = depth.astype(np.float32, copy=False)
    if (h, w) == (height, width):
        return depth
    shrink = w > width
    return cv2.resize(depth, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
