"""Where people speak in a sound: WebRTC's voice-activity detector (``webrtcvad``), frame by frame.

The detector hears 10, 20 or 30 ms frames of 16-bit mono at 8/16/32/48 kHz and says voiced or not. A spoken
line has short pauses inside it (stops, breaths), so voiced frames closer than :data:`JOIN` are one span, and
a voiced blip shorter than :data:`LEAST` (a door, a clap) is dropped. The detector holds "voiced" for a few
frames after speech ends (its own hangover) and guesses while it learns the noise in the first frames, so each
span's edges are then moved to where its level is within :data:`RANGE` of its loudest 10 ms, and a span
nowhere louder than :data:`FLOOR` (hiss, far below any dialogue) is dropped. Subtitles time their lines to these
spans; the mix gates its dialogue loudness on them.
"""

from __future__ import annotations

import numpy as np
import webrtcvad
from scipy.signal import resample_poly

from soundstage.sound.track import RATE, Sound

VAD_RATE = 16_000        # the detector's rate: speech's band, and a third of RATE (an exact polyphase step)
FRAME = 0.03             # seconds a frame: the longest the detector takes, the steadiest verdicts
JOIN = 0.3               # a pause shorter than this is inside a line, not between two
LEAST = 0.2              # a voiced stretch shorter than this is not speech (a slate's clap measures 0.18 s)
BLOCK = 0.01             # seconds of the level measured to place a span's edges
RANGE = 30.0             # dB below a span's loudest block that still counts as its speech
FLOOR = -50.0            # dBFS: a span whose loudest block is quieter is noise


def speech_spans(sound: Sound, *, aggressiveness: int = 2) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech in ``sound``, in order.

    ``aggressiveness`` 0..3 is the detector's own: higher drops more noise and more quiet speech.
    """
    if not 0 <= aggressiveness <= 3:
        raise ValueError(f"aggressiveness is 0..3, not {aggressiveness}")
    if sound.count == 0:
        return []
    mono = sound.samples.mean(axis=1, dtype=np.float64)
    heard = resample_poly(mono, VAD_RATE, RATE)
    pcm = (np.clip(heard, -1.0, 1.0) * 32767).round().astype("<i2")
    step = round(VAD_RATE * FRAME)
    detector = webrtcvad.Vad(aggressiveness)
    voiced = [detector.is_speech(pcm[start:start + step].tobytes(), VAD_RATE)
              for start in range(0, len(pcm) - step + 1, step)]
    spans: list[list[float]] = []
    for index, speaking in enumerate(voiced):
        if not speaking:
            continue
        start, end = index * FRAME, (index + 1) * FRAME
        if spans and start - spans[-1][1] < JOIN:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [edges for start, end in spans if (edges := _edges(heard, start, end)) and edges[1] - edges[0] >= LEAST]


def _edges(heard: np.ndarray, start: float, end: float) -> tuple[float, float] | None:
    """The span's start and end moved in to its first and last 10 ms within :data:`RANGE` of its loudest;
    None when even its loudest is under :data:`FLOOR`."""
    size = round(VAD_RATE * BLOCK)
    first, last = round(start / BLOCK), round(end / BLOCK)
    blocks = heard[first * size:last * size]
    blocks = blocks[:len(blocks) // size * size].reshape(-1, size)
    if not len(blocks):
        return None
    level = 10 * np.log10(np.mean(blocks * blocks, axis=1) + 1e-12)
    if level.max() < FLOOR:
        return None
    loud = np.flatnonzero(level >= level.max() - RANGE)
    return round(float(first + loud[0]) * BLOCK, 3), round(float(first + loud[-1] + 1) * BLOCK, 3)
