"""Conform size (fit, fill: aspect kept, never stretched) and frame rate (nearest frame)."""

from __future__ import annotations

import numpy as np
import pytest

from soundstage.media import conform_rate, conform_size


def card(width: int, height: int, channels: int = 3) -> np.ndarray:
    """A grey card with a white ring one pixel in from its edges: shows where the picture went."""
    frame = np.full((height, width, channels), 128, np.uint8)
    frame[[0, -1], :] = 255
    frame[:, [0, -1]] = 255
    return frame


def test_fit_letterboxes_a_wide_plate() -> None:
    out = conform_size(card(200, 50), 100, 100, "fit")       # 4:1 into 1:1 → 100×25, bars above and below
    assert out.shape == (100, 100, 3)
    rows = np.nonzero(out[:, 50, 0])[0]
    assert (rows.min(), rows.max()) == (37, 61)                # 25 picture rows, centred
    assert (out[:37] == 0).all() and (out[62:] == 0).all()    # the bars are black
    assert out[50, 0, 0] > 0 and out[50, 99, 0] > 0            # picture touches both sides


def test_fit_pillarboxes_a_tall_plate_and_clears_alpha() -> None:
    out = conform_size(card(50, 100, 4), 160, 90, "fit")       # 1:2 into 16:9 → 45×90
    assert out.shape == (90, 160, 4)
    cols = np.nonzero(out[45, :, 3])[0]
    assert (cols.min(), cols.max()) == (57, 101)               # 45 columns, centred
    assert (out[:, :57] == 0).all() and (out[:, 102:] == 0).all()   # transparent black bars


def test_fill_covers_and_crops_the_centre() -> None:
    source = np.zeros((100, 200, 3), np.uint8)
    source[:, :, 0] = np.arange(200, dtype=np.uint8)[None, :]    # a ramp across: shows which columns survive
    out = conform_size(source, 100, 100, "fill")
    assert out.shape == (100, 100, 3)
    assert abs(int(out[50, 0, 0]) - 50) <= 1 and abs(int(out[50, -1, 0]) - 149) <= 1   # source cols 50..149
    matte = conform_size(np.full((30, 40), 255, np.uint8), 60, 30, "fill")   # mattes too, enlarging
    assert matte.shape == (30, 60) and (matte == 255).all()


def test_same_size_and_bad_mode() -> None:
    frame = card(64, 36)
    assert conform_size(frame, 64, 36, "fit") is frame
    with pytest.raises(ValueError, match="fit"):
        conform_size(frame, 32, 32, "stretch")  # type: ignore[arg-type]


def test_30_to_24_drops_one_frame_in_five() -> None:
    picked = list(conform_rate(range(30), 30, 24))
    assert len(picked) == 24
    assert picked[:8] == [0, 1, 3, 4, 5, 6, 8, 9]
    assert sorted(set(range(30)) - set(picked)) == [2, 7, 12, 17, 22, 27]


def test_24_to_30_repeats_and_ntsc_rates() -> None:
    picked = list(conform_rate(iter(range(24)), 24, 30))
    assert len(picked) == 30 and picked[:6] == [0, 1, 2, 2, 3, 4]
    assert list(conform_rate(range(10), 24, 24)) == list(range(10))
    film = list(conform_rate(range(1001), 24000 / 1001, 24))   # 23.976 → 24: one repeat in a thousand
    assert len(film) == 1002 and len(set(film)) == 1001
    with pytest.raises(ValueError):
        conform_rate(range(3), 0, 24)
