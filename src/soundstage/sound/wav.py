"""Sound files in and out through PyAV (FFmpeg): any audio stream read at 48 kHz stereo, BWF WAV written.

BWF (EBU Tech 3285) is a WAV with a ``bext`` chunk whose ``TimeReference`` is the file's start as a count of
samples since midnight: the recorder's timecode, and what an editor's NLE lines a stem up by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from soundstage.atomic import atomic_path
from soundstage.errors import MediaError
from soundstage.sound.track import CHANNELS, RATE, Sound

LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}


@dataclass(frozen=True)
class Heard:
    """A file's sound at :data:`RATE` stereo, and what was converted on the way in (said to the user)."""

    sound: Sound
    rate: int                       # the file's own rate
    channels: int                   # and its own channel count
    codec: str
    time_reference: int | None      # BWF: its first sample's count since midnight, at ``rate``; None if untimed
    notes: list[str] = field(default_factory=list)
    start: float = 0.0              # its first sample's time on the file's own clock, seconds (a stream's start)
    streams: int = 1                # how many audio streams the file has (only ``stream`` was read)


def read_sound(path: str | Path, *, stream: int = 0, since: float | None = None,
               until: float | None = None) -> Heard:
    """Decode the file's ``stream``-th audio stream, resampled (libswresample) to 48 kHz stereo.

    ``since``/``until`` (seconds on the file's clock) skip the packets wholly outside that range, so a shot
    of a long take does not hold the whole take's sound; ``Heard.start`` says where the first sample kept
    falls, for the caller to cut exactly. One line naming the file for: no audio stream, a codec FFmpeg
    cannot decode, a corrupt stream.
    """
    path = Path(path)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot be read as sound: {_reason(exc)}", path=path) from None
    with container:
        if len(container.streams.audio) <= stream:
            raise MediaError("has no sound (no audio stream)", path=path)
        audio = container.streams.audio[stream]
        streams = len(container.streams.audio)
        if audio.codec_context is None:
            raise MediaError("its audio is in a codec FFmpeg cannot read", path=path,
                             hint="export it as PCM WAV (BWF) from the recorder's software")
        codec = audio.codec_context.name
        rate, channels = int(audio.rate or 0), int(audio.channels or 0)
        if not rate or not channels:
            raise MediaError(f"its audio stream ({codec}) cannot be read: no rate or channels", path=path)
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
        parts: list[np.ndarray] = []
        start: float | None = None
        try:
            for frame in container.decode(audio):
                at = float(frame.time) if frame.time is not None else None
                if at is not None and since is not None and at + frame.samples / rate < since:
                    continue
                if at is not None and until is not None and at > until:
                    break
                if start is None:
                    start = at if at is not None else 0.0
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray())
            for out in resampler.resample(None):
                parts.append(out.to_ndarray())
        except (av.error.FFmpegError, ValueError) as exc:
            raise MediaError(f"its audio stream ({codec}) is damaged: {_reason(exc)}", path=path) from None
        reference = container.metadata.get("time_reference")
    samples = np.concatenate(parts, axis=1).T.astype(np.float32, copy=False) if parts else \
        np.zeros((0, CHANNELS), np.float32)
    notes = []
    if rate != RATE:
        notes.append(f"{rate / 1000:g} kHz resampled to {RATE / 1000:g} kHz")
    if channels != CHANNELS:
        notes.append(f"{LAYOUTS.get(channels, f'{channels} channels')} mixed to stereo")
    return Heard(Sound(np.ascontiguousarray(samples)), rate, channels, codec,
                 int(reference) if reference and reference.isdigit() else None, notes,
                 start or 0.0, streams)


def write_bwf(path: str | Path, sound: Sound, *, time_reference: int = 0, description: str = "") -> Path:
    """Write 48 kHz 24-bit stereo BWF, atomically; ``time_reference``: its start, samples since midnight."""
    path = Path(path)
    with atomic_path(path) as tmp, av.open(str(tmp), "w", format="wav", options={"write_bext": "1"}) as container:
        container.metadata["time_reference"] = str(int(time_reference))
        container.metadata["encoded_by"] = "soundstage"      # the bext chunk's Originator
        if description:
            container.metadata["comment"] = description[:256]  # its Description (256 bytes)
        stream = container.add_stream("pcm_s24le", rate=RATE, layout="stereo")
        if sound.count:
            planar = np.ascontiguousarray(np.clip(sound.samples, -1.0, 1.0).T)
            frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout="stereo")
            frame.rate = RATE
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def read_timecode(path: str | Path) -> str | None:
    """The start timecode a camera file carries (FFmpeg's ``timecode`` tag on the container or any of its
    streams: MOV/MP4's tmcd track, MXF's material package), as written: ``HH:MM:SS:FF`` or ``HH:MM:SS;FF``."""
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            tags = [container.metadata, *(s.metadata for s in container.streams)]
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot be read: {_reason(exc)}", path=path) from None
    return next((str(t["timecode"]) for t in tags if t.get("timecode")), None)


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc).strip() or type(exc).__name__
