"""Colour management through OpenColorIO: every input tagged, the comp in a scene-linear working space.

It sits in ``comp`` (not ``media``) because it bakes its display transforms into the comp's own :class:`Lut3D`
tables and only the comp and the stages above it convert pixels; media receives plain tags (a name and the
chromaticities) for the files it writes, and stays free of OCIO.

OCIO's CPU processors are exact but slow on big frames (an ACES 2.0 view: ~1 s a 1080p frame on two cores),
so each conversion a frame pays is prepared once per shot, then is one or two table lookups a frame:

- a camera or texture encoding to the working space is a per-channel curve then a 3×3 matrix (checked, not
  assumed): a 256- or 65536-entry curve table and ``cv2.transform``;
- the view (working → display) goes through ACEScct (a log shaper, exact by formula) and a 65³ cube that
  OCIO samples once, baked by :class:`Lut3D` for every 8-bit ACEScct colour;
- a generated display-referred picture enters through the inverse of that view, by the same cube trick,
  so a generated sky comes back out of the view as it was made, not washed out.
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import cv2
import numpy as np

from soundstage.comp.grade import Cdl, Lut3D
from soundstage.comp.light import defocus, motion_blur
from soundstage.errors import ColourError

DEFAULT_CONFIG = "ocio://studio-config-latest"   # ACES 2 studio config built into OCIO 2.4+: has the camera logs
CUBE_SIZE = 65

# Camera encodings as crews say them, to the name in OCIO's ACES configs (normalised: lower case, letters and
# digits only). A config's own names and aliases are matched first; these catch the short forms.
CAMERA_NAMES = {
    "logc3": "ARRI LogC3 (EI800)", "arrilogc3": "ARRI LogC3 (EI800)", "logc": "ARRI LogC3 (EI800)",
    "arrilogc": "ARRI LogC3 (EI800)", "logc4": "ARRI LogC4", "arrilogc4": "ARRI LogC4",
    "slog3": "S-Log3 S-Gamut3.Cine", "sonyslog3": "S-Log3 S-Gamut3.Cine",
    "canonlog2": "CanonLog2 CinemaGamut D55", "clog2": "CanonLog2 CinemaGamut D55",
    "canonlog3": "CanonLog3 CinemaGamut D55", "clog3": "CanonLog3 CinemaGamut D55",
    "vlog": "V-Log V-Gamut", "redlog3g10": "Log3G10 REDWideGamutRGB", "log3g10": "Log3G10 REDWideGamutRGB",
    "rec709": "Camera Rec.709", "bt709": "Camera Rec.709", "srgb": "sRGB Encoded Rec.709 (sRGB)",
    "linearsrgb": "Linear Rec.709 (sRGB)", "linearrec709": "Linear Rec.709 (sRGB)",
}

# EXR's ``chromaticities`` (red, green, blue, white xy) of the linear spaces a master is written in, by
# OCIO interop id: the attribute is what a reader without OCIO goes by.
CHROMATICITIES = {
    "lin_ap1_scene": (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767),
    "lin_ap0_scene": (0.7347, 0.2653, 0.0, 1.0, 0.0001, -0.077, 0.32168, 0.33767),
    "lin_rec709_scene": (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290),
    "lin_rec2020_scene": (0.708, 0.292, 0.170, 0.797, 0.131, 0.046, 0.3127, 0.3290),
    "lin_p3d65_scene": (0.680, 0.320, 0.265, 0.690, 0.150, 0.060, 0.3127, 0.3290),
}

_ACESCCT_BREAK = 0.0078125


def _ocio() -> Any:
    import PyOpenColorIO

    return PyOpenColorIO


@cache
def load_config(source: str) -> Any:
    """The OCIO config at ``source`` (``ocio://…`` built in, or a ``.ocio`` path), checked; once per process."""
    ocio = _ocio()
    try:
        config = ocio.Config.CreateFromFile(source)
        config.validate()
    except (ocio.Exception, ocio.ExceptionMissingFile) as exc:
        message = str(exc).strip().replace(f"'{source}' ", "").replace(f"'{source}'", "it")
        raise ColourError(f"is not a usable OCIO config: {message}", path=source,
                          hint="fix the file, or set [colour] config = \"ocio://studio-config-latest\"") from None
    return config


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def resolve(config: Any, name: str, *, what: str = "colour space", source: str = "") -> str:
    """The config's own name for ``name`` (a name, an alias, or a camera's short form such as ``LogC4``).

    Unknown: one line naming the closest spaces the config has.
    """
    space = config.getColorSpace(name)
    if space is not None:
        return str(space.getName())
    wanted = _squash(name)
    names = [str(n) for n in config.getColorSpaceNames()]
    for known in names:
        space = config.getColorSpace(known)
        if wanted in {_squash(known), *(_squash(a) for a in space.getAliases())}:
            return known
    if wanted in CAMERA_NAMES and config.getColorSpace(CAMERA_NAMES[wanted]) is not None:
        return CAMERA_NAMES[wanted]
    close = difflib.get_close_matches(name, names, n=4, cutoff=0.4) or \
        [n for n in names if wanted[:4] and wanted[:4] in _squash(n)][:4]
    near = f"; close: {', '.join(repr(n) for n in close)}" if close else ""
    raise ColourError(f"{what} {name!r} is not in the OCIO config {source or config.getName()}{near}")


def _processor(config: Any, transform: Any) -> Any:
    return config.getProcessor(transform).getDefaultCPUProcessor()


def apply_ocio(cpu: Any, pixels: np.ndarray) -> np.ndarray:
    """Run an OCIO CPU processor over N…×3 float32 values (a copy; exact, slow on big frames)."""
    out = np.ascontiguousarray(pixels, np.float32).copy()
    cpu.applyRGB(out.reshape(-1, 3))
    return out


def _curve_and_matrix(cpu: Any, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``f(r,g,b) = S·(t_r(r), t_g(g), t_b(b)) + f(0)`` read off a processor at ``inputs`` (one code per row):
    the curve table t (len×3) and S|f(0) (3×4). None when the transform is not of that form."""
    zero = apply_ocio(cpu, np.zeros((1, 3)))[0]
    columns, curves = [], []
    for j in range(3):
        ramp = np.zeros((len(inputs), 3), np.float32)
        ramp[:, j] = inputs
        moved = apply_ocio(cpu, ramp) - zero
        scale = moved[-1]
        if not np.any(scale):
            return None
        curves.append(moved @ scale / float(scale @ scale))
        columns.append(scale)
    matrix = np.column_stack([*columns, zero]).astype(np.float32)
    table = np.stack(curves, axis=-1).astype(np.float32)
    probe = np.random.default_rng(0).choice(len(inputs), size=(64, 3))
    want = apply_ocio(cpu, inputs[probe])
    got = np.einsum("ij,nj->ni", matrix[:, :3], table[probe, [0, 1, 2]]) + matrix[:, 3]
    return (table, matrix) if np.allclose(got, want, rtol=1e-3, atol=1e-4) else None


def acescct(linear: np.ndarray) -> np.ndarray:
    """ACEScg linear → ACEScct (S-2016-001): the log shaper in front of the view's cube, exact by formula."""
    linear = np.asarray(linear, np.float32)
    safe = np.maximum(linear, _ACESCCT_BREAK)
    return np.where(linear <= _ACESCCT_BREAK, 10.5402377416545 * linear + 0.0729055341958355,
                    (np.log2(safe) + 9.72) / 17.52).astype(np.float32)


def acescct_to_linear(code: np.ndarray) -> np.ndarray:
    code = np.asarray(code, np.float32)
    return np.where(code <= 0.155251141552511, (code - 0.0729055341958355) / 10.5402377416545,
                    np.exp2(code * 17.52 - 9.72)).astype(np.float32)


def _sample_grid(size: int) -> np.ndarray:
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
    b, g, r = np.meshgrid(ramp, ramp, ramp, indexing="ij")
    return np.stack([r, g, b], axis=-1)


@dataclass(eq=False)
class Decode:
    """One encoding (a plate's camera log, a texture's sRGB) into the working space, prepared once."""

    table8: np.ndarray | None          # 256×3 curve, or None: the transform is not curve + matrix
    matrix: np.ndarray | None          # 3×4
    cpu: Any
    _wide: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def __call__(self, code: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 / uint16 code values, or float 0..1, → float32 working-space values."""
        if self.table8 is None or self.matrix is None:
            scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(code.dtype, 1.0)
            return apply_ocio(self.cpu, code.astype(np.float32) / scale)
        if code.dtype == np.uint8:
            curved = cv2.LUT(np.ascontiguousarray(code), self.table8.reshape(256, 1, 3))
        elif code.dtype == np.uint16:
            table = self._wide.get(16)
            if table is None:      # the same curve at 16 bits, read off and checked as the 8-bit one was
                found = _curve_and_matrix(self.cpu, np.arange(65536, dtype=np.float32) / 65535.0)
                if found is None:
                    return apply_ocio(self.cpu, code.astype(np.float32) / 65535.0)
                table = self._wide[16] = found[0]
            curved = np.stack([table[code[..., c], c] for c in range(3)], axis=-1)
        else:
            return apply_ocio(self.cpu, code)
        return cv2.transform(np.asarray(curved, np.float32), self.matrix)


@dataclass(eq=False)
class CompSpace:
    """The colour of one render: the config, the working space and the review view, checked and prepared.

    Build with :meth:`open`; every method is safe to call from the comp's threads.
    """

    config: Any
    source: str
    working: str
    display: str
    view: str
    generated_display: str
    _to_ap1: np.ndarray = field(default_factory=lambda: np.eye(3, dtype=np.float32), repr=False)
    _from_ap1: np.ndarray = field(default_factory=lambda: np.eye(3, dtype=np.float32), repr=False)
    _decodes: dict[str, Decode] = field(default_factory=dict, repr=False)
    _luts: dict[str, Lut3D] = field(default_factory=dict, repr=False)
    _slopes: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, config: str = DEFAULT_CONFIG, *, working: str = "ACEScg",
             display: str = "Rec.1886 Rec.709 - Display", view: str = "ACES 2.0 - SDR 100 nits (Rec.709)",
             generated_display: str = "sRGB - Display") -> CompSpace:
        """Check every name against the config (one line naming close matches for an unknown one)."""
        loaded = load_config(config)
        working = resolve(loaded, working, what="working space", source=config)
        for name, what in ((display, "display"), (generated_display, "display of generated pictures")):
            if name not in list(loaded.getDisplays()):
                close = difflib.get_close_matches(name, list(loaded.getDisplays()), n=3, cutoff=0.3)
                raise ColourError(f"{what} {name!r} is not in the OCIO config {config}"
                                  + (f"; close: {', '.join(map(repr, close))}" if close else ""))
        for name in (display, generated_display):
            if view not in list(loaded.getViews(name)):
                raise ColourError(f"view {view!r} is not one of display {name!r}'s in {config}; it has: "
                                  f"{', '.join(map(repr, loaded.getViews(name)))}")
        space = cls(loaded, config, working, display, view, generated_display)
        if loaded.getColorSpace("ACEScct") is None or loaded.getColorSpace("ACEScg") is None:
            raise ColourError(f"the OCIO config {config} has no ACEScg and ACEScct, which the comp's view needs")
        ocio = _ocio()
        to_ap1 = _curve_and_matrix(_processor(loaded, ocio.ColorSpaceTransform(working, "ACEScg")),
                                   np.linspace(0, 1, 17, dtype=np.float32))
        if to_ap1 is None or not np.allclose(to_ap1[0], np.linspace(0, 1, 17)[:, None], atol=1e-4):
            raise ColourError(f"working space {working!r} is not scene-linear; the comp works in linear light",
                              hint="e.g. [colour] working = \"ACEScg\"")
        space._to_ap1 = np.ascontiguousarray(to_ap1[1][:, :3])
        space._from_ap1 = np.linalg.inv(space._to_ap1).astype(np.float32)
        return space

    # ---------------------------------------------------------------------------------------- in

    def name(self, space: str, what: str = "colour space") -> str:
        return resolve(self.config, space, what=what, source=self.source)

    def decode(self, space: str) -> Decode:
        """The prepared conversion of ``space``'s code values to the working space (cached)."""
        name = self.name(space)
        with self._lock:
            if name not in self._decodes:
                cpu = _processor(self.config, _ocio().ColorSpaceTransform(name, self.working))
                found = _curve_and_matrix(cpu, np.arange(256, dtype=np.float32) / 255.0)
                self._decodes[name] = Decode(*(found or (None, None)), cpu)
            return self._decodes[name]

    def from_generated(self, code: np.ndarray, display: str | None = None) -> np.ndarray:
        """A generated display-referred picture (H×W×3 uint8) → working float32, through the inverse view
        (of ``display``; None: the display generated pictures are made for)."""
        display = display or self.generated_display
        cct = self._lut(f"inverse {display}", lambda: self._inverse_cube(display)).apply(np.ascontiguousarray(code))
        return self._from_cct_code(cct)

    def from_take(self, pixels: np.ndarray, space: str | None = None) -> np.ndarray:
        """A take's picture → working float32 through the space the take recorded: a display's (an image
        model's sRGB) through the inverse of the view; a scene or video encoding (an engine's linear EXR, a
        Rec.709 video) by its own decode; float pixels already in the working space as they are. None: made
        for the generated display."""
        if space is None:
            return self.from_generated(pixels)
        name = self.name(space, "take colour space")
        if name in self._displays() and self.view in self.config.getViews(name) and pixels.dtype == np.uint8:
            return self.from_generated(pixels, name)
        if name == self.working and pixels.dtype == np.float32:
            return pixels
        return self.decode(name)(np.ascontiguousarray(pixels))

    def _displays(self) -> frozenset[str]:
        return frozenset(str(d) for d in self.config.getDisplays())

    # ---------------------------------------------------------------------------------------- out

    def to_display(self, working: np.ndarray, display: str | None = None) -> np.ndarray:
        """Working float32 H×W×3 → 8-bit code values of ``display`` (None: the review display's), through
        the view."""
        display = display or self.display
        return self._lut(f"view {display}", lambda: self._view_cube(display)).apply(self._cct_code(working))

    def to_take(self, working: np.ndarray, space: str | None = None) -> np.ndarray:
        """Working float32 → 8-bit code values in a take's ``space``: the inverse of :meth:`from_take` (a
        display's through the view; a scene or video encoding exactly, by OCIO)."""
        name = self.generated_display if space is None else self.name(space, "take colour space")
        if name in self._displays() and self.view in self.config.getViews(name):
            return self.to_display(working, name)
        code = self.convert(working, self.working, name)
        return np.rint(np.clip(code, 0.0, 1.0) * 255.0).astype(np.uint8)

    def to_video(self, code: np.ndarray, space: str) -> np.ndarray:
        """``space``'s 8-bit code (a camera log) → 8-bit ``Camera Rec.709`` code (the BT.709 camera curve, no
        tone mapping): the rendition a log plate is keyed in. One lookup in a 65³ cube that OCIO samples, baked
        for every 8-bit colour (exact at the grid, trilinear between: within a code level)."""
        name = self.name(space)
        cpu = _processor(self.config, _ocio().ColorSpaceTransform(name, VIDEO))
        return self._lut(f"video {name}", lambda: apply_ocio(cpu, _sample_grid(CUBE_SIZE))).apply(
            np.ascontiguousarray(code))

    def marked(self, working: np.ndarray, shown: np.ndarray, marked: np.ndarray) -> np.ndarray:
        """The working frame with the watermark its display frame got (``marked`` − ``shown``, in display
        levels) as a change of exposure, at the view's slope around mid grey: the EXR master, seen through the
        view as any viewer shows it, carries the mark the review movie does (a new array)."""
        delta = cv2.subtract(marked[..., 1], shown[..., 1], dtype=cv2.CV_32F)
        gain = cv2.exp(cv2.multiply(delta, float(np.log(2.0)) / self._levels_per_stop()))
        return cv2.multiply(np.ascontiguousarray(working, np.float32), cv2.merge((gain, gain, gain)))

    def _levels_per_stop(self) -> float:
        if "stop" not in self._slopes:      # the same number whichever thread makes it first
            grey = np.array([[[0.18] * 3, [0.36] * 3]], np.float32) @ self._from_ap1.T
            levels = self.to_display(np.ascontiguousarray(grey, np.float32)).astype(np.float32)[0, :, 1]
            self._slopes["stop"] = max(float(levels[1] - levels[0]), 1.0)
        return self._slopes["stop"]

    def is_video(self, space: str) -> bool:
        """Whether ``space`` is a video or display encoding (keyable as it is), not a camera log or linear."""
        found = self.config.getColorSpace(self.name(space))
        return str(found.getEncoding()) in ("sdr-video", "hdr-video")

    def convert(self, pixels: np.ndarray, src: str, dst: str) -> np.ndarray:
        """Any two spaces of the config, float32 in and out (exact; slow on whole frames)."""
        cpu = _processor(self.config, _ocio().ColorSpaceTransform(self.name(src), self.name(dst)))
        return apply_ocio(cpu, pixels)

    def interop_id(self, space: str | None = None) -> str:
        """The space's OCIO interop id (``lin_ap1_scene`` for ACEScg), what EXR's ``colorInteropID`` holds."""
        found = self.config.getColorSpace(self.name(space or self.working))
        interop = found.getInteropID() if hasattr(found, "getInteropID") else ""
        return str(interop or found.getName())

    def chromaticities(self) -> tuple[float, ...] | None:
        """The working space's primaries and white for EXR's ``chromaticities``; None when not a known one."""
        return CHROMATICITIES.get(self.interop_id())

    # ---------------------------------------------------------------------------------------- the cubes

    def _cct_code(self, working: np.ndarray) -> np.ndarray:
        """Working → 8-bit ACEScct codes, exact by formula in five OpenCV passes (threaded, rounded once):
        the log segment of the values held at the break, and the straight segment, the lower of the two (the
        straight one is tangent to the log at the break and above it elsewhere, the log one flat below it)."""
        ap1 = np.ascontiguousarray(working, np.float32)
        if not np.array_equal(self._to_ap1, np.eye(3, dtype=np.float32)):
            ap1 = cv2.transform(ap1, self._to_ap1)
        held = cv2.max(ap1, (_ACESCCT_BREAK,) * 4)     # a bare number would hold red alone
        cv2.log(held, dst=held)
        logged = cv2.addWeighted(held, _CCT_LOG[0], held, 0.0, _CCT_LOG[1], dtype=cv2.CV_8U)
        straight = cv2.addWeighted(ap1, _CCT_LINEAR[0], ap1, 0.0, _CCT_LINEAR[1], dtype=cv2.CV_8U)
        return cv2.min(logged, straight, dst=logged)

    def _from_cct_code(self, code: np.ndarray) -> np.ndarray:
        linear = cv2.LUT(code, _CCT_TABLE)
        if np.array_equal(self._from_ap1, np.eye(3, dtype=np.float32)):
            return linear
        return cv2.transform(linear, self._from_ap1)

    def _lut(self, which: str, make: Any) -> Lut3D:
        with self._lock:
            if which not in self._luts:
                self._luts[which] = Lut3D(make(), title=which)
            return self._luts[which]

    def _view_cube(self, display: str) -> np.ndarray:
        ocio = _ocio()
        cpu = _processor(self.config, ocio.DisplayViewTransform(src="ACEScct", display=display, view=self.view))
        return apply_ocio(cpu, _sample_grid(CUBE_SIZE))

    def _inverse_cube(self, display: str) -> np.ndarray:
        ocio = _ocio()
        cpu = _processor(self.config, ocio.DisplayViewTransform(src="ACEScct", display=display,
                                                                view=self.view,
                                                                direction=ocio.TRANSFORM_DIR_INVERSE))
        return apply_ocio(cpu, _sample_grid(CUBE_SIZE))


@cache
def comp_space(config: str = DEFAULT_CONFIG, working: str = "ACEScg", display: str = "Rec.1886 Rec.709 - Display",
               view: str = "ACES 2.0 - SDR 100 nits (Rec.709)", generated: str = "sRGB - Display") -> CompSpace:
    """:meth:`CompSpace.open`, once per process for the same settings: its view tables are baked once."""
    return CompSpace.open(config, working=working, display=display, view=view, generated_display=generated)


# ACEScct × 255 as a·ln(x) + b above the break, c·x + d below it
_CCT_LOG = (255.0 / (17.52 * float(np.log(2.0))), 9.72 * 255.0 / 17.52)
_CCT_LINEAR = (10.5402377416545 * 255.0, 0.0729055341958355 * 255.0)
VIDEO = "Camera Rec.709"        # the encoding a log plate is keyed in
_KEPT_RENDITIONS = 6            # a render's frames in flight (2 × its threads) and one
_CCT_TABLE = acescct_to_linear(np.arange(256, dtype=np.float32) / 255.0).reshape(256, 1, 1).repeat(3, axis=2)



@dataclass(frozen=True, eq=False)
class ShotColour:
    """One shot's colour, prepared: its plate's encoding, its grade (CDL then film LUT), and its view.

    The key runs on video code values, which the keyer's screen measure and levels are tuned on: a plate in a
    video encoding (Rec.709, sRGB) is keyed as it is; a camera log plate in its camera's Rec.709 rendition
    (``Camera Rec.709``: the BT.709 curve, no tone mapping), because in log code a green screen is so
    desaturated that the keyer finds none (the example's LogC4 plate: 0 % screen-coloured), and in linear
    light a dark screen's differences crowd into a few values. The despilled foreground then enters the
    working space from that rendition; everything after the key runs there, float32.
    """

    space: CompSpace
    plate_space: str
    cdl: Cdl | None = None
    cdl_space: str = "ACEScct"
    lut_space: str | None = None        # None: the film LUT takes the review display's code, after the view
    _renditions: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, space: CompSpace, *, plate_space: str, cdl: Cdl | None = None, cdl_space: str = "ACEScct",
             lut_space: str | None = None) -> ShotColour:
        """Every name checked against the config, so a typo stops the render before its first frame."""
        return cls(space, space.name(plate_space, "plate space"), cdl, space.name(cdl_space, "CDL space"),
                   None if lut_space is None else space.name(lut_space, "LUT space"))

    def plate(self, code: np.ndarray) -> np.ndarray:
        """The plate's own code values (unkeyed) → working float32."""
        return self.space.decode(self.plate_space)(code)

    def keyable(self, code: np.ndarray) -> np.ndarray:
        """The plate as the keyer takes it: as it is when video-encoded, else its Rec.709 rendition.

        The last few renditions are kept by plate (the very array): each frame is keyed with the plate
        before it, so without them every log plate frame would be converted twice."""
        if self.space.is_video(self.plate_space):
            return code
        with self._lock:
            for seen, rendition in self._renditions:
                if seen is code:
                    return rendition
        rendition = self.space.to_video(code, self.plate_space)
        with self._lock:
            self._renditions.append((code, rendition))
            del self._renditions[:-_KEPT_RENDITIONS]
        return rendition

    def keyed(self, fg: np.ndarray, plate: np.ndarray | None = None, rendition: np.ndarray | None = None,
              matte: np.ndarray | None = None) -> np.ndarray:
        """A keyed foreground (in :meth:`keyable`'s encoding) → working float32. Where the video rendition
        clipped (a log plate's light above what Rec.709 holds), the plate's own decoded value is taken, so
        highlights over 1.0 survive the key. With its ``matte``, only the box around the subject is converted
        (the rest, which nothing shows, is 0): an actor is a part of the frame, each float pass a big one."""
        box: tuple[slice, ...] = (slice(None), slice(None))
        if matte is not None and matte.shape == fg.shape[:2]:
            x, y, w, h = cv2.boundingRect(matte)
            box = (slice(y, y + h), slice(x, x + w))
        part = np.ascontiguousarray(fg[box])
        if self.space.is_video(self.plate_space):
            decoded = self.plate(part)
        else:
            decoded = self.space.decode(VIDEO)(part)
            if plate is not None and rendition is not None and plate.shape == fg.shape == rendition.shape:
                clipped = rendition[box]
                hot = cv2.inRange(clipped, (0, 0, 0), (254, 254, 254))
                if cv2.countNonZero(hot) < hot.size:
                    hot = hot == 0
                    decoded[hot] = self.plate(np.ascontiguousarray(plate[box][hot]).reshape(-1, 1, 3)).reshape(-1, 3)
        if decoded.shape[:2] == fg.shape[:2]:
            return decoded
        out = np.zeros(fg.shape, np.float32)
        out[box] = decoded
        return out

    def grade(self, working: np.ndarray) -> np.ndarray:
        """The shot's CDL in the space it declares; values above 1.0 pass through."""
        if self.cdl is None:
            return working
        if self.cdl_space == "ACEScct" and np.array_equal(self.space._to_ap1, np.eye(3, dtype=np.float32)):
            return acescct_to_linear(self.cdl.apply(acescct(working)))
        graded = self.cdl.apply(self.space.convert(working, self.space.working, self.cdl_space))
        return self.space.convert(graded, self.cdl_space, self.space.working)

    def display(self, working: np.ndarray, lut: Lut3D | None = None) -> np.ndarray:
        """The review display's 8-bit code values: through the view, then the film LUT; or, for a LUT that
        declares a scene space (a show LUT made for LogC, say), through that LUT in place of the view."""
        if lut is None:
            return self.space.to_display(working)
        if self.lut_space is None:
            return lut.apply(self.space.to_display(working))
        if self.lut_space == "ACEScct":
            return lut.apply(self.space._cct_code(working))
        code = self.space.convert(working, self.space.working, self.lut_space)
        return lut.apply(np.rint(np.clip(code, 0.0, 1.0) * 255.0).astype(np.uint8))


def defocused(space: CompSpace, still: np.ndarray, depth: np.ndarray, *, focus: float, amount: float,
              take_space: str | None = None) -> np.ndarray:
    """A set's still (8-bit, in its take's space) defocused in scene-linear light, and back in its own
    encoding: a lens spreads light, so a small bright lamp becomes a bright bokeh disc, where averaging display
    code values makes a dim grey one. Once per shot, before the camera move, like ``light.defocus``."""
    linear = space.from_take(np.ascontiguousarray(still), take_space)
    blurred = defocus(linear, depth, focus=focus, amount=amount)
    return still if blurred is linear else space.to_take(blurred, take_space)


def motion_blurred(space: CompSpace, rgba: np.ndarray, previous: np.ndarray, *, shutter: float,
                   take_space: str | None = None) -> np.ndarray:
    """An element's motion blur (``light.motion_blur``) integrated in scene-linear light, 8-bit straight RGBA in
    its take's space in and out: a shutter adds up light, so a lamp's streak stays as bright as the lamp, where
    averaging display code values greys it out. Taken in premultiplied, as a managed comp takes elements."""
    def linear(frame: np.ndarray) -> np.ndarray:      # converted only where the element is (alpha > 0)
        alpha = frame[..., 3:4].astype(np.float32) * np.float32(1 / 255)
        out = np.zeros(frame.shape, np.float32)
        out[..., 3:] = alpha
        box = _box(frame[..., 3])
        if box is not None:
            code = np.rint(frame[box][..., :3] * alpha[box]).astype(np.uint8)
            scene = space.from_take(code, take_space)
            np.divide(scene, alpha[box], out=out[box][..., :3], where=alpha[box] > 0)
        return out

    now = linear(rgba)
    blurred = motion_blur(now, linear(previous), shutter=shutter)
    if blurred is now:
        return rgba
    alpha = np.rint(np.clip(blurred[..., 3], 0.0, 1.0) * 255).astype(np.uint8)
    out = np.zeros(rgba.shape, np.uint8)
    out[..., 3] = alpha
    box = _box(alpha)
    if box is not None:
        out[box][..., :3] = space.to_take(np.ascontiguousarray(blurred[box][..., :3]), take_space)
    return out


def _box(alpha: np.ndarray) -> tuple[slice, slice] | None:
    """Rows and columns around the non-zero alpha; None when there is none."""
    x, y, w, h = cv2.boundingRect(alpha)
    return (slice(y, y + h), slice(x, x + w)) if w and h else None


HDR_TRANSFERS = {"smpte2084": "PQ", "arib_std_b67": "HLG"}


def plate_tag_warning(space: CompSpace, declared: str, said: dict[str, str]) -> str | None:
    """One line when a plate's own metadata (``media.probe.file_colour``) names another encoding than the one
    shots.toml declares: an EXR's interop id, or a movie's HDR transfer under an SDR space. The declared one
    is used; the crew decides which is right."""
    name = space.name(declared, "plate space")
    interop = said.get("colorInteropID")
    if interop and interop != space.interop_id(name):
        return f"the plate says it is {interop} (colorInteropID) but is declared {name!r}; used as declared"
    hdr = HDR_TRANSFERS.get(said.get("transfer", ""))
    if hdr and hdr not in name and "2100" not in name:
        return f"the plate's transfer is {hdr} ({said['transfer']}) but it is declared {name!r}; used as declared"
    return None
