"""A colour-difference keyer (Keylight/IBK style): pull a matte from a green or blue screen plate.

Why a colour-difference key and not a chroma key: the screen is the one colour whose key channel exceeds the
other two by a lot, so ``G − max(R, B)`` measured against the screen's own difference gives a matte that
follows luminance detail (hair, motion blur) instead of thresholding a hue. The screen's light is measured
locally, so a hot spot or a dark corner does not punch holes in the matte or leave a veil on the screen.

Two things a colour difference alone cannot see are put back:

- **Subsampled chroma** (H.264 4:2:0, ProRes 4:2:2): ``G − max(R, B)`` depends on chroma only, which such a
  plate keeps at half resolution, so its matte is blurred across the edge and thin struts and hair go faint.
  Luma is still at full resolution, and across a soft edge it is a straight-line mix of subject and screen,
  like the matte: so the matte is fit, at chroma resolution, as a local linear function of luma, and that fit
  is applied to the full-resolution luma (see ``_luma_detail``). Whether a plate is subsampled is read from
  the plate itself (``measure_chroma``).
- **Screen-coloured subject**: a navy patch on a blue screen, a green reflection in a visor, keys part-way
  transparent. A half-transparent region that is walled in by solid subject and shows open screen nowhere is
  subject, not a hole in it, so it is filled (``fill_holes``): an automatic core matte.

Every full-frame step is one fused OpenCV call, nearly all over uint8 planes; the screen's light is
estimated on a frame shrunk 8×, the luma fit runs at chroma resolution inside the band's box, and the
unmixing of edge colour touches only the soft edge, so a 1280×720 frame keys in ~7–9 ms on one core.
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
Chroma = Literal["full", "422", "420"]

_CHANNEL = {"green": 1, "blue": 2}
_OTHERS = {"green": (0, 2), "blue": (0, 1)}

# A pixel is "screen" when its key channel beats both others by this many levels and by this ratio.
_SCREEN_MARGIN = 32
_SCREEN_RATIO = 1.4
_MIN_SCREEN_SHARE = 0.02     # of the frame; below this there is no screen to key
_GATE = (0.33, 0.67)         # the open-screen gate ramps from/to these shares of clip_black
_BLOCK = 8                   # the screen's light is measured on blocks of 8×8 pixels
_SUBSAMPLING = {"full": (1, 1), "422": (2, 1), "420": (2, 2)}   # chroma's (horizontal, vertical) factors
_DETAIL_RADIUS = 2           # chroma px: the window in which the matte is fit as a linear function of luma
_DETAIL_EPS = 4.0            # levels² of chroma-resolution luma, ~its noise: where luma is flat, no slope is fit
# H.264 encoders spread each chroma row over its neighbours (swscale's vertical filter, measured on libx264
# yuv420p plates: full-res taps ≈ .05 .13 .33 .32 .12 .05), so the luma the fit compares with is spread alike.
_CHROMA_SPREAD = 0.18
_BAND_FLOOR = float(__import__("os").environ.get("BF", "0.02"))
_HOLE_BLOCK = 4              # holes are found on blocks of 4×4 pixels
_OPEN_SHARE = 0.8            # a block is open screen when this share of it is keyed fully clear


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


def measure_chroma(plate: np.ndarray) -> Chroma:
    """Whether the plate's colour was stored at full resolution ("full"), half across ("422") or half both
    ways ("420"), read from the decoded picture: FFmpeg (and so PyAV) repeats each chroma sample over its 2 or
    2×2 pixels, so a chroma-only signal barely changes inside those pairs and does change across them.

    Cheap (a few rows), and the answer holds for the whole shot; ``key(chroma="auto")`` asks it every frame.
    A plate whose chroma was upsampled smoothly, or that was cropped by an odd number of pixels, reads as
    "full" and keys as before; pass ``key(chroma=…)`` what the stream's pix_fmt says to be sure.
    """
    _check_plate(plate)
    height, width = plate.shape[0], plate.shape[1] // 2 * 2
    if height < 4 or width < 4:
        return "full"
    rows = np.arange(0, height - 2, max(2, height // 48 * 2))       # ~48 even rows, each with the two below
    count = len(rows)
    # Cr and Cb hold no luma, so the luma's own detail cannot pass for chroma detail.
    chroma = cv2.cvtColor(plate[np.concatenate([rows, rows + 1, rows + 2]), :width], cv2.COLOR_RGB2YCrCb)
    top, middle, bottom = chroma[:count], chroma[count:2 * count], chroma[2 * count:]

    def change(one: np.ndarray, other: np.ndarray) -> float:
        total = cv2.sumElems(cv2.absdiff(one, other))
        return total[1] + total[2]

    def pairs(part: np.ndarray) -> float:
        """How far each horizontal pair of pixels differs from its own mean."""
        size = (part.shape[1], count)
        mean = cv2.resize(part, (size[0] // 2, count), interpolation=cv2.INTER_AREA)
        return change(part, cv2.resize(mean, size, interpolation=cv2.INTER_NEAREST))

    def subsampled(inside: float, across: float) -> bool:
        return across > 0.02 * top.size and inside < 0.25 * across

    if not subsampled(pairs(top), pairs(top[:, 1:width - 1])):
        return "full"
    return "420" if subsampled(change(middle, top), change(bottom, middle)) else "422"


def _screen_light(diff: np.ndarray, reference: float) -> np.ndarray:
    """The screen's own colour difference, as if the subject were not there (a clean plate), 8× smaller.

    Blocks of pure screen are averaged, then a normalised Gaussian fills in behind the subject: an
    inpainted, heavily blurred picture of the screen's light (float32), to be scaled to the size wanted.
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
    return (num + 0.05 * coarse()) / (den + 0.05)


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
    chroma: Chroma | Literal["auto"] = "auto",
    fill_holes: bool = True,
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
    - ``chroma``: how the plate's colour was stored: "420" (H.264, most cameras' files), "422" (ProRes 422),
      "full"; "auto" reads it from the plate (``measure_chroma``). On subsampled plates the soft edge is
      rebuilt from the full-resolution luma (``_luma_detail``), which keeps thin struts and hair.
    - ``fill_holes``: make solid any part-transparent region that solid subject walls in and that shows open
      screen nowhere (a navy patch on blue, a screen reflection in a visor); turn it off for a sheer veil or
      lace held against the screen, where such a region really is see-through.
    - ``refine``: radius in px of a guided-filter refit of the soft edge to the plate (0: off); see
      ``matte.refine_edges``.
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
    if chroma not in ("auto", "full", "422", "420"):
        raise ValueError(f"chroma must be 'auto', 'full', '422' or '420', not {chroma!r}")
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
    height, width = diff.shape
    light: np.ndarray | None = None
    light_small: np.ndarray | None = None
    if clean_plate is not None:
        light = _clean_light(_difference(list(cv2.split(clean_plate)), k, a, b, balance), reference)
    elif even_screen:
        light_small = _screen_light(diff, reference)
        light = cv2.resize(light_small, (width, height), interpolation=cv2.INTER_LINEAR)
    if light is not None:
        clear = cv2.divide(diff, light, scale=255.0 * gain, dtype=cv2.CV_8U)
    else:
        clear = cv2.convertScaleAbs(diff, alpha=255.0 * gain / reference)
    layout = measure_chroma(plate) if chroma == "auto" else chroma
    if layout != "full":
        _luma_detail(clear, plate, diff, light_small if light_small is not None else light, 255.0 * gain,
                     reference, _SUBSAMPLING[layout])
    matte = cv2.LUT(clear, _levels(min(detail_black, clip_black), clip_white))
    if detail_black < clip_black:
        # Open screen is crushed at clip_black on a 5×5 average (noise cancels there), while next to anything
        # solid the matte keeps detail down to detail_black: faint hair survives, screen noise does not.
        near = cv2.LUT(cv2.blur(clear, (5, 5)), _levels(_GATE[0] * clip_black, _GATE[1] * clip_black))
        matte = cv2.multiply(matte, near, scale=1.0 / 255.0)
    if fill_holes:
        matte = _fill_holes(matte)
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


def _luma_detail(clear: np.ndarray, plate: np.ndarray, diff: np.ndarray, light: np.ndarray | None, scale: float,
                 reference: float, factors: tuple[int, int]) -> None:
    """Rebuild the soft edge of a subsampled plate's transparency from its full-resolution luma (in place).

    Why it works: across a soft edge a pixel is α·subject + (1 − α)·screen, so its luma Y and its matte are
    both straight lines in α: locally, transparency = slope · Y + offset. The colour difference gives the
    transparency only at chroma resolution; there, the slope and offset are fit by least squares on a 5×5
    window (a guided filter on luma), and the fit is then read at every pixel's own luma. Where luma does not
    follow the matte (subject and screen equally bright) the slope comes out ~0 and the chroma's answer
    stands. Only the band where the key is uncertain is fit and rewritten, so solid and clear pixels keep
    their value; past the chroma-resolution box filters, the work touches the band's pixels alone.
    """
    fx, fy = factors
    height, width = diff.shape[0] // fy * fy, diff.shape[1] // fx * fx
    small = (width // fx, height // fy)
    if small[0] < 2 or small[1] < 2:
        return
    # The transparency at chroma resolution, unclipped: noise on the screen stays noise, not a bias.
    level = cv2.resize(diff[:height, :width], small, interpolation=cv2.INTER_AREA)
    if light is None:
        seen = cv2.multiply(level, scale / reference, dtype=cv2.CV_32F)
    else:
        shrink = cv2.INTER_AREA if light.shape[1] > small[0] else cv2.INTER_LINEAR
        seen = cv2.divide(level, cv2.resize(light, small, interpolation=shrink), scale=scale, dtype=cv2.CV_32F)
    uncertain = cv2.inRange(seen, 0.5, 255.0 * (1.0 - _BAND_FLOOR))
    band = cv2.dilate(uncertain, np.ones((3, 3), np.uint8))
    # The box to work in: blocks holding a real stretch of edge (8 px of 64), not the odd noisy pixel of open
    # screen (which, left outside, just keeps its chroma-resolution value).
    blocks = cv2.resize(uncertain, (max(1, small[0] // 8), max(1, small[1] // 8)), interpolation=cv2.INTER_AREA)
    x, y, w, h = cv2.boundingRect(cv2.compare(blocks, 255 * 8 // 64, cv2.CMP_GE))
    if w == 0:
        return
    x, y, w, h = 8 * x, 8 * y, 8 * w, 8 * h
    pad = _DETAIL_RADIUS + 2
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(small[0], x + w + pad), min(small[1], y + h + pad)
    crop = plate[y0 * fy:y1 * fy, x0 * fx:x1 * fx]
    grey = cv2.cvtColor(cv2.resize(crop, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    spread = np.array([_CHROMA_SPREAD, 1 - 2 * _CHROMA_SPREAD, _CHROMA_SPREAD] if fy == 2 else [1.0], np.float32)
    lum = cv2.sepFilter2D(grey, cv2.CV_32F, np.ones(1, np.float32), spread, borderType=cv2.BORDER_REPLICATE)
    t = seen[y0:y1, x0:x1]
    size = (2 * _DETAIL_RADIUS + 1, 2 * _DETAIL_RADIUS + 1)

    def box(image: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(image, -1, size, borderType=cv2.BORDER_REPLICATE).reshape(-1)

    sums = (box(t), box(lum), box(cv2.multiply(t, lum)), box(cv2.multiply(lum, lum)))
    # The fit is solved only where it is read: at the band's chroma samples and their neighbours.
    crop_width = x1 - x0
    inner = band[y0:y1, x0:x1]
    near = cv2.findNonZero(cv2.dilate(inner, np.ones((3, 3), np.uint8))).reshape(-1, 2)
    at = near[:, 1] * crop_width + near[:, 0]
    mean_t, mean_y, mean_ty, mean_yy = (total[at] for total in sums)
    fitted = (mean_ty - mean_t * mean_y) / (mean_yy - mean_y * mean_y + np.float32(_DETAIL_EPS))
    slope = np.empty(t.size, np.float32)
    offset = np.empty(t.size, np.float32)
    slope[at] = fitted
    offset[at] = seen[y0 + near[:, 1], x0 + near[:, 0]] - fitted * lum.reshape(-1)[at]

    # Read the fit at each band pixel's own luma, the fit bilinearly upsampled to full resolution: along a
    # subsampled axis a pixel of phase 0 leans ¼ on the chroma sample before its own, phase 1 on the one after.
    points = cv2.findNonZero(inner).reshape(-1, 2)
    cols, rows = points[:, 0], points[:, 1]
    here = rows * crop_width + cols
    stride = clear.shape[1]
    flat_plate, flat_clear = plate.reshape(-1), clear.reshape(-1)
    # neighbours before and after along each subsampled axis, held inside the crop at the frame's edges
    lines_y = [rows] if fy == 1 else [np.maximum(rows - 1, 0), np.minimum(rows + 1, y1 - y0 - 1)]
    lines_x = [cols] if fx == 1 else [np.maximum(cols - 1, 0), np.minimum(cols + 1, crop_width - 1)]
    wy = np.float32(1.0 if fy == 1 else 0.75)
    wx = np.float32(1.0 if fx == 1 else 0.75)
    for dy, other_y in enumerate(lines_y):
        for dx, other_x in enumerate(lines_x):
            beside, above = rows * crop_width + other_x, other_y * crop_width + cols
            corner = other_y * crop_width + other_x
            a = wy * (wx * slope[here] + (1 - wx) * slope[beside]) + (1 - wy) * (
                wx * slope[above] + (1 - wx) * slope[corner])
            c = wy * (wx * offset[here] + (1 - wx) * offset[beside]) + (1 - wy) * (
                wx * offset[above] + (1 - wx) * offset[corner])
            pixel = ((y0 + rows) * fy + dy) * stride + (x0 + cols) * fx + dx
            rgb = 3 * pixel
            luma = (np.float32(0.299) * flat_plate[rgb] + np.float32(0.587) * flat_plate[rgb + 1]
                    + np.float32(0.114) * flat_plate[rgb + 2])
            flat_clear[pixel] = np.clip(a * luma + c + 0.5, 0, 255).astype(np.uint8)


def _fill_holes(matte: np.ndarray) -> np.ndarray:
    """Make solid every part-transparent region that solid subject walls in and that holds no open screen.

    A colour-difference key cannot tell a navy patch on a blue screen from blue showing through thin hair:
    both are screen-like colours. Where they lie tells them apart: screen seen through the subject is always
    joined to open screen somewhere, a patch is not. Found on 4×4 blocks (a block is "not solid" if any of
    its pixels is, so narrow links to open screen are kept, and "open" when most of it is fully clear, so a
    few clear pixels inside a patch do not count), then filled at full size; pixels are only ever raised.
    """
    height, width = matte.shape
    small = (max(1, width // _HOLE_BLOCK), max(1, height // _HOLE_BLOCK))
    loose = cv2.resize(cv2.compare(matte, 255, cv2.CMP_LT), small, interpolation=cv2.INTER_AREA)
    _, loose = cv2.threshold(loose, 0, 1, cv2.THRESH_BINARY)
    opened = cv2.resize(cv2.compare(matte, 0, cv2.CMP_EQ), small, interpolation=cv2.INTER_AREA)
    count, labels = cv2.connectedComponents(loose, connectivity=8)
    if count <= 1:
        return matte
    joined = np.zeros(count, bool)
    open_labels = labels[opened >= round(255 * _OPEN_SHARE)]
    if open_labels.size == 0:
        return matte                     # no open screen in the frame at all: nothing to tell holes by
    joined[open_labels] = True
    joined[0] = True                     # label 0 is the solid subject itself
    if joined.all():
        return matte
    holes = (~joined).astype(np.uint8)[labels] * np.uint8(255)
    holes = cv2.resize(holes, (width, height), interpolation=cv2.INTER_NEAREST)
    return cv2.max(matte, holes)


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
