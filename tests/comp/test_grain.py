"""Grain measured on a synthetic plate whose grain is known, and matched on a clean generated set."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from soundstage.comp.grain import Grain
from soundstage.errors import MediaError

H, W = 288, 512
SIGMA = 3.0


def known_grain(size: float, seed: int, grey: bool = False) -> np.ndarray:
    """Gaussian noise blurred by ``size`` px, scaled to exactly SIGMA levels per channel (float32 H×W×3)."""
    noise: np.ndarray = np.random.default_rng(seed).standard_normal((H, W, 1 if grey else 3)).astype(np.float32)
    if grey:
        noise = np.repeat(noise, 3, axis=2)
    if size > 0:
        noise = cv2.GaussianBlur(noise, (0, 0), size)
    return noise / noise.reshape(-1, 3).std(axis=0) * SIGMA


def screen_plate(grain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An unevenly lit green screen (a ramp and a hot spot, ±25 % light) with the grain, and a grainless actor."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    light = 0.8 + 0.25 * x / W - 0.4 * ((x - 0.4 * W) ** 2 + (y - 0.5 * H) ** 2) / W**2
    screen = light[..., None] * np.array([45, 175, 70], np.float32)
    plate = np.clip(np.rint(screen + grain), 0, 255).astype(np.uint8)
    mask = np.full((H, W), 255, np.uint8)
    plate[60:230, 200:320] = (190, 140, 115)
    mask[60:230, 200:320] = 0
    return plate, mask


@pytest.mark.parametrize("size", [0.0, 1.0, 1.8])
def test_measure_recovers_known_grain_on_an_uneven_screen(size: float) -> None:
    plate, mask = screen_plate(known_grain(size, seed=4))
    grain = Grain.measure(plate, mask)
    # The 8-bit plate also holds rounding noise (1/12 level²), so the truth is √(σ² + 1/12).
    assert grain.sigma == pytest.approx((np.hypot(SIGMA, 12**-0.5),) * 3, rel=0.1)
    assert grain.size == pytest.approx(size, abs=0.25)
    assert all(abs(c) < 0.1 for c in grain.correlation)


def test_uneven_light_alone_is_not_grain() -> None:
    plate, mask = screen_plate(np.zeros((H, W, 3), np.float32))
    assert max(Grain.measure(plate, mask).sigma) < 0.5


def test_grey_grain_is_measured_as_correlated_and_added_so() -> None:
    plate, mask = screen_plate(known_grain(1.0, seed=5, grey=True))
    grain = Grain.measure(plate, mask)
    assert min(grain.correlation) > 0.9
    added = grain.add(np.full((H, W, 3), 128, np.uint8), 0, 1)
    assert min(Grain.measure(added, np.full((H, W), 255, np.uint8)).correlation) > 0.85


@pytest.mark.parametrize("size", [0.0, 1.0, 1.8])
def test_added_grain_matches_the_plate(size: float) -> None:
    plate, mask = screen_plate(known_grain(size, seed=6))
    grain = Grain.measure(plate, mask)
    clean_set = np.full((H, W, 3), (90, 110, 140), np.uint8)
    again = Grain.measure(grain.add(clean_set, 12, seed=3), np.full((H, W), 255, np.uint8))
    assert again.sigma == pytest.approx(grain.sigma, rel=0.15)
    assert again.size == pytest.approx(grain.size, abs=0.25)


def test_grain_is_deterministic_per_frame_and_moves() -> None:
    grain = Grain(sigma=(3.0, 3.0, 3.0), size=1.0)
    frame = np.full((H, W, 3), 128, np.uint8)
    first = grain.add(frame, 7, seed=11)
    assert np.array_equal(first, Grain(sigma=(3.0, 3.0, 3.0), size=1.0).add(frame, 7, seed=11))
    assert np.array_equal(frame, np.full((H, W, 3), 128, np.uint8))          # the input is left alone
    for other in (grain.add(frame, 8, seed=11), grain.add(frame, 7, seed=12)):
        a, b = first.astype(np.float32) - 128, other.astype(np.float32) - 128
        assert abs(float(np.mean(a * b)) / float(np.mean(a * a))) < 0.1     # a fresh grain, not the same one
    assert abs(float(first.mean()) - 128) < 0.2                             # grain adds no light


def test_no_grain_leaves_the_frame_alone() -> None:
    frame = np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)
    assert Grain.none().clean
    assert Grain.none().add(frame, 3, 1) is frame


def test_measure_refuses_a_plate_without_open_screen() -> None:
    plate, mask = screen_plate(known_grain(1.0, seed=7))
    with pytest.raises(MediaError, match="too few"):
        Grain.measure(plate, np.zeros_like(mask))
    with pytest.raises(MediaError, match="screen_mask"):
        Grain.measure(plate, mask[:10])
    with pytest.raises(ValueError, match="negative"):
        Grain.none().add(plate, -1, 0)
