"""The small test clip the media tests share: a red bar growing 2 px a frame over textured black."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from soundstage.media import VideoWriter

W, H = 128, 72


def plate(index: int) -> np.ndarray:
    rng = np.random.default_rng(index)
    frame = np.zeros((H, W, 3), np.uint8)
    frame[:, : 8 + index * 2] = (200, 40, 40)
    frame[::2] += rng.integers(0, 30, (H // 2, W, 3), dtype=np.uint8)
    return frame


def write_clip(path: Path, frames: int) -> Path:
    """``frames`` of ``plate`` as H.264 at 24 fps."""
    with VideoWriter(path, width=W, height=H, fps=24) as writer:
        for index in range(frames):
            writer.write(plate(index))
    return path


def half_written_mp4(folder: Path) -> Path:
    """The first half of an MP4 whose index (moov) comes at the end, as cameras write it: a card pulled early."""
    whole = folder / "whole.mp4"
    with av.open(str(whole), mode="w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for index in range(24):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(plate(index), format="rgb24")))
        container.mux(stream.encode(None))
    path = folder / "half.mp4"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return path


def click_track(frames: int, fps: Fraction, at: int, rate: int = 48_000) -> np.ndarray:
    """``frames`` of silence at ``fps`` with a 1 ms click (both sides, 0.9) starting exactly on frame ``at``."""
    samples = np.zeros((round(frames * rate / fps), 2), np.float32)
    start = round(at * rate / fps)
    samples[start:start + rate // 1000] = 0.9
    return samples


@dataclass(frozen=True)
class Decoded:
    """A movie's first sound stream as a player hears it: PyAV decodes it and places it by its timestamps."""

    start: float            # the first decoded sample's time, from its frame's pts × time_base
    samples: np.ndarray     # (count, channels) float32, decoded frames laid end to end from there
    rate: int
    picture_start: float    # the first decoded picture frame's time
    codec: str
    bit_rate: int           # the stream's, as its header says

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / self.rate

    def first_above(self, level: float) -> float:
        """The time of the first sample louder than ``level``."""
        loud = np.nonzero(np.abs(self.samples).max(axis=1) > level)[0]
        assert len(loud), f"nothing above {level}"
        return self.start + loud[0] / self.rate


def decode_sound(path: Path) -> Decoded:
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        parts, start, expected = [], None, None
        for frame in container.decode(audio):
            at = round(frame.pts * frame.time_base * frame.rate)
            assert expected is None or at == expected, f"gap or overlap at sample {at}, not {expected}"
            start = frame.pts * frame.time_base if start is None else start
            expected = at + frame.samples
            parts.append(_as_float(frame))
        rate, codec, bit_rate = audio.rate, audio.codec_context.name, audio.bit_rate or 0
        container.seek(0)
        first = next(container.decode(container.streams.video[0]))
    return Decoded(float(start), np.concatenate(parts).astype(np.float32), rate,
                   float(first.pts * first.time_base), codec, bit_rate)


def _as_float(frame: av.AudioFrame) -> np.ndarray:
    """A decoded frame as (count, channels) float: AAC decodes to planar float, PCM to packed integers."""
    samples = frame.to_ndarray()
    samples = samples.T if frame.format.is_planar else samples.reshape(frame.samples, -1)
    if samples.dtype.kind == "i":
        samples = samples / float(1 << (8 * samples.dtype.itemsize - 1))
    return samples
