"""What every AI engine does to a service's pictures before they become a take, written once.

A model rarely answers with exactly what the shot asked for: another size, another frame rate, an element
without alpha. These functions bring its pixels to the request the same way in every engine, and each says
what it did in a form a take can record:

- :func:`decode_image`: a reply's bytes to RGB or RGBA ``uint8``, or an EngineReplyError naming whose bytes;
- :func:`cover_box`, :func:`fit_to_frame`, :func:`resize_record`: scale to cover the frame and crop its
  centre, never stretch; RGBA is resized premultiplied, so colour hidden under alpha 0 cannot bleed;
- :func:`luminance_alpha`: straight RGBA from an element drawn on black;
- :func:`element_pixels`: an element frame as its take keeps it: keyed by luminance, or (a cast member made on
  a chroma screen) opaque, for soundstage's keyer;
- :func:`retime`: which source frame each of the shot's frames shows, at the shot's frame rate;
- :func:`hold_still`: an element that is one picture, written as every frame;
- :func:`fit_sound`: a reply's sound as the take's 48 kHz WAV, as long as the shot (trimmed or looped as the
  picture is);
- :func:`shot_duration`, :func:`shot_fps`, :func:`frame_count`: a moving request's length, with defaults;
- :func:`one_line`, :func:`retry_after`: a service's words and its wait, for messages and retries;
- :func:`reference_words`: what an image model is told each reference image is for, by its role.

Service-specific choices (sizes a model accepts, error codes, clip lengths, workflows) stay in each engine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from soundstage.atomic import write_bytes
from soundstage.engines.base import AssetRequest, Reference
from soundstage.errors import EngineError, EngineReplyError, MediaError
from soundstage.sound import RATE, Sound, read_sound, write_bwf

DEFAULT_DURATION = 2.0   # seconds, for a moving request that names none (as the procedural engine does)
DEFAULT_FPS = 24.0
ELEMENT_PATTERN = "element_%04d.png"
RESIZE_METHOD = "centre crop, then OpenCV resize (area down, cubic up; RGBA premultiplied)"
RETIME_METHOD = "each frame shows the source frame on screen at its time; a shorter source loops"

Box = tuple[int, int, int, int]   # x, y, width, height


# ---------------------------------------------------------------------------------------------------------
# A moving request's length
# ---------------------------------------------------------------------------------------------------------


def shot_duration(request: AssetRequest) -> float:
    """Seconds the request lasts: its own, or DEFAULT_DURATION when it names none."""
    return request.duration if request.duration is not None else DEFAULT_DURATION


def shot_fps(request: AssetRequest) -> float:
    """Frames a second: the request's own, or DEFAULT_FPS when it names none."""
    return request.fps if request.fps is not None else DEFAULT_FPS


def frame_count(request: AssetRequest) -> int:
    """Frames the take holds, round(duration · fps), at least one."""
    return max(round(shot_duration(request) * shot_fps(request)), 1)


# ---------------------------------------------------------------------------------------------------------
# Pixels in
# ---------------------------------------------------------------------------------------------------------


def decode_image(data: bytes, what: str) -> np.ndarray:
    """Image bytes (PNG, JPEG, WebP…) to RGB or RGBA ``uint8``; bytes that do not decode are the sender's fault.

    ``what`` names the bytes in the error, e.g. ``"openai gpt-image-2.5-sunburst: the returned picture"``.
    Grey becomes RGB; 16-bit pictures are rounded to 8 bits.
    """
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if image is None:
        raise EngineReplyError(f"{what} does not decode as an image ({len(data)} bytes)")
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise EngineReplyError(f"{what} is a {image.dtype} picture; only 8- and 16-bit pictures are read")
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)


def has_alpha(pixels: np.ndarray) -> bool:
    """Whether a picture carries transparency: RGBA with at least one pixel not fully opaque."""
    return pixels.ndim == 3 and pixels.shape[2] == 4 and bool((pixels[..., 3] < 255).any())


# ---------------------------------------------------------------------------------------------------------
# Size
# ---------------------------------------------------------------------------------------------------------


def cover_box(src_w: int, src_h: int, width: int, height: int) -> Box:
    """The centred ``(x, y, w, h)`` of the source that, scaled, exactly fills width × height."""
    if src_w * height > width * src_h:          # the source is wider: keep its full height
        crop_w, crop_h = min(src_w, max(1, round(src_h * width / height))), src_h
    else:                                       # taller, or the same shape: keep its full width
        crop_w, crop_h = src_w, min(src_h, max(1, round(src_w * height / width)))
    return (src_w - crop_w) // 2, (src_h - crop_h) // 2, crop_w, crop_h


def _interpolation(crop_w: int, crop_h: int, width: int, height: int) -> int:
    return cv2.INTER_AREA if crop_w >= width and crop_h >= height else cv2.INTER_CUBIC


def fit_to_frame(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """The picture brought to exactly width × height: centre-cropped to that shape, then resized.

    ``uint8`` comes back ``uint8``; float pictures (values in [0, 1]) come back float32 in [0, 1]. RGBA is
    resized premultiplied: straight colour under zero alpha is arbitrary (models leave junk there), and
    resizing it as it is would bleed that junk into the soft edges.
    """
    src_h, src_w = pixels.shape[:2]
    if (src_w, src_h) == (width, height):
        return pixels
    x, y, w, h = cover_box(src_w, src_h, width, height)
    crop = np.ascontiguousarray(pixels[y : y + h, x : x + w])
    if (w, h) == (width, height):
        return crop
    interpolation = _interpolation(w, h, width, height)
    floating = crop.dtype != np.uint8
    if crop.ndim == 3 and crop.shape[2] == 4:
        full = 1.0 if floating else 255.0
        alpha = crop[..., 3:].astype(np.float32) / full
        pre = np.dstack([crop[..., :3].astype(np.float32) * (alpha / full), alpha])
        pre = np.clip(cv2.resize(pre, (width, height), interpolation=interpolation), 0.0, 1.0)
        a = pre[..., 3:]
        rgb = np.where(a > 0, pre[..., :3] / np.maximum(a, 1e-6), 0.0)
        straight = np.clip(np.dstack([rgb, a]), 0.0, 1.0)
        if floating:
            return straight.astype(np.float32)
        out: np.ndarray = (straight * 255.0 + 0.5).astype(np.uint8)
        return out
    resized = cv2.resize(crop, (width, height), interpolation=interpolation)
    return np.clip(resized, 0.0, 1.0).astype(np.float32) if floating else resized


def resize_record(src_w: int, src_h: int, width: int, height: int) -> dict[str, Any] | None:
    """What :func:`fit_to_frame` does to a src_w × src_h picture, for a take's parameters; None when nothing."""
    if (src_w, src_h) == (width, height):
        return None
    x, y, w, h = cover_box(src_w, src_h, width, height)
    if (w, h) == (width, height):
        interpolation = "none (crop only)"
    else:
        interpolation = "area" if _interpolation(w, h, width, height) == cv2.INTER_AREA else "cubic"
    return {"from": [src_w, src_h], "to": [width, height], "crop": [x, y, w, h],
            "scale": round(max(width / src_w, height / src_h), 4), "filter": interpolation,
            "method": RESIZE_METHOD}


# ---------------------------------------------------------------------------------------------------------
# Alpha
# ---------------------------------------------------------------------------------------------------------


def luminance_alpha(rgb: np.ndarray) -> np.ndarray:
    """Straight RGBA ``uint8`` from an element drawn on black: alpha = the brightest channel, colour / alpha.

    A black-screen element is in effect premultiplied over black; dividing by alpha gives the straight colour a
    compositor expects, and *over* a plate then gives back ``rgb + plate · (1 − alpha)``: the element's light
    added, the plate dimmed only where the element is dense. Takes RGB ``uint8``, or float in [0, 1] (divided
    before rounding, so faint light keeps its hue). Black is clear and colourless.
    """
    if rgb.dtype == np.uint8:
        alpha = rgb.max(axis=2)
        safe = np.maximum(alpha, 1).astype(np.float32)[..., None]
        straight = np.clip(rgb.astype(np.float32) * (255.0 / safe) + 0.5, 0, 255).astype(np.uint8)
    else:
        light = np.clip(rgb.astype(np.float32), 0.0, 1.0)
        level = light.max(axis=2)
        colour = np.where(level[..., None] > 0, light / np.where(level > 0, level, 1.0)[..., None], 0.0)
        straight = np.clip(colour * 255.0 + 0.5, 0, 255).astype(np.uint8)
        alpha = np.clip(level * 255.0 + 0.5, 0, 255).astype(np.uint8)
    straight[alpha == 0] = 0
    return np.dstack([straight, alpha])


SCREEN_ALPHA = "none: opaque on a {screen} screen, keyed by soundstage's keyer in the comp"


def element_pixels(rgb: np.ndarray, request: AssetRequest, luminance: str) -> tuple[np.ndarray, str]:
    """An element's frame as its take keeps it, and how its alpha was made (``luminance``: the engine's words
    for its luminance key). A cast member asked for on a chroma screen (``request.screen``) is kept opaque, as
    made: an opaque creature has dark parts of its own, which a luminance key would make holes, so the comp keys
    its screen with the keyer that keys the plates. Anything else is light on black, keyed here by luminance."""
    if request.screen is not None:
        return np.ascontiguousarray(rgb[..., :3]), SCREEN_ALPHA.format(screen=request.screen)
    return luminance_alpha(np.ascontiguousarray(rgb[..., :3])), luminance


# ---------------------------------------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------------------------------------


def retime(source_frames: int, source_fps: float, frames: int, fps: float) -> tuple[list[int], dict[str, Any]]:
    """Which source frame each of the shot's ``frames`` at ``fps`` shows, and a record of it for the take.

    Frame i is at i / fps seconds and shows the source frame on screen then, floor(i · source_fps / fps): at a
    higher shot rate source frames are held, at a lower one skipped, evenly either way. A source shorter than
    the shot loops from its first frame; one longer is trimmed at the end.
    """
    if source_frames < 1 or source_fps <= 0 or fps <= 0:
        raise ValueError(f"cannot retime {source_frames} frames at {source_fps:g} fps to {fps:g} fps")
    indices, looped = [], False
    for i in range(frames):
        j = math.floor(i * source_fps / fps + 1e-6)
        if j >= source_frames:
            looped, j = True, j % source_frames
        indices.append(j)
    record = {"source_frames": source_frames, "source_fps": source_fps, "frames": frames, "fps": fps,
              "method": RETIME_METHOD, "looped": looped,
              "trimmed": frames / fps < source_frames / source_fps - 1e-9,
              "retimed": abs(source_fps - fps) > 1e-6}
    return indices, record


def fit_sound(source: Path, target: Path, seconds: float, who: str) -> dict[str, Any]:
    """The sound in ``source`` (any file PyAV reads) written to ``target`` as 48 kHz 24-bit WAV, ``seconds``
    long: trimmed at the end, or looped from its start where shorter, as :func:`retime` does the picture.

    Returns what was done, for the take; a sound that does not decode is an EngineReplyError naming ``who``.
    """
    try:
        heard = read_sound(source)
    except MediaError as exc:
        raise EngineReplyError(f"{who}: the sound in the reply cannot be read ({exc.message})") from None
    count = max(round(seconds * RATE), 1)
    samples = heard.sound.samples
    if samples.shape[0] == 0:
        raise EngineReplyError(f"{who}: the sound in the reply is empty")
    looped = samples.shape[0] < count
    fitted = np.resize(samples, (count, samples.shape[1])) if looped else samples[:count]
    write_bwf(target, Sound(np.ascontiguousarray(fitted, dtype=np.float32)), description=f"{who} sound")
    return {"source_rate": heard.rate, "source_channels": heard.channels, "source_codec": heard.codec,
            "source_seconds": round(heard.sound.seconds, 6), "seconds": count / RATE, "rate": RATE, "bits": 24,
            "looped": looped, "trimmed": samples.shape[0] > count, "converted": heard.notes}


def has_sound(path: Path) -> bool:
    """Whether a reply's file has an audio stream at all (a model asked for sound may still send none)."""
    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except (av.error.FFmpegError, OSError):
        return False


def hold_still(rgba: np.ndarray, out_dir: Path, count: int) -> tuple[Path, ...]:
    """An element that is one picture, held: encoded once, written atomically as each of ``count`` frames."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    if not ok:
        raise EngineError("could not encode the element as PNG")
    data = encoded.tobytes()
    files = []
    for i in range(count):
        path = Path(out_dir) / (ELEMENT_PATTERN % i)
        write_bytes(path, data)
        files.append(path)
    return tuple(files)


# ---------------------------------------------------------------------------------------------------------
# A service's words
# ---------------------------------------------------------------------------------------------------------


def one_line(text: object, limit: int = 300) -> str:
    """A service's message as one line of at most ``limit`` characters, for an error that prints on one line."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds a reply asks us to wait, from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date).

    None when it asks nothing, or says something that is not a time; a date in the past is 0.
    """
    if not headers:
        return None
    said = {str(name).lower(): str(value).strip() for name, value in headers.items()}
    millis = _seconds(said.get("retry-after-ms", ""))
    if millis is not None:
        return millis / 1000.0
    value = said.get("retry-after", "")
    seconds = _seconds(value)
    if seconds is not None or not value:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:         # "-0000": UTC, with no claim about the sender's zone
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _seconds(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return max(number, 0.0) if math.isfinite(number) else None


#: What an image model is told each reference is for (sent to the model, not shown to people).
_ROLE_WORDS = {
    "subject": "Reference image {n}: the subject. Draw this same character or creature: keep its shape, "
               "face, colours and markings.",
    "style": "Reference image {n}: the style. Match its look, palette and rendering, not its content.",
    "set": "Reference image {n}: the location. This is the same place, so keep its architecture, layout, "
           "light and palette.",
}


def reference_words(references: tuple[Reference, ...] | list[Reference]) -> str:
    """One line per reference image, in the order they are sent, saying what each is for."""
    return "\n".join(_ROLE_WORDS[r.role].format(n=n) for n, r in enumerate(references, 1))
