"""Video in and out through PyAV, one frame at a time, so memory stays flat whatever a shot's length."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from soundstage.atomic import atomic_path
from soundstage.errors import MediaError


@dataclass(frozen=True, slots=True)
class VideoInfo:
    width: int
    height: int
    fps: Fraction
    frames: int          # counted from the container's metadata; 0 when it does not say
    duration: float      # seconds


def as_rate(fps: float) -> Fraction:
    """24 → 24/1, 23.976 → 24000/1001: the rational rates editors and codecs expect."""
    return Fraction(fps).limit_denominator(1001)


def _open(path: Path) -> av.container.InputContainer:
    if not path.is_file():
        raise MediaError("no such file", path=path)
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, ValueError) as exc:
        raise MediaError(f"not a readable video ({_reason(exc)})", path=path) from None


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc).splitlines()[0]


def probe(path: str | Path) -> VideoInfo:
    path = Path(path)
    with _open(path) as container:
        if not container.streams.video:
            raise MediaError("has no video stream", path=path)
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        if not rate or not stream.codec_context.width:
            raise MediaError("has no usable video stream (unknown size or frame rate)", path=path)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        else:
            duration = 0.0
        return VideoInfo(
            stream.codec_context.width, stream.codec_context.height, Fraction(rate), stream.frames, duration
        )


def read_frames(path: str | Path) -> Iterator[np.ndarray]:
    """Yield every frame as an H×W×3 uint8 RGB array; a damaged stream raises MediaError naming the frame."""
    path = Path(path)
    with _open(path) as container:
        if not container.streams.video:
            raise MediaError("has no video stream", path=path)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        index = 0
        try:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
                index += 1
        except av.error.FFmpegError as exc:
            raise MediaError(f"damaged at frame {index} ({_reason(exc)})", path=path) from None
        if index == 0:
            raise MediaError("holds no decodable frames", path=path)


class VideoWriter(AbstractContextManager["VideoWriter"]):
    """Encode RGB frames to H.264; the file appears only when the writer closes without error."""

    def __init__(self, path: str | Path, *, width: int, height: int, fps: float, crf: int = 18,
                 preset: str = "veryfast") -> None:
        self.path = Path(path)
        self.width, self.height = width, height
        self._stack = ExitStack()
        self._tmp = self._stack.enter_context(atomic_path(self.path))
        self._container = av.open(str(self._tmp), mode="w", options={"movflags": "+faststart"})
        self._stream = self._container.add_stream("libx264", rate=as_rate(fps))
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(crf), "preset": preset}
        self.frames = 0

    def write(self, rgb: np.ndarray) -> None:
        if rgb.shape != (self.height, self.width, 3):
            raise ValueError(f"frame is {rgb.shape}, the writer expects {(self.height, self.width, 3)}")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        self._container.mux(self._stream.encode(frame))
        self.frames += 1

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self._container.mux(self._stream.encode(None))
            self._container.close()
        finally:
            self._stack.__exit__(exc_type, exc, tb)
