"""Grade: match the keyed foreground's colour to the set, and apply a show LUT (.cube) to the final comp.

Both follow the comp's rule of "measure or prepare once per shot → one cheap call per frame":

- ``ColourMatch.measure`` reads the colour statistics once and bakes them into a per-channel 256-entry
  table, so ``apply`` is a single ``cv2.LUT`` (~1 ms at 1080p).
- ``Lut3D.read`` parses an Adobe/Resolve ``.cube`` file. Its first ``apply`` bakes the trilinear
  interpolation of the cube for every one of the 2²⁴ 8-bit colours (a 64 MB table, ~0.5 s, once), so each
  frame is one gather: exact trilinear to ±0.5 level, several times faster than interpolating per frame.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from soundstage.atomic import write_bytes
from soundstage.errors import MediaError

Triple = tuple[float, float, float]

# ------------------------------------------------------------------------------------------- colour match

_SOLID = 250                     # matte level from which a pixel is the subject's own colour, not an edge mix
_MIN_SOLID = 64                  # solid pixels needed to say anything about the subject's colour
_SAMPLE = 200_000                # pixels are subsampled to about this many: the statistics do not need more
_LOG_BLACK = 0.004               # linear-light offset under the log, so near-black noise does not rule the stats
_EXPOSURE_LIMIT = 1.5            # stops: the most a match brightens or darkens the subject
_BALANCE_LIMIT = 0.75            # stops: the most one channel moves against the others (white balance)
_CONTRAST_SHARE = 0.5            # the std ratio is taken to this power: contrast is matched only partly
_CONTRAST_LIMIT = (0.8, 1.25)
_REC709 = np.array([0.2126, 0.7152, 0.0722])


def _to_linear(code: np.ndarray) -> np.ndarray:
    """sRGB-encoded 0..1 to linear light (float64)."""
    return np.where(code <= 0.04045, code / 12.92, ((code + 0.055) / 1.055) ** 2.4)


def _to_code(linear: np.ndarray) -> np.ndarray:
    """Linear light to sRGB-encoded 0..1 (float64), clipped."""
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


_LOG_OF_CODE = np.log2(_to_linear(np.arange(256) / 255.0) + _LOG_BLACK)


def _check_rgb(image: np.ndarray, what: str) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise MediaError(f"{what} must be an H×W×3 uint8 RGB image, got {image.shape} {image.dtype}")
    return np.ascontiguousarray(image)


def _log_stats(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of log2 linear light over N×3 uint8 pixels."""
    logs = _LOG_OF_CODE[pixels]
    return logs.mean(axis=0), logs.std(axis=0)


@dataclass(frozen=True, eq=False)
class ColourMatch:
    """A per-shot colour match of the keyed foreground to the set, baked into a per-channel table.

    Reinhard-style mean/std transfer, done per channel in log2 linear light: moving the mean there is an
    exposure and white-balance change (a gain per channel, what a change of light does to a subject), and
    scaling the spread is a contrast change (a power around the subject's own mid-tone). A whole-frame
    transfer is too strong for a subject lit as the hero of a dark set, so the exposure change is clamped
    to ±1.5 stops, each channel's balance to ±0.75 stop, and contrast moves only halfway (0.8..1.25).
    The fields say what was applied: ``exposure`` and ``balance`` in stops, ``contrast`` as powers.
    """

    exposure: float
    balance: Triple
    contrast: Triple
    strength: float
    table: np.ndarray = field(repr=False)      # 1×256×3 uint8, for cv2.LUT

    @classmethod
    def measure(cls, fg_rgb: np.ndarray, alpha: np.ndarray, reference_rgb: np.ndarray,
                strength: float = 1.0) -> ColourMatch:
        """Measure the match once per shot: the foreground where ``alpha`` is solid against the whole set frame.

        ``strength`` (0..1) blends from no change (0: the table is the identity) to the full, clamped match.
        Raises MediaError when the matte has too few solid pixels to measure (pick a frame with the subject in).
        """
        fg = _check_rgb(fg_rgb, "foreground")
        reference = _check_rgb(reference_rgb, "reference")
        matte = alpha[..., 0] if alpha.ndim == 3 and alpha.shape[2] == 1 else alpha
        if matte.shape != fg.shape[:2]:
            raise MediaError(f"alpha is {matte.shape[1] if matte.ndim > 1 else '?'}×{matte.shape[0]} but the "
                             f"foreground is {fg.shape[1]}×{fg.shape[0]}")
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must be within 0..1, got {strength}")
        solid_level = _SOLID if matte.dtype == np.uint8 else _SOLID / 255.0
        step = max(1, math.isqrt(fg.shape[0] * fg.shape[1] // _SAMPLE))
        solid = fg[::step, ::step][matte[::step, ::step] >= solid_level]
        if len(solid) < _MIN_SOLID:
            solid = fg[matte >= solid_level]
        if len(solid) < _MIN_SOLID:
            raise MediaError(f"the matte has only {len(solid)} solid pixels, too few to measure the subject's colour",
                             hint="measure the colour match on a frame where the subject is in shot")
        ref_step = max(1, math.isqrt(reference.shape[0] * reference.shape[1] // _SAMPLE))
        fg_mean, fg_std = _log_stats(solid)
        ref_mean, ref_std = _log_stats(reference[::ref_step, ::ref_step].reshape(-1, 3))

        shift = ref_mean - fg_mean
        exposure = float(np.clip(_REC709 @ shift, -_EXPOSURE_LIMIT, _EXPOSURE_LIMIT))
        balance = np.clip(shift - _REC709 @ shift, -_BALANCE_LIMIT, _BALANCE_LIMIT)
        ratio = np.where(fg_std > 1e-6, ref_std / np.maximum(fg_std, 1e-6), 1.0)
        contrast = np.clip(ratio ** _CONTRAST_SHARE, *_CONTRAST_LIMIT)

        gain = strength * (exposure + balance)          # stops, per channel
        power = contrast ** strength
        pivot = np.maximum(2.0 ** fg_mean - _LOG_BLACK, 1e-4)
        linear = _to_linear(np.arange(256, dtype=np.float64) / 255.0)[:, None]
        moved = 2.0 ** gain * pivot * (linear / pivot) ** power
        table = np.rint(_to_code(moved) * 255.0).astype(np.uint8)
        if strength == 0.0:
            table = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
        table = table.reshape(1, 256, 3)
        table.setflags(write=False)
        return cls(exposure=strength * exposure, balance=_triple(strength * balance),
                   contrast=_triple(power), strength=strength, table=table)

    def apply(self, fg_rgb: np.ndarray) -> np.ndarray:
        """Match one frame's foreground (H×W×3 uint8) to the set: one table lookup per pixel."""
        return cv2.LUT(_check_rgb(fg_rgb, "foreground"), self.table)


def _triple(values: np.ndarray) -> Triple:
    return float(values[0]), float(values[1]), float(values[2])


# ------------------------------------------------------------------------------------------- .cube LUTs

_MAX_3D = 256
_MAX_1D = 65536
_BIG_ENDIAN = sys.byteorder == "big"


@dataclass(frozen=True, eq=False)
class Lut3D:
    """A colour lookup table as a ``.cube`` file holds it: a 3D cube, optionally after per-channel 1D curves.

    - ``cube``: N×N×N×3 float32 output colours, indexed ``[b, g, r]`` (red varies fastest, as in the file),
      over the input domain ``cube_min``..``cube_max``; None for a file that holds only 1D curves.
    - ``curves``: M×3 float32 per-channel curves over ``curves_min``..``curves_max``, applied first
      (a 1D-only file, or Resolve's 1D shaper before its 3D table); None when there are none.

    Inputs outside a domain are clamped to its edge; outputs are clipped to 0..1. ``apply`` works on 8-bit
    frames, for which the whole chain is baked once (see the module's notes).
    """

    cube: np.ndarray | None
    cube_min: Triple = (0.0, 0.0, 0.0)
    cube_max: Triple = (1.0, 1.0, 1.0)
    curves: np.ndarray | None = None
    curves_min: Triple = (0.0, 0.0, 0.0)
    curves_max: Triple = (1.0, 1.0, 1.0)
    title: str = ""
    _baked: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.cube is None and self.curves is None:
            raise ValueError("a LUT needs a cube, curves or both")
        if self.cube is not None:
            n = self.cube.shape[0]
            if self.cube.shape != (n, n, n, 3) or not 2 <= n <= _MAX_3D:
                raise ValueError(f"cube must be N×N×N×3 with N in 2..{_MAX_3D}, got {self.cube.shape}")
        if self.curves is not None and (self.curves.ndim != 2 or self.curves.shape[1] != 3
                                        or not 2 <= self.curves.shape[0] <= _MAX_1D):
            raise ValueError(f"curves must be M×3 with M in 2..{_MAX_1D}, got {self.curves.shape}")
        for low, high in ((self.cube_min, self.cube_max), (self.curves_min, self.curves_max)):
            if any(h <= lo for lo, h in zip(low, high, strict=True)):
                raise ValueError(f"a domain's minimum {low} must be below its maximum {high}")

    @property
    def size(self) -> int:
        """The cube's edge length N (0 for a 1D-only LUT)."""
        return 0 if self.cube is None else self.cube.shape[0]

    @classmethod
    def identity(cls, size: int = 33) -> Lut3D:
        """The cube that changes nothing, with ``size`` points per edge."""
        if not 2 <= size <= _MAX_3D:
            raise ValueError(f"a cube's size must be within 2..{_MAX_3D}, got {size}")
        ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
        b, g, r = np.meshgrid(ramp, ramp, ramp, indexing="ij")
        return cls(np.stack([r, g, b], axis=-1), title="identity")

    @classmethod
    def read(cls, path: str | Path) -> Lut3D:
        """Read an Adobe/Resolve ``.cube`` file (3D, 1D, or Resolve's 1D shaper + 3D).

        Raises MediaError naming the file and line for anything malformed: unknown keywords, a row that is
        not three finite numbers, a wrong count of rows, a missing or out-of-range size, a bad domain.
        """
        return _read_cube(Path(path))

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        """Grade one frame (H×W×3 uint8) through the LUT, with trilinear interpolation in the cube."""
        image = _check_rgb(rgb, "frame")
        if self.cube is None:
            return cv2.LUT(image, self._bake("curves", self._bake_curves))
        table = self._bake("cube", self._bake_cube)
        height, width = image.shape[:2]
        # The pixel's three bytes become the low bytes of an int64: r + 256·g + 65536·b, the table's index.
        index_bytes = _index_buffer(height, width)
        order = [0, 7, 1, 6, 2, 5] if _BIG_ENDIAN else [0, 0, 1, 1, 2, 2]
        cv2.mixChannels([image], [index_bytes], order)
        graded = np.take(table, index_bytes.view(np.int64)[..., 0], mode="wrap")   # in range: "wrap" skips the check
        return cv2.cvtColor(graded.view(np.uint8).reshape(height, width, 4), cv2.COLOR_RGBA2RGB)

    def _bake(self, name: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        """Prepare a table on first use, once, and keep it: the per-frame apply only looks it up."""
        with self._lock:
            if name not in self._baked:
                self._baked[name] = make()
            return self._baked[name]

    def _coordinates(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per channel: where each 8-bit input lands in the cube (lower grid index, fraction), after the curves."""
        code = np.arange(256, dtype=np.float64) / 255.0
        n = self.size
        found = []
        for c in range(3):
            value = self._curve(c, code) if self.curves is not None else code
            low, high = self.cube_min[c], self.cube_max[c]
            u = np.clip((value - low) / (high - low), 0.0, 1.0) * (n - 1)
            lower = np.minimum(np.floor(u).astype(np.intp), n - 2)
            found.append((lower, (u - lower).astype(np.float32)))
        return found

    def _curve(self, channel: int, value: np.ndarray) -> np.ndarray:
        assert self.curves is not None
        low, high = self.curves_min[channel], self.curves_max[channel]
        u = np.clip((value - low) / (high - low), 0.0, 1.0) * (len(self.curves) - 1)
        return np.interp(u, np.arange(len(self.curves)), self.curves[:, channel].astype(np.float64))

    def _bake_curves(self) -> np.ndarray:
        code = np.arange(256, dtype=np.float64) / 255.0
        planes = [self._curve(c, code) for c in range(3)]
        table = np.rint(np.clip(np.stack(planes, axis=-1), 0.0, 1.0) * 255.0).astype(np.uint8)
        return table.reshape(1, 256, 3)

    def _bake_cube(self) -> np.ndarray:
        """The output of every 8-bit colour, packed as R | G<<8 | B<<16 bytes in a 2²⁴-entry uint32 table.

        Trilinear interpolation on a grid, sampled on a grid, is separable: interpolate along red for every
        (b, g) grid node, then along green, then blend two blue slices per output plane.
        """
        assert self.cube is not None
        cube = self.cube.astype(np.float32)
        (r0, rf), (g0, gf), (b0, bf) = self._coordinates()
        along_r = cube[:, :, r0] * (1 - rf)[None, None, :, None] + cube[:, :, r0 + 1] * rf[None, None, :, None]
        slices: dict[int, np.ndarray] = {}

        def slice_at(i: int) -> np.ndarray:      # the full 256×256 (g, r) plane of blue grid node i
            if i not in slices:
                if len(slices) > 4:
                    slices.clear()
                plane = along_r[i]
                slices[i] = plane[g0] * (1 - gf)[:, None, None] + plane[g0 + 1] * gf[:, None, None]
            return slices[i]

        packed = np.zeros((256, 256 * 256, 4), np.uint8)
        for b in range(256):
            i, f = int(b0[b]), float(bf[b])
            plane = slice_at(i) * (1 - f) + slice_at(i + 1) * f if f else slice_at(i)
            np.clip(plane, 0.0, 1.0, out=plane)
            packed[b, :, :3] = np.rint(plane * 255.0).astype(np.uint8).reshape(-1, 3)
        return packed.reshape(-1, 4).view(np.uint32).reshape(-1)


_buffers = threading.local()


def _index_buffer(height: int, width: int) -> np.ndarray:
    """A zeroed H×W×8 byte buffer per thread, reused from frame to frame (only its three low bytes change)."""
    buffer = getattr(_buffers, "index", None)
    if buffer is None or buffer.shape[:2] != (height, width):
        buffer = np.zeros((height, width, 8), np.uint8)
        _buffers.index = buffer
    return buffer


# ------------------------------------------------------------------------------------------- the parser

_KEYWORDS = {"TITLE", "LUT_1D_SIZE", "LUT_3D_SIZE", "DOMAIN_MIN", "DOMAIN_MAX", "LUT_1D_INPUT_RANGE",
             "LUT_3D_INPUT_RANGE"}


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


class _Header:
    """The keyword lines of a .cube file, read up to its first row of numbers."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path = path
        self.title = ""
        self.first_row = len(lines) + 1
        self.seen: dict[str, tuple[int, list[str]]] = {}
        for number, line in enumerate(lines, 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            word, _, rest = stripped.partition(" ")
            if _is_number(word):
                self.first_row = number
                break
            if word not in _KEYWORDS:
                raise MediaError(f"unknown keyword {word!r} in the LUT", path=path, line=number,
                                 hint=f"a .cube file has only {', '.join(sorted(_KEYWORDS))} and rows of numbers")
            if word in self.seen:
                raise MediaError(f"{word} is given twice", path=path, line=number)
            if word == "TITLE":
                self.title = rest.strip().strip('"')
            self.seen[word] = (number, rest.split())

    def line(self, word: str) -> int | None:
        return self.seen[word][0] if word in self.seen else None

    def numbers(self, word: str, count: int) -> list[float] | None:
        """The keyword's ``count`` finite numbers, None when it is absent."""
        if word not in self.seen:
            return None
        number, parts = self.seen[word]
        if len(parts) != count or not all(_is_number(p) and math.isfinite(float(p)) for p in parts):
            raise MediaError(f"{word} needs {count} number{'s' if count > 1 else ''}, got {' '.join(parts)!r}",
                             path=self.path, line=number)
        return [float(p) for p in parts]

    def size(self, word: str, most: int) -> int:
        """A table size (0 when absent), a whole number within 2..most."""
        found = self.numbers(word, 1)
        if found is None:
            return 0
        if found[0] != int(found[0]) or not 2 <= found[0] <= most:
            raise MediaError(f"{word} must be a whole number within 2..{most}, got {self.seen[word][1][0]}",
                             path=self.path, line=self.line(word))
        return int(found[0])

    def domains(self, size_1d: int, size_3d: int) -> dict[str, tuple[Triple, Triple]]:
        """Each table's input domain: DOMAIN_MIN/MAX (a file with one table) or LUT_nD_INPUT_RANGE (Resolve)."""
        unit: tuple[Triple, Triple] = ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
        result = {"1d": unit, "3d": unit}
        lines: dict[str, int | None] = {"1d": None, "3d": None}
        low, high = self.numbers("DOMAIN_MIN", 3), self.numbers("DOMAIN_MAX", 3)
        given = self.line("DOMAIN_MAX") or self.line("DOMAIN_MIN")
        if given and size_1d and size_3d:
            raise MediaError("DOMAIN_MIN/MAX is ambiguous in a LUT with both a 1D and a 3D table", path=self.path,
                             line=given, hint="give LUT_1D_INPUT_RANGE and LUT_3D_INPUT_RANGE instead")
        if given:
            key = "1d" if size_1d else "3d"
            result[key] = (_as_triple(low or [0.0] * 3), _as_triple(high or [1.0] * 3))
            lines[key] = given
        for key, word in (("1d", "LUT_1D_INPUT_RANGE"), ("3d", "LUT_3D_INPUT_RANGE")):
            found = self.numbers(word, 2)
            if found is not None:
                result[key] = ((found[0],) * 3, (found[1],) * 3)
                lines[key] = self.line(word)
        for key, (lo, hi) in result.items():
            if any(h <= el for el, h in zip(lo, hi, strict=True)):
                raise MediaError(f"the {key.upper()} domain's minimum {lo} is not below its maximum {hi}",
                                 path=self.path, line=lines[key])
        return result


def _as_triple(values: list[float]) -> Triple:
    return values[0], values[1], values[2]


def _read_cube(path: Path) -> Lut3D:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
    except OSError as exc:
        raise MediaError(f"cannot read the LUT ({exc.strerror or exc})", path=path) from exc
    lines = text.splitlines()
    header = _Header(path, lines)
    size_1d, size_3d = header.size("LUT_1D_SIZE", _MAX_1D), header.size("LUT_3D_SIZE", _MAX_3D)
    if not size_1d and not size_3d:
        raise MediaError("the LUT gives no LUT_3D_SIZE or LUT_1D_SIZE before its rows", path=path,
                         line=header.first_row if header.first_row <= len(lines) else None)
    domains = header.domains(size_1d, size_3d)
    values = _rows(path, lines, header.first_row, size_1d + size_3d**3)
    curves = values[:size_1d].astype(np.float32) if size_1d else None
    cube = values[size_1d:].astype(np.float32).reshape(size_3d, size_3d, size_3d, 3) if size_3d else None
    return Lut3D(cube=cube, cube_min=domains["3d"][0], cube_max=domains["3d"][1], curves=curves,
                 curves_min=domains["1d"][0], curves_max=domains["1d"][1], title=header.title)


def _rows(path: Path, lines: list[str], first_row: int, expected: int) -> np.ndarray:
    """The table's rows as an expected×3 float64 array, or a MediaError naming the first bad line."""
    rows: list[str] = []
    numbers: list[int] = []
    for number in range(first_row, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            if len(stripped.split()) != 3:
                raise MediaError(f"a row must be three numbers, got {stripped[:60]!r}", path=path, line=number)
            rows.append(stripped)
            numbers.append(number)
    try:
        values = np.array(" ".join(rows).split(), dtype=np.float64).reshape(-1, 3)
        finite = bool(np.isfinite(values).all())
    except ValueError:
        finite = False
    if not finite:
        for row, number in zip(rows, numbers, strict=True):
            if not all(_is_number(p) and math.isfinite(float(p)) for p in row.split()):
                raise MediaError(f"a row must be three finite numbers, got {row[:60]!r}", path=path, line=number)
    if len(rows) != expected:
        where = numbers[expected] if len(rows) > expected else (numbers[-1] if numbers else len(lines))
        raise MediaError(f"the LUT has {len(rows)} rows but its size needs {expected}", path=path, line=where)
    return values


def write_cube(path: str | Path, lut: Lut3D) -> None:
    """Write ``lut`` as a ``.cube`` file (atomically), in the form ``Lut3D.read`` and Resolve read back."""
    head = [f'TITLE "{lut.title}"'] if lut.title else []
    if lut.curves is not None and lut.cube is not None:
        for word, lo, hi in (("LUT_1D_INPUT_RANGE", lut.curves_min, lut.curves_max),
                             ("LUT_3D_INPUT_RANGE", lut.cube_min, lut.cube_max)):
            if len(set(lo)) > 1 or len(set(hi)) > 1:
                raise ValueError(f"{word} holds one range for all channels; this LUT's differ ({lo}..{hi})")
            head.append(f"{word} {lo[0]:.6g} {hi[0]:.6g}")
    else:
        lo, hi = (lut.curves_min, lut.curves_max) if lut.cube is None else (lut.cube_min, lut.cube_max)
        head += [f"DOMAIN_MIN {lo[0]:.6g} {lo[1]:.6g} {lo[2]:.6g}", f"DOMAIN_MAX {hi[0]:.6g} {hi[1]:.6g} {hi[2]:.6g}"]
    tables = []
    if lut.curves is not None:
        head.append(f"LUT_1D_SIZE {len(lut.curves)}")
        tables.append(lut.curves.reshape(-1, 3))
    if lut.cube is not None:
        head.append(f"LUT_3D_SIZE {lut.size}")
        tables.append(lut.cube.reshape(-1, 3))
    rows = [f"{r:.6f} {g:.6f} {b:.6f}" for table in tables for r, g, b in table.tolist()]
    write_bytes(path, ("\n".join(head + rows) + "\n").encode())


# ------------------------------------------------------------------------------------------- ASC CDL

_CDL_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)   # ASC CDL v1.2's saturation weights (Rec.709)


@dataclass(frozen=True)
class Cdl:
    """An ASC CDL (v1.2): slope, offset and power per channel, then saturation; one shot's grade.

    Applied to float values in the space the CDL declares (ACEScct by default), without the clamp to 0..1 of
    the 8-bit era, so a highlight above 1.0 survives the grade (OCIO's ``CDL_NO_CLAMP`` style).
    """

    slope: Triple = (1.0, 1.0, 1.0)
    offset: Triple = (0.0, 0.0, 0.0)
    power: Triple = (1.0, 1.0, 1.0)
    saturation: float = 1.0
    id: str = ""

    @classmethod
    def read(cls, path: str | Path) -> Cdl:
        """The first ColorCorrection of a ``.cdl``, ``.cc`` or ``.ccc`` file; MediaError naming the file for
        anything else (not XML, no ColorCorrection, a value that is not three numbers, a power ≤ 0)."""
        from defusedxml import ElementTree
        from defusedxml.common import DefusedXmlException

        path = Path(path)
        try:
            root = ElementTree.parse(path).getroot()
        except OSError as exc:
            raise MediaError(f"cannot be read ({exc.strerror})", path=path) from None
        except (ElementTree.ParseError, DefusedXmlException) as exc:
            raise MediaError(f"is not an ASC CDL: not well-formed XML ({exc})", path=path) from None

        def find(node: Any, name: str) -> Any:
            return next((e for e in node.iter() if e.tag.rsplit("}", 1)[-1] == name), None)

        correction = root if root.tag.rsplit("}", 1)[-1] == "ColorCorrection" else find(root, "ColorCorrection")
        if correction is None:
            raise MediaError("is not an ASC CDL: it holds no ColorCorrection", path=path)

        def numbers(name: str, count: int, default: tuple[float, ...]) -> tuple[float, ...]:
            node = find(correction, name)
            if node is None:
                return default
            words = (node.text or "").split()
            if len(words) != count or not all(_is_number(w) and math.isfinite(float(w)) for w in words):
                raise MediaError(f"its {name} must be {count} number{'s' if count > 1 else ''}, not "
                                 f"{(node.text or '').strip()[:40]!r}", path=path)
            return tuple(float(w) for w in words)

        power = numbers("Power", 3, (1.0, 1.0, 1.0))
        if min(power) <= 0:
            raise MediaError(f"its Power must be above 0, not {power}", path=path)
        return cls(_as_triple(list(numbers("Slope", 3, (1.0, 1.0, 1.0)))),
                   _as_triple(list(numbers("Offset", 3, (0.0, 0.0, 0.0)))), _as_triple(list(power)),
                   numbers("Saturation", 1, (1.0,))[0], correction.get("id", ""))

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Grade H×W×3 float values (a new float32 array): (v·slope + offset)^power, then saturation.
        Negative values after the offset pass through the power unchanged, as OCIO's no-clamp style does."""
        out = np.asarray(values, np.float32) * np.float32(self.slope) + np.float32(self.offset)
        if self.power != (1.0, 1.0, 1.0):
            positive = np.maximum(out, 0.0)
            out = np.where(out > 0, positive ** np.float32(self.power), out).astype(np.float32)
        if self.saturation != 1.0:
            luma = (out @ _CDL_LUMA)[..., None]
            out = luma + np.float32(self.saturation) * (out - luma)
        return out
