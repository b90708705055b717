"""Matte tools and the keyer's per-shot options, on plates whose true matte is known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_keyer import make_plate

from soundstage.comp import key, measure_screen
from soundstage.comp.matte import Roto, polygon_mask, refine_edges, shrink_grow, soften
from soundstage.errors import MediaError


def test_polygon_mask_covers_its_shape_with_soft_edges() -> None:
    mask = polygon_mask([[(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]], 100, 80)
    assert mask.shape == (80, 100) and mask.dtype == np.uint8
    assert (mask[22:58, 27:73] == 255).all() and (mask[:18] == 0).all() and (mask[:, :23] == 0).all()
    assert abs(mask.sum() / 255 - 50 * 40) < 60                 # its area, within the anti-aliased rim
    feathered = polygon_mask([[(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]], 100, 80, feather=6)
    assert 0 < feathered[40, 25] < 255 and feathered[40, 50] == 255


def test_roto_keep_garbage_and_core() -> None:
    matte = np.full((40, 40), 128, np.uint8)
    left = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]
    top = [(0.0, 0.0), (1.0, 0.0), (1.0, 0.25), (0.0, 0.25)]
    corner = [(0.75, 0.75), (1.0, 0.75), (1.0, 1.0), (0.75, 1.0)]
    out = Roto.build(40, 40, keep=[left], garbage=[top], core=[corner], feather=0).apply(matte)
    assert (out[15:, :18] == 128).all()          # kept, untouched
    assert (out[:28, 22:32] == 0).all()          # outside keep
    assert (out[:8, :18] == 0).all()             # garbage wins inside keep
    assert (out[32:, 32:] == 255).all()          # core is solid, even outside keep
    assert Roto.build(40, 40).apply(matte) is matte


def test_shrink_grow_and_soften() -> None:
    matte = np.zeros((50, 50), np.uint8)
    matte[20:30, 20:30] = 255
    assert (shrink_grow(matte, -2) > 0).sum() == 6 * 6
    assert (shrink_grow(matte, 2) > 0).sum() > 13 * 13
    assert shrink_grow(matte, 0) is matte and soften(matte, 0) is matte
    soft = soften(matte, 1.5)
    assert 0 < soft[25, 19] < 255 and soft[25, 25] == 255


def edge_error(matte: np.ndarray, truth: np.ndarray) -> float:
    band = cv2.dilate(((truth > 0) & (truth < 1)).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return float(np.abs(matte / 255.0 - truth)[band].mean())


def test_refine_edges_restores_edges_that_h264_chroma_blurred() -> None:
    sample = make_plate("green", seed=3, chroma_420=True)
    screen = measure_screen(sample.plate)
    _, plain = key(sample.plate, screen)
    _, refined = key(sample.plate, screen, refine=2)
    assert edge_error(refined, sample.alpha) < edge_error(plain, sample.alpha)
    # only the uncertain band moves: solid and clear pixels stay exactly as they were
    settled = cv2.erode(cv2.inRange(plain, 1, 254), np.ones((1, 1), np.uint8)) == 0
    far = cv2.dilate(cv2.inRange(plain, 1, 254), np.ones((3, 3), np.uint8)) == 0
    assert np.array_equal(refined[settled & far], plain[settled & far])
    flat = np.zeros((10, 10), np.uint8)
    assert refine_edges(sample.plate[:10, :10], flat) is flat


def test_clean_plate_keys_an_uneven_screen_without_estimating_it() -> None:
    sample = make_plate("green", seed=6)
    # the clean plate is the same screen without the subject: here, the plate with the subject inpainted away
    empty = sample.plate.copy()
    outside = sample.alpha == 0
    empty[~outside] = cv2.inpaint(sample.plate, (~outside).astype(np.uint8) * 255, 5, cv2.INPAINT_TELEA)[~outside]
    screen = measure_screen(sample.plate)
    _, with_clean = key(sample.plate, screen, clean_plate=empty)
    _, flat = key(sample.plate, screen, even_screen=False)
    truth = sample.alpha
    assert np.abs(with_clean / 255.0 - truth).mean() < np.abs(flat / 255.0 - truth).mean() / 5
    with pytest.raises(MediaError, match="clean plate is"):
        key(sample.plate, screen, clean_plate=empty[:-2])


def test_gain_and_balance_move_the_matte_the_right_way() -> None:
    sample = make_plate("green", seed=7)
    screen = measure_screen(sample.plate)
    _, normal = key(sample.plate, screen)
    _, harder = key(sample.plate, screen, gain=1.3)
    _, mean_balance = key(sample.plate, screen, balance=0.5)
    edge = (sample.alpha > 0.05) & (sample.alpha < 0.95)
    assert harder[edge].mean() < normal[edge].mean() - 3, "more gain: more of the edge goes transparent"
    assert not np.array_equal(mean_balance, normal)
    with pytest.raises(ValueError, match="balance"):
        key(sample.plate, screen, balance=1.5)
    with pytest.raises(ValueError, match="gain"):
        key(sample.plate, screen, gain=0.0)
