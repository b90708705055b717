"""What sitting the actor in the set costs: a 1080p comp frame with all the integration on, against today's default.

Both comps are the render's own ``ShotComp.frame`` on the same frames in memory (no decode, no encode), one
thread, the two interleaved frame by frame so a shared machine's load falls on both alike:

- **default**: what a project got before issue 19 — ``[comp]`` defaults (grain matched; no colour match, no
  light wrap), one procedural fire element laid as generated, behind the actor.
- **example**: the example's look before issue 19 (colour match 0.5, light wrap 0.35), for context: what a
  new project now starts with of the older tricks.
- **integrated**: colour match 0.5, light wrap 0.35, the cast shadow 0.5 and contact shadow 0.5, interactive
  light from the fire 1.0, relight 0.5, and the fire placed (moved and scaled) beside the actor.

The plate is the keying material's astronaut on an unevenly lit green screen with spill and noise (as
``comp_speed.py`` makes it), 70 % of the frame tall and standing (feet above the frame's bottom), so the
shadows are cast. The set is the procedural night rooftops. Reports the median ms per frame of each and their
ratio (target: integrated ≤ 1.3 × default), each one's fastest frame (the least disturbed on a shared box), and
the median CPU time of the comping thread (what a loaded machine's waits do not inflate), with the load average.

    .venv/bin/python benchmarks/comp_integration.py [--frames N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from soundstage.comp.placement import Placement
from soundstage.comp.shot import Element, Look, ShotComp
from soundstage.engines.procedural import set_image as procedural_set
from soundstage.engines.procedural.elements import element_frame

sys.path.insert(0, str(Path(__file__).resolve().parent))
from key_quality import SCREENS, add_spill, load_material, material_dir, screen_light  # a sibling script

W, H, FPS = 1920, 1080, 24


def standing_plates(frames: int, seed: int = 7) -> list[np.ndarray]:
    """The astronaut, 70 % of the frame tall, feet at 92 % of its height, drifting a little, noise per frame."""
    rng = np.random.default_rng(seed)
    material = load_material(material_dir(), ["astronaut"])[0]
    nominal = np.array(SCREENS["green"], np.float32)
    fg = add_spill(material.fg, material.alpha, nominal, 40.0)
    scale = 0.7 * H / material.alpha.shape[0]
    size = (round(material.alpha.shape[1] * scale), round(material.alpha.shape[0] * scale))
    alpha = np.clip(cv2.resize(material.alpha, size, interpolation=cv2.INTER_LINEAR), 0, 1)
    premult = np.clip(cv2.resize(fg * material.alpha[..., None], size, interpolation=cv2.INTER_LINEAR), 0, 255)
    backing = screen_light(H, W, rng)[..., None] * nominal
    plates = []
    for index in range(frames):
        drift = np.array([[1, 0, 0.55 * W - size[0] / 2 + 2 * index], [0, 1, 0.92 * H - size[1]]], np.float32)
        a = cv2.warpAffine(alpha, drift, (W, H), flags=cv2.INTER_LINEAR)
        p = cv2.warpAffine(premult, drift, (W, H), flags=cv2.INTER_LINEAR)
        picture = p + (1.0 - a)[..., None] * backing + rng.normal(0, 1.8, (H, W, 1)).astype(np.float32)
        plates.append(np.clip(picture + 0.5, 0, 255).astype(np.uint8))
    return plates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    plates = standing_plates(args.frames)
    still = procedural_set("night hanok rooftops with moon", "", W, H, seed=3)
    fire = [element_frame("fire", index, FPS, W, H, 1) for index in range(args.frames)]

    def shot(look: Look, placement: Placement | None, light: bool) -> ShotComp:
        element = Element("fire", lambda index: fire[index], "screen", placement=placement, light=light)
        return ShotComp.prepare(width=W, height=H, frames=args.frames, background=lambda index: still,
                                elements=[element], look=look, first_plate=plates[0])

    default = shot(Look(), None, False)
    example = shot(Look(match_colour=0.5, light_wrap=0.35), None, False)
    integrated = shot(Look(match_colour=0.5, light_wrap=0.35, shadow=0.5, contact=0.5, interactive_light=1.0,
                           relight=0.5), Placement(at=(0.3, 0.7), scale=0.6), True)
    assert integrated.shadow is not None and integrated.relight is not None
    times: dict[str, list[float]] = {"default": [], "example": [], "integrated": []}
    cpu: dict[str, list[float]] = {name: [] for name in times}
    for index in range(args.frames):
        for name, comp in (("default", default), ("example", example), ("integrated", integrated)):
            started, started_cpu = time.perf_counter(), time.thread_time()
            comp.frame(index, plates[index])
            times[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.thread_time() - started_cpu) * 1000)
    medians = {name: statistics.median(values) for name, values in times.items()}
    fastest = {name: min(values) for name, values in times.items()}     # the least disturbed by a shared machine
    # One thread comps, so its CPU time is the work itself: a shared machine's waits do not count in it.
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    ratio = medians["integrated"] / medians["default"]
    over_example = medians["integrated"] / medians["example"]
    cpu_ratio = cpu_medians["integrated"] / cpu_medians["default"]
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"ms_per_frame": medians, "fastest_ms": fastest, "cpu_ms_per_frame": cpu_medians,
                          "ratio": ratio, "cpu_ratio": cpu_ratio, "over_example": over_example,
                          "frames": args.frames, "load": load}, indent=2))
        return
    print(f"load average {load:.2f}")
    for name, value in medians.items():
        print(f"{name:>11}: {value:6.1f} ms/frame (median of {args.frames}), {1000 / value:5.1f} fps; "
              f"fastest {fastest[name]:6.1f} ms; CPU {cpu_medians[name]:6.1f} ms")
    print(f"integrated / default: {ratio:.2f}× (target ≤ 1.3×), in CPU time {cpu_ratio:.2f}×; integrated / example: "
          f"{over_example:.2f}×; fastest frames: {fastest['integrated'] / fastest['default']:.2f}× and "
          f"{fastest['integrated'] / fastest['example']:.2f}×")


if __name__ == "__main__":
    main()
