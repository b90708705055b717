"""How fast the procedural engine draws: a 1080p set still per prompt, and one element frame per element.

The target is a 1920×1080 still in under 1 s on one core, so everything runs single-threaded (OpenCV and
any BLAS numpy may use). Reports the median of ``--repeat`` runs, measured with ``time.perf_counter``.

    .venv/bin/python benchmarks/procedural_speed.py --repeat 5
    .venv/bin/python benchmarks/procedural_speed.py --repeat 5 --json
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads: one core, as the target says

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import cv2  # noqa: E402

from soundstage.engines.procedural import ELEMENTS, element_frame, set_image  # noqa: E402

PROMPTS = (
    "night hanok rooftops with moon",
    "dawn mountain pass with fog",
    "desert of glass at day",
    "sea cliff at dusk with rain",
    "city skyline at night with rain",
)


def median_ms(run: Callable[[int], object], repeat: int) -> float:
    """Median wall time of ``run(i)`` for i in 0..repeat-1, after one untimed warm-up call."""
    run(0)
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        run(i + 1)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (median is reported)")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    w, h, k = args.width, args.height, max(args.repeat, 1)

    sets = {p: median_ms(lambda i, p=p: set_image(p, "", w, h, 1), k) for p in PROMPTS}
    elements = {n: median_ms(lambda i, n=n: element_frame(n, 12 + i, 24.0, w, h, 1), k) for n in ELEMENTS}

    if args.json:
        print(json.dumps({
            "size": [w, h], "repeat": k, "threads": 1, "cpu": platform.processor() or platform.machine(),
            "set_ms": {p: round(v, 1) for p, v in sets.items()},
            "element_frame_ms": {n: round(v, 1) for n, v in elements.items()},
        }, indent=2))
        return
    print(f"procedural engine, {w}×{h}, one thread, median of {k}")
    print(f"{'set still':<40} {'ms':>8}")
    for p, v in sets.items():
        print(f"{p:<40} {v:8.0f}")
    print(f"{'element frame':<40} {'ms':>8}")
    for n, v in elements.items():
        print(f"{n:<40} {v:8.0f}")


if __name__ == "__main__":
    main()
