"""Lens and light: defocus of the set by depth, light wrap of the set onto the actors, motion blur of elements.

These are what make a keyed actor sit *in* a generated set rather than on it: the set goes soft away from the
focus plane as a real lens would, the set's light spills a little round the actor's edges, and fast
elements (sparks, rain, debris) smear along their motion as a shutter would smear them.

Costs follow the house pattern: :func:`defocus` runs once per shot on the still set; :func:`light_wrap` and
:func:`motion_blur` run per frame and do their blurs on shrunken copies, touching full-size pixels only
inside the box where they change something.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from soundstage.comp.placement import Box, content_box
from soundstage.errors import MediaError

_MAX_BLUR = 0.025         # defocus amount 1: a blur radius of 2.5% of the picture's height at the far end
_DEFOCUS_LEVELS = 5       # blur radii 0, ¼, ½, ¾ and all of the largest; each pixel blends its two nearest
_FLOW_SHRINK = 4          # motion blur measures motion on a copy this much smaller
_HALF_SIZE_SMEAR = 16     # smears at least this long (pixels) are gathered at half size


def _check_rgb(image: np.ndarray, what: str) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise MediaError(f"{what} must be an H×W×3 uint8 RGB image, got {image.shape} {image.dtype}")


def _check_matte(matte: np.ndarray, shape: tuple[int, ...], what: str = "matte") -> np.ndarray:
    if matte.ndim == 3 and matte.shape[2] == 1:
        matte = matte[..., 0]
    if matte.ndim != 2 or matte.dtype != np.uint8 or matte.shape != shape[:2]:
        raise MediaError(f"{what} must be an H×W uint8 matte the size of the picture, got {matte.shape} {matte.dtype}")
    return matte


# ------------------------------------------------------------------------------------------------ defocus


def defocus(set_rgb: np.ndarray, depth: np.ndarray, *, focus: float, amount: float) -> np.ndarray:
    """Lens blur of a still set by depth: sharp at depth ``focus``, softer the farther from it (H×W×3 uint8,
    or float32 scene-linear light, which is what a lens blurs: see ``comp.colour.defocused``).

    ``depth`` is 0 = near … 1 = far, linear in disparity (see :mod:`soundstage.comp.depth`), so the circle
    of confusion is simply proportional to |depth − focus|; ``amount`` 1 makes it 2.5% of the picture's
    height at a full depth away from focus, 0 returns the set unchanged. A disc (not a Gaussian) gives a
    lens's bokeh. Each blur level only gathers pixels at least that out of focus, so a sharp subject does
    not bleed a halo into the soft background behind it. Run it once per shot, before the camera move
    (~0.5 s for a 1080p shot's 2304×1296 set: five blur levels in float32).
    """
    linear = set_rgb.dtype == np.float32
    if not linear:
        _check_rgb(set_rgb, "the set")
    if depth.ndim != 2 or depth.shape != set_rgb.shape[:2]:
        raise MediaError(f"depth must be H×W like the set ({set_rgb.shape[1]}×{set_rgb.shape[0]}), got {depth.shape}")
    if not 0.0 <= focus <= 1.0:
        raise ValueError(f"focus must be between 0 and 1, got {focus:g}")
    if amount < 0:
        raise ValueError(f"defocus amount must be 0 or more, got {amount:g}")
    height = set_rgb.shape[0]
    largest = amount * _MAX_BLUR * height
    if largest < 0.5:
        return set_rgb
    coc = np.abs(depth.astype(np.float32) - np.float32(focus)) * np.float32(largest)   # blur radius, px
    radii = [largest * i / (_DEFOCUS_LEVELS - 1) for i in range(_DEFOCUS_LEVELS)]
    picture = set_rgb.astype(np.float32)
    result = np.zeros_like(picture)
    for index, radius in enumerate(radii):
        # Tent weights over the levels: a pixel with a blur radius between two levels blends those two.
        spacing = radii[1] - radii[0]
        share = np.maximum(1.0 - np.abs(coc - np.float32(radius)) / np.float32(spacing), 0.0)
        if index == len(radii) - 1:
            share = np.where(coc >= radius, 1.0, share).astype(np.float32)
        if not share.any():
            continue
        level = picture if radius < 0.5 else _disc_blur(picture, coc >= radius - spacing, radius)
        result += level * share[..., None]
    return result if linear else np.clip(result + 0.5, 0, 255).astype(np.uint8)


def _disc_blur(picture: np.ndarray, gather: np.ndarray, radius: float) -> np.ndarray:
    """A normalised disc blur of ``picture`` (float32) over the pixels in ``gather`` only.

    Large discs are done on a shrunken copy (to a disc of ~6 pixels) and scaled back: the result is soft
    anyway, and a 30-pixel disc at full size would cost seconds.
    """
    height, width = picture.shape[:2]
    shrink = max(1.0, radius / 6.0)
    size = (max(1, round(width / shrink)), max(1, round(height / shrink)))
    weight: np.ndarray = gather.astype(np.float32)
    colour: np.ndarray = picture * weight[..., None]
    if shrink > 1:
        colour = cv2.resize(colour, size, interpolation=cv2.INTER_AREA)
        weight = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    r = radius / shrink
    extent = math.ceil(r)
    yy, xx = np.mgrid[-extent : extent + 1, -extent : extent + 1].astype(np.float32)
    disc = np.clip(r + 0.5 - np.hypot(xx, yy), 0.0, 1.0)          # an antialiased disc
    disc /= disc.sum()
    colour = cv2.filter2D(colour, -1, disc, borderType=cv2.BORDER_REFLECT)
    weight = cv2.filter2D(weight, -1, disc, borderType=cv2.BORDER_REFLECT)
    level: np.ndarray = colour / np.maximum(weight, 1e-4)[..., None]
    # Where no pixel that blurry is near, the level is undefined; the tent weights never pick it there
    # except at its own pixels, which are in ``gather``, so falling back to the picture is safe.
    level = np.where((weight > 1e-3)[..., None], level, cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
                     if shrink > 1 else picture)
    if shrink > 1:
        level = cv2.resize(level, (width, height), interpolation=cv2.INTER_LINEAR)
    return level


# ------------------------------------------------------------------------------------------------ light wrap


def light_wrap(fg_rgb: np.ndarray, alpha: np.ndarray, bg_rgb: np.ndarray, *, radius: int,
               strength: float, in_place: bool = False) -> np.ndarray:
    """The set's light bleeding onto the actor's edge from outside in: a new straight foreground (uint8).

    The standard recipe: blur the background, and weight it by the blurred *inverse* matte, which is 0 deep
    inside the subject and rises toward its edge; screen that onto the foreground. The foreground stays
    straight (unpremultiplied): the ``over`` that follows multiplies the wrap by alpha, as the recipe wants.
    ``radius`` (pixels) is how far in the light reaches; ``strength`` 0 returns ``fg_rgb`` itself, 1 the
    full wrap. Pixels outside the matte (alpha 0) are never changed. ``in_place``: ``fg_rgb`` itself is
    wrapped and returned (a comp's own key, spared a whole-frame copy), and near the edge its pixels outside
    the matte, which the ``over`` never shows, may change too.

    Per frame: the blurs run on a copy 2–4× smaller, and full-size work is confined to the box around the
    matte's edge where the wrap is visible. On a frame whose sides are not whole multiples of 4, the last
    one to three rows and columns get no wrap.
    """
    linear = fg_rgb.dtype == np.float32 and bg_rgb.dtype == np.float32   # a colour-managed comp's working space
    if not linear:
        _check_rgb(fg_rgb, "the foreground")
        _check_rgb(bg_rgb, "the background")
    if bg_rgb.shape != fg_rgb.shape:
        raise MediaError(f"light wrap needs foreground and background of one size, got {fg_rgb.shape[1]}×"
                         f"{fg_rgb.shape[0]} and {bg_rgb.shape[1]}×{bg_rgb.shape[0]}")
    matte = _check_matte(alpha, fg_rgb.shape)
    if radius < 1:
        raise ValueError(f"light wrap radius must be at least 1 pixel, got {radius}")
    if strength < 0:
        raise ValueError(f"light wrap strength must be 0 or more, got {strength:g}")
    if strength == 0:
        return fg_rgb
    height, width = matte.shape
    shrink = 4 if radius >= 16 else 2 if radius >= 6 else 1
    cols, rows = max(1, width // shrink), max(1, height // shrink)
    sigma = max(radius / (2.0 * shrink), 0.5)
    # The matte is shrunk and its inverse blurred over the actor's box and the blur's reach round it only:
    # beyond, the inverse is all 255 and its blur 255, as on the whole frame (the blur's kernel is 3σ wide).
    shrunk = shrink_matte(matte, shrink, pad=math.ceil(3 * sigma) + 2)
    if shrunk is None:
        return fg_rgb
    small_matte, (mx0, my0) = shrunk
    outside = cv2.GaussianBlur(cv2.bitwise_not(small_matte), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    # Only where there is subject and the outside's light reaches: the box around the matte's edge.
    reach = cv2.bitwise_and(cv2.threshold(outside, 1, 255, cv2.THRESH_BINARY)[1],
                            cv2.threshold(small_matte, 0, 255, cv2.THRESH_BINARY)[1])
    bx, by, bw, bh = cv2.boundingRect(reach)
    if bw == 0 or bh == 0:
        return fg_rgb
    bx, by = bx + mx0, by + my0          # in cells of the whole frame (the subject is ≥ pad cells inside the box)
    sx0, sy0, sx1, sy1 = max(0, bx - 1), max(0, by - 1), min(cols, bx + bw + 1), min(rows, by + bh + 1)
    outside = outside[sy0 - my0:sy1 - my0, sx0 - mx0:sx1 - mx0]
    # The background's light, blurred, on the box and the blur's reach around it only.
    margin = math.ceil(3 * sigma) + 1
    lx0, ly0, lx1, ly1 = max(0, sx0 - margin), max(0, sy0 - margin), min(cols, sx1 + margin), min(rows, sy1 + margin)
    # Sampled (a 2×2 mean in each cell), not averaged over the whole cell: the blur that follows is 3σ ≥ 1.5
    # cells wide and hides the difference, and it is 8× cheaper.
    near = bg_rgb[ly0 * shrink : ly1 * shrink, lx0 * shrink : lx1 * shrink]
    small_bg = cv2.resize(near, (lx1 - lx0, ly1 - ly0), interpolation=cv2.INTER_LINEAR) if shrink > 1 else near
    light = cv2.GaussianBlur(small_bg, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    light = light[sy0 - ly0 : sy1 - ly0, sx0 - lx0 : sx1 - lx0]
    weight = cv2.cvtColor(outside, cv2.COLOR_GRAY2RGB)
    wrap = cv2.multiply(light, weight.astype(light.dtype), scale=min(strength, 4.0) / 255.0)
    x0, y0, x1, y1 = sx0 * shrink, sy0 * shrink, sx1 * shrink, sy1 * shrink
    if shrink > 1:
        wrap = cv2.resize(wrap, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    region = fg_rgb[y0:y1, x0:x1]
    # Screen: fg + wrap·(1 − fg), never past white (fg + wrap first would clip at white, then take fg·wrap off
    # and darken a bright edge); in linear light, light adds (no white to stop at).
    light = wrap if linear else cv2.multiply(wrap, cv2.bitwise_not(region), scale=1.0 / 255.0)
    if in_place:                  # a comp's key: what lies outside its matte is never shown, so no mask
        cv2.add(region, light, dst=region)
        return fg_rgb
    result = fg_rgb.copy()
    cv2.copyTo(cv2.add(region, light), matte[y0:y1, x0:x1], result[y0:y1, x0:x1])
    return result


def shrink_matte(matte: np.ndarray, factor: int, *, pad: int = 0) -> tuple[np.ndarray, tuple[int, int]] | None:
    """The matte's ``factor`` × ``factor`` block averages over its non-zero box grown by ``pad`` cells, and the
    box's first cell (column, row); None for an empty matte. Cells are whole (the frame's last partial ones
    are left out), so each is the exact average a whole-frame shrink gives it, at the cost of the box alone."""
    cols, rows = matte.shape[1] // factor, matte.shape[0] // factor
    actor = content_box(matte[:rows * factor, :cols * factor], threshold=0)
    if actor is None or not cols or not rows:
        return None
    x0, y0 = max(0, actor[0] // factor - pad), max(0, actor[1] // factor - pad)
    x1 = min(cols, -(-(actor[0] + actor[2]) // factor) + pad)
    y1 = min(rows, -(-(actor[1] + actor[3]) // factor) + pad)
    return _shrink(matte[y0 * factor:y1 * factor, x0 * factor:x1 * factor], factor), (x0, y0)


def _shrink(image: np.ndarray, factor: int) -> np.ndarray:
    """Block averages over factor × factor cells (the image's sides are whole multiples of ``factor``)."""
    if factor == 1:
        return image
    return cv2.resize(image, (image.shape[1] // factor, image.shape[0] // factor), interpolation=cv2.INTER_AREA)


# ------------------------------------------------------------------------------------------------ motion blur


def motion_blur(rgba: np.ndarray, previous_rgba: np.ndarray, *, shutter: float = 0.5) -> np.ndarray:
    """Smear an element frame along its motion since the previous frame, as a shutter would (H×W×4 uint8).

    ``shutter`` is the fraction of the frame interval the shutter is open (0.5 = a 180° shutter; 0 returns
    ``rgba`` itself); the exposure is centred on the frame. Motion is dense optical flow (DIS) measured on
    a 4× smaller copy of alpha and premultiplied brightness, spread a little beyond the element's edge so the
    smear reaches outside it; the blur gathers 2–16 samples along each pixel's motion by repeated
    doubling (one ``cv2.remap`` per doubling) in premultiplied space, so colour does not darken at the
    smeared edges and the total light is kept. Smears of 16 pixels or more are gathered at half size (they
    hide that detail anyway), and only the box the element and its smear cover is touched. Straight RGBA
    in, straight RGBA out: uint8, or float32 (colour in linear light, alpha 0..1), which is what a shutter
    integrates (see ``comp.colour.motion_blurred``); the motion is measured on 8-bit copies either way.
    """
    floating = rgba.dtype == np.float32
    for image, what in ((rgba, "element frame"), (previous_rgba, "previous element frame")):
        if image.ndim != 3 or image.shape[2] != 4 or image.dtype != rgba.dtype or image.dtype not in (np.uint8,
                                                                                                      np.float32):
            raise MediaError(f"{what} must be H×W×4 uint8 (or float32) straight RGBA, got {image.shape} {image.dtype}")
    if rgba.shape != previous_rgba.shape:
        raise MediaError(f"element frames differ in size: {rgba.shape[1]}×{rgba.shape[0]} and "
                         f"{previous_rgba.shape[1]}×{previous_rgba.shape[0]}")
    if not 0.0 <= shutter <= 1.0:
        raise ValueError(f"shutter must be between 0 and 1, got {shutter:g}")
    if shutter == 0:
        return rgba
    height, width = rgba.shape[:2]
    velocity = _element_motion(_eight_bit(rgba), _eight_bit(previous_rgba)) if floating else \
        _element_motion(rgba, previous_rgba)
    if velocity is None:
        return rgba
    flow, weight = velocity
    spread = float(np.sqrt((flow ** 2).sum(axis=2)).max()) * shutter      # longest smear, full-size pixels
    if spread < 0.75:
        return rgba
    # The box the smear can touch: the element (now) grown by the longest smear.
    grow = math.ceil(spread / _FLOW_SHRINK) + 1
    box = cv2.boundingRect(cv2.dilate((weight > 0).astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)))
    x0, y0 = max(0, box[0] * _FLOW_SHRINK), max(0, box[1] * _FLOW_SHRINK)
    x1, y1 = min(width, (box[0] + box[2]) * _FLOW_SHRINK), min(height, (box[1] + box[3]) * _FLOW_SHRINK)
    if x1 <= x0 or y1 <= y0:
        return rgba

    samples = 2 ** min(4, max(1, math.ceil(math.log2(max(spread / 1.5, 2.0)))))
    # A long smear hides detail along the motion anyway: gather it at half size (the blur across the motion
    # grows by a pixel), which is 4× less to move per sample.
    shrink = 2 if spread >= _HALF_SIZE_SMEAR else 1
    box_w, box_h = (x1 - x0) // shrink, (y1 - y0) // shrink
    x1, y1 = x0 + box_w * shrink, y0 + box_h * shrink
    if box_w < 2 or box_h < 2:
        return rgba
    per = _FLOW_SHRINK / shrink
    # Flow inside the box at the working size, in working pixels per frame (bilinear, pixel centres aligned).
    matrix = np.array([[1.0 / per, 0, (0.5 / per - 0.5) + x0 / _FLOW_SHRINK],
                       [0, 1.0 / per, (0.5 / per - 0.5) + y0 / _FLOW_SHRINK]])
    motion: np.ndarray = cv2.warpAffine(flow, matrix, (box_w, box_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_REPLICATE)
    if shrink > 1:
        motion = motion * np.float32(1.0 / shrink)
    grid = _pixel_grid(box_w, box_h)

    part = rgba[y0:y1, x0:x1]
    premultiplied = part * np.concatenate([part[..., 3:], part[..., 3:], part[..., 3:], np.ones_like(part[..., 3:])],
                                          axis=2) if floating else cv2.cvtColor(part, cv2.COLOR_RGBA2mRGBA)
    if shrink > 1:
        premultiplied = cv2.resize(premultiplied, (box_w, box_h), interpolation=cv2.INTER_AREA)

    def shifted(image: np.ndarray, by: float) -> np.ndarray:
        """``image`` sampled at x + by·motion(x)."""
        map1, map2 = cv2.convertMaps(cv2.scaleAdd(motion, by, grid), None, cv2.CV_16SC2)  # type: ignore[call-overload]
        return cv2.remap(image, map1, map2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    # Samples at offsets −τ·v for τ evenly across [−shutter/2, shutter/2]: start at the first, then double.
    # Pixel x sees at time τ what was at x − τ·v.
    blurred = shifted(premultiplied, shutter / 2 * (1 - 1 / samples))
    step = shutter / samples
    count = 1
    while count < samples:
        blurred = cv2.addWeighted(blurred, 0.5, shifted(blurred, -step * count), 0.5, 0.0)
        count *= 2
    if shrink > 1:
        blurred = cv2.resize(blurred, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    result = rgba.copy()
    if floating:
        alpha = blurred[..., 3:]
        result[y0:y1, x0:x1, :3] = np.divide(blurred[..., :3], alpha, out=np.zeros_like(blurred[..., :3]),
                                             where=alpha > 1e-6)
        result[y0:y1, x0:x1, 3] = alpha[..., 0]
    else:
        result[y0:y1, x0:x1] = cv2.cvtColor(blurred, cv2.COLOR_mRGBA2RGBA)
    return result


def _eight_bit(rgba: np.ndarray) -> np.ndarray:
    """A float frame's 8-bit stand-in for measuring motion: alpha, and colour clipped at 1."""
    return np.rint(np.clip(rgba, 0.0, 1.0) * 255).astype(np.uint8)


@functools.lru_cache(maxsize=4)
def _pixel_grid(width: int, height: int) -> np.ndarray:
    """Each pixel's own (x, y), H×W×2 float32: the identity map that motion offsets are added to."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    grid = np.dstack([xs, ys])
    grid.flags.writeable = False
    return grid


def _element_motion(rgba: np.ndarray, previous_rgba: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-pixel motion (full-size pixels per frame, on the 4× smaller grid) and the element's coverage there.

    DIS flow from this frame back to the previous one, on alpha mixed with premultiplied brightness, then
    spread by a normalised blur weighted by coverage: empty pixels next to the element take its motion
    (so the smear can leave the element's outline), empty pixels far from it none.
    """
    height, width = rgba.shape[:2]
    size = (max(8, width // _FLOW_SHRINK), max(8, height // _FLOW_SHRINK))

    def guide(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        alpha = small[..., 3]
        luma = cv2.cvtColor(small[..., :3], cv2.COLOR_RGB2GRAY)
        return cv2.addWeighted(alpha, 0.5, cv2.multiply(luma, alpha, scale=1.0 / 255.0), 0.5, 0.0), alpha

    now, coverage = guide(rgba)
    before, _ = guide(previous_rgba)
    if not coverage.any():
        return None
    flow = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    flow_to_before = flow.calc(now, before, None)  # type: ignore[call-overload]
    velocity = flow_to_before * np.float32(-_FLOW_SHRINK)     # now(x) = before(x − v): v points along the motion
    weight = coverage.astype(np.float32) * np.float32(1.0 / 255.0)
    longest = float(np.sqrt((velocity ** 2).sum(axis=2))[coverage > 0].max(initial=0.0)) / _FLOW_SHRINK
    sigma = max(1.0, longest / 2)
    spread_w = cv2.GaussianBlur(weight, (0, 0), sigma)
    spread_v = cv2.GaussianBlur(velocity * weight[..., None], (0, 0), sigma) / np.maximum(spread_w, 1e-3)[..., None]
    near = (spread_w > 0.02)[..., None]
    # Inside the element keep its own motion; around it the spread motion; far away none.
    velocity = np.where(weight[..., None] > 0.5, velocity, np.where(near, spread_v, 0.0)).astype(np.float32)
    return velocity, np.where(near[..., 0], np.maximum(weight, 1e-3), 0.0).astype(np.float32)


# ------------------------------------------------------------------------------------------------ interactive light

_LIGHT_SHRINK = 32         # the element's light is spread on a copy this much smaller (at least 16 wide)
_LIGHT_REACH = 0.12        # of the frame's width: the falloff's σ, how far on the screen an element's light reaches
_LIGHT_GAIN = 1.0          # strength 1: a surface right at the element takes its colour as light


def interactive_light(fg_rgb: np.ndarray, alpha: np.ndarray, element_rgba: np.ndarray, *, strength: float,
                      reach: float = _LIGHT_REACH) -> np.ndarray:
    """A bright element's light on the actor: the straight foreground lit by ``element_rgba``'s frame (uint8).

    The element's premultiplied colour, spread by a Gaussian as wide as ``reach`` × the frame's width, is
    the light falling on each pixel: its colour and intensity are the element's in this frame, so it
    flickers with a fire, and it falls off with distance on the screen. It is added in proportion to the
    actor's own brightness (light on a surface shows as its colour), with a floor so dark clothes still
    catch it, and only where ``alpha`` has the actor: the ``over`` that follows shows none of it elsewhere.
    """
    _check_rgb(fg_rgb, "the foreground")
    matte = _check_matte(alpha, fg_rgb.shape)
    if strength <= 0:
        return fg_rgb
    return _on_the_box(fg_rgb, matte, lights=(element_rgba,), strength=strength, reach=reach)


def light_actor(region: np.ndarray, box: Box, shape: tuple[int, int], *, relight: Relight | None = None,
                lights: Sequence[np.ndarray] = (), strength: float = 1.0, reach: float = _LIGHT_REACH) -> bool:
    """The set's key and fill (``relight``) and bright elements' light (``lights``, their H×W×4 frames, at
    ``strength``) on the actor, in place on ``region``: the uint8 foreground inside his ``box`` (x, y, w, h) of
    a frame of ``shape`` (height, width); a view into the frame will do. False: nothing changed.

    Both are smooth across him, so they are made on a grid 8× coarser over the box, folded into one gain and
    one lift there, brought up, and applied in two passes: fg·gain + lift.
    """
    height, width = shape
    x, y, w, h = box
    cols, rows = max(2, w // 8), max(2, h // 8)
    # grid points (in frame pixels) a cell apart, one beyond the box each side: its edges are interpolated too
    step_x, step_y = w / cols, h / rows
    xs = x + (np.arange(-1, cols + 1, dtype=np.float32) + 0.5) * np.float32(step_x) - 0.5
    ys = y + (np.arange(-1, rows + 1, dtype=np.float32) + 0.5) * np.float32(step_y) - 0.5
    to_grid = np.array([[1 / step_x, 0.0, 0.5 / step_x + 0.5], [0.0, 1 / step_y, 0.5 / step_y + 0.5]])

    def up(grid: np.ndarray) -> np.ndarray:
        """A grid brought up over the box's w × h pixels."""
        return cv2.warpAffine(grid, to_grid, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)

    gain = np.ones((rows + 2, cols + 2, 3), np.float32) if relight is None else relight.gain(xs, ys, box, shape)
    lift = np.zeros((rows + 2, cols + 2, 3), np.float32)
    changed = relight is not None
    for rgba in lights:
        light = _element_light(rgba, strength, reach)
        if light is None:
            continue
        sh, sw = light.shape[:2]
        to_small = np.array([[step_x * sw / width, 0.0, (x - 0.5 * step_x) * sw / width - 0.5],
                             [0.0, step_y * sh / height, (y - 0.5 * step_y) * sh / height - 0.5]])
        falling = cv2.warpAffine(light, to_small, (cols + 2, rows + 2),
                                 flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        # fg + light·(0.35 + 0.65·fg): light shows as the surface's colour, with a floor for dark clothes
        lifted = 1.0 + falling * np.float32(0.65 / 255)
        gain *= lifted
        lift = lift * lifted + falling * np.float32(0.35)
        changed = True
    if not changed:
        return False
    # 128 = unchanged, up to ×2: only a bright key's side right at a full-strength fire would go past (where
    # all but the darkest clothes burn to white anyway)
    cv2.multiply(region, up(np.clip(gain * 128.0 + 0.5, 0, 255).astype(np.uint8)), dst=region, scale=1.0 / 128)
    if float(lift.max()) >= 0.5:
        cv2.add(region, up(np.clip(lift + 0.5, 0, 255).astype(np.uint8)), dst=region)
    return True


def _element_light(element_rgba: np.ndarray, strength: float, reach: float) -> np.ndarray | None:
    """The light an element's frame casts, on a copy 32× smaller (at least 16 wide): float32 RGB code values,
    its colour at full ``strength`` next to it; None where it casts none."""
    height, width = element_rgba.shape[:2]
    small_w = max(16, width // _LIGHT_SHRINK)
    small_size = (small_w, max(1, round(height * small_w / width)))
    # Shrunk first (every 4th pixel, then averaged), premultiplied after: the light is a wide blur, and what
    # this loses of the element's fine detail never shows in it.
    sampled = element_rgba if width < 8 * small_w else cv2.resize(element_rgba, (width // 4, height // 4),
                                                                    interpolation=cv2.INTER_NEAREST)
    element = cv2.cvtColor(cv2.resize(sampled, small_size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGBA2mRGBA)
    sigma = max(1.0, reach * small_size[0])
    # The light next to a fully lit element is its colour, whatever its size: normalised by its shape's
    # spread (blurred with it, as a fourth channel), so what flickers (its alpha, its colour) flickers in it.
    spread = element.astype(np.float32)
    spread[..., 3] = np.where(element[..., 3] > 0, np.float32(255.0), np.float32(0.0))
    light = cv2.GaussianBlur(spread, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    peak = float(light[..., 3].max())
    if peak < 0.5 or float(light[..., :3].max()) < 0.5:
        return None
    return np.ascontiguousarray(light[..., :3]) * np.float32(_LIGHT_GAIN * 255.0 * min(strength, 1.0) / peak)


def _on_the_box(fg_rgb: np.ndarray, matte: np.ndarray, **how: object) -> np.ndarray:
    """``light_actor`` over the matte's box, on a copy of the foreground (``fg_rgb`` itself if nothing changed)."""
    box = content_box(matte, threshold=0)
    if box is None:
        return fg_rgb
    x, y, w, h = box
    result = fg_rgb.copy()
    if not light_actor(result[y:y + h, x:x + w], box, matte.shape, **how):  # type: ignore[arg-type]
        return fg_rgb
    return result


def _over_box(small: np.ndarray, box: tuple[int, int, int, int], width: int, height: int) -> np.ndarray:
    """A map made at a smaller size than the width × height frame, brought up over ``box`` (x, y, w, h) only."""
    x, y, w, h = box
    sx, sy = small.shape[1] / width, small.shape[0] / height
    matrix = np.array([[sx, 0.0, (x + 0.5) * sx - 0.5], [0.0, sy, (y + 0.5) * sy - 0.5]])
    return cv2.warpAffine(small, matrix, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


# ------------------------------------------------------------------------------------------------ relight


@dataclass(frozen=True)
class Relight:
    """The set's key and fill, as gains on the actor: warmer or cooler, brighter toward the set's light and
    darker away from it (``measure`` once per shot on the set, ``apply`` per frame). Colour match moves the
    actor's overall colour; this adds the set's direction and contrast across him."""

    key: tuple[float, float, float]
    fill: tuple[float, float, float]
    light: tuple[float, float]                   # where the key comes from, frame fractions

    @classmethod
    def measure(cls, set_rgb: np.ndarray, light: tuple[float, float], *, strength: float) -> Relight:
        """The set's key (its brightest tenth) and fill (its darkest half) as tints relative to its mean, with
        their contrast, moved ``strength`` of the way from no change."""
        _check_rgb(set_rgb, "the set")
        small = cv2.resize(set_rgb, (96, max(4, round(96 * set_rgb.shape[0] / set_rgb.shape[1]))),
                           interpolation=cv2.INTER_AREA).reshape(-1, 3).astype(np.float64) + 1.0
        luma = small @ np.array([0.2126, 0.7152, 0.0722])
        order = np.argsort(luma)
        key = small[order[-max(1, len(order) // 10):]].mean(0)
        fill = small[order[:max(1, len(order) // 2)]].mean(0)
        mean = small.mean(0)

        def tint(colour: np.ndarray) -> np.ndarray:
            """Its hue against the set's mean, at the mean's brightness: a warmer or cooler gain."""
            gain = colour / mean
            return np.clip(gain / float(gain @ np.array([0.2126, 0.7152, 0.0722])), 0.75, 1.25)

        contrast = float(np.clip(key @ [0.2126, 0.7152, 0.0722] / (fill @ [0.2126, 0.7152, 0.0722]), 1.0, 4.0))
        spread = contrast ** 0.2                      # a 4:1 set gives the actor's two sides ±32%
        key_gain = 1.0 + strength * (tint(key) * spread - 1.0)
        fill_gain = 1.0 + strength * (tint(fill) / spread - 1.0)
        return cls(tuple(key_gain.tolist()), tuple(fill_gain.tolist()), light)   # type: ignore[arg-type]

    def apply(self, fg_rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """The straight foreground graded from fill (the side away from the light) to key (the side toward it),
        across the actor's bounding box on ``alpha``."""
        return _on_the_box(fg_rgb, _check_matte(alpha, fg_rgb.shape), relight=self)

    def gain(self, xs: np.ndarray, ys: np.ndarray, box: Box, shape: tuple[int, int]) -> np.ndarray:
        """The gain (1: unchanged) at frame pixels ``xs`` × ``ys`` on the actor whose ``box`` (x, y, w, h) is in a
        frame of ``shape`` (height, width): fill on his side away from the light, key on the side toward it."""
        height, width = shape
        x, y, w, h = box
        centre = np.array([x + w / 2, y + h / 2])
        toward = np.array([self.light[0] * width, self.light[1] * height]) - centre
        toward /= max(float(np.hypot(*toward)), 1e-6)
        radius = max((abs(toward[0]) * w + abs(toward[1]) * h) / 2, 1.0)     # the box's half-extent that way
        tx = ((xs - np.float32(centre[0])) * np.float32(toward[0] / radius))[None, :]
        ty = ((ys - np.float32(centre[1])) * np.float32(toward[1] / radius))[:, None]
        t = np.clip(0.5 + 0.5 * (tx + ty), 0.0, 1.0)[..., None]
        key, fill = np.array(self.key, np.float32), np.array(self.fill, np.float32)
        return (fill + (key - fill) * t).astype(np.float32)
