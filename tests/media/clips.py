"""The small test clip the media tests share: a red bar growing 2 px a frame over textured black."""

from __future__ import annotations

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
