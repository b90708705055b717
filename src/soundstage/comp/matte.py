"""Matte tools: garbage and core mattes from roto shapes, shrink/grow, soften, and edge refinement.

Roto shapes are polygons in fractions of the frame (x right, y down, 0..1), so one ``shots.toml`` entry works
on the full-size plate and on a proxy alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Polygon = Sequence[tuple[float, float]]
_SUPER = 4


def polygon_mask(polygons: Sequence[Polygon], width: int, height: int, *, feather: float = 0.0) -> np.ndarray:
    """Rasterise roto shapes into an H×W uint8 mask (255 inside), feathered by ``feather`` px.

    Drawn 4× oversized and shrunk by area, so an edge pixel holds the share of it the shape covers (a plain
    anti-aliased fill grows every shape by about half a pixel). Once per shot, so the cost does not matter.
    """
    big = np.zeros((height * _SUPER, width * _SUPER), np.uint8)
    shift = 4   # sub-pixel vertices: cv2 takes fixed-point coordinates with 4 fractional bits
    for polygon in polygons:
        # fraction 0 is the left edge of the first pixel, whose centre cv2 calls 0: hence the half-pixel shift
        points = np.array([((x * width * _SUPER - 0.5) * (1 << shift), (y * height * _SUPER - 0.5) * (1 << shift))
                           for x, y in polygon])
        cv2.fillPoly(big, [np.round(points).astype(np.int32)], 255, lineType=cv2.LINE_8, shift=shift)
    mask = cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA)
    if feather > 0:
        mask = cv2.GaussianBlur(mask, (0, 0), feather / 2)
    return mask


@dataclass(frozen=True)
class Roto:
    """A shot's roto, rasterised once at the plate's size and applied to every frame's matte.

    - ``keep``: where the subject can be; everything outside is thrown away (the stage beyond the screen, the
      lights). Empty: keep the whole frame.
    - ``garbage``: always transparent (rigs, stands, a boom in shot).
    - ``core``: always solid (a green prop the actor holds, the eyes of a green-clad stunt double).
    """

    keep: np.ndarray | None
    garbage: np.ndarray | None
    core: np.ndarray | None

    @classmethod
    def build(cls, width: int, height: int, *, keep: Sequence[Polygon] = (), garbage: Sequence[Polygon] = (),
              core: Sequence[Polygon] = (), feather: float = 2.0) -> Roto:
        def shape(polygons: Sequence[Polygon]) -> np.ndarray | None:
            return polygon_mask(polygons, width, height, feather=feather) if polygons else None

        return cls(shape(keep), shape(garbage), shape(core))

    def apply(self, matte: np.ndarray) -> np.ndarray:
        """The matte with the roto applied (uint8); returns ``matte`` itself when there is no roto."""
        if self.keep is not None:
            matte = cv2.multiply(matte, self.keep, scale=1.0 / 255.0)
        if self.garbage is not None:
            matte = cv2.multiply(matte, cv2.bitwise_not(self.garbage), scale=1.0 / 255.0)
        if self.core is not None:
            matte = cv2.max(matte, self.core)
        return matte


def shrink_grow(matte: np.ndarray, pixels: int) -> np.ndarray:
    """Erode (``pixels`` < 0) or dilate (> 0) a matte by whole pixels with a round kernel: soft edges stay soft."""
    if pixels == 0:
        return matte
    size = 2 * abs(pixels) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.dilate(matte, kernel) if pixels > 0 else cv2.erode(matte, kernel)


def soften(matte: np.ndarray, pixels: float) -> np.ndarray:
    """Blur a matte's edge by ``pixels`` (a Gaussian's σ); 0 leaves it as it is."""
    return cv2.GaussianBlur(matte, (0, 0), pixels) if pixels > 0 else matte


def refine_edges(plate: np.ndarray, matte: np.ndarray, *, radius: int = 2, eps: float = 1e-3) -> np.ndarray:
    """Re-fit the soft edge to the plate's own detail with a colour guided filter (He et al. 2010).

    Why: an H.264 plate keeps colour at half resolution, so a colour-difference matte is blurred across the
    edge; the guided filter fits the matte as a locally linear function of the full-resolution RGB picture
    and restores the edge. Only the uncertain band (0 < α < 1) changes, and the work is confined to the box
    around it; solid and clear pixels are kept exactly.
    """
    band = cv2.inRange(matte, 1, 254)
    points = cv2.findNonZero(band)
    if points is None:
        return matte
    x, y, w, h = cv2.boundingRect(points)
    pad = 2 * radius + 2
    height, width = matte.shape
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(width, x + w + pad), min(height, y + h + pad)
    guide = plate[y0:y1, x0:x1].astype(np.float32) * np.float32(1 / 255)
    p = matte[y0:y1, x0:x1].astype(np.float32) * np.float32(1 / 255)
    size = (2 * radius + 1, 2 * radius + 1)

    def box(image: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(image, -1, size)

    r, g, b = cv2.split(guide)
    mean = box(guide)
    mr, mg, mb = cv2.split(mean)
    mp = box(p)
    cr, cg, cb = cv2.split(box(guide * p[..., None]) - mean * mp[..., None])
    # The guide's 3×3 covariance per pixel, regularised by eps, inverted in closed form (symmetric).
    rr = box(r * r) - mr * mr + eps
    rg = box(r * g) - mr * mg
    rb = box(r * b) - mr * mb
    gg = box(g * g) - mg * mg + eps
    gb = box(g * b) - mg * mb
    bb = box(b * b) - mb * mb + eps
    i00, i01, i02 = gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb
    i11, i12, i22 = rr * bb - rb * rb, rb * rg - rr * gb, rr * gg - rg * rg
    det = rr * i00 + rg * i01 + rb * i02
    ar = (i00 * cr + i01 * cg + i02 * cb) / det
    ag = (i01 * cr + i11 * cg + i12 * cb) / det
    ab = (i02 * cr + i12 * cg + i22 * cb) / det
    offset = mp - ar * mr - ag * mg - ab * mb
    fitted = box(ar) * r + box(ag) * g + box(ab) * b + box(offset)

    out = matte.copy()
    region = out[y0:y1, x0:x1]
    where = cv2.dilate(band[y0:y1, x0:x1], np.ones((3, 3), np.uint8)) > 0
    region[where] = np.clip(fitted[where] * 255 + 0.5, 0, 255).astype(np.uint8)
    return out
