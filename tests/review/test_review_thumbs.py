"""An element's thumbnail shows its most telling frame (peak alpha coverage) over a checkerboard, not an empty
frame 0; its hover-scrub strip holds frames spread over the sequence; both are made once and kept."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from soundstage.review.thumbs import sequence_thumbnail, strip

ORANGE = (255, 120, 0)


def _fire(folder: Path, sizes: list[int]) -> list[Path]:
    """A 64×36 RGBA sequence: an orange block of side ``size`` per frame, transparent around it."""
    folder.mkdir()
    frames = []
    for index, size in enumerate(sizes):
        rgba = np.zeros((36, 64, 4), np.uint8)
        rgba[18 - size // 2: 18 + size // 2, 32 - size // 2: 32 + size // 2] = (*ORANGE[::-1], 255)   # BGRA
        path = folder / f"fire.{index:04d}.png"
        cv2.imwrite(str(path), rgba)
        frames.append(path)
    return frames


def _rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB).astype(int)


def test_the_thumbnail_is_the_frame_of_peak_coverage_over_a_checkerboard(tmp_path: Path) -> None:
    frames = _fire(tmp_path / "fire", [0, 4, 10, 30, 12, 2])
    cache = tmp_path / "cache"
    made = sequence_thumbnail(frames, cache, width=64)
    picture = _rgb(made)
    assert picture.shape == (36, 64, 3)
    assert np.abs(picture[18, 32] - ORANGE).max() < 30            # the blob of frame 3 fills the middle
    assert np.abs(picture[18, 20] - ORANGE).max() < 30            # (frame 2's 10-pixel block would not reach)
    corner = picture[:14, :14]                                    # two cells of 12 pixels
    assert corner.max() < 110 and corner.std() > 5                 # checkerboard greys where it is transparent
    stamp = made.stat().st_mtime_ns
    assert sequence_thumbnail(frames, cache, width=64) == made and made.stat().st_mtime_ns == stamp   # kept


def test_the_strip_spreads_frames_across_the_sequence(tmp_path: Path) -> None:
    frames = _fire(tmp_path / "fire", [0] + [20 + i % 10 for i in range(19)])
    made = strip(frames, tmp_path / "cache", cells=4, width=32)
    picture = _rgb(made)
    assert picture.shape == (18, 128, 3)
    centres = [picture[9, 16 + 32 * cell] for cell in range(4)]
    assert np.abs(centres[0] - ORANGE).max() > 60                  # frame 0: nothing there yet
    assert all(np.abs(c - ORANGE).max() < 40 for c in centres[1:])   # frames 6, 13, 19: the blob
    assert strip(frames, tmp_path / "cache", cells=4, width=32) == made
