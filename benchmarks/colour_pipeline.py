"""Colour management, measured: the ColorChecker round trip through a colour-managed comp, and what float costs.

**Round trip** (:func:`round_trip`): colour-science's ColorChecker 2005 (adapted to D65 by Bradford), plus its
white patch three stops over (light above 1.0), is encoded by OCIO as a camera plate in ``camera``'s encoding
at ``bits`` per channel (10: what a ProRes or DPX camera file holds; 8: what an H.264 proxy holds), comped
key-less by ``ShotComp`` in ACEScg float32, written as the shot's half-float EXR master, read back, and compared
with the reference in CIE ΔE2000. A Rec.709 camera cannot record the chart's cyan (outside BT.709's gamut), so
its reference is the chart as it can record it (clipped to the gamut).

**Cost** (:func:`cost`): one 1080p green-screen frame comped over a set, on one thread of ours, frames in
memory: today's 8-bit path (``ShotComp`` unmanaged, the video plate) against the colour-managed one (the same
take as an 8-bit LogC4 recording, keyed in its Rec.709 rendition, the actor decoded into ACEScg, the set
through the inverse view, float32 stacking, the view out), taken in turns, median of ``repeat`` each. Beside
it: the RGB → Y'CbCr step of the review encode (OpenCV's BT.601 that it was, swscale's BT.709 that it is), and
the memory bound of one float32 1080p RGB pass (``np.copyto``).

    .venv/bin/python benchmarks/colour_pipeline.py [--small] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import colour
import cv2
import numpy as np

from soundstage.comp.colour import CompSpace, ShotColour, comp_space
from soundstage.comp.shot import ShotComp
from soundstage.media import read_exr
from soundstage.media.exr import ExrSpace
from soundstage.media.sequence import ImageSequenceWriter
from soundstage.media.video import REC709_FRAME

D65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]
REC709 = colour.RGB_COLOURSPACES["ITU-R BT.709"]
HOT = 8.0                         # the white patch again, three stops over
CAMERAS = ("ARRI LogC4", "ARRI LogC3", "S-Log3", "Canon Log 3", "Rec.709")


# --------------------------------------------------------------------------------------------- the chart

def chart_xyz() -> np.ndarray:
    """The 24 patches' XYZ under D65 (24×3), from the ColorChecker 2005 reference (D50, Bradford-adapted)."""
    checker = colour.CCS_COLOURCHECKERS["ColorChecker 2005"]
    xyy = np.array(list(checker.data.values()))
    return colour.adaptation.chromatic_adaptation_VonKries(colour.xyY_to_XYZ(xyy), colour.xy_to_XYZ(checker.illuminant),
                                                           colour.xy_to_XYZ(D65), transform="Bradford")


def delta_e(xyz_a: np.ndarray, xyz_b: np.ndarray) -> np.ndarray:
    """CIE ΔE2000 between two sets of XYZ (D65)."""
    return colour.delta_E(colour.XYZ_to_Lab(xyz_a, D65), colour.XYZ_to_Lab(xyz_b, D65), method="CIE 2000")


def srgb_code_to_xyz(code: np.ndarray) -> np.ndarray:
    """Display sRGB code values 0..1 → XYZ, as a viewer sees them."""
    return colour.RGB_to_XYZ(code, colour.RGB_COLOURSPACES["sRGB"], apply_cctf_decoding=True)


def patches(values: np.ndarray, size: int, rows: int = 4, cols: int = 6) -> np.ndarray:
    """rows × cols values (N×3, row by row) laid out as patches of ``size`` px."""
    return np.repeat(np.repeat(values.reshape(rows, cols, 3), size, axis=0), size, axis=1)


def read_patches(picture: np.ndarray, size: int, rows: int = 4, cols: int = 6) -> np.ndarray:
    """The mean of each patch's inner half (away from chroma-subsampled edges), (rows·cols)×3."""
    inner = slice(size // 4, size - size // 4)
    cells = picture.reshape(rows, size, cols, size, 3)[:, inner, :, inner]
    return cells.mean(axis=(1, 3)).reshape(rows * cols, 3)


# --------------------------------------------------------------------------------------------- round trip

def round_trip(camera: str, *, bits: int = 10, space: CompSpace | None = None, folder: Path | None = None,
               size: int = 8) -> dict[str, Any]:
    """The chart as a ``bits``-bit ``camera`` plate, through a key-less managed comp and its EXR master."""
    space = space or comp_space()
    shot = ShotColour.open(space, plate_space=camera)
    linear = np.vstack([colour.XYZ_to_RGB(chart_xyz(), REC709), colour.XYZ_to_RGB(chart_xyz()[18:19], REC709) * HOT])
    code = np.clip(space.convert(linear, "Linear Rec.709 (sRGB)", shot.plate_space), 0, 1)
    top = (1 << bits) - 1
    quantised = np.rint(code * top) / top
    values = np.vstack([quantised, np.zeros((30 - len(quantised), 3))])      # 6×5 patches: 25, then black
    plate = np.rint(patches(values, size, rows=5) * 65535).astype(np.uint16)
    height, width = plate.shape[:2]
    comp = ShotComp.prepare(width=width, height=height, frames=1, managed=shot,
                            background=lambda i: np.zeros((height, width, 3), np.uint8))
    master = ExrSpace(space.working, space.interop_id(), space.chromaticities())
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(folder or scratch) / f"chart-{camera.replace(' ', '_')}-{bits}"
        with ImageSequenceWriter(out, "chart.%04d.exr", width=width, height=height, fps=24, alpha=False,
                                 space=master) as writer:
            comp.render([writer], plates=iter([plate]), linear=[True])
        working = read_exr(out / "chart.0001.exr")
    cells = read_patches(space.convert(working, space.working, "Linear Rec.709 (sRGB)"), size, rows=5)
    held = np.clip(linear[:24], 0, 1) if camera == "Rec.709" else linear[:24]
    errors = delta_e(colour.RGB_to_XYZ(held, REC709), colour.RGB_to_XYZ(cells[:24], REC709))
    return {"camera": camera, "space": shot.plate_space, "bits": bits, "mean": float(errors.mean()),
            "max": float(errors.max()), "worst": int(errors.argmax()) + 1, "hot_sent": float(linear[24].mean()),
            "hot_read": float(cells[24].mean()), "exr_max": float(working.max())}


# --------------------------------------------------------------------------------------------- cost

def _median_ms(run: Any, repeat: int) -> float:
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _alternating_ms(first: Any, second: Any, repeat: int) -> tuple[float, float, float, float]:
    """Medians of two runs taken in turns, so a shared machine's load weighs on both alike: wall ms of each,
    then CPU ms of each (all of this process's threads: OpenCV's own pool works on one frame too)."""
    first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    cpu: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for run, kept, spent in ((first, times[0], cpu[0]), (second, times[1], cpu[1])):
            started, used = time.perf_counter(), time.process_time()
            run()
            kept.append(time.perf_counter() - started)
            spent.append(time.process_time() - used)
    return tuple(statistics.median(t) * 1000 for t in (*times, *cpu))  # type: ignore[return-value]


def _as_rendered(comp: ShotComp, plate: np.ndarray) -> Any:
    """One frame comped as a render comps it: a plate array of its own (decoded fresh), keyed with the frame
    before (the previous call's plate), so nothing a comp keeps per plate is found again by accident."""
    frames = [plate.copy()]

    def run() -> None:
        frames.append(plate.copy())
        del frames[:-2]
        comp.comp_frame(0, frames[-1], previous=frames[-2])

    return run


def cost(*, width: int = 1920, height: int = 1080, repeat: int = 8) -> dict[str, Any]:
    """Time per comped frame, 8-bit against colour-managed, on one thread; the encode's matrix; the bound."""
    rng = np.random.default_rng(3)
    plate = np.empty((height, width, 3), np.uint8)
    plate[:] = (40, 180, 60)
    plate += rng.integers(0, 12, plate.shape, dtype=np.uint8)
    plate[height // 4: height * 7 // 8, width // 3: width * 2 // 3] = (170, 120, 100)       # the actor
    backdrop = cv2.GaussianBlur(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), (0, 0), 9)
    space = comp_space()
    recorded = np.rint(np.clip(space.convert(plate.astype(np.float32) / 255, "Camera Rec.709", "ARRI LogC4"), 0, 1)
                       * 255).astype(np.uint8)                   # the same take, as the camera's LogC4 file
    common = {"width": width, "height": height, "frames": 1, "background": lambda i: backdrop, "screen": "green"}
    plain = ShotComp.prepare(**common, first_plate=plate)
    managed = ShotComp.prepare(**common, first_plate=recorded,
                               managed=ShotColour.open(space, plate_space="ARRI LogC4"))
    eight, float_ms, eight_cpu, float_cpu = _alternating_ms(_as_rendered(plain, plate), _as_rendered(managed, recorded),
                                                            repeat)
    frame = av.VideoFrame.from_ndarray(backdrop, format="rgb24")
    bt601 = _median_ms(lambda: cv2.cvtColor(backdrop, cv2.COLOR_RGB2YUV_I420), repeat)
    bt709 = _median_ms(lambda: frame.reformat(format="yuv420p", **REC709_FRAME), repeat)
    source = np.ones((height, width, 3), np.float32)
    target = np.empty_like(source)
    copy = _median_ms(lambda: np.copyto(target, source), max(repeat, 20))
    return {"size": f"{width}x{height}", "repeat": repeat, "comp_8bit_ms": eight, "comp_float_ms": float_ms,
            "ratio": float_ms / eight, "cpu_8bit_ms": eight_cpu, "cpu_float_ms": float_cpu,
            "cpu_ratio": float_cpu / eight_cpu, "load": os.getloadavg()[0],
            "fps_8bit": 1000 / eight, "fps_float": 1000 / float_ms,
            "yuv_bt601_ms": bt601, "yuv_bt709_ms": bt709, "float_pass_ms": copy,
            "float_pass_gbps": 2 * source.nbytes / copy / 1e6, "float_comp_in_passes": float_ms / copy}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="two cameras, a 480×270 frame for the cost")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    space = comp_space()
    cameras = CAMERAS[:2] if args.small else CAMERAS
    trips = [round_trip(camera, bits=bits, space=space) for camera in cameras for bits in (10, 8)]
    spent = cost(width=480, height=270, repeat=3) if args.small else cost()
    if args.json:
        json.dump({"round_trip": trips, "cost": spent}, sys.stdout, indent=1)
        print()
        return 0
    print("| plate | bits | mean ΔE2000 | max ΔE2000 (patch) | white +3 stops: sent → EXR |")
    print("|---|---:|---:|---:|---:|")
    for t in trips:
        print(f"| {t['space']} | {t['bits']} | {t['mean']:.3f} | {t['max']:.3f} ({t['worst']}) | "
              f"{t['hot_sent']:.3f} → {t['hot_read']:.3f} |")
    print()
    for key, value in spent.items():
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
