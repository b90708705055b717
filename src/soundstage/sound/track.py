"""The one shape sound has inside soundstage: 48 kHz stereo float32 samples, full scale ±1."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

RATE = 48_000      # film and broadcast sound's rate; every input is resampled to it on the way in
CHANNELS = 2       # stereo; mono is spread to both sides and 5.1 folded down on the way in


@dataclass(frozen=True)
class Sound:
    """Samples, ``(count, 2)`` float32. Immutable by convention: every operation returns a new one."""

    samples: np.ndarray

    def __post_init__(self) -> None:
        if self.samples.ndim != 2 or self.samples.shape[1] != CHANNELS or self.samples.dtype != np.float32:
            raise ValueError(f"sound is (count, {CHANNELS}) float32, not {self.samples.shape} {self.samples.dtype}")

    @classmethod
    def silence(cls, count: int) -> Sound:
        return cls(np.zeros((max(0, count), CHANNELS), np.float32))

    @property
    def count(self) -> int:
        return int(self.samples.shape[0])

    @property
    def seconds(self) -> float:
        return self.count / RATE

    def span(self, start: int, count: int) -> Sound:
        """``count`` samples from ``start`` (either may fall outside: the rest is silence)."""
        out = np.zeros((max(0, count), CHANNELS), np.float32)
        lo, hi = max(start, 0), min(start + count, self.count)
        if hi > lo:
            out[lo - start:hi - start] = self.samples[lo:hi]
        return Sound(out)


def samples_at(seconds: float) -> int:
    """The sample a time falls on, at :data:`RATE` (rounded: frame times at 24 or 25 fps land exactly)."""
    return round(seconds * RATE)


def exact_rate(fps: float) -> Fraction:
    """23.976 → 24000/1001, 25 → 25: the rate a rounded fps stands for (as ``media.video.as_rate``, which
    the sound stage cannot import without OpenCV)."""
    nominal = round(fps)
    if nominal in (24, 30, 48, 60, 120) and abs(fps - nominal * 1000 / 1001) < 0.005:
        return Fraction(nominal * 1000, 1001)
    return Fraction(fps).limit_denominator(1001)
