"""Tracking speed at 1080p, and what tracking adds to a shot's comp.

A 1080p handheld plate with an actor (``track_accuracy``'s renderer) is written as H.264 (CRF 18, like a camera
file), then, in the same run:

- **solve only**: ``track_plate`` on decoded frames with the true actor mattes (the tracker's own cost);
- **track a plate file**: ``pipeline.track.track_source``, what ``soundstage track`` and a shot's first render
  do: decode, the plate's own key (at ~480 px wide) for the actor's matte, then the solve;
- **comp**: the render's shot path (``comp_speed.comp_clip``: key, despill, comp over a 1080p set, encode),
  without tracking;
- **first render, tracked**: what ``render_shot`` does for a shot whose track is not cached yet: the solve,
  which keeps the frames it decodes (``track_source(keep=…)``), then the same comp on those frames (the plate
  is decoded once). Later renders read the cached track take (a CSV) and comp as without tracking.

With ``--repeat N`` the plate is tracked and comped N times, interleaved, and each pair's ratio (wall and CPU
time) is printed with the load average: on a shared box the ratio is the figure, not the fps.

    python benchmarks/track_speed.py            # 48 frames at 1080p
    python benchmarks/track_speed.py --quick    # 12 frames at 640x360
    python benchmarks/track_speed.py --frames 24 --repeat 3
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from comp_speed import CRF, PRESET, comp_clip, make_set  # a sibling script, not a package
from soundstage.comp.shot import Look, ShotComp
from soundstage.comp.track import track_plate
from soundstage.comp.trackfile import read_track, write_track
from soundstage.media import Background, VideoWriter
from soundstage.pipeline.track import track_source
from track_accuracy import PLATES, errors, render


def run(frames: int = 48, width: int = 1920, height: int = 1080, repeat: int = 1) -> dict[str, object]:
    plate = next(p for p in PLATES if p.name == "handheld-actor")
    pictures, truth, mattes = render(plate, frames, width, height)
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "plate.mp4"
        with VideoWriter(clip, width=width, height=height, fps=24, crf=18) as writer:
            for picture in pictures:
                writer.write(picture)
        start = time.perf_counter()
        track_plate(pictures, mattes=mattes)
        solve = time.perf_counter() - start
        set_image = make_set(width, height)
        tracked, comped, ratios, cpu_ratios = [], [], [], []
        firsts: list[tuple[float, float]] = []
        for _ in range(repeat):     # interleaved, so both sides see the same load: the ratio is what counts
            start, cpu = time.perf_counter(), time.process_time()
            comp_clip(clip, set_image, Path(folder) / "comp.mp4")
            comped.append((time.perf_counter() - start, time.process_time() - cpu))
            start, cpu = time.perf_counter(), time.process_time()
            track, _ = track_source(clip)
            tracked.append((time.perf_counter() - start, time.process_time() - cpu))
            start, cpu = time.perf_counter(), time.process_time()
            kept: list[np.ndarray] = []         # a first render: solved, its decoded frames handed to the comp
            track, _ = track_source(clip, keep=kept)
            comp_frames(kept, width, height, set_image, Path(folder) / "comp.mp4")
            firsts.append((time.perf_counter() - start, time.process_time() - cpu))
            ratios.append(firsts[-1][0] / comped[-1][0] - 1)
            cpu_ratios.append(firsts[-1][1] / comped[-1][1] - 1)
        from_file = statistics.median(t for t, _ in tracked)
        comp = statistics.median(t for t, _ in comped)
        first = statistics.median(t for t, _ in firsts)
        write_track(Path(folder) / "track.csv", track)
        start = time.perf_counter()
        read_track(Path(folder) / "track.csv")
        cached = time.perf_counter() - start
    accuracy = errors(track.homographies, truth, width, height)     # the file's track (luma, rough key) vs truth
    return {"frames": frames, "width": width, "height": height, "repeat": repeat,
            "file_track_rms_px": accuracy["rms"], "file_track_max_px": accuracy["max"],
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "added_first_render_pct_each": [round(100 * r, 1) for r in ratios],
            "added_first_render_cpu_pct_each": [round(100 * r, 1) for r in cpu_ratios],
            "added_first_render_pct_median": round(100 * statistics.median(ratios), 1),
            "added_first_render_cpu_pct_median": round(100 * statistics.median(cpu_ratios), 1),
            "solve_fps": round(frames / solve, 1), "track_file_fps": round(frames / from_file, 1),
            "comp_fps_tracking_off": round(frames / comp, 2),
            "comp_fps_tracking_on_first": round(frames / first, 2),
            "comp_fps_tracking_on_cached": round(frames / (comp + cached), 2),
            "added_first_render_pct": round(100 * (first / comp - 1), 1),   # of the medians
            "added_cached_pct": round(100 * cached / comp, 2)}


def comp_frames(frames: list[np.ndarray], width: int, height: int, set_image: np.ndarray, out: Path) -> int:
    """``comp_speed.comp_clip`` on frames already decoded (as a first render comps the frames its solve read)."""
    comp = ShotComp.prepare(width=width, height=height, frames=len(frames), background=lambda index: set_image,
                            look=Look(grain=False), first_plate=frames[0])
    writer = VideoWriter(out, width=width, height=height, fps=24, crf=CRF, preset=PRESET)
    with Background(writer, copy=False) as sink:
        return comp.render([sink], plates=iter(frames), threads=2).frames


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 frames at 640x360")
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--repeat", type=int, default=1, help="track and comp this many times, interleaved")
    args = parser.parse_args(argv)
    result = run(12, 640, 360, args.repeat) if args.quick else run(args.frames, repeat=args.repeat)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
