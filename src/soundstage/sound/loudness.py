"""Delivery loudness (ITU-R BS.1770-4): measure, normalise the stems with one gain, keep true peaks under a ceiling.

Two independent meters, so a figure is never checked by the code that made it: pyloudnorm (the one
:func:`normalise` steers by) and FFmpeg's ``ebur128`` filter run through PyAV (:func:`ebur128`).
Dialogue-gated loudness (Netflix's -27) is measured over the spans where someone speaks, which the caller
finds (voice-activity detection lives with the subtitles) and hands in as ``(start_s, end_s)`` pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from soundstage.sound.mix import gain, mixdown
from soundstage.sound.track import RATE, Sound, samples_at

Speech = Sequence[tuple[float, float]]
OVERSAMPLE = 4               # BS.1770-4 Annex 2: true peak from the signal 4× oversampled (at 48 kHz)
CHUNK = 1 << 20              # true peak is found a million samples at a time: a feature does not fit 4× over
EDGE = 64                    # samples each side of a chunk, so the resampler's filter sees its neighbours
HOLD_S = 0.02                # the limiter's look-ahead and hold: its gain moves over 40 ms, never a click
MARGIN_DB = 0.1              # the limiter aims this far under the ceiling: its own gain changes move peaks
TOLERANCE_LU = 0.1           # normalise stops when the limited mix is this close to the target


@dataclass(frozen=True)
class Normalised:
    """What :func:`normalise` did: the gain on every stem, and the mix's loudness and true peak after it."""

    gain_db: float
    loudness: float              # LUFS, integrated (over the dialogue when ``dialogue_gated``)
    true_peak: float             # dBTP
    limited: bool                # the true-peak limiter had to act (its gain is on every stem alike)
    dialogue_gated: bool         # measured over the speech spans (False: none given, or under 0.4 s of them)


def integrated(sound: Sound, speech: Speech | None = None) -> float:
    """Integrated loudness, LUFS (pyloudnorm, BS.1770-4 K-weighting and gating); over ``speech`` spans only
    when given. ``-inf`` for silence or under one 400 ms gating block of sound."""
    samples = _spoken(sound, speech).astype(np.float64)
    meter = pyloudnorm.Meter(RATE)
    if samples.shape[0] < samples_at(meter.block_size):
        return -math.inf
    return float(meter.integrated_loudness(samples))


def true_peak(sound: Sound) -> float:
    """True peak, dBTP: the highest sample of the 4× oversampled signal (BS.1770-4 Annex 2, with scipy's
    polyphase resampler), on any channel. ``-inf`` for silence."""
    peak = float(_envelope(sound.samples).max(initial=0.0))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def normalise(stems: Mapping[str, Sound], *, target_lufs: float, ceiling_dbtp: float,
              speech: Speech | None = None) -> tuple[dict[str, Sound], Normalised]:
    """The stems gained alike so their mix measures ``target_lufs``, then limited alike so its true peak
    stays at or under ``ceiling_dbtp``.

    One gain, and one limiter gain curve computed on the mix, go on every stem, so the stems still sum to
    the mix. Limiting lowers the loudness, so the gain is raised and the limiter run again until the limited
    mix is within ``TOLERANCE_LU`` of the target (a few rounds; material too peaky to get there ends nearer
    than it started, and ``Normalised.loudness`` says where).
    """
    mix = mixdown(stems).samples.astype(np.float64)
    gated = bool(speech) and math.isfinite(integrated(Sound(mix.astype(np.float32)), speech))
    spans = speech if gated else None
    level = integrated(Sound(mix.astype(np.float32)), spans)
    if not math.isfinite(level):
        return dict(stems), Normalised(0.0, level, true_peak(mixdown(stems)), False, gated)
    gain_db, scale, aim = target_lufs - level, np.ones(0), target_lufs - level
    for _ in range(6):
        gain_db = aim
        scale = _limiter(mix * gain(gain_db), ceiling_dbtp - MARGIN_DB) * gain(gain_db)
        level = integrated(Sound((mix * scale[:, None]).astype(np.float32)), spans)
        if abs(level - target_lufs) <= TOLERANCE_LU or scale.max() == scale.min():   # met, or nothing limited
            break
        aim += target_lufs - level
    out = Sound((mix * scale[:, None]).astype(np.float32))
    done = {stem: Sound((sound.samples * scale[:sound.count, None]).astype(np.float32))
            for stem, sound in stems.items()}
    limited = bool(scale.min() < gain(gain_db) * (1 - 1e-9))
    return done, Normalised(gain_db, level, true_peak(out), limited, gated)


def ebur128(sound: Sound, speech: Speech | None = None) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) by FFmpeg's ``ebur128`` filter (peak=true), run through a PyAV filter
    graph: the second meter, independent of pyloudnorm and of :func:`true_peak`."""
    samples = _spoken(sound, speech)
    graph = av.filter.Graph()
    source = graph.add_abuffer(format="fltp", sample_rate=RATE, layout="stereo", time_base=Fraction(1, RATE))
    meter = graph.add("ebur128", "metadata=1:peak=true")
    sink = graph.add("abuffersink")
    source.link_to(meter)
    meter.link_to(sink)
    graph.configure()
    last: dict[str, str] = {}
    for at in range(0, samples.shape[0], 4_800):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[at:at + 4_800].T), format="fltp",
                                           layout="stereo")
        frame.rate, frame.pts = RATE, at
        graph.push(frame)
        last = _drain(graph, last)
    graph.push(None)
    last = _drain(graph, last)
    peak = float(last.get("lavfi.r128.true_peak", 0.0))
    return float(last.get("lavfi.r128.I", -math.inf)), 20 * math.log10(peak) if peak > 0 else -math.inf


def _drain(graph: av.filter.Graph, last: dict[str, str]) -> dict[str, str]:
    while True:
        try:
            last = dict(graph.pull().metadata)
        except (av.error.BlockingIOError, av.error.EOFError):
            return last


def _spoken(sound: Sound, speech: Speech | None) -> np.ndarray:
    """The samples inside the speech spans, end to end (all of them when no spans are given)."""
    if speech is None:
        return sound.samples
    parts = [sound.samples[max(0, samples_at(start)):max(0, samples_at(end))] for start, end in speech]
    return np.concatenate(parts) if parts else sound.samples[:0]


def _envelope(samples: np.ndarray) -> np.ndarray:
    """Per sample, the highest magnitude the 4× oversampled signal reaches over it, on any channel."""
    count = samples.shape[0]
    out = np.zeros(count, np.float64)
    for at in range(0, count, CHUNK):
        lo, hi = max(0, at - EDGE), min(count, at + CHUNK + EDGE)
        over = np.abs(resample_poly(samples[lo:hi].astype(np.float64), OVERSAMPLE, 1, axis=0)).max(axis=1)
        over = over[(at - lo) * OVERSAMPLE:(min(count, at + CHUNK) - lo) * OVERSAMPLE]
        out[at:at + over.shape[0] // OVERSAMPLE] = over.reshape(-1, OVERSAMPLE).max(axis=1)
    return out


def _limiter(mix: np.ndarray, ceiling_dbtp: float) -> np.ndarray:
    """A gain per sample (1 where nothing needs it) that keeps ``mix``'s true peak under the ceiling.

    The gain each sample needs is found on the 4× oversampled envelope, held as a minimum over ±``HOLD_S``
    and averaged over the same width: the average of minima that all include a peak is at most that
    peak's gain, so every peak is caught (look-ahead), and the gain moves smoothly (no distortion click).
    """
    ceiling = gain(ceiling_dbtp)
    envelope = _envelope(mix)
    if envelope.max(initial=0.0) <= ceiling:
        return np.ones(mix.shape[0])
    need = np.minimum(1.0, ceiling / np.maximum(envelope, 1e-12))
    width = 2 * samples_at(HOLD_S) + 1
    curve = uniform_filter1d(minimum_filter1d(need, width, mode="nearest"), width, mode="nearest")
    return np.asarray(np.minimum(curve, 1.0))
