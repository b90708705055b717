"""The cut: finished shots, in screenplay order, joined into one movie."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from soundstage.media import VideoWriter, read_frames


def assemble_cut(shots: Sequence[Path], out: Path, *, width: int, height: int, fps: float,
                 on_frame: Callable[[], None] | None = None) -> int:
    """Join the shot movies into ``out`` and return its frame count.

    Re-encoded rather than stream-copied: shots rendered by different versions or settings need not share
    codec parameters, and a clean single-GOP-structure file is what review players expect.
    """
    count = 0
    with VideoWriter(out, width=width, height=height, fps=fps) as writer:
        for shot in shots:
            for frame in read_frames(shot):
                writer.write(frame)
                count += 1
                if on_frame:
                    on_frame()
    return count
