"""The join measures: SSIM as scikit-image computes it (within border handling), colour distance 0 for one
picture, and a join past a clip's end named."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from soundstage.engines.procedural import set_image
from soundstage.errors import MediaError
from soundstage.media import VideoWriter
from soundstage.pipeline.joins import compare, histogram_distance, measure_join, ssim


def test_ssim_agrees_with_scikit_image_and_colour_distance_is_zero_for_one_picture() -> None:
    a = set_image("night hanok rooftops with moon", "", 160, 90, 1)
    b = set_image("night hanok rooftops with moon", "", 160, 90, 2)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (a, b)]
    reference = structural_similarity(*grey, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                      data_range=255)
    assert ssim(a, b) == pytest.approx(reference, abs=0.02)
    assert ssim(a, a) == pytest.approx(1.0) and histogram_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert compare(a, a).continuous and not compare(a, np.zeros_like(a)).continuous


def test_a_join_is_measured_inside_a_clip_and_one_past_its_end_is_named(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    with VideoWriter(clip, width=64, height=36, fps=12) as writer:
        for level in (40, 40, 200, 200):
            writer.write(np.full((36, 64, 3), level, np.uint8))
    assert measure_join(clip, 1).continuous and not measure_join(clip, 2).continuous
    with pytest.raises(MediaError, match="ends before its join at frame 9"):
        measure_join(clip, 9)
