"""The small test clip the media tests share: a red bar growing 2 px a frame over textured black."""

from __future__ import annotations

from pathlib import Path

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
