"""Blend modes: a straight-alpha element laid on a background, the basic moves of every comp.

``over`` is for anything solid (actors, creatures, smoke); ``screen`` and ``add`` are for light (fire,
sparks, magic, explosions, lens flares), which brightens what is behind it instead of hiding it. Each is a
few fused OpenCV uint8 calls, with no full-frame float32 temporaries.
"""

from __future__ import annotations

from typing import get_args

import cv2
import numpy as np

from soundstage.records.settings import BlendMode  # declared once, with the shots.toml schema that names it

BLEND_MODES: tuple[BlendMode, ...] = get_args(BlendMode)


def _layers(fg_rgb: np.ndarray, alpha: np.ndarray, bg_rgb: np.ndarray, mode: str,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the three inputs and return them contiguous, with the matte as H×W."""
    fg = np.ascontiguousarray(fg_rgb)
    bg = np.ascontiguousarray(bg_rgb)
    matte = alpha[..., 0] if alpha.ndim == 3 and alpha.shape[2] == 1 else alpha
    if fg.ndim != 3 or fg.shape[2] != 3 or bg.ndim != 3 or bg.shape[2] != 3:
        raise ValueError(f"foreground and background must be H×W×3 RGB, got {fg.shape} and {bg.shape}")
    if fg.shape != bg.shape or matte.shape != fg.shape[:2]:
        raise ValueError(
            f"{mode} needs foreground, alpha and background of one size, got {fg.shape[1]}×{fg.shape[0]}, "
            f"{matte.shape[1] if matte.ndim > 1 else '?'}×{matte.shape[0]} and {bg.shape[1]}×{bg.shape[0]}"
        )
    if fg.dtype != np.uint8 or bg.dtype != np.uint8:
        raise ValueError(f"foreground and background must be uint8, got {fg.dtype} and {bg.dtype}")
    return fg, np.ascontiguousarray(matte), bg


def over(fg_rgb: np.ndarray, alpha: np.ndarray, bg_rgb: np.ndarray) -> np.ndarray:
    """Composite ``fg_rgb`` over ``bg_rgb`` through ``alpha``: fg·α + bg·(1 − α), as H×W×3 uint8.

    ``alpha`` is H×W (or H×W×1), uint8 0..255 or float 0..1, and straight (the foreground is not
    premultiplied), as the keyer hands it over. All three must be the same size: resizing is a decision
    (crop? scale? where?) that belongs to the caller, not to a silent default.
    """
    fg, matte, bg = _layers(fg_rgb, alpha, bg_rgb, "over")
    if matte.dtype != np.uint8:
        matte = cv2.convertScaleAbs(np.clip(matte, 0.0, 1.0), alpha=255.0)   # rounded to the nearest level
    # bg + (fg − bg)·α, with the difference split into its rising and falling parts (both saturating uint8,
    # one of them 0), so each result is rounded once: exact to the nearest level, in uint8 only. Done in
    # bands of 32 rows, so the three temporaries (3 × 180 KB at 1080p) stay in L2: ~2× faster than whole frames.
    out = np.empty_like(bg)
    height, width = matte.shape
    rows = max(1, min(32, height))
    weight = np.empty((rows, width, 3), np.uint8)
    rise, fall = np.empty_like(weight), np.empty_like(weight)
    for top in range(0, height, rows):
        n = min(rows, height - top)
        w, up, down = weight[:n], rise[:n], fall[:n]
        f, b, o = fg[top:top + n], bg[top:top + n], out[top:top + n]
        cv2.cvtColor(matte[top:top + n], cv2.COLOR_GRAY2RGB, dst=w)
        cv2.subtract(f, b, dst=up)
        cv2.subtract(b, f, dst=down)
        cv2.multiply(up, w, dst=up, scale=1.0 / 255.0)
        cv2.multiply(down, w, dst=down, scale=1.0 / 255.0)
        cv2.add(b, up, dst=o)
        cv2.subtract(o, down, dst=o)
    return out


def _light(fg: np.ndarray, matte: np.ndarray) -> np.ndarray:
    """The element's light: its colour scaled by its (straight) alpha, fg·α, uint8."""
    if matte.dtype != np.uint8:
        matte = (np.clip(matte, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return cv2.multiply(fg, cv2.cvtColor(matte, cv2.COLOR_GRAY2RGB), scale=1.0 / 255.0)


def add(fg_rgb: np.ndarray, alpha: np.ndarray, bg_rgb: np.ndarray) -> np.ndarray:
    """Add the element's light to the background: bg + fg·α, saturating at 255 (H×W×3 uint8).

    The linear-dodge of fire and sparks: light only ever brightens, and bright cores burn out to white.
    Inputs as for ``over``.
    """
    fg, matte, bg = _layers(fg_rgb, alpha, bg_rgb, "add")
    return cv2.add(bg, _light(fg, matte))


def screen(fg_rgb: np.ndarray, alpha: np.ndarray, bg_rgb: np.ndarray) -> np.ndarray:
    """Screen the element's light onto the background: 1 − (1 − fg·α)(1 − bg), as H×W×3 uint8.

    Gentler than ``add``: it never clips, so smoke-lit glows and magic keep the detail of a bright
    background. Computed as bg + fg·α·(1 − bg), the same thing in two uint8 multiplies. Inputs as for ``over``.
    """
    fg, matte, bg = _layers(fg_rgb, alpha, bg_rgb, "screen")
    return cv2.add(bg, cv2.multiply(_light(fg, matte), cv2.bitwise_not(bg), scale=1.0 / 255.0))


def blend_linear(fg_rgb: np.ndarray, alpha: np.ndarray, bg_rgb: np.ndarray, mode: BlendMode = "over", *,
                 out: np.ndarray | None = None) -> np.ndarray:
    """The blend modes on scene-linear float32 layers (a colour-managed comp), nothing clipped: light over 1.0
    stays. ``alpha`` is H×W uint8 or float 0..1, straight. ``screen`` holds the background's light at 1.0
    where it is brighter, where screen's formula is undefined.

    Only the box around the element's alpha is computed (outside it every mode leaves the background): a
    keyed actor or a fire is a fraction of the frame, and a float frame pass is ~8× an 8-bit one. ``out``
    (float32, the background's size; may be ``bg_rgb`` itself) takes the result in place, sparing a frame
    copy; without it the background is copied.
    """
    fg, matte, bg = (np.asarray(fg_rgb, np.float32), np.asarray(alpha), np.asarray(bg_rgb, np.float32))
    if fg.shape != bg.shape or matte.shape[:2] != fg.shape[:2]:
        raise ValueError(f"{mode} needs foreground, alpha and background of one size, got {fg.shape}, "
                         f"{matte.shape} and {bg.shape}")
    if mode not in BLEND_MODES:
        raise ValueError(f"blend mode must be one of {', '.join(BLEND_MODES)}, not {mode!r}")
    matte = np.ascontiguousarray(matte.reshape(matte.shape[:2]))
    target = bg.copy() if out is None else out
    if target is not bg:
        if target.shape != bg.shape or target.dtype != np.float32:
            raise ValueError(f"out must be float32 {bg.shape}, got {target.dtype} {target.shape}")
        np.copyto(target, bg)
    x, y, w, h = cv2.boundingRect(matte if matte.dtype == np.uint8 else (matte > 0).astype(np.uint8))
    if w == 0 or h == 0:
        return target
    box = (slice(y, y + h), slice(x, x + w))
    a = cv2.multiply(matte[box], 1 / 255, dtype=cv2.CV_32F) if matte.dtype == np.uint8 else \
        np.ascontiguousarray(matte[box], np.float32)
    under, over_ = target[box], fg[box]
    if mode == "over":        # fg·α + bg·(1 − α) in one OpenCV pass: ~7× numpy's broadcast temporaries
        cv2.blendLinear(over_, under, a, cv2.subtract(1.0, a), dst=under)    # per pixel: safe in place
        return target
    light = over_ * a[..., None]
    if mode == "screen":
        light *= np.maximum(1.0 - under, 0.0)
    under += light
    return target


def blend(fg_rgb: np.ndarray, alpha: np.ndarray, bg_rgb: np.ndarray, mode: BlendMode = "over", *,
          out: np.ndarray | None = None) -> np.ndarray:
    """Lay an element on the background with the given blend ``mode`` ("over", "screen" or "add"); float32
    layers may be blended into ``out`` in place (see ``blend_linear``)."""
    if fg_rgb.dtype == np.float32 and bg_rgb.dtype == np.float32:
        return blend_linear(fg_rgb, alpha, bg_rgb, mode, out=out)
    if out is not None:
        raise ValueError("out is for float32 layers; 8-bit blends return a new frame")
    if mode == "over":
        return over(fg_rgb, alpha, bg_rgb)
    if mode == "screen":
        return screen(fg_rgb, alpha, bg_rgb)
    if mode == "add":
        return add(fg_rgb, alpha, bg_rgb)
    raise ValueError(f"blend mode must be one of {', '.join(BLEND_MODES)}, not {mode!r}")
