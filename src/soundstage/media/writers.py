"""One way to open any frame writer: review H.264, ProRes 4444, or a PNG/EXR sequence, picked by the path.

Every writer takes straight (unpremultiplied) uint8 frames, publishes its output only when it closes without
error, and satisfies :class:`FrameWriter`, so the render loop does not care which one it feeds.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Protocol, runtime_checkable

import numpy as np

from soundstage.errors import MediaError
from soundstage.media.exr import Compression, ExrSpace


@runtime_checkable
class FrameWriter(Protocol):
    """Takes frames one at a time; the output appears on a clean ``__exit__`` and never otherwise."""

    frames: int

    def write(self, frame: np.ndarray) -> None: ...

    def __enter__(self) -> FrameWriter: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool | None: ...


def open_writer(path: str | Path, *, width: int, height: int, fps: float, alpha: bool, threaded: bool = False,
                depth: int = 4, first: int = 1, exr_compression: Compression = "zip",
                sound: np.ndarray | None = None, exr_space: ExrSpace | None = None) -> FrameWriter:
    """A writer for ``path``, chosen by its form:

    - ``shot.mp4``: H.264 for review (:class:`VideoWriter`). It has no alpha, so ``alpha=True`` is refused:
      comp over a background first, or pick a finishing format;
    - ``shot.mov``: ProRes 4444 (:class:`ProResWriter`), with alpha if asked;
    - ``shots/3-1/3-1.%04d.png`` or ``.exr``: a numbered sequence in that folder (:class:`ImageSequenceWriter`);
    - ``shots/3-1`` (no extension): a PNG sequence named ``3-1.%04d.png`` in that folder.

    ``sound`` (a :class:`soundstage.sound.Sound`'s ``.samples``, 48 kHz stereo) goes into a movie beside its
    picture, AAC in the .mp4 and 24-bit PCM in the .mov; a sequence carries none (the shot's stems, written
    beside it, are its sound).

    ``threaded`` encodes in a background thread (:class:`Background`, at most ``depth`` frames queued), so
    encoding overlaps the comp of the next frame.
    """
    from soundstage.media.sequence import ImageSequenceWriter
    from soundstage.media.streaming import Background
    from soundstage.media.video import ProResWriter, VideoWriter

    path = Path(path)
    suffix = path.suffix.lower()
    writer: FrameWriter
    if "%" in path.name:
        writer = ImageSequenceWriter(path.parent, path.name, width=width, height=height, fps=fps, alpha=alpha,
                                     first=first, exr_compression=exr_compression, space=exr_space)
    elif suffix == ".mp4":
        if alpha:
            raise MediaError("H.264 (.mp4) keeps no alpha", path=path,
                             hint="write .mov (ProRes 4444) or a PNG/EXR sequence, or comp over a background")
        writer = VideoWriter(path, width=width, height=height, fps=fps, sound=sound)
    elif suffix == ".mov":
        writer = ProResWriter(path, width=width, height=height, fps=fps, alpha=alpha, sound=sound)
    elif suffix in (".png", ".exr"):
        raise MediaError("a sequence needs a frame counter in its name", path=path,
                         hint=f"e.g. {path.stem}.%04d{suffix}")
    elif suffix == "":
        writer = ImageSequenceWriter(path, f"{path.name}.%04d.png", width=width, height=height, fps=fps,
                                     alpha=alpha, first=first)
    else:
        raise MediaError(f"no writer for {suffix!r} files", path=path,
                         hint="use .mp4 (H.264), .mov (ProRes 4444), or name.%04d.png / .exr")
    return Background(writer, depth=depth) if threaded else writer
