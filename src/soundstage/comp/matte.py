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


def colour_line(covariance: tuple[np.ndarray, ...], towards: tuple[np.ndarray, np.ndarray, np.ndarray]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The slopes of a signal on R, G and B per pixel (the colour-line fit of the guided filter, He et al.).

    ``covariance`` is the guide's symmetric 3×3 covariance per pixel, already regularised (rr, rg, rb, gg, gb,
    bb); ``towards`` the guide's covariance with the signal (r, g, b). Inverted in closed form.
    """
    rr, rg, rb, gg, gb, bb = covariance
    cr, cg, cb = towards
    i00, i01, i02 = gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb
    i11, i12, i22 = rr * bb - rb * rb, rb * rg - rr * gb, rr * gg - rg * rg
    det = rr * i00 + rg * i01 + rb * i02
    return ((i00 * cr + i01 * cg + i02 * cb) / det, (i01 * cr + i11 * cg + i12 * cb) / det,
            (i02 * cr + i12 * cg + i22 * cb) / det)


_RING_NOISE = 4      # levels: what a clear pixel beside the edge gets from the fit's noise alone (1–3 seen)


def refine_edges(plate: np.ndarray, matte: np.ndarray, *, radius: int = 2, eps: float = 1e-3) -> np.ndarray:
    """Re-fit the soft edge to the plate's own detail: the matte as a local linear function of colour.

    Why: a colour-difference matte is exact only where the subject is grey, and blurred wherever the plate's
    colour is (H.264, 4:2:2). In a small window a soft edge mixes one subject colour with one screen colour, so
    the matte is a linear function of the pixel's RGB there (the colour-line model behind the guided filter,
    He et al. 2010, and closed-form matting); it is fit by regularised least squares on a (2·radius + 1)² window
    and read at the pixel itself (without the guided filter's second averaging, which blurs the edge again).
    Only the uncertain band (0 < α < 1) and the pixels touching it change, so an edge keyed a pixel short can
    grow; a clear pixel beside the band stays clear unless the fit lifts it by more than its noise.

    Cost: the window sums are box filters over the band's box, the products in exact 16-bit integers; the 3×3
    solve runs only on the band's pixels.
    """
    band = cv2.inRange(matte, 1, 254)
    x, y, w, h = cv2.boundingRect(band)
    if w == 0:
        return matte
    pad = 2 * radius + 2
    height, width = matte.shape
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(width, x + w + pad), min(height, y + h + pad)
    size = (2 * radius + 1, 2 * radius + 1)
    planes = [*cv2.split(plate[y0:y1, x0:x1]), matte[y0:y1, x0:x1]]      # R, G, B and the matte, uint8
    where = cv2.findNonZero(cv2.dilate(band[y0:y1, x0:x1], np.ones((3, 3), np.uint8))).reshape(-1, 2)
    at = where[:, 1] * (x1 - x0) + where[:, 0]

    def local_mean(image: np.ndarray, depth: int) -> np.ndarray:
        """The window's mean of ``image`` at the band's pixels (float32)."""
        return cv2.boxFilter(image, depth, size).reshape(-1)[at].astype(np.float32)

    # Means in float; products of uint8 are exact in uint16, and their rounded window means are off by < 1e-5.
    mr, mg, mb, mp = (local_mean(plane, cv2.CV_32F) * np.float32(1 / 255) for plane in planes)

    wide = [plane.astype(np.uint16) for plane in planes]    # OpenCV multiplies 16-bit planes several times faster

    def moment(i: int, j: int) -> np.ndarray:
        return local_mean(cv2.multiply(wide[i], wide[j]), -1) * np.float32(1 / 65025)

    e = np.float32(eps)
    rr, rg, rb = moment(0, 0) - mr * mr + e, moment(0, 1) - mr * mg, moment(0, 2) - mr * mb
    gg, gb, bb = moment(1, 1) - mg * mg + e, moment(1, 2) - mg * mb, moment(2, 2) - mb * mb + e
    cr, cg, cb = moment(0, 3) - mr * mp, moment(1, 3) - mg * mp, moment(2, 3) - mb * mp
    ar, ag, ab = colour_line((rr, rg, rb, gg, gb, bb), (cr, cg, cb))
    r, g, b = (plane.reshape(-1)[at].astype(np.float32) * np.float32(1 / 255) for plane in planes[:3])
    fitted = mp + ar * (r - mr) + ag * (g - mg) + ab * (b - mb)

    out = matte.copy()
    region = out[y0:y1, x0:x1]
    refit = np.clip(fitted * 255 + 0.5, 0, 255).astype(np.uint8)
    # a clear pixel of the ring is lifted only by more than the fit's own noise: open screen stays clear
    refit[(region[where[:, 1], where[:, 0]] == 0) & (refit < _RING_NOISE)] = 0
    region[where[:, 1], where[:, 0]] = refit
    return out
