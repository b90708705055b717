"""Sitting the actor in the set, checked on pixels: elements placed and ordered against the matte, the actor's
shadow and contact shadow on the set, interactive light from a bright element, and the relight to the set."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from soundstage.comp.placement import Placement, head_box, place
from soundstage.comp.shot import Element, Look, ShotComp

W, H = 160, 90
ACTOR = (slice(20, 70), slice(100, 120))       # rows, columns of the actor (feet at row 69: standing)
SCREEN = (40, 190, 50)
ORANGE = (255, 140, 30)


def plate(actor: tuple[int, int, int] = (200, 60, 50)) -> np.ndarray:
    frame = np.empty((H, W, 3), np.uint8)
    frame[:] = SCREEN
    frame[ACTOR] = actor
    return frame


def disc(cx: float, cy: float, radius: float, colour: tuple[int, int, int] = ORANGE, alpha: int = 255
         ) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = np.where((xx - cx) ** 2 + (yy - cy) ** 2 <= radius ** 2, alpha, 0)
    return rgba


def grey_set(index: int = 0) -> np.ndarray:
    return np.full((H, W, 3), 128, np.uint8)


def comp(elements: list[Element], look: Look | None = None, *, background=grey_set, actor=(200, 60, 50),
         frames: int = 1) -> ShotComp:
    return ShotComp.prepare(width=W, height=H, frames=frames, background=background, elements=elements,
                            look=look or Look(grain=False), first_plate=plate(actor))


def is_orange(pixel: np.ndarray) -> bool:
    return bool(abs(int(pixel[0]) - 255) < 20 and abs(int(pixel[1]) - 140) < 20 and int(pixel[2]) < 60)


def test_an_element_sits_where_at_and_scale_say() -> None:
    fire = disc(80, 45, 10)
    element = Element("fire", lambda i: fire, placement=Placement(at=(0.25, 0.5), scale=0.5))
    frame = comp([element]).frame(0, plate())
    assert is_orange(frame[45, 40]), "its centre moved to x 0.25, y 0.5"
    assert is_orange(frame[45, 43]) and not is_orange(frame[45, 47]), "half its radius of 10 px"
    assert (frame[45, 80] == 128).all(), "nothing left where it was generated"


@pytest.mark.parametrize("front", [False, True])
def test_an_element_behind_is_occluded_by_the_matte_and_one_in_front_covers_the_actor(front: bool) -> None:
    fire = disc(80, 45, 10)
    element = Element("fire", lambda i: fire, front=front, placement=Placement(at=(110 / W, 0.5), scale=1.5))
    frame = comp([element]).frame(0, plate())
    assert is_orange(frame[45, 97]), "beside the actor it shows either way"
    r, g, b = frame[45, 110].astype(int)
    if front:
        assert is_orange(frame[45, 110]), "in front, it covers the actor"
    else:
        assert r > 150 and g < 100 and b < 100, "behind, the actor covers it"


def test_a_placed_element_starts_late_and_travels_its_path() -> None:
    fire = disc(80, 45, 6)
    element = Element("fire", lambda i: fire, placement=Placement(at=(0.1, 0.2), to=(0.5, 0.2), start=2))
    shot = comp([element], frames=6)
    assert not is_orange(shot.frame(1, plate())[18, 16]), "not there before it starts"
    assert is_orange(shot.frame(2, plate())[18, 16]), "at `at` on its first frame"
    assert is_orange(shot.frame(5, plate())[18, 80]), "at `to` on the shot's last"


def test_without_a_hint_an_element_keeps_off_the_face() -> None:
    matte = np.zeros((H, W), np.uint8)
    matte[ACTOR] = 255
    head = head_box(matte)
    assert head is not None and head[1] == 20 and head[0] >= 100 and head[0] + head[2] <= 120
    magic = disc(110, 25, 8)       # generated right over his head
    placed = place(Placement(), magic, frames=1, matte=matte)
    moved = placed.apply(magic, 0)[..., 3]
    hx, hy, hw, hh = head
    assert moved[hy:hy + hh, hx:hx + hw].max() == 0, "nothing on the head"
    assert moved.sum() == magic[..., 3].sum(), "moved whole, not cut"


def lit_by(light: tuple[float, float], shadow: float, contact: float = 0.0) -> np.ndarray:
    look = Look(grain=False, shadow=shadow, contact=contact, light=light)
    return comp([], look).frame(0, plate()).astype(int)


def test_the_shadow_falls_away_from_the_light_by_the_amount_set() -> None:
    plain = lit_by((0.05, 0.1), 0.0)
    strong, half = lit_by((0.05, 0.1), 0.8), lit_by((0.05, 0.1), 0.4)
    away = (slice(60, 90), slice(121, 160))          # right of him and below his middle
    toward = (slice(0, 90), slice(0, 95))
    dark = (plain - strong)[away].mean()
    assert dark > 4, "the set darkens on the side away from the light"
    assert (plain - strong)[toward].mean() < dark / 4, "and hardly on the side of the light"
    assert 0.35 < (plain - half)[away].mean() / dark < 0.65, "by the strength set"
    assert (strong[ACTOR] == plain[ACTOR]).all(), "the actor himself is not darkened"
    mirrored = lit_by((0.95, 0.1), 0.8)
    assert (plain - mirrored)[(slice(60, 90), slice(60, 99))].mean() > 3, "a light on the right throws it left"


def test_a_contact_shadow_under_the_feet_and_none_when_off() -> None:
    plain, contact = lit_by((0.5, 0.0), 0.0), lit_by((0.5, 0.0), 0.0, contact=1.0)
    assert (plain - contact)[70:73, 104:116].mean() > 20, "dark right under the feet"
    assert (plain - contact)[85:90].max() < 3 and (plain - contact)[:50].max() == 0, "and nowhere else"
    assert (plain == comp([], Look(grain=False)).frame(0, plate())).all(), "off: the set as it was"


def test_a_fire_lights_the_near_side_frame_by_frame_and_leaves_the_screen_alone() -> None:
    strengths = [255, 60, 180]
    flicker = [disc(85, 45, 10, alpha=a) for a in strengths]
    fire = Element("fire", lambda i: flicker[i], light=True)
    grey = (120, 120, 120)
    lit = comp([fire], Look(grain=False, interactive_light=1.0), actor=grey, frames=3)
    unlit = comp([fire], Look(grain=False), actor=grey, frames=3)
    near, far = (slice(30, 60), slice(100, 104)), (slice(30, 60), slice(116, 120))
    gains = []
    for index in range(3):
        on, off = lit.frame(index, plate(grey)).astype(int), unlit.frame(index, plate(grey)).astype(int)
        change = (on - off)[near].reshape(-1, 3).mean(0)
        assert change[0] > change[1] > change[2] >= 0, "toward the fire's orange"
        assert (on - off)[far].mean() < (on - off)[near].mean(), "more on the side near the fire"
        outside = np.ones((H, W), bool)
        outside[18:72, 98:122] = False
        assert (on[outside] == off[outside]).all(), "screen and set pixels untouched"
        gains.append(change[0])
    assert gains[0] > gains[2] > gains[1] > 0, "it flickers with the element"


def test_relight_grades_the_actor_toward_the_sets_key_and_fill() -> None:
    def warm_left(index: int = 0) -> np.ndarray:
        picture = np.empty((H, W, 3), np.uint8)
        picture[:, : W // 2] = (230, 190, 140)     # a warm key on the left
        picture[:, W // 2:] = (30, 40, 70)         # a cool dark fill on the right
        return picture
    grey = (120, 120, 120)
    look = Look(grain=False, relight=1.0)
    frame = comp([], look, background=warm_left, actor=grey).frame(0, plate(grey)).astype(int)
    left, right = frame[30:60, 100:104].reshape(-1, 3).mean(0), frame[30:60, 116:120].reshape(-1, 3).mean(0)
    assert left.sum() > right.sum() + 30, "brighter on the side of the light"
    assert left[0] - left[2] > 10, "warm on the key side"
    assert right[2] - right[0] > 3, "cool on the fill side"


def test_on_the_ground_an_element_stands_at_the_actors_feet_or_at_its_depth_in_the_set() -> None:
    matte = np.zeros((H, W), np.uint8)
    matte[ACTOR] = 255
    rock = disc(30, 20, 6)                                     # generated floating high on the left
    grounded = place(Placement(anchor="ground"), rock, frames=1, matte=matte).apply(rock, 0)[..., 3]
    rows = np.flatnonzero(grounded.any(axis=1))
    assert abs(rows[-1] - 69) <= 1, "its foot on the actor's ground line (row 69)"
    depth = np.tile(np.linspace(1.0, 0.0, H, dtype=np.float32)[:, None], (1, W))   # the ground recedes upward
    near = place(Placement(depth=4.0), rock, frames=1, depth=depth).apply(rock, 0)[..., 3]
    far = place(Placement(depth=20.0), rock, frames=1, depth=depth).apply(rock, 0)[..., 3]
    near_rows, far_rows = np.flatnonzero(near.any(axis=1)), np.flatnonzero(far.any(axis=1))
    assert abs(near_rows[-1] - round((H - 1) * 0.5)) <= 2, "4 m: where the set's disparity is 1 − 2/4"
    assert far_rows[-1] < near_rows[-1] - 20, "20 m stands higher, nearer the horizon"
    assert np.count_nonzero(far) < np.count_nonzero(near) / 4, "and smaller, as 1/distance"


def test_on_a_1080p_sized_matte_the_shadows_darken_the_ground_by_the_amount_set() -> None:
    """At a size where the shadows are cast on a shrunk matte (shrink 4 at 960 wide, over the actor's box only):
    the ground right under the feet takes the contact shadow's full dark (0.7 of the set's light at strength 1),
    the cast shadow falls on the side away from the light, and the set above the feet and toward the light is
    not touched at all."""
    from soundstage.comp.shadow import Shadow

    height, width = 540, 960
    matte = np.zeros((height, width), np.uint8)
    matte[150:400, 450:510] = 255                     # standing: feet on row 399
    matte[20:24, 900:904] = 40                        # and a faint speck far off, which casts nothing
    ground = np.full((height, width, 3), 200, np.uint8)
    contact = Shadow((0.2, 0.1), cast=0.0, contact=1.0).apply(ground, matte).astype(int)
    under = contact[400:403, 470:490].mean()
    assert 200 * 0.3 - 8 <= under <= 200 * 0.3 + 12, "0.7 of the light taken right under the feet"
    assert (contact[:370] == 200).all() and (contact[430:] == 200).all(), "a thin band at the ground line only"
    cast = Shadow((0.2, 0.1), cast=1.0, contact=0.0).apply(ground, matte).astype(int)
    away, toward = cast[400:540, 510:960], cast[400:540, 0:450]
    assert (200 - away).mean() > 4 * max((200 - toward).mean(), 0.25), "away from the light (up and left)"
    assert (cast[:150] == 200).all(), "nothing above his head"


def test_relight_and_interactive_light_folded_on_a_coarse_grid_stay_within_a_code_value_or_two() -> None:
    """The relight's gain and the fire's light are made on a grid 8× coarser over the actor's box and applied as
    one gain and one lift: on a textured actor that is the per-pixel recipe (gain, then light on that) to within
    3 code values, and pixels outside his box are not touched."""
    from soundstage.comp.light import Relight, _element_light, _over_box, light_actor

    height, width = 360, 640
    rng = np.random.default_rng(3)
    fg = rng.integers(10, 240, (height, width, 3), dtype=np.uint8)
    box = (300, 60, 120, 280)
    warm_left = np.empty((height, width, 3), np.uint8)
    warm_left[:, : width // 2], warm_left[:, width // 2:] = (230, 190, 140), (30, 40, 70)
    relight = Relight.measure(warm_left, (0.1, 0.3), strength=1.0)
    fire = np.zeros((height, width, 4), np.uint8)
    cv2.circle(fire, (250, 250), 40, (255, 140, 30, 255), -1)
    region = fg[60:340, 300:420].copy()
    assert light_actor(region, box, (height, width), relight=relight, lights=[fire], strength=1.0)
    ys, xs = np.mgrid[60:340, 300:420].astype(np.float32)
    gain = relight.gain(xs[0], ys[:, 0], box, (height, width))
    light = _over_box(_element_light(fire, 1.0, 0.12), box, width, height).astype(np.float64)
    graded = fg[60:340, 300:420] * gain
    expected = graded + 0.35 * light + 0.65 * graded * light / 255.0
    assert np.abs(region - np.clip(expected, 0, 255)).max() <= 3
    assert (light[..., 0] > 40).any() and (region.astype(int) - fg[60:340, 300:420] > 30).any(), "it is lit"


def test_the_set_handed_in_is_never_darkened_in_place() -> None:
    """The shadow darkens the comp's own copy of the set: a still set handed in for every frame stays as it was,
    so the next frame's shadow is not laid on the last one's."""
    still = grey_set()
    shot = comp([], Look(grain=False, shadow=1.0, contact=1.0, light=(0.05, 0.1)), background=lambda index: still,
                frames=2)
    first, second = shot.frame(0, plate()), shot.frame(1, plate())
    assert (still == 128).all(), "the set handed in is untouched"
    assert (first == second).all() and (first < 128).any(), "each frame shadowed once"
