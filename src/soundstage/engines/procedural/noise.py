"""Small numeric tools shared by the sets and the elements: seeded streams, fractal noise, mixing."""

from __future__ import annotations

import functools
import zlib

import cv2
import numpy as np

from soundstage.errors import EngineError

F32 = np.float32
Array = np.ndarray
RGB = tuple[float, float, float]

_MASK64 = (1 << 64) - 1


def _rng(seed: int, key: str) -> np.random.Generator:
    """One independent stream per part, so adding fog to a prompt never moves a mountain."""
    return np.random.default_rng([seed & _MASK64, zlib.crc32(key.encode())])


def _hash01(seed: int, *keys: Array) -> Array:
    """Uniform [0, 1) floats from integer keys (splitmix64): random per particle and cycle, no state."""
    z = np.full(np.broadcast(*keys).shape, seed & _MASK64, dtype=np.uint64)
    for k in keys:
        z = z ^ np.asarray(k).astype(np.uint64)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _smooth(e0: float | Array, e1: float | Array, x: Array) -> Array:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _mix(a: Array | RGB, b: Array | RGB, t: Array | float) -> Array:
    a_ = np.asarray(a, dtype=F32)
    return a_ + (np.asarray(b, dtype=F32) - a_) * t


def _col(rgb: RGB | Array) -> Array:
    return np.asarray(rgb, dtype=F32).reshape(3)


def _rgb(a: Array) -> RGB:
    return (float(a[0]), float(a[1]), float(a[2]))


def _up(a: Array, w: int, h: int) -> Array:
    """Upscale a low-resolution field; smooth fields never need full-resolution arithmetic."""
    return cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)


@functools.lru_cache(maxsize=32)
def _noise_tex(seed: int, key: str, size: int = 256, slope: float = 1.4, lowcut: float = 0.0) -> Array:
    """Tileable fractal noise (zero mean, unit std): white noise shaped to a 1/f^slope spectrum.

    It wraps at its edges, so it can be scrolled forever with BORDER_WRAP and never shows a seam.
    ``lowcut`` (cycles per texture) removes the largest blobs.
    """
    white = _rng(seed, key).standard_normal((size, size))
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    amp = f ** (-slope)
    amp[0, 0] = 0.0
    amp[f > 0.35] = 0.0
    amp[f * size < lowcut] = 0.0
    out = np.fft.irfft2(np.fft.rfft2(white) * amp, s=(size, size))
    out = ((out - out.mean()) / out.std()).astype(F32)
    out.setflags(write=False)
    return out


def _noise_1d(rng: np.random.Generator, n: int, slope: float, cutoff: float = 0.5,
              lowcut: float = 0.0) -> Array:
    """A 1-D fractal line in [0, 1]: ridgelines, dune crests, shorelines.

    ``lowcut`` drops waves longer than n/lowcut samples, so a ridge has several peaks, not one hump.
    """
    size = max(n, 8)
    spec = np.fft.rfft(rng.standard_normal(size * 2))
    f = np.fft.rfftfreq(size * 2)
    f[0] = 1.0
    amp = f ** (-slope)
    amp[0] = 0.0
    amp[f > cutoff] = 0.0
    amp[f * size < lowcut] = 0.0
    line = np.fft.irfft(spec * amp, n=size * 2)[:n]
    line = (line - line.min()) / max(float(line.max() - line.min()), 1e-9)
    return line.astype(F32)


def _sample(tex: Array, u: Array, v: Array) -> Array:
    """Read a tileable texture at fractional texel coordinates (broadcast together), wrapping."""
    u, v = np.broadcast_arrays(np.asarray(u, dtype=F32), np.asarray(v, dtype=F32))
    return cv2.remap(tex, np.ascontiguousarray(u), np.ascontiguousarray(v), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_WRAP)


def _over(dst: Array, rgb: Array, alpha: Array) -> None:
    """Straight-alpha 'over' into ``dst`` in place."""
    a = alpha[..., None] if alpha.ndim == dst.ndim - 1 else alpha
    dst += (rgb - dst) * a


def _luma(img: Array) -> Array:
    return img @ np.array([0.2126, 0.7152, 0.0722], dtype=F32)

_LO = 4  # low-frequency fields are drawn at 1/_LO resolution (but never narrower than 400 pixels)


def _lo(w: int, h: int) -> tuple[int, int]:
    scale = max(1.0 / _LO, min(1.0, 400.0 / w))
    return max(round(w * scale), 8), max(round(h * scale), 4)

def _check_size(width: int, height: int) -> None:
    if width < 16 or height < 16 or width > 16384 or height > 16384:
        raise EngineError(
            f"procedural engine cannot draw {width}×{height}",
            hint="use a width and height between 16 and 16384 pixels",
        )
