"""OpenEXR stills for finishing: half-float, scene-linear, premultiplied RGBA.

Finishing EXRs are scene-linear by convention, and EXR's own convention is premultiplied (associated)
alpha. An 8-bit frame is display-referred sRGB with straight alpha, so writing one decodes the sRGB
transfer curve (IEC 61966-2-1) to linear light, keeping the sRGB/Rec.709 primaries, and multiplies colour by
alpha. A float32 frame is already scene-linear (a colour-managed comp's working space) and is kept as it is,
values above 1.0 included. Either way the file says what it holds: ``chromaticities`` (the primaries and
white), ``colorInteropID`` (the OCIO interop id, e.g. ``lin_ap1_scene`` for ACEScg) and ``oiio:ColorSpace``
(the OCIO name), so any OCIO tool opens it in the right space. Reading returns the stored values as they are.

EXR needs the optional ``OpenEXR`` package (``pip install soundstage[exr]``); it is imported only when an
EXR is read or written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Literal

import numpy as np

from soundstage.atomic import atomic_path
from soundstage.errors import MediaError, install_hint

Compression = Literal["zip", "piz", "dwaa", "none"]
HALF_MAX = 65504.0       # the largest finite half float: brighter values are held there, not turned to inf


@dataclass(frozen=True, slots=True)
class ExrSpace:
    """What an EXR's pixels are, written into its header: an OCIO name, its interop id and chromaticities."""

    name: str
    interop: str
    chromaticities: tuple[float, ...] | None = None


# What an 8-bit sRGB frame becomes once its transfer curve is decoded: linear light with Rec.709 primaries.
LINEAR_REC709 = ExrSpace("Linear Rec.709 (sRGB)", "lin_rec709_scene",
                         (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290))


def require_openexr(path: Path) -> ModuleType:
    try:
        import OpenEXR
    except ImportError:
        raise MediaError("writing or reading EXR needs the OpenEXR package", path=path,
                         hint=install_hint("exr")) from None
    return OpenEXR


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """The sRGB decoding curve on values in 0–1 (float32 out): linear light for compositing and EXR."""
    values = np.asarray(values, dtype=np.float32)
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4).astype(np.float32)


@cache
def _premultiplied_table() -> np.ndarray:
    """Half floats indexed by ``alpha << 8 | code``: the linear value of sRGB ``code`` times alpha.

    One 128 KB table turns decode + premultiply + convert into a single gather, with no float32 frame.
    """
    linear = srgb_to_linear(np.arange(256) / 255.0)
    alpha = np.arange(256, dtype=np.float32)[:, None] / 255.0
    return (alpha * linear[None, :]).astype(np.float16).ravel()


@cache
def _alpha_table() -> np.ndarray:
    return (np.arange(256, dtype=np.float32) / 255.0).astype(np.float16)


def exr_pixels(frame: np.ndarray) -> np.ndarray:
    """Straight sRGB uint8 RGB(A) → scene-linear, premultiplied half-float RGB(A), as EXR stores it."""
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ValueError(f"frame is {frame.shape} {frame.dtype}; EXR writing expects H×W×3 or H×W×4 uint8")
    table = _premultiplied_table()
    height, width, channels = frame.shape
    # each channel's code beside its pixel's alpha, read as one little-endian uint16: alpha << 8 | code
    pairs = np.empty((height, width, channels, 2), np.uint8)
    pairs[..., 0] = frame
    pairs[..., 1] = frame[..., 3:4] if channels == 4 else 255
    out = table.take(pairs.view("<u2").ravel()).reshape(height, width, channels)
    if channels == 4:
        out[..., 3] = _alpha_table().take(frame[..., 3])
    return out


_COMPRESSION_NAMES = {"zip": "ZIP_COMPRESSION", "piz": "PIZ_COMPRESSION", "dwaa": "DWAA_COMPRESSION",
                      "none": "NO_COMPRESSION"}


def encode_exr(target: Path, frame: np.ndarray, *, fps: Fraction | None = None,
               compression: Compression = "zip", space: ExrSpace | None = None) -> None:
    """Write one frame to ``target`` (not atomically: callers write into a temporary place).

    ``frame``: straight sRGB uint8 (tagged :data:`LINEAR_REC709`), or scene-linear float32 in ``space``.
    """
    openexr = require_openexr(target)
    if openexr.global_thread_count() == 0:            # the binding starts single-threaded: ZIP is ~1.7× faster
        openexr.set_global_thread_count(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                        else os.cpu_count() or 1)
    if frame.dtype == np.uint8:
        pixels, space = exr_pixels(frame), LINEAR_REC709
    elif space is None:
        raise ValueError("a float frame needs the space it is in, to be said in the EXR")
    else:
        pixels = np.clip(frame, -HALF_MAX, HALF_MAX).astype(np.float16)
    header = {"compression": getattr(openexr, _COMPRESSION_NAMES[compression]), "type": openexr.scanlineimage,
              "colorInteropID": space.interop, "oiio:ColorSpace": space.name}
    if space.chromaticities is not None:
        header["chromaticities"] = tuple(float(v) for v in space.chromaticities)
    if fps is not None:
        header["framesPerSecond"] = Fraction(fps)
    channels = "RGBA" if pixels.shape[2] == 4 else "RGB"
    try:
        with openexr.File(header, {channels: pixels}) as exr:
            exr.write(str(target))
    except RuntimeError as exc:
        raise MediaError(f"could not be written as EXR ({exc})", path=target) from None


def write_exr(path: str | Path, frame: np.ndarray, *, compression: Compression = "zip",
              space: ExrSpace | None = None) -> None:
    """Write a straight sRGB uint8 RGB(A) still as a linear, premultiplied half-float EXR, or a scene-linear
    float32 one in ``space`` as it is, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        encode_exr(tmp, frame, compression=compression, space=space)


def exr_space(path: str | Path) -> dict[str, object]:
    """The colour an EXR's header declares: ``colorInteropID``, ``oiio:ColorSpace``, ``chromaticities``."""
    path = Path(path)
    openexr = require_openexr(path)
    try:
        with openexr.File(str(path), header_only=True) as exr:     # (its header empties when it closes)
            header = exr.header()
            return {key: header[key] for key in ("colorInteropID", "oiio:ColorSpace", "chromaticities")
                    if key in header}
    except RuntimeError as exc:
        raise MediaError(f"not a readable EXR ({exc})", path=path) from None


def read_exr(path: str | Path) -> np.ndarray:
    """An EXR's RGB(A) channels as float32 H×W×3 or H×W×4, linear and premultiplied as stored."""
    path = Path(path)
    openexr = require_openexr(path)
    if not path.is_file():
        raise MediaError("no such file", path=path)
    try:
        with openexr.File(str(path), separate_channels=True) as exr:
            channels = exr.channels()
            names = [name for name in ("R", "G", "B", "A") if name in channels]
            if names[:3] != ["R", "G", "B"]:
                raise MediaError(f"has no RGB channels (it has {', '.join(sorted(channels))})", path=path)
            return np.dstack([channels[name].pixels.astype(np.float32) for name in names])
    except RuntimeError as exc:
        raise MediaError(f"not a readable EXR ({exc})", path=path) from None
