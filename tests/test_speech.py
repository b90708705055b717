"""Voice-activity detection on a synthetic voice: a harmonic series on a ~150 Hz fundamental, shaped by formants,
in bursts with silence (and a little noise) between."""

from __future__ import annotations

import numpy as np
import pytest

from soundstage.sound import RATE, Sound
from soundstage.sound.speech import speech_spans
from voices import bursts


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
