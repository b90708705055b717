"""A synthetic voice for the sound tests: a harmonic series on a ~150 Hz fundamental, shaped by formants, in
bursts with silence (and a little room noise) between. Far from a person, near enough for a voice detector."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from soundstage.sound import RATE, Sound


def voice(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A vowel-like sound: harmonics of a wavering ~150 Hz fundamental through two formant resonators."""
    t = np.arange(round(seconds * RATE)) / RATE
    f0 = 150 * (1 + 0.04 * np.sin(2 * np.pi * 4 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    source = sum(np.sin(k * phase) / k for k in range(1, 30))
    for centre, width in ((700, 110), (1200, 120)):            # an "a": F1 700 Hz, F2 1200 Hz
        r = np.exp(-np.pi * width / RATE)
        source = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * centre / RATE), r * r], source)
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 5 * t) ** 2   # a syllable rhythm, never silent inside a line
    edge = np.minimum(1, np.minimum(t, t[-1] - t) / 0.01)        # 10 ms ramps: no clicks
    out = source * syllables * edge
    return 0.3 * out / np.abs(out).max() + rng.normal(0, 1e-3, len(t))


def bursts(layout: list[tuple[float, float]], total: float) -> Sound:
    rng = np.random.default_rng(7)
    mono = rng.normal(0, 1e-3, round(total * RATE))              # room noise, far below the voice
    for start, end in layout:
        piece = voice(end - start, rng)
        at = round(start * RATE)
        mono[at:at + len(piece)] = piece
    return Sound(np.repeat(mono[:, None], 2, axis=1).astype(np.float32))
