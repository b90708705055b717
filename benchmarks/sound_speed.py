"""How fast the procedural engine makes sound: 4 s of each element's sound and of a few ambience beds.

The target is a 4 s shot's sound (its elements' and its bed) in well under 0.5 s on one core. Reports, per
sound, the median of ``--repeat`` runs of the samples alone (no WAV written): wall time (``perf_counter``) and
the process's CPU time (``process_time``), which a busy shared machine disturbs less.

    .venv/bin/python benchmarks/sound_speed.py --repeat 5
    .venv/bin/python benchmarks/sound_speed.py --repeat 5 --json
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads: one core, as the target says

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

from soundstage.engines.procedural.sounds import SOUNDS, ambience, effect  # noqa: E402
from soundstage.sound import RATE  # noqa: E402

SECONDS = 4.0
SETTINGS = ("HANOK COURTYARD NIGHT", "DESERT ROAD DAY", "SEA CLIFF DUSK", "CITY STREET RAIN NIGHT")


def median_ms(run: Callable[[int], object], repeat: int) -> tuple[float, float]:
    """Median (wall, CPU) milliseconds of ``run(i)``, after one untimed warm-up call."""
    run(0)
    wall, cpu = [], []
    for i in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        run(i + 1)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return round(statistics.median(wall) * 1000, 1), round(statistics.median(cpu) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    count = round(SECONDS * RATE)
    rows = {f"effect {name}": median_ms(lambda seed, n=name: effect(n, count, seed), args.repeat) for name in SOUNDS}
    rows |= {f"ambience {words}": median_ms(lambda seed, w=words: ambience(w, count, seed), args.repeat)
             for words in SETTINGS}
    if args.json:
        print(json.dumps({"seconds": SECONDS, "rows": {k: {"wall_ms": w, "cpu_ms": c} for k, (w, c) in rows.items()}},
                         indent=2))
        return
    for name, (wall, cpu) in rows.items():
        print(f"{name:36s} {wall:8.1f} ms wall {cpu:8.1f} ms CPU")


if __name__ == "__main__":
    main()
