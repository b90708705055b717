"""Voice-activity detection on a synthetic voice: a harmonic series on a ~150 Hz fundamental, shaped by formants,
in bursts with silence (and a little noise) between."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from soundstage.sound import RATE, Sound
from soundstage.sound.speech import speech_spans


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


def test_bursts_of_voice_are_found_within_50_ms() -> None:
    layout = [(0.5, 1.7), (2.6, 3.4), (4.3, 6.0)]
    found = speech_spans(bursts(layout, 7.0))
    assert len(found) == len(layout), found
    for (start, end), (got_start, got_end) in zip(layout, found, strict=True):
        assert abs(got_start - start) <= 0.05 and abs(got_end - end) <= 0.05, (layout, found)


def test_silence_and_noise_hold_no_speech() -> None:
    rng = np.random.default_rng(1)
    hiss = Sound(np.repeat(rng.normal(0, 1e-3, RATE * 2)[:, None], 2, axis=1).astype(np.float32))
    assert speech_spans(hiss) == []
    assert speech_spans(Sound.silence(RATE)) == []
    assert speech_spans(Sound.silence(0)) == []


def test_aggressiveness_is_the_detectors_own_range() -> None:
    with pytest.raises(ValueError, match=r"0\.\.3"):
        speech_spans(Sound.silence(RATE), aggressiveness=4)


def test_a_breath_inside_a_line_keeps_it_one_span() -> None:
    found = speech_spans(bursts([(0.4, 1.2), (1.35, 2.0)], 3.0))     # 150 ms pause: one line
    assert len(found) == 1 and abs(found[0][0] - 0.4) <= 0.05 and abs(found[0][1] - 2.0) <= 0.05, found
    assert all(type(edge) is float for edge in found[0])
