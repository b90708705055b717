"""Elements: VFX layers with straight alpha, one pure function of time per element."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from soundstage.engines.procedural.noise import (
    F32,
    Array,
    _check_size,
    _col,
    _hash01,
    _lo,
    _mix,
    _noise_tex,
    _rng,
    _sample,
    _smooth,
    _up,
)
from soundstage.engines.procedural.placeholders import (
    _FIGURES,
    PLACEHOLDERS,
    Language,
    _put_label,
    _silhouette,
    placeholder_label,
)
from soundstage.errors import EngineError
from soundstage.script.breakdown import element_table

_FIRE_RAMP = np.array(
    [[0.0, 0.35, 0.03, 0.0], [0.3, 0.85, 0.2, 0.02], [0.55, 1.0, 0.5, 0.08], [0.8, 1.0, 0.82, 0.35],
     [1.0, 1.0, 0.97, 0.82]], dtype=F32)


def _ramp(t: Array, table: Array) -> Array:
    return np.stack([np.interp(t, table[:, 0], table[:, k]).astype(F32) for k in (1, 2, 3)], axis=-1)


def _grid_lo(w: int, h: int, scale: int) -> tuple[Array, Array, int, int]:
    lw, lh = max(w // scale, 8), max(h // scale, 8)
    xs = (np.arange(lw, dtype=F32)[None, :] + 0.5) * (w / lw)
    ys = (np.arange(lh, dtype=F32)[:, None] + 0.5) * (h / lh)
    return xs, ys, lw, lh


def _turbulence(seed: int, key: str, u: Array, v: Array) -> Array:
    tex = _noise_tex(seed, key, 256, 1.25)
    return _sample(tex, u, v) * 0.65 + _sample(tex, u * 2.1 + 37.0, v * 2.1 + 11.0) * 0.35


def _plume(t: float, w: int, h: int, seed: int, key: str, *, height: float, width: float, rise: float,
           taper: float, spread: float) -> tuple[Array, Array, Array]:
    """A rising column at 1/2 resolution: the shared body of fire and smoke.

    The column is warped by slow turbulence and textured by fast turbulence scrolling upward at ``rise``;
    ``taper`` narrows it toward the tip (flames), ``spread`` widens it with height (smoke).
    Returns (body 0..1, height above the base 0..1, fine turbulence).
    """
    xs, ys, _, _ = _grid_lo(w, h, 2)
    s = min(w, h)
    px, py = (xs - w * 0.5) / s, (h * 0.96 - ys) / s     # isotropic, so the noise is not stretched
    x, y = px / width, py * s / (height * h)
    warp = _turbulence(seed, key + "-warp", px * 90.0, py * 90.0 - t * rise * 45.0)
    n = _turbulence(seed, key, px * 260.0, py * 260.0 - t * rise * 150.0)
    xw = x + 0.45 * warp * np.clip(y, 0.0, None)
    half = (np.clip(1.0 - y, 0.0, 1.0) ** taper) * (1.0 + spread * np.clip(y, 0.0, None))
    body = np.clip(1.0 - (xw / np.maximum(half, 1e-3)) ** 2, 0.0, 1.0) * _smooth(-0.04, 0.04 + 0.15 * x * x, y)
    return body.astype(F32), y.astype(F32), n.astype(F32)


def _fire(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """Flames: a tapering plume whose fast turbulence tears the top into licks; it flickers."""
    body, y, n = _plume(t, w, h, seed, "fire", height=0.72, width=0.24, rise=1.8, taper=1.3, spread=0.1)
    flicker = 1.0 + 0.07 * math.sin(t * 13.0) + 0.05 * math.sin(t * 23.7 + 1.3)
    heat = body * (1.15 - 0.85 * y) * flicker + 0.6 * n * np.sqrt(body) * (0.2 + y) - 0.1
    heat = np.clip(heat, 0.0, 1.0)
    rgb = _ramp(heat, _FIRE_RAMP)
    alpha = _smooth(0.02, 0.4, heat)
    glow = cv2.GaussianBlur(heat, (0, 0), max(heat.shape[0] / 25, 1.0))
    alpha = np.maximum(alpha, _smooth(0.03, 0.5, glow) * 0.3)
    return _elem_out(rgb, alpha, w, h)


def _smoke(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """A slow grey column that widens and thins as it rises."""
    body, y, n = _plume(t, w, h, seed, "smoke", height=1.1, width=0.12, rise=0.35, taper=0.0, spread=2.2)
    dens = body * (0.8 + 0.6 * n) * (1.0 - _smooth(0.55, 1.0, y))
    alpha = _smooth(0.05, 0.7, dens) * 0.9
    shade = np.clip(0.42 + 0.16 * n + 0.15 * y, 0.0, 1.0)
    rgb = np.repeat(shade[..., None], 3, axis=2) * _col((0.96, 0.97, 1.0))
    return _elem_out(rgb, alpha, w, h)


def _explosion(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """A fireball that expands and cools over ~1.5 s, leaving billowing smoke that rises and holds."""
    xs, ys, _, _ = _grid_lo(w, h, 2)
    s = min(w, h)
    r = s * (0.03 + 0.3 * (1.0 - math.exp(-t / 0.2)))
    cx, cy = w * 0.5, h * 0.62 - s * 0.12 * t / (1.0 + 0.5 * t)
    d = np.hypot(xs - cx, ys - cy) / r
    u, v = (xs - cx) / s * 220.0, (ys - cy) / s * 220.0
    n = _turbulence(seed, "explosion", u + t * 15.0, v - t * 35.0)
    n2 = _turbulence(seed, "explosion-2", u * 0.45 - t * 8.0, v * 0.45 - t * 20.0)
    shape = d * (1.0 - 0.2 * n - 0.18 * n2)
    ball = _smooth(1.0, 0.65, shape)
    heat = np.clip(ball * (1.15 - 0.7 * d) * math.exp(-t / 0.45) * (1.0 + 0.35 * n), 0.0, 1.0)
    hold = 0.65 + 0.25 * math.exp(-max(t - 1.5, 0.0) / 2.0)
    smoke = _smooth(1.05, 0.55, shape / (1.0 + 0.2 * min(t, 2.5))) * min(t / 0.5, 1.0) * hold
    fire_a = _smooth(0.04, 0.35, heat)
    alpha = np.clip(fire_a + smoke * (1.0 - fire_a), 0.0, 1.0)
    grey = np.clip(0.2 + 0.09 * n + 0.05 * n2, 0.06, 0.45)[..., None] * _col((1.0, 0.96, 0.92))
    grey = grey + _ramp(np.clip(heat * 3.0, 0, 1), _FIRE_RAMP) * (0.5 * math.exp(-t / 0.8))
    rgb = _mix(grey, _ramp(heat, _FIRE_RAMP), (fire_a / np.maximum(alpha, 1e-4))[..., None])
    if t < 0.12:
        flash = (1.0 - t / 0.12) * np.exp(-d * 1.2)
        alpha = np.maximum(alpha, flash * 0.95)
        rgb = _mix(rgb, (1.0, 0.95, 0.8), flash[..., None])
    return _elem_out(rgb, alpha, w, h)


def _elem_out(rgb: Array, alpha: Array, w: int, h: int) -> tuple[Array, Array]:
    """Upscale a low-resolution element to the frame; alpha below 1/255 is zero, not a haze."""
    if rgb.shape[:2] != (h, w):
        rgb = _up(rgb.astype(F32), w, h)
        alpha = _up(alpha.astype(F32), w, h)
    alpha = np.where(alpha < 0.5 / 255, 0.0, alpha).astype(F32)
    return rgb.astype(F32), alpha


def _rain(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """Falling streaks in three depths; a streak is as long as a drop falls in a 1/48 s shutter."""
    rng = _rng(seed, "rain")
    canvas = np.zeros((h, w), np.uint8)
    wind = 0.18
    for count, speed, thick, level in ((2600, 0.8, 1, 70), (1100, 1.3, 1, 110), (200, 2.1, 2, 105)):
        n = max(int(count * w * h / (1920 * 1080)), 8)
        x0 = rng.random(n) * (w + h * wind)
        y0 = rng.random(n)
        v = speed * (0.85 + 0.3 * rng.random(n))
        length = v * h / 48.0
        span = 1.0 + length / h
        y = ((y0 + v * t) % span) * h - length
        x = (x0 - wind * (y + h)) % (w + h * wind) - h * wind * 0.5
        pts = np.stack([np.stack([x, y], 1), np.stack([x + wind * length, y + length], 1)], 1)
        cv2.polylines(canvas, list(np.round(pts * 16).astype(np.int32)), False, int(level),
                      max(round(thick * h / 1080), 1), cv2.LINE_AA, shift=4)
    alpha = canvas.astype(F32) * (1.0 / 255)
    rgb = np.broadcast_to(_col((0.82, 0.86, 0.92)), (h, w, 3))
    return rgb, alpha


def _snow(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """Flakes in three depths drifting and swaying; near flakes are bigger and out of focus."""
    rng = _rng(seed, "snow")
    alpha = np.zeros((h, w), F32)
    scale = h / 1080
    for count, speed, radius, blur in ((700, 0.06, 1.2, 0.0), (300, 0.11, 2.2, 0.8), (70, 0.2, 5.0, 3.0)):
        n = max(int(count * w * h / (1920 * 1080)), 6)
        x0, y0, ph = rng.random(n) * w, rng.random(n), rng.random(n) * 6.283
        v = speed * (0.8 + 0.4 * rng.random(n))
        y = ((y0 + v * t) % 1.08 - 0.04) * h
        x = (x0 + 0.03 * w * t + np.sin(t * 1.3 + ph) * radius * 6 * scale) % w
        layer = np.zeros((h, w), np.uint8)
        rad = max(round(radius * scale), 1)
        for xi, yi in zip(np.round(x * 4).astype(np.int32), np.round(y * 4).astype(np.int32), strict=True):
            cv2.circle(layer, (int(xi), int(yi)), rad * 4, 255, -1, cv2.LINE_AA, shift=2)
        lay: Array = layer.astype(F32) / 255
        if blur:
            lay = cv2.GaussianBlur(lay, (0, 0), blur * scale + 0.3) * 1.6
        alpha = np.maximum(alpha, np.clip(lay, 0, 1) * 0.9)
    rgb = np.broadcast_to(_col((0.95, 0.97, 1.0)), (h, w, 3))
    return rgb, alpha


def _particles(canvas: Array, x: Array, y: Array, vx: Array, vy: Array, heat: Array, shutter: float,
               thick: int) -> None:
    """Draw motion-blurred points as short streaks whose brightness is their heat."""
    for i in range(len(x)):
        p0 = (round(x[i] * 16), round(y[i] * 16))
        p1 = (round((x[i] - vx[i] * shutter) * 16), round((y[i] - vy[i] * shutter) * 16))
        cv2.line(canvas, p0, p1, float(heat[i]), thick, cv2.LINE_AA, shift=4)


def _sparks(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """Ballistic sparks from a point: each slot is reborn every lifetime with fresh random velocity."""
    s = min(w, h)
    n = 260
    k = np.arange(n)
    life = 0.6 + 1.0 * _hash01(seed, k, np.full(n, 1))
    phase = _hash01(seed, k, np.full(n, 2)) * life
    cycle = np.floor((t + phase) / life)
    age = (t + phase) - cycle * life
    r = [_hash01(seed, k, cycle.astype(np.int64), np.full(n, j)) for j in range(3)]
    ang = -math.pi / 2 + (r[0] - 0.5) * 2.2
    speed = s * (0.6 + 1.0 * r[1])
    g = s * 1.3
    vx, vy0 = np.cos(ang) * speed, np.sin(ang) * speed
    x = w * 0.5 + vx * age
    y = h * 0.72 + vy0 * age + 0.5 * g * age * age
    vy = vy0 + g * age
    heat = np.clip(1.0 - age / life, 0.0, 1.0) ** 1.5 * (0.6 + 0.4 * r[2])
    canvas = np.zeros((h, w), F32)
    _particles(canvas, x, y, vx, vy, heat, 1.0 / 48, max(round(s / 540), 1))
    glow = cv2.GaussianBlur(cv2.resize(canvas, (max(w // 4, 1), max(h // 4, 1)), interpolation=cv2.INTER_AREA),
                            (0, 0), 2.0)
    heat_full = np.maximum(canvas, _up(glow, w, h) * 2.0)
    rgb = _ramp(np.clip(canvas * 1.2 + 0.3, 0, 1), _FIRE_RAMP)
    alpha = np.clip(canvas * 1.4, 0, 1) + np.clip(heat_full - canvas, 0, 1) * 0.6
    return _elem_out(rgb, np.clip(alpha, 0, 1), w, h)


def _fog(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    alpha = _fog_density(t, w, h, seed, h * 0.7, reach=0.3) * 0.8
    rgb = np.broadcast_to(_col((0.80, 0.82, 0.86)), (h, w, 3))
    return rgb, _elem_out(rgb, alpha, w, h)[1]


def _magic(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """A glowing orb with motes on slow spirals around it; the glow is the alpha."""
    s = min(w, h)
    n = 180
    k = np.arange(n)
    r0 = _hash01(seed, k, np.full(n, 1))
    ang = _hash01(seed, k, np.full(n, 2)) * 6.283 + t * (0.8 + 1.2 * (1 - r0))
    rad = s * (0.05 + 0.28 * r0) * (1.0 + 0.08 * np.sin(t * 2.0 + k))
    x = w * 0.5 + np.cos(ang) * rad
    y = h * 0.5 + np.sin(ang) * rad * 0.55 - s * 0.03 * np.sin(t + k * 0.3)
    vx, vy = -np.sin(ang) * rad * 1.5, np.cos(ang) * rad * 0.8
    twinkle = 0.5 + 0.5 * np.sin(t * 6.0 + k * 1.7)
    canvas = np.zeros((h, w), F32)
    _particles(canvas, x, y, vx, vy, 0.5 + 0.5 * twinkle, 1.0 / 24, max(round(s / 400), 1))
    lw, lh = max(w // 4, 1), max(h // 4, 1)
    small = cv2.resize(canvas, (lw, lh), interpolation=cv2.INTER_AREA)
    yy, xx = np.mgrid[0:lh, 0:lw].astype(F32)
    d = np.hypot(xx - lw / 2, yy - lh / 2) / (s / 4)
    orb = np.exp(-d / 0.05) * (0.85 + 0.15 * math.sin(t * 4.0))
    glow = cv2.GaussianBlur(small, (0, 0), 3.0) * 3.0 + orb
    full = _up(glow.astype(F32), w, h) + canvas
    alpha = np.clip(full, 0, 1)
    hue = _up(np.clip(d * 2.0, 0, 1).astype(F32), w, h)
    rgb = _mix((0.95, 1.0, 1.0), (0.35, 0.75, 1.0), _smooth(0.0, 0.3, hue)[..., None])
    rgb = _mix(rgb, (0.7, 0.35, 1.0), _smooth(0.3, 1.0, hue)[..., None])
    return _elem_out(rgb, alpha, w, h)


def _wisp(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """Will-o'-the-wisps (도깨비불): a few cold flames that float, bob and flicker above the ground."""
    rng = _rng(seed, "wisp")
    n = 3 + int(rng.integers(0, 3))
    x0, y0 = rng.uniform(0.2, 0.8, n), rng.uniform(0.4, 0.72, n)
    drift, rate, phase = rng.uniform(-0.03, 0.03, n), rng.uniform(0.5, 1.1, n), rng.uniform(0.0, 6.283, n)
    radius = rng.uniform(0.035, 0.06, n) * min(w, h)
    xs, ys, _, _ = _grid_lo(w, h, 2)
    core, halo = np.zeros((ys.size, xs.size), F32), np.zeros((ys.size, xs.size), F32)
    for i in range(n):
        cx = w * (x0[i] + drift[i] * t + 0.03 * math.sin(0.7 * t + phase[i]))
        cy = h * y0[i] - radius[i] * 1.5 * math.sin(rate[i] * t + phase[i])
        flicker = 1.0 + 0.12 * math.sin(t * 11.0 + phase[i] * 3.0) + 0.06 * math.sin(t * 23.1 + phase[i])
        dx, dy = (xs - cx) / radius[i], (ys - cy) / radius[i]
        d = np.hypot(dx, np.where(dy < 0, dy / 1.8, dy))        # a flame's tip above, round below
        core = np.maximum(core, np.exp(-d * d * 1.5) * flicker)
        halo = np.maximum(halo, np.exp(-d / 0.8) * 0.35)
    alpha = np.clip(core + halo, 0.0, 1.0)
    rgb = _mix((0.3, 0.8, 1.0), (0.88, 1.0, 1.0), np.clip(core, 0.0, 1.0)[..., None])
    return _elem_out(rgb, alpha, w, h)


def _fog_density(t: float, w: int, h: int, seed: int, horizon: float, reach: float = 0.12) -> Array:
    """Low-lying fog banks: drifting fractal noise, densest at the horizon, thinner above (over ``reach``
    of the frame height) and toward the viewer."""
    lw, lh = _lo(w, h)
    tex = _noise_tex(seed, "fog", 256, 1.6)
    ys = (np.arange(lh, dtype=F32)[:, None] + 0.5) / lh * h
    xs = (np.arange(lw, dtype=F32)[None, :] + 0.5) / lw * w
    u = xs / h * 90.0 + t * 6.0
    v = ys / h * 240.0
    n = _sample(tex, u, v) * 0.6 + _sample(tex, u * 0.5 - t * 3.0 + 80, v * 0.6) * 0.5
    above = np.clip((horizon - ys) / h, 0.0, None)
    below = np.clip((ys - horizon) / h, 0.0, None)
    profile = np.exp(-above / reach) * (0.8 + 0.2 * np.exp(-below / 0.12))
    return _up((np.clip(profile * (0.75 + 0.35 * n), 0.0, 1.0)).astype(F32), w, h)


#: element name -> renderer(t seconds, width, height, seed) -> (straight RGB float, alpha float)
ELEMENTS: dict[str, Callable[[float, int, int, int], tuple[Array, Array]]] = {
    "fire": _fire,
    "explosion": _explosion,
    "smoke": _smoke,
    "rain": _rain,
    "snow": _snow,
    "sparks": _sparks,
    "fog": _fog,
    "magic": _magic,
    "wisp": _wisp,
}
ELEMENTS.update({name: _silhouette(figure, name) for name, figure in _FIGURES.items()})

def _element_names() -> dict[str, str]:
    """Every name a shot may give an element (lower case) -> the element, from ``script/elements.toml``: the
    breakdown's own vocabulary, so that a word means the same element to both (embers are smoke)."""
    names = {name: name for name in ELEMENTS}
    for item in element_table()["element"]:
        for word in (item["name"], *item["words"], *item.get("names", ())):
            names.setdefault(word.lower(), item["name"])
    return names


_ELEMENT_NAMES = _element_names()


def _element_name(name: str) -> str:
    key = name.strip().lower()
    key = _ELEMENT_NAMES.get(key, key)
    if key not in ELEMENTS:
        raise EngineError(
            f"procedural engine has no element {name!r}",
            hint=f"known elements: {', '.join(ELEMENTS)}",
        )
    return key


def element_frame(name: str, index: int, fps: float, width: int, height: int, seed: int,
                  language: Language = "en") -> Array:
    """Frame ``index`` of an element as H×W×4 uint8 straight RGBA; a pure function, so frames can stream.

    A placeholder's frame carries its label (in ``language``) in the top-left corner, so nobody mistakes the
    stand-in for the finished effect.
    """
    key = _element_name(name)
    _check_size(width, height)
    if fps <= 0 or index < 0:
        raise EngineError(f"element frame needs fps > 0 and index >= 0, got fps={fps}, index={index}")
    rgb, alpha = ELEMENTS[key](index / fps, width, height, seed)
    out = np.empty((height, width, 4), np.uint8)
    out[..., :3] = np.clip(rgb * 255.0 + 0.5, 0, 255)
    out[..., 3] = np.clip(alpha * 255.0 + 0.5, 0, 255)
    if key in PLACEHOLDERS:
        _put_label(out, placeholder_label(key, language))
    return out
