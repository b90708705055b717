"""Tracking speed at 1080p, and what tracking adds to a shot's comp.

A 1080p handheld plate with an actor (``track_accuracy``'s renderer) is written as H.264 (CRF 18, like a camera
file), then, in the same run:

- **solve only**: ``track_plate`` on decoded frames with the true actor mattes (the tracker's own cost);
- **track a plate file**: ``pipeline.track.track_source``, what ``soundstage track`` and a shot's first render
  do: decode, the plate's own key (at ~480 px wide) for the actor's matte, then the solve;
- **comp**: the render's shot path (``comp_speed.comp_clip``: key, despill, comp over a 1080p set, encode),
  without tracking; tracking on costs the comp plus the solve once (the first render of the shot), and a CSV
  read after that (the track take is cached).

    python benchmarks/track_speed.py            # 48 frames at 1080p
    python benchmarks/track_speed.py --quick    # 12 frames at 640x360
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from comp_speed import comp_clip, make_set  # a sibling script, not a package
from soundstage.comp.track import track_plate
from soundstage.comp.trackfile import read_track, write_track
from soundstage.media import VideoWriter
from soundstage.pipeline.track import track_source
from track_accuracy import PLATES, render


def run(frames: int = 48, width: int = 1920, height: int = 1080) -> dict[str, float]:
    plate = next(p for p in PLATES if p.name == "handheld-actor")
    pictures, _, mattes = render(plate, frames, width, height)
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "plate.mp4"
        with VideoWriter(clip, width=width, height=height, fps=24, crf=18) as writer:
            for picture in pictures:
                writer.write(picture)
        start = time.perf_counter()
        track_plate(pictures, mattes=mattes)
        solve = time.perf_counter() - start
        start = time.perf_counter()
        track, _ = track_source(clip)
        from_file = time.perf_counter() - start
        write_track(Path(folder) / "track.csv", track)
        start = time.perf_counter()
        read_track(Path(folder) / "track.csv")
        cached = time.perf_counter() - start
        set_image = make_set(width, height)
        start = time.perf_counter()
        comp_clip(clip, set_image, Path(folder) / "comp.mp4")
        comp = time.perf_counter() - start
    return {"frames": frames, "width": width, "height": height,
            "solve_fps": round(frames / solve, 1), "track_file_fps": round(frames / from_file, 1),
            "comp_fps_tracking_off": round(frames / comp, 2),
            "comp_fps_tracking_on_first": round(frames / (comp + from_file), 2),
            "comp_fps_tracking_on_cached": round(frames / (comp + cached), 2),
            "added_first_render_pct": round(100 * from_file / comp, 1),
            "added_cached_pct": round(100 * cached / comp, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 frames at 640x360")
    parser.add_argument("--frames", type=int, default=48)
    args = parser.parse_args(argv)
    result = run(12, 640, 360) if args.quick else run(args.frames)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
