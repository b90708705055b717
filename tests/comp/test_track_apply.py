"""The set, its elements and the clean plate on a solved camera; the lens; motion blur by the shutter; markers out
of the key. Every check is on pixels of small synthetic frames with a known camera."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from soundstage.comp.camera import overscan_size
from soundstage.comp.follow import followed, pinned, shutter_blur, tracked_background
from soundstage.comp.keyer import ScreenColour, key, measure_screen
from soundstage.comp.lens import Lens, calibrate
from soundstage.comp.markers import clear_markers
from soundstage.errors import ProjectError
from soundstage.records.settings import Camera

W, H = 160, 90


def handheld(frames: int = 6) -> np.ndarray:
    """Frame 0 → frame i: a pan, a roll, a slow zoom and a little shake (a known camera, as a track solves it)."""
    moves = []
    for i in range(frames):
        angle, scale = np.deg2rad(0.4 * i), 1 + 0.008 * i
        shake = (1.3 * np.sin(2.1 * i), 0.9 * np.cos(1.7 * i) - 0.9)
        about = np.array([[1, 0, (W - 1) / 2], [0, 1, (H - 1) / 2], [0, 0, 1]])
        turn = np.array([[scale * np.cos(angle), -scale * np.sin(angle), 0],
                         [scale * np.sin(angle), scale * np.cos(angle), 0], [0, 0, 1]])
        pan = np.array([[1, 0, -2.5 * i + shake[0]], [0, 1, 0.6 * i + shake[1]], [0, 0, 1]])
        moves.append(pan @ about @ turn @ np.linalg.inv(about))
    return np.array(moves)


def dot_set(centre_in_frame0: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A grey set with one soft white dot; where the dot sits on frame 0 is found by rendering frame 0."""
    sw, sh = overscan_size(W, H)
    picture = np.full((sh, sw, 3), 60, np.uint8)
    spot = np.zeros((sh, sw), np.float32)
    spot[sh // 2 - 7, sw // 2 + 11] = 1.0
    spot = cv2.GaussianBlur(spot, (0, 0), 2.0)
    picture[...] = np.clip(60 + 180 * spot / spot.max(), 0, 255).astype(np.uint8)[..., None]
    return picture, spot


def centroid(picture: np.ndarray) -> np.ndarray:
    weight = np.clip(picture[..., 0].astype(np.float64) - 60, 0, None) if picture.ndim == 3 else picture
    ys, xs = np.mgrid[: weight.shape[0], : weight.shape[1]]
    return np.array([(weight * xs).sum(), (weight * ys).sum()]) / weight.sum()


def moved(h: np.ndarray, point: np.ndarray) -> np.ndarray:
    p = h @ np.array([point[0], point[1], 1.0])
    return p[:2] / p[2]


# -- the set follows the camera -----------------------------------------------------------------------------


@pytest.mark.parametrize("lensed", [False, True])
def test_a_set_point_lands_where_the_plates_point_lands(lensed: bool) -> None:
    lens = Lens.for_frame(W, H, k1=-0.12, k2=0.02) if lensed else None
    moves = handheld()
    picture, _ = dot_set()
    background = tracked_background(picture, moves, W, H, lens=lens, shutter=0)
    start = centroid(background(0))
    straight = lens.undistort_points(start[None])[0] if lens else start   # where it is through a straight lens
    for index in range(1, len(moves)):
        # a marker on the plate at frame 0's dot: the camera moves it by H (straight), the lens bends it
        expected = moved(moves[index], straight)
        if lens is not None:
            expected = lens.distort_points(expected[None])[0]
        found = centroid(background(index))
        assert np.hypot(*(found - expected)) < 0.15, (index, found, expected)


def test_the_sets_edge_never_shows_however_far_the_camera_pans() -> None:
    picture = np.full((overscan_size(W, H)[1], overscan_size(W, H)[0], 3), 200, np.uint8)
    picture[:2], picture[-2:], picture[:, :2], picture[:, -2:] = 0, 0, 0, 0     # a black border round the set
    far = np.array([np.array([[1, 0, -12.0 * i], [0, 1, 5.0 * i], [0, 0, 1]]) for i in range(5)])
    background = tracked_background(picture, far, W, H, shutter=0)
    for index in range(5):
        assert background(index).min() > 150, f"frame {index} shows the set's edge"


def test_with_depth_near_follows_the_track_and_far_stays() -> None:
    sw, sh = overscan_size(W, H)
    picture, _ = dot_set()
    travel = np.array([np.array([[1, 0, 3.0 * i], [0, 1, 0], [0, 0, 1]]) for i in range(4)])
    start = centroid(tracked_background(picture, travel, W, H, shutter=0)(0))
    near = tracked_background(picture, travel, W, H, depth=np.zeros((sh, sw), np.float32), parallax=1.0,
                              shutter=0)
    far = tracked_background(picture, travel, W, H, depth=np.ones((sh, sw), np.float32), parallax=1.0,
                             shutter=0)
    assert np.allclose(centroid(near(3)), np.add(start, (9, 0)), atol=0.2)
    assert np.allclose(centroid(far(3)), start, atol=0.2)


def test_an_element_pinned_to_the_set_follows_the_same_camera() -> None:
    moves = handheld()
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[40:50, 70:80] = (250, 120, 20, 255)

    pin = pinned(moves)
    for index in (2, 5):
        element = functools.partial(pin, rgba)
        alpha = element(index)[..., 3].astype(np.float64)
        assert np.hypot(*(centroid(alpha) - moved(moves[index], centroid(rgba[..., 3].astype(np.float64))))) < 0.1
        inside = element(index)[alpha > 250][:, :3]
        assert np.abs(inside.astype(int) - (250, 120, 20)).max() <= 1, "no dark fringe: premultiplied warp"


def test_the_clean_plate_follows_the_camera() -> None:
    moves = handheld()
    clean = np.zeros((H, W, 3), np.uint8)
    clean[30:60, 60:100] = 200
    follow = followed(clean, moves)
    assert np.array_equal(follow(0), clean)
    shifted = follow(4)[..., 0].astype(np.float64)
    assert np.hypot(*(centroid(shifted) - moved(moves[4], centroid(clean[..., 0].astype(np.float64))))) < 0.2


# -- motion blur by the shutter ------------------------------------------------------------------------------


def test_motion_blur_is_along_the_motion_only() -> None:
    picture = np.full((H, W, 3), 40, np.uint8)
    picture[:, 80:82] = 230        # a vertical line: a sideways move smears it
    picture[45:47, :] = 230        # a horizontal line: a sideways move leaves it sharp
    sideways = np.array([np.array([[1, 0, 8.0 * i], [0, 1, 0], [0, 0, 1]]) for i in range(3)])
    blurred = shutter_blur(picture, sideways, 1, 0.5)
    across = blurred[20, 70:95, 0].astype(int)
    lit = np.flatnonzero(across > 60)
    assert 4 <= len(lit) <= 8, f"a 180° shutter smears an 8 px/frame move over ~4 px: {across}"
    assert abs(across[lit].mean() - 40) < abs(230 - 40), "dimmer where it spread"
    down = blurred[35:57, 30, 0].astype(int)
    assert np.array_equal(down, picture[35:57, 30, 0].astype(int)), "no blur across the motion"
    assert np.array_equal(shutter_blur(picture, sideways, 1, 0.0), picture), "a closed shutter leaves it sharp"


def test_a_roll_blurs_the_corners_and_leaves_the_centre_sharp() -> None:
    picture = np.full((H, W, 3), 40, np.uint8)
    for y, x in ((44, 79), (8, 8), (81, 151)):
        picture[y, x] = 250
    about = np.array([[1, 0, (W - 1) / 2], [0, 1, (H - 1) / 2], [0, 0, 1]])
    roll = np.array([about @ np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
                     @ np.linalg.inv(about) for a in np.deg2rad([0, 4, 8])])
    blurred = shutter_blur(picture, roll, 1, 0.5)[..., 0].astype(int)
    assert blurred[44, 79] > 200, "the centre, which a roll does not move, stays sharp"
    for y, x in ((8, 8), (81, 151)):
        patch = blurred[y - 6: y + 6, x - 6: x + 6]
        assert patch.max() < 150 and (patch > 60).sum() >= 3, "a corner, which the roll sweeps, is smeared"


def test_a_still_camera_is_not_blurred() -> None:
    picture, _ = dot_set()
    still = np.repeat(np.eye(3)[None], 4, axis=0)
    background = tracked_background(picture, still, W, H, shutter=360)
    assert np.array_equal(background(2), tracked_background(picture, still, W, H, shutter=0)(2))


# -- the lens ------------------------------------------------------------------------------------------------


def test_lens_points_round_trip() -> None:
    lens = Lens.for_frame(W, H, k1=-0.2, k2=0.06, p1=0.001, p2=-0.002)
    points = np.random.default_rng(4).uniform((0, 0), (W - 1, H - 1), (200, 2))
    assert np.abs(lens.distort_points(lens.undistort_points(points)) - points).max() < 0.05
    assert np.abs(lens.undistort_points(lens.distort_points(points)) - points).max() < 0.05


def test_lens_pictures_round_trip_and_bend_where_the_model_says() -> None:
    lens = Lens.for_frame(W, H, k1=-0.2, k2=0.06, p1=0.001, p2=-0.002)
    for point in ((20.0, 15.0), (130.4, 70.7), (80.0, 45.0)):
        spot = np.zeros((H, W), np.float32)
        spot[round(point[1]), round(point[0])] = 1.0
        spot = cv2.GaussianBlur(spot, (0, 0), 1.5)
        at = centroid(spot)
        bent = lens.distort(spot, border=cv2.BORDER_CONSTANT)
        assert np.hypot(*(centroid(bent) - lens.distort_points(at[None])[0])) < 0.05
        back = lens.undistort(bent, border=cv2.BORDER_CONSTANT)
        assert np.hypot(*(centroid(back) - at)) < 0.05


def test_a_lens_that_cannot_be_inverted_is_refused() -> None:
    with pytest.raises(ProjectError, match="cannot be inverted over the 160×90 frame") as caught:
        Lens.for_frame(W, H, k1=-1.2)
    assert "\n" not in str(caught.value)
    Lens.for_frame(W, H, k1=-0.3)        # a strong but honest barrel is fine


def board_views(lens: Lens, count: int = 8, board: tuple[int, int] = (9, 6)) -> list[tuple[int, np.ndarray]]:
    """A 9×6 checkerboard seen from ``count`` angles through ``lens``: a rendered calibration plate."""
    columns, rows = board
    square = 40
    texture = np.full(((rows + 3) * square, (columns + 3) * square), 255, np.uint8)
    for r in range(rows + 1):
        for c in range(columns + 1):
            if (r + c) % 2 == 0:
                texture[(r + 1) * square: (r + 2) * square, (c + 1) * square: (c + 2) * square] = 0
    to_board = np.array([[1 / square, 0, -2], [0, 1 / square, -2], [0, 0, 1]])
    rng = np.random.default_rng(0)
    views = []
    for number in range(count):
        turn, _ = cv2.Rodrigues(np.array([rng.uniform(-0.35, 0.35), rng.uniform(-0.35, 0.35), rng.uniform(-0.2, 0.2)]))
        shift = np.array([-4 + rng.uniform(-3, 3), -2.5 + rng.uniform(-1.5, 1.5), rng.uniform(14, 17)])
        onto = lens.matrix @ np.column_stack([turn[:, 0], turn[:, 1], shift]) @ to_board
        straight = cv2.warpPerspective(texture, onto, (lens.width, lens.height), flags=cv2.INTER_AREA,
                                       borderValue=255)
        views.append((number * 3, lens.distort(straight)))
    return views


def test_calibration_on_a_rendered_checkerboard_recovers_the_lens() -> None:
    truth = Lens.for_frame(640, 360, k1=-0.18, k2=0.05)
    found = calibrate(board_views(truth))
    assert abs(found.lens.k1 - truth.k1) < 0.02
    assert abs(found.lens.fx - truth.fx) < 0.02 * truth.fx
    assert found.rms < 0.3 and len(found.found) >= 3
    assert found.toml().startswith("lens = { k1 = -0.1")


def test_no_board_is_refused_naming_the_frames_tried() -> None:
    noise = np.random.default_rng(1).integers(0, 255, (90, 160, 3), dtype=np.uint8)
    with pytest.raises(ProjectError) as caught:
        calibrate([(0, noise), (12, noise), (24, noise)], source="plates/board.mp4")
    message = str(caught.value)
    assert "no 9×6 checkerboard found in plates/board.mp4" in message and "tried frames 0, 12, 24" in message


def test_camera_settings_take_a_lens_and_a_shutter() -> None:
    camera = Camera.model_validate({"lens": {"k1": -0.1, "k2": 0.01}, "shutter": 172.8})
    assert camera.lens is not None and camera.lens.k1 == -0.1 and camera.lens.fx is None
    assert Camera().shutter == 180.0 and Camera().lens is None
    for bad in ({"shutter": 0}, {"shutter": 400}, {"lens": {"k3": 0.1}}):
        with pytest.raises(ValueError):
            Camera.model_validate(bad)


# -- markers out of the key ----------------------------------------------------------------------------------


def marked_plate() -> tuple[np.ndarray, np.ndarray]:
    """An actor on an unevenly lit green screen with dark and light tracking markers; the actor's true matte."""
    ramp = np.linspace(0.75, 1.0, W, dtype=np.float32)[None, :, None] * np.linspace(0.9, 1.0, H)[:, None, None]
    plate = (np.array([40, 180, 55], np.float32) * ramp).astype(np.uint8)
    actor = np.zeros((H, W), bool)
    actor[25:85, 60:95] = True
    actor[35:45, 95:110] = True               # an arm
    plate[actor] = (190, 90, 70)
    plate[55:60, 75:79] = (30, 90, 40)       # a dark-green patch on her costume: must stay
    actor[80:84, 120:124] = True              # a small red prop apart from her: small, but no marker's colour
    plate[80:84, 120:124] = (200, 40, 40)
    for y, x in ((10, 10), (12, 140), (70, 20), (75, 135)):
        cv2.circle(plate, (x, y), 3, (20, 70, 25), -1)               # darker-green dots
    for y, x in ((45, 30), (20, 120)):
        cv2.line(plate, (x - 4, y), (x + 4, y), (235, 240, 235), 2)  # light crosses
        cv2.line(plate, (x, y - 4), (x, y + 4), (235, 240, 235), 2)
    return plate, actor


@pytest.mark.parametrize("odd", [False, True])
def test_markers_leave_the_matte_without_specks_or_holes_and_the_actor_whole(odd: bool) -> None:
    plate, actor = marked_plate()
    if odd:     # an odd-sized frame: the half-size search must still reach every pixel
        plate, actor = np.ascontiguousarray(plate[:-1, :-1]), actor[:-1, :-1]
    screen = measure_screen(plate, "green")
    _, matte = key(plate, screen)
    assert matte[~actor].max() > 100, "the keyer alone leaves the markers in (the test has teeth)"
    cleared = clear_markers(matte, plate, screen)
    near_actor = cv2.dilate(actor.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert cleared[~near_actor].max() == 0, "no speck of any marker is left"
    assert np.array_equal(cleared[near_actor], matte[near_actor]), "the actor's matte is untouched"
    assert cleared[actor].min() == 255, "no hole in the actor"


def test_a_clean_plate_that_follows_the_camera_keys_a_moving_screen_clean() -> None:
    """A screen lit in hard bands, panned 6 px a frame: the clean plate of frame 0, moved by the track, still
    matches the screen on frame 5; left where it was, it keys the bands' edges in as specks."""
    from soundstage.comp.shot import ShotComp

    wide = np.zeros((H, W + 60, 3), np.uint8)
    for x in range(W + 60):
        band = (x // 12) % 2                                           # bands of light 12 px wide
        wide[:, x] = (40 + 20 * band, 130 + 70 * band, 50 + 20 * band)
    pan = np.array([np.array([[1, 0, -6.0 * i], [0, 1, 0], [0, 0, 1]]) for i in range(6)])

    def plate(index: int) -> np.ndarray:
        picture = np.ascontiguousarray(wide[:, 6 * index: 6 * index + W])
        picture[30:80, 70:100] = (200, 70, 60)                        # she stays in frame as the camera pans
        return picture

    clean = np.ascontiguousarray(wide[:, :W])
    black = np.zeros((H, W, 3), np.uint8)

    def comped(follow: bool) -> np.ndarray:
        # the screen given, not measured: what is tested is the clean plate's move, not the screen's estimate
        screen = ScreenColour(rgb=(40 / 255, 130 / 255, 50 / 255), channel="green")
        comp = ShotComp.prepare(width=W, height=H, frames=6, background=lambda index: black, first_plate=plate(0),
                                screen=screen, key_options={"clean_plate": clean})
        comp.grain = None
        if follow:
            comp.clean_plates = followed(clean, pan)
        return comp.frame(5, plate(5))

    screen_part = (slice(5, 25), slice(5, 60))
    followed_left = comped(follow=True)[screen_part].astype(int).sum()
    unmoved_left = comped(follow=False)[screen_part].astype(int).sum()
    assert followed_left < 50, "the open screen keys to the set"
    assert unmoved_left > 500, "an unmoved clean plate leaves the bands' edges in"


def test_markers_touching_the_actor_leave_the_matte_and_the_actor_keeps_every_alpha() -> None:
    """A light cross whose arm touches her dark hair, and a dark dot against her costume: each is keyed out on
    the screen's side, and not one of her pixels changes alpha (the hair, as dark and grey as a dot, stays)."""
    ramp = np.linspace(0.8, 1.0, W, dtype=np.float32)[None, :, None]
    plate = np.ascontiguousarray(np.broadcast_to(np.array([40, 180, 55], np.float32) * ramp, (H, W, 3))
                                 ).astype(np.uint8)
    actor = np.zeros((H, W), bool)
    actor[40:90, 60:95] = True                     # her costume
    plate[40:90, 60:95] = (190, 90, 70)
    hair = np.zeros((H, W), bool)
    hair[22:40, 64:91] = True                      # her dark hair on top
    actor |= hair
    plate[hair] = (34, 30, 28)
    markers = np.zeros((H, W), np.uint8)
    cv2.line(markers, (92, 30), (102, 30), 255, 2)  # a light cross, its left arm on her hair's edge
    cv2.line(markers, (97, 25), (97, 35), 255, 2)
    cv2.circle(markers, (97, 62), 3, 255, -1)       # a dark dot against her costume's side
    cross, dot = markers.astype(bool) & (np.arange(W) < 103)[None, :] & (np.arange(H) < 40)[:, None], \
        markers.astype(bool) & (np.arange(H) >= 40)[:, None]
    plate[cross & ~actor] = (235, 240, 235)
    plate[dot & ~actor] = (20, 70, 25)
    assert (cv2.dilate(hair.astype(np.uint8), np.ones((3, 3))).astype(bool) & cross & ~actor).any()
    assert (cv2.dilate(actor.astype(np.uint8), np.ones((3, 3))).astype(bool) & dot & ~actor).any()
    screen = measure_screen(plate, "green")
    _, matte = key(plate, screen)
    on_screen = (cross | dot) & ~actor
    assert matte[on_screen].min() > 100, "the keyer alone keeps them (the test has teeth)"
    cleared = clear_markers(matte, plate, screen)
    assert cleared[on_screen].max() <= 8, "no part of either marker is left on the screen's side"
    assert np.array_equal(cleared[actor], matte[actor]), "not one of her pixels changes alpha"
    assert cleared[actor].min() == 255


def test_markers_are_cleared_where_the_shot_says_and_by_default_only_on_a_tracked_camera() -> None:
    """The comp keys markers out only when asked (``markers``): a locked-off shot's screen has none, and a dark
    speck at the actor's rim can pass for one. The pipeline asks where the camera is tracked, or as
    ``key.markers`` says."""
    from soundstage.comp.shot import ShotComp
    from soundstage.pipeline.shot import clears_markers
    from soundstage.records.settings import Camera, KeySettings
    from soundstage.script.breakdown import Shot

    plate, actor = marked_plate()
    black = np.zeros((H, W, 3), np.uint8)

    def comped(markers: bool) -> np.ndarray:
        comp = ShotComp.prepare(width=W, height=H, frames=1, background=lambda index: black, first_plate=plate,
                                screen="green")
        comp.grain, comp.markers = None, markers
        return comp.frame(0, plate)

    off_actor = ~cv2.dilate(actor.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert comped(markers=False)[off_actor].max() > 100, "asked not to, the comp keeps the markers"
    assert comped(markers=True)[off_actor].max() < 8, "asked to, it keys them out"

    def shot(**fields: object) -> Shot:
        return Shot.model_construct(**{"id": "1-1", "scene": "1", "set": "s", "prompt": "", "duration": 1.0,
                                       "seed": 0, **fields})

    assert not clears_markers(shot())
    assert clears_markers(shot(camera=Camera(track="auto")))
    assert clears_markers(shot(key=KeySettings(markers=True)))
    assert not clears_markers(shot(camera=Camera(track="auto"), key=KeySettings(markers=False)))
