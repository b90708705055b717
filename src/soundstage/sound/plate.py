"""A shot's production sound: the part of its plate's audio that plays under the shot's frames.

The shot's first frame is the plate's first video frame, so the sound is cut from the picture's start on the
plate's clock, not from the audio stream's own start: cameras and muxers start the two a few milliseconds
apart (AAC priming, a late audio packet), and an editor lines them up by their timestamps, as this does.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from scipy.signal import resample_poly

from soundstage.errors import MediaError
from soundstage.sound.track import RATE, Sound, exact_rate, samples_at
from soundstage.sound.wav import Heard, read_sound

Retime = Literal["resample", "refuse"]
# How the picture was conformed to the project's rate: "drop-repeat" keeps the plate's real time (frame k at
# k / fps shows the plate's frame nearest that time, as media.conform_rate does); "speed" plays each plate
# frame as one project frame, so the plate runs faster or slower and its sound must be resampled to follow.
Conform = Literal["drop-repeat", "speed"]
HEARD_MS = 0.5       # a gap shorter than this is rounding, not worth a note
# An overrun under one codec frame (AAC's 1024 samples: 21.3 ms at 48 kHz) is the encoder's padding of its last
# frame, which every AAC file has; only more than that is sound the camera kept past its picture.
PADDING_MS = 1024 / 44_100 * 1000


def plate_sound(plate: str | Path, *, fps: float, frames: int, plate_fps: float | None = None,
                retime: Retime = "resample", conform: Conform = "drop-repeat", stream: int = 0) -> Heard | None:
    """The plate's sound under the shot's ``frames`` at ``fps``, at 48 kHz stereo; None when it has none.

    A plate at another rate (``plate_fps``) is refused with ``retime="refuse"`` (one line), rather than
    risking sound out of sync; else its sound follows the picture: at real time under ``drop-repeat``,
    resampled by plate_fps/fps (scipy's polyphase resampler) under ``speed``. Sound that starts late or ends
    short is padded with silence; every conversion and pad is said in ``notes``.
    """
    plate = Path(plate)
    start, picture, audible = _clock(plate)
    if not audible:
        return None
    retimed = plate_fps is not None and abs(plate_fps - fps) > 0.01
    if retimed and retime == "refuse":
        raise MediaError(f"plate runs at {plate_fps:g} fps and the project at {fps:g} fps; its sound is not "
                         "retimed ([sound] retime = 'refuse')", path=plate,
                         hint="conform the plate, or set [sound] retime = 'resample' in soundstage.toml")
    speed = exact_rate(plate_fps) / exact_rate(fps) if plate_fps and retimed and conform == "speed" \
        else Fraction(1)
    seconds = frames / fps * float(speed)            # how much of the plate's clock the shot plays
    heard = read_sound(plate, stream=stream, since=start - 0.05, until=start + seconds + 0.05)
    count = samples_at(seconds)
    offset = samples_at(start - heard.start)
    sound = heard.sound.span(offset, count)
    notes = list(heard.notes)
    if heard.streams > 1:
        notes.append(f"audio stream {stream + 1} of {heard.streams} used")
    notes += _gaps(offset, count, heard.sound.count, end=None if picture is None else samples_at(picture - heard.start))
    if speed != 1:
        sound = _stretch(sound, speed, samples_at(frames / fps))
        notes.append(f"sound resampled by {float(speed):.5g} to follow the plate's {plate_fps:g} fps "
                     f"played at {fps:g} fps")
    elif retimed:
        notes.append(f"picture retimed from {plate_fps:g} to {fps:g} fps by dropping or repeating frames; "
                     "its sound kept at real time")
    return replace(heard, sound=sound, notes=notes, start=start)


def _gaps(offset: int, count: int, have: int, *, end: int | None) -> list[str]:
    """What the shot's span found missing (padded) or the plate's sound found running past its picture."""
    notes = []
    late, short = max(0, -offset), max(0, offset + count - have)
    if late + short > RATE * HEARD_MS / 1000:
        notes.append(f"sound is {(late + short) / RATE * 1000:.1f} ms shorter than the picture the shot uses; "
                     "padded with silence")
    if end is not None and have - end > RATE * PADDING_MS / 1000 and offset + count >= end - 1:
        notes.append(f"sound runs {(have - end) / RATE * 1000:.1f} ms past the picture; trimmed")
    return notes


def _stretch(sound: Sound, speed: Fraction, count: int) -> Sound:
    """``sound`` resampled so it lasts ``speed`` times as long, exactly ``count`` samples."""
    up, down = speed.numerator, speed.denominator
    out = resample_poly(sound.samples.astype(np.float64), up, down, axis=0)
    return Sound(out.astype(np.float32)).span(0, count)


def _clock(plate: Path) -> tuple[float, float | None, bool]:
    """The plate's first video frame's time on its own clock, where its picture ends (None: unknown), and
    whether it has sound at all."""
    try:
        with av.open(str(plate)) as container:
            audible = bool(container.streams.audio)
            if not container.streams.video:
                return 0.0, None, audible
            video = container.streams.video[0]
            base = video.time_base or Fraction(1, 1)
            start = float(video.start_time * base) if video.start_time is not None else None
            if start is None:
                frame = next(container.decode(video), None)
                start = float(frame.time) if frame is not None and frame.time is not None else 0.0
            length = float(video.duration * base) if video.duration else None
            if length is None and video.frames and video.average_rate:
                length = video.frames / float(video.average_rate)
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot be read: {exc}", path=plate) from None
    return start, None if length is None else start + length, audible
