"""The actor's shadow on the set, and the dark where the feet meet the ground: the compositor's two tricks.

A keyed actor over a set floats: nothing of him reaches the set. The standard fix is a shadow made from his
own matte — laid down from his feet, skewed away from the key light, softer and fainter the farther it falls
from the feet — and a contact shadow, a small soft dark under the feet that says they touch the ground.

Both are per frame (they follow the actor) and cheap: the matte is shrunk to ~240 pixels wide to find the
feet and cast the shadow, and full-size pixels are touched only in the box the shadow darkens. They go on the
set before the plate is laid over it, so the actor himself is never darkened. Only a standing actor gets
them: one whose matte ends above the frame's bottom edge, so the feet are in the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from soundstage.comp.light import _over_box, shrink_matte

_WORK_WIDTH = 240         # the matte is shrunk to about this wide to cast the shadows (soft anyway)
_DARKEST = 0.7            # strength 1 takes away this much of the set's light at the shadow's darkest
_CONTACT_HEIGHT = 0.012   # of the frame's height: the contact shadow's half-height
_FOOT_BAND = 0.04         # of the frame's height: the matte rows above the ground line taken as the feet
_STANDING_MARGIN = 0.01   # a matte ending within this share of the frame's bottom is cut off, not standing


def light_position(set_rgb: np.ndarray) -> tuple[float, float]:
    """Where the set's light comes from, frame fractions: the centre of its brightest region (a small blurred
    copy's top 2% of brightness, weighted by how bright)."""
    small = cv2.resize(set_rgb, (64, max(4, round(64 * set_rgb.shape[0] / set_rgb.shape[1]))),
                       interpolation=cv2.INTER_AREA)
    grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 2.0)
    level = np.percentile(grey, 98)
    weight = np.where(grey >= level, grey - grey.min() + 1.0, 0.0)
    rows, cols = np.indices(grey.shape, dtype=np.float64)
    total = weight.sum()
    return (float((cols * weight).sum() / total + 0.5) / grey.shape[1],
            float((rows * weight).sum() / total + 0.5) / grey.shape[0])


@dataclass(frozen=True)
class Shadow:
    """How the shot's actor darkens the set: the cast shadow's and contact shadow's strengths (0..1, 0: off)
    and the key light's place (frame fractions; it may be anywhere, the shadow falls away from it)."""

    light: tuple[float, float]
    cast: float = 0.5
    contact: float = 0.5

    def apply(self, picture: np.ndarray, matte: np.ndarray, *, in_place: bool = False) -> np.ndarray:
        """The set ``picture`` (H×W×3 uint8, or float32 in a managed comp) darkened by the shadows of the actor on
        ``matte`` (H×W uint8). ``in_place``: ``picture`` itself is darkened and returned (a comp's own frame,
        spared a whole-frame copy)."""
        if self.cast <= 0 and self.contact <= 0:
            return picture
        height, width = matte.shape
        shrink = max(1, width // _WORK_WIDTH)
        shrunk = shrink_matte(matte, shrink)
        if shrunk is None:
            return picture
        small = np.zeros((max(1, height // shrink), max(1, width // shrink)), np.uint8)
        cells, (x0, y0) = shrunk
        small[y0:y0 + cells.shape[0], x0:x0 + cells.shape[1]] = cells
        rows = np.flatnonzero((small >= 128).any(axis=1))
        if not rows.size:
            return picture
        ground = int(rows[-1])
        if ground >= small.shape[0] * (1 - _STANDING_MARGIN) - 1:      # the feet are out of frame
            return picture
        dark = np.zeros(small.shape, np.float32)
        if self.cast > 0:
            dark = np.maximum(dark, self.cast * self._cast(small, ground, int(rows[0])))
        if self.contact > 0:
            dark = np.maximum(dark, self.contact * _contact(small, ground))
        return _darken(picture, dark, shrink, in_place)

    def _cast(self, small: np.ndarray, ground: int, top: int) -> np.ndarray:
        """The matte laid from the ground line away from the light: sheared, squashed, softer and fainter with
        height (0..1, at the small size)."""
        sh, sw = small.shape
        cols = np.flatnonzero((small >= 128).any(axis=0))
        centre = np.array([(cols[0] + cols[-1] + 1) / 2 / sw, (ground + 1) / sh])
        away = centre - np.asarray(self.light, np.float64)
        away /= max(float(np.hypot(*away)), 1e-6)
        # A point h above the ground line lands at x + shear·h, ground + drop·h: a light behind and above
        # throws the shadow toward the camera (down the frame), a low light ahead of him throws it up behind
        # him; a side light lays it long along the ground.
        shear = 0.9 * float(away[0])
        drop = 0.5 * float(away[1]) - 0.12
        drop = drop if abs(drop) >= 0.05 else -0.05        # never flat: the warp must stay invertible
        tall = max(ground - top, 1)
        fade = np.clip(1.0 - 0.7 * (ground - np.arange(sh, dtype=np.float32)) / tall, 0.0, 1.0)
        source = small.astype(np.float32) * (fade[:, None] / 255.0)
        source[ground + 1:] = 0.0
        matrix = np.array([[1.0, -shear, shear * ground], [0.0, -drop, ground * (1.0 + drop)]])
        sharp = cv2.warpAffine(source, matrix, (sw, sh), flags=cv2.INTER_LINEAR, borderValue=0)
        soft = cv2.GaussianBlur(sharp, (0, 0), max(1.0, 0.04 * tall))
        # blurred by distance: sharp at the feet, the soft one farther out
        reach = np.abs(np.arange(sh, dtype=np.float32) - ground) / (abs(drop) * tall + 1.0)
        mix = np.clip(reach, 0.0, 1.0)[:, None]
        return cv2.GaussianBlur(sharp, (0, 0), 0.8) * (1.0 - mix) + soft * mix


def _contact(small: np.ndarray, ground: int) -> np.ndarray:
    """A soft dark band under the feet: as wide as the lowest rows of the matte, thin, darkest at the ground."""
    sh, sw = small.shape
    band = max(1, round(_FOOT_BAND * sh))
    feet = small[max(0, ground - band):ground + 1].max(axis=0).astype(np.float32) / 255.0
    spread = max(1.0, 0.02 * sw)
    feet = cv2.GaussianBlur(feet[None, :], (0, 0), spread)[0]
    half = max(1.0, _CONTACT_HEIGHT * sh)
    profile = np.exp(-0.5 * ((np.arange(sh, dtype=np.float32) - ground) / half) ** 2)
    return np.clip(profile[:, None] * feet[None, :] * 1.4, 0.0, 1.0).astype(np.float32)


def _darken(picture: np.ndarray, dark: np.ndarray, shrink: int, in_place: bool) -> np.ndarray:
    """``picture`` × (1 − darkest·dark), ``dark`` at the small size brought up only over the box it covers."""
    height, width = picture.shape[:2]
    keep = np.clip(255.0 * (1.0 - _DARKEST * dark) + 0.5, 0, 255).astype(np.uint8)
    x, y, w, h = cv2.boundingRect((keep < 255).astype(np.uint8))
    if not w or not h:
        return picture
    x0, y0 = max(0, (x - 1) * shrink), max(0, (y - 1) * shrink)
    x1, y1 = min(width, (x + w + 1) * shrink), min(height, (y + h + 1) * shrink)
    up = cv2.cvtColor(_over_box(keep, (x0, y0, x1 - x0, y1 - y0), width, height), cv2.COLOR_GRAY2RGB)
    up = up if picture.dtype == np.uint8 else up.astype(picture.dtype)     # a managed comp's float set
    result = picture if in_place else picture.copy()
    result[y0:y1, x0:x1] = cv2.multiply(picture[y0:y1, x0:x1], up, scale=1.0 / 255)
    return result
