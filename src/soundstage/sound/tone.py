"""Room tone: the film's own quietest stretch of production sound, to fill a shot that has none.

A cut where one shot drops to digital silence sounds broken even under music; editors lay the location's
room tone there. It is taken from the film's own sound (not generated), so it matches what is around it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from soundstage.sound.track import RATE, Sound, samples_at

WINDOW_S = 0.75          # long enough to hold a room's steady sound, short enough to fit between lines
CROSSFADE_S = 0.1        # equal-power crossfade where the loop meets itself: no click, no dip
BLOCK = RATE // 100      # RMS is measured in 10 ms blocks (the window then slides block by block)


def room_tone(sounds: Sequence[Sound], seconds: float) -> Sound | None:
    """``seconds`` of the quietest ``WINDOW_S`` of ``sounds`` (by short-term RMS), looped with equal-power
    crossfades; None when there is no production sound at all (the caller uses silence and says so).

    Digital silence is never room tone: blocks that are exactly zero (a plate's padding, a muted take) are
    left out, and a stretch shorter than the window is used as it is.
    """
    stretch = _quietest(sounds)
    if stretch is None:
        return None
    return _loop(stretch, samples_at(seconds))


def _quietest(sounds: Sequence[Sound]) -> np.ndarray | None:
    best: tuple[float, np.ndarray] | None = None
    window = samples_at(WINDOW_S) // BLOCK
    for sound in sounds:
        blocks = sound.count // BLOCK
        if blocks == 0:
            continue
        power = np.mean(sound.samples[:blocks * BLOCK].reshape(blocks, BLOCK, -1).astype(np.float64) ** 2,
                        axis=(1, 2))
        size = min(window, blocks)
        mean = _running_mean(power, size)
        mean[_running_mean((power == 0).astype(np.float64), size) > 0] = np.inf   # digital silence in it
        at = int(np.argmin(mean))
        if not np.isfinite(mean[at]):
            continue
        if best is None or mean[at] < best[0]:
            best = (float(mean[at]), sound.samples[at * BLOCK:(at + size) * BLOCK])
    return None if best is None else best[1]


def _running_mean(values: np.ndarray, size: int) -> np.ndarray:
    """Mean of each ``size`` consecutive values (one per start that fits)."""
    total = np.concatenate([[0.0], np.cumsum(values)])
    return (total[size:] - total[:-size]) / size


def _loop(stretch: np.ndarray, count: int) -> Sound:
    """``stretch`` repeated to ``count`` samples, each repeat crossfaded into the last (sin/cos: the two
    copies are uncorrelated noise, so equal power, not equal gain, keeps the level flat)."""
    fade = min(samples_at(CROSSFADE_S), stretch.shape[0] // 4)
    out = np.zeros((max(0, count), stretch.shape[1]), np.float32)
    theta = (np.arange(fade) + 0.5) / max(fade, 1) * np.pi / 2
    rise, fall = np.sin(theta)[:, None].astype(np.float32), np.cos(theta)[:, None].astype(np.float32)
    step = stretch.shape[0] - fade
    at = 0
    while at < count:
        piece = stretch.copy()
        if at > 0 and fade:
            piece[:fade] *= rise
            out[at:at + fade] *= fall[: max(0, min(fade, count - at))]
        end = min(count, at + piece.shape[0])
        out[at:end] += piece[: end - at]
        at += step
    return Sound(out)
