"""Comp operations: ms per frame of every per-frame op the render can run, and the once-per-shot costs.

What a shot's comp spends, op by op, on one OpenCV thread (``cv2.setNumThreads(1)``: the render runs two
frames at once on a 2-thread pool, so one frame gets one core). Inputs look like a real shot's:

- the plate: ``comp_speed.make_plate`` (the astronaut on an unevenly lit green screen, spill, sensor noise,
  H.264 like a camera file), keyed with soundstage's default key;
- the set: the procedural engine's night rooftops (``comp_speed.make_set``) at the overscan size the
  render generates sets at (2304×1296 for 1080p), with its estimated depth for parallax and defocus;
- the element: two consecutive frames of the procedural engine's fire, for the light blends and motion blur.

Per-frame figures are the median of ``repeat`` calls after one warm-up call; per-shot figures the median of
fewer calls, each on fresh objects so nothing is cached from the call before.

    .venv/bin/python benchmarks/comp_ops.py [--small] [--json] [--repeat N]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from soundstage.comp import key, measure_screen, over
from soundstage.comp.camera import CameraMove, overscan_size
from soundstage.comp.depth import estimate_depth
from soundstage.comp.grade import ColourMatch, Lut3D
from soundstage.comp.grain import Grain
from soundstage.comp.light import defocus, light_wrap, motion_blur
from soundstage.comp.over import add, screen
from soundstage.comp.shot import Element, Look, ShotComp
from soundstage.engines.procedural import element_frame
from soundstage.media import read_frames

sys.path.insert(0, str(Path(__file__).resolve().parent))
from comp_speed import FPS, make_plate, make_set, median_ms  # sibling scripts, not a package
from key_quality import machine

ELEMENT = "fire"
MOVE = "pan-right"
PARALLAX = 0.5
SHUTTER = 0.5
FRAMES = 48                      # the shot length the camera rigs map frame numbers over

Timing = tuple[str, str, float]  # (key, label, ms)


def graded_cube(size: int = 33) -> np.ndarray:
    """A 3D cube that moves every colour (a warm, crossed-channel look), so no lookup is an identity."""
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
    b, g, r = np.meshgrid(ramp, ramp, ramp, indexing="ij")
    return np.stack([np.sqrt(r * 0.9 + g * 0.1), g ** 1.2, 0.5 * b + 0.3 * r], axis=-1).astype(np.float32)


# A once-per-shot cost: no untimed warm-up call, since the first call is the one a shot pays.
shot_ms = functools.partial(median_ms, warm=False)


def run(*, small: bool = False, repeat: int | None = None) -> dict[str, Any]:
    """Build the inputs, then time every op at the size asked for (1080p, or 320×180 with ``small``)."""
    width, height = (320, 180) if small else (1920, 1080)
    repeat = repeat or (3 if small else 20)
    shot_repeat = 1 if small else 3
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return _run(width, height, repeat, shot_repeat, small)
    finally:
        cv2.setNumThreads(threads)


def _run(width: int, height: int, repeat: int, shot_repeat: int, small: bool) -> dict[str, Any]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="comp_ops.") as scratch:
        plate_file = Path(scratch) / "plate.mp4"
        make_plate(plate_file, width, height, frames=3)
        plate = list(read_frames(plate_file))[1]
    still = make_set(*overscan_size(width, height))
    depth = estimate_depth(still)
    fire = [element_frame(ELEMENT, index, FPS, width, height, 3) for index in (12, 13)]
    shot_screen = measure_screen(plate, "auto")
    fg, matte = key(plate, shot_screen)
    flat = CameraMove(MOVE).prepare(still, width, height, frames=FRAMES)
    parallax = CameraMove(MOVE, parallax=PARALLAX).prepare(still, width, height, depth=depth, frames=FRAMES)
    shutter = CameraMove(MOVE, 0.2).prepare(still, width, height, frames=FRAMES, shutter=SHUTTER)
    backdrop = flat(FRAMES // 2)
    grain = Grain.measure(plate, cv2.inRange(matte, 0, 0))
    match = ColourMatch.measure(fg, matte, backdrop, strength=0.8)
    lut = Lut3D(graded_cube())
    element_rgb, element_alpha = np.ascontiguousarray(fire[1][..., :3]), np.ascontiguousarray(fire[1][..., 3])
    look = Look(match_colour=0.8, light_wrap=0.5, grain=True, motion_blur=SHUTTER, lut=lut)
    whole = ShotComp.prepare(width=width, height=height, frames=FRAMES, background=parallax, look=look,
                             elements=[Element(ELEMENT, lambda index: fire[index % 2], "screen")],
                             first_plate=plate, screen=shot_screen)
    made_s = time.perf_counter() - started
    frame_number = itertools.count(1)

    per_frame: list[Timing] = [
        ("key", "key (default settings)", median_ms(lambda: key(plate, shot_screen), repeat)),
        ("key_refine", "key, refine=2 (guided-filter edge)", median_ms(lambda: key(plate, shot_screen, refine=2),
                                                                      repeat)),
        ("over", "over (keyed plate on the set)", median_ms(lambda: over(fg, matte, backdrop), repeat)),
        ("screen", f"screen ({ELEMENT} on the set)", median_ms(lambda: screen(element_rgb, element_alpha, backdrop),
                                                              repeat)),
        ("add", f"add ({ELEMENT} on the set)", median_ms(lambda: add(element_rgb, element_alpha, backdrop), repeat)),
        ("colour_apply", "ColourMatch.apply (keyed fg)", median_ms(lambda: match.apply(fg), repeat)),
        ("lut_apply", "Lut3D.apply (33³ cube)", median_ms(lambda: lut.apply(backdrop), repeat)),
        ("grain_add", "Grain.add (set frame)", median_ms(lambda: grain.add(backdrop, next(frame_number), 1),
                                                         repeat)),
        ("camera_flat", f"camera, flat frame ({MOVE})", median_ms(lambda: flat(next(frame_number) % FRAMES),
                                                                 repeat)),
        ("camera_parallax", f"camera, parallax frame ({MOVE}, parallax {PARALLAX})",
         median_ms(lambda: parallax(next(frame_number) % FRAMES), repeat)),
        ("camera_shutter", f"camera, flat frame + shutter {SHUTTER} ({MOVE} 0.2)",
         median_ms(lambda: shutter(6 + next(frame_number) % (FRAMES - 12)), repeat)),
        ("light_wrap", f"light_wrap (radius {max(2, width // 96)}, strength 0.5)",
         median_ms(lambda: light_wrap(fg, matte, backdrop, radius=max(2, width // 96), strength=0.5), repeat)),
        ("motion_blur", f"motion_blur ({ELEMENT}, shutter {SHUTTER})",
         median_ms(lambda: motion_blur(fire[1], fire[0], shutter=SHUTTER), repeat)),
        ("shot_frame", f"the whole ShotComp.frame: parallax set, grain, key, colour match, light wrap, {ELEMENT} "
                       "(screen, motion blur), LUT",
         median_ms(lambda: whole.frame(1 + next(frame_number) % (FRAMES - 1), plate), repeat)),
    ]
    set_size = f"{still.shape[1]}×{still.shape[0]} set"
    per_shot: list[Timing] = [
        ("measure_screen", "measure_screen (first plate frame)",
         shot_ms(lambda: measure_screen(plate, "auto"), shot_repeat)),
        ("grain_measure", "Grain.measure (plate's open screen)",
         shot_ms(lambda: Grain.measure(plate, cv2.inRange(matte, 0, 0)), shot_repeat)),
        ("grain_fields", "Grain noise fields (first Grain.add)",
         shot_ms(lambda: Grain(grain.sigma, grain.size, grain.correlation).add(backdrop, 0, 1), shot_repeat)),
        ("colour_measure", "ColourMatch.measure (fg against the set)",
         shot_ms(lambda: ColourMatch.measure(fg, matte, backdrop, strength=0.8), shot_repeat)),
        ("lut_bake", "Lut3D bake (first apply, 33³ cube)",
         shot_ms(lambda: Lut3D(graded_cube()).apply(backdrop), shot_repeat)),
        ("estimate_depth", f"estimate_depth ({set_size})", shot_ms(lambda: estimate_depth(still), shot_repeat)),
        ("defocus", f"defocus ({set_size}, amount 0.5)",
         shot_ms(lambda: defocus(still, depth, focus=0.2, amount=0.5), shot_repeat)),
        ("camera_prepare", f"camera prepare, parallax {PARALLAX} ({set_size})",
         shot_ms(lambda: CameraMove(MOVE, parallax=PARALLAX).prepare(still, width, height, depth=depth,
                                                                     frames=FRAMES), shot_repeat)),
    ]
    return {"benchmark": "comp_ops", "small": small, "machine": machine(), "size": f"{width}x{height}",
            "set_size": f"{still.shape[1]}x{still.shape[0]}", "repeat": repeat, "shot_repeat": shot_repeat,
            "opencv_threads": 1, "make_seconds": made_s,
            "per_frame": {k: ms for k, _, ms in per_frame}, "per_shot": {k: ms for k, _, ms in per_shot},
            "labels": {k: label for k, label, _ in per_frame + per_shot}}


def report(result: dict[str, Any]) -> str:
    m = result["machine"]
    labels = result["labels"]
    lines = [f"{result['size']} frames, {result['set_size']} set, one OpenCV thread; median of "
             f"{result['repeat']} per frame, {result['shot_repeat']} per shot; {m['nproc']} cores ({m['cpu']}), "
             f"Python {m['python']}, numpy {m['numpy']}, OpenCV {m['opencv']}, PyAV {m['pyav']}", "",
             "| per frame | ms | frames/s on one core |", "|---|---:|---:|"]
    lines += [f"| {labels[k]} | {ms:.2f} | {1000 / ms:.0f} |" for k, ms in result["per_frame"].items()]
    lines += ["", "| once per shot | ms |", "|---|---:|"]
    lines += [f"| {labels[k]} | {ms:.1f} |" for k, ms in result["per_shot"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="320×180, few repeats (CI)")
    parser.add_argument("--repeat", type=int, help="per-frame calls to take the median of (default 20; 3 small)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(small=args.small, repeat=args.repeat)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
