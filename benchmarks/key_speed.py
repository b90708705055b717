"""The key's cost per 1080p frame, today's keyer against the keyer of another commit, in the same run.

On ``comp_ops``' plate (the astronaut on an unevenly lit, noisy green screen, 1080p H.264), each keyer is called
in turn (interleaved, so load on a shared machine falls on both alike), median and least of ``--repeat`` calls:
``key(plate, screen)`` as the render calls it without a previous plate, with one (``previous=``, what ShotComp
hands in), and the other commit's ``key`` (read with ``git show``, default the merge base with main).

    .venv/bin/python benchmarks/key_speed.py [--base COMMIT] [--repeat 15]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from comp_speed import make_plate
from soundstage.comp import key, measure_screen
from soundstage.media import read_frames

ROOT = Path(__file__).resolve().parents[1]


def keyer_of(commit: str, scratch: Path):
    """``key`` as it was at ``commit``."""
    source = subprocess.run(["git", "show", f"{commit}:src/soundstage/comp/keyer.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = scratch / "keyer_base.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("keyer_base", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["keyer_base"] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="the commit to compare with (default: main)")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--threads", type=int, help="OpenCV's threads (default: its own, as the render runs)")
    args = parser.parse_args(argv)
    if args.threads:
        cv2.setNumThreads(args.threads)
    base = subprocess.run(["git", "merge-base", "HEAD", args.base], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="key_speed.") as scratch:
        plate_file = Path(scratch) / "plate.mp4"
        make_plate(plate_file, args.width, args.height, frames=3)
        first, plate = list(read_frames(plate_file))[:2]
        old = keyer_of(base, Path(scratch))
    screen = measure_screen(plate, "auto")
    old_screen = old.measure_screen(plate, "auto")
    runs = {"base": lambda: old.key(plate, old_screen), "key": lambda: key(plate, screen),
            "key_previous": lambda: key(plate, screen, previous=first)}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()
    for _ in range(args.repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(1000.0 * (time.perf_counter() - started))
    medians = {name: statistics.median(t) for name, t in times.items()}
    least = {name: min(t) for name, t in times.items()}
    print(f"{args.width}×{args.height}, OpenCV threads {cv2.getNumThreads()}, {args.repeat} rounds, base {base[:7]}")
    for name in runs:
        print(f"  {name}: median {medians[name]:.1f} ms ({medians[name] / medians['base']:.2f}× base), "
              f"least {least[name]:.1f} ms ({least[name] / least['base']:.2f}× base)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
