"""Grain: measure the plate's sensor grain on its open screen, and lay matching grain on a generated set.

A generated set is noise-free; comped behind a real plate it looks pasted in. ``Grain.measure`` reads the
grain where the plate shows only the screen, and ``Grain.add`` gives the set (or an element) the same grain,
moving from frame to frame, before the keyed plate goes over it (the plate already has its own).

The model: grain is white Gaussian noise blurred by a Gaussian of ``size`` pixels, with a standard
deviation ``sigma`` per channel (in 8-bit levels) and a correlation between channels. ``measure`` high-passes
the plate (minus a blur of itself, so the screen's uneven light does not count), then compares the variance
of that residual with the variance left after a further small blur: the finer the grain, the more of it the
small blur removes. Both variances are converted back to ``sigma`` and ``size`` through the exact response
of those filters to the model's grain, so the measure of ``add``'s own grain returns what it was given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

from soundstage.errors import MediaError

_LOCAL = 5.0              # px: the blur taken off the plate as its local mean (screen light, not grain)
_PROBE = 1.0              # px: the further blur whose variance loss tells the grain's size
_LEVELS = (12.0, 243.0)   # a channel's local mean must lie here, or its grain is clipped at black or white
_MIN_PIXELS = 2000        # open-screen pixels needed to measure
_SIZES = np.concatenate([[0.0], np.arange(0.3, 4.0001, 0.05)])   # grain sizes the measure can tell apart
_VARIANTS = 2             # noise fields made per shot; each frame picks one and a random offset into it
_MARGIN = 64              # px: how far each field extends past the frame, the range of the offsets


def _grain_kernel(image: np.ndarray, size: float) -> np.ndarray:
    """The model's spatial correlation: a Gaussian blur of ``size`` px (none at 0), the same call everywhere."""
    return image if size <= 0 else cv2.GaussianBlur(image, (0, 0), size)


@lru_cache(maxsize=1)
def _responses() -> tuple[np.ndarray, np.ndarray]:
    """For unit-variance grain of each size in ``_SIZES``: the residual's variance, and the probe's share of it.

    Computed from impulse responses of the very OpenCV filters ``measure`` uses: for white noise through a
    linear filter h, the variance is Σh².
    """
    radius = int(4 * (_LOCAL + _PROBE + _SIZES[-1])) + 4
    impulse = np.zeros((2 * radius + 1, 2 * radius + 1), np.float32)
    impulse[radius, radius] = 1.0
    residual_var, probe_share = [], []
    for size in _SIZES:
        grain = _grain_kernel(impulse, float(size)).astype(np.float64)
        grain /= math.sqrt(float((grain**2).sum()))
        residual = grain - cv2.GaussianBlur(grain, (0, 0), _LOCAL)
        probe = cv2.GaussianBlur(residual, (0, 0), _PROBE)
        residual_var.append(float((residual**2).sum()))
        probe_share.append(float((probe**2).sum()) / residual_var[-1])
    return np.array(residual_var), np.array(probe_share)


def _check_rgb(image: np.ndarray, what: str) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise MediaError(f"{what} must be an H×W×3 uint8 RGB image, got {image.shape} {image.dtype}")
    return np.ascontiguousarray(image)


@dataclass(frozen=True)
class Grain:
    """A plate's grain: per-channel std ``sigma`` (8-bit levels), blur ``size`` (px, 0 = per-pixel noise),
    and the channels' correlations ``correlation`` (R–G, R–B, G–B; 0 = independent, 1 = grey grain).
    """

    sigma: tuple[float, float, float]
    size: float = 0.0
    correlation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    _fields: dict[tuple[int, int, int], list[np.ndarray]] = field(default_factory=dict, init=False,
                                                                 compare=False, repr=False)

    @classmethod
    def none(cls) -> Grain:
        """No grain: for clean (CG, or already denoised) plates. ``add`` then leaves frames untouched."""
        return cls(sigma=(0.0, 0.0, 0.0))

    @property
    def clean(self) -> bool:
        return max(self.sigma) <= 0.0

    @classmethod
    def measure(cls, plate_rgb: np.ndarray, screen_mask: np.ndarray) -> Grain:
        """Measure the grain of ``plate_rgb`` on the open screen, where ``screen_mask`` (H×W uint8) is 255.

        Measure once per shot. Pixels near the subject (within the filters' reach) and channels clipped at
        black or white are left out; a channel too dark or bright to measure takes the others' grain.
        Raises MediaError when too little open screen is left to measure.
        """
        plate = _check_rgb(plate_rgb, "plate")
        if screen_mask.shape != plate.shape[:2] or screen_mask.dtype != np.uint8:
            raise MediaError(f"screen_mask must be an H×W uint8 matte of the plate's size, got {screen_mask.shape} "
                             f"{screen_mask.dtype} for a {plate.shape[1]}×{plate.shape[0]} plate")
        reach = math.ceil(4 * _LOCAL) + math.ceil(4 * _PROBE)
        open_screen = cv2.erode((screen_mask == 255).astype(np.uint8), np.ones((2 * reach + 1,) * 2, np.uint8),
                                borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
        levels = plate.astype(np.float32)
        local = cv2.GaussianBlur(levels, (0, 0), _LOCAL)
        residual = cv2.subtract(levels, local)
        probe = cv2.GaussianBlur(residual, (0, 0), _PROBE)
        usable = [open_screen & cv2.inRange(local[..., c], *_LEVELS).astype(bool) for c in range(3)]
        counts = [int(u.sum()) for u in usable]
        if max(counts) < _MIN_PIXELS:
            raise MediaError(f"only {max(counts)} pixels of unclipped open screen, too few to measure grain "
                             f"(need {_MIN_PIXELS})", hint="use Grain.none() for this shot, or a wider screen mask")
        measured = [c for c in range(3) if counts[c] >= _MIN_PIXELS]
        variance = np.zeros(3)
        probe_variance = np.zeros(3)
        for c in measured:
            variance[c] = float(np.mean(np.square(residual[..., c][usable[c]], dtype=np.float64)))
            probe_variance[c] = float(np.mean(np.square(probe[..., c][usable[c]], dtype=np.float64)))
        residual_var, probe_share = _responses()
        share = probe_variance[measured].sum() / max(variance[measured].sum(), 1e-12)
        size = float(np.interp(share, probe_share, _SIZES))
        unit = float(np.interp(size, _SIZES, residual_var))
        sigma = np.sqrt(variance / unit)
        for c in set(range(3)) - set(measured):
            sigma[c] = float(np.mean(sigma[measured]))
        correlation = []
        for a, b in ((0, 1), (0, 2), (1, 2)):
            both = usable[a] & usable[b]
            if a in measured and b in measured and both.sum() >= _MIN_PIXELS:
                ra, rb = residual[..., a][both].astype(np.float64), residual[..., b][both].astype(np.float64)
                correlation.append(float(np.clip(np.mean(ra * rb) / math.sqrt(np.mean(ra**2) * np.mean(rb**2)
                                                                             + 1e-12), -1.0, 1.0)))
            else:
                correlation.append(0.0)
        return cls(sigma=(float(sigma[0]), float(sigma[1]), float(sigma[2])), size=round(size, 3),
                   correlation=(correlation[0], correlation[1], correlation[2]))

    def add(self, frame_rgb: np.ndarray, index: int, seed: int) -> np.ndarray:
        """Add this grain to frame ``index`` of a generated set or element (H×W×3 uint8), saturating.

        Deterministic for (``seed``, ``index``), so a re-render is byte-identical, and different from frame
        to frame, so the grain moves. The noise is made once per shot and frame size (a couple of fields a
        little larger than the frame); each frame picks one at a random offset, one fused uint8 add.
        Returns ``frame_rgb`` itself when the grain is ``none()``.
        """
        frame = _check_rgb(frame_rgb, "frame")
        if index < 0 or seed < 0:
            raise ValueError(f"index and seed must not be negative, got {index} and {seed}")
        if self.clean:
            return frame_rgb
        height, width = frame.shape[:2]
        fields = self._noise(height, width, seed)
        pick = np.random.default_rng([seed, index, 0x67])
        variant = int(pick.integers(len(fields)))
        dy, dx = (int(v) for v in pick.integers(0, _MARGIN + 1, size=2))
        noise = fields[variant][dy:dy + height, dx:dx + width]
        # The fields hold 128 + noise; saturating frame + field − 128 in one pass.
        return cv2.addWeighted(frame, 1.0, noise, 1.0, -128.0)

    def _noise(self, height: int, width: int, seed: int) -> list[np.ndarray]:
        """The shot's noise fields (128-biased uint8), made on first use; only the latest size/seed is kept."""
        key = (height, width, seed)
        fields = self._fields.get(key)
        if fields is None:
            self._fields.clear()
            rng = np.random.default_rng([seed, 0x6772_6169_6E])
            mix = self._mixing()
            made = []
            for _ in range(_VARIANTS):
                noise: np.ndarray = rng.standard_normal((height + _MARGIN, width + _MARGIN, 3), dtype=np.float32)
                noise = _grain_kernel(noise, self.size)
                noise /= noise.reshape(-1, 3).std(axis=0)
                noise = cv2.transform(noise, mix)
                made.append(np.clip(noise + 128.5, 0, 255).astype(np.uint8))
            self._fields[key] = fields = made
        return fields

    def _mixing(self) -> np.ndarray:
        """3×3 float32 matrix taking independent unit noise to noise with this grain's sigma and correlation."""
        rg, rb, gb = self.correlation
        corr = np.array([[1.0, rg, rb], [rg, 1.0, gb], [rb, gb, 1.0]])
        values, vectors = np.linalg.eigh(corr)
        root = vectors @ np.diag(np.sqrt(np.clip(values, 1e-6, None))) @ vectors.T
        root /= np.sqrt((root**2).sum(axis=1, keepdims=True))      # rows of unit length: unit variance each
        return (np.diag(self.sigma) @ root).astype(np.float32)
