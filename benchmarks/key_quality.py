"""Keying quality: soundstage's keyer against FFmpeg's chromakey + despill on plates with a known matte.

Each material image (``fg/NAME.png``, the subject's own colour, and ``alpha/NAME.png``, its matte) is shot
over a green and over a blue screen, lit unevenly (a gradient, a hot spot, a vignette), with screen-coloured
spill on the subject near its edge and sensor noise, from fixed seeds; each plate is keyed as it is ("clean",
RGB) and after an H.264 4:2:0 encode and decode ("h264", what a camera or a review file hands over).

- **soundstage**: ``measure_screen(plate, "auto")`` then ``key(plate, screen)``, the render's defaults.
- **FFmpeg** (PyAV's bundled libavfilter, ``av.filter.Graph``): ``format → chromakey → format=rgba →
  despill → buffersink``, keyed on the *same measured screen colour*, converted to the YUV the filter sees.
  The clean plate reaches chromakey as yuva444p, the H.264 one as decoded yuva420p. Its ``similarity`` and
  ``blend`` are grid-tuned for the lowest mean SAD, then despill's ``mix`` and ``expand`` for the lowest
  colour error, per screen colour and per clean/H.264, on the *other half* of the material (two folds by
  subject) shot from different seeds; with a single subject, on other seeds of it.

Scores per plate (alphamatting.com's measures, over the whole frame): SAD = Σ|α − α_true| / 1000 with α in
0..1; MSE = mean (α − α_true)², reported ×10³; colour error = mean |fg − fg_true| over R, G, B in levels
(0..255), weighted by α_true, over pixels with α_true > 0.05, where fg is the keyer's despilled colour and
fg_true the subject's colour before any spill. The SAD is also split into the edge band (0 < α_true < 1,
grown by 3 px), the solid subject and the open screen, to show where each keyer loses; ``edge_bias_low`` and
``edge_bias_high`` (JSON only) are the mean signed α error over the band where α_true < 0.5 and ≥ 0.5: a
low one below 0 with a high one above 0 means the soft edge is keyed too hard.

Material: ``--material DIR``; else ``../shared/bench/keying`` beside the repository when it holds ``fg/`` and
``alpha/`` (the real ground-truth set); else the stand-in in ``benchmarks/keying/`` (pulled mattes).

    .venv/bin/python benchmarks/key_quality.py [--material DIR] [--small] [--json]
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import platform
import sys
import time
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import cv2
import numpy as np

from soundstage.comp import key, measure_screen

ROOT = Path(__file__).resolve().parents[1]
STAND_IN = ROOT / "benchmarks" / "keying"
SHARED = ROOT.parent / "shared" / "bench" / "keying"

Screen = Literal["green", "blue"]
Codec = Literal["clean", "h264"]
SCREENS: dict[Screen, tuple[int, int, int]] = {"green": (52, 168, 78), "blue": (28, 72, 182)}
TEST_SEED, TUNE_SEED = 0, 1000          # plates scored, and the different plates FFmpeg is tuned on
H264 = {"crf": "18", "preset": "medium"}  # a camera-quality encode: 4:2:0 chroma is what matters here

# chromakey's distance is √((ΔU² + ΔV²) / 2) / 255 averaged over 3×3: sensor noise on the screen is ~0.01,
# a skin tone against green ~0.2, so the useful similarities lie well below 0.2.
SIMILARITY = [0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2]
BLEND = [0.0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.13, 0.17, 0.22, 0.3]
SMALL_GRID = ([0.01, 0.02, 0.04, 0.06, 0.1], [0.02, 0.05, 0.1, 0.17])
MIX = [0.2, 0.35, 0.5, 0.65, 0.8]
EXPAND = [0.0, 0.1, 0.2, 0.35]


# ------------------------------------------------------------------------------------------------ material


@dataclass(frozen=True)
class Material:
    """One subject: its own colour (H×W×3 float32, 0..255, straight) and its matte (H×W float32, 0..1)."""

    name: str
    fg: np.ndarray
    alpha: np.ndarray


def material_dir(given: Path | None = None) -> Path:
    """The folder to read: the one given, else the shared ground-truth set if it has landed, else the stand-in."""
    if given is not None:
        return given
    if (SHARED / "fg").is_dir() and (SHARED / "alpha").is_dir():
        return SHARED
    return STAND_IN


def _read(path: Path, flags: int) -> np.ndarray:
    image = cv2.imread(str(path), flags)
    if image is None:
        raise SystemExit(f"cannot read {path}")
    return image


def load_material(folder: Path, names: list[str] | None = None, scale: float = 1.0,
                  max_side: int = 0) -> list[Material]:
    """Every ``fg/NAME.png`` with its ``alpha/NAME.png`` (8- or 16-bit, grey or RGB), cropped to even sizes."""
    found = sorted(p.stem for p in (folder / "fg").glob("*.png") if (folder / "alpha" / p.name).is_file())
    if not found:
        raise SystemExit(f"no fg/NAME.png with a matching alpha/NAME.png in {folder}")
    missing = sorted(set(names or ()) - set(found))
    if missing:
        raise SystemExit(f"no material named {', '.join(missing)} in {folder} (there is: {', '.join(found)})")
    chosen = [n for n in found if names is None or n in names]
    out = []
    for name in chosen:
        fg = _read(folder / "fg" / f"{name}.png", cv2.IMREAD_UNCHANGED)
        alpha = _read(folder / "alpha" / f"{name}.png", cv2.IMREAD_UNCHANGED)
        fg_max, alpha_max = float(np.iinfo(fg.dtype).max), float(np.iinfo(alpha.dtype).max)
        fg = cv2.cvtColor(fg[..., :3] if fg.ndim == 3 else cv2.cvtColor(fg, cv2.COLOR_GRAY2BGR),
                          cv2.COLOR_BGR2RGB).astype(np.float32) * np.float32(255.0 / fg_max)
        alpha = (alpha[..., 0] if alpha.ndim == 3 else alpha).astype(np.float32) / np.float32(alpha_max)
        if fg.shape[:2] != alpha.shape:
            raise SystemExit(f"{name}: fg is {fg.shape[1]}×{fg.shape[0]}, alpha {alpha.shape[1]}×{alpha.shape[0]}")
        factor = scale
        if max_side and max(alpha.shape) * factor > max_side:
            factor = max_side / max(alpha.shape)
        if factor != 1.0:   # shrink coverage and premultiplied colour by area, then unpremultiply
            size = (round(alpha.shape[1] * factor), round(alpha.shape[0] * factor))
            premult = cv2.resize(fg * alpha[..., None], size, interpolation=cv2.INTER_AREA)
            alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
            fg = premult / np.maximum(alpha, 1e-6)[..., None]
        height, width = alpha.shape[0] // 2 * 2, alpha.shape[1] // 2 * 2     # 4:2:0 wants even sizes
        out.append(Material(name, np.ascontiguousarray(np.clip(fg[:height, :width], 0, 255)),
                            np.ascontiguousarray(np.clip(alpha[:height, :width], 0, 1))))
    return out


# -------------------------------------------------------------------------------------------------- plates


@dataclass(frozen=True)
class Plate:
    """What the camera saw (RGB uint8, and the decoded frame FFmpeg gets), and the truth behind it."""

    name: str
    screen: Screen
    codec: Codec
    seed: int
    rgb: np.ndarray             # H×W×3 uint8, what soundstage keys
    frame: av.VideoFrame        # the same picture as FFmpeg is handed it (rgb24, or decoded yuv420p)
    alpha: np.ndarray           # H×W float32 0..1, the true matte
    fg: np.ndarray              # H×W×3 float32 0..255, the subject's colour without spill

    @property
    def label(self) -> str:
        return f"{self.name} {self.screen} {self.codec}"


def screen_light(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Uneven screen light (H×W float32 around 1): a broad gradient, a hot spot and a vignette."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = xx / width, yy / height
    angle = rng.uniform(0, 2 * np.pi)
    along = (u - 0.5) * np.cos(angle) + (v - 0.5) * np.sin(angle)
    light = 1.0 + rng.uniform(0.25, 0.45) * along
    hx, hy, gain = rng.uniform(0.15, 0.85), rng.uniform(0.15, 0.6), rng.uniform(0.2, 0.4)
    aspect = width / height
    light *= 1.0 + gain * np.exp(-((u - hx) ** 2 * aspect**2 + (v - hy) ** 2) / (2 * 0.2**2))
    light *= 1.0 - rng.uniform(0.2, 0.35) * ((u - 0.5) ** 2 + (v - 0.5) ** 2) * 1.6
    return light.astype(np.float32)


def add_spill(fg: np.ndarray, alpha: np.ndarray, screen: np.ndarray, level: float) -> np.ndarray:
    """Screen light bounced onto the subject (float32 RGB), strongest within ~1.5 % of the frame of its
    outline and on bright surfaces; only the screen's excess over grey, so it adds screen colour, not light."""
    height, width = alpha.shape
    near_edge = cv2.GaussianBlur((alpha < 0.99).astype(np.float32), (0, 0), max(2.0, 0.015 * max(height, width)))
    excess = (screen - screen.min()) / (screen.max() - screen.min())
    brightness = fg.mean(axis=-1, keepdims=True) / 128.0
    return fg + (level * near_edge)[..., None] * brightness * excess


def shoot(material: Material, screen: Screen, seed: int) -> np.ndarray:
    """The subject over an unevenly lit screen, spilled on near its edge, with sensor noise (RGB uint8)."""
    rng = np.random.default_rng([seed, zlib.crc32(material.name.encode()), 0 if screen == "green" else 1])
    height, width = material.alpha.shape
    nominal = np.array(SCREENS[screen], np.float32) * np.float32(rng.uniform(0.92, 1.06))
    backing = screen_light(height, width, rng)[..., None] * nominal

    alpha = material.alpha
    spilled = add_spill(material.fg, alpha, nominal, rng.uniform(30.0, 50.0))
    picture = alpha[..., None] * spilled + (1.0 - alpha[..., None]) * backing
    picture += rng.normal(0.0, 1.8, (height, width, 1)).astype(np.float32)     # luma noise
    picture += rng.normal(0.0, 0.9, (height, width, 3)).astype(np.float32)     # and a little chroma noise
    return np.clip(picture + 0.5, 0, 255).astype(np.uint8)


def h264_roundtrip(rgb: np.ndarray) -> av.VideoFrame:
    """The plate through a libx264 yuv420p encode and back: the decoded frame, chroma at half resolution."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "yuv420p"
        stream.options = dict(H264)
        container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    buffer.seek(0)
    with av.open(buffer, mode="r") as container:
        return next(container.decode(video=0))


def make_plate(material: Material, screen: Screen, codec: Codec, seed: int) -> Plate:
    rgb = shoot(material, screen, seed)
    if codec == "h264":
        frame = h264_roundtrip(rgb)
        rgb = frame.to_ndarray(format="rgb24")          # what soundstage.media.read_frames hands the keyer
    else:
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    return Plate(material.name, screen, codec, seed, rgb, frame, material.alpha, material.fg)


# ---------------------------------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class FFmpegKey:
    """FFmpeg's settings for one condition: chromakey's similarity and blend, despill's mix and expand."""

    similarity: float = 0.1
    blend: float = 0.05
    mix: float = 0.5
    expand: float = 0.0


def screen_yuv(rgb: tuple[float, float, float], codec: Codec) -> tuple[int, int, int]:
    """The measured screen colour as the filter's input has it (BT.601 limited range, swscale's rounding),
    so chromakey compares like with like (its own RGB→YUV uses other coefficients)."""
    patch = np.empty((16, 16, 3), np.uint8)
    patch[:] = np.clip(np.round(np.array(rgb) * 255.0), 0, 255).astype(np.uint8)
    frame = av.VideoFrame.from_ndarray(patch, format="rgb24").reformat(format="yuv420p" if codec == "h264"
                                                                        else "yuv444p")
    y, u, v = (int(np.frombuffer(memoryview(plane), np.uint8)[0]) for plane in frame.planes)
    return y, u, v


def ffmpeg_key(plate: Plate, colour: tuple[int, int, int], settings: FFmpegKey,
               despill: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """Key with FFmpeg: the despilled colour (H×W×3 uint8; None without despill) and the matte (H×W uint8)."""
    frame = plate.frame
    graph = av.filter.Graph()
    source = graph.add_buffer(width=frame.width, height=frame.height, format=frame.format,
                              time_base=Fraction(1, 24))
    y, u, v = colour
    chain = [source,
             graph.add("format", "yuva420p" if plate.codec == "h264" else "yuva444p"),
             graph.add("chromakey", f"color=0x{y:02x}{u:02x}{v:02x}:similarity={settings.similarity}"
                                    f":blend={settings.blend}:yuv=1")]
    if despill:
        chain += [graph.add("format", "rgba"),
                  graph.add("despill", f"type={plate.screen}:mix={settings.mix}:expand={settings.expand}")]
    chain.append(graph.add("buffersink"))
    graph.link_nodes(*chain)
    graph.configure()
    frame.pts = 0
    graph.push(frame)
    out = graph.vpull()
    if not despill:
        return None, np.frombuffer(memoryview(out.planes[3]), np.uint8).reshape(out.height, -1)[:, :out.width].copy()
    rgba = out.to_ndarray(format="rgba")
    return np.ascontiguousarray(rgba[..., :3]), np.ascontiguousarray(rgba[..., 3])


def soundstage_key(plate: Plate) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """Key with soundstage as the render does: the despilled colour, the matte, and the measured screen."""
    screen = measure_screen(plate.rgb, "auto")
    fg, matte = key(plate.rgb, screen)
    return fg, matte, screen.rgb


# ------------------------------------------------------------------------------------------------- scoring


def sad(matte: np.ndarray, truth: np.ndarray) -> float:
    return float(np.abs(matte.astype(np.float32) / 255.0 - truth).sum() / 1000.0)


def colour_error(fg: np.ndarray, plate: Plate) -> float:
    weight = np.where(plate.alpha > 0.05, plate.alpha, 0.0)
    diff = np.abs(fg.astype(np.float32) - plate.fg).mean(axis=-1)
    return float((diff * weight).sum() / max(float(weight.sum()), 1e-6))


def regions(truth: np.ndarray) -> dict[str, np.ndarray]:
    """Where the true matte is soft (grown by 3 px), and the solid subject and open screen beyond it."""
    soft = ((truth > 0.0) & (truth < 1.0)).astype(np.uint8)
    band = cv2.dilate(soft, np.ones((7, 7), np.uint8)) > 0
    return {"edge": band, "subject": ~band & (truth >= 1.0), "screen": ~band & (truth <= 0.0)}


def score(fg: np.ndarray, matte: np.ndarray, plate: Plate) -> dict[str, float]:
    error = matte.astype(np.float32) / 255.0 - plate.alpha
    out = {"sad": float(np.abs(error).sum() / 1000.0), "mse": float(1e3 * np.mean(error**2)),
           "colour": colour_error(fg, plate)}
    places = regions(plate.alpha)
    for where, mask in places.items():
        out[f"sad_{where}"] = float(np.abs(error[mask]).sum() / 1000.0)
    # Signed: is the soft edge keyed too hard (low α too low, high α too high) or too soft?
    low = plate.alpha < 0.5
    for half, mask in (("low", places["edge"] & low), ("high", places["edge"] & ~low)):
        out[f"edge_bias_{half}"] = float(error[mask].mean()) if mask.any() else 0.0
    return out


# -------------------------------------------------------------------------------------------------- tuning


def tune(plates: list[Plate], small: bool) -> FFmpegKey:
    """The chromakey similarity and blend with the lowest mean SAD on ``plates``, then despill's mix and
    expand with the lowest mean colour error: a coarse grid, then a finer one around the best."""
    colours = [screen_yuv(measure_screen(p.rgb, "auto").rgb, p.codec) for p in plates]

    def mean_sad(similarity: float, blend: float) -> float:
        settings = FFmpegKey(similarity, blend)
        return float(np.mean([sad(ffmpeg_key(p, c, settings, despill=False)[1], p.alpha)
                              for p, c in zip(plates, colours, strict=True)]))

    similarities, blends = SMALL_GRID if small else (SIMILARITY, BLEND)
    best = min(itertools.product(similarities, blends), key=lambda sb: mean_sad(*sb))
    if not small:   # refine: half steps around the best
        s0, b0 = best
        finer = itertools.product(sorted({max(0.002, s0 + d) for d in (-0.006, -0.003, 0.0, 0.003, 0.006)}),
                                  sorted({max(0.0, b0 + d) for d in (-0.01, -0.005, 0.0, 0.005, 0.01)}))
        best = min(finer, key=lambda sb: mean_sad(*sb))
    similarity, blend = round(best[0], 4), round(best[1], 4)

    def mean_colour(mix: float, expand: float) -> float:
        settings = FFmpegKey(similarity, blend, mix, expand)
        keyed = [ffmpeg_key(p, c, settings) for p, c in zip(plates, colours, strict=True)]
        return float(np.mean([colour_error(fg, p) for (fg, _), p in zip(keyed, plates, strict=True)
                              if fg is not None]))

    mixes, expands = (MIX[::2], EXPAND[:2]) if small else (MIX, EXPAND)
    mix, expand = min(itertools.product(mixes, expands), key=lambda me: mean_colour(*me))
    return FFmpegKey(similarity, blend, mix, expand)


# ----------------------------------------------------------------------------------------------------- run


def machine() -> dict[str, Any]:
    """What the figures were measured on, for the docs."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "numpy": np.__version__, "opencv": cv2.__version__, "pyav": av.__version__,
            "libavfilter": ".".join(map(str, av.library_versions["libavfilter"]))}


def run(material: Path | None = None, *, small: bool = False, names: list[str] | None = None,
        scale: float | None = None, codecs: tuple[Codec, ...] = ("clean", "h264"),
        screens: tuple[Screen, ...] = ("green", "blue"), max_side: int = 0) -> dict[str, Any]:
    """Build the plates, tune FFmpeg on the other fold, key and score every plate with both keyers."""
    started = time.perf_counter()
    folder = material_dir(material)
    if small and names is None:
        names = sorted(p.stem for p in (folder / "fg").glob("*.png"))[:2]
    subjects = load_material(folder, names, scale if scale is not None else (0.5 if small else 1.0), max_side)
    # Two folds by subject, each keyed with settings tuned on the other; a lone subject tunes on other seeds.
    folds = [subjects[0::2], subjects[1::2]] if len(subjects) > 1 else [subjects]
    conditions = [(s, c) for s in screens for c in codecs]

    tuned: dict[str, dict[str, Any]] = {}
    for fold, held_out in enumerate(folds):
        tuning_set = folds[1 - fold] if len(folds) == 2 else held_out
        for screen, codec in conditions:
            plates = [make_plate(m, screen, codec, TUNE_SEED) for m in tuning_set]
            settings = tune(plates, small)
            tuned[f"{fold}/{screen}/{codec}"] = {
                "similarity": settings.similarity, "blend": settings.blend, "mix": settings.mix,
                "expand": settings.expand, "tuned_on": [m.name for m in tuning_set], "seed": TUNE_SEED,
                "applies_to": [m.name for m in held_out]}

    rows: list[dict[str, Any]] = []
    for fold, held_out in enumerate(folds):
        for subject in held_out:
            for screen, codec in conditions:
                plate = make_plate(subject, screen, codec, TEST_SEED)
                fg, matte, rgb = soundstage_key(plate)
                t = tuned[f"{fold}/{screen}/{codec}"]
                settings = FFmpegKey(t["similarity"], t["blend"], t["mix"], t["expand"])
                ff_fg, ff_matte = ffmpeg_key(plate, screen_yuv(rgb, codec), settings)
                assert ff_fg is not None
                rows.append({"plate": subject.name, "screen": screen, "codec": codec,
                             "size": f"{plate.rgb.shape[1]}x{plate.rgb.shape[0]}",
                             "soundstage": score(fg, matte, plate), "ffmpeg": score(ff_fg, ff_matte, plate),
                             "ffmpeg_settings": f"{fold}/{screen}/{codec}"})

    def mean(keyer: str, field: str, subset: list[dict[str, Any]]) -> float:
        return float(np.mean([r[keyer][field] for r in subset]))

    fields = ["sad", "mse", "colour", "sad_edge", "sad_subject", "sad_screen", "edge_bias_low", "edge_bias_high"]
    means = {k: {f: mean(k, f, rows) for f in fields} for k in ("soundstage", "ffmpeg")}
    by_condition = {}
    for screen, codec in conditions:
        subset = [r for r in rows if r["screen"] == screen and r["codec"] == codec]
        by_condition[f"{screen}/{codec}"] = {k: {f: mean(k, f, subset) for f in fields}
                                             for k in ("soundstage", "ffmpeg")}
    return {"benchmark": "key_quality", "material": str(folder), "small": small, "machine": machine(),
            "scores": {"sad": "sum |a - a_true| / 1000, alpha 0..1, whole frame",
                       "mse": "mean (a - a_true)^2 x 1e3, alpha 0..1, whole frame",
                       "colour": "mean |fg - fg_true| in levels 0..255, weighted by a_true, where a_true > 0.05"},
            "plates": rows, "mean": means, "by_condition": by_condition,
            "sad_ratio": means["soundstage"]["sad"] / max(means["ffmpeg"]["sad"], 1e-9),
            "sad_ratio_by_codec": {c: mean("soundstage", "sad", [r for r in rows if r["codec"] == c])
                                   / max(mean("ffmpeg", "sad", [r for r in rows if r["codec"] == c]), 1e-9)
                                   for c in codecs},
            "sad_ratio_median_plate": float(np.median([r["soundstage"]["sad"] / max(r["ffmpeg"]["sad"], 1e-9)
                                                       for r in rows])),
            "ffmpeg_settings": tuned, "seconds": time.perf_counter() - started}


def table(result: dict[str, Any]) -> str:
    lines = ["| plate | screen | codec | SAD ss | SAD ff | MSE×10³ ss | MSE×10³ ff | colour ss | colour ff |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["plates"]:
        s, f = r["soundstage"], r["ffmpeg"]
        lines.append(f"| {r['plate']} | {r['screen']} | {r['codec']} | {s['sad']:.2f} | {f['sad']:.2f} | "
                     f"{s['mse']:.2f} | {f['mse']:.2f} | {s['colour']:.1f} | {f['colour']:.1f} |")
    s, f = result["mean"]["soundstage"], result["mean"]["ffmpeg"]
    lines.append(f"| **mean** | | | **{s['sad']:.2f}** | **{f['sad']:.2f}** | **{s['mse']:.2f}** | "
                 f"**{f['mse']:.2f}** | **{s['colour']:.1f}** | **{f['colour']:.1f}** |")
    by_codec = ", ".join(f"{c} {v:.2f}" for c, v in result["sad_ratio_by_codec"].items())
    lines += ["", f"Mean SAD ratio soundstage / FFmpeg: **{result['sad_ratio']:.2f}** ({by_codec}; median of the "
              f"per-plate ratios {result['sad_ratio_median_plate']:.2f})", "",
              "| condition | SAD ss | SAD ff | edge ss | edge ff | subject ss | subject ff | screen ss | screen ff |"
              " colour ss | colour ff |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for condition, m in [*result["by_condition"].items(), ("all", result["mean"])]:
        s, f = m["soundstage"], m["ffmpeg"]
        lines.append(f"| {condition} | {s['sad']:.2f} | {f['sad']:.2f} | {s['sad_edge']:.2f} | "
                     f"{f['sad_edge']:.2f} | {s['sad_subject']:.2f} | {f['sad_subject']:.2f} | "
                     f"{s['sad_screen']:.2f} | {f['sad_screen']:.2f} | {s['colour']:.1f} | {f['colour']:.1f} |")
    lines += ["", "| FFmpeg settings (fold/screen/codec) | similarity | blend | despill mix | expand | tuned on "
              "| used for |", "|---|---:|---:|---:|---:|---|---|"]
    for name, t in result["ffmpeg_settings"].items():
        lines.append(f"| {name} | {t['similarity']} | {t['blend']} | {t['mix']} | {t['expand']} | "
                     f"{', '.join(t['tuned_on'])} | {', '.join(t['applies_to'])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--material", type=Path, help="a folder with fg/NAME.png and alpha/NAME.png")
    parser.add_argument("--small", action="store_true", help="two subjects at half size, a coarse grid (CI)")
    parser.add_argument("--only", nargs="*", metavar="NAME", help="only these subjects")
    parser.add_argument("--scale", type=float, help="shrink the material by this factor first")
    parser.add_argument("--max-side", type=int, default=0, help="shrink larger material to this many pixels")
    parser.add_argument("--no-h264", action="store_true", help="key the clean plates only")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    codecs: tuple[Codec, ...] = ("clean",) if args.no_h264 else ("clean", "h264")
    result = run(args.material, small=args.small, names=args.only, scale=args.scale, codecs=codecs,
                 max_side=args.max_side)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"material: {result['material']} ({len(result['plates'])} plates, {result['seconds']:.0f} s)\n")
        print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
