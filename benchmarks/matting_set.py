"""A matting set with exact ground truth, made here: hair and fur, fine structure, see-through and moving subjects
over real-ish green and blue screens, split by subject into a TUNE and a HELD-OUT half.

Why generated: the four pulled mattes in ``benchmarks/keying/`` are too few to tune against, and a matte pulled
by hand is not the truth. Here every subject is drawn 8× oversized and shrunk by area, so each pixel's alpha is
the share of it the subject covers, exactly, and its colour is the subject's own before any screen or spill.

Subjects (``SUBJECTS``): hair (strands 0.3–3 px, curly and long, in dark, blonde, grey, red, white and
green-tinted), fur (short dense strands round a body), fine structure (wire mesh, lattice, strings, wicker with
real holes), see-through (smoke, glass, a veil over a face), motion blur (a limb moved during the shutter), and
a shiny object that reflects the screen. Each is shot (``shoot``) over a green and a blue screen, lit unevenly
(gradient, hot spot, vignette) and wrinkled (folds darker than the screen round them), with spill near the
edge, either bright (sensor noise σ 1.8) or dim (screen at ~45 %, noise σ 6 on each channel), keyed clean and
after libx264 CRF 23 (4:2:0).

The split: ``split()`` shuffles the subject names with a fixed seed and gives half to TUNE (what the keyer may
be tuned on) and half to HELD-OUT (what is reported). Subjects of one family fall on both sides.

The peer: FFmpeg ``chromakey`` (PyAV's libavfilter, keyed on the same measured screen colour, see
``key_quality.ffmpeg_key``) on a similarity × blend grid; per plate, the setting with the lowest SAD against the
truth ("tuned per plate", the strict peer), and the one setting with the lowest mean SAD over all plates of the
run ("one setting"). Despill changes only colour, so the alpha scores need no despill.

Over time (``--clip``): short clips of a moving hair subject (the head sways, strands follow, motion blur from
the shutter, fresh sensor noise every frame); dtSSD (Erofeev et al. 2015) of soundstage's per-frame key against
FFmpeg's per frame with its per-clip best setting.

    .venv/bin/python benchmarks/matting_set.py --quick          # a few held-out plates, a coarse grid
    .venv/bin/python benchmarks/matting_set.py [--split tune|held-out] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import av
import cv2
import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
import key_quality
from soundstage.comp import key, measure_screen

Screen = Literal["green", "blue"]
SUPER = 8
SPLIT_SEED = 20
CRF = "23"
SCREENS: dict[Screen, tuple[int, int, int]] = {"green": (52, 168, 78), "blue": (28, 72, 182)}
SIMILARITY = [0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2]
BLEND = [0.0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.13, 0.17, 0.22, 0.3]
QUICK_GRID = ([0.01, 0.02, 0.04, 0.06, 0.1, 0.15], [0.0, 0.02, 0.05, 0.1, 0.17, 0.3])

HAIR = {"dark": (60, 42, 30), "blonde": (222, 190, 130), "grey": (165, 165, 160), "red": (150, 62, 30),
        "white": (235, 232, 225), "greenish": (120, 150, 105)}


@dataclass(frozen=True)
class Truth:
    """A subject: its own colour (H×W×3 float32 0..255, straight) and its exact matte (H×W float32 0..1)."""

    name: str
    fg: np.ndarray
    alpha: np.ndarray


class Canvas:
    """An 8× oversized drawing: colour and coverage, shrunk by area to the frame (premultiplied, then divided)."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.colour = np.zeros((height * SUPER, width * SUPER, 3), np.float32)
        self.cover = np.zeros((height * SUPER, width * SUPER), np.uint8)

    def mark(self, draw: Callable[[np.ndarray, Any], None], colour: tuple[float, float, float]) -> None:
        """Draw a shape with ``draw(image, value)`` (in oversized pixels) in ``colour``, over what is there."""
        draw(self.colour, colour)
        draw(self.cover, 255)

    def truth(self, name: str, texture: np.ndarray | None = None, opacity: np.ndarray | None = None) -> Truth:
        size = (self.width, self.height)
        alpha = cv2.resize(self.cover.astype(np.float32) / 255.0, size, interpolation=cv2.INTER_AREA)
        premult = cv2.resize(self.colour * (self.cover[..., None] / np.float32(255.0)), size,
                             interpolation=cv2.INTER_AREA)
        fg = premult / np.maximum(alpha, 1e-6)[..., None]
        if texture is not None:
            fg = fg * texture[..., None]
        if opacity is not None:
            alpha = alpha * opacity
        return Truth(name, np.clip(fg, 0, 255).astype(np.float32), np.clip(alpha, 0, 1).astype(np.float32))


def _points(path: np.ndarray) -> list[np.ndarray]:
    return [np.round(path * SUPER).astype(np.int32)]


def _line(points: np.ndarray, width_px: float) -> Callable[[np.ndarray, Any], None]:
    thickness = max(1, round(width_px * SUPER))
    return lambda m, v: cv2.polylines(m, _points(points), False, v, thickness=thickness, lineType=cv2.LINE_8)


def _ellipse(cx: float, cy: float, rx: float, ry: float, angle: float = 0.0) -> Callable[[np.ndarray, Any], None]:
    return lambda m, v: cv2.ellipse(m, (round(cx * SUPER), round(cy * SUPER)), (round(rx * SUPER), round(ry * SUPER)),
                                    angle, 0, 360, v, -1, lineType=cv2.LINE_8)


def _box(x0: float, y0: float, x1: float, y1: float) -> Callable[[np.ndarray, Any], None]:
    return lambda m, v: cv2.rectangle(m, (round(x0 * SUPER), round(y0 * SUPER)), (round(x1 * SUPER), round(y1 * SUPER)),
                                      v, -1)


def _shade(rng: np.random.Generator, base: tuple[int, int, int], spread: float = 0.18) -> tuple[float, float, float]:
    f = 1.0 + rng.uniform(-spread, spread)
    return tuple(float(np.clip(c * f + rng.normal(0, 6), 0, 255)) for c in base)  # type: ignore[return-value]


def _mottle(rng: np.random.Generator, width: int, height: int, amount: float = 0.12) -> np.ndarray:
    field = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 4)
    return 1.0 + amount * field / max(float(field.std()), 1e-6)


def hair(width: int, height: int, rng: np.random.Generator, colour: str, curly: bool, shift: float = 0.0) -> Canvas:
    """A head (skin) with a crown of strands 0.3–3 px wide, curly or long, in ``colour``."""
    canvas = Canvas(width, height)
    cx, cy, r = width * (0.5 + shift), height * 0.62, height * 0.24
    canvas.mark(_ellipse(cx, cy, r * 0.9, r), _shade(rng, (205, 150, 120), 0.05))
    base = HAIR[colour]
    for _ in range(140 if curly else 110):
        angle = rng.uniform(-np.pi * 0.97, -np.pi * 0.03)
        length = rng.uniform(0.3, 0.75 if not curly else 0.5) * height
        t = np.linspace(0, 1, 40)
        start = np.array([cx + 0.85 * r * np.cos(angle), cy + 0.95 * r * np.sin(angle)])
        direction = np.array([np.cos(angle), np.sin(angle)])
        side = np.array([-direction[1], direction[0]])
        droop = np.outer(t ** 2, [0, 1]) * (0.0 if curly else 0.5 * length) * (abs(np.cos(angle)))
        wave = np.sin(t * rng.uniform(8, 18) + rng.uniform(0, 6)) * (rng.uniform(3, 7) if curly else 1.5)
        path = start + np.outer(t * length, direction) + np.outer(wave, side) + droop
        width_px = float(np.exp(rng.uniform(np.log(0.3), np.log(3.0))))
        canvas.mark(_line(path, width_px), _shade(rng, base))
    return canvas


def fur(width: int, height: int, rng: np.random.Generator, colour: str) -> Canvas:
    """A plush body: a solid blob fringed with dense short strands (a mane along its back)."""
    canvas = Canvas(width, height)
    cx, cy = width * 0.5, height * 0.6
    rx, ry = width * 0.28, height * 0.22
    base = HAIR[colour]
    canvas.mark(_ellipse(cx, cy, rx, ry), _shade(rng, base, 0.05))
    for _ in range(900):
        angle = rng.uniform(0, 2 * np.pi)
        start = np.array([cx + rx * 0.96 * np.cos(angle), cy + ry * 0.96 * np.sin(angle)])
        normal = np.array([np.cos(angle) * ry, np.sin(angle) * rx])
        normal /= np.linalg.norm(normal)
        length = rng.uniform(4, 16) * (1.8 if np.sin(angle) < -0.6 else 1.0)
        tilt = normal + rng.normal(0, 0.35, 2)
        t = np.linspace(0, 1, 8)[:, None]
        path = start + t * length * tilt + t ** 2 * rng.normal(0, 2, 2)
        canvas.mark(_line(path, float(rng.uniform(0.4, 1.6))), _shade(rng, base, 0.25))
    return canvas


def mesh(width: int, height: int, rng: np.random.Generator, pitch: float, wire: float,
         colour: tuple[int, int, int], diagonal: bool) -> Canvas:
    """Wire mesh or a lattice: a grid of straight wires with open screen in every cell, in a frame."""
    canvas = Canvas(width, height)
    x0, y0, x1, y1 = width * 0.2, height * 0.15, width * 0.8, height * 0.85
    span = max(x1 - x0, y1 - y0)
    for offset in np.arange(-span, 2 * span, pitch):
        if diagonal:
            a = np.array([[x0 + offset, y0], [x0 + offset + (y1 - y0), y1]])
            b = np.array([[x0 + offset, y1], [x0 + offset + (y1 - y0), y0]])
        else:
            a = np.array([[x0 + offset, y0], [x0 + offset, y1]])
            b = np.array([[x0, y0 + offset], [x1, y0 + offset]])
        for path in (a, b):
            canvas.mark(_line(path, wire), _shade(rng, colour, 0.1))
    clip = np.zeros_like(canvas.cover)
    _box(x0, y0, x1, y1)(clip, 255)
    canvas.cover &= clip
    border = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
    canvas.mark(_line(border, 4.0), _shade(rng, (90, 80, 70)))
    return canvas


def strings(width: int, height: int, rng: np.random.Generator) -> Canvas:
    """A harp of strings 0.4–2 px across the frame, on a solid bar."""
    canvas = Canvas(width, height)
    canvas.mark(_box(width * 0.15, height * 0.1, width * 0.85, height * 0.18), (120, 80, 50))
    for x in np.linspace(width * 0.18, width * 0.82, 22):
        path = np.array([[x, height * 0.18], [x + rng.uniform(-20, 20), height * 0.95]])
        canvas.mark(_line(path, float(rng.uniform(0.4, 2.0))), _shade(rng, (200, 190, 150), 0.2))
    return canvas


def wicker(width: int, height: int, rng: np.random.Generator) -> Canvas:
    """A wicker ball: woven bands 3–5 px wide round a sphere, with holes between them that show the screen."""
    canvas = Canvas(width, height)
    cx, cy, r = width * 0.5, height * 0.5, height * 0.38
    base = (185, 140, 80)
    for turn in np.linspace(0, np.pi, 7, endpoint=False):
        t = np.linspace(0, 2 * np.pi, 200)
        for tilt in (turn, turn + np.pi / 2):
            x = cx + r * np.cos(t) * np.cos(tilt) * 0.98
            y = cy + r * np.sin(t)
            xs = cx + (x - cx) * np.cos(tilt * 0.3) - (y - cy) * np.sin(tilt * 0.3)
            ys = cy + (x - cx) * np.sin(tilt * 0.3) + (y - cy) * np.cos(tilt * 0.3)
            canvas.mark(_line(np.stack([xs, ys], 1), float(rng.uniform(2.5, 5.0))), _shade(rng, base, 0.2))
    return canvas


def smoke(width: int, height: int, rng: np.random.Generator) -> Truth:
    """A plume of smoke: a soft, swirling alpha 0..0.8 in grey, no solid core at all."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    field = sum(cv2.resize(rng.normal(0, 1, (max(2, height // s), max(2, width // s))).astype(np.float32),
                           (width, height), interpolation=cv2.INTER_CUBIC) / (i + 1)
                for i, s in enumerate((48, 24, 12, 6)))
    column = np.exp(-((xx - width * (0.5 + 0.1 * np.sin(yy / height * 6))) / (width * 0.16)) ** 2)
    alpha = np.clip(column * (0.5 + 0.35 * field) * np.clip(1.3 - yy / height, 0, 1), 0, 0.85)
    fg = np.repeat((150 + 50 * np.clip(field, -1, 1))[..., None], 3, axis=-1)
    return Truth("smoke", fg.astype(np.float32), alpha.astype(np.float32))


def glass(width: int, height: int, rng: np.random.Generator) -> Truth:
    """A glass bottle: mostly see-through (α 0.2), a denser rim, a white highlight and a solid label."""
    canvas = Canvas(width, height)
    cx, cy, rx, ry = width * 0.5, height * 0.55, width * 0.16, height * 0.36
    canvas.mark(_ellipse(cx, cy, rx, ry), (200, 215, 210))
    body = canvas.truth("glass")
    rim = cv2.resize(canvas.cover, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    inner = cv2.erode((rim > 0.99).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(np.float32)
    inner = cv2.GaussianBlur(inner, (0, 0), 2.0)
    opacity = 0.2 + 0.6 * (1 - inner)
    alpha = body.alpha * opacity
    fg = body.fg.copy()
    yy, xx = np.mgrid[0:height, 0:width]
    highlight = (np.abs(xx - (cx - rx * 0.5)) < 3) & (np.abs(yy - cy) < ry * 0.6)
    label = (np.abs(xx - cx) < rx * 0.8) & (np.abs(yy - cy - ry * 0.2) < ry * 0.18) & (body.alpha > 0.99)
    alpha[highlight | label] = np.maximum(alpha[highlight | label], 0.95 * (body.alpha[highlight | label]))
    fg[highlight] = (250, 250, 250)
    fg[label] = (190, 40, 40)
    return Truth("glass", fg, alpha.astype(np.float32))


def veil(width: int, height: int, rng: np.random.Generator) -> Truth:
    """A sheer veil (woven threads, α ~0.45) over a face and shoulders, hanging past them onto the screen."""
    face = Canvas(width, height)
    face.mark(_ellipse(width * 0.5, height * 0.5, width * 0.14, height * 0.22), (210, 160, 130))
    face.mark(_ellipse(width * 0.5, height * 1.0, width * 0.32, height * 0.25), (40, 40, 60))
    person = face.truth("face")
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    weave = 0.4 + 0.1 * np.sin(xx * 2.1) * np.sin(yy * 1.7)
    drape = ((np.abs(xx - width * 0.5) < width * (0.2 + 0.12 * yy / height)) & (yy > height * 0.22)).astype(np.float32)
    drape = cv2.GaussianBlur(drape, (0, 0), 1.0)
    veil_a = weave * drape
    alpha = person.alpha + veil_a * (1 - person.alpha)
    tone = np.array([235, 235, 240], np.float32)
    fg = (person.fg * person.alpha[..., None] * (1 - veil_a[..., None])
          + tone * veil_a[..., None]) / np.maximum(alpha, 1e-6)[..., None]
    return Truth("veil", np.clip(fg, 0, 255).astype(np.float32), alpha.astype(np.float32))


def motion(width: int, height: int, rng: np.random.Generator, colour: tuple[int, int, int], speed: float) -> Truth:
    """A body with an arm swung during the shutter: 24 positions of the arm averaged (its exact motion blur)."""
    steps = 24
    body = Canvas(width, height)
    body.mark(_ellipse(width * 0.4, height * 0.6, width * 0.12, height * 0.3), colour)
    still = body.truth("body")
    alpha_sum = np.zeros((height, width), np.float32)
    premult = np.zeros((height, width, 3), np.float32)
    for i in range(steps):
        angle = -0.6 + speed * i / (steps - 1)
        arm = Canvas(width, height)
        ox, oy = width * 0.45, height * 0.42
        tip = (ox + np.cos(angle) * width * 0.35, oy + np.sin(angle) * width * 0.35)
        arm.mark(_line(np.array([[ox, oy], tip]), 10.0), _shade(np.random.default_rng(3), (215, 165, 135), 0.0))
        part = arm.truth("arm")
        a = part.alpha + still.alpha * (1 - part.alpha)
        alpha_sum += a
        premult += part.fg * part.alpha[..., None] + still.fg * (still.alpha * (1 - part.alpha))[..., None]
    alpha = alpha_sum / steps
    fg = premult / steps / np.maximum(alpha, 1e-6)[..., None]
    return Truth("motion", np.clip(fg, 0, 255).astype(np.float32), alpha.astype(np.float32))


def shiny(width: int, height: int, rng: np.random.Generator) -> Truth:
    """A chrome kettle that reflects the screen: a solid body whose own colour holds a screen-tinted streak."""
    canvas = Canvas(width, height)
    canvas.mark(_ellipse(width * 0.5, height * 0.55, width * 0.22, height * 0.3), (170, 172, 178))
    canvas.mark(_box(width * 0.68, height * 0.45, width * 0.82, height * 0.52), (150, 150, 155))
    truth = canvas.truth("shiny")
    xx = np.arange(width, dtype=np.float32)[None, :]
    streak = np.exp(-((xx - width * 0.44) / (width * 0.05)) ** 2) * (truth.alpha > 0.99)
    return Truth("shiny", truth.fg, truth.alpha), streak.astype(np.float32)  # type: ignore[return-value]


def _subject_makers() -> dict[str, Callable[[int, int, np.random.Generator], Any]]:
    makers: dict[str, Callable[[int, int, np.random.Generator], Any]] = {}
    for colour in HAIR:
        for curly in (False, True):
            makers[f"hair-{colour}-{'curly' if curly else 'long'}"] = (
                lambda w, h, rng, c=colour, k=curly: hair(w, h, rng, c, k))
    for colour in ("white", "dark", "blonde", "grey"):
        makers[f"fur-{colour}"] = lambda w, h, rng, c=colour: fur(w, h, rng, c)
    makers["mesh-wire"] = lambda w, h, rng: mesh(w, h, rng, 9.0, 1.0, (150, 150, 150), False)
    makers["mesh-fine"] = lambda w, h, rng: mesh(w, h, rng, 5.0, 0.6, (60, 60, 60), False)
    makers["lattice"] = lambda w, h, rng: mesh(w, h, rng, 16.0, 3.0, (200, 170, 120), True)
    makers["strings"] = strings
    makers["wicker"] = wicker
    makers["smoke"] = smoke
    makers["glass"] = glass
    makers["veil"] = veil
    makers["motion-skin"] = lambda w, h, rng: motion(w, h, rng, (190, 140, 110), 0.5)
    makers["motion-dark"] = lambda w, h, rng: motion(w, h, rng, (50, 45, 60), 0.9)
    makers["shiny"] = shiny
    return makers


SUBJECTS = _subject_makers()


def split() -> dict[str, list[str]]:
    """TUNE and HELD-OUT halves of the subjects, by a fixed shuffle (what may be tuned on, what is reported)."""
    names = sorted(SUBJECTS)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(names))
    half = len(names) // 2
    return {"tune": sorted(names[i] for i in order[:half]), "held-out": sorted(names[i] for i in order[half:])}


def make_subject(name: str, width: int, height: int) -> tuple[Truth, np.ndarray | None]:
    """The subject's truth, and where its own colour reflects the screen (H×W 0..1, shiny subjects only)."""
    rng = np.random.default_rng([SPLIT_SEED, zlib.crc32(name.encode())])
    made = SUBJECTS[name](width, height, rng)
    reflection = None
    if isinstance(made, tuple):
        made, reflection = made
    if isinstance(made, Canvas):
        made = made.truth(name, texture=_mottle(rng, width, height))
    return Truth(name, made.fg, made.alpha), reflection


# ---------------------------------------------------------------------------------------------------- shoot


def wrinkles(height: int, width: int, rng: np.random.Generator, count: int = 5) -> np.ndarray:
    """A cloth screen's folds: soft dark streaks (down to ~0.7 of the light) at random angles (H×W float32)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    shade = np.ones((height, width), np.float32)
    for _ in range(count):
        angle = rng.uniform(-0.5, 0.5) + (np.pi / 2 if rng.random() < 0.5 else 0.0)
        offset = rng.uniform(0.1, 0.9) * (width if abs(np.cos(angle)) > 0.7 else height)
        distance = (xx * np.cos(angle) + yy * np.sin(angle)) - offset
        wave = 4.0 * np.sin(yy * np.sin(angle + 1.3) / 30.0 + xx * np.cos(angle + 1.3) / 30.0)
        fold = np.exp(-((distance + wave) / rng.uniform(3, 9)) ** 2)
        shade *= 1.0 - rng.uniform(0.12, 0.3) * fold
    return shade


def shoot(truth: Truth, reflection: np.ndarray | None, screen: Screen, dim: bool, seed: int,
          frame_seed: int = 0) -> np.ndarray:
    """The subject over an unevenly lit, wrinkled screen with spill and noise (RGB uint8)."""
    rng = np.random.default_rng([seed, zlib.crc32(truth.name.encode()), screen == "blue", dim])
    height, width = truth.alpha.shape
    level = rng.uniform(0.4, 0.5) if dim else rng.uniform(0.92, 1.06)
    nominal = np.array(SCREENS[screen], np.float32) * np.float32(level)
    light = key_quality.screen_light(height, width, rng) * wrinkles(height, width, rng)
    backing = light[..., None] * nominal
    fg = truth.fg * np.float32(0.55 if dim else 1.0)
    if reflection is not None:   # the screen mirrored in the subject: its colour, on the subject's own α
        fg = fg * (1 - 0.6 * reflection[..., None]) + 0.6 * reflection[..., None] * nominal * 1.1
    spilled = key_quality.add_spill(fg, truth.alpha, nominal, rng.uniform(30.0, 50.0) * level)
    picture = truth.alpha[..., None] * spilled + (1.0 - truth.alpha[..., None]) * backing
    noise = np.random.default_rng([seed, frame_seed, zlib.crc32(truth.name.encode()), 7])
    if dim:
        picture += noise.normal(0.0, 6.0, (height, width, 3)).astype(np.float32)
    else:
        picture += noise.normal(0.0, 1.8, (height, width, 1)).astype(np.float32)
        picture += noise.normal(0.0, 0.9, (height, width, 3)).astype(np.float32)
    return np.clip(picture + 0.5, 0, 255).astype(np.uint8)


def h264(frames: list[np.ndarray]) -> list[av.VideoFrame]:
    """The frames through libx264 CRF 23 yuv420p and back (decoded frames: chroma at half resolution)."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.options = {"crf": CRF, "preset": "medium"}
        for rgb in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    buffer.seek(0)
    with av.open(buffer, mode="r") as container:
        return list(container.decode(video=0))


def plate(truth: Truth, reflection: np.ndarray | None, screen: Screen, dim: bool, codec: str,
          seed: int = 0) -> key_quality.Plate:
    rgb = shoot(truth, reflection, screen, dim, seed)
    if codec == "h264":
        frame = h264([rgb])[0]
        rgb = frame.to_ndarray(format="rgb24")
    else:
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    return key_quality.Plate(truth.name, screen, codec, seed, rgb, frame, truth.alpha, truth.fg)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------- scoring


def ffmpeg_grid(p: key_quality.Plate, grid: tuple[list[float], list[float]]) -> dict[tuple[float, float], np.ndarray]:
    """FFmpeg's matte at every (similarity, blend) of the grid, keyed on the measured screen colour."""
    colour = key_quality.screen_yuv(measure_screen(p.rgb, "auto").rgb, p.codec)
    return {(s, b): key_quality.ffmpeg_key(p, colour, key_quality.FFmpegKey(s, b), despill=False)[1]
            for s in grid[0] for b in grid[1]}


def errors(matte: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    error = matte.astype(np.float32) / 255.0 - truth
    soft = (truth > 0) & (truth < 1)
    return {"sad": float(np.abs(error).sum() / 1000.0), "mse": float(1e3 * np.mean(error ** 2)),
            "sad_soft": float(np.abs(error[soft]).sum() / 1000.0)}


def run(names: list[str], *, size: tuple[int, int], grid: tuple[list[float], list[float]],
        screens: tuple[Screen, ...] = ("green", "blue"), lights: tuple[bool, ...] = (False, True),
        codecs: tuple[str, ...] = ("clean", "h264"), keyer: Callable[..., Any] = key) -> dict[str, Any]:
    """Key every plate of ``names`` with soundstage and FFmpeg's grid; per-plate and one-setting peers."""
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    grids: list[dict[tuple[float, float], float]] = []
    keyer_ms = []
    for name in names:
        truth, reflection = make_subject(name, *size)
        for screen in screens:
            for dim in lights:
                for codec in codecs:
                    p = plate(truth, reflection, screen, dim, codec)
                    t0 = time.perf_counter()
                    _, matte = keyer(p.rgb, measure_screen(p.rgb, "auto"))
                    keyer_ms.append(1e3 * (time.perf_counter() - t0))
                    sads = {setting: errors(m, p.alpha) for setting, m in ffmpeg_grid(p, grid).items()}
                    grids.append({s: e["sad"] for s, e in sads.items()})
                    best = min(sads, key=lambda s: sads[s]["sad"])
                    rows.append({"plate": name, "screen": screen, "light": "dim" if dim else "bright",
                                 "codec": codec, "soundstage": errors(matte, p.alpha),
                                 "ffmpeg_plate": sads[best], "ffmpeg_plate_setting": best, "_sads": sads})
    one = min(grids[0], key=lambda s: float(np.mean([g[s] for g in grids])))
    for row in rows:
        row["ffmpeg_one"] = row.pop("_sads")[one]
    return summarise(rows, one, time.perf_counter() - started, float(np.median(keyer_ms)))


def summarise(rows: list[dict[str, Any]], one: tuple[float, float], seconds: float, ms: float) -> dict[str, Any]:
    keyers = ("soundstage", "ffmpeg_plate", "ffmpeg_one")

    def means(subset: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
        return {k: {f: float(np.mean([r[k][f] for r in subset])) for f in ("sad", "mse", "sad_soft")}
                for k in keyers}

    conditions: dict[str, Any] = {}
    for field, values in (("screen", ("green", "blue")), ("light", ("bright", "dim")), ("codec", ("clean", "h264"))):
        for value in values:
            subset = [r for r in rows if r[field] == value]
            if subset:
                conditions[value] = means(subset)
    for screen in ("green", "blue"):
        for light in ("bright", "dim"):
            subset = [r for r in rows if r["screen"] == screen and r["light"] == light]
            if subset:
                conditions[f"{screen}/{light}"] = means(subset)
    subjects = sorted({r["plate"] for r in rows})
    by_subject = {s: means([r for r in rows if r["plate"] == s]) for s in subjects}
    ratio = {s: m["soundstage"]["sad"] / max(m["ffmpeg_plate"]["sad"], 1e-9) for s, m in by_subject.items()}
    overall = means(rows)
    soft_share = float(np.sum([r["soundstage"]["sad_soft"] for r in rows])
                       / max(np.sum([r["soundstage"]["sad"] for r in rows]), 1e-9))
    worse = sum(r["soundstage"]["sad"] > r["ffmpeg_plate"]["sad"] for r in rows)
    return {"plates": len(rows), "subjects": subjects, "mean": overall, "conditions": conditions,
            "by_subject": by_subject, "ratio_by_subject": ratio,
            "worst_subject": max(ratio, key=lambda s: ratio[s]),
            "ratio_plate": overall["soundstage"]["sad"] / max(overall["ffmpeg_plate"]["sad"], 1e-9),
            "ratio_one": overall["soundstage"]["sad"] / max(overall["ffmpeg_one"]["sad"], 1e-9),
            "soft_share": soft_share, "worse_than_plate_peer": worse, "one_setting": one,
            "key_ms_median": ms, "seconds": seconds,
            "rows": [{k: v for k, v in r.items()} for r in rows]}


# ---------------------------------------------------------------------------------------------------- time


def clip(name: str, size: tuple[int, int], frames: int, screen: Screen, dim: bool, codec: str,
         sway: float = 0.003) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A moving clip: the hair subject sways ``sway`` of the frame per frame (its strands follow), with
    fresh noise each frame; the plates (as decoded) and their true mattes."""
    _, colour, kind = name.split("-")
    plates, truths = [], []
    for i in range(frames):
        rng = np.random.default_rng([SPLIT_SEED, zlib.crc32(name.encode())])
        canvas = hair(size[0], size[1], rng, colour, kind == "curly", shift=sway * np.sin(i / 3.0) * 3)
        truth = canvas.truth(name, texture=_mottle(np.random.default_rng(1), *size))
        plates.append(shoot(truth, None, screen, dim, 0, frame_seed=i + 1))
        truths.append(truth)
    if codec == "h264":
        plates = [f.to_ndarray(format="rgb24") for f in h264(plates)]
    return plates, [t.alpha for t in truths]


def dtssd(mattes: list[np.ndarray], truths: list[np.ndarray]) -> float:
    """Erofeev et al.'s dtSSD: the mean over frames of √Σ((dα − dα_true)²), α in 0..1, ×100."""
    values = []
    for t in range(1, len(mattes)):
        d = (mattes[t].astype(np.float32) - mattes[t - 1].astype(np.float32)) / 255.0
        d_true = truths[t] - truths[t - 1]
        values.append(np.sqrt(np.sum((d - d_true) ** 2)))
    return float(100.0 * np.mean(values) / np.sqrt(mattes[0].size))


def mean_sad(mattes: list[np.ndarray], truths: list[np.ndarray]) -> float:
    return float(np.mean([errors(m, a)["sad"] for m, a in zip(mattes, truths, strict=True)]))


def run_clips(names: list[str], *, size: tuple[int, int], frames: int, grid: tuple[list[float], list[float]],
              keyer: Callable[..., Any] | None = None) -> dict[str, Any]:
    """dtSSD and SAD of soundstage's key over each moving clip, against FFmpeg's per clip best setting."""
    rows = []
    for name in names:
        for screen in ("green", "blue"):
            for dim in (False, True):
                for codec in ("clean", "h264"):
                    plates, truths = clip(name, size, frames, screen, dim, codec)
                    colour = measure_screen(plates[0], "auto")
                    ours = keyed_clip(plates, colour, keyer)
                    yuv = key_quality.screen_yuv(colour.rgb, codec)  # type: ignore[arg-type]
                    kps = [key_quality.Plate(name, screen, codec, 0, p,  # type: ignore[arg-type]
                                             av.VideoFrame.from_ndarray(p, format="rgb24"), a, a)
                           for p, a in zip(plates, truths, strict=True)]
                    first = {s: errors(m, truths[0])["sad"] for s, m in ffmpeg_grid(kps[0], grid).items()}
                    best = min(first, key=lambda s: first[s])
                    theirs = [key_quality.ffmpeg_key(k, yuv, key_quality.FFmpegKey(*best), despill=False)[1]
                              for k in kps]
                    rows.append({"clip": name, "screen": screen, "light": "dim" if dim else "bright", "codec": codec,
                                 "dtssd_soundstage": dtssd(ours, truths), "dtssd_ffmpeg": dtssd(theirs, truths),
                                 "sad_soundstage": mean_sad(ours, truths), "sad_ffmpeg": mean_sad(theirs, truths)})
    ours_mean = float(np.mean([r["dtssd_soundstage"] for r in rows]))
    theirs_mean = float(np.mean([r["dtssd_ffmpeg"] for r in rows]))
    return {"clips": rows, "dtssd_soundstage": ours_mean, "dtssd_ffmpeg": theirs_mean,
            "dtssd_ratio": ours_mean / max(theirs_mean, 1e-9)}


def keyed_clip(plates: list[np.ndarray], colour: Any, keyer: Callable[..., Any] | None) -> list[np.ndarray]:
    """soundstage's mattes of a clip, each frame keyed with the plate before it (what ShotComp hands in)."""
    if keyer is not None:
        return [keyer(p, colour)[1] for p in plates]
    return [key(p, colour, previous=plates[i - 1] if i else None)[1] for i, p in enumerate(plates)]


# ------------------------------------------------------------------------------------------------------ run


def report(result: dict[str, Any]) -> str:
    m = result["mean"]
    lines = [f"{result['plates']} plates, {len(result['subjects'])} subjects, {result['seconds']:.0f} s",
             "", "| keyer | mean SAD | mean MSE×10³ | SAD where 0<α<1 |", "|---|---:|---:|---:|"]
    for k, label in (("soundstage", "soundstage key"), ("ffmpeg_plate", "FFmpeg tuned per plate"),
                     ("ffmpeg_one", f"FFmpeg one setting {result['one_setting']}")):
        lines.append(f"| {label} | {m[k]['sad']:.3f} | {m[k]['mse']:.2f} | {m[k]['sad_soft']:.3f} |")
    lines += ["", f"ratio vs per-plate peer {result['ratio_plate']:.2f}, vs one setting {result['ratio_one']:.2f}; "
              f"{100 * result['soft_share']:.0f}% of soundstage's SAD where 0<α<1; worse than the per-plate peer on "
              f"{result['worse_than_plate_peer']} of {result['plates']} plates; "
              f"key median {result['key_ms_median']:.1f} ms",
              "", "| condition | SAD ss | SAD ff/plate | SAD ff/one | MSE ss | MSE ff/plate | ratio |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for name, c in result["conditions"].items():
        lines.append(f"| {name} | {c['soundstage']['sad']:.3f} | {c['ffmpeg_plate']['sad']:.3f} | "
                     f"{c['ffmpeg_one']['sad']:.3f} | {c['soundstage']['mse']:.2f} | {c['ffmpeg_plate']['mse']:.2f} | "
                     f"{c['soundstage']['sad'] / max(c['ffmpeg_plate']['sad'], 1e-9):.2f} |")
    lines += ["", "| subject | SAD ss | SAD ff/plate | ratio |", "|---|---:|---:|---:|"]
    for s, c in sorted(result["by_subject"].items(), key=lambda sc: -result["ratio_by_subject"][sc[0]]):
        lines.append(f"| {s} | {c['soundstage']['sad']:.3f} | {c['ffmpeg_plate']['sad']:.3f} | "
                     f"{result['ratio_by_subject'][s]:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tune", "held-out"), default="held-out")
    parser.add_argument("--quick", action="store_true", help="6 subjects at 192×144, a coarse FFmpeg grid")
    parser.add_argument("--only", nargs="*", help="only these subjects")
    parser.add_argument("--clip", action="store_true", help="also the moving clips' dtSSD")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    names = args.only or split()[args.split]
    if args.quick and not args.only:
        names = names[::max(1, len(names) // 6)][:6]
    size = (192, 144) if args.quick else (320, 240)
    grid = QUICK_GRID if args.quick else (SIMILARITY, BLEND)
    result = run(names, size=size, grid=grid)
    result["split"] = "custom" if args.only else args.split
    if args.clip:
        hair_names = [n for n in names if n.startswith("hair-")][:1 if args.quick else 2] or ["hair-blonde-long"]
        result["time"] = run_clips(hair_names, size=size, frames=6 if args.quick else 10, grid=QUICK_GRID)
    if args.json:
        print(json.dumps(result, indent=1, default=str))
    else:
        print(f"split: {result['split']} ({', '.join(names)})")
        print(report(result))
        if "time" in result:
            t = result["time"]
            print(f"\ndtSSD soundstage {t['dtssd_soundstage']:.3f}, FFmpeg {t['dtssd_ffmpeg']:.3f}, "
                  f"ratio {t['dtssd_ratio']:.2f}")
            for r in t["clips"]:
                print(f"  {r['clip']} {r['screen']} {r['light']} {r['codec']}: dtSSD {r['dtssd_soundstage']:.3f} vs "
                      f"{r['dtssd_ffmpeg']:.3f}; SAD {r['sad_soundstage']:.3f} vs {r['sad_ffmpeg']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
