"""Tracking markers out of the key: the dots and crosses taped on the screen for the track.

A marker is darker or lighter than the screen, so the keyer keeps it as a speck of foreground. Here a speck is
a patch of matte standing alone on open screen (nothing of it touches anything larger), small (at most
``MARKER_SIZE`` of the frame's shorter side across), and coloured like a marker: grey, white or black, or the
screen's own hue. Such patches are keyed out whole, soft edge included, so they leave neither a speck nor a
ring.

A marker that touches the actor (a cross against her hair) joins the actor's patch of matte, so it is found
apart from her by its colour: the matte's marker-coloured pixels near its rim, split into lighter and darker than
the screen, make patches of their own. One that is small, mostly bordered by open screen (or the screen-hued
fringe where anything meets it) and holds pixels of a marker's own colour (truly grey and well above the
screen's luma, or well below it) is a marker. It is cleared pixel by pixel, only where a pixel's colour is the
marker's over the screen around it (the marker, or its soft edge); a pixel of any other colour (her hair, her
costume) keeps its alpha. A marker as dark as the dark hair it touches stays part of her matte.
"""

from __future__ import annotations

import cv2
import numpy as np

from soundstage.comp.keyer import ScreenColour

MARKER_SIZE = 0.06       # the largest marker, as a fraction of the frame's shorter side (at least 12 px)
_NEUTRAL = 0.3           # saturation (max − min) / max below which a colour is grey, white or black
_HUE = 30.0              # degrees of hue within which a colour is the screen's own, darker or lighter
_GREY = 0.15             # a light marker touching the actor is truly grey: (max − min) / max below this
_OPEN = 0.6              # share of its rim on open screen for a patch touching the actor to be a marker
_LEAST = 3               # half-size px: a marker touching the actor has at least this many
_STEP = 50.0             # luma a marker touching the actor stands above (light) or below (dark) the screen
_MIX = 40.0              # RGB distance within which a pixel is its marker's colour over the screen


def clear_markers(matte: np.ndarray, plate: np.ndarray, screen: ScreenColour) -> np.ndarray:
    """``matte`` (H×W uint8) with the screen's tracking markers keyed out; ``plate`` is the picture it keys.

    The patches are found on a half-size mask (any matte in a 2×2 block counts, so nothing that touches the actor
    at full size comes apart) and measured there, then cleared at full size: ~4× cheaper at 1080p.
    """
    height, width = matte.shape
    largest = max(12, round(MARKER_SIZE * min(height, width)))
    solid = cv2.threshold(matte, 0, 255, cv2.THRESH_BINARY)[1]      # 255, so a 2×2 mean of one pixel stays > 0
    even = cv2.copyMakeBorder(solid, 0, height % 2, 0, width % 2, cv2.BORDER_CONSTANT, value=0) \
        if (height | width) % 2 else solid
    half = cv2.resize(even, ((width + 1) // 2, (height + 1) // 2), interpolation=cv2.INTER_AREA)   # 2×2 means
    _, labels, stats, _ = cv2.connectedComponentsWithStats((half > 0).view(np.uint8), connectivity=8,
                                                           ltype=cv2.CV_16U)
    reach = largest // 2 + 1
    small = (stats[:, cv2.CC_STAT_WIDTH] <= reach) & (stats[:, cv2.CC_STAT_HEIGHT] <= reach)
    small[0] = False                                    # label 0 is the open screen
    if not small.any():
        return _clear_touching(matte, plate, screen, half, stats, small, reach)
    # each patch's colour, from the half-size plate, weighted by how much of each 2×2 block the matte covers
    ys, xs = np.nonzero(small[labels])
    owner = labels[ys, xs]
    # two opposite pixels of each block stand for it (a patch is tens of blocks: its mean is what counts)
    y2, x2 = 2 * ys, 2 * xs
    across = plate[np.minimum(y2 + 1, height - 1), np.minimum(x2 + 1, width - 1)]
    colours = (plate[y2, x2].astype(np.float64) + across) / 2
    cover = half[ys, xs].astype(np.float64)
    count = len(small)
    sizes = np.maximum(np.bincount(owner, cover, minlength=count), 1.0)
    mean = np.stack([np.bincount(owner, colours[:, c] * cover, minlength=count) for c in range(3)], axis=1)
    marker = small & _marker_coloured(mean / sizes[:, None], screen)
    if not marker.any():
        return _clear_touching(matte, plate, screen, half, stats, small, reach)
    gone = np.where(marker, 255, 0).astype(np.uint8)[labels]       # back at full size: a 2×2 block per pixel
    gone = cv2.resize(gone, (2 * gone.shape[1], 2 * gone.shape[0]), interpolation=cv2.INTER_NEAREST)
    return _clear_touching(cv2.bitwise_and(matte, cv2.bitwise_not(gone[:height, :width])), plate, screen, half,
                           stats, small, reach)


def _clear_touching(matte: np.ndarray, plate: np.ndarray, screen: ScreenColour, half: np.ndarray,
                    stats: np.ndarray, small: np.ndarray, reach: int) -> np.ndarray:
    """``matte`` with the markers that touch something larger keyed out (see the module's notes). ``half`` is the
    matte's half-size cover (2×2 means), ``stats`` its patches' and ``small`` which of them are speck-sized,
    ``reach`` the largest marker there, in half-size px."""
    large = ~small
    large[0] = False
    if not large.any():
        return matte
    # only around the large patches (the actor), and there only their rim: a marker is small, so all of it lies
    # near open screen
    left, top = stats[large, cv2.CC_STAT_LEFT], stats[large, cv2.CC_STAT_TOP]
    x0, y0 = max(0, int(left.min()) - reach - 2), max(0, int(top.min()) - reach - 2)
    x1 = min(half.shape[1], int((left + stats[large, cv2.CC_STAT_WIDTH]).max()) + reach + 2)
    y1 = min(half.shape[0], int((top + stats[large, cv2.CC_STAT_HEIGHT]).max()) + reach + 2)
    # held: a 2×2 block with a solid pixel (a marker keys near opaque; the screen's noise does not)
    solid = cv2.threshold(matte[2 * y0: 2 * y1, 2 * x0: 2 * x1], 127, 255, cv2.THRESH_BINARY)[1]
    held = cv2.resize(solid, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA) > 0
    core = cv2.erode(held.view(np.uint8), np.ones((reach + 2, reach + 2), np.uint8), borderValue=0)
    ys, xs = np.nonzero(held & (core == 0))
    if len(ys) == 0:
        return matte
    colours = plate[2 * (ys + y0), 2 * (xs + x0), :3].astype(np.float32)
    codes = _classes(colours, screen)
    shades = codes & 3
    # open screen: not held, or the screen-hued fringe where anything meets it (a marker's own soft edge too)
    open_screen = ~held
    fringe = shades == _FRINGE
    open_screen[ys[fringe], xs[fringe]] = True
    found_y, found_x, found_colour, found_backing = [], [], [], []
    for shade in (1, 2):
        mine = shades == shade
        mask = np.zeros(held.shape, np.uint8)
        mask[ys[mine], xs[mine]] = 1
        count, labels, stats_, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_16U)
        tiny = (stats_[:, cv2.CC_STAT_WIDTH] <= reach) & (stats_[:, cv2.CC_STAT_HEIGHT] <= reach) & \
            (stats_[:, cv2.CC_STAT_AREA] >= _LEAST)
        tiny[0] = False
        if not tiny.any():
            continue
        ring = cv2.dilate(labels, np.ones((5, 5), np.uint8))      # each patch's 2-px rim (a rim two share: one)
        rim = (ring > 0) & (labels == 0)
        owner = ring[rim]
        border = np.bincount(owner, minlength=count).astype(np.float64)
        opened = np.bincount(owner, open_screen[rim].astype(np.float64), minlength=count)
        label = labels[ys[mine], xs[mine]]
        sure = np.bincount(label, (codes[mine] & _SURE) > 0, minlength=count)
        marker = tiny & (opened >= _OPEN * np.maximum(border, 1.0)) & (sure >= 1)
        if not marker.any():
            continue
        sizes = np.maximum(np.bincount(label, minlength=count), 1)
        mean = np.stack([np.bincount(label, colours[mine, c], minlength=count) for c in range(3)], axis=1)
        # the screen right around each marker (a screen's light is uneven): its rim's open pixels
        ry, rx = np.nonzero(rim & ~held)
        around = plate[2 * (ry + y0), 2 * (rx + x0), :3].astype(np.float64)
        where = ring[ry, rx]
        counted = np.bincount(where, minlength=count).astype(np.float64)
        backing = np.stack([np.bincount(where, around[:, c], minlength=count) for c in range(3)], axis=1)
        backing = np.where(counted[:, None] > 0, backing / np.maximum(counted, 1.0)[:, None],
                           np.asarray(screen.rgb, np.float64) * 255)
        keep = marker[label]
        found_y.append(ys[mine][keep] + y0)
        found_x.append(xs[mine][keep] + x0)
        found_colour.append((mean / sizes[:, None])[label[keep]])
        found_backing.append(backing[label[keep]])
    if not found_y:
        return matte
    # back at full size: each half-size pixel's 2×2 block and a 2-px rim, then pixel by pixel: cleared where its
    # colour is its marker's over the screen (the marker, or its soft edge mixed with the screen), so a pixel of
    # the actor beside it (hair, costume) keeps its alpha
    height, width = matte.shape
    dy, dx = np.mgrid[-2:4, -2:4].reshape(2, -1)
    wy = ((2 * np.concatenate(found_y))[:, None] + dy[None]).ravel()
    wx = ((2 * np.concatenate(found_x))[:, None] + dx[None]).ravel()
    ink = np.repeat(np.concatenate(found_colour), len(dy), axis=0)
    backing = np.repeat(np.concatenate(found_backing), len(dy), axis=0)
    inside = (wy >= 0) & (wy < height) & (wx >= 0) & (wx < width)
    wy, wx, ink, backing = wy[inside], wx[inside], ink[inside], backing[inside]
    seen = plate[wy, wx, :3].astype(np.float64)
    along = ink - backing
    # how far along from the screen to the marker's mean colour (its soft edge pulls the mean toward the screen,
    # so its core lies beyond it)
    mix = np.clip(((seen - backing) * along).sum(axis=1) / np.maximum((along * along).sum(axis=1), 1.0), 0, 2)
    off = np.linalg.norm(seen - (backing + mix[:, None] * along), axis=1)
    clear = off <= _MIX
    out = matte.copy()
    out[wy[clear], wx[clear]] = 0
    return out


_FRINGE, _SURE = 3, 4      # the codes of _classes beside the shades 1 (light) and 2 (dark)


def _classes(colours: np.ndarray, screen: ScreenColour) -> np.ndarray:
    """Per colour (N×3, 0..255), a code: 1 a light marker's (truly grey: ``_GREY``; lighter than the screen), 2 a
    dark marker's (grey, black or the screen's own hue, darker than the screen), ``_FRINGE`` the screen's hue but
    not grey (the screen, or anything mixed with it at an edge), 0 anything else (the actor's own colours); plus
    ``_SURE`` for a marker's colour that no edge's mix has: a light one grey within 0.7 ``_GREY`` and ``_STEP``
    above the screen's luma, a dark one ``_STEP`` below it. Each test is made once, column by column."""
    colours = np.asarray(colours, np.float32)
    top, bottom = _spread(colours)
    spread = top - bottom
    floor = np.maximum(top, 1.0)
    hued = _screen_hue(colours, screen)
    neutral = spread < _NEUTRAL * floor
    luma = _luma(colours)
    screen_luma = float(np.dot(np.asarray(screen.rgb) * 255, (0.299, 0.587, 0.114)))
    lighter = luma > screen_luma
    light = (spread < _GREY * floor) & lighter
    dark = (neutral | hued) & ~lighter
    code = np.where(light, np.uint8(1), np.where(dark, np.uint8(2), np.where(hued & ~neutral, np.uint8(_FRINGE),
                                                                               np.uint8(0))))
    sure = np.where(light, (spread < _GREY * 0.7 * floor) & (luma > screen_luma + _STEP), luma < screen_luma - _STEP)
    return code | np.where(sure & (light | dark), np.uint8(_SURE), np.uint8(0))


def _marker_coloured(colours: np.ndarray, screen: ScreenColour) -> np.ndarray:
    """Per colour (N×3, 0..255): grey, white or black, or the screen's hue."""
    return _neutral(colours) | _screen_hue(colours, screen)


def _neutral(colours: np.ndarray) -> np.ndarray:
    top, bottom = _spread(colours)
    return (top - bottom) < _NEUTRAL * np.maximum(top, 1.0)


def _spread(colours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per colour (N×3): its largest and smallest channel (column by column: a reduction along a 3-long axis is
    ~10× slower in NumPy)."""
    r, g, b = colours[:, 0], colours[:, 1], colours[:, 2]
    return np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)


def _luma(colours: np.ndarray) -> np.ndarray:
    return 0.299 * colours[:, 0] + 0.587 * colours[:, 1] + 0.114 * colours[:, 2]


def _screen_hue(colours: np.ndarray, screen: ScreenColour) -> np.ndarray:
    hue = cv2.cvtColor(np.clip(colours, 0, 255).astype(np.uint8)[None], cv2.COLOR_RGB2HSV_FULL)[0, :, 0] * (360 / 256)
    screen_rgb = np.clip(np.array(screen.rgb) * 255, 0, 255).astype(np.uint8)[None, None]
    screen_hue = cv2.cvtColor(screen_rgb, cv2.COLOR_RGB2HSV_FULL)[0, 0, 0] * (360 / 256)
    return np.abs((hue - screen_hue + 180) % 360 - 180) <= _HUE
