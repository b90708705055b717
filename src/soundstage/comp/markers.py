"""Tracking markers out of the key: the dots and crosses taped on the screen for the track.

A marker is darker or lighter than the screen, so the keyer keeps it as a speck of foreground. Here a speck is
a patch of matte standing alone on open screen (nothing of it touches anything larger), small (at most
``MARKER_SIZE`` of the frame's shorter side across), and coloured like a marker: grey, white or black, or the
screen's own hue. Such patches are keyed out whole, soft edge included, so they leave neither a speck nor a
ring. Nothing that touches the actor is ever changed, so the actor is never eroded; a marker half covered by
the actor stays part of the actor's matte.
"""

from __future__ import annotations

import cv2
import numpy as np

from soundstage.comp.keyer import ScreenColour

MARKER_SIZE = 0.06       # the largest marker, as a fraction of the frame's shorter side (at least 12 px)
_NEUTRAL = 0.3           # saturation (max − min) / max below which a colour is grey, white or black
_HUE = 30.0              # degrees of hue within which a colour is the screen's own, darker or lighter


def clear_markers(matte: np.ndarray, plate: np.ndarray, screen: ScreenColour) -> np.ndarray:
    """``matte`` (H×W uint8) with the screen's tracking markers keyed out; ``plate`` is the picture it keys."""
    height, width = matte.shape
    largest = max(12, round(MARKER_SIZE * min(height, width)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats((matte > 0).view(np.uint8), connectivity=8)
    small = ((stats[:, cv2.CC_STAT_WIDTH] <= largest) & (stats[:, cv2.CC_STAT_HEIGHT] <= largest))
    small[0] = False                                   # label 0 is the open screen itself
    if count < 2 or not small.any():
        return matte
    ys, xs = np.nonzero(small[labels])
    owner = labels[ys, xs]
    colours = plate[ys, xs].astype(np.float64)
    sizes = np.bincount(owner, minlength=count).astype(np.float64)
    sums = np.stack([np.bincount(owner, colours[:, c], minlength=count) for c in range(3)], axis=1)
    mean = sums.astype(np.float64) / np.maximum(sizes, 1)[:, None]
    marker = small & _marker_coloured(mean, screen)
    if not marker.any():
        return matte
    cleared = matte.copy()
    cleared[marker[labels]] = 0
    return cleared


def _marker_coloured(colours: np.ndarray, screen: ScreenColour) -> np.ndarray:
    """Per colour (N×3, 0..255): grey, white or black, or the screen's hue."""
    top, bottom = colours.max(axis=1), colours.min(axis=1)
    neutral = (top - bottom) < _NEUTRAL * np.maximum(top, 1.0)
    hue = cv2.cvtColor(np.clip(colours, 0, 255).astype(np.uint8)[None], cv2.COLOR_RGB2HSV_FULL)[0, :, 0] * (360 / 256)
    screen_rgb = np.clip(np.array(screen.rgb) * 255, 0, 255).astype(np.uint8)[None, None]
    screen_hue = cv2.cvtColor(screen_rgb, cv2.COLOR_RGB2HSV_FULL)[0, 0, 0] * (360 / 256)
    apart = np.abs((hue - screen_hue + 180) % 360 - 180)
    return neutral | (apart <= _HUE)
