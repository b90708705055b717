"""How fast and how clean the keyer is on the example's green- and blue-screen plates.

Each plate's first frame has a true matte (``plates/source/<plate>_alpha0.png``, written by
``build_plates.py``), so the key is scored against ground truth: mean absolute alpha error over the frame, and
over the edge band where keys differ (true alpha strictly between 0 and 1, grown by 3 px). Timing is the key
alone, with the settings ``soundstage render`` uses, median of ``--repeat`` runs on one thread.

    .venv/bin/python benchmarks/key_plates.py --repeat 20 [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from soundstage.comp import key, measure_screen
from soundstage.media import read_frames, read_image

PLATES = Path(__file__).resolve().parents[1] / "examples" / "moonlit-hanok" / "plates"


def score(plate: Path, repeat: int) -> dict[str, float | str]:
    frame = next(iter(read_frames(plate)))
    truth = read_image(PLATES / "source" / f"{plate.stem}_alpha0.png").astype(np.float32) / 255.0
    if truth.ndim == 3:
        truth = truth[..., 0]
    screen = measure_screen(frame, "auto")
    _, alpha = key(frame, screen)
    error = np.abs(alpha.astype(np.float32) / 255.0 - truth)
    soft = ((truth > 0) & (truth < 1)).astype(np.uint8)
    band = cv2.dilate(soft, np.ones((7, 7), np.uint8)).astype(bool)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        key(frame, screen)
        times.append(time.perf_counter() - started)
    return {"plate": plate.name, "screen": screen.channel, "alpha_mae": float(error.mean()),
            "edge_mae": float(error[band].mean()), "key_ms": 1000 * statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    rows = [score(plate, args.repeat) for plate in sorted(PLATES.glob("*.mp4"))]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| plate | screen | alpha MAE | edge-band MAE | key ms/frame |\n|---|---|---:|---:|---:|")
    for row in rows:
        print(f"| {row['plate']} | {row['screen']} | {row['alpha_mae']:.4f} | {row['edge_mae']:.4f} "
              f"| {row['key_ms']:.1f} |")


if __name__ == "__main__":
    main()
