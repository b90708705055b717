"""Cast members on a chroma screen: the creature of its reference image, opaque, moving over an even screen.

What an AI engine is asked for a creature (the same creature as its references, alone on a green or blue
screen), drawn by rule so the offline film takes the same path: the pipeline keys it with soundstage's own keyer,
as it keys a plate, and the creature's dark parts stay solid (a luminance key would have made them holes).

The subject is cut from its reference by its difference from the reference's border colour (a drawing or a
model sheet on a plain ground), scaled to the frame and walked across it; with no reference, a plain figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from soundstage.engines.procedural.noise import Array
from soundstage.media import read_image

# The screens as a stage lights them: an even, saturated green or blue (8-bit RGB).
SCREENS: dict[str, tuple[int, int, int]] = {"green": (34, 177, 76), "blue": (28, 64, 196)}
SUBJECT_DIFFERENCE = 48.0      # RGB distance from the reference's ground where its subject begins


def subject_of(reference: Path | None) -> tuple[Array, Array]:
    """The subject of a reference image (RGB uint8, cropped to it) and its matte (float32 0..1)."""
    if reference is None:
        return _plain_figure()
    picture = read_image(reference)
    rgb = picture[..., :3].astype(np.float32)
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    ground = np.median(border, axis=0)
    matte = np.clip((np.linalg.norm(rgb - ground, axis=2) - SUBJECT_DIFFERENCE * 0.5) / SUBJECT_DIFFERENCE, 0, 1)
    if picture.shape[2] == 4:                       # a reference with its own alpha: that is its subject
        matte = picture[..., 3].astype(np.float32) / 255.0
    ys, xs = np.nonzero(matte > 0.5)
    if len(ys) == 0:
        return _plain_figure()
    top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return picture[top:bottom, left:right, :3].copy(), matte[top:bottom, left:right].astype(np.float32)


def _plain_figure() -> tuple[Array, Array]:
    """A squat horned figure, dark brown with darker stripes, for a cast member seen with no image."""
    yy, xx = np.mgrid[:96, :80].astype(np.float32)
    body = ((xx - 40) / 30) ** 2 + ((yy - 58) / 36) ** 2 <= 1
    head = ((xx - 40) / 16) ** 2 + ((yy - 22) / 14) ** 2 <= 1
    horn = (abs(xx - 40) < 3) & (yy < 12) & (yy > 0)
    matte = (body | head | horn).astype(np.float32)
    rgb = np.zeros((96, 80, 3), np.uint8)
    rgb[...] = (96, 58, 34)
    rgb[(np.sin(yy / 4) > 0.6) & body] = (30, 20, 16)
    rgb[horn] = (230, 220, 200)
    return rgb, matte


@dataclass(frozen=True)
class Figure:
    """A subject scaled for a frame once, for every frame of a take: colour (float RGB) and matte (H×W×1)."""

    rgb: Array
    alpha: Array
    still: bool


def figure_of(subject: tuple[Array, Array], width: int, height: int, *, still: bool = False) -> Figure:
    """A still (a model sheet) shows the subject two thirds of the frame high; a take half the frame high."""
    rgb, matte = subject
    scale = (0.66 if still else 0.5) * height / rgb.shape[0]
    w, h = max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale))
    if w > width * 0.9:
        w, h = max(1, int(width * 0.9)), max(1, round(h * width * 0.9 / w))
    interpolation = cv2.INTER_AREA if w < rgb.shape[1] else cv2.INTER_LINEAR
    return Figure(cv2.resize(rgb, (w, h), interpolation=interpolation).astype(np.float32),
                  cv2.resize(matte, (w, h), interpolation=interpolation)[..., None], still)


def creature_frame(figure: Figure, index: int, fps: float, width: int, height: int, seed: int,
                   screen: Literal["green", "blue"]) -> Array:
    """Frame ``index`` (H×W×3 uint8): the figure over an even screen, standing centred for a still, else
    walking across the frame and bobbing."""
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = SCREENS[screen]
    h, w = figure.alpha.shape[:2]
    t = index / fps
    if figure.still:
        x, y = (width - w) // 2, (height - h) // 2
    else:
        phase = (seed % 997) / 997.0
        travel = 0.5 + 0.35 * math.sin(2 * math.pi * (phase + t / 6.0))
        x = round(travel * (width - w))
        y = round((height - h) * (0.45 + 0.08 * math.sin(2 * math.pi * (t * 1.5 + phase))))
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
    if x1 > x0 and y1 > y0:          # only the figure's box is blended: the rest is the screen as it is
        part = figure.alpha[y0 - y:y1 - y, x0 - x:x1 - x]
        under = canvas[y0:y1, x0:x1].astype(np.float32)
        over = figure.rgb[y0 - y:y1 - y, x0 - x:x1 - x]
        canvas[y0:y1, x0:x1] = np.clip(under + (over - under) * part + 0.5, 0, 255).astype(np.uint8)
    return canvas
