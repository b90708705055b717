"""Depth for still sets: estimated on sets whose layout is known, loaded from depth passes, cut into bands."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from soundstage.comp.depth import estimate_depth, fit_depth, load_depth
from soundstage.engines.procedural import set_image
from soundstage.errors import MediaError


def ground_plane_set(width: int = 480, height: int = 270, horizon: float = 0.42, seed: int = 0) -> np.ndarray:
    """A sky over a textured ground plane seen in perspective: texture shrinks and hazes toward the horizon."""
    rng = np.random.default_rng(seed)
    hz = round(height * horizon)
    image = np.zeros((height, width, 3), np.float32)
    t = np.linspace(0.0, 1.0, hz, dtype=np.float32)[:, None, None]
    zenith, horizon_sky = np.array([60, 110, 200], np.float32), np.array([200, 215, 235], np.float32)
    image[:hz] = zenith * (1 - t) + horizon_sky * t
    # Ground: rows below the horizon map to distances 1/(y − hz); texture is sampled on the plane.
    noise = cv2.GaussianBlur(rng.random((512, 512), dtype=np.float32), (0, 0), 2.0)
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    ys = np.arange(hz, height, dtype=np.float32)[:, None]
    xs = np.arange(width, dtype=np.float32)[None, :]
    distance = 40.0 / (ys - hz + 1.0)
    u = ((xs - width / 2) * distance * 0.5) % 512
    v = (distance * 30.0) % 512
    tex = noise[v.astype(int).repeat(width, 1), u.astype(int)]
    ground = np.array([70, 95, 45], np.float32) * (0.6 + 0.8 * tex[..., None])
    haze = (1.0 - np.exp(-distance / 8.0))[..., None]
    image[hz:] = ground * (1 - haze) + horizon_sky * haze
    return np.clip(image, 0, 255).astype(np.uint8)


def test_ground_plane_recedes_toward_the_horizon_and_the_sky_is_farthest() -> None:
    image = ground_plane_set()
    depth = estimate_depth(image)
    assert depth.shape == image.shape[:2] and depth.dtype == np.float32
    assert depth.min() >= 0.0 and depth.max() <= 1.0
    height = image.shape[0]
    hz = round(height * 0.42)
    sky = float(np.median(depth[: hz - 10]))
    bottom = float(np.median(depth[height - height // 10 :]))
    assert sky > 0.95
    assert bottom < 0.2
    # Below the horizon, bands of rows get farther going up.
    bands = [float(np.median(depth[y : y + 15])) for y in range(height - 15, hz + 20, -15)]
    assert all(later > earlier for earlier, later in itertools.pairwise(bands))


@pytest.mark.parametrize("prompt", ["a desert with dunes at noon", "seaside cliff with a lighthouse, overcast",
                                    "mountain pass at dusk, fog in the valley"])
def test_generated_sets_have_far_skies_and_near_foregrounds(prompt: str) -> None:
    image = set_image(prompt, "", 384, 216, 7)
    depth = estimate_depth(image)
    assert float(np.median(depth[:20])) > 0.9                          # the top of the frame is sky
    assert float(np.median(depth[-20:])) < 0.35                        # the bottom is the ground at our feet


def test_estimate_refuses_what_is_not_a_set() -> None:
    with pytest.raises(MediaError):
        estimate_depth(np.zeros((100, 100), np.uint8))
    with pytest.raises(MediaError):
        estimate_depth(np.zeros((4, 4, 3), np.uint8))


def write_grey(path: Path, values: np.ndarray) -> None:
    assert cv2.imwrite(str(path), values)


def test_load_depth_reads_white_as_near_by_default(tmp_path: Path) -> None:
    ramp = np.repeat(np.linspace(0, 65535, 50).astype(np.uint16)[:, None], 80, axis=1)   # white at the bottom
    write_grey(tmp_path / "d16.png", ramp)
    depth = load_depth(tmp_path / "d16.png")
    assert depth.shape == (50, 80) and depth.dtype == np.float32
    assert depth[-1].max() == pytest.approx(0.0) and depth[0].min() == pytest.approx(1.0)
    write_grey(tmp_path / "d8.png", (ramp >> 8).astype(np.uint8))
    assert np.abs(load_depth(tmp_path / "d8.png") - depth).max() < 0.01
    assert np.allclose(load_depth(tmp_path / "d16.png", white="far"), 1.0 - depth)
    grey_rgb = np.dstack([(ramp >> 8).astype(np.uint8)] * 3)
    write_grey(tmp_path / "grey_rgb.png", grey_rgb)
    assert np.abs(load_depth(tmp_path / "grey_rgb.png") - depth).max() < 0.01


def test_load_depth_refuses_colour_maps_flat_maps_and_missing_files(tmp_path: Path) -> None:
    coloured = cv2.applyColorMap(np.repeat(np.arange(50, dtype=np.uint8)[:, None], 60, 1), cv2.COLORMAP_INFERNO)
    write_grey(tmp_path / "inferno.png", coloured)
    with pytest.raises(MediaError, match="colour"):
        load_depth(tmp_path / "inferno.png")
    write_grey(tmp_path / "flat.png", np.full((10, 10), 128, np.uint8))
    with pytest.raises(MediaError, match="flat"):
        load_depth(tmp_path / "flat.png")
    with pytest.raises(MediaError):
        load_depth(tmp_path / "missing.png")


def test_fit_depth_resizes_the_same_shape_and_refuses_another() -> None:
    depth = np.tile(np.linspace(0, 1, 40, dtype=np.float32), (30, 1))
    fitted = fit_depth(depth, 160, 120)
    assert fitted.shape == (120, 160)
    assert fitted[:, 0].mean() < 0.05 and fitted[:, -1].mean() > 0.95
    with pytest.raises(MediaError, match="shape of frame"):
        fit_depth(depth, 160, 90)
