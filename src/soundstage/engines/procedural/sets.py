"""The set: a canvas and its layers (sky, terrain, architecture, weather, a film finish), back to front."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np

from soundstage.engines.procedural.elements import ELEMENTS, _fog_density
from soundstage.engines.procedural.noise import (
    F32,
    RGB,
    Array,
    _check_size,
    _col,
    _hash01,
    _lo,
    _luma,
    _mix,
    _noise_1d,
    _noise_tex,
    _over,
    _rgb,
    _rng,
    _sample,
    _smooth,
    _up,
)
from soundstage.engines.procedural.vocabulary import Scene, read_scene

# -- light: one palette per time of day -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Light:
    zenith: RGB
    horizon: RGB
    glow: RGB          # colour of the light around the sun or moon
    elevation: float   # sun/moon height as a fraction of the sky; below 0 it has set
    glow_power: float
    ambient: RGB       # what light does to a surface's colour
    cloud_lit: RGB
    cloud_dark: RGB
    stars: float = 0.0


LIGHTS: dict[str, _Light] = {
    "dawn": _Light((0.16, 0.22, 0.42), (1.00, 0.70, 0.50), (1.00, 0.66, 0.38), 0.05, 0.9,
                   (0.62, 0.52, 0.55), (1.00, 0.70, 0.60), (0.30, 0.27, 0.40), 0.15),
    "morning": _Light((0.28, 0.48, 0.80), (0.92, 0.87, 0.80), (1.00, 0.90, 0.70), 0.32, 0.6,
                      (0.95, 0.88, 0.80), (1.00, 0.96, 0.90), (0.56, 0.60, 0.70)),
    "day": _Light((0.16, 0.38, 0.76), (0.70, 0.81, 0.92), (1.00, 0.97, 0.90), 0.88, 0.35,
                  (1.00, 0.98, 0.95), (0.93, 0.94, 0.96), (0.58, 0.63, 0.72)),
    "afternoon": _Light((0.22, 0.42, 0.76), (0.90, 0.85, 0.74), (1.00, 0.86, 0.60), 0.45, 0.6,
                        (1.00, 0.90, 0.76), (1.00, 0.94, 0.84), (0.58, 0.58, 0.64)),
    "dusk": _Light((0.12, 0.12, 0.30), (1.00, 0.50, 0.22), (1.00, 0.46, 0.14), 0.05, 1.0,
                   (0.58, 0.40, 0.32), (1.00, 0.55, 0.32), (0.24, 0.17, 0.28), 0.1),
    "evening": _Light((0.04, 0.05, 0.14), (0.58, 0.30, 0.26), (0.85, 0.36, 0.20), -0.06, 0.8,
                      (0.22, 0.18, 0.22), (0.50, 0.28, 0.27), (0.08, 0.07, 0.12), 0.5),
    "night": _Light((0.012, 0.02, 0.05), (0.12, 0.16, 0.27), (0.50, 0.60, 0.80), 0.62, 0.42,
                    (0.22, 0.26, 0.40), (0.20, 0.23, 0.31), (0.030, 0.038, 0.065), 1.0),
}

# Surface colours (before light). Emissive colours (windows, lamps) are added after light and haze.
_ALBEDO: dict[str, RGB] = {
    "rock": (0.34, 0.34, 0.33),
    "forested": (0.13, 0.19, 0.12),
    "grass": (0.30, 0.38, 0.18),
    "earth": (0.30, 0.25, 0.19),
    "sand": (0.84, 0.56, 0.33),
    "snow": (0.88, 0.90, 0.95),
    "tree": (0.06, 0.10, 0.07),
    "tile": (0.19, 0.20, 0.22),
    "ridge": (0.12, 0.12, 0.13),
    "plaster": (0.80, 0.76, 0.68),
    "wood": (0.33, 0.21, 0.14),
    "red_wood": (0.52, 0.14, 0.09),
    "stone": (0.52, 0.50, 0.47),
    "concrete": (0.42, 0.43, 0.45),
    "cliff": (0.24, 0.22, 0.21),
    "courtyard": (0.50, 0.46, 0.40),
    "white_paint": (0.88, 0.87, 0.84),
}
_WINDOW_GLOW: RGB = (1.0, 0.66, 0.32)
_WINDOW_COOL: RGB = (0.75, 0.85, 1.0)


# -- the canvas that every layer paints on ---------------------------------------------------------------


@dataclass
class _Canvas:
    """The image being built plus the facts every layer shares (horizon, light, haze, sun)."""

    w: int
    h: int
    seed: int
    scene: Scene
    light: _Light
    img: Array
    hz: float                   # horizon row
    sun_x: float
    sun_y: float
    air: float                  # haze reached at depth 1 (the horizon)
    haze_rgb: Array
    detail: Array               # full-resolution fractal noise, shared texture for surfaces
    surface: Array              # per column: the row where nearby ground starts (for placing buildings)

    @property
    def night(self) -> bool:
        return self.light.elevation < 0.0 or self.scene.time == "night"

    def rng(self, key: str) -> np.random.Generator:
        return _rng(self.seed, key)

    def haze(self, depth: float | Array) -> Array:
        """Atmospheric perspective: how much of the air colour covers something at ``depth`` (1 = horizon)."""
        k = -math.log(max(1.0 - self.air, 1e-3))
        return (1.0 - np.exp(-k * np.asarray(depth, dtype=F32))).astype(F32)

    def lit(self, albedo: str | RGB, light: float = 1.0) -> Array:
        base = _ALBEDO[albedo] if isinstance(albedo, str) else albedo
        return _col(base) * _col(self.light.ambient) * light

    def paint(self, y0: int, cov: Array, color: Array) -> None:
        """Cover rows y0.. with ``color`` (a colour or a per-pixel image) by coverage ``cov``."""
        y0c = max(y0, 0)
        cov = cov[y0c - y0 :]
        y1 = min(y0c + cov.shape[0], self.h)
        cov = cov[: y1 - y0c]
        if cov.size == 0:
            return
        if color.ndim == 3:
            color = color[y0c - y0 : y0c - y0 + cov.shape[0]]
        _over(self.img[y0c:y1], color, cov)

    def glow_at(self, y0: int, x0: int, mask: Array, rgb: RGB, strength: float = 1.0) -> None:
        """Add emitted light (windows, lamps): not lit by the sun, hidden by what is drawn later."""
        view = self.img[y0 : y0 + mask.shape[0], x0 : x0 + mask.shape[1]]
        view += mask[: view.shape[0], : view.shape[1], None] * (_col(rgb) * strength)


def _band(c: _Canvas, top: Array, color: Array, depth: float, *, bottom: float | None = None,
          valley: float = 0.0, shade: Array | None = None, texture: float = 0.05, trough: float = 0.0,
          fade: float = 0.06, lean: float = 0.7) -> None:
    """Fill from a per-column top line down, hazed by depth: the primitive behind ridges, dunes and trees.

    ``valley`` pools haze toward the base (mist lying in valleys); ``trough`` darkens toward the base
    instead (the hollow behind the next dune); ``shade`` brightens or darkens columns just under the
    crest (sunlit and shaded faces), slanting down-sun so a crest's shadow is not a vertical seam.
    """
    y0 = max(int(np.floor(float(top.min()))), 0)
    y_end = c.h if bottom is None else min(math.ceil(bottom) + 1, c.h)
    if y_end <= y0:
        return
    ys = np.arange(y0, y_end, dtype=F32)[:, None]
    below = ys - top[None, :]
    cov = np.clip(below + 0.5, 0.0, 1.0)
    if bottom is not None:
        cov *= np.clip(bottom - ys + 0.5, 0.0, 1.0)
    light = 1.0 + texture * c.detail[y0:y_end]
    if shade is not None:
        shift = np.clip(below, 0, None) * (-lean if c.sun_x > c.w / 2 else lean)
        idx = np.clip(np.arange(c.w)[None, :] + shift.astype(np.int32), 0, c.w - 1)
        light = light + (shade[idx] - 1.0) * np.exp(-below / (fade * c.h))
    span = max(float((bottom if bottom is not None else c.h) - top.mean()), 0.04 * c.h)
    g = np.clip(below / span, 0.0, 1.0)
    if trough:
        light = light * (1.0 - trough * g)
    # Shadowed parts take a little cool fill from the open sky instead of going flat.
    rgb = light[..., None] * color + np.clip(1.0 - light, 0.0, 1.0)[..., None] * (_col(c.light.zenith) * 0.12)
    a = c.haze(depth)
    if valley:
        a = a + (1.0 - a) * valley * g * np.sqrt(g)
        rgb = rgb + (c.haze_rgb - rgb) * a[..., None]
    else:
        rgb = rgb + (c.haze_rgb - rgb) * a
    c.paint(y0, cov, rgb)


def _slope_shade(c: _Canvas, top: Array, strength: float) -> Array:
    """Per-column light on a crest line: faces turned toward the sun are brighter."""
    slope = np.gradient(top) * (1.0 if c.sun_x > c.w / 2 else -1.0)
    return (1.0 + strength * np.tanh(slope / (float(np.std(slope)) + 1e-3))).astype(F32)


# -- sky -------------------------------------------------------------------------------------------------


def _cloud_cover(scene: Scene) -> float:
    if scene.has("storm") or scene.has("rain"):
        return 0.85
    if scene.has("overcast"):
        return 0.7
    if scene.has("clear"):
        return 0.05
    return 0.3


def _sky(c: _Canvas) -> Array:
    """Gradient, sun or moon glow and a perspective cloud deck; returns the sky above the horizon."""
    lt, w, hz = c.light, c.w, max(round(c.hz), 1)
    lw, lh = _lo(w, hz)
    ys = (np.arange(lh, dtype=F32)[:, None] + 0.5) * (hz / lh)
    xs = (np.arange(lw, dtype=F32)[None, :] + 0.5) * (w / lw)
    t = np.clip((c.hz - ys) / c.hz, 0.0, 1.0)
    sky = _mix(lt.horizon, lt.zenith, (t ** 0.55)[..., None])
    sky = np.broadcast_to(sky, (lh, lw, 3)).copy()
    # A warm band hugging the horizon, strongest on the sun's side.
    side = np.exp(-np.abs(xs - c.sun_x) / (0.7 * w))
    sky += _col(lt.glow) * (0.25 * lt.glow_power * np.exp(-t / 0.12) * side)[..., None]
    d = np.hypot(xs - c.sun_x, ys - c.sun_y) / c.h
    glow = lt.glow_power * (0.55 * np.exp(-d / 0.05) + 0.35 * np.exp(-d / 0.25))
    # Clouds: fractal noise on a plane seen in perspective, finer toward the horizon.
    cover = _cloud_cover(c.scene)
    tex = _noise_tex(c.seed, "clouds", 256, 1.45, 1.5)
    soft = _noise_tex(c.seed, "clouds-soft", 256, 2.0, 2.0)
    depth = 1.0 / (np.maximum((c.hz - ys) / c.h, 0.0) + 0.035)
    u = (xs - w * 0.5) / c.h * depth ** 0.6 * 70.0 + 40.0
    v = depth * 22.0 + 10.0
    n = _sample(tex, u, v) * 0.8 + _sample(soft, u * 0.5, v * 0.5) * 0.6
    far = _smooth(4.0, 22.0, depth)
    n = n * (1.0 - 0.6 * far)
    density = _smooth(1.2 - 2.4 * cover, 2.2 - 2.4 * cover, n) * (1.0 - far * 0.7)
    density *= 0.25 + 0.75 * _smooth(0.0, 0.15, t)
    detail = n - _sample(tex, u + 6.0, v + 3.0) * 0.8
    shade = np.clip(0.55 + 0.35 * detail + 0.25 * (1.0 - t), 0.0, 1.0)
    cloud = _mix(lt.cloud_dark, lt.cloud_lit, shade[..., None])
    cloud += _col(lt.glow) * (glow * 0.6)[..., None]
    sky += _col(lt.glow) * glow[..., None] * (1.0 - density[..., None] * 0.7)
    _over(sky, cloud, density * 0.92)
    sky_full = _up(sky.astype(F32), w, hz)
    dens_full = _up(density.astype(F32), w, hz)
    if lt.stars > 0 and cover < 0.8:
        _stars(c, sky_full, dens_full)
    _disc(c, sky_full, dens_full)
    return sky_full


def _stars(c: _Canvas, sky: Array, density: Array) -> None:
    hz = sky.shape[0]
    rng = c.rng("stars")
    n = int(c.w * hz / 900)
    x = rng.integers(0, c.w, n)
    y = (hz * rng.random(n) ** 1.3).astype(np.int64).clip(0, hz - 1)
    b = (rng.random(n) ** 5.0 * 0.9 + 0.04).astype(F32)
    layer = np.zeros((hz, c.w), F32)
    layer[y, x] = b
    layer += cv2.GaussianBlur(layer, (0, 0), 1.1) * 2.5
    fade = _smooth(0.0, 0.35, (c.hz - np.arange(hz, dtype=F32)) / c.hz)[:, None]
    moon = np.exp(-np.hypot(np.arange(c.w, dtype=F32)[None, :] - c.sun_x,
                            np.arange(hz, dtype=F32)[:, None] - c.sun_y) / (0.25 * c.h))
    layer *= c.light.stars * fade * (1.0 - density) * (1.0 - 0.8 * moon)
    sky += layer[..., None] * _col((0.95, 0.97, 1.0))


def _disc(c: _Canvas, sky: Array, density: Array) -> None:
    """The sun (overexposed, soft) or the moon (with maria), seen through thin cloud."""
    if c.light.elevation < 0:
        return
    moon = c.scene.time == "night"
    r = c.h * (0.032 if moon else 0.028)
    pad = int(r * 3)
    x0, y0 = int(c.sun_x) - pad, int(c.sun_y) - pad
    x1, y1 = x0 + 2 * pad, y0 + 2 * pad
    xa, ya = max(x0, 0), max(y0, 0)
    xb, yb = min(x1, c.w), min(y1, sky.shape[0])
    if xa >= xb or ya >= yb:
        return
    yy, xx = np.mgrid[ya:yb, xa:xb].astype(F32)
    d = np.hypot(xx - c.sun_x, yy - c.sun_y)
    body = np.clip(r - d + 0.5, 0.0, 1.0)
    see = 1.0 - 0.85 * density[ya:yb, xa:xb]
    if moon:
        tex = _noise_tex(c.seed, "moon", 64, 1.2)
        maria = _sample(tex, (xx - c.sun_x) / r * 10 + 32, (yy - c.sun_y) / r * 10 + 32)
        limb = np.sqrt(np.clip(1.0 - (d / r) ** 2, 0.0, 1.0))
        shade = (0.82 + 0.1 * np.clip(maria, -1.5, 1.5)) * (0.75 + 0.25 * limb)
        rgb = _col((0.97, 0.96, 0.90)) * shade[..., None]
    else:
        rgb = _col((1.0, 0.97, 0.88)) * 1.6 * np.ones_like(d)[..., None]
    patch = sky[ya:yb, xa:xb]
    _over(patch, rgb, body * see)


# -- terrain ---------------------------------------------------------------------------------------------


def _valley_dip(c: _Canvas, depth: float) -> Array:
    """Lower near ridges at the middle of frame: a natural V that frames the actor."""
    x = np.arange(c.w, dtype=F32) / c.w
    return (1.0 - depth * np.exp(-(((x - 0.5) / 0.2) ** 2))).astype(F32)


def _mountains(c: _Canvas, layers: int = 4, scale: float = 1.0) -> None:
    """Layered ridges, far to near; each farther layer lighter and bluer (atmospheric perspective)."""
    rng = c.rng("mountains")
    snowy = c.scene.has("snow")
    fog = c.scene.fog
    specs = [(2.6, 0.32, 1.2), (1.8, 0.25, 1.6), (1.1, 0.17, 2.0), (0.6, 0.1, 2.4)][:layers]
    for i, (depth, height, low) in enumerate(specs):
        height *= scale
        line = _noise_1d(rng, c.w, 1.9, lowcut=low)
        ridged = 1.0 - np.abs(_noise_1d(rng, c.w, 1.6, lowcut=low * 2.5) * 2.0 - 1.0)
        prof = 0.75 * line + 0.25 * ridged
        prof = (prof - prof.min()) / max(float(prof.max() - prof.min()), 1e-6)
        dip = _valley_dip(c, 0.15 + 0.15 * i)
        top = c.hz - c.h * height * (0.35 + 0.65 * prof) * dip
        if i >= 2:
            top = top + (_noise_1d(rng, c.w, 0.6, cutoff=0.5) - 0.5) * c.h * 0.006 * i
        albedo = _mix(_ALBEDO["rock"], _ALBEDO["forested"], i / 3.0)
        color = c.lit(_rgb(albedo))
        _band(c, top.astype(F32), color, depth, bottom=c.hz + 2, valley=0.75 if fog else 0.3,
              shade=_slope_shade(c, cv2.GaussianBlur(top[None, :], (0, 0), c.w / 250)[0], 0.4 if not c.night
                                 else 0.15), texture=0.08, lean=0.4)
        if snowy and i < 2:
            cap = top + c.h * (0.03 + 0.05 * _noise_1d(rng, c.w, 1.2)) * prof
            snow_top = np.where(prof > 0.45, top, c.h).astype(F32)
            _band(c, snow_top, c.lit("snow"), depth, bottom=float(cap.max()),
                  shade=_slope_shade(c, top, 0.3), texture=0.05)
            # Trim the snow back to its jagged lower edge by repainting the rock beneath it.
            rock = np.where(prof > 0.45, cap, c.h).astype(F32)
            _band(c, rock, color, depth, bottom=c.hz + 2, valley=0.75 if fog else 0.3, texture=0.08)


def _shoulders(c: _Canvas) -> None:
    """Near slopes rising at both frame edges: a pass the actor stands in, the middle left open."""
    rng = c.rng("shoulders")
    xs = np.arange(c.w, dtype=F32)
    for side in (-1.0, 1.0):
        reach = 0.2 + 0.08 * rng.random()
        dist = (xs / c.w - 0.5) * side              # > 0 on this side of frame
        ramp = _smooth(reach, 0.5 + reach * 0.2, dist + 0.03 * (_noise_1d(rng, c.w, 1.5, lowcut=3) - 0.5))
        summit = c.hz - c.h * (0.06 + 0.1 * rng.random())
        top = c.h * 1.02 - (c.h * 1.02 - summit) * ramp
        trees = _treeline(c, rng, top.astype(F32), c.h * 0.035, c.h * 0.012)
        top = top + (trees - top) * _smooth(0.0, 0.3, ramp)
        _band(c, top.astype(F32), c.lit("forested", 0.9), 0.3, texture=0.12, trough=0.2,
              shade=_slope_shade(c, top, 0.3))


def _hills(c: _Canvas, albedo: str, depths: tuple[float, ...], height: float) -> None:
    rng = c.rng("hills")
    for i, depth in enumerate(depths):
        prof = _noise_1d(rng, c.w, 2.2)
        top = c.hz - c.h * height * (0.3 + 0.7 * prof) * (1.0 - 0.3 * i)
        _band(c, top.astype(F32), c.lit(albedo, 0.9 + 0.1 * i), depth, bottom=c.hz + 2, valley=0.4,
              shade=_slope_shade(c, top, 0.25))


def _treeline(c: _Canvas, rng: np.random.Generator, base: Array, size: float, spacing: float) -> Array:
    """Conifer silhouettes along a base line: the max of jittered triangles, vectorised per column."""
    n = max(int(c.w / spacing), 1)
    xt = (np.arange(n) + rng.random(n) * 1.5) * spacing
    clumps = np.interp(xt, np.arange(c.w), _noise_1d(rng, c.w, 1.5, lowcut=3))
    ht = size * (0.3 + 0.7 * rng.random(n) ** 0.7) * (0.45 + 0.75 * clumps)
    xs = np.arange(c.w, dtype=F32)
    spikes = ht[:, None] - np.abs(xs[None, :] - xt[:, None]) * (2.2 + 1.6 * rng.random(n)[:, None])
    saw = (np.abs(xs[None, :] - xt[:, None]) % (size * 0.12)) * 0.3
    trees = np.max(spikes - saw, axis=0).clip(0.0, None)
    return (base - trees).astype(F32)


def _forest(c: _Canvas) -> None:
    rng = c.rng("forest")
    for i, depth in enumerate((1.1, 0.75, 0.45)):
        hill = c.hz - c.h * ((0.07, 0.035, 0.005)[i] + (0.07, 0.04, 0.025)[i] * _noise_1d(rng, c.w, 2.0, lowcut=1.5))
        top = _treeline(c, rng, hill, c.h * (0.04, 0.06, 0.09)[i], c.h * (0.014, 0.02, 0.03)[i])
        _band(c, top, c.lit("tree", 1.3 - 0.15 * i), depth, bottom=c.hz + 2, valley=0.2, texture=0.1)


def _forest_frame(c: _Canvas) -> None:
    """Two tall dark conifers at the frame edges: foreground depth that leaves the middle open."""
    rng = c.rng("forest-frame")
    xs = np.arange(c.w, dtype=F32)
    ys = np.arange(c.h, dtype=F32)[:, None]
    for side in (0.02, 0.98):
        cx = c.w * (side + (rng.random() - 0.5) * 0.04)
        top = c.h * (-0.05 + 0.08 * rng.random())
        half = (ys - top) * 0.3 * (1.0 + 0.18 * np.sin((ys - top) / (c.h * 0.035)) ** 2)
        jag = _noise_tex(c.seed, "needles", 128, 1.0)[np.arange(c.h) % 128][:, :1] * c.h * 0.006
        cov = np.clip(half + jag - np.abs(xs[None, :] - cx) + 0.5, 0.0, 1.0) * (ys > top)
        rgb = c.lit("tree", 1.1) * (1.0 + 0.25 * c.detail)[..., None]
        c.paint(0, cov.astype(F32), rgb)


def _ground(c: _Canvas, albedo: str, texture: float = 0.18) -> None:
    """Everything below the horizon that is not water: a textured plane, hazed toward the horizon."""
    y0 = int(c.hz)
    rows = c.h - y0
    if rows <= 0:
        return
    lw, lh = _lo(c.w, rows)
    ys = (np.arange(lh, dtype=F32)[:, None] + 0.5) * (rows / lh)
    xs = (np.arange(lw, dtype=F32)[None, :] + 0.5) * (c.w / lw)
    depth = 1.0 / (ys / c.h + 0.02)
    u = (xs - c.w / 2) / c.h * depth * 30.0
    v = depth * 30.0
    n = _sample(_noise_tex(c.seed, "ground", 256, 1.3), u, v) * (1.0 - _smooth(8.0, 40.0, depth))
    near = 1.0 - ys / rows
    shade = (1.0 + texture * n) * (0.78 + 0.22 * near)
    rgb = c.lit(albedo) * shade[..., None]
    a = c.haze(np.clip(near, 0.0, 1.0) ** 2.5)
    rgb = rgb + (c.haze_rgb - rgb) * a[..., None]
    full = _up(rgb.astype(F32), c.w, rows) * (1.0 + 0.04 * c.detail[y0:, :, None])
    c.img[y0:] = full
    c.surface[:] = c.hz


def _dunes(c: _Canvas) -> None:
    rng = c.rng("dunes")
    sand = c.lit("sand")
    rows = c.h - c.hz
    for i, (depth, base, amp, low) in enumerate(((1.0, 0.0, 0.05, 2.0), (0.7, 0.12, 0.07, 1.6),
                                                 (0.45, 0.3, 0.08, 1.3), (0.25, 0.58, 0.07, 1.0))):
        crest = 1.0 - np.abs(_noise_1d(rng, c.w, 2.0, cutoff=7.0 / c.w, lowcut=low) * 2.0 - 1.0) ** 1.3
        top = c.hz + rows * base - c.h * amp * crest * (_valley_dip(c, 0.5) if i == 3 else 1.0)
        soft = cv2.GaussianBlur(top[None, :].astype(F32), (0, 0), c.w / 300)[0]   # a crest a few pixels wide
        shade = _slope_shade(c, soft, 0.5 if not c.night else 0.2)
        _band(c, top.astype(F32), sand, depth, shade=shade, texture=0.03, trough=0.4, fade=0.06, lean=0.25)


def _sea(c: _Canvas, sky: Array) -> None:
    """Water from the horizon down: a rippled mirror of the sky, darker toward the viewer, a glitter path."""
    y0 = int(c.hz)
    rows = c.h - y0
    if rows <= 0:
        return
    lt = c.light
    lw, lh = max(c.w // 2, 8), max(rows // 2, 2)
    ys = (np.arange(lh, dtype=F32)[:, None] + 0.5) * (rows / lh)
    xs = (np.arange(lw, dtype=F32)[None, :] + 0.5) * (c.w / lw)
    depth = 1.0 / (ys / c.h + 0.012)
    tex = _noise_tex(c.seed, "waves", 256, 1.2)
    u = (xs - c.w / 2) / c.h * depth * 18.0
    v = depth * 90.0
    wave = _sample(tex, u, v) * 0.7 + _sample(tex, u * 2.3 + 50, v * 2.1) * 0.45
    wave *= 1.0 - _smooth(10.0, 70.0, depth)
    # Reflection: the sky mirrored about the horizon, rows displaced by the waves.
    src = np.clip(c.hz - ys * 1.1 - wave * ys * 0.2, 0, sky.shape[0] - 1)
    mx, my = np.broadcast_arrays(xs, src.astype(F32))
    mirror = cv2.remap(sky, np.ascontiguousarray(mx), np.ascontiguousarray(my), cv2.INTER_LINEAR)
    near = ys / rows
    fresnel = (0.78 - 0.5 * near ** 0.7)[..., None]
    deep = _col((0.02, 0.06, 0.09)) * 0.5 + _col(lt.zenith) * 0.35
    rgb = mirror * fresnel + deep * (1.0 - fresnel)
    rgb *= (1.0 + 0.18 * np.tanh(wave))[..., None]
    if lt.elevation >= 0:
        width = 0.015 * c.w + near * 0.25 * c.w
        path = np.exp(-(((xs - c.sun_x) / width) ** 2)) * (1.0 - 0.4 * near)
        sparkle = _smooth(0.35, 1.3, wave) * path
        rgb += _col(lt.glow) * (sparkle * (1.2 if c.scene.time != "night" else 0.9))[..., None]
    haze = c.haze(np.clip(1.0 - near, 0.0, 1.0) ** 3)[..., None]
    rgb = rgb + (c.haze_rgb - rgb) * haze * 0.6
    c.img[y0:] = _up(rgb.astype(F32), c.w, rows)
    c.surface[:] = c.h * 0.9


def _shore(c: _Canvas) -> None:
    """A dark foreground shore so an actor has somewhere to stand in a sea scene."""
    rng = c.rng("shore")
    top = c.h * 0.86 - c.h * 0.03 * _noise_1d(rng, c.w, 1.6) - c.h * 0.04 * (1.0 - _valley_dip(c, 1.0))
    _band(c, top.astype(F32), c.lit("sand", 0.6), 0.12, texture=0.15, shade=_slope_shade(c, top, 0.2),
          trough=0.3)
    c.surface[:] = top


def _cliff(c: _Canvas) -> float:
    """A rocky headland on the side away from the sun, stepping down to the sea, with a sea stack or two
    beyond it; returns the column of its sea edge (a lighthouse stands near it)."""
    rng = c.rng("cliff")
    left = c.sun_x > c.w / 2
    xs = np.arange(c.w, dtype=F32)
    out = xs if left else (c.w - 1 - xs)             # distance from the frame edge the cliff grows from
    edge = c.w * (0.22 + 0.06 * rng.random())
    rough = _noise_1d(rng, c.w, 1.4, lowcut=5) - 0.5
    plateau = c.hz - c.h * (0.2 + 0.04 * _noise_1d(rng, c.w, 1.8, lowcut=2)) + out / c.w * c.h * 0.06
    fall = _smooth(edge * 0.8, edge + c.w * 0.12, out + rough * c.w * 0.05)
    steps = np.floor(fall * 4.0 + rough * 1.5) / 4.0
    steps = cv2.GaussianBlur(np.clip(steps, 0, 1)[None, :].astype(F32), (0, 0), c.w / 500)[0]
    top = plateau + (0.35 * fall + 0.65 * steps) * c.h * 0.8 + rough * c.h * 0.02
    for k in range(1 + int(rng.random() < 0.6)):
        at = edge + c.w * (0.1 + 0.08 * k + 0.03 * rng.random())
        half = c.w * (0.025 + 0.015 * rng.random()) / (1 + k)
        bump = np.clip(1.0 - (np.abs(out - at) / half) ** 2, 0, 1) ** 0.6
        stack = c.hz + c.h * 0.01 - c.h * (0.06 - 0.02 * k) * bump * (1.0 + 0.6 * rough)
        _band(c, np.where(bump > 0, stack, c.h).astype(F32), c.lit("cliff"), 0.8 + 0.2 * k,
              bottom=c.hz + c.h * 0.012, texture=0.15, shade=_slope_shade(c, stack, 0.5))
    top = top.astype(F32)
    lw, lh = _lo(c.w, c.h)
    cracks = _sample(_noise_tex(c.seed, "strata", 256, 1.3), np.arange(lw, dtype=F32)[None, :] * 2.5,
                     np.arange(lh, dtype=F32)[:, None] * 0.25)
    cracks = _up(cracks, c.w, c.h)
    y0 = max(int(top.min()), 0)
    ys = np.arange(y0, c.h, dtype=F32)[:, None]
    below = ys - top[None, :]
    light = 1.0 + 0.14 * cracks[y0:] + 0.1 * c.detail[y0:]
    light = light * (1.0 - 0.3 * _smooth(c.hz, c.h, ys))
    rim = (_slope_shade(c, top, 0.6)[None, :] - 1.0) * np.exp(-np.clip(below, 0.0, None) / (0.012 * c.h))
    band = c.lit("cliff") * (light * (1.0 + rim))[..., None]
    band = _mix(band, c.lit("grass", 0.6), (_smooth(0.015 * c.h, 0.0, below) * 0.8)[..., None])
    c.paint(y0, np.clip(below + 0.5, 0.0, 1.0), band + (c.haze_rgb - band) * c.haze(0.3))
    on_top = fall < 0.05
    c.surface[on_top] = top[on_top]
    return float(edge if left else c.w - edge)


# -- architecture ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Box:
    """A local pixel grid for one object: coordinates and the slice of the image it covers."""

    x0: int
    y0: int
    xs: Array
    ys: Array

    @classmethod
    def around(cls, c: _Canvas, left: float, top: float, right: float, bottom: float) -> _Box | None:
        x0, x1 = max(int(left) - 1, 0), min(math.ceil(right) + 1, c.w)
        y0, y1 = max(int(top) - 1, 0), min(math.ceil(bottom) + 1, c.h)
        if x1 <= x0 or y1 <= y0:
            return None
        return cls(x0, y0, np.arange(x0, x1, dtype=F32)[None, :], np.arange(y0, y1, dtype=F32)[:, None])

    def put(self, c: _Canvas, cov: Array, rgb: Array, depth: float) -> None:
        cov = np.broadcast_to(cov, (self.ys.shape[0], self.xs.shape[1]))
        rgb = rgb + (c.haze_rgb - rgb) * c.haze(depth)
        view = c.img[self.y0 : self.y0 + cov.shape[0], self.x0 : self.x0 + cov.shape[1]]
        _over(view, rgb, cov)

    def light(self, c: _Canvas, cov: Array, rgb: RGB, strength: float = 1.0) -> None:
        cov = np.broadcast_to(cov, (self.ys.shape[0], self.xs.shape[1])).astype(F32)
        c.glow_at(self.y0, self.x0, cov, rgb, strength)


def _rect(box: _Box, left: float, top: float, right: float, bottom: float) -> Array:
    """Anti-aliased coverage of an axis-aligned rectangle."""
    cx = np.clip(np.minimum(box.xs - left, right - box.xs) + 0.5, 0.0, 1.0)
    cy = np.clip(np.minimum(box.ys - top, bottom - box.ys) + 0.5, 0.0, 1.0)
    return (cx * cy).astype(F32)


def _grid(box: _Box, x0: float, y0: float, px: float, py: float, fill: float) -> tuple[Array, Array, Array]:
    """Cells of a window grid: (inside-a-pane mask, column index, row index)."""
    gx = (box.xs - x0) / px
    gy = (box.ys - y0) / py
    inside = ((gx % 1.0) < fill) & ((gy % 1.0) < fill)
    return inside.astype(F32), np.floor(gx), np.floor(gy)


def _korean_roof(box: _Box, cx: float, eave_y: float, width: float, height: float) -> Array:
    """Coverage of a hipped-and-gabled giwa roof seen from the front.

    A long ridge with ends that lift, hips falling to the corners, and eaves that sweep up toward the
    corners (the curve that makes a Korean roof read as one from any distance).
    """
    au = np.abs((box.xs - cx) / (width / 2))
    eave = eave_y - width * 0.055 * np.clip(au, 0.0, 1.0) ** 3
    r = 0.5
    s = np.clip((au - r) / (1.0 - r), 0.0, 1.0)
    ridge_y = eave_y - height
    hip = ridge_y + (eave - height * 0.1 - ridge_y) * s ** 0.8
    ridge = ridge_y - height * 0.07 - height * 0.1 * np.clip((au - r + 0.06) / 0.06, 0.0, 1.0) ** 2
    top = np.where(au <= r, ridge, hip)
    cov = np.clip(box.ys - top + 0.5, 0, 1) * np.clip(eave - box.ys + 0.5, 0, 1) * np.clip((1.0 - au) * width, 0, 1)
    return cov.astype(F32)


def _korean_building(c: _Canvas, cx: float, base_y: float, width: float, depth: float,
                     kind: str = "hanok") -> None:
    """A hanok, temple hall or palace hall: stone base, timber posts, lattice paper doors lit at night,
    a giwa roof (two tiers for a palace)."""
    roof_h, body_h, base_h = width * 0.2, width * 0.2, width * 0.05
    tiers = 2 if kind == "palace" else 1
    eave_y = base_y - base_h - body_h
    total = base_h + body_h + roof_h * 1.3 + (tiers - 1) * (roof_h + body_h * 0.5)
    box = _Box.around(c, cx - width * 0.55, base_y - total, cx + width * 0.55, base_y)
    if box is None:
        return
    rng = c.rng(f"korean-{cx:.0f}-{base_y:.0f}")
    wood = c.lit("red_wood" if kind in ("palace", "temple") else "wood")
    box.put(c, _rect(box, cx - width * 0.42, base_y - base_h, cx + width * 0.42, base_y),
            c.lit("stone", 0.8) * (1.0 + 0.15 * (box.ys < base_y - base_h * 0.8))[..., None], depth)
    half = width * 0.36
    bays = 5 if kind == "hanok" else 7
    bay = 2 * half / bays
    gx = (box.xs - (cx - half)) / bay
    frac = gx % 1.0
    body = _rect(box, cx - half, eave_y - roof_h * 0.3, cx + half, base_y - base_h)
    box.put(c, body, wood * 0.55, depth)
    door_top, door_bot = eave_y + body_h * 0.17, base_y - base_h - body_h * 0.12
    door = body * (frac > 0.1) * (frac < 0.9) * (box.ys > door_top) * (box.ys < door_bot)
    step = max(bay * 0.075, 2.0)
    dy = (box.ys - door_top) / (door_bot - door_top)
    bars = (((box.xs - cx) % step) < max(step * 0.22, 1.0)) | (np.abs(dy - 0.5) < 0.03) | (dy < 0.05) | (dy > 0.95)
    lattice = bars.astype(F32) * door
    on = np.take(rng.random(bays + 2) < 0.6, np.clip(np.floor(gx), 0, bays + 1).astype(np.int64))
    box.put(c, door, c.lit("plaster", 0.85), depth)
    box.put(c, lattice * 0.8, wood * 0.8, depth)
    if c.night:
        warmth = 0.55 + 0.45 * np.clip(dy, 0, 1)   # a lamp low in the room
        box.light(c, door * on * (1.0 - 0.7 * lattice) * warmth, _WINDOW_GLOW, 0.75)
        pool = _Box.around(c, cx - width * 0.6, base_y, cx + width * 0.6, base_y + width * 0.15)
        if pool is not None:       # the doors' light spilling onto the yard
            spill = np.exp(-(((pool.xs - cx) / (width * 0.4)) ** 2) - ((pool.ys - base_y) / (width * 0.06)) ** 2)
            pool.light(c, spill * (pool.ys >= base_y), _WINDOW_GLOW, 0.12 * float(on.mean()))
    box.put(c, np.clip(1.0 - (box.ys - eave_y) / (body_h * 0.35), 0, 1) * body * 0.75, wood * 0.25, depth)
    tile = c.lit("tile")
    y, w_roof = eave_y, width
    for tier in range(tiers):
        roof = _korean_roof(box, cx, y, w_roof, roof_h)
        rows = 0.8 + 0.35 * (((box.xs - cx) % max(w_roof * 0.014, 2.0)) > max(w_roof * 0.007, 1.0))
        lift = w_roof * 0.055 * np.clip(np.abs(box.xs - cx) / (w_roof / 2), 0, 1) ** 3
        edge = np.clip(1.0 - (y - lift - box.ys) / max(roof_h * 0.07, 1.5), 0, 1)
        slope = 0.8 + 0.35 * np.clip((box.ys - (y - roof_h)) / roof_h, 0, 1)
        box.put(c, roof, tile * (rows * slope * (1.0 + 0.5 * edge))[..., None], depth)
        # Sky light catching the ridge and hips: keeps the silhouette readable against a night sky.
        k = max(int(roof_h * 0.04), 1)
        rim = np.clip(roof - np.vstack([np.zeros((k, roof.shape[1]), F32), roof[:-k]]), 0, 1)
        box.put(c, rim * 0.8, _col(c.light.horizon) * 1.2 + tile, depth)
        if tier + 1 < tiers:
            y = y - roof_h * 0.8 - body_h * 0.5
            w_roof *= 0.7
            box.put(c, _rect(box, cx - w_roof * 0.34, y, cx + w_roof * 0.34, y + body_h * 0.75), wood * 0.5, depth)


def _pagoda(c: _Canvas, cx: float, base_y: float, width: float, depth: float) -> None:
    """A stone pagoda: stacked small roofs, each narrower than the one below."""
    tiers = 5
    box = _Box.around(c, cx - width, base_y - width * 3.4, cx + width, base_y)
    if box is None:
        return
    stone = c.lit("stone", 0.85)
    box.put(c, _rect(box, cx - width * 0.5, base_y - width * 0.5, cx + width * 0.5, base_y), stone, depth)
    y = base_y - width * 0.5
    for t in range(tiers):
        wt = width * (1.0 - 0.1 * t)
        body = _rect(box, cx - wt * 0.3, y - wt * 0.32, cx + wt * 0.3, y)
        box.put(c, body, stone * 0.9, depth)
        y -= wt * 0.32
        box.put(c, _korean_roof(box, cx, y, wt * 1.3, wt * 0.22), stone * 0.75, depth)
        y -= wt * 0.22
    box.put(c, _rect(box, cx - width * 0.03, y - width * 0.5, cx + width * 0.03, y), stone * 0.7, depth)


def _lit_windows(c: _Canvas, box: _Box, cells: Array, gx: Array, gy: Array, salt: int, share: float,
                 depth: float) -> None:
    """Windows: dark glass by day; at night a random share lit, mostly warm, some cool."""
    if not c.night:
        box.put(c, cells * 0.5, c.lit("ridge", 0.8), depth)
        return
    gxi, gyi = gx.astype(np.int64), gy.astype(np.int64)
    on = _hash01(c.seed, gxi + salt * 7919, gyi) < share
    warm = _hash01(c.seed + 1, gxi, gyi + salt) < 0.7
    box.light(c, cells * on * warm, _WINDOW_GLOW, 0.8)
    box.light(c, cells * on * ~warm, _WINDOW_COOL, 0.6)


def _blocks(c: _Canvas, key: str, left: float, right: float, base_y: float, heights: tuple[float, float],
            widths: tuple[float, float], depth: float, lit_share: float = 0.3) -> None:
    """A row of towers for a skyline, each with a grid of windows."""
    rng = c.rng(key)
    x = left
    while x < right:
        bw = c.h * (widths[0] + (widths[1] - widths[0]) * rng.random())
        bh = c.h * (heights[0] + (heights[1] - heights[0]) * rng.random())
        box = _Box.around(c, x, base_y - bh, x + bw, base_y)
        if box is not None:
            body = _rect(box, x, base_y - bh, x + bw, base_y)
            box.put(c, body, c.lit("concrete", 0.75 + 0.35 * rng.random()), depth)
            pane = max(c.h * 0.006, 1.5)
            panes, gx, gy = _grid(box, x + pane, base_y - bh + pane * 1.5, pane * 2.2, pane * 3.0, 0.5)
            inner = _rect(box, x + pane * 0.8, base_y - bh + pane, x + bw - pane * 0.8, base_y - pane * 1.5)
            _lit_windows(c, box, panes * inner, gx, gy, int(x), lit_share, depth)
        x += bw * (0.85 + 0.3 * rng.random())


def _castle(c: _Canvas, cx: float, base_y: float, size: float, depth: float) -> None:
    """Curtain wall, a keep and round towers with conical roofs; crenellated; slit windows lit at night."""
    box = _Box.around(c, cx - size * 0.6, base_y - size * 1.05, cx + size * 0.6, base_y)
    if box is None:
        return
    stone, roof = c.lit("stone", 0.8), c.lit("tile", 1.2)
    merlon = max(size * 0.035, 2.0)
    battlement = ((box.xs - cx) % (2 * merlon)) < merlon
    parts = [(-0.5, 0.5, 0.22, False), (-0.17, 0.17, 0.58, False), (-0.52, -0.38, 0.4, True),
             (0.38, 0.52, 0.4, True), (-0.27, -0.16, 0.7, True), (0.16, 0.27, 0.62, True)]
    for left, right, height, cone in parts:
        x0, x1, top = cx + left * size, cx + right * size, base_y - height * size
        body = _rect(box, x0, top, x1, base_y)
        if cone:
            mid, half = (x0 + x1) / 2, (x1 - x0) * 0.62
            spire = np.clip((box.ys - (top - size * 0.2)) * half / (size * 0.2) - np.abs(box.xs - mid) + 0.5, 0, 1)
            box.put(c, spire * (box.ys <= top + 1), roof, depth)
        else:
            body = np.maximum(body, _rect(box, x0, top - merlon, x1, top) * battlement)
        shade = 1.0 - 0.25 * ((box.xs - x0) / max(x1 - x0, 1.0))
        box.put(c, body, stone * shade[..., None], depth)
        slits, gx, gy = _grid(box, x0 + (x1 - x0) * 0.4, top + size * 0.06, x1 - x0, size * 0.09, 0.2)
        inner = _rect(box, x0 + 1, top + size * 0.04, x1 - 1, base_y - size * 0.06)
        _lit_windows(c, box, slits * inner * body, gx, gy, int(x0), 0.5, depth)


def _houses(c: _Canvas, left: float, right: float, depth: float) -> None:
    """A loose cluster of small pitched-roof houses at a few depths, each with a window or two."""
    rng = c.rng("village")
    for row, (dy, scale) in enumerate(((0.0, 0.7), (0.025, 0.85), (0.055, 1.0))):
        x = left + c.h * 0.04 * rng.random()
        while x < right:
            hw = c.h * scale * (0.05 + 0.03 * rng.random())
            hh = hw * (0.55 + 0.2 * rng.random())
            base = c.hz + c.h * dy
            rh = hw * (0.45 + 0.2 * rng.random())
            box = _Box.around(c, x - hw * 0.15, base - hh - rh, x + hw * 1.15, base)
            if box is not None:
                wall = _rect(box, x, base - hh, x + hw, base)
                box.put(c, wall, c.lit("plaster", 0.7 + 0.3 * rng.random()), depth - 0.1 * row)
                mid = x + hw / 2
                gable = np.clip(box.ys - (base - hh - rh) - np.abs(box.xs - mid) * rh / (hw * 0.65) + 0.5, 0, 1)
                box.put(c, gable * (box.ys <= base - hh + 1), c.lit("tile", 1.5), depth - 0.1 * row)
                win, gx, gy = _grid(box, x + hw * 0.2, base - hh * 0.75, hw * 0.35, hh, 0.45)
                inner = _rect(box, x + hw * 0.1, base - hh * 0.8, x + hw * 0.9, base - hh * 0.3)
                _lit_windows(c, box, win * inner, gx, gy, int(x) + row, 0.6, depth)
            x += hw * (1.2 + 1.2 * rng.random())


def _spire(c: _Canvas, cx: float, base_y: float, height: float, depth: float, lighthouse: bool) -> None:
    """A slender tower (broadcast tower or lighthouse): tapering shaft, a head, a light at night."""
    w0 = height * (0.11 if lighthouse else 0.05)
    w1 = w0 * (0.65 if lighthouse else 0.5)
    box = _Box.around(c, cx - w0 * 2, base_y - height * 1.25, cx + w0 * 2, base_y)
    if box is None:
        return
    f = np.clip((base_y - box.ys) / height, 0, 1)
    half = w0 / 2 + (w1 - w0) / 2 * f
    shaft = np.clip(half - np.abs(box.xs - cx) + 0.5, 0, 1) * np.clip(box.ys - (base_y - height) + 0.5, 0, 1)
    shaft = shaft * (box.ys <= base_y)
    if lighthouse:
        band = (np.floor(f * 5) % 2 == 1)
        rgb = np.where(band[..., None], c.lit((0.62, 0.12, 0.1)), c.lit("white_paint"))
    else:
        rgb = np.broadcast_to(c.lit("concrete", 0.8), (*shaft.shape, 3))
    box.put(c, shaft, rgb, depth)
    head_y = base_y - height
    hw = w1 * (1.1 if lighthouse else 1.8)
    head = _rect(box, cx - hw, head_y - hw * (1.2 if lighthouse else 0.9), cx + hw, head_y)
    cap = np.clip(hw * 0.9 - np.abs(box.xs - cx) - (head_y - hw * 1.2 - box.ys) * 1.2 + 0.5, 0, 1)
    cap *= (box.ys < head_y - hw * 1.2) * (box.ys > head_y - hw * 2.4)
    box.put(c, np.maximum(head, cap), c.lit("ridge", 0.9), depth)
    if lighthouse:
        lamp, colour = _rect(box, cx - hw * 0.7, head_y - hw * 1.05, cx + hw * 0.7, head_y - hw * 0.2), (1.0, 0.9, 0.7)
    else:
        tip = head_y - height * 0.2
        box.put(c, _rect(box, cx - 1, tip, cx + 1, head_y), c.lit("ridge"), depth)
        lamp, colour = _rect(box, cx - 2, tip - 2, cx + 2, tip + 2), (1.0, 0.2, 0.1)   # aviation light
    if c.night or c.scene.time in ("dusk", "dawn") or c.scene.has("fog") or c.scene.has("rain"):
        box.light(c, lamp, colour, 1.5)
        if lighthouse:
            _beam(c, cx, head_y - hw * 0.6, height)


def _beam(c: _Canvas, x: float, y: float, size: float) -> None:
    """A lighthouse beam: a soft cone of light swept toward the open side of frame."""
    toward = 1.0 if x < c.w / 2 else -1.0
    box = _Box.around(c, 0, y - size, c.w, y + size)
    if box is None:
        return
    dx = (box.xs - x) * toward
    ang = np.abs(box.ys - y) / np.maximum(dx, 1.0)
    cone = _smooth(0.12, 0.0, ang) * (dx > 0) * np.exp(-dx / (c.w * 0.6))
    box.light(c, cone.astype(F32) * 0.35, (1.0, 0.92, 0.75), 1.0)


def _architecture(c: _Canvas, cliff_edge: float | None) -> None:
    """Buildings on the side away from the sun or moon, the middle of frame kept for the actor."""
    arch = c.scene.architecture
    if not arch:
        return
    rng = c.rng("architecture")
    side = -1.0 if c.sun_x > c.w / 2 else 1.0
    main_x = c.w * 0.5 + side * c.w * (0.27 + 0.04 * rng.random())
    ground = c.hz + (c.h - c.hz) * (0.03 if c.scene.far else 0.2)
    scale, near_depth = (0.4, 0.9) if c.scene.far else (1.0, 0.35)
    korean = [k for k in ("palace", "temple", "hanok") if k in arch]
    if "rooftops" in arch or (korean and "village" in arch):
        for i, frac in enumerate(np.linspace(0.02, 0.98, 7)):
            if abs(frac - 0.5) > 0.12:
                _korean_building(c, c.w * (frac + (rng.random() - 0.5) * 0.04), c.hz + c.h * 0.03 * (i % 2),
                                 c.h * (0.28 + 0.06 * rng.random()), 0.75 + 0.1 * (i % 2))
    if korean or "rooftops" in arch:
        kind = korean[0] if korean else "hanok"
        size = c.h * {"hanok": 0.75, "temple": 0.85, "palace": 0.75}[kind] * scale
        _korean_building(c, main_x, ground, size, near_depth, kind)
        if "temple" in arch:
            _pagoda(c, main_x - side * size * 0.73, ground - c.h * 0.02 * scale, size * 0.1, near_depth + 0.1)
    elif "village" in arch:
        lo, hi = (0.0, 0.4) if side < 0 else (0.6, 1.0)
        _houses(c, c.w * lo, c.w * hi, 0.7)
    if "city" in arch:
        _blocks(c, "city-far", 0, c.w, c.hz + 1, (0.06, 0.2), (0.03, 0.07), 1.1, lit_share=0.25)
        near = (0, c.w * 0.38) if side < 0 else (c.w * 0.62, c.w)
        _blocks(c, "city-near", near[0], near[1], c.hz + c.h * 0.06, (0.15, 0.42), (0.06, 0.12), 0.55)
    if "castle" in arch:
        _castle(c, main_x if not korean else c.w - main_x, c.hz + c.h * 0.03, c.h * 0.5, 0.7)
    if "tower" in arch:
        _spire(c, c.w * 0.5 - side * c.w * 0.3, c.hz + c.h * 0.01, c.h * 0.42, 0.9, lighthouse=False)
    if "lighthouse" in arch:
        if cliff_edge is not None:
            x = cliff_edge + (1.0 if cliff_edge > c.w / 2 else -1.0) * c.w * 0.06
            base = float(c.surface[int(np.clip(x, 0, c.w - 1))])
        else:
            x, base = c.w * 0.5 - side * c.w * 0.3, c.hz + c.h * 0.02
        _spire(c, x, base + 2, c.h * 0.2, 0.3, lighthouse=True)


# -- weather and finish ----------------------------------------------------------------------------------

def _weather(c: _Canvas) -> None:
    sc = c.scene
    if sc.fog:
        fog = _fog_density(0.0, c.w, c.h, c.seed, c.hz) * 0.8
        _over(c.img, np.broadcast_to(c.haze_rgb, c.img.shape), fog)
    level = float(np.mean(_col(c.light.ambient))) * 0.9 + 0.08
    for name, strength in (("rain", 0.8), ("snow", 1.0)):
        if sc.has(name):
            rgb, alpha = ELEMENTS[name](0.0, c.w, c.h, c.seed)
            _over(c.img, rgb * level, alpha * strength)


def _grade(img: Array, scene: Scene) -> Array:
    """Palette shifts the look asks for, then a gentle filmic curve."""
    look = set(scene.look)
    if "rain" in scene.weather or "storm" in scene.weather:
        look.add("desaturated")
    y = _luma(img)[..., None]
    if "teal_orange" in look:
        t = _smooth(0.1, 0.75, y)
        img = img * (1.0 - 0.35) + 0.35 * _mix((0.10, 0.36, 0.42), (1.05, 0.62, 0.32), t) * (y * 2.0 + 0.05)
    if "warm" in look:
        img = img * _col((1.08, 1.0, 0.86))
    if "cold" in look:
        img = img * _col((0.88, 0.98, 1.1))
    if "desaturated" in look:
        img = _mix(y, img, 0.55)
    if "monochrome" in look:
        img = np.broadcast_to(_luma(img)[..., None], img.shape) * _col((1.0, 0.99, 0.96))
    img = np.clip(img, 0.0, 1.6)
    k = 0.3 if "contrast" in look else 0.12
    curve = img * img * (3.0 - 2.0 * np.clip(img, 0, 1))
    img = img + (curve - img) * k
    if "soft" in look:
        img = img * 0.88 + 0.05
    return img.astype(F32)


def _finish(c: _Canvas) -> Array:
    """Emitted light, bloom, grade, vignette and grain, then 8 bits."""
    h, w = c.h, c.w
    img = c.img
    lw, lh = max(w // 8, 4), max(h // 8, 4)
    small = cv2.resize(img, (lw, lh), interpolation=cv2.INTER_AREA)
    bright = np.clip(small - 0.75, 0.0, None)
    bloom = cv2.GaussianBlur(bright, (0, 0), max(lw / 80, 1.0)) * 0.8 + cv2.GaussianBlur(bright, (0, 0), lw / 20) * 0.6
    yy, xx = np.mgrid[0:lh, 0:lw].astype(F32)
    r = np.hypot((xx + 0.5) / lw - 0.5, ((yy + 0.5) / lh - 0.5) * 0.85)
    vig = 1.0 - 0.42 * _smooth(0.22, 0.75, r)
    low = np.concatenate([bloom, vig[..., None]], axis=2)
    low_full = _up(low, w, h)
    img += low_full[..., :3]
    img *= low_full[..., 3:]
    img = _grade(img, c.scene)
    rng = c.rng("grain")
    grainy = "grain" in c.scene.look
    if grainy:
        g = cv2.resize(rng.standard_normal((h // 2 + 1, w // 2 + 1), dtype=F32), (w, h),
                       interpolation=cv2.INTER_LINEAR)
        img += g[..., None] * (0.028 * (1.0 - 0.5 * np.clip(img, 0, 1)))
    # Always a whisper of noise: it dithers the upscaled gradients so skies never band.
    img += rng.random((h, w, 1), dtype=F32) * (1.5 / 255) - 0.75 / 255
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _render(scene: Scene, width: int, height: int, seed: int) -> Array:
    _check_size(width, height)
    lt = LIGHTS[scene.time]
    if scene.has("rain") or scene.has("storm") or scene.has("overcast"):
        grey = float(np.mean(lt.horizon)) * 0.8      # an overcast sky: greyer, flatter, less sun
        lt = dataclasses.replace(
            lt, zenith=_rgb(_mix(lt.zenith, (grey * 0.7,) * 3, 0.6)), horizon=_rgb(_mix(lt.horizon, (grey,) * 3, 0.55)),
            glow_power=lt.glow_power * 0.4, ambient=_rgb(_col(lt.ambient) * 0.75),
            cloud_dark=_rgb(_col(lt.cloud_dark) * 0.8))
    rng = _rng(seed, "layout")
    hz = height * (0.64 + 0.03 * (rng.random() - 0.5))
    sun_side = 0.72 if rng.random() < 0.5 else 0.28
    sun_x = width * (sun_side + (rng.random() - 0.5) * 0.06)
    sun_y = hz - max(lt.elevation, -0.2) * hz * (0.9 if lt.elevation > 0.5 else 1.0)
    if scene.time == "night":
        sun_y = height * 0.2
    air = 0.68 if scene.fog else (0.6 if scene.has("rain") or scene.has("snow") else 0.42)
    haze = _col(lt.horizon) * (0.9 if lt.elevation > 0.3 and scene.time != "night" else 0.7) + _col(lt.zenith) * 0.1
    if scene.fog:
        haze = _mix(haze, _col(lt.ambient) * 0.55 + 0.1 * float(np.mean(lt.ambient)), 0.5)
    detail = _detail_field(seed, width, height)
    c = _Canvas(width, height, seed, scene, lt, np.zeros((height, width, 3), F32), hz, sun_x, sun_y, air,
                haze.astype(F32), detail, np.full(width, hz, F32))
    sky = _sky(c)
    c.img[: sky.shape[0]] = sky
    terrain = scene.terrain
    korean = {"hanok", "temple", "palace", "rooftops"} & set(scene.architecture)
    if "mountains" in terrain:
        _mountains(c)
    elif korean and "sea" not in terrain:
        _mountains(c, layers=2, scale=0.55)     # Korean towns sit in front of hills
    elif "plains" in terrain:
        _hills(c, "grass", (2.0, 1.3), 0.05)
    if "forest" in terrain:
        _forest(c)
    if "sea" in terrain:
        _sea(c, sky)
    elif "desert" in terrain:
        _ground(c, "sand", 0.1)
        _dunes(c)
    else:
        ground = "snow" if scene.has("snow") else (
            "courtyard" if korean else "concrete" if "city" in scene.architecture
            else "grass" if {"plains", "forest"} & set(terrain) else "earth")
        _ground(c, ground)
    edge = _cliff(c) if "cliff" in terrain else None
    if "mountains" in terrain and not scene.architecture and "sea" not in terrain and edge is None:
        _shoulders(c)
    _architecture(c, edge)
    if "sea" in terrain and "cliff" not in terrain:
        _shore(c)
    if "glass" in scene.material:
        _glints(c)
    if "forest" in terrain:
        _forest_frame(c)
    _weather(c)
    return _finish(c)


def _detail_field(seed: int, width: int, height: int) -> Array:
    tex = _noise_tex(seed, "detail", 256, 1.1)
    reps_x = max(1, math.ceil(width / 512))
    reps_y = max(1, math.ceil(height / 512))
    tiled = np.tile(tex, (reps_y, reps_x))
    return cv2.resize(tiled, (width, height), interpolation=cv2.INTER_LINEAR)


def _glints(c: _Canvas) -> None:
    """Sparkles on glass or ice ground: sparse points that catch the light, most toward the sun."""
    rng = c.rng("glints")
    n = int(c.w * (c.h - c.hz) / 4000)
    y = (c.hz + (c.h - c.hz) * rng.random(n) ** 1.6).astype(np.int64).clip(0, c.h - 1)
    x = rng.integers(0, c.w, n)
    toward = np.exp(-np.abs(x - c.sun_x) / (0.2 * c.w))
    b = (rng.random(n) ** 4 * 3.0 * (0.1 + toward)).astype(F32)
    layer = np.zeros((c.h, c.w), F32)
    layer[y, x] = b
    arm = max(int(c.h / 120), 2)
    cross = np.zeros((2 * arm + 1, 2 * arm + 1), F32)
    cross[arm, :] = cross[:, arm] = np.exp(-np.abs(np.arange(-arm, arm + 1)) / (arm / 2.5))
    layer = cv2.filter2D(layer, -1, cross) + cv2.GaussianBlur(layer, (0, 0), 1.2) * 2.0
    c.glow_at(0, 0, layer, c.light.glow, 1.0)
    c.img[int(c.hz):] *= _col((0.92, 0.98, 1.06))


def set_image(prompt: str, look: str, width: int, height: int, seed: int) -> Array:
    """The still behind AssetKind.SET: H×W×3 uint8 RGB, the same bytes for the same arguments."""
    return _render(read_scene(prompt, look), width, height, seed)

