"""Colour match and .cube LUTs, on pixels whose right answer is known or worked out by hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from soundstage.comp.grade import ColourMatch, Lut3D, write_cube
from soundstage.errors import MediaError

H, W = 90, 120


def textured(base: tuple[int, int, int], spread: float, seed: int) -> np.ndarray:
    coarse = np.random.default_rng(seed).standard_normal((9, 12, 3)).astype(np.float32)
    texture = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)
    return np.clip(np.array(base, np.float32) + spread * texture, 0, 255).astype(np.uint8)


def keyed_actor() -> tuple[np.ndarray, np.ndarray]:
    """A warm, well-lit subject with a solid core, a soft edge and black outside, as the keyer hands it over."""
    fg = textured((200, 150, 120), 25, seed=1)
    alpha = np.zeros((H, W), np.uint8)
    alpha[15:75, 30:90] = 255
    alpha[13:15, 30:90] = 128
    fg[alpha == 0] = 0
    return fg, alpha


def every_colour_sample() -> np.ndarray:
    rng = np.random.default_rng(5)
    return rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)


# ------------------------------------------------------------------------------------------- colour match


def test_colour_match_moves_the_solid_mean_toward_the_set() -> None:
    fg, alpha = keyed_actor()
    night = textured((30, 45, 90), 20, seed=2)
    solid = alpha == 255
    before = fg[solid].mean(axis=0)
    target = night.reshape(-1, 3).mean(axis=0)
    half = ColourMatch.measure(fg, alpha, night, strength=0.5).apply(fg)[solid].mean(axis=0)
    full = ColourMatch.measure(fg, alpha, night, strength=1.0).apply(fg)[solid].mean(axis=0)
    for c in range(3):
        assert abs(full[c] - target[c]) < abs(before[c] - target[c]) - 10, c
        assert min(before[c], full[c]) - 1 <= half[c] <= max(before[c], full[c]) + 1, c
    # Blue is the set's key: the subject goes from warm (R ≫ B) to much closer to neutral.
    assert (full[0] - full[2]) < 0.5 * (before[0] - before[2])


def test_colour_match_is_conservative_on_a_dark_set() -> None:
    fg, alpha = keyed_actor()
    near_black = textured((6, 8, 14), 4, seed=3)
    match = ColourMatch.measure(fg, alpha, near_black)
    assert -1.5 <= match.exposure < 0
    assert all(abs(b) <= 0.75 for b in match.balance)
    assert all(0.8 <= c <= 1.25 for c in match.contrast)
    out = match.apply(fg)[alpha == 255].mean(axis=0)
    # Darkened by at most 1.5 + 0.75 stops in a channel (× ~0.21 in linear light), not crushed to the set's 6–14.
    assert out.min() > 40


def test_colour_match_strength_zero_changes_nothing() -> None:
    fg, alpha = keyed_actor()
    match = ColourMatch.measure(fg, alpha, textured((30, 45, 90), 20, seed=2), strength=0.0)
    assert np.array_equal(match.apply(fg), fg)
    sample = every_colour_sample()
    assert np.array_equal(match.apply(sample), sample)


def test_colour_match_against_itself_is_near_identity() -> None:
    fg, alpha = keyed_actor()
    match = ColourMatch.measure(fg, alpha, fg[15:75, 30:90])     # the set is the subject's own solid core
    assert abs(match.exposure) < 0.01 and match.contrast == pytest.approx((1.0, 1.0, 1.0), abs=0.01)
    assert np.abs(match.apply(fg).astype(int) - fg).max() <= 1


def test_colour_match_refuses_a_matte_without_a_subject() -> None:
    fg, alpha = keyed_actor()
    with pytest.raises(MediaError, match="solid pixels"):
        ColourMatch.measure(fg, np.zeros_like(alpha), fg)
    with pytest.raises(MediaError, match="alpha is"):
        ColourMatch.measure(fg, alpha[:10], fg)
    with pytest.raises(ValueError, match="strength"):
        ColourMatch.measure(fg, alpha, fg, strength=1.5)


# ------------------------------------------------------------------------------------------- LUTs


def cube_text(size: int, colour: Callable[[float, float, float], tuple[float, float, float]], *,
              head: str = "") -> str:
    """A .cube file's text: ``colour(r, g, b)`` for every grid node, red fastest."""
    ramp = np.linspace(0.0, 1.0, size)
    rows = [" ".join(f"{v:.6f}" for v in colour(r, g, b)) for b in ramp for g in ramp for r in ramp]
    return f"{head}LUT_3D_SIZE {size}\n" + "\n".join(rows) + "\n"


def write(tmp_path: Path, text: str, name: str = "look.cube") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_identity_lut_round_trips_every_colour() -> None:
    sample = every_colour_sample()
    for size in (2, 17, 33):
        out = Lut3D.identity(size).apply(sample)
        assert out.dtype == np.uint8 and out.shape == sample.shape
        assert np.abs(out.astype(int) - sample).max() <= 1, size


def test_write_and_read_back_a_cube(tmp_path: Path) -> None:
    lut = Lut3D.identity(5)
    write_cube(tmp_path / "id.cube", lut)
    back = Lut3D.read(tmp_path / "id.cube")
    assert back.size == 5 and back.title == "identity"
    assert back.cube is not None and lut.cube is not None
    assert np.allclose(back.cube, lut.cube, atol=1e-6)
    sample = every_colour_sample()
    assert np.array_equal(back.apply(sample), sample)


def test_invert_and_channel_swap_luts(tmp_path: Path) -> None:
    sample = every_colour_sample()
    text = "# made by hand\nTITLE \"invert\"\n\n" + cube_text(2, lambda r, g, b: (1 - r, 1 - g, 1 - b))
    invert = Lut3D.read(write(tmp_path, text))
    assert invert.title == "invert"
    assert np.abs(invert.apply(sample).astype(int) - (255 - sample.astype(int))).max() <= 1
    swap = Lut3D.read(write(tmp_path, cube_text(3, lambda r, g, b: (g, b, r)), "swap.cube"))
    assert np.abs(swap.apply(sample).astype(int) - sample[..., [1, 2, 0]].astype(int)).max() <= 1


def test_trilinear_interpolation_off_the_grid(tmp_path: Path) -> None:
    # A 3-point grid (nodes 0, 0.5, 1). Red out = r·g·b: multilinear, so trilinear reproduces it exactly.
    # Green out = g² at the nodes (0, 0.25, 1): linear between them. Blue out = 0.4 everywhere.
    lut = Lut3D.read(write(tmp_path, cube_text(3, lambda r, g, b: (r * g * b, g * g, 0.4))))
    out = lut.apply(np.array([[[128, 64, 192]]], np.uint8))[0, 0].astype(int)
    # Red: (128/255)·(64/255)·(192/255) = 0.50196·0.25098·0.75294 = 0.094859 → 24.19 levels.
    # Green: g = 0.25098 lies at f = 0.50196 of the way from node 0 (0) to node 0.5 (0.25): 0.12549 → 32.0 levels.
    # Blue: 0.4·255 = 102.
    assert abs(out[0] - 24.19) <= 1 and abs(out[1] - 32.0) <= 1 and abs(out[2] - 102.0) <= 1
    assert out.tolist() == [24, 32, 102]


def trilinear(cube: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Straightforward trilinear lookup: ``at`` (…×3, r g b) in grid units of ``cube`` ([b, g, r] indexed)."""
    n = cube.shape[0]
    low = np.minimum(np.floor(at).astype(int), n - 2)
    frac = at - low
    out = np.zeros((*at.shape[:-1], 3))
    for db in (0, 1):
        for dg in (0, 1):
            for dr in (0, 1):
                weight = (np.where(db, frac[..., 2], 1 - frac[..., 2]) * np.where(dg, frac[..., 1], 1 - frac[..., 1])
                          * np.where(dr, frac[..., 0], 1 - frac[..., 0]))
                out += weight[..., None] * cube[low[..., 2] + db, low[..., 1] + dg, low[..., 0] + dr]
    return out


def test_baked_table_matches_a_plain_trilinear_lookup() -> None:
    rng = np.random.default_rng(9)
    cube = rng.random((7, 7, 7, 3)).astype(np.float32)
    low, high = (0.1, 0.0, -0.2), (0.9, 1.0, 1.3)
    sample = every_colour_sample()
    at = np.clip((sample / 255.0 - np.array(low)) / (np.array(high) - np.array(low)), 0, 1) * 6
    expected = trilinear(cube.astype(np.float64), at) * 255
    out = Lut3D(cube, cube_min=low, cube_max=high).apply(sample)
    assert np.abs(out - expected).max() <= 0.5 + 1e-3


def test_domain_and_1d_luts(tmp_path: Path) -> None:
    sample = every_colour_sample()
    # The cube covers inputs 0..2 with an identity on that range, so 0..1 in maps to 0..0.5 out: half.
    half = Lut3D.read(write(tmp_path, cube_text(2, lambda r, g, b: (r, g, b), head="DOMAIN_MIN 0 0 0\n"
                                                "DOMAIN_MAX 2 2 2\n")))
    assert half.cube_max == (2.0, 2.0, 2.0)
    assert np.abs(half.apply(sample).astype(int) - sample / 2).max() <= 1
    # 1D curves: red halved, green kept, blue inverted; three points so the middle row counts.
    curves = Lut3D.read(write(tmp_path, "LUT_1D_SIZE 3\n0 0 1\n0.25 0.5 0.5\n0.5 1 0\n", "curves.cube"))
    assert curves.size == 0 and curves.curves is not None
    expected = np.stack([sample[..., 0] / 2, sample[..., 1], 255 - sample[..., 2].astype(int)], axis=-1)
    assert np.abs(curves.apply(sample).astype(int) - expected).max() <= 1
    # Resolve's 1D shaper + 3D: the shaper halves every channel, the cube inverts.
    text = ("LUT_1D_SIZE 2\nLUT_3D_SIZE 2\nLUT_1D_INPUT_RANGE 0 1\nLUT_3D_INPUT_RANGE 0 1\n0 0 0\n0.5 0.5 0.5\n"
            + cube_text(2, lambda r, g, b: (1 - r, 1 - g, 1 - b)).split("\n", 1)[1])
    shaped = Lut3D.read(write(tmp_path, text, "shaped.cube"))
    assert np.abs(shaped.apply(sample).astype(int) - (255 - sample / 2)).max() <= 1


BAD = {
    "no size": ("TITLE \"x\"\n0 0 0\n1 1 1\n", 2, "no LUT_3D_SIZE"),
    "size 1": ("LUT_3D_SIZE 1\n0 0 0\n", 1, "within 2..256"),
    "size 300": ("LUT_3D_SIZE 300\n0 0 0\n", 1, "within 2..256"),
    "size not whole": ("LUT_3D_SIZE 2.5\n0 0 0\n", 1, "whole number"),
    "too few rows": ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 7, 8, "7 rows but its size needs 8"),
    "too many rows": ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 9, 10, "9 rows but its size needs 8"),
    "not a number": ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 4 + "0 x 0\n" + "0 0 0\n" * 3, 6, "three finite numbers"),
    "nan": ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 2 + "nan 0 0\n" + "0 0 0\n" * 5, 4, "three finite numbers"),
    "two numbers": ("LUT_3D_SIZE 2\n# c\n" + "0 0 0\n" * 3 + "0 0\n" + "0 0 0\n" * 4, 6, "three numbers"),
    "unknown keyword": ("LUT_3D_SIZE 2\nLUT_IN_VIDEO_RANGE\n" + "0 0 0\n" * 8, 2, "unknown keyword"),
    "given twice": ("LUT_3D_SIZE 2\nLUT_3D_SIZE 2\n" + "0 0 0\n" * 8, 2, "given twice"),
    "bad domain": ("DOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 0 1\nLUT_3D_SIZE 2\n" + "0 0 0\n" * 8, 2, "not below"),
    "short domain": ("DOMAIN_MIN 0 0\nLUT_3D_SIZE 2\n" + "0 0 0\n" * 8, 1, "needs 3 numbers"),
    "keyword after rows": ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 8 + "TITLE \"late\"\n", 10, "three numbers"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_cube_files_name_the_line(tmp_path: Path, case: str) -> None:
    text, line, message = BAD[case]
    path = write(tmp_path, text)
    with pytest.raises(MediaError, match=message) as caught:
        Lut3D.read(path)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_missing_cube_file_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="cannot read"):
        Lut3D.read(tmp_path / "nope.cube")


def test_lut_refuses_a_non_rgb_frame() -> None:
    with pytest.raises(MediaError, match="uint8 RGB"):
        Lut3D.identity(2).apply(np.zeros((4, 4), np.uint8))
