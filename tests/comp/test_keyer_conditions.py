"""The keyer under a real screen's conditions, each on a small plate whose true matte is exact: a wrinkled
screen, a shiny object that reflects it, spill on white fur, a dim and noisy blue screen, wire mesh whose holes
are real, hair's soft edge, and a moving clip that must not flicker.

Subjects are drawn 8× oversized and shrunk by area, so a pixel's alpha is the share of it the subject covers.
Bounds are the measured errors with a margin (the figure is in each assertion's comment).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from soundstage.comp import key, measure_screen
from soundstage.comp.shot import Look, ShotComp
from soundstage.errors import MediaError

GREEN, BLUE = (52, 168, 78), (28, 72, 182)
SUPER = 8
W, H = 128, 96


def drawn(shapes: list[tuple[str, tuple, float]], width: int = W, height: int = H) -> np.ndarray:
    """Coverage (H×W float32 0..1) of ('line', points, px wide) / ('disc', (cx, cy, r), 0) / ('box', …) shapes."""
    big = np.zeros((height * SUPER, width * SUPER), np.uint8)
    for kind, where, size in shapes:
        if kind == "line":
            points = np.round(np.array(where) * SUPER).astype(np.int32)
            cv2.polylines(big, [points], False, 255, thickness=max(1, round(size * SUPER)))
        elif kind == "disc":
            cx, cy, r = where
            cv2.circle(big, (round(cx * SUPER), round(cy * SUPER)), round(r * SUPER), 255, -1)
        else:
            x0, y0, x1, y1 = where
            cv2.rectangle(big, (round(x0 * SUPER), round(y0 * SUPER)), (round(x1 * SUPER), round(y1 * SUPER)), 255, -1)
    return cv2.resize(big.astype(np.float32) / 255.0, (width, height), interpolation=cv2.INTER_AREA)


def shoot(alpha: np.ndarray, fg: np.ndarray, screen: tuple[int, int, int], *, light: np.ndarray | None = None,
          noise: float = 1.5, spill: float = 0.0, seed: int = 0, level: float = 1.0) -> np.ndarray:
    """The subject over the screen (lit by ``light``), spill near its edge on bright surfaces, sensor noise."""
    rng = np.random.default_rng(seed)
    height, width = alpha.shape
    nominal = np.array(screen, np.float32) * np.float32(level)
    backing = (np.ones((height, width), np.float32) if light is None else light)[..., None] * nominal
    fg = np.broadcast_to(np.asarray(fg, np.float32), (height, width, 3)).astype(np.float32)
    if spill:
        near = cv2.GaussianBlur((alpha < 0.99).astype(np.float32), (0, 0), 3.0)
        bright = fg.mean(axis=-1, keepdims=True) / 128.0
        fg = fg + (spill * near)[..., None] * bright * (nominal - nominal.min()) / 100
    picture = alpha[..., None] * fg + (1 - alpha[..., None]) * backing
    picture += rng.normal(0, noise, picture.shape).astype(np.float32)
    return np.clip(picture + 0.5, 0, 255).astype(np.uint8)


def sad(matte: np.ndarray, alpha: np.ndarray, where: np.ndarray | None = None) -> float:
    error = np.abs(matte.astype(np.float32) / 255.0 - alpha)
    return float((error if where is None else error[where]).sum() / 1000.0)


def hair(colour: tuple[int, int, int], seed: int = 4, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A head with 60 strands 0.4–2.5 px wide: (alpha, fg)."""
    rng = np.random.default_rng(seed)
    cx, cy, r = W * (0.5 + shift), H * 0.62, H * 0.22
    shapes: list[tuple[str, tuple, float]] = [("disc", (cx, cy, r), 0)]
    for _ in range(60):
        angle = rng.uniform(-np.pi * 0.95, -np.pi * 0.05)
        t = np.linspace(0, 1, 16)[:, None]
        start = np.array([cx + 0.9 * r * np.cos(angle), cy + 0.9 * r * np.sin(angle)])
        path = start + t * rng.uniform(0.2, 0.45) * H * np.array([np.cos(angle), np.sin(angle)]) \
            + np.sin(t * 9 + rng.uniform(0, 6)) * 1.5
        shapes.append(("line", tuple(map(tuple, path)), float(np.exp(rng.uniform(np.log(0.4), np.log(2.5))))))
    alpha = drawn(shapes)
    head = drawn([("disc", (cx, cy, r), 0)])
    fg = np.where((head > 0.5)[..., None], np.array([205, 150, 120], np.float32), np.array(colour, np.float32))
    return alpha, fg


def folds(seed: int = 2) -> np.ndarray:
    """A cloth screen's light: three soft dark folds, 25–30 % darker than the screen around them."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    light = np.ones((H, W), np.float32)
    for x, depth in ((22, 0.3), (100, 0.25)):
        light *= 1 - depth * np.exp(-((xx - x - 3 * np.sin(yy / 9)) / 4.0) ** 2)
    light *= 1 - 0.28 * np.exp(-((yy - 14) / 3.5) ** 2)
    return light


def test_the_folds_of_a_wrinkled_screen_key_clear() -> None:
    alpha = drawn([("disc", (64, 60, 22), 0)])
    plate = shoot(alpha, (200, 150, 120), GREEN, light=folds())
    screen = measure_screen(plate)
    _, matte = key(plate, screen)
    _, flat = key(plate, screen, folds=False)
    far = cv2.erode((alpha == 0).astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    # measured: open screen SAD 0.18 following the folds, 0.33 without (the folds key as a faint veil; what is
    # left is their steep flanks, which are not smooth on this small a plate)
    assert sad(matte, alpha, far) < 0.6 * sad(flat, alpha, far), (sad(matte, alpha, far), sad(flat, alpha, far))
    assert matte[alpha >= 1].min() == 255


def reflecting(reach: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A chrome kettle with the screen mirrored in a vertical streak ``reach`` of its height long: plate, α, streak."""
    alpha = drawn([("disc", (64, 50, 30), 0)])
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    streak = np.exp(-((xx - 56) / 5.0) ** 2) * (np.abs(yy - 50) < 30 * reach)
    chrome = np.array([170, 172, 178], np.float32)
    mirrored = chrome * (1 - 0.6 * streak[..., None]) + 0.6 * streak[..., None] * np.array(GREEN, np.float32) * 1.1
    return shoot(alpha, mirrored, GREEN), alpha, streak


def test_a_shiny_object_reflecting_the_screen_stays_solid() -> None:
    plate, alpha, streak = reflecting(0.5)
    _, matte = key(plate, measure_screen(plate))
    body = (alpha >= 1) & (streak > 0.5)
    # measured: the reflection's mean opacity 255 (filled: solid chrome walls it in, no open screen inside)
    assert matte[body].mean() > 250, matte[body].mean()
    # one that runs off the silhouette is joined to open screen: it keys part see-through (~150 of 255), better
    # than the colour difference alone (~140), since the others' bound lifts it; a roto core holds it solid
    plate, alpha, streak = reflecting(1.2)
    screen = measure_screen(plate)
    body = (alpha >= 1) & (streak > 0.5)
    assert key(plate, screen)[1][body].mean() > key(plate, screen, subject_difference=False)[1][body].mean()


def test_spill_on_white_fur_keeps_the_fur() -> None:
    alpha, fg = hair((235, 232, 225), seed=6)
    plate = shoot(alpha, fg, GREEN, spill=45.0)
    _, matte = key(plate, measure_screen(plate))
    soft = (alpha > 0) & (alpha < 1)
    solid = alpha >= 1
    bias = float((matte[soft] / 255.0 - alpha[soft]).mean())
    # measured: bias −0.03, solid SAD 0.002 (without the others' bound, subject_difference=False: −0.23, 0.08)
    assert bias > -0.1, bias
    assert sad(matte, alpha, solid) < 0.05, sad(matte, alpha, solid)


def test_a_dim_noisy_blue_screen_keys_clean() -> None:
    alpha, fg = hair((60, 42, 30), seed=8)
    plate = shoot(alpha, fg * 0.55, BLUE, noise=6.0, level=0.45, seed=3)
    screen = measure_screen(plate)         # σ 6 on a 30-level channel: the hue is judged on 5×5 means
    assert screen.channel == "blue"
    _, matte = key(plate, screen)
    _, raw = key(plate, screen, denoise=False)
    open_screen = alpha == 0
    # measured: SAD 0.59 denoised, 0.70 without; open screen 0.13 against 0.41
    assert sad(matte, alpha) < 0.65 and sad(matte, alpha) < 0.9 * sad(raw, alpha), (sad(matte, alpha),
                                                                                    sad(raw, alpha))
    assert sad(matte, alpha, open_screen) < 0.5 * sad(raw, alpha, open_screen), sad(matte, alpha, open_screen)


@pytest.mark.parametrize(("pitch", "hole"), [(9, 6.0), (6, 4.0), (5, 3.0)])
def test_the_holes_of_a_wire_mesh_stay_clear(pitch: int, hole: float) -> None:
    """Solid wires in a solid frame wall in every cell of a mesh, and no cell holds a 4×4 block of open screen
    when the cells are this small; fill_holes must still not take the screen in them for a patch."""
    alpha = drawn([("box", (20, 10, 108, 86), 0)])
    holes = np.zeros_like(alpha)
    for x in np.arange(24, 104, pitch):
        for y in np.arange(14, 82, pitch):
            holes = np.maximum(holes, drawn([("box", (x, y, x + hole, y + hole), 0)]))
    alpha = alpha * (1 - holes)
    plate = shoot(alpha, (150, 150, 150), GREEN)
    _, matte = key(plate, measure_screen(plate))
    inside = cv2.erode((holes >= 1).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    # measured: the cells' centres key at most 14 of 255 (sensor noise), 0 on average; the wires solid
    assert matte[inside].max() <= 20 and matte[inside].mean() < 2, (matte[inside].max(), matte[inside].mean())
    assert matte[alpha >= 1].mean() > 250


def test_hair_soft_edge_error_is_bounded() -> None:
    for colour, screen, bound in (((222, 190, 130), GREEN, 0.3), ((60, 42, 30), BLUE, 0.2)):
        alpha, fg = hair(colour)
        plate = shoot(alpha, fg, screen, spill=30.0)
        _, matte = key(plate, measure_screen(plate))
        soft = (alpha > 0) & (alpha < 1)
        # measured: soft-edge SAD 0.19 (blonde on green), 0.12 (dark on blue)
        assert sad(matte, alpha, soft) < bound, (colour, sad(matte, alpha, soft))


def dtssd(mattes: list[np.ndarray], truths: list[np.ndarray]) -> float:
    """The temporal-coherence error of video matting (Erofeev et al. 2015), α in 0..1, per √pixel, ×100."""
    steps = [np.sqrt((((mattes[t].astype(np.float32) - mattes[t - 1]) / 255.0 - (truths[t] - truths[t - 1])) ** 2)
                     .sum()) for t in range(1, len(mattes))]
    return float(100 * np.mean(steps) / np.sqrt(mattes[0].size))


def test_a_moving_clip_keyed_with_the_plate_before_does_not_flicker() -> None:
    """Hair sways slowly on a dim, noisy screen: keyed with the previous plate, the matte changes only as the
    hair does; keyed alone, the noise flickers it. No ghost: the steady key's error stays where it was."""
    frames = [hair((222, 190, 130), shift=0.004 * np.sin(i / 2)) for i in range(6)]
    plates = [shoot(a, f * 0.55, GREEN, noise=6.0, level=0.45, seed=10 + i) for i, (a, f) in enumerate(frames)]
    truths = [a for a, _ in frames]
    screen = measure_screen(plates[0])
    alone = [key(p, screen)[1] for p in plates]
    steady = [key(p, screen, previous=plates[i - 1] if i else None)[1] for i, p in enumerate(plates)]
    # measured: dtSSD 7.5 alone, 6.1 with the previous plate; SAD per frame 0.37 both
    assert dtssd(steady, truths) < 0.9 * dtssd(alone, truths), (dtssd(steady, truths), dtssd(alone, truths))
    assert np.mean([sad(m, a) for m, a in zip(steady, truths, strict=True)]) \
        < 1.05 * np.mean([sad(m, a) for m, a in zip(alone, truths, strict=True)])
    # the first frame has no plate before it: keyed exactly as the stateless key
    assert np.array_equal(steady[0], alone[0])


def test_shot_comp_keys_each_frame_with_the_plate_before() -> None:
    """ShotComp.render comps frames on a pool, out of order; each frame's key reads the plate before it, which
    render hands in as it reads the plates in order."""
    frames = [hair((222, 190, 130), shift=0.004 * np.sin(i / 2)) for i in range(4)]
    plates = [shoot(a, f * 0.55, GREEN, noise=6.0, level=0.45, seed=20 + i) for i, (a, f) in enumerate(frames)]
    backdrop = np.full((H, W, 3), 90, np.uint8)
    comp = ShotComp.prepare(width=W, height=H, frames=len(plates), background=lambda _: backdrop,
                            look=Look(grain=False), first_plate=plates[0])

    class Frames:
        def __init__(self) -> None:
            self.written: list[np.ndarray] = []

        def write(self, frame: np.ndarray) -> None:
            self.written.append(frame)

    sink = Frames()
    comp.render([sink], plates=iter(plates), threads=2)
    for i in range(1, len(plates)):
        steady = comp.frame(i, plates[i], previous=plates[i - 1])
        assert np.array_equal(sink.written[i], steady), i
    assert not np.array_equal(sink.written[1], comp.frame(1, plates[1]))     # the noisy key did change
    assert np.array_equal(sink.written[0], comp.frame(0, plates[0]))         # the first frame has none before


def test_a_previous_plate_of_another_size_is_refused_in_one_line() -> None:
    alpha, fg = hair((60, 42, 30))
    plate = shoot(alpha, fg, GREEN)
    with pytest.raises(MediaError, match=r"the previous plate is 64×48 but the plate is 128×96"):
        key(plate, measure_screen(plate), previous=plate[::2, ::2].copy())


def test_the_folds_of_a_dim_noisy_screen_key_clear() -> None:
    """On a dim screen with σ 6 noise the folds' 3×3 range is mostly noise: they must still be followed."""
    alpha = drawn([("disc", (64, 60, 22), 0)])
    plate = shoot(alpha, (110, 82, 66), GREEN, light=folds(), noise=6.0, level=0.45, seed=5)
    _, matte = key(plate, measure_screen(plate))
    far = cv2.erode((alpha == 0).astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    # measured: open screen SAD 0.00 following the folds through the noise, 0.26 when the noise hid them
    assert sad(matte, alpha, far) < 0.1, sad(matte, alpha, far)


def test_hair_as_bright_as_a_dim_screen_is_not_smeared_by_the_denoise() -> None:
    """Red hair on a dim green screen has the screen's luma: a luma-guided denoise cannot see the strands and
    blurs them; a colour guide keeps them."""
    alpha, fg = hair((150, 62, 30), seed=9)
    plate = shoot(alpha, fg * 0.55, GREEN, noise=6.0, level=0.45, seed=4)
    _, matte = key(plate, measure_screen(plate))
    soft = (alpha > 0) & (alpha < 1)
    # measured: SAD 0.36 (soft edge 0.26) with the colour guide; 0.63 (0.38) with luma before, 0.70 (0.43) with
    # luma at today's regularisation
    assert sad(matte, alpha) < 0.5 and sad(matte, alpha, soft) < 0.34, (sad(matte, alpha), sad(matte, alpha, soft))


@pytest.mark.parametrize("screen", [GREEN, BLUE])
def test_grey_smoke_is_not_keyed_too_solid(screen: tuple[int, int, int]) -> None:
    """A plume of smoke has no solid pixel: its brightest is itself a blend with the screen, so the others' bound
    must not read the subject's own level from it."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    alpha = 0.7 * np.exp(-((xx - 64) / 22) ** 2 - ((yy - 48) / 30) ** 2)
    plate = shoot(alpha, (180, 180, 180), screen, seed=3)
    _, matte = key(plate, measure_screen(plate))
    # measured: SAD 0.75 (green), 0.52 (blue); 1.25 both when the span was a fixed 64 levels
    assert sad(matte, alpha) < 0.9, sad(matte, alpha)


def weave() -> np.ndarray:
    """A woven basket's α: bands 3.2 px wide crossing at a slant, screen in the holes between them."""
    shapes: list[tuple[str, tuple, float]] = [("line", ((20 + 14 * i, 8), (30 + 14 * i, 88)), 3.2) for i in range(7)]
    shapes += [("line", ((14, 12 + 12 * j), (114, 16 + 12 * j)), 3.2) for j in range(7)]
    return drawn(shapes)


@pytest.mark.parametrize(("subject", "screen"), [("blonde", BLUE), ("red", GREEN), ("weave", BLUE)])
def test_thin_strands_far_from_the_screens_colour_do_not_key_fat(subject: str, screen: tuple[int, int, int]) -> None:
    """Blonde hair or wicker on blue, red hair on green: a strand's own colour difference is far below zero, so
    a pixel half strand, half screen keys all but solid unless it is solved against the strand's own colour."""
    if subject == "weave":
        alpha, fg = weave(), np.array((185, 140, 80), np.float32)
    else:
        alpha, fg = hair((222, 190, 130) if subject == "blonde" else (150, 62, 30), seed=12)
    plate = shoot(alpha, fg, screen, seed=2)
    _, matte = key(plate, measure_screen(plate))
    soft = (alpha > 0) & (alpha < 1)
    bias = float((matte[soft] / 255.0 - alpha[soft]).mean())
    # measured: soft-edge bias +0.06 / +0.06 / +0.02 and SAD 0.13 / 0.15 / 0.08; solved against zero, bias
    # +0.14 / +0.11 / +0.15 and SAD 0.25 / 0.25 / 0.31
    assert abs(bias) < 0.1, bias
    assert sad(matte, alpha) < 0.2, sad(matte, alpha)


@pytest.mark.parametrize(("screen", "bound"), [(GREEN, 0.6), (BLUE, 0.46)])
def test_a_sheer_veil_on_a_dim_screen_stays_sheer(screen: tuple[int, int, int], bound: float) -> None:
    """A white veil (α ~0.42) hanging from a face onto a dim, noisy screen: nothing in it is solid, so the others'
    bound must not take a blend of it for the veil's own colour."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    face = drawn([("disc", (64, 40, 14), 0)])
    drape = cv2.GaussianBlur(((np.abs(xx - 64) < 20 + 14 * yy / H) & (yy > 20)).astype(np.float32), (0, 0), 1.0)
    sheer = (0.42 + 0.08 * np.sin(xx * 1.3) * np.sin(yy * 1.1)) * drape
    alpha = face + sheer * (1 - face)
    fg = (np.array([205, 150, 120], np.float32) * (face * (1 - sheer))[..., None]
          + np.array([225, 225, 230], np.float32) * sheer[..., None]) / np.maximum(alpha, 1e-6)[..., None]
    plate = shoot(alpha, fg * 0.45, screen, light=folds(), noise=6.0, level=0.45, seed=3)
    _, matte = key(plate, measure_screen(plate))
    # measured: SAD 0.53 (green), 0.41 (blue); with the span read as 1.1 × a dim screen's difference alone, 1.20
    # and 0.65 (the keyer before this round: 0.72 and 0.51)
    assert sad(matte, alpha) < bound, sad(matte, alpha)
