"""The over operation: a straight-alpha foreground laid on a background, the basic move of every comp."""

from __future__ import annotations

import cv2
import numpy as np


def over(fg_rgb: np.ndarray, alpha: np.ndarray, bg_rgb: np.ndarray) -> np.ndarray:
    """Composite ``fg_rgb`` over ``bg_rgb`` through ``alpha``: fg·α + bg·(1 − α), as H×W×3 uint8.

    ``alpha`` is H×W (or H×W×1), uint8 0..255 or float 0..1, and straight (the foreground is not
    premultiplied), as the keyer hands it over. All three must be the same size: resizing is a decision
    (crop? scale? where?) that belongs to the caller, not to a silent default.
    """
    fg = np.ascontiguousarray(fg_rgb)
    bg = np.ascontiguousarray(bg_rgb)
    matte = alpha[..., 0] if alpha.ndim == 3 and alpha.shape[2] == 1 else alpha
    if fg.ndim != 3 or fg.shape[2] != 3 or bg.ndim != 3 or bg.shape[2] != 3:
        raise ValueError(f"foreground and background must be H×W×3 RGB, got {fg.shape} and {bg.shape}")
    if fg.shape != bg.shape or matte.shape != fg.shape[:2]:
        raise ValueError(
            f"over needs foreground, alpha and background of one size, got {fg.shape[1]}×{fg.shape[0]}, "
            f"{matte.shape[1] if matte.ndim > 1 else '?'}×{matte.shape[0]} and {bg.shape[1]}×{bg.shape[0]}"
        )
    if fg.dtype != np.uint8 or bg.dtype != np.uint8:
        raise ValueError(f"foreground and background must be uint8, got {fg.dtype} and {bg.dtype}")
    if matte.dtype == np.uint8:
        weight = matte.astype(np.float32)
        weight *= np.float32(1.0 / 255.0)
    else:
        weight = np.clip(matte, 0.0, 1.0).astype(np.float32)
    # blendLinear: one fused pass, (w1·fg + w2·bg) / (w1 + w2), rounded and saturated to uint8.
    return cv2.blendLinear(fg, bg, weight, 1.0 - weight)
