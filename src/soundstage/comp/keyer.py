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
unmixing of edge colour touches only the soft edge, so a 1280×720 H.264 frame keys in ~7 ms on one core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from soundstage.comp.matte import Roto, colour_line, refine_edges, shrink_grow, soften
from soundstage.errors import MediaError

Screen = Literal["green", "blue"]
Despill = Literal["edge", "limit", "average"]
Chroma = Literal["full", "422", "420"]

_CHANNEL = {"green": 1, "blue": 2}
_OTHERS = {"green": (0, 2), "blue": (0, 1)}

# A pixel is "screen" when its key channel beats both others by this many levels and by this ratio.
_SCREEN_MARGIN = 32
_SCREEN_RATIO = 1.4
_SPILL_BAND = 8               # px at least: the band along the edge that 'edge' despill treats as spill
_SCREEN_TINT = 0.06           # how far (in r, g, b shares of the sum) a screen pixel's hue may stray
_SCREEN_COHERENT = 0.6        # the share of screen-coloured pixels that must hold the screen's hue
_MIN_SCREEN_SHARE = 0.02     # of the frame; below this there is no screen to key
_GATE = (0.33, 0.67)         # the open-screen gate ramps from/to these shares of clip_black
_SUBJECT_WINDOW = 9          # px: where the subject's own colours are measured around an edge pixel
_SUBJECT_SHARE = 0.5          # of the window solid: a broad area, not hair beside skin
_SUBJECT_BELOW = 8          # a pixel whose key channel is this far below the others is solid subject
_STRAND_TELLS = 16           # levels: a channel this far from the screen's tells a strand from it
_BLOCK = 8                   # the screen's light is measured on blocks of 8×8 pixels
_SUBSAMPLING = {"full": (1, 1), "422": (2, 1), "420": (2, 2)}   # chroma's (horizontal, vertical) factors
_DETAIL_RADIUS = 1           # the luma fit's window: 3×3 cells of 2×2 chroma samples (12×12 px on 4:2:0)
_DETAIL_EPS = 0.25           # levels² of the cells' luma, below its noise: where luma is flat, no slope is fit
_DETAIL_FLOOR = 0.04         # chroma samples at least this opaque (and not solid) are in the band refit
_DETAIL_SHARE = 2.0          # a pixel holds at most this many times its fair share of its sample's transparency
# H.264 encoders spread each chroma row over its neighbours (swscale's vertical filter, measured on libx264
# yuv420p plates: full-res taps ≈ .05 .13 .33 .32 .12 .05), so the luma the fit compares with is spread alike.
_CHROMA_SPREAD = 0.18
_HOLE_BLOCK = 4              # holes are found on blocks of 4×4 pixels (two halvings)
_NOISY = 0.06                # the screen's noise (σ of its colour difference) above which the plate is denoised
_DENOISE_WINDOW = 3          # px at half size: the guided filter's window
_DENOISE_EPS = 2.0           # the guided filter's regularisation, in σ of the noise: colour flatter than this is noise
_STEADY = 1.5                # σ of the noise: a 3×3 mean change below this between two frames is noise
_STEADY_NOISE = 0.03         # of the screen's difference: below this noise the previous plate is not needed
_STEADY_FLOOR = 3            # levels: the least change between two frames that counts as motion
_FOLD_DEPTH = 0.6            # a fold is at least this share of the screen's light around it
_FOLD_SPREAD = 0.16          # of the screen's difference: a fold's 3×3 range (at the search's size) is below this
_FOLD_NOISE = 1.5            # σ of the noise allowed on top of that range: on a dim screen noise is most of it
_BRIGHTEST = 9               # px: the window in which the subject's brightest colour bounds its edge
_FOLD_QUARTER = 720          # px tall: from this frame height on, folds are looked for at a quarter size
_FOLD_CLEAR = 7              # px at the fold search's size: folds are followed only this far from anything half solid
_OTHERS_MARGIN = 12.0        # levels of sensor noise the others' bound allows
_SPAN_FLOOR = 1.1             # of the screen's difference: the least a subject's others stand above the screen's
_SPAN_LEAST = 64               # levels, and at least this: a white veil on a dim screen stands this far above it
_OPEN_LEVEL = 8              # a block is open screen when its mean matte is at most this (of 255)


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


def _screen_sample(plate: np.ndarray) -> np.ndarray:
    _check_plate(plate)
    step = max(1, min(plate.shape[:2]) // 180)           # ~1/16 of a 720p frame's pixels is plenty
    return plate[::step, ::step].astype(np.int16)


def screen_share(plate: np.ndarray, screen: Screen) -> float:
    """The share of the plate (0…1) that is ``screen``-coloured strongly enough to be a backing screen."""
    sample = _screen_sample(plate)
    return len(_screen_pixels(sample, screen)) / (sample.shape[0] * sample.shape[1])


def measure_screen(plate: np.ndarray, screen: Literal["auto", "green", "blue"] = "auto") -> ScreenColour:
    """Measure the backing colour from the plate itself: the median of the strongly screen-coloured pixels.

    A median ignores the subject, spill and noise; "auto" picks whichever of green and blue covers more of
    the frame. Measure once per shot (on its first frame) so the key does not flicker.
    """
    if screen not in ("auto", "green", "blue"):
        raise ValueError(f"screen must be 'auto', 'green' or 'blue', not {screen!r}")
    sample = _screen_sample(plate)
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
    # A backing is one colour, lit unevenly: brighter or darker, but the same hue. Random texture that
    # happens to be greenish in places (noise, foliage, a location plate) is not a screen. The hue is judged on
    # 5×5 means, where a dim screen's sensor noise (σ 6 on a channel of 30 levels) cancels, if a screen is still
    # there (at least half as much of it): on random texture the means go grey and the raw pixels are judged.
    smooth = _screen_pixels(_screen_sample(cv2.blur(plate, (5, 5))), channel)
    if 2 * len(smooth) >= len(pixels):
        pixels = smooth
    tint = pixels / np.maximum(pixels.sum(axis=1, keepdims=True), 1)
    spread = np.abs(tint - np.median(tint, axis=0)).max(axis=1)
    if (spread < _SCREEN_TINT).mean() < _SCREEN_COHERENT:
        raise MediaError(
            f"no {channel} screen in the plate: its {channel}-dominant pixels are not one backing colour",
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
    yuv = cv2.cvtColor(plate[np.concatenate([rows, rows + 1, rows + 2]), :width], cv2.COLOR_RGB2YCrCb)
    top, middle, bottom = yuv[:count], yuv[count:2 * count], yuv[2 * count:]

    def change(one: np.ndarray, other: np.ndarray) -> tuple[float, float]:
        """How much luma, and how much chroma (Cr + Cb, which hold no luma), changes from one to the other."""
        total = cv2.sumElems(cv2.absdiff(one, other))
        return total[0], total[1] + total[2]

    def pairs(part: np.ndarray) -> tuple[float, float]:
        """How far each horizontal pair of pixels differs from its own mean."""
        size = (part.shape[1], count)
        mean = cv2.resize(part, (size[0] // 2, count), interpolation=cv2.INTER_AREA)
        return change(part, cv2.resize(mean, size, interpolation=cv2.INTER_NEAREST))

    def subsampled(inside: tuple[float, float], across: tuple[float, float]) -> bool:
        # chroma changes across pairs but hardly inside them, while luma changes inside them too (so a clean
        # synthetic picture whose edges happen to fall between pairs is not taken for subsampled)
        return (across[1] > 0.02 * top.size and inside[1] < 0.25 * across[1]
                and inside[0] > 0.5 * across[0] > 0)

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
    despill: Despill | None = "edge",
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
    subject_difference: bool = True,
    denoise: bool = True,
    folds: bool = True,
    previous: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Key a plate: return the despilled foreground (H×W×3 uint8, straight) and its matte (H×W uint8).

    - ``clip_black`` / ``clip_white``: matte levels (0..1) crushed to fully transparent / fully opaque;
      they remove screen noise and make the subject's core solid.
    - ``detail_black``: next to the subject the matte keeps detail down to this level (fine hair, motion
      blur); open screen is still crushed at ``clip_black``, judged on a 5×5 average where noise cancels.
    - ``despill``: "average" holds the key channel at or below the mean of the other two, "limit" at or below
      the larger (milder: it keeps yellows on green, but leaves spilled blonde hair or a white rim olive, since
      it caps green at red). "edge", the default, is average within the spill band along the subject's edge,
      where the screen's bounce lands, and limit inside it, where average would shift warm whites toward
      magenta. None keeps the spill.
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
    - ``subject_difference``: solve the pixels where the subject meets the screen against the subject's own
      colour difference, not zero (``_against_the_subject``, and ``_against_the_strands`` for hair and wicker,
      which have no broad solid area beside them): orange, red and skin edges would key too solid.
    - ``folds``: follow the screen's light into its folds and creases (``_follow_folds``), so a wrinkled
      backdrop's darker folds key clear instead of as a faint veil.
    - ``denoise``: when the screen's own noise is large against its colour difference (a dim, noisy screen),
      smooth the colour difference where the plate's colour is flat before keying (``screen_noise``, ``_denoise``).
    - ``previous``: the plate of the frame before (H×W×3 uint8), for a video key that does not flicker: where
      the two frames' colour difference agrees to within the noise (nothing moved), the two are averaged, so
      sensor noise in hair and on the screen's edge halves in power; where anything moved, this frame's own
      difference stands, so nothing ghosts. A pure function of the two plates: frames may be keyed out of order.
      Only a noisy screen's key flickers; on a clean one (noise under 3 % of its difference) it is not read.
    - ``refine``: radius in px of a refit of the soft edge as a local linear function of the plate's colour
      (0: off; see ``matte.refine_edges``): it sharpens full-colour plates' edges most (~10 ms at 1080p).
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
    if despill not in ("edge", "limit", "average", None):
        raise ValueError(f"despill must be 'edge', 'limit', 'average' or None, not {despill!r}")
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
    others = _others(planes, a, b, balance)
    diff = _difference(planes, k, others)
    height, width = diff.shape
    noise = screen_noise(diff, reference) if denoise or previous is not None else 0.0
    noisy = denoise and noise > _NOISY * reference
    if noisy:
        diff = _denoise(diff, plate, noise)
    if previous is not None:
        _check_plate(previous, "previous plate")
        if previous.shape != plate.shape:
            raise MediaError(f"the previous plate is {previous.shape[1]}×{previous.shape[0]} but the plate is "
                             f"{plate.shape[1]}×{plate.shape[0]}")
    if previous is not None and noise > _STEADY_NOISE * reference:   # a clean screen has no noise to flicker
        before = list(cv2.split(previous))
        diff_before = _difference(before, k, _others(before, a, b, balance))
        if noisy:
            diff_before = _denoise(diff_before, previous, noise)
        diff = _steady(diff, diff_before, noise)
    light: np.ndarray | None = None
    light_small: np.ndarray | None = None
    clean_others: np.ndarray | None = None
    if clean_plate is not None:
        clean = list(cv2.split(clean_plate))
        clean_others = _others(clean, a, b, balance)
        light = _clean_light(_difference(clean, k, clean_others), reference)
    elif even_screen:
        light_small = _screen_light(diff, reference)
        if folds:
            light_small = _follow_folds(diff, light_small, reference, noise)
        light = cv2.resize(light_small, (width, height), interpolation=cv2.INTER_LINEAR)
    if subject_difference:
        below = cv2.subtract(others, planes[k])            # −D where the key channel is below the others
        _against_the_subject(diff, below, others, light, reference, 255.0 * behind)
        if not noisy:
            _against_the_strands(diff, below, planes[k], others, light, reference, (255.0 * rgb[k], 255.0 * behind))

    # transparency = 255 · gain · diff / (the screen's diff here): 255 on the screen, 0 on the subject (uint8).
    if light is not None:
        clear = cv2.divide(diff, light, scale=255.0 * gain, dtype=cv2.CV_8U)
    else:
        clear = cv2.convertScaleAbs(diff, alpha=255.0 * gain / reference)
    layout = measure_chroma(plate) if chroma == "auto" else chroma
    if layout != "full":
        _luma_detail(clear, plate, diff, light_small if light_small is not None else light, 255.0 * gain,
                     reference, _SUBSAMPLING[layout])
    if subject_difference:
        _bound_by_others(clear, others, light, 255.0 * behind, reference, clean_others)
    matte = cv2.LUT(clear, _levels(min(detail_black, clip_black), clip_white))
    if detail_black < clip_black:
        # Open screen is crushed at clip_black on a 5×5 average (noise cancels there), while next to anything
        # solid the matte keeps detail down to detail_black: faint hair survives, screen noise does not.
        near = cv2.LUT(cv2.blur(clear, (5, 5)), _levels(_GATE[0] * clip_black, _GATE[1] * clip_black))
        matte = cv2.multiply(matte, near, scale=1.0 / 255.0)
    holes = None
    if fill_holes:
        matte, holes = _fill_holes(matte)
    if refine:
        matte = refine_edges(plate, matte, radius=refine)
    matte = soften(shrink_grow(matte, shrink), softness)
    if roto is not None:
        matte = roto.apply(matte)

    _unmix_edges(planes, matte, light, rgb, reference)
    if despill is not None:
        _despill(planes, k, a, b, despill, spill_luma, matte)
    foreground = cv2.merge(planes)
    if holes is not None and despill is not None:
        cv2.copyTo(plate, holes, foreground)    # a filled patch is the subject's own colour, not spill
    return cv2.bitwise_and(foreground, foreground, mask=matte), matte


def _against_the_strands(diff: np.ndarray, below: np.ndarray, keyed: np.ndarray, others: np.ndarray,
                         light: np.ndarray | None, reference: float, screen: tuple[float, float]) -> None:
    """Re-solve the edge of thin structure against its own colours (``diff`` in place).

    Why: blonde hair or wicker on blue, red hair on green, has a strongly negative colour difference S, so a
    pixel that is half strand and half screen has D = ½·S + ½·L near 0 and keys all but solid: strands and
    bands come out fat. ``_against_the_subject`` solves this beside a broad solid area; a strand has none. Its
    deepest pixel (the most negative D within 3×3) is the best guess of the strand's colour there, so
    transparency = (D − S) / (L − S). A real mix agrees in every channel: the key channel and the others must
    each lie between the strand's and the screen's and give the same share, so the least of the three answers
    is taken (a dark rim beside bright skin is no mix of skin and screen: its key channel is below both). Only
    pixels that show the screen themselves or beside them move, only toward transparent; not on noisy plates,
    where the deepest of a few pixels is deep noise. ``screen``: the screen's key and others levels (0..255).
    """
    height, width = diff.shape
    x, y, w, h = cv2.boundingRect(cv2.inRange(below, _SUBJECT_BELOW, 255))    # the work stays in the subject's box
    if w == 0:
        return
    x0, y0, x1, y1 = max(1, x - 1), max(1, y - 1), min(width - 1, x + w + 1), min(height - 1, y + h + 1)
    square = np.ones((3, 3), np.uint8)
    box = slice(y0 - 1, y1 + 1), slice(x0 - 1, x1 + 1)     # one pixel wider: every pixel that moves has 8 neighbours
    deepest = cv2.dilate(below[box], square)
    shows_screen = cv2.dilate(cv2.inRange(diff[box], 1, 255), square)
    moves = cv2.bitwise_and(cv2.inRange(deepest, _SUBJECT_BELOW, 255), shows_screen)
    points = cv2.findNonZero(moves[1:-1, 1:-1])
    if points is None:
        return
    points = points.reshape(-1, 2) + np.array([x0, y0])
    at = points[:, 1] * width + points[:, 0]
    around = at[:, None] + np.array([dy * width + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    flat_below = below.reshape(-1)
    strand = np.take_along_axis(around, np.argmax(flat_below[around], axis=1)[:, None], axis=1)[:, 0]
    flat = diff.reshape(-1)
    scale = light.reshape(-1)[at] / np.float32(reference) if light is not None else np.float32(1.0)
    screen_here = scale * np.float32(reference)                                              # L
    subject_below = flat_below[strand].astype(np.float32)                                   # −S
    own = flat[at].astype(np.float32) - flat_below[at]                                      # D
    solved = (own + subject_below) / (screen_here + subject_below)
    for plane, level, needed in ((keyed, screen[0], False), (others, screen[1], True)):
        subject, here = plane.reshape(-1)[strand].astype(np.float32), plane.reshape(-1)[at].astype(np.float32)
        behind = scale * np.float32(level)
        span = subject - behind
        telling = np.abs(span) > _STRAND_TELLS
        share = (subject - here) / np.where(telling, span, 1.0)
        # spill mimics a mix in the key channel and so in D: the others must confirm it, or nothing moves
        solved = np.where(telling, np.minimum(solved, share), 0.0 if needed else solved)
        # and a mix lies between the two in every channel: a dark rim beside bright skin is below both
        between = (here >= np.minimum(subject, behind) - _STRAND_TELLS) & (here <= np.maximum(subject, behind)
                                                                            + _STRAND_TELLS)
        solved = np.where(between, solved, 0.0)
    solved = screen_here * np.clip(solved, 0.0, 1.0)
    flat[at] = np.clip(np.maximum(solved, flat[at]) + 0.5, 0, 255).astype(np.uint8)


def _against_the_subject(diff: np.ndarray, below: np.ndarray, others: np.ndarray, light: np.ndarray | None,
                         reference: float, screen_others: float) -> None:
    """Re-solve the edge against the subject's own colours (``diff`` in place).

    Why: the plain ratio takes the subject's colour difference as 0. An orange suit or skin on green has a
    strongly negative one (green far below red), so in a pixel that is half suit, half screen the two cancel
    and the pixel keys solid: a hard edge that keeps the screen's colour, an olive fringe after despill. With
    D the pixel's signed difference, L the screen's and S the subject's (measured on the solid subject around
    it), the pixel's transparency is (D − S) / (L − S). Spill raises D as well, without any screen showing
    through, so the other channels must agree: in a real mix they too fall from the subject's level toward
    the screen's, while spill leaves them where they were. The smaller of the two answers is taken, and only
    pixels within two pixels of open screen, beside a broad solid area, move, and only toward transparent.
    """
    core = cv2.inRange(below, _SUBJECT_BELOW, 255)
    screen = cv2.inRange(diff, int(0.5 * reference), 255)
    edge = cv2.bitwise_and(cv2.dilate(screen, np.ones((5, 5), np.uint8)), cv2.bitwise_not(screen))
    window = (_SUBJECT_WINDOW, _SUBJECT_WINDOW)
    points = cv2.findNonZero(cv2.bitwise_and(edge, cv2.dilate(core, np.ones(window, np.uint8))))
    if points is None:
        return
    x, y, w, h = cv2.boundingRect(points)
    pad = _SUBJECT_WINDOW // 2 + 1
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(diff.shape[1], x + w + pad), min(diff.shape[0], y + h + pad)
    here = core[y0:y1, x0:x1]

    def around(plane: np.ndarray) -> np.ndarray:
        """The sum of ``plane`` over the solid subject in each pixel's window (float32)."""
        return cv2.boxFilter(cv2.bitwise_and(plane[y0:y1, x0:x1], here), cv2.CV_32F, window, normalize=False,
                             borderType=cv2.BORDER_REPLICATE)

    count = cv2.boxFilter(here, cv2.CV_32F, window, normalize=False, borderType=cv2.BORDER_REPLICATE) / 255
    points = points.reshape(-1, 2)
    cols, rows = points[:, 0] - x0, points[:, 1] - y0
    found = count[rows, cols]
    broad = found >= _SUBJECT_SHARE * _SUBJECT_WINDOW ** 2
    if not broad.any():
        return
    points, cols, rows, found = points[broad], cols[broad], rows[broad], found[broad]
    subject_below = around(below)[rows, cols] / found                          # −S ≥ 0
    subject_others = around(others)[rows, cols] / found
    at = points[:, 1] * diff.shape[1] + points[:, 0]
    flat = diff.reshape(-1)
    scale = light.reshape(-1)[at] / np.float32(reference) if light is not None else np.float32(1.0)
    screen_here = scale * np.float32(reference)                                # L
    own = flat[at].astype(np.float32) - below.reshape(-1)[at]                 # D
    by_difference = (own + subject_below) / (screen_here + subject_below)
    span = subject_others - scale * np.float32(screen_others)
    by_others = np.where(span > 16, (subject_others - others.reshape(-1)[at]) / np.maximum(span, 1.0), 0.0)
    solved = screen_here * np.clip(np.minimum(by_difference, by_others), 0.0, 1.0)
    flat[at] = np.clip(np.maximum(solved, flat[at]) + 0.5, 0, 255).astype(np.uint8)


def _follow_folds(diff: np.ndarray, light_small: np.ndarray, reference: float, noise: float = 0.0) -> np.ndarray:
    """The screen's light at half (HD: quarter) size, following the folds the 8×-block estimate smooths over (float32).

    A fold in a cloth screen is screen, only darker: smooth, and at least ``_FOLD_DEPTH`` of the light around it.
    Hair, fur, mesh or a subject's edge in front of the screen is not smooth on a few pixels. So where the colour
    difference is smooth (its 3×3 range under ``_FOLD_SPREAD`` of the screen's difference, plus ``_FOLD_NOISE`` σ of
    the sensor noise, which on a dim screen is most of that range) and
    no darker than that, the light is read from the plate itself. A smooth, see-through subject lighter than
    that (thin smoke) keys as screen; a veil or glass denser than 1 − ``_FOLD_DEPTH`` does not.
    """
    half = cv2.resize(diff, (max(1, diff.shape[1] // 2), max(1, diff.shape[0] // 2)), interpolation=cv2.INTER_AREA)
    if diff.shape[0] >= _FOLD_QUARTER:   # an HD frame's folds are tens of pixels wide: a quarter size sees them
        half = cv2.resize(half, (max(1, half.shape[1] // 2), max(1, half.shape[0] // 2)), interpolation=cv2.INTER_AREA)
    square = np.ones((3, 3), np.uint8)
    spread = cv2.subtract(cv2.dilate(half, square), cv2.erode(half, square))
    smooth = cv2.inRange(spread, 0, max(2, round(_FOLD_SPREAD * reference + _FOLD_NOISE * noise)))
    level = half.astype(np.float32)     # not a 3×3 mean: at a fold's darkest line that would stand above it
    light = cv2.resize(light_small, (half.shape[1], half.shape[0]), interpolation=cv2.INTER_LINEAR)
    fold = cv2.bitwise_and(smooth, cv2.compare(level, light * np.float32(_FOLD_DEPTH), cv2.CMP_GE))
    cv2.bitwise_and(fold, cv2.compare(level, light, cv2.CMP_LT), dst=fold)
    # not where the subject is near: the faint outer tail of a soft edge is smooth and bright too
    subject = cv2.dilate(cv2.compare(level, light * np.float32(0.5), cv2.CMP_LT), np.ones((_FOLD_CLEAR,) * 2, np.uint8))
    cv2.bitwise_and(fold, cv2.bitwise_not(subject), dst=fold)
    cv2.copyTo(level, fold, light)
    return light


def screen_noise(diff: np.ndarray, reference: float) -> float:
    """The sensor noise of the screen's colour difference (σ, levels), read from open screen on a few rows.

    Each pixel is compared with the mean of its left and right neighbours: on a smooth screen the difference is
    noise alone (σ·√1.5), and a median of its magnitude ignores the subject's edges.
    """
    rows = diff[::max(1, diff.shape[0] // 32)].astype(np.int16)
    residual = rows[:, 1:-1] - ((rows[:, :-2] + rows[:, 2:]) >> 1)
    screen = (rows[:, 1:-1] > 0.5 * reference) & (rows[:, :-2] > 0.5 * reference) & (rows[:, 2:] > 0.5 * reference)
    if screen.sum() < 64:
        return 0.0
    return float(1.4826 * np.median(np.abs(residual[screen])) / np.sqrt(1.5))


def _denoise(diff: np.ndarray, plate: np.ndarray, noise: float) -> np.ndarray:
    """The colour difference smoothed where the plate is flat and kept where its colour has an edge (uint8).

    A guided filter (He et al.) with the plate's RGB as the guide: in a small window (``_DENOISE_WINDOW``) the
    difference is fit as a linear function of the three channels, regularised by the noise, so open screen and
    flat subject average out while an edge that the colour shows stays sharp. A colour guide and not luma: red
    hair on a dim green screen is as bright as the screen, so luma alone does not see the strand and the filter
    would smear it. Only dim, noisy plates take it.
    """
    size = (_DENOISE_WINDOW, _DENOISE_WINDOW)

    def box(image: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(image, -1, size, borderType=cv2.BORDER_REPLICATE)

    # The fit runs at half size (the fast guided filter, He & Sun 2015), where a 2×2 mean halves the noise.
    full = [plane.astype(np.float32) for plane in cv2.split(plate)]
    half = (max(1, plate.shape[1] // 2), max(1, plate.shape[0] // 2))
    guide = [cv2.resize(plane, half, interpolation=cv2.INTER_AREA) for plane in full]
    source = cv2.resize(diff, half, interpolation=cv2.INTER_AREA).astype(np.float32)
    means = [box(plane) for plane in guide]
    mean_p = box(source)
    eps = np.float32((_DENOISE_EPS * noise / 2) ** 2)

    def covariance(i: int, j: int) -> np.ndarray:
        return box(guide[i] * guide[j]) - means[i] * means[j] + (eps if i == j else 0)

    slopes = colour_line(tuple(covariance(i, j) for i, j in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))),
                         tuple(box(plane * source) - mean * mean_p for plane, mean in zip(guide, means, strict=True)))
    offset = mean_p - sum(slope * mean for slope, mean in zip(slopes, means, strict=True))
    maps = [box(offset)] + [box(slope) for slope in slopes]
    maps = [cv2.resize(m, (plate.shape[1], plate.shape[0]), interpolation=cv2.INTER_LINEAR) for m in maps]
    out = maps[0] + sum(m * plane for m, plane in zip(maps[1:], full, strict=True))
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _steady(diff: np.ndarray, before: np.ndarray, noise: float) -> np.ndarray:
    """This frame's colour difference averaged with the frame before's where they agree within the noise (uint8).

    Agreement is judged on 3×3 means of the change (noise cancels there, a moving edge does not); a pixel that
    changed by more than ``_STEADY`` σ of the noise (at least 3 levels) keeps its own value, so motion never ghosts.
    """
    change = cv2.blur(cv2.absdiff(diff, before), (3, 3))
    still = cv2.inRange(change, 0, max(_STEADY_FLOOR, round(_STEADY * noise)))
    steady = diff.copy()
    cv2.copyTo(_mean(diff, before), still, steady)
    return steady


def _bound_by_others(clear: np.ndarray, others: np.ndarray, light: np.ndarray | None, screen_others: float,
                     reference: float, clean_others: np.ndarray | None = None) -> None:
    """Cap the transparency where the other channels stand above the screen's own (``clear`` in place).

    Why: a pixel that is α·subject + (1 − α)·screen has its other channels at α·S + (1 − α)·L, with L the
    screen's level there and S the subject's, so α ≥ (P − L) / (S − L); S is taken as the brightest others
    level within ``_BRIGHTEST`` px (a strand's own colour is the brightest of its blend with the screen), and at
    least ``_SPAN_FLOOR`` of the screen's own difference (and ``_SPAN_LEAST`` levels) above the screen: smoke, glass
    or a veil has no solid pixel, its brightest is itself a blend, and a span read from it would key the whole
    plume far too solid. White fur or
    hair that the screen's bounce turned green, glass, a chrome reflection of the screen, green-tinted blonde:
    the colour difference calls them part screen, but their red (on green) is far brighter than any screen's,
    so they cannot be. Spill adds little to the other channels; sensor noise lifts them by a few levels, kept
    below ``clip_black`` by the margin. With a clean plate, the screen's own other channels there are the level
    (a screen lit in coloured bands does not keep them in proportion to its key channel).
    """
    margin = _OTHERS_MARGIN
    if clean_others is not None:
        floor = cv2.subtract(others, cv2.add(clean_others, np.full_like(clean_others, margin)))
    elif light is None:
        floor = cv2.subtract(others, np.full_like(others, min(255, round(screen_others + margin))))
    else:
        level = cv2.convertScaleAbs(light, alpha=screen_others / reference, beta=margin)
        floor = cv2.subtract(others, level)
    # opacity ≥ floor / (S − L), S the brightest subject nearby (its others level, at most 255)
    brightest = cv2.dilate(others, np.ones((_BRIGHTEST, _BRIGHTEST), np.uint8))
    least = np.full_like(others, round(min(255.0, max(_SPAN_LEAST, _SPAN_FLOOR * reference))))
    span = cv2.max(cv2.subtract(brightest, np.full_like(others, round(screen_others))), least)
    cv2.min(clear, cv2.bitwise_not(cv2.divide(floor, span, scale=255.0)), dst=clear)


def _luma_detail(clear: np.ndarray, plate: np.ndarray, diff: np.ndarray, light: np.ndarray | None, scale: float,
                 reference: float, factors: tuple[int, int]) -> None:
    """Rebuild the soft edge of a subsampled plate's transparency from its full-resolution luma (in place).

    Why it works: across a soft edge a pixel is α·subject + (1 − α)·screen, so its luma and its matte are both
    straight lines in α: locally, transparency = slope · luma + offset. The colour difference gives the
    transparency only at chroma resolution. There the line is fit by least squares (a guided filter on luma:
    the slope on 3×3 cells of 2×2 chroma samples, the offset per sample so the fit keeps the chroma's own
    value), then read at every pixel's own luma. Where luma does not follow the matte (subject and screen
    equally bright, or a second subject colour) the slope comes out small and the chroma's answer stands; and
    no pixel may take more than twice its share of its chroma sample's transparency or opacity, so a dark
    hairline beside bright skin cannot punch a hole. Only the band where the key is uncertain is rewritten;
    past a few chroma-resolution passes, the work touches the band's pixels alone.
    """
    fx, fy = factors
    height, width = diff.shape[0] // fy * fy, diff.shape[1] // fx * fx
    small = (width // fx, height // fy)
    if small[0] < 8 or small[1] < 8:
        return
    # The transparency at chroma resolution, unclipped: noise on the screen stays noise, not a bias.
    level = cv2.resize(diff[:height, :width], small, interpolation=cv2.INTER_AREA)
    seen: np.ndarray
    if light is None:
        seen = level.astype(np.float32) * np.float32(scale / reference)
    else:
        shrink = cv2.INTER_AREA if light.shape[1] > small[0] else cv2.INTER_LINEAR
        seen = cv2.divide(level, cv2.resize(light, small, interpolation=shrink), scale=scale, dtype=cv2.CV_32F)
    uncertain = cv2.inRange(seen, 0.5, 255.0 * (1.0 - _DETAIL_FLOOR))
    band = cv2.dilate(uncertain, np.ones((3, 3), np.uint8))
    # The box to work in: blocks holding a real stretch of edge (8 of their 64 samples), not the odd noisy
    # sample of open screen, which is left outside with its chroma-resolution value.
    blocks = uncertain[:small[1] // 8 * 8, :small[0] // 8 * 8]
    for _ in range(3):   # 8× smaller in three halvings: OpenCV's 2× area path is the fast one
        blocks = cv2.resize(blocks, (blocks.shape[1] // 2, blocks.shape[0] // 2), interpolation=cv2.INTER_AREA)
    x, y, w, h = cv2.boundingRect(cv2.inRange(blocks, 255 * 8 // 64, 255))
    if w == 0:
        return
    pad = _DETAIL_RADIUS + 2
    x0, y0 = max(0, 8 * x - 2 * pad), max(0, 8 * y - 2 * pad)
    x1, y1 = min(small[0], 8 * (x + w) + 2 * pad), min(small[1], 8 * (y + h) + 2 * pad)
    crop_width, crop_height = x1 - x0, y1 - y0
    grey = cv2.cvtColor(cv2.resize(plate[y0 * fy:y1 * fy, x0 * fx:x1 * fx], (crop_width, crop_height),
                                   interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    spread = np.array([_CHROMA_SPREAD, 1 - 2 * _CHROMA_SPREAD, _CHROMA_SPREAD] if fy == 2 else [1.0], np.float32)
    lum = cv2.sepFilter2D(grey, cv2.CV_32F, np.ones(1, np.float32), spread, borderType=cv2.BORDER_REPLICATE)

    # The slope follows only the subject's colour, so it is fit on 2×2 chroma samples (4× cheaper).
    coarse = (crop_width // 2, crop_height // 2)
    t_coarse = cv2.resize(seen[y0:y1, x0:x1], coarse, interpolation=cv2.INTER_AREA)
    y_coarse = cv2.resize(lum, coarse, interpolation=cv2.INTER_AREA)
    size = (2 * _DETAIL_RADIUS + 1, 2 * _DETAIL_RADIUS + 1)

    def box(image: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(image, -1, size, borderType=cv2.BORDER_REPLICATE)

    mean_t, mean_y = box(t_coarse), box(y_coarse)
    covariance = cv2.subtract(box(cv2.multiply(t_coarse, y_coarse)), cv2.multiply(mean_t, mean_y))
    variance = cv2.subtract(box(cv2.multiply(y_coarse, y_coarse)), cv2.multiply(mean_y, mean_y))
    coarse_slope = cv2.divide(covariance, variance + _DETAIL_EPS).reshape(-1)

    # Slope and offset per chroma sample, solved only where they are read: the band and its neighbours. They
    # travel as one complex number (slope + i·offset), so every gather and blend below moves both at once.
    inner = band[y0:y1, x0:x1]
    near = cv2.findNonZero(cv2.dilate(inner, np.ones((3, 3), np.uint8))).reshape(-1, 2)
    near_x, near_y = near[:, 0], near[:, 1]
    fitted = coarse_slope[np.minimum(near_y // 2, coarse[1] - 1) * coarse[0] + np.minimum(near_x // 2, coarse[0] - 1)]
    flat_seen = seen.reshape(-1)
    line = np.empty(crop_width * crop_height, np.complex64)
    at = near_y * crop_width + near_x
    line[at] = fitted + 1j * (flat_seen[(y0 + near_y) * small[0] + x0 + near_x] - fitted * lum.reshape(-1)[at])

    # The line at each band pixel's own luma, slope and offset bilinearly upsampled to full resolution: along a
    # subsampled axis a pixel of phase 0 leans ¼ on the chroma sample before its own, phase 1 on the one after
    # (held inside the crop at the frame's edges).
    points = cv2.findNonZero(inner).reshape(-1, 2)
    cols, rows = points[:, 0], points[:, 1]
    sample = np.clip(flat_seen[(y0 + rows) * small[0] + x0 + cols], 0, 255)
    # one pixel may hold at most _DETAIL_SHARE × (its share) of its sample's transparency, and of its opacity
    most = np.float32(_DETAIL_SHARE * fx * fy) * sample
    least = np.float32(255.0) - np.float32(_DETAIL_SHARE * fx * fy) * (np.float32(255.0) - sample)
    lines_y = [rows] if fy == 1 else [np.maximum(rows - 1, 0), np.minimum(rows + 1, crop_height - 1)]
    lines_x = [cols] if fx == 1 else [np.maximum(cols - 1, 0), np.minimum(cols + 1, crop_width - 1)]
    wy, wx = np.float32(1.0 if fy == 1 else 0.75), np.float32(1.0 if fx == 1 else 0.75)
    own = line[rows * crop_width + cols]
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    flat_clear, pixels = clear.reshape(-1), plate.reshape(-1, 3)
    for dy, other_y in enumerate(lines_y):
        for dx, other_x in enumerate(lines_x):
            blend = wx * own + (1 - wx) * line[rows * crop_width + other_x]
            if fy == 2:
                blend = wy * blend + (1 - wy) * (wx * line[other_y * crop_width + cols]
                                                 + (1 - wx) * line[other_y * crop_width + other_x])
            pixel = ((y0 + rows) * fy + dy) * clear.shape[1] + (x0 + cols) * fx + dx
            luma = np.take(pixels, pixel, axis=0) @ weights
            value = np.minimum(np.maximum(blend.real * luma + blend.imag, least), most)
            flat_clear[pixel] = np.clip(value + 0.5, 0, 255).astype(np.uint8)


def _fill_holes(matte: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Make solid every part-transparent region that solid subject walls in and that holds no open screen;
    return the matte and where it was filled (H×W uint8 mask, None when nothing was).

    A colour-difference key cannot tell a navy patch on a blue screen from blue showing through thin hair:
    both are screen-like colours. Where they lie tells them apart: screen seen through the subject is always
    joined to open screen somewhere, a patch is not. Found on the matte shrunk to 4×4 blocks (a block is "not
    solid" if any of it is, so narrow links to open screen are kept; "open" when it is, on average, all but
    clear, so a few clear pixels inside a patch do not count), then filled at full size; pixels only rise.
    """
    height, width = matte.shape
    grid = (width // _HOLE_BLOCK, height // _HOLE_BLOCK)
    if grid[0] < 3 or grid[1] < 3:
        return matte, None
    blocks = matte[:grid[1] * _HOLE_BLOCK, :grid[0] * _HOLE_BLOCK]
    for _ in range(2):   # two halvings: OpenCV's 2× area path is several times faster than its 4× one
        blocks = cv2.resize(blocks, (blocks.shape[1] // 2, blocks.shape[0] // 2), interpolation=cv2.INTER_AREA)
    count, labels = cv2.connectedComponents(cv2.inRange(blocks, 0, 254), connectivity=8)
    open_labels = labels[blocks <= _OPEN_LEVEL]
    if count <= 1 or open_labels.size == 0:   # nothing loose, or no open screen at all to tell holes by
        return matte, None
    joined = np.zeros(count, bool)
    joined[open_labels] = True
    joined[0] = True                          # label 0 is the solid subject itself
    if joined.all():
        return matte, None
    blocks = (~joined).astype(np.uint8)[labels] * np.uint8(255)
    x, y, w, h = cv2.boundingRect(blocks)     # the work at full size is confined to the holes' box
    box = slice(y * _HOLE_BLOCK, (y + h) * _HOLE_BLOCK), slice(x * _HOLE_BLOCK, (x + w) * _HOLE_BLOCK)
    holes = np.zeros_like(matte)
    holes[box] = cv2.resize(blocks[y:y + h, x:x + w], (w * _HOLE_BLOCK, h * _HOLE_BLOCK),
                            interpolation=cv2.INTER_NEAREST)
    cv2.bitwise_and(holes[box], cv2.inRange(matte[box], 0, 254), dst=holes[box])   # only what was not solid
    filled = matte.copy()
    cv2.max(filled[box], holes[box], dst=filled[box])
    return filled, holes


def _mean(one: np.ndarray, two: np.ndarray) -> np.ndarray:
    return cv2.addWeighted(one, 0.5, two, 0.5, 0.0)


def _others(planes: list[np.ndarray], a: int, b: int, balance: float | None) -> np.ndarray:
    """What the key channel is measured against: the larger of the other two, or their ``balance`` mix."""
    if balance is None:
        return cv2.max(planes[a], planes[b])
    return cv2.addWeighted(planes[a], balance, planes[b], 1.0 - balance, 0.0)


def _difference(planes: list[np.ndarray], k: int, others: np.ndarray) -> np.ndarray:
    """The key channel less the others (uint8). It saturates at 0: at or below 0 is solid subject, however far."""
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
    points = cv2.findNonZero(cv2.inRange(matte, 1, 254))     # several times faster than np.flatnonzero
    if points is None:
        return
    points = points.reshape(-1, 2)
    index = points[:, 1] * matte.shape[1] + points[:, 0]
    alpha = matte.reshape(-1)[index].astype(np.float32) * np.float32(1.0 / 255.0)
    behind = 1.0 - alpha
    if light is not None:
        behind *= light.reshape(-1)[index] * np.float32(1.0 / reference)
    for c, plane in enumerate(planes):
        flat = plane.reshape(-1)
        unmixed = (flat[index] - behind * np.float32(255.0 * rgb[c])) / alpha
        flat[index] = np.clip(unmixed + 0.5, 0, 255).astype(np.uint8)


def _despill(planes: list[np.ndarray], k: int, a: int, b: int, mode: Despill, spill_luma: float,
             matte: np.ndarray) -> None:
    """Hold the key channel down to the others (in place, uint8); optionally give the lost light back as grey."""
    if mode == "limit":
        ceiling = cv2.max(planes[a], planes[b])
    else:
        ceiling = _mean(planes[a], planes[b])
        if mode == "edge":
            # average in the band within ~1.7 % of the frame's height of anything not solid, limit elsewhere
            reach = max(_SPILL_BAND, matte.shape[0] // 60)
            small = cv2.resize(cv2.inRange(matte, 0, 254), None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
            near = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach // 2 + 1,) * 2))
            band = cv2.resize(near, (matte.shape[1], matte.shape[0]), interpolation=cv2.INTER_NEAREST)
            ceiling = cv2.max(ceiling, cv2.bitwise_and(cv2.max(planes[a], planes[b]), cv2.bitwise_not(band)))
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
