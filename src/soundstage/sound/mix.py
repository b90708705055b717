"""Layers to stems, shots to the cut, stems to the mix: sums and gains, with fades where shots meet.

Each stem (dialogue, effects, ambience) is the sum of its layers, so the three stems add up to the mix
sample for sample: what a re-recording mixer hands on, and what lets the loudness gain apply to all alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from soundstage.records.settings import STEMS
from soundstage.sound.track import CHANNELS, Sound, samples_at


@dataclass(frozen=True)
class Layer:
    """One sound in a shot (the plate's, a recorder's, an element's take), the stem it goes to, its gain."""

    name: str
    stem: str
    sound: Sound
    gain_db: float = 0.0


def gain(db: float) -> float:
    """dB to a factor on samples."""
    return float(10.0 ** (db / 20.0))


def mix_shot(layers: Sequence[Layer], count: int) -> dict[str, Sound]:
    """Every stem of one shot, ``count`` samples long: its layers cut or padded to the shot, gained, summed.
    Each of :data:`STEMS` is there (silence where no layer goes), so shots join stem by stem."""
    unknown = sorted({layer.stem for layer in layers} - set(STEMS))
    if unknown:
        raise ValueError(f"no stem named {', '.join(unknown)}: the stems are {', '.join(STEMS)}")
    stems = {stem: np.zeros((max(0, count), CHANNELS), np.float32) for stem in STEMS}
    for layer in layers:
        stems[layer.stem] += layer.sound.span(0, count).samples * np.float32(gain(layer.gain_db))
    return {stem: Sound(samples) for stem, samples in stems.items()}


def join(shots: Sequence[Mapping[str, Sound]], fade_ms: float) -> dict[str, Sound]:
    """The shots' stems end to end, each shot faded in and out over ``fade_ms`` inside its own length.

    Fading inside each shot (not overlapping them) keeps every shot's sound on its own frames, so the cut
    stays in sync; a raised-cosine fade takes a step at a cut down to steps of at most
    ``π·step / (2·fade samples)``, well under a click.
    """
    parts: dict[str, list[np.ndarray]] = {stem: [] for stem in STEMS}
    for shot in shots:
        count = max((sound.count for sound in shot.values()), default=0)
        for stem in STEMS:
            sound = shot.get(stem, Sound.silence(count))
            parts[stem].append(_faded(sound.span(0, count).samples, samples_at(fade_ms / 1000)))
    return {stem: Sound(np.concatenate(chunks) if chunks else np.zeros((0, CHANNELS), np.float32))
            for stem, chunks in parts.items()}


def mixdown(stems: Mapping[str, Sound]) -> Sound:
    """The stems summed: the mix (no limiter here; the loudness step keeps its peaks under the ceiling)."""
    sounds = list(stems.values())
    count = max((sound.count for sound in sounds), default=0)
    out = np.zeros((count, CHANNELS), np.float32)
    for sound in sounds:
        out[:sound.count] += sound.samples
    return Sound(out)


def _faded(samples: np.ndarray, fade: int) -> np.ndarray:
    fade = min(fade, samples.shape[0] // 2)
    if fade < 1:
        return samples.copy()
    ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)).astype(np.float32)[:, None]
    out = samples.copy()
    out[:fade] *= ramp
    out[-fade:] *= ramp[::-1]
    return out
