"""Defocus by depth, light wrap and motion blur, measured on synthetic pictures with known answers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from soundstage.comp.light import defocus, light_wrap, motion_blur
from soundstage.comp.over import over
from soundstage.errors import MediaError


def checkerboard(height: int, width: int, cell: int = 4) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width]
    board = (((yy // cell) + (xx // cell)) % 2 * 160 + 48).astype(np.uint8)
    return np.dstack([board, board, board])


def sharpness(image: np.ndarray) -> float:
    """Variance of the Laplacian: high on crisp detail, near 0 on a soft picture."""
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


# ------------------------------------------------------------------------------------------------ defocus


def test_defocus_blurs_away_from_the_focus_depth() -> None:
    image = checkerboard(180, 320)
    depth = np.zeros((180, 320), np.float32)
    depth[:, 160:] = 1.0                                              # right half far, left half in focus
    soft = defocus(image, depth, focus=0.0, amount=1.0)
    assert soft.shape == image.shape and soft.dtype == np.uint8
    left, right = soft[:, 8:140], soft[:, 180:312]
    assert sharpness(left) == pytest.approx(sharpness(image[:, 8:140]), rel=0.02)   # focused: untouched
    assert sharpness(right) < 0.02 * sharpness(image[:, 180:312])                    # far: lens-soft
    # Focus on the far half instead: the blur moves with it.
    turned = defocus(image, depth, focus=1.0, amount=1.0)
    assert sharpness(turned[:, 180:312]) > 50 * sharpness(turned[:, 8:140])


def test_defocus_grows_with_distance_from_focus() -> None:
    image = checkerboard(120, 400, cell=6)
    depth = np.repeat(np.linspace(0, 1, 400, dtype=np.float32)[None, :], 120, 0)
    soft = defocus(image, depth, focus=0.0, amount=1.0)
    values = [sharpness(soft[:, x : x + 60]) for x in (10, 120, 230, 330)]
    assert values == sorted(values, reverse=True)


def test_a_sharp_subject_does_not_bleed_into_the_soft_background() -> None:
    image = np.full((120, 200, 3), 40, np.uint8)
    image[40:80, 80:120] = 250                                        # a bright subject in focus
    depth = np.ones((120, 200), np.float32)
    depth[40:80, 80:120] = 0.0
    soft = defocus(image, depth, focus=0.0, amount=1.0)
    assert np.array_equal(soft[40:80, 80:120], image[40:80, 80:120])
    ring = soft[30:38, 80:120]                                        # background just above the subject
    assert ring.max() <= 45                                           # no halo of the subject's light


def test_defocus_amount_zero_is_identity_and_bad_input_is_refused() -> None:
    image = checkerboard(40, 60)
    depth = np.ones((40, 60), np.float32)
    assert defocus(image, depth, focus=0.0, amount=0.0) is image
    with pytest.raises(MediaError):
        defocus(image, np.ones((10, 10), np.float32), focus=0.0, amount=1.0)
    with pytest.raises(ValueError):
        defocus(image, depth, focus=1.5, amount=1.0)


# ------------------------------------------------------------------------------------------------ light wrap


def disc_subject(width: int = 320, height: int = 180) -> tuple[np.ndarray, np.ndarray]:
    matte = np.zeros((height, width), np.uint8)
    cv2.circle(matte, (width // 2, height // 2), 60, 255, -1, lineType=cv2.LINE_AA)
    fg = np.zeros((height, width, 3), np.uint8)
    fg[matte > 0] = (90, 60, 50)
    return fg, matte


@pytest.mark.parametrize("radius", [4, 12, 24])
def test_light_wrap_brightens_only_the_edge_toward_a_bright_background(radius: int) -> None:
    fg, matte = disc_subject()
    bg = np.full(fg.shape, (255, 240, 200), np.uint8)
    wrapped = light_wrap(fg, matte, bg, radius=radius, strength=1.0)
    assert wrapped.dtype == np.uint8 and wrapped.shape == fg.shape
    changed = np.abs(wrapped.astype(int) - fg.astype(int)).max(axis=2) > 0
    inside = cv2.distanceTransform((matte > 0).astype(np.uint8), cv2.DIST_L2, 5)
    assert not changed[matte == 0].any()                              # outside the subject: never touched
    assert not changed[inside > 3 * radius].any()                     # deep inside: untouched
    band = (matte == 255) & (inside <= max(2, radius // 3))
    assert changed[band].mean() > 0.95                                # right at the edge: lit
    assert (wrapped[band].astype(int) >= fg[band].astype(int)).all()  # only ever brighter, toward the bg
    # The comp: edge pixels move toward the background's colour, more with strength.
    comp = over(wrapped, matte, bg).astype(int)
    plain = over(fg, matte, bg).astype(int)
    half = over(light_wrap(fg, matte, bg, radius=radius, strength=0.5), matte, bg).astype(int)
    assert (comp[band].sum() > half[band].sum() > plain[band].sum())


def test_light_wrap_over_a_dark_background_adds_little() -> None:
    fg, matte = disc_subject()
    dark = np.full(fg.shape, 5, np.uint8)
    wrapped = light_wrap(fg, matte, dark, radius=12, strength=1.0)
    assert np.abs(wrapped.astype(int) - fg.astype(int)).max() <= 5


def test_light_wrap_strength_zero_is_identity_and_bad_input_is_refused() -> None:
    fg, matte = disc_subject()
    bg = np.full(fg.shape, 200, np.uint8)
    assert light_wrap(fg, matte, bg, radius=8, strength=0.0) is fg
    with pytest.raises(MediaError):
        light_wrap(fg, matte, bg[:100], radius=8, strength=1.0)
    with pytest.raises(MediaError):
        light_wrap(fg, matte[:100], bg, radius=8, strength=1.0)
    with pytest.raises(ValueError):
        light_wrap(fg, matte, bg, radius=0, strength=1.0)


def test_light_wrap_with_no_subject_changes_nothing() -> None:
    fg = np.zeros((90, 160, 3), np.uint8)
    matte = np.zeros((90, 160), np.uint8)
    bg = np.full((90, 160, 3), 255, np.uint8)
    assert np.array_equal(light_wrap(fg, matte, bg, radius=8, strength=1.0), fg)


def whole_frame_wrap(fg: np.ndarray, matte: np.ndarray, bg: np.ndarray, shrink: int, sigma: float,
                     strength: float) -> np.ndarray:
    """The light wrap's recipe done on the whole frame, at every step: the oracle for the box-limited one."""
    rows, cols = matte.shape[0] // shrink, matte.shape[1] // shrink
    h, w = rows * shrink, cols * shrink
    small = cv2.resize(matte[:h, :w], (cols, rows), interpolation=cv2.INTER_AREA)
    outside = cv2.GaussianBlur(255 - small, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    light = cv2.GaussianBlur(cv2.resize(bg[:h, :w], (cols, rows), interpolation=cv2.INTER_AREA), (0, 0), sigma,
                             borderType=cv2.BORDER_REPLICATE)
    wrap = light.astype(np.float64) * outside[..., None] * strength / 255.0
    wrap = cv2.resize(wrap, (w, h), interpolation=cv2.INTER_LINEAR)
    region = fg[:h, :w].astype(np.float64)
    screened = region + wrap - region * wrap / 255.0
    result = fg.astype(np.float64)
    result[:h, :w] = np.where(matte[:h, :w, None] > 0, screened, region)
    return result


def test_light_wrap_on_the_actors_box_is_the_whole_frame_recipe() -> None:
    """Only the actor's box is shrunk, blurred and screened: the result is the whole-frame recipe's, to a code
    value, even for a stray speck of matte far from him and a frame of partial cells; and a bright edge under a
    strong wrap is screened, not clipped at white and then darkened (it was, by up to 45 code values)."""
    height, width = 182, 322
    rng = np.random.default_rng(5)
    matte = np.zeros((height, width), np.uint8)
    cv2.ellipse(matte, (120, 100), (30, 60), 0, 0, 360, 255, -1, lineType=cv2.LINE_AA)
    matte[10:12, 300:303] = 90                                        # a speck, far off
    fg = rng.integers(20, 200, (height, width, 3), dtype=np.uint8)
    bg = cv2.GaussianBlur(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), (0, 0), 6)
    wrapped = light_wrap(fg, matte, bg, radius=20, strength=0.8)     # 20 px: shrunk 4×, σ 2.5 cells
    oracle = whole_frame_wrap(fg, matte, bg, 4, 2.5, 0.8)
    assert np.abs(wrapped - oracle).max() <= 1.5, "to the uint8 rounding of the wrap and the screen"
    assert (wrapped[matte == 0] == fg[matte == 0]).all()
    assert (wrapped[10:12, 300:303] > fg[10:12, 300:303]).any(), "the speck, the whole screen round it, is lit"


# ------------------------------------------------------------------------------------------------ motion blur


def square_frame(x: int, y: int, width: int = 320, height: int = 180, side: int = 40) -> np.ndarray:
    """A textured square of straight RGBA (solid alpha) with its top-left corner at (x, y)."""
    rgba = np.zeros((height, width, 4), np.uint8)
    yy, xx = np.mgrid[0:side, 0:side]
    rgba[y : y + side, x : x + side, 0] = 200
    rgba[y : y + side, x : x + side, 1] = (100 + 60 * ((xx // 5 + yy // 5) % 2)).astype(np.uint8)
    rgba[y : y + side, x : x + side, 2] = 40
    rgba[y : y + side, x : x + side, 3] = 255
    return rgba


def energy(rgba: np.ndarray) -> float:
    """Total premultiplied light: what a shutter collects, which blurring must keep."""
    return float((rgba[..., :3].astype(np.float64) * rgba[..., 3:] / 255.0).sum())


def test_motion_blur_smears_along_the_motion_and_not_across_it() -> None:
    before, now = square_frame(100, 70), square_frame(124, 70)       # 24 px to the right
    blurred = motion_blur(now, before, shutter=0.5)
    alpha = blurred[..., 3].astype(int)
    # Across the motion (vertically) the edges stay hard: nothing above or below the square.
    assert alpha[:68].max() <= 3 and alpha[112:].max() <= 3
    # Along it, the square smears about shutter × 24 = 12 px: a ramp on each side, ~6 px out and in.
    row = alpha[90]
    assert row[124 - 6 : 124].mean() > 30                            # alpha reaches out behind the square
    assert row[164 : 164 + 6].mean() > 30                            # and ahead of it
    assert row[124 - 14 : 124 - 9].max() <= 10 and row[164 + 9 : 164 + 14].max() <= 10   # not farther
    assert row[124 + 2] < 250 and row[144] >= 250                     # the edge is soft, the middle solid
    assert energy(blurred) == pytest.approx(energy(now), rel=0.05)
    # Colour stays the element's: smeared edge pixels are not darkened (straight colour out).
    edge = (alpha > 40) & (alpha < 200)
    assert np.abs(blurred[edge][:, 0].astype(int) - 200).max() <= 8


def test_motion_blur_follows_a_vertical_motion() -> None:
    before, now = square_frame(140, 40), square_frame(140, 60)       # 20 px down
    alpha = motion_blur(now, before, shutter=1.0)[..., 3].astype(int)
    assert alpha[:, :138].max() <= 3 and alpha[:, 182:].max() <= 3   # nothing to the sides
    column = alpha[:, 160]
    assert column[60 - 8 : 60].mean() > 40 and column[100 : 100 + 8].mean() > 40


def test_motion_blur_of_a_still_element_or_shutter_zero_changes_nothing() -> None:
    frame = square_frame(100, 70)
    assert motion_blur(frame, square_frame(124, 70), shutter=0.0) is frame
    still = motion_blur(frame, frame.copy(), shutter=0.5)
    assert np.array_equal(still, frame)
    empty = np.zeros_like(frame)
    assert np.array_equal(motion_blur(empty, empty.copy(), shutter=0.5), empty)


def test_motion_blur_refuses_bad_input() -> None:
    frame = square_frame(100, 70)
    with pytest.raises(MediaError):
        motion_blur(frame[..., :3], frame[..., :3], shutter=0.5)
    with pytest.raises(MediaError):
        motion_blur(frame, frame[:100], shutter=0.5)
    with pytest.raises(ValueError):
        motion_blur(frame, frame, shutter=2.0)
