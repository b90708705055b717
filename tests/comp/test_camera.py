"""Camera moves on still sets, flat and with parallax, measured on synthetic sets whose depth is known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from soundstage.comp.camera import OVERSCAN, CameraMove, overscan_size
from soundstage.errors import MediaError, ProjectError

WIDTH, HEIGHT = 320, 180
MOVES = ("static", "push-in", "pull-out", "pan-left", "pan-right", "tilt-up", "tilt-down")


def old_frame(move: CameraMove, set_image: np.ndarray, t: float, width: int, height: int) -> np.ndarray:
    """The flat move as it was before parallax existed: the frames parallax 0 must reproduce exactly."""
    set_h, set_w = set_image.shape[:2]
    cx, cy, scale = move.window(t)
    win_w, win_h = set_w * scale, set_h * scale
    sx, sy = width / win_w, height / win_h
    matrix = np.array([[sx, 0, -(cx * set_w - win_w / 2) * sx], [0, sy, -(cy * set_h - win_h / 2) * sy]])
    return cv2.warpAffine(set_image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def texture(height: int, width: int, seed: int, low: int = 40, high: int = 220) -> np.ndarray:
    """Blotchy RGB texture with detail at several scales: phase correlation locks onto it."""
    rng = np.random.default_rng(seed)
    layers = [cv2.resize(rng.random((max(2, height // s), max(2, width // s), 3), dtype=np.float32), (width, height),
                         interpolation=cv2.INTER_CUBIC) for s in (2, 6, 18)]
    mix = np.mean(layers, axis=0)
    mix = (mix - mix.min()) / (mix.max() - mix.min())
    return (low + (high - low) * mix).astype(np.uint8)


def two_plane_set() -> tuple[np.ndarray, np.ndarray]:
    """A set whose top half is far (depth 1) and bottom half near (depth 0), both textured."""
    set_w, set_h = overscan_size(WIDTH, HEIGHT)
    image = texture(set_h, set_w, seed=3)
    depth = np.ones((set_h, set_w), np.float32)
    depth[set_h // 2 :] = 0.0
    return image, depth


def shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """How far the picture moved from ``a`` to ``b`` (dx, dy), by phase correlation."""
    ga = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    gb = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    (dx, dy), _ = cv2.phaseCorrelate(ga, gb)
    return dx, dy


@pytest.mark.parametrize("move", MOVES)
def test_parallax_zero_is_exactly_the_flat_move(move: str) -> None:
    image, depth = two_plane_set()
    flat = CameraMove(move, 0.15)
    rig = CameraMove(move, 0.15, 0.0).prepare(image, WIDTH, HEIGHT, depth=depth, frames=5)
    for index, t in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
        expected = old_frame(flat, image, t, WIDTH, HEIGHT)
        assert np.array_equal(flat.frame(image, t, WIDTH, HEIGHT), expected)
        assert np.array_equal(flat.frame(image, t, WIDTH, HEIGHT, depth=depth), expected)
        assert np.array_equal(rig.frame(t), expected)
        assert np.array_equal(rig(index), expected)


def test_parallax_on_a_static_camera_changes_nothing() -> None:
    image, depth = two_plane_set()
    rig = CameraMove("static", 0.1, 1.0).prepare(image, WIDTH, HEIGHT, depth=depth)
    assert np.array_equal(rig.frame(0.3), old_frame(CameraMove(), image, 0.3, WIDTH, HEIGHT))


@pytest.mark.parametrize("parallax", [0.5, 1.0])
def test_pan_moves_near_things_farther_than_far_things(parallax: float) -> None:
    image, depth = two_plane_set()
    rig = CameraMove("pan-right", 0.2, parallax).prepare(image, WIDTH, HEIGHT, depth=depth)
    first, last = rig.frame(0.0), rig.frame(1.0)
    # Keep clear of the depth step in the middle of the frame (rows 90 ± the vertical margin).
    far_dx, far_dy = shift(first[10:70], last[10:70])
    near_dx, near_dy = shift(first[110:170], last[110:170])
    # The whole move: amount 0.2 spends the overscan margin, (OVERSCAN − 1) frame widths.
    travel = WIDTH * (OVERSCAN - 1)
    assert near_dx == pytest.approx(-travel, abs=1.5)                 # near follows the flat move
    assert far_dx == pytest.approx(-travel * (1 - parallax), abs=1.5)  # far by only 1 − parallax of it
    assert abs(near_dy) < 0.5 and abs(far_dy) < 0.5


def test_tilt_with_parallax_moves_near_things_farther() -> None:
    set_w, set_h = overscan_size(WIDTH, HEIGHT)
    image = texture(set_h, set_w, seed=5)
    depth = np.ones((set_h, set_w), np.float32)
    depth[:, : set_w // 2] = 0.0                                      # left half near
    rig = CameraMove("tilt-down", 0.2, 0.8).prepare(image, WIDTH, HEIGHT, depth=depth)
    first, last = rig.frame(0.0), rig.frame(1.0)
    _, near_dy = shift(first[:, 20:140], last[:, 20:140])
    _, far_dy = shift(first[:, 180:300], last[:, 180:300])
    travel = HEIGHT * (OVERSCAN - 1)
    assert near_dy == pytest.approx(-travel, abs=1.5)
    assert far_dy == pytest.approx(-travel * 0.2, abs=1.5)


def blob_centre(frame: np.ndarray, channel: int) -> np.ndarray:
    mask = (frame[..., channel] > 200) & (frame[..., (channel + 1) % 3] < 60)
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


def test_push_in_enlarges_near_things_more() -> None:
    set_w, set_h = overscan_size(WIDTH, HEIGHT)
    image = np.full((set_h, set_w, 3), 90, np.uint8)
    depth = np.ones((set_h, set_w), np.float32)
    # A red marker, near, low left; a blue one, far, high right; both well off the centre of the push.
    cv2.rectangle(image, (126, 127), (138, 139), (255, 0, 0), -1)
    cv2.rectangle(depth, (116, 117), (148, 149), 0.0, -1)
    cv2.rectangle(image, (246, 77), (258, 89), (0, 0, 255), -1)
    rig = CameraMove("push-in", 0.3, 1.0).prepare(image, WIDTH, HEIGHT, depth=depth)
    flat = CameraMove("push-in", 0.3)
    centre = np.array([(WIDTH - 1) / 2, (HEIGHT - 1) / 2])
    wide, tight = rig.frame(0.0), rig.frame(1.0)
    near_growth = np.linalg.norm(blob_centre(tight, 0) - centre) / np.linalg.norm(blob_centre(wide, 0) - centre)
    far_growth = np.linalg.norm(blob_centre(tight, 2) - centre) / np.linalg.norm(blob_centre(wide, 2) - centre)
    assert near_growth == pytest.approx(1 / (1 - 0.3), rel=0.03)       # near: the whole push
    assert far_growth == pytest.approx(1.0, abs=0.02)                  # far, parallax 1: the horizon stays
    # The widest framing is where every depth agrees: the flat move's first frame.
    assert np.abs(wide.astype(int) - flat.frame(image, 0.0, WIDTH, HEIGHT).astype(int)).max() <= 2


def test_no_holes_and_no_ghosts_at_the_largest_move() -> None:
    """A near square slides across a far wall: what it uncovers is wall, never black, never a second square."""
    set_w, set_h = overscan_size(WIDTH, HEIGHT)
    image = texture(set_h, set_w, seed=9, low=60, high=160)
    image[..., 0] //= 3                                               # a green-blue wall, nothing red in it
    depth = np.ones((set_h, set_w), np.float32)
    cv2.rectangle(image, (150, 70), (200, 130), (250, 20, 20), -1)
    cv2.rectangle(depth, (150, 70), (200, 130), 0.0, -1)
    for move in ("pan-left", "pan-right", "tilt-up", "push-in", "pull-out"):
        amount = 0.5 if move in ("push-in", "pull-out") else 0.2
        rig = CameraMove(move, amount, 1.0).prepare(image, WIDTH, HEIGHT, depth=depth)
        flat = CameraMove(move, amount)
        for t in (0.0, 1.0):
            frame = rig.frame(t)
            assert frame.min() > 0, f"{move} t={t}: black pixels"
            red = (frame[..., 0] > 200) & (frame[..., 1] < 60)
            flat_red = (lambda f: (f[..., 0] > 200) & (f[..., 1] < 60))(flat.frame(image, t, WIDTH, HEIGHT))
            # Near follows the flat move, so its square matches the flat frame's: same size, same place.
            assert red.sum() == pytest.approx(flat_red.sum(), rel=0.08), move
            assert (red & flat_red).sum() >= 0.9 * flat_red.sum(), move


def test_uncovered_strip_shows_the_wall_beside_it() -> None:
    set_w, set_h = overscan_size(WIDTH, HEIGHT)
    image = np.zeros((set_h, set_w, 3), np.uint8)
    image[:] = (40, 160, 60)                                          # a plain green wall
    depth = np.ones((set_h, set_w), np.float32)
    cv2.rectangle(image, (150, 70), (200, 130), (250, 20, 20), -1)
    cv2.rectangle(depth, (150, 70), (200, 130), 0.0, -1)
    frame = CameraMove("pan-right", 0.2, 1.0).prepare(image, WIDTH, HEIGHT, depth=depth).frame(1.0)
    red = (frame[..., 0] > 200) & (frame[..., 1] < 60)
    green = (np.abs(frame.astype(int) - (40, 160, 60)).max(axis=2) <= 2)
    assert (red | green).mean() > 0.995                              # only the square and the wall, no smear


def test_provided_depth_of_another_size_is_resized_but_another_shape_is_refused() -> None:
    image, depth = two_plane_set()
    half = cv2.resize(depth, (depth.shape[1] // 2, depth.shape[0] // 2), interpolation=cv2.INTER_NEAREST)
    move = CameraMove("pan-left", 0.1, 0.5)
    a = move.prepare(image, WIDTH, HEIGHT, depth=depth).frame(0.0)
    b = move.prepare(image, WIDTH, HEIGHT, depth=half).frame(0.0)
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 2
    with pytest.raises(MediaError):
        move.prepare(image, WIDTH, HEIGHT, depth=np.ones((100, 100), np.float32))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ProjectError):
        CameraMove("pan-right", 0.1, 1.5)
    with pytest.raises(ProjectError):
        CameraMove("dolly-zoom")
    image, _ = two_plane_set()
    rig = CameraMove("pan-right").prepare(image, WIDTH, HEIGHT)
    with pytest.raises(ProjectError):
        rig(3)                                                        # no frame count given


def test_shutter_blurs_a_pan_along_its_motion_only() -> None:
    set_w, set_h = overscan_size(WIDTH, HEIGHT)
    yy, xx = np.mgrid[0:set_h, 0:set_w]
    columns = np.dstack([((xx // 3) % 2 * 200 + 30).astype(np.uint8)] * 3)    # detail across x only
    rows = np.dstack([((yy // 3) % 2 * 200 + 30).astype(np.uint8)] * 3)       # detail across y only
    move = CameraMove("pan-right", 0.2)

    def contrast(image: np.ndarray, shutter: float, index: int) -> float:
        return float(move.prepare(image, WIDTH, HEIGHT, frames=9, shutter=shutter)(index)[20:-20, 20:-20].std())

    # Mid-move the camera travels fastest: detail along the pan smears, detail across it stays.
    assert contrast(columns, 1.0, 4) < 0.5 * contrast(columns, 0.0, 4)
    assert contrast(rows, 1.0, 4) == pytest.approx(contrast(rows, 0.0, 4), rel=0.01)
    # At the ends the move eases to rest: nothing to blur.
    assert contrast(columns, 1.0, 0) == pytest.approx(contrast(columns, 0.0, 0), rel=0.01)
    set_image = columns
    push = CameraMove("push-in", 0.2)
    assert np.array_equal(push.prepare(set_image, WIDTH, HEIGHT, frames=9, shutter=1.0)(4),
                          push.prepare(set_image, WIDTH, HEIGHT, frames=9)(4))
    with pytest.raises(ProjectError):
        move.prepare(set_image, WIDTH, HEIGHT, shutter=0.5)             # a speed needs a frame count
