"""Continuity at a join: does the frame after a cut-free join look like the frame before it?

Two measures, both between the last frame before the join and the first after: structural similarity (SSIM,
on luma, Wang et al. 2004 with an 11-tap Gaussian window) and the distance between their colour
histograms (Bhattacharyya, 0 for the same colours, 1 for none shared). An extension that continues its clip
scores near 1 and near 0; two clips made apart score far from both. ``Join.continuous`` is the threshold the
render warns at.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from soundstage.errors import MediaError
from soundstage.media import read_frames

#: Below this SSIM, or past this histogram distance, a join shows (docs/benchmarks.md, "Continuity at joins":
#: on the procedural engine extensions measure SSIM ≥ 0.99 and distance ≤ 0.03, last frame → first frame
#: ≥ 0.98 and ≤ 0.05; joins made without conditioning SSIM 0.26-0.75, every one of them flagged).
MIN_SSIM = 0.75
MAX_HISTOGRAM = 0.2


@dataclass(frozen=True)
class Join:
    ssim: float
    histogram: float       # Bhattacharyya distance of the two frames' RGB histograms

    @property
    def continuous(self) -> bool:
        return self.ssim >= MIN_SSIM and self.histogram <= MAX_HISTOGRAM

    def line(self) -> str:
        return (f"SSIM {self.ssim:.2f} (at least {MIN_SSIM:g}), colour distance {self.histogram:.2f} "
                f"(at most {MAX_HISTOGRAM:g})")


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean structural similarity of two RGB uint8 frames on luma (Wang et al. 2004, 11-tap Gaussian σ 1.5)."""
    x, y = (cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float64) for f in (a, b))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(v: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(v, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    score = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(score.mean())


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance of two RGB frames' 8×8×8 colour histograms."""
    def hist(frame: np.ndarray) -> np.ndarray:
        h = cv2.calcHist([frame], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3)
        return cv2.normalize(h, h).flatten()

    return float(cv2.compareHist(hist(a), hist(b), cv2.HISTCMP_BHATTACHARYYA))


def compare(before: np.ndarray, after: np.ndarray) -> Join:
    return Join(ssim(before, after), histogram_distance(before, after))


def measure_join(video: Path, at: int) -> Join:
    """The join in ``video`` between frame ``at - 1`` and frame ``at``."""
    if at < 1:
        raise MediaError(f"no join at frame {at}", path=video)
    before = None
    for index, frame in enumerate(read_frames(video)):
        if index == at - 1:
            before = frame
        elif index == at and before is not None:
            return compare(before, frame)
    raise MediaError(f"the clip ends before its join at frame {at}", path=video)
