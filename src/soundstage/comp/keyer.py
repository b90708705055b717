"""A colour-difference keyer (Keylight/IBK style): pull a matte from a green or blue screen plate.

Why a colour-difference key and not a chroma key: the screen is the one colour whose key channel exceeds the
other two by a lot, so ``G − max(R, B)`` measured against the screen's own difference gives a matte that
follows luminance detail (hair, motion blur) instead of thresholding a hue. The screen's light is measured
locally, so a hot spot or a dark corner does not punch holes in the matte or leave a veil on the screen.

Every full-frame step is one fused OpenCV call, nearly all over uint8 planes; the screen's light is
estimated on a frame shrunk 8×, and the unmixing of edge colour touches only the soft edge, so a 1280×720
frame keys in ~7–8 ms on one core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from soundstage.comp.matte import Roto, refine_edges, shrink_grow, soften
from soundstage.errors import MediaError

Screen = Literal["green", "blue"]
Despill = Literal["limit", "average"]

_CHANNEL = {"green": 1, "blue": 2}
_OTHERS = {"green": (0, 2), "blue": (0, 1)}

# A pixel is "screen" when its key channel beats both others by this many levels and by this ratio.
_SCREEN_MARGIN = 32
_SCREEN_RATIO = 1.4
_MIN_SCREEN_SHARE = 0.02     # of the frame; below this there is no screen to key
_GATE = (0.33, 0.67)         # the open-screen gate ramps from/to these shares of clip_black
_BLOCK = 8                   # the screen's light is measured on blocks of 8×8 pixels


@dataclass(frozen=True, slots=True)
class ScreenColour:
    """The backing colour of a plate: RGB in 0..1, and which channel is the screen's (green or blue)."""

    rgb: tuple[float, float, float]
    channel: Screen

    @property
    def index(self) -> int:
        """The key channel's index in an RGB pixel."""
        return _CHANNEL[self.channel]

    @property
    def difference(self) -> float:
        """How far the key channel stands above the other two (0..1): the full-transparency reference."""
        a, b = _OTHERS[self.channel]
        return self.rgb[self.index] - max(self.rgb[a], self.rgb[b])


def _check_plate(plate: np.ndarray, what: str = "plate") -> None:
    if plate.ndim != 3 or plate.shape[2] != 3 or plate.dtype != np.uint8:
        raise MediaError(f"{what} must be an H×W×3 uint8 RGB image, got {plate.shape} {plate.dtype}")
    if plate.shape[0] < 2 or plate.shape[1] < 2:
        raise MediaError(f"{what} is too small to key ({plate.shape[1]}×{plate.shape[0]})")


def _screen_pixels(sample: np.ndarray, channel: Screen) -> np.ndarray:
    """The pixels (N×3, int16) whose ``channel`` dominates strongly enough to be the backing screen."""
    key = sample[..., _CHANNEL[channel]]
    a, b = _OTHERS[channel]
    others = np.maximum(sample[..., a], sample[..., b])
    mask = (key - others >= _SCREEN_MARGIN) & (key * 10 >= others * round(_SCREEN_RATIO * 10))
    return sample[mask]


def measure_screen(plate: np.ndarray, screen: Literal["auto", "green", "blue"] = "auto") -> ScreenColour:
    """Measure the backing colour from the plate itself: the median of the strongly screen-coloured pixels.

    A median ignores the subject, spill and noise; "auto" picks whichever of green and blue covers more of
    the frame. Measure once per shot (on its first frame) so the key does not flicker.
    """
    _check_plate(plate)
    if screen not in ("auto", "green", "blue"):
        raise ValueError(f"screen must be 'auto', 'green' or 'blue', not {screen!r}")
    step = max(1, min(plate.shape[:2]) // 180)           # ~1/16 of a 720p frame's pixels is plenty
    sample = plate[::step, ::step].astype(np.int16)
    candidates: tuple[Screen, ...] = ("green", "blue") if screen == "auto" else (screen,)
    found = {channel: _screen_pixels(sample, channel) for channel in candidates}
    channel = max(found, key=lambda c: len(found[c]))
    pixels = found[channel]
    total = sample.shape[0] * sample.shape[1]
    if len(pixels) < _MIN_SCREEN_SHARE * total:
        wanted = "green or blue" if screen == "auto" else screen
        raise MediaError(
            f"no {wanted} screen in the plate ({100 * len(pixels) / total:.1f}% of it is screen-coloured)",
            hint="key only plates shot against a green or blue screen, or set the shot's screen colour",
        )
    median = np.median(pixels, axis=0) / 255.0
    return ScreenColour(rgb=(float(median[0]), float(median[1]), float(median[2])), channel=channel)


def _screen_light(diff: np.ndarray, reference: float) -> np.ndarray:
    """The screen's own colour difference at every pixel, as if the subject were not there (a clean plate).

    Blocks of pure screen are averaged, then a normalised Gaussian fills in behind the subject: an
    inpainted, heavily blurred picture of the screen's light, built 8× smaller and scaled back up (float32).
    """
    height, width = diff.shape
    small = (max(1, width // _BLOCK), max(1, height // _BLOCK))
    _, is_screen = cv2.threshold(diff, 0.25 * reference, 255, cv2.THRESH_BINARY)
    share = cv2.resize(is_screen, small, interpolation=cv2.INTER_AREA)
    level = cv2.resize(diff, small, interpolation=cv2.INTER_AREA).astype(np.float32)
    weight = (share >= 254).astype(np.float32)
    tiny = (max(1, small[0] // 4), max(1, small[1] // 4))

    def coarse() -> np.ndarray:
        """The broad light, for holes the fine pass cannot bridge (computed 32× smaller: cheap)."""
        num = cv2.resize(level * weight, tiny, interpolation=cv2.INTER_AREA)
        den = cv2.resize(weight, tiny, interpolation=cv2.INTER_AREA)
        sigma = max(tiny) / 10.0
        num = cv2.GaussianBlur(num, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
        den = cv2.GaussianBlur(den, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
        broad = (num + 1e-3 * reference) / (den + 1e-3)
        return cv2.resize(broad, small, interpolation=cv2.INTER_LINEAR)

    for _ in range(2):   # drop blocks far darker than their neighbourhood: a spilled or green-clad subject
        weight *= level > 0.6 * coarse()
    num = cv2.GaussianBlur(level * weight, (0, 0), 1.5, borderType=cv2.BORDER_REPLICATE)
    den = cv2.GaussianBlur(weight, (0, 0), 1.5, borderType=cv2.BORDER_REPLICATE)
    smooth = (num + 0.05 * coarse()) / (den + 0.05)
    return cv2.resize(smooth, (width, height), interpolation=cv2.INTER_LINEAR)


def key(
    plate: np.ndarray,
    screen: ScreenColour,
    *,
    clip_black: float = 0.12,
    clip_white: float = 0.9,
    detail_black: float = 0.03,
    despill: Despill | None = "limit",
    spill_luma: float = 0.0,
    balance: float | None = None,
    gain: float = 1.0,
    even_screen: bool = True,
    clean_plate: np.ndarray | None = None,
    refine: int = 0,
    shrink: int = 0,
    softness: float = 0.0,
    roto: Roto | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Key a plate: return the despilled foreground (H×W×3 uint8, straight) and its matte (H×W uint8).

    - ``clip_black`` / ``clip_white``: matte levels (0..1) crushed to fully transparent / fully opaque;
      they remove screen noise and make the subject's core solid.
    - ``detail_black``: next to the subject the matte keeps detail down to this level (fine hair, motion
      blur); open screen is still crushed at ``clip_black``, judged on a 5×5 average where noise cancels.
    - ``despill``: "limit" holds the key channel at or below the larger of the other two, "average" at or
      below their mean (stronger), None keeps the spill.
    - ``spill_luma``: how much of the removed spill to add back as grey light (0..1), so skin lit by a
      green bounce does not go dark.
    - ``balance``: None keys against the larger of the other two channels (key − max), which keeps yellows
      and cyans solid; a number weighs them instead, key − (balance·red + (1 − balance)·other), as Keylight's
      screen balance: 0.5 (their mean) is kinder to fine hair but lets a yellow costume go translucent on green.
    - ``gain``: screen gain; above 1 keys harder (more of the edge goes transparent), below 1 softer.
    - ``even_screen``: measure the screen's light locally, so uneven lighting keys like an even screen.
    - ``clean_plate``: the same set-up shot without the actor (H×W×3 uint8); when given, the screen's light is
      read from it at every pixel instead of estimated, which also holds where the actor covers the screen.
    - ``refine``: radius in px of a guided-filter refit of the soft edge to the plate (0: off); see
      ``matte.refine_edges``. It pays most on H.264 plates, whose colour is at half resolution.
    - ``shrink``: erode (< 0) or dilate (> 0) the matte by whole pixels; ``softness``: blur its edge (σ, px).
    - ``roto``: the shot's keep / garbage / core shapes, rasterised once per shot (``matte.Roto``).

    The edge colour is recovered by screen subtraction (plate − (1 − α)·screen, then unpremultiplied), so
    the screen's own colour does not fringe the subject once it is comped over a new background. Where
    α = 0 the foreground is black.
    """
    _check_plate(plate)
    if not (0.0 <= clip_black < clip_white <= 1.0 and 0.0 <= detail_black < clip_white):
        raise ValueError(f"need 0 ≤ clip_black, detail_black < clip_white ≤ 1, got {clip_black}, {detail_black} "
                         f"and {clip_white}")
    if despill not in ("limit", "average", None):
        raise ValueError(f"despill must be 'limit', 'average' or None, not {despill!r}")
    if balance is not None and not 0.0 <= balance <= 1.0:
        raise ValueError(f"balance must be between 0 and 1 (or None for the larger channel), not {balance}")
    if not 0.1 <= gain <= 10.0:
        raise ValueError(f"gain must be between 0.1 and 10, not {gain}")
    if clean_plate is not None and clean_plate.shape != plate.shape:
        raise MediaError(f"the clean plate is {clean_plate.shape[1]}×{clean_plate.shape[0]} but the plate is "
                         f"{plate.shape[1]}×{plate.shape[0]}", hint="use a clean plate from the same set-up and size")
    rgb = screen.rgb
    k = screen.index
    a, b = _OTHERS[screen.channel]
    behind = max(rgb[a], rgb[b]) if balance is None else balance * rgb[a] + (1 - balance) * rgb[b]
    reference = 255.0 * (rgb[k] - behind)
    if reference < 8:
        raise MediaError(f"the screen colour {screen.rgb} is too grey to key against")

    planes = list(cv2.split(plate))
    diff = _difference(planes, k, a, b, balance)

    # transparency = 255 · gain · diff / (the screen's diff here): 255 on the screen, 0 on the subject (uint8).
    light: np.ndarray | None = None
    if clean_plate is not None:
        light = _clean_light(_difference(list(cv2.split(clean_plate)), k, a, b, balance), reference)
    elif even_screen:
        light = _screen_light(diff, reference)
    if light is not None:
        clear = cv2.divide(diff, light, scale=255.0 * gain, dtype=cv2.CV_8U)
    else:
        clear = cv2.convertScaleAbs(diff, alpha=255.0 * gain / reference)
    matte = cv2.LUT(clear, _levels(min(detail_black, clip_black), clip_white))
    if detail_black < clip_black:
        # Open screen is crushed at clip_black on a 5×5 average (noise cancels there), while next to anything
        # solid the matte keeps detail down to detail_black: faint hair survives, screen noise does not.
        near = cv2.LUT(cv2.blur(clear, (5, 5)), _levels(_GATE[0] * clip_black, _GATE[1] * clip_black))
        matte = cv2.multiply(matte, near, scale=1.0 / 255.0)
    if refine:
        matte = refine_edges(plate, matte, radius=refine)
    matte = soften(shrink_grow(matte, shrink), softness)
    if roto is not None:
        matte = roto.apply(matte)

    _unmix_edges(planes, matte, light, rgb, reference)
    if despill is not None:
        _despill(planes, k, a, b, despill, spill_luma)
    foreground = cv2.merge(planes)
    return cv2.bitwise_and(foreground, foreground, mask=matte), matte


def _mean(one: np.ndarray, two: np.ndarray) -> np.ndarray:
    return cv2.addWeighted(one, 0.5, two, 0.5, 0.0)


def _difference(planes: list[np.ndarray], k: int, a: int, b: int, balance: float | None) -> np.ndarray:
    """The key channel less the others (uint8). It saturates at 0: at or below 0 is solid subject, however far."""
    others = cv2.max(planes[a], planes[b]) if balance is None else cv2.addWeighted(planes[a], balance, planes[b],
                                                                                   1.0 - balance, 0.0)
    return cv2.subtract(planes[k], others)


def _clean_light(diff: np.ndarray, reference: float) -> np.ndarray:
    """The screen's light read from a clean plate: its colour difference, denoised, floored so it never divides
    by (almost) nothing where the clean plate shows no screen (float32)."""
    light = cv2.GaussianBlur(diff.astype(np.float32), (0, 0), 2.0)
    return np.maximum(light, np.float32(0.25 * reference))


def _levels(black: float, white: float) -> np.ndarray:
    """A lookup table from transparency (0..255) to matte (255..0), crushing at ``black`` and ``white``."""
    opacity = 1.0 - np.arange(256, dtype=np.float64) / 255.0
    return np.clip(np.round(255.0 * (opacity - black) / (white - black)), 0, 255).astype(np.uint8)


def _unmix_edges(planes: list[np.ndarray], matte: np.ndarray, light: np.ndarray | None,
                 rgb: tuple[float, float, float], reference: float) -> None:
    """Screen subtraction on the soft edge only (in place): fg = (plate − (1 − α)·screen) / α.

    Solid pixels keep the plate's colour as it is; the edge band is a few per cent of the frame, so this
    touches only those pixels.
    """
    index = np.flatnonzero(cv2.inRange(matte, 1, 254))
    if index.size == 0:
        return
    alpha = matte.reshape(-1)[index].astype(np.float32) * np.float32(1.0 / 255.0)
    behind = 1.0 - alpha
    if light is not None:
        behind *= light.reshape(-1)[index] * np.float32(1.0 / reference)
    for c, plane in enumerate(planes):
        flat = plane.reshape(-1)
        unmixed = (flat[index] - behind * np.float32(255.0 * rgb[c])) / alpha
        flat[index] = np.clip(unmixed + 0.5, 0, 255).astype(np.uint8)


def _despill(planes: list[np.ndarray], k: int, a: int, b: int, mode: Despill, spill_luma: float) -> None:
    """Hold the key channel down to the others (in place, uint8); optionally give the lost light back as grey."""
    ceiling = cv2.max(planes[a], planes[b]) if mode == "limit" else _mean(planes[a], planes[b])
    held = cv2.min(planes[k], ceiling)
    if spill_luma > 0:
        spill = cv2.subtract(planes[k], held)
        # Rec. 709 weight of the key channel: adding that much grey restores the lost luminance.
        gain = spill_luma * (0.7152 if k == 1 else 0.0722)
        for c in range(3):
            source = held if c == k else planes[c]
            planes[c] = cv2.addWeighted(source, 1.0, spill, gain, 0.0)
    else:
        planes[k] = held
