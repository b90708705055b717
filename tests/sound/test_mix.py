"""Layers to stems, shots joined with fades (no click at a cut), the mixdown, and room tone."""

from __future__ import annotations

import numpy as np
import pytest

from soundstage.sound.mix import Layer, join, mix_shot, mixdown
from soundstage.sound.tone import room_tone
from soundstage.sound.track import RATE, Sound


def level(value: float, count: int) -> Sound:
    return Sound(np.full((count, 2), value, np.float32))


def noise(rms: float, count: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((count, 2)) * rms).astype(np.float32)


def test_layers_are_gained_and_summed_into_their_stems() -> None:
    stems = mix_shot([Layer("plate", "dialogue", level(0.5, 100), -6.0206),
                      Layer("fire", "effects", level(0.1, 50)),
                      Layer("sparks", "effects", level(0.2, 200), 6.0206)], count=100)
    assert set(stems) == {"dialogue", "effects", "ambience"}
    assert all(sound.count == 100 for sound in stems.values())
    assert np.allclose(stems["dialogue"].samples, 0.25, atol=1e-4)
    assert np.allclose(stems["effects"].samples[:50], 0.5, atol=1e-4)      # 0.1 + 0.2 × 2
    assert np.allclose(stems["effects"].samples[50:], 0.4, atol=1e-4)      # the fire ended: padded
    assert not stems["ambience"].samples.any()


def test_a_layer_on_no_stem_is_refused() -> None:
    with pytest.raises(ValueError, match="no stem named music"):
        mix_shot([Layer("score", "music", level(0.1, 10))], count=10)


def test_a_step_at_a_cut_makes_no_click() -> None:
    # a DC level of +0.8 cut against -0.8, and a sine cut mid-cycle: unfaded, a jump of 1.6
    sine = Sound((0.8 * np.sin(np.arange(4_800) * 0.3))[:, None].repeat(2, 1).astype(np.float32))
    shots = [{"dialogue": level(0.8, 4_800)}, {"dialogue": level(-0.8, 4_800)}, {"dialogue": sine}]
    joined = join(shots, fade_ms=10)["dialogue"].samples[:, 0]
    assert joined.shape == (14_400,)                                   # every shot keeps its length: in sync
    fade = 480
    assert np.max(np.abs(np.diff(joined[:9_600]))) < 0.8 * np.pi / (2 * fade) + 1e-4
    assert np.max(np.abs(np.diff(joined))) <= 0.3 * 0.8 + 1e-3         # no bigger than the sine's own steps
    assert joined[4_000] == pytest.approx(0.8) and joined[5_500] == pytest.approx(-0.8)
    assert abs(joined[0]) < 0.01 and abs(joined[-1]) < 0.01


def test_join_fills_a_missing_stem_with_silence_and_mixdown_sums() -> None:
    joined = join([{"dialogue": level(0.5, 1_000)}, {"effects": level(0.25, 2_000)}], fade_ms=1)
    assert all(sound.count == 3_000 for sound in joined.values())
    mix = mixdown(joined)
    assert np.allclose(mix.samples, joined["dialogue"].samples + joined["effects"].samples)
    assert mix.samples[500, 0] == pytest.approx(0.5) and mix.samples[2_000, 0] == pytest.approx(0.25)


def test_room_tone_is_the_quietest_stretch_looped_without_clicks() -> None:
    loud, quiet = noise(0.3, RATE, 1), noise(0.01, RATE, 2)
    padded = np.concatenate([np.zeros((RATE, 2), np.float32), loud, quiet, loud])   # digital silence first
    tone = room_tone([Sound(padded), Sound(noise(0.2, RATE, 3))], seconds=3.5)
    assert tone is not None and tone.count == int(3.5 * RATE)
    blocks = tone.samples.reshape(-1, RATE // 20, 2)                  # 50 ms blocks
    rms = np.sqrt(np.mean(blocks.astype(np.float64) ** 2, axis=(1, 2)))
    assert np.all(np.abs(rms / 0.01 - 1) < 0.25)                    # the quiet noise all along: no dips, no bursts
    assert np.max(np.abs(np.diff(tone.samples[:, 0]))) < 0.01 * 10  # no click where the loop meets itself


def test_no_production_sound_means_no_room_tone() -> None:
    assert room_tone([], seconds=1) is None
    assert room_tone([Sound.silence(RATE)], seconds=1) is None
