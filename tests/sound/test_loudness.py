"""Loudness and true peak, normalised with pyloudnorm and checked with the other meter (FFmpeg's ebur128)."""

from __future__ import annotations

import numpy as np
import pytest
from recordings import speechlike

from soundstage.sound.loudness import ebur128, integrated, normalise, true_peak
from soundstage.sound.mix import mixdown
from soundstage.sound.track import RATE, Sound


def stereo(mono: np.ndarray) -> Sound:
    return Sound(np.repeat(mono[:, None], 2, axis=1).astype(np.float32))


def programme(seconds: float = 8.0, seed: int = 0) -> dict[str, Sound]:
    """Dialogue-like bursts, a noise bed, and a few sharp hits: what a shot's stems look like to a meter."""
    rng = np.random.default_rng(seed)
    count = int(seconds * RATE)
    dialogue = stereo(speechlike(seconds, seed=seed))
    bed = Sound((rng.standard_normal((count, 2)) * 0.01).astype(np.float32))
    hits = np.zeros(count, np.float32)
    for at in rng.integers(0, count - 2_000, 4):
        hits[at:at + 2_000] += (np.exp(-np.arange(2_000) / 200) * rng.standard_normal(2_000)).astype(np.float32)
    return {"dialogue": dialogue, "ambience": bed, "effects": stereo(hits * 2.0)}


def test_a_minus_20_dbfs_tone_measures_minus_20_lufs_on_both_meters() -> None:
    tone = stereo(0.1 * np.sin(2 * np.pi * 997 * np.arange(5 * RATE) / RATE))
    assert integrated(tone) == pytest.approx(-20.0, abs=0.1)
    loudness, _ = ebur128(tone)
    assert loudness == pytest.approx(-20.0, abs=0.1)


def test_true_peak_finds_the_peak_between_samples() -> None:
    # a quarter-rate sine at 45°: every sample is 3 dB under the wave's real crest
    # (faded in and out over 0.1 s, so the edges ring no higher than the wave)
    ramp = np.minimum(1.0, np.minimum(np.arange(RATE), np.arange(RATE)[::-1]) / (0.1 * RATE))
    wave = stereo(0.5 * ramp * np.sin(2 * np.pi * np.arange(RATE) / 4 + np.pi / 4))
    assert 20 * np.log10(np.abs(wave.samples).max()) == pytest.approx(-9.03, abs=0.05)
    assert true_peak(wave) == pytest.approx(-6.02, abs=0.1)
    assert ebur128(wave)[1] == pytest.approx(-6.02, abs=0.2)
    assert integrated(Sound.silence(100)) == -np.inf and true_peak(Sound.silence(10)) == -np.inf


@pytest.mark.parametrize("target", [-23.0, -24.0, -27.0])
def test_normalised_stems_meet_the_target_on_the_other_meter(target: float) -> None:
    stems = programme()
    done, result = normalise(stems, target_lufs=target, ceiling_dbtp=-1.0)
    mix = mixdown(done)
    loudness, peak = ebur128(mix)
    assert loudness == pytest.approx(target, abs=0.5)
    assert peak <= -1.0
    assert result.loudness == pytest.approx(target, abs=0.1) and result.true_peak <= -1.0
    assert result.limited                                     # the hits had to be held under the ceiling
    # one gain curve on every stem: each stem's samples scaled alike, so the stems still sum to the mix
    ratio = done["dialogue"].samples[:, 0] / np.where(stems["dialogue"].samples[:, 0] == 0, np.nan,
                                                        stems["dialogue"].samples[:, 0])
    other = done["ambience"].samples[:, 0] / stems["ambience"].samples[:, 0]
    both = ~np.isnan(ratio)
    assert np.allclose(ratio[both], other[both], rtol=1e-4)


def test_dialogue_gated_loudness_is_measured_over_the_speech() -> None:
    count = 8 * RATE
    voice = speechlike(4.0, seed=3)
    mono = np.zeros(count, np.float32)
    mono[2 * RATE:6 * RATE] = voice
    rng = np.random.default_rng(4)
    effects = np.zeros(count, np.float32)
    effects[:2 * RATE] = rng.standard_normal(2 * RATE) * 0.2        # loud, and nobody is speaking
    stems = {"dialogue": stereo(mono), "effects": stereo(effects)}
    speech = [(2.0, 6.0)]
    done, result = normalise(stems, target_lufs=-27.0, ceiling_dbtp=-2.0, speech=speech)
    assert result.dialogue_gated
    loudness, _ = ebur128(mixdown(done), speech)
    assert loudness == pytest.approx(-27.0, abs=0.5) and ebur128(mixdown(done))[1] <= -2.0
    assert integrated(mixdown(done)) > -27.0 + 1                    # the whole mix is louder than its dialogue


def test_silence_is_left_alone() -> None:
    done, result = normalise({"dialogue": Sound.silence(RATE)}, target_lufs=-23, ceiling_dbtp=-1)
    assert result.gain_db == 0.0 and result.loudness == -np.inf and not done["dialogue"].samples.any()
