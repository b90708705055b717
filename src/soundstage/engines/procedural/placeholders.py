"""Placeholders: previs silhouettes for what the engine cannot draw for real, so the offline path always
reaches a cut.

Each is a figure of filled shapes and strokes in figure units (about 1 tall, y up), posed by time and moved
over the frame; the shot's take says it is a placeholder, and the frame carries a label.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from soundstage.engines.procedural.noise import F32, RGB, Array, _col, _rng
from soundstage.engines.procedural.vocabulary import _HANGUL
from soundstage.media.lettering import Typeface, face_for, text_patch
from soundstage.script.breakdown import element_table

Language = Literal["en", "ko"]

_DARK: RGB = (0.07, 0.07, 0.09)
_STEEL: RGB = (0.62, 0.65, 0.7)
_PAPER: RGB = (1.0, 0.62, 0.26)


@dataclass(frozen=True, slots=True)
class _Part:
    points: Array                  # N×2, figure units
    width: float = 0.0             # 0: a filled shape; else a stroke this wide (figure units)
    colour: RGB = _DARK


def _oval(cx: float, cy: float, rx: float, ry: float, angle: float = 0.0, colour: RGB = _DARK) -> _Part:
    a = np.linspace(0.0, 2 * math.pi, 32, endpoint=False)
    x, y = rx * np.cos(a), ry * np.sin(a)
    c, s = math.cos(angle), math.sin(angle)
    return _Part(np.stack([cx + c * x - s * y, cy + s * x + c * y], 1), colour=colour)


def _shape(*points: tuple[float, float], colour: RGB = _DARK) -> _Part:
    return _Part(np.array(points, F32), colour=colour)


def _stroke(*points: tuple[float, float], width: float, colour: RGB = _DARK) -> _Part:
    return _Part(np.array(points, F32), width, colour)


def _joint(start: tuple[float, float], angle: float, length: float) -> tuple[float, float]:
    """The end of a bone hanging from ``start``, swung ``angle`` radians forward of straight down."""
    return start[0] + length * math.sin(angle), start[1] - length * math.cos(angle)


def _limb(start: tuple[float, float], swing: float, bend: float, upper: float, lower: float,
          width: float) -> _Part:
    middle = _joint(start, swing, upper)
    return _stroke(start, middle, _joint(middle, swing + bend, lower), width=width)


def _humanoid(phase: float, horns: int = 0, horn: float = 0.12, bulk: float = 1.0,
              reach: float = 0.0) -> list[_Part]:
    """A walking figure, feet at y = 0, facing +x; ``horns`` on its head; ``reach`` raises the arms (0..1)."""
    step = math.sin(phase)
    lift = 0.02 * abs(math.cos(phase))
    hip = (0.0, 0.46 + lift)
    parts = [_limb(hip, 0.42 * step, -0.25 * max(0.0, -step), 0.25, 0.23, 0.085 * bulk),
             _limb(hip, -0.42 * step, -0.25 * max(0.0, step), 0.25, 0.23, 0.085 * bulk),
             _oval(0.03, 0.63 + lift, 0.13 * bulk, 0.2, -0.2),
             _oval(0.1, 0.86 + lift, 0.085, 0.095)]
    shoulder = (0.07, 0.75 + lift)
    for side in (1.0, -1.0):
        swing = -0.45 * step * side + reach * math.pi * 0.8
        parts.append(_limb(shoulder, swing, 0.35, 0.2, 0.19, 0.065 * bulk))
    top = 0.94 + lift
    bases = [0.1] if horns == 1 else [0.055, 0.145][:horns]
    for x in bases:
        lean = 0.0 if horns == 1 else (x - 0.1) * 0.9
        parts.append(_shape((x - 0.04, top - 0.04), (x + 0.04, top - 0.04), (x + lean, top + horn)))
    return parts


def _walk(t: float, w: int, h: int, rng: np.random.Generator, speed: float, size: float, length: float = 0.8
          ) -> tuple[float, float, float, float]:
    """Across the frame at ``speed`` (frame widths a second), feet low, coming back in on the other side once
    ``length`` figure units have left it; (x, y, unit px, facing ±1)."""
    facing = 1.0 if rng.random() < 0.5 else -1.0
    unit = size * h
    margin = unit * length
    start = w * (0.3 if facing > 0 else 0.7) + w * 0.05 * (rng.random() - 0.5)
    x = (start + facing * speed * w * t + margin) % (w + 2 * margin) - margin
    return x, h * 0.92, unit, facing


def _creature(t: float, rng: np.random.Generator, w: int, h: int) -> tuple[list[_Part], tuple[float, ...]]:
    """A horned, heavy figure walking across (a 도깨비 reads as one); some carry a club."""
    horns, horn, club = 1 + int(rng.integers(0, 2)), rng.uniform(0.1, 0.15), rng.random() < 0.5
    placed = _walk(t, w, h, rng, 0.1, 0.55)
    phase = 2 * math.pi * 1.1 * t + rng.uniform(0.6, 2.5)      # mid-stride at the first frame
    parts = _humanoid(phase, horns, horn, bulk=1.25)
    if club:
        hand = parts[-1 - horns].points[-1]
        parts.append(_stroke(tuple(hand), (hand[0] + 0.12, hand[1] + 0.26), width=0.08))
    return parts, (*placed, 0.0)


def _stuntman(t: float, rng: np.random.Generator, w: int, h: int) -> tuple[list[_Part], tuple[float, ...]]:
    """A figure falling from the top of frame, tumbling, arms up; it falls again every 1.6 s."""
    offset = rng.uniform(0.0, 1.6)
    fall = ((t + offset) % 1.6) / 1.6
    unit = 0.4 * h
    parts = [_Part(p.points - np.array([0.0, 0.5], F32), p.width, p.colour)
             for p in _humanoid(2 * math.pi * 2.0 * t, reach=0.8)]
    x = w * (0.5 + 0.15 * (rng.random() - 0.5)) + w * 0.04 * math.sin(t * 1.7)
    return parts, (x, -0.2 * h + 1.4 * h * fall * fall, unit, 1.0, 1.6 * t + offset)


def _dragon(t: float, rng: np.random.Generator, w: int, h: int) -> tuple[list[_Part], tuple[float, ...]]:
    """A long serpent flying across the upper frame, its body in waves, wings beating, horns swept back."""
    x, _, unit, facing = _walk(t, w, h, rng, 0.15, 0.34, length=2.6)
    n = 24
    u = np.linspace(0.0, 2.2, n)
    y = 0.15 * np.sin(2 * math.pi * (0.6 * u - 0.9 * t))
    parts = [_stroke((-u[i], y[i]), (-u[i + 1], y[i + 1]), width=0.17 * (1.0 - u[i] / 2.6))
             for i in range(n - 1)]
    parts += [_oval(0.12, y[0] + 0.02, 0.17, 0.09, -0.1),
              _stroke((0.05, y[0] + 0.07), (-0.12, y[0] + 0.24), width=0.035),
              _stroke((0.12, y[0] + 0.07), (-0.02, y[0] + 0.26), width=0.035)]
    flap = math.sin(2 * math.pi * 0.8 * t)
    root = int(n * 0.22)
    base, rise = -u[root], y[root]
    parts.append(_shape((base + 0.12, rise), (base - 0.05, rise + 0.7 * flap), (base - 0.2, rise + 0.45 * flap),
                        (base - 0.38, rise + 0.55 * flap), (base - 0.45, rise + 0.2 * flap), (base - 0.3, rise)))
    return parts, (x, h * 0.38 + 0.05 * h * math.sin(0.5 * t), unit, facing, 0.0)


def _horse(t: float, rng: np.random.Generator, w: int, h: int) -> tuple[list[_Part], tuple[float, ...]]:
    """A horse trotting across: body, neck and head, four legs in diagonal pairs, a swinging tail."""
    placed = _walk(t, w, h, rng, 0.15, 0.45)
    phase = 2 * math.pi * 1.6 * t
    bob = 0.015 * abs(math.sin(phase))
    parts = []
    for x, offset in ((0.24, 0.0), (0.3, math.pi), (-0.26, math.pi), (-0.2, 0.0)):
        swing = 0.35 * math.sin(phase + offset)
        parts.append(_limb((x, 0.56 + bob), swing, -0.3 * max(0.0, math.sin(phase + offset + 1.0)),
                           0.29, 0.28, 0.06))
    parts += [_oval(0.0, 0.64 + bob, 0.36, 0.14),
              _stroke((0.26, 0.68 + bob), (0.42, 0.92 + bob), width=0.13),
              _oval(0.5, 0.9 + bob, 0.13, 0.055, -0.6),
              _shape((0.4, 0.97 + bob), (0.44, 0.97 + bob), (0.41, 1.04 + bob)),
              _stroke((-0.34, 0.7 + bob), (-0.45 - 0.03 * math.sin(phase), 0.42), width=0.05)]
    return parts, (*placed, 0.0)


def _car(t: float, rng: np.random.Generator, w: int, h: int) -> tuple[list[_Part], tuple[float, ...]]:
    """A car driving across: a body, a cabin, two wheels, a slight bounce on the road."""
    x, y, _, facing = _walk(t, w, h, rng, 0.25, 0.3)
    bounce = 0.01 * math.sin(t * 9.0)
    body = _shape((-0.8, 0.12), (0.8, 0.12), (0.82, 0.3), (0.55, 0.35), (0.3, 0.52), (-0.35, 0.52),
                  (-0.6, 0.37), (-0.82, 0.33))
    body = _Part(body.points + np.array([0.0, bounce], F32))
    return [body, _oval(0.5, 0.14, 0.14, 0.14), _oval(-0.5, 0.14, 0.14, 0.14)], (x, y, 0.3 * h, facing, 0.0)


def _lantern(t: float, rng: np.random.Generator, w: int, h: int) -> tuple[list[_Part], tuple[float, ...]]:
    """A lit paper lantern hanging from the top of frame, swinging on its cord."""
    x = w * (0.45 + 0.2 * rng.random())
    swing = 0.3 * math.sin(2 * math.pi * t / 2.4 + rng.uniform(0.0, 6.283))
    parts = [_stroke((0.0, 0.0), (0.0, -0.58), width=0.015),
             _oval(0.0, -0.78, 0.16, 0.2, colour=_PAPER),
             _shape((-0.09, -0.56), (0.09, -0.56), (0.09, -0.61), (-0.09, -0.61)),
             _shape((-0.09, -0.95), (0.09, -0.95), (0.09, -1.0), (-0.09, -1.0)),
             _stroke((0.0, -1.0), (0.0, -1.15), width=0.03)]
    return parts, (x, 0.0, 0.5 * h, 1.0, swing)


def _sword(t: float, rng: np.random.Generator, w: int, h: int) -> tuple[list[_Part], tuple[float, ...]]:
    """A sword swung back and forth about its hilt: steel blade, dark guard and grip."""
    swing = -1.0 + 2.0 * (0.5 - 0.5 * math.cos(2 * math.pi * t / 1.8 + rng.uniform(0.0, 6.283)))
    parts = [_shape((-0.035, 0.12), (0.035, 0.12), (0.022, 0.95), (0.0, 1.02), (-0.022, 0.95), colour=_STEEL),
             _stroke((-0.12, 0.1), (0.12, 0.1), width=0.04),
             _stroke((0.0, 0.1), (0.0, -0.12), width=0.045),
             _oval(0.0, -0.14, 0.035, 0.035)]
    return parts, (w * 0.5, h * 0.8, 0.5 * h, 1.0, swing)


Figure = Callable[[float, np.random.Generator, int, int], tuple[list[_Part], tuple[float, ...]]]


def _silhouette(figure: Figure, key: str) -> Callable[[float, int, int, int], tuple[Array, Array]]:
    """An element renderer from a figure: placed, drawn anti-aliased, its edge softened; a solid core."""

    def render(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
        parts, (x, y, unit, facing, turn) = figure(t, _rng(seed, key), w, h)
        c, s = math.cos(turn), math.sin(turn)
        layers: dict[RGB, Array] = {}
        for part in parts:
            fx, fy = part.points[:, 0] * facing, part.points[:, 1]
            px = x + (c * fx - s * fy) * unit
            py = y - (s * fx + c * fy) * unit
            pts = np.round(np.stack([px, py], 1) * 16).astype(np.int32)
            mask = layers.setdefault(part.colour, np.zeros((h, w), np.uint8))
            if part.width:
                cv2.polylines(mask, [pts], False, 255, max(round(part.width * unit), 1), cv2.LINE_AA, shift=4)
            else:
                cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA, shift=4)
        soft = max(0.6, min(w, h) / 360)
        alpha: Array = np.zeros((h, w), F32)
        premultiplied: Array = np.zeros((h, w, 3), F32)
        for colour, mask in layers.items():     # later colours over earlier ones
            a = cv2.GaussianBlur(mask.astype(F32) / 255, (0, 0), soft)
            premultiplied = _col(colour) * a[..., None] + premultiplied * (1.0 - a[..., None])
            alpha = a + alpha * (1.0 - a)
        rgb = premultiplied / np.maximum(alpha, 1e-6)[..., None]
        return rgb.astype(F32), np.where(alpha > 254.5 / 255, 1.0, alpha).astype(F32)

    render.__doc__ = figure.__doc__
    return render


#: element name -> the previs figure that stands in for it; drawn with a label, recorded as a placeholder
_FIGURES: dict[str, Figure] = {
    "creature": _creature,
    "dragon": _dragon,
    "horse": _horse,
    "car": _car,
    "lantern": _lantern,
    "sword": _sword,
    "fall": _stuntman,
}

#: the elements this engine only stands in for (its take's model is ``placeholder-<name>``)
PLACEHOLDERS: frozenset[str] = frozenset(_FIGURES)


def placeholder_label(name: str, language: Language = "en") -> str:
    """What a placeholder's label says, in the words of elements.toml: ``CREATURE · placeholder``.

    In English where no installed font can set the Korean words: a label of empty boxes says nothing.
    """
    table = element_table()
    item: dict[str, Any] = next((item for item in table["element"] if item["name"] == name), {})
    text = f"{item.get('label', {}).get(language) or name.upper()} · {table['placeholder'][language]}"
    if language != "en" and _HANGUL.search(text) and not _label_face(text).hangul:
        return placeholder_label(name, "en")
    return text


def _label_face(text: str) -> Typeface:
    return face_for(text)


@functools.lru_cache(maxsize=16)
def _label_patch(text: str, size: int) -> Array:
    return text_patch(text, _label_face(text), size)


def _put_label(frame: Array, text: str) -> None:
    """Blend ``text`` (light on a translucent dark box) over the top-left of a straight-RGBA frame, in place."""
    h, w = frame.shape[:2]
    margin = max(2, round(h * 0.03))
    patch = _label_patch(text, max(8, round(h * 0.035)))[: h - margin, : w - margin].astype(F32) / 255
    ph, pw = patch.shape[:2]
    under = frame[margin:margin + ph, margin:margin + pw].astype(F32) / 255
    top, below = patch[..., 3:], under[..., 3:] * (1.0 - patch[..., 3:])
    alpha = top + below
    rgb = (patch[..., :3] * top + under[..., :3] * below) / np.maximum(alpha, 1e-6)
    frame[margin:margin + ph, margin:margin + pw] = np.clip(np.concatenate([rgb, alpha], 2) * 255 + 0.5, 0, 255)
