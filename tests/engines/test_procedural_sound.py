"""The procedural engine's sound: deterministic WAV, labelled algorithmic, and it sounds like the thing.

Each test reads the samples written (decoded back with PyAV) and measures them: band energies from a Welch
spectrum, spectral flatness (white noise is ~1, a sound with a shape is far below), and the envelope.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from scipy import signal

from soundstage.engines import load_engine
from soundstage.engines.base import AssetKind, AssetRequest, SourceType, makes_sound
from soundstage.engines.procedural import ProceduralEngine
from soundstage.engines.procedural.sounds import SOUNDS, ambience
from soundstage.errors import EngineError
from soundstage.script.breakdown import element_table
from soundstage.sound import RATE, read_sound

SECONDS = 2.0


def sound_request(element: str | None, prompt: str = "", seed: int = 3, seconds: float = SECONDS) -> AssetRequest:
    return AssetRequest(kind=AssetKind.SOUND, prompt=prompt or (element or ""), width=0, height=0, seed=seed,
                        duration=seconds, element=element)


def made(tmp_path: Path, request: AssetRequest, name: str = "take") -> tuple[np.ndarray, Path]:
    out = tmp_path / name
    out.mkdir()
    generated = ProceduralEngine().generate(request, out)
    assert [p.name for p in generated.files] == ["sound.wav"]
    return read_sound(generated.files[0]).sound.samples, generated.files[0]


def band_share(x: np.ndarray, lo: float, hi: float) -> float:
    """The share of the power between ``lo`` and ``hi`` Hz (left channel)."""
    f, p = signal.welch(x[:, 0], fs=RATE, nperseg=4096)
    return float(p[(f >= lo) & (f < hi)].sum() / p.sum())


def flatness(x: np.ndarray) -> float:
    """Spectral flatness (geometric over arithmetic mean of the power spectrum), 20 Hz-20 kHz."""
    f, p = signal.welch(x[:, 0], fs=RATE, nperseg=4096)
    p = p[(f >= 20) & (f <= 20000)] + 1e-20
    return float(np.exp(np.mean(np.log(p))) / np.mean(p))


def rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x * x)) + 1e-12))


def test_a_sound_take_is_a_48k_24_bit_stereo_wav_of_the_shots_length(tmp_path: Path) -> None:
    _, path = made(tmp_path, sound_request("fire", seconds=1.5))
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.rate, stream.channels) == ("pcm_s24le", 48000, 2)
    samples, _ = made(tmp_path, sound_request("fire", seconds=1.5), "again")
    assert samples.shape == (72000, 2)


def test_same_seed_same_samples_and_another_seed_another_sound(tmp_path: Path) -> None:
    first, _ = made(tmp_path, sound_request("rain", seed=5), "a")
    again, _ = made(tmp_path, sound_request("rain", seed=5), "b")
    other, _ = made(tmp_path, sound_request("rain", seed=6), "c")
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_it_is_labelled_algorithmic_not_ai_and_costs_cpu_seconds(tmp_path: Path) -> None:
    engine = load_engine("procedural")
    out = tmp_path / "t"
    out.mkdir()
    generated = engine.generate(sound_request(None, "HANOK COURTYARD NIGHT"), out)
    assert generated.source_type == SourceType.ALGORITHMIC and not generated.source_type.is_ai
    assert generated.unit == "cpu_second"
    assert generated.parameters["stem"] == "ambience" and generated.parameters["rate"] == 48000
    assert engine.quote(sound_request("fire")).unit == "cpu_second"


@pytest.mark.parametrize("element", sorted(SOUNDS))
def test_no_sound_is_white_noise(tmp_path: Path, element: str) -> None:
    """White noise measures a flatness of ~0.9 here; every effect has a spectral shape well below it."""
    white = np.random.default_rng(0).standard_normal((int(SECONDS * RATE), 2))
    assert flatness(white) > 0.8
    samples, _ = made(tmp_path, sound_request(element))
    assert flatness(samples) < 0.3, element
    assert -40 < rms_db(samples) < -10 and np.abs(samples).max() <= 0.9


def test_fire_has_a_low_roar_and_a_crackle(tmp_path: Path) -> None:
    samples, _ = made(tmp_path, sound_request("fire"))
    assert band_share(samples, 20, 400) > 0.02          # the roar
    assert band_share(samples, 1000, 6000) > 0.4        # the crackle
    assert band_share(samples, 12000, 24000) < 0.01     # not hiss
    # crackle is impulsive: its peaks stand far above its level (white noise: ~12 dB)
    assert 20 * np.log10(np.abs(samples).max()) - rms_db(samples) > 15


def test_the_explosion_booms_low_at_the_start_and_dies_away(tmp_path: Path) -> None:
    samples, _ = made(tmp_path, sound_request("explosion", seconds=3.0))
    head, tail = samples[: RATE // 2], samples[2 * RATE:]
    assert band_share(head, 20, 250) > 0.6
    assert rms_db(head) - rms_db(tail) > 15


def test_rain_is_a_bright_wash_and_the_creature_a_low_voice(tmp_path: Path) -> None:
    rain, _ = made(tmp_path, sound_request("rain"), "rain")
    creature, _ = made(tmp_path, sound_request("creature"), "creature")
    smoke, _ = made(tmp_path, sound_request("smoke"), "smoke")
    assert band_share(rain, 1000, 12000) > 0.8
    assert band_share(creature, 80, 1200) > 0.7
    assert band_share(smoke, 20, 400) > 0.95


def test_ambience_layers_follow_the_settings_words() -> None:
    count = RATE
    assert ambience("HANOK COURTYARD NIGHT", count, 1)[1] == ["air", "night", "courtyard"]
    assert ambience("한옥 마당 밤", count, 1)[1] == ["air", "night", "courtyard"]
    assert ambience("DESERT ROAD DAY", count, 1)[1] == ["air", "desert"]
    assert "sea" in ambience("바닷가 새벽", count, 1)[1]
    assert "mountains" in ambience("MOUNTAIN PASS DUSK", count, 1)[1]
    assert "birds" in ambience("HANOK COURTYARD DAY", count, 1)[1]      # birds by day, crickets at night
    night, layers = ambience("HANOK COURTYARD NIGHT", count, 1)
    assert "birds" not in layers
    assert band_share(night.samples, 3800, 5600) > 0.1                 # the crickets' chirps


def test_the_engine_says_which_elements_it_makes_sound_for() -> None:
    engine = ProceduralEngine()
    assert makes_sound(engine, "fire") and makes_sound(engine, "불") and makes_sound(engine, None)
    assert not makes_sound(engine, "snow") and not makes_sound(engine, "lantern")
    silent = {item["name"] for item in element_table()["element"]} - set(SOUNDS)
    assert silent == {"snow", "lantern", "sword", "fall"}
    with pytest.raises(EngineError, match="no sound for the element 'snow'"):
        engine.quote(sound_request("snow"))
    with pytest.raises(EngineError, match="positive duration"):
        engine.quote(sound_request("fire", seconds=0))
