"""Double-system sound: a recorder's WAV lined up with its plate, by timecode or else by waveform.

By timecode, as an NLE does: the plate's start timecode (the camera's ``tmcd``) and the WAV's BWF
``TimeReference`` (samples since midnight) are two readings of one clock, so the offset is exact to the
sample. Without timecode, the WAV is slid against the camera's own scratch sound (PluralEyes-style) and the
lag where they agree best is taken, but only when that agreement is clear: a sync that may be wrong is
refused with its confidence, never guessed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft

from soundstage.errors import MediaError
from soundstage.sound.track import RATE, Sound, samples_at
from soundstage.sound.wav import read_sound, read_timecode

DAY = 24 * 60 * 60
TIMECODE = re.compile(r"(\d{1,2})[:;.](\d{2})[:;.](\d{2})([:;.])(\d{2,3})")
SEARCH_S = 2.0           # how far either way a waveform sync looks, by default
LOBE_S = 0.0025          # the main peak's own width: the runner-up is looked for outside it
PHAT_BETA = 0.8          # spectral whitening's strength: 1 is pure GCC-PHAT, 0.8 keeps it steadier in noise


@dataclass(frozen=True)
class Timecode:
    """SMPTE ``HH:MM:SS:FF`` at ``fps``; ``;`` before the frames marks drop-frame (29.97 and 59.94 only)."""

    text: str
    fps: float

    @property
    def seconds(self) -> Fraction:
        """Real time since midnight: the frame count over the exact rate (30000/1001 for 29.97)."""
        match = TIMECODE.fullmatch(self.text.strip())
        if not match:
            raise ValueError(f"timecode {self.text!r} is not HH:MM:SS:FF")
        hours, minutes, secs, mark, frames = (int(g) if g not in ":;." else g for g in match.groups())
        nominal = round(self.fps)
        ntsc = abs(self.fps - nominal * 1000 / 1001) < 0.005
        if minutes > 59 or secs > 59 or frames >= nominal or hours > 23:
            raise ValueError(f"timecode {self.text!r} is out of range at {self.fps:g} fps")
        count = ((hours * 60 + minutes) * 60 + secs) * nominal + frames
        if mark != ":":
            if not ntsc or nominal not in (30, 60):
                raise ValueError(f"timecode {self.text!r} is drop-frame, which only 29.97 and 59.94 fps have")
            total_minutes = hours * 60 + minutes
            count -= nominal // 15 * (total_minutes - total_minutes // 10)
        rate = Fraction(nominal * 1000, 1001) if ntsc else Fraction(self.fps).limit_denominator(1001)
        return count / rate


@dataclass(frozen=True)
class Sync:
    """Where a recorder's sound lines up: ``offset_samples`` (at 48 kHz) is the recorder's sample that plays
    with the shot's first frame (negative: the recorder started after it), and how sure that is (0..1)."""

    method: Literal["timecode", "waveform"]
    offset_samples: int
    offset_ms: float
    confidence: float
    notes: tuple[str, ...] = field(default=())


def plate_timecode(plate: str | Path, fps: float) -> Timecode | None:
    """The plate's start timecode at its own ``fps``, or None when it carries none. One line for a bad one."""
    text = read_timecode(plate)
    if text is None:
        return None
    timecode = Timecode(text, fps)
    try:
        timecode.seconds  # noqa: B018 (parsed now, so a bad tag is said about the plate)
    except ValueError as exc:
        raise MediaError(str(exc), path=plate) from None
    return timecode


def timecode_offset(plate: Timecode, time_reference: int, rate: int) -> int:
    """The offset, in 48 kHz samples, of the plate's first frame into a WAV starting ``time_reference``
    samples (at its own ``rate``) after midnight; across midnight the nearer way round is taken."""
    seconds = (plate.seconds - Fraction(time_reference, rate)) % DAY
    if seconds > DAY / 2:
        seconds -= DAY
    return round(seconds * RATE)


def waveform_offset(recorder: Sound, scratch: Sound, *, search_s: float | None = SEARCH_S) -> tuple[float, float]:
    """(offset in 48 kHz samples, sub-sample; confidence 0..1) of ``scratch`` inside ``recorder``.

    The offset maximises the cross-correlation ``Σ recorder[n + offset] · scratch[n]``, computed by FFT with
    its spectrum whitened (GCC-PHAT, β = ``PHAT_BETA``) so the two microphones' different EQ and the
    room's colour do not blur the peak; a parabola through the peak and its neighbours gives the
    fraction of a sample. ``search_s`` bounds the offset either way (None: any that overlaps).

    Confidence is ``1 − runner_up / peak``: the runner-up is the highest correlation outside the main
    peak's lobe (±``LOBE_S``) within the search range. A unique match scores near 1; two places that fit
    about as well (noise, a repeated sound) score near 0 and are refused by the caller.
    """
    a, b = _mono(recorder), _mono(scratch)
    if not a.any() or not b.any():
        return 0.0, 0.0
    reach = a.shape[0] if search_s is None else samples_at(search_s)
    a = a[:b.shape[0] + reach]                                # only the part of the recorder the search reaches
    size = next_fast_len(a.shape[0] + b.shape[0])
    cross = rfft(a, size) * np.conj(rfft(b, size))
    cross /= np.maximum(np.abs(cross), 1e-12) ** PHAT_BETA
    corr = irfft(cross, size)
    lags = np.arange(-min(reach, b.shape[0] - 1), min(reach, a.shape[0] - 1) + 1)
    values = corr[lags % size]
    best = int(np.argmax(values))
    peak = float(values[best])
    lobe = samples_at(LOBE_S)
    outside = np.abs(lags - lags[best]) > lobe
    runner_up = float(values[outside].max()) if outside.any() else 0.0
    confidence = 0.0 if peak <= 0 else float(np.clip(1 - max(runner_up, 0.0) / peak, 0.0, 1.0))
    return float(lags[best]) + _vertex(values, best), confidence


def recorder_sound(wav: str | Path, plate_scratch: Sound | None, plate_timecode: Timecode | None, *,
                   fps: float, frames: int, min_confidence: float = 0.5,
                   search_s: float | None = SEARCH_S) -> tuple[Sound, Sync]:
    """A recorder's sound under the shot's ``frames`` at ``fps``, and how it was synced.

    By timecode when both the plate and the WAV carry one (a WAV whose span misses the plate's is refused in
    one line naming it); else by waveform against the plate's scratch sound, refused below
    ``min_confidence`` with the confidence found. A WAV that only partly covers the shot is padded, said so.
    """
    wav = Path(wav)
    heard = read_sound(wav)
    count = samples_at(frames / fps)
    notes = list(heard.notes)
    if plate_timecode is not None and heard.time_reference is not None:
        offset = timecode_offset(plate_timecode, heard.time_reference, heard.rate)
        if offset >= heard.sound.count or offset + count <= 0:
            raise MediaError(f"its timecode ({_clock(Fraction(heard.time_reference, heard.rate))}, "
                             f"{heard.sound.seconds:.1f} s) does not overlap its plate's "
                             f"({plate_timecode.text}, {count / RATE:.1f} s)", path=wav,
                             hint="check the recorder's timecode, or name the right WAV in shots.toml")
        sync = Sync("timecode", offset, offset / RATE * 1000, 1.0)
    elif plate_scratch is None:
        raise MediaError("cannot be synced: it or its plate has no timecode, and the plate has no sound to "
                         "match it by", path=wav, hint="record timecode, or keep the camera's scratch sound")
    else:
        exact, confidence = waveform_offset(heard.sound, plate_scratch, search_s=search_s)
        if confidence < min_confidence:
            raise MediaError(f"no clear match with its plate's sound (confidence {confidence:.2f}, under "
                             f"{min_confidence:g}); not synced", path=wav,
                             hint="sync it by timecode, or lower [sound] min_confidence after checking it")
        offset = round(exact)
        sync = Sync("waveform", offset, exact / RATE * 1000, confidence)
    missing = max(0, -offset) + max(0, offset + count - heard.sound.count)
    if missing:
        notes.append(f"recorder covers {(count - missing) / RATE:.2f} s of the shot's {count / RATE:.2f} s; "
                     "padded with silence")
    return heard.sound.span(offset, count), Sync(sync.method, sync.offset_samples, sync.offset_ms,
                                                 sync.confidence, tuple(notes))


def _mono(sound: Sound) -> np.ndarray:
    return sound.samples.astype(np.float64).mean(axis=1)


def _vertex(values: np.ndarray, at: int) -> float:
    """Where between samples a peak's top lies: the vertex of the parabola through it and its neighbours."""
    if at == 0 or at == values.shape[0] - 1:
        return 0.0
    left, mid, right = values[at - 1], values[at], values[at + 1]
    bend = left - 2 * mid + right
    return 0.0 if bend >= 0 else float(np.clip(0.5 * (left - right) / bend, -0.5, 0.5))


def _clock(seconds: Fraction) -> str:
    whole = math.floor(seconds) % DAY
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"
