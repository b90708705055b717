"""Blend modes on small arrays whose results are worked out by hand (straight alpha, 8-bit levels)."""

from __future__ import annotations

import numpy as np
import pytest

from soundstage.comp.over import BLEND_MODES, add, blend, over, screen

ALPHA = [0, 64, 128, 191, 255]


def layers(fg_level: int = 200, bg_level: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fg = np.full((3, 5, 3), fg_level, np.uint8)
    bg = np.full((3, 5, 3), bg_level, np.uint8)
    alpha = np.array(ALPHA, np.uint8)[None, :].repeat(3, 0)
    return fg, alpha, bg


def test_add_is_background_plus_light_saturating() -> None:
    fg, alpha, bg = layers()
    out = add(fg, alpha, bg)
    # light = 200·α/255 = 0, 50.2, 100.4, 149.8, 200; + 100, and 300 saturates at 255.
    assert out.dtype == np.uint8 and out.shape == fg.shape
    assert out[1, :, 0].tolist() == [100, 150, 200, 250, 255]
    assert np.array_equal(out[..., 0], out[..., 2])


def test_screen_never_clips_and_never_darkens() -> None:
    fg, alpha, bg = layers()
    out = screen(fg, alpha, bg)
    # 100 + light·(255 − 100)/255: 100, 100 + 50·0.608 = 130.4, 100 + 100·0.608 = 160.8, 100 + 150·0.608 = 191.2,
    # 100 + 200·0.608 = 221.6.
    assert out[0, :, 1].tolist() == [100, 130, 161, 191, 222]
    bright = np.full_like(bg, 250)
    assert screen(fg, alpha, bright)[0, :, 0].tolist() == [250, 251, 252, 253, 254]
    black = np.zeros_like(fg)
    assert np.array_equal(screen(black, alpha, bg), bg)
    assert np.array_equal(add(black, alpha, bg), bg)


def test_screen_of_white_at_full_alpha_is_white() -> None:
    fg, alpha, bg = layers(fg_level=255, bg_level=37)
    assert screen(fg, alpha, bg)[0, -1].tolist() == [255, 255, 255]
    assert screen(fg, alpha, bg)[0, 0].tolist() == [37, 37, 37]


def test_float_and_hxwx1_alpha_match_uint8() -> None:
    fg, alpha, bg = layers()
    for mode in BLEND_MODES:
        expected = blend(fg, alpha, bg, mode)
        assert np.array_equal(blend(fg, alpha.astype(np.float32) / 255, bg, mode), expected), mode
        assert np.array_equal(blend(fg, alpha[..., None], bg, mode), expected), mode


def test_blend_dispatches_each_mode() -> None:
    fg, alpha, bg = layers()
    assert np.array_equal(blend(fg, alpha, bg), over(fg, alpha, bg))
    assert np.array_equal(blend(fg, alpha, bg, "screen"), screen(fg, alpha, bg))
    assert np.array_equal(blend(fg, alpha, bg, "add"), add(fg, alpha, bg))
    with pytest.raises(ValueError, match="blend mode"):
        blend(fg, alpha, bg, "multiply")  # type: ignore[arg-type]


def test_per_channel_colour_of_fire() -> None:
    fg = np.array([[[255, 128, 0]]], np.uint8)
    bg = np.array([[[20, 40, 200]]], np.uint8)
    alpha = np.array([[128]], np.uint8)
    # light = (128.0, 64.25, 0) → (128, 64, 0)
    assert add(fg, alpha, bg)[0, 0].tolist() == [148, 104, 200]
    # 20 + 128·235/255 = 137.96, 40 + 64·215/255 = 93.96, 200 + 0
    assert screen(fg, alpha, bg)[0, 0].tolist() == [138, 94, 200]


def test_light_modes_refuse_mismatched_inputs() -> None:
    fg = np.zeros((4, 6, 3), np.uint8)
    for mode in ("screen", "add"):
        with pytest.raises(ValueError, match="one size"):
            blend(fg, np.zeros((4, 6), np.uint8), np.zeros((4, 7, 3), np.uint8), mode)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="uint8"):
            blend(fg.astype(np.float32), np.zeros((4, 6), np.uint8), fg, mode)  # type: ignore[arg-type]
