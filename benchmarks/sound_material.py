"""Sound material the sound benchmarks and tests share: speech-like sound, and small camera files and
recorder WAVs written for real through PyAV (no synthesiser, nothing downloaded)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

LAYOUT = {1: "mono", 2: "stereo", 6: "5.1"}


def click(count: int, at: int, channels: int = 2, level: float = 0.8) -> np.ndarray:
    """``count`` samples of silence with one full sample at ``at``: where it lands shows where time went."""
    out = np.zeros((count, channels), np.float32)
    out[at] = level
    return out


def speechlike(seconds: float, rate: int = 48_000, seed: int = 0) -> np.ndarray:
    """Mono bursts of voiced sound (a 90–220 Hz pulse train through two resonances), with pauses: what a
    line of dialogue looks like to a correlator or a loudness meter, without a synthesiser."""
    rng = np.random.default_rng(seed)
    count = int(seconds * rate)
    out = np.zeros(count, np.float64)
    at = int(rng.uniform(0.05, 0.2) * rate)
    while at < count:
        length = int(rng.uniform(0.15, 0.6) * rate)
        pitch = rng.uniform(90, 220)
        t = np.arange(length) / rate
        phase = 2 * np.pi * np.cumsum(np.full(length, pitch) * (1 + 0.1 * np.sin(2 * np.pi * 3 * t)) / rate)
        voice = sum(np.sin(k * phase) / k for k in range(1, 25))
        formant = rng.uniform(300, 900)
        voice *= 0.5 + 0.5 * np.sin(2 * np.pi * formant / 600 * t)
        voice += 0.2 * rng.standard_normal(length)              # breath, consonants
        envelope = np.sin(np.pi * np.arange(length) / length) ** 0.5
        end = min(count, at + length)
        out[at:end] += (voice * envelope)[: end - at] * rng.uniform(0.05, 0.3)
        at = end + int(rng.uniform(0.05, 0.5) * rate)
    return out.astype(np.float32)


def write_plate(path: Path, *, fps: float = 25, frames: int = 25, sound: np.ndarray | None = None,
                rate: int = 48_000, codec: str = "pcm_s16le", sound_start: float = 0.0,
                timecode: str | None = None, corrupt: bool = False) -> Path:
    """A 64×36 camera file: ``frames`` of picture at ``fps`` and, if given, ``sound`` ((count, channels) float)
    starting ``sound_start`` seconds after the first frame, with a start ``timecode`` tag; ``corrupt`` muxes
    packets of noise for the audio stream instead of encoded sound."""
    with av.open(str(path), "w") as container:
        if timecode:
            container.metadata["timecode"] = timecode
        video = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        video.width, video.height, video.pix_fmt = 64, 36, "yuv420p"
        audio = None
        if sound is not None:
            audio = container.add_stream(codec, rate=rate, layout=LAYOUT[sound.shape[1]])
        for index in range(frames):
            picture = np.full((36, 64, 3), index * 7 % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1) / video.codec_context.framerate
            container.mux(video.encode(frame))
        if audio is not None and corrupt:
            rng = np.random.default_rng(1)
            for index in range(40):
                packet = av.Packet(rng.integers(0, 256, 300, dtype=np.uint8).tobytes())
                packet.stream, packet.pts, packet.dts = audio, index * 1024, index * 1024
                packet.time_base = Fraction(1, rate)
                container.mux(packet)
        elif audio is not None:
            step = 1024
            offset = round(sound_start * rate)
            planar = np.ascontiguousarray(sound.T.astype(np.float32))
            for at in range(0, planar.shape[1], step):
                part = np.ascontiguousarray(planar[:, at:at + step])
                frame = av.AudioFrame.from_ndarray(part, format="fltp", layout=LAYOUT[sound.shape[1]])
                frame.rate, frame.pts, frame.time_base = rate, offset + at, Fraction(1, rate)
                container.mux(audio.encode(frame))
            container.mux(audio.encode(None))
        container.mux(video.encode(None))
    return path


def write_wav(path: Path, sound: np.ndarray, *, rate: int = 48_000, codec: str = "pcm_s24le",
              time_reference: int | None = None) -> Path:
    """A recorder's file: ``sound`` at its own ``rate``, with a BWF ``time_reference`` if given."""
    fmt = "wav" if codec.startswith("pcm") else None
    options = {"write_bext": "1"} if time_reference is not None else {}
    with av.open(str(path), "w", format=fmt, options=options) as container:
        if time_reference is not None:
            container.metadata["time_reference"] = str(time_reference)
        stream = container.add_stream(codec, rate=rate, layout=LAYOUT[sound.shape[1]])
        planar = np.ascontiguousarray(sound.T.astype(np.float32))
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=LAYOUT[sound.shape[1]])
        frame.rate, frame.pts = rate, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
