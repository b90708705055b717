"""Continuity at joins on the procedural engine: conditioned (extension, last frame → first frame) against
joins made without conditioning (each clip from words alone, as text-to-video would make them).

For each prompt and seed, three joins between a clip's last frame and the next clip's first frame:

- ``extend``: the second clip extends the first (the join is inside one clip);
- ``last→first``: the first clip ends on a picture (its last frame) and the second starts from it;
- ``none``: two clips of the same prompt, the second with the next seed, neither steered by the other.

Reports SSIM (luma) and the colour-histogram (Bhattacharyya) distance at each join, their mean and worst,
and how many joins pass the render's warning threshold (``soundstage.pipeline.joins``).

    PYTHONPATH=src .venv/bin/python benchmarks/continuity.py
    PYTHONPATH=src .venv/bin/python benchmarks/continuity.py --size 320x180 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np

from soundstage.engines.base import AssetKind, AssetRequest
from soundstage.engines.procedural import ProceduralEngine, set_image
from soundstage.media import read_frames, write_png
from soundstage.pipeline.joins import MAX_HISTOGRAM, MIN_SSIM, Join, compare

PROMPTS = (
    "night hanok rooftops with moon",
    "dawn mountain pass with fog",
    "desert of glass at day",
    "sea cliff at dusk with rain",
    "city skyline at night with rain",
)
FPS = 12.0


def frames(path: Path) -> list[np.ndarray]:
    return list(read_frames(path))


def joins(prompt: str, seed: int, width: int, height: int, folder: Path) -> dict[str, Join]:
    """The three joins for one prompt and seed, their clips made under ``folder`` (empty)."""
    engine = ProceduralEngine()

    def clip(name: str, **kw: object) -> Path:
        kw.setdefault("seed", seed)
        request = AssetRequest(kind=AssetKind.BACKGROUND, prompt=prompt, width=width, height=height, fps=FPS,
                               **kw)  # type: ignore[arg-type]
        out = folder / name
        out.mkdir()
        return engine.generate(request, out).files[0]

    still = folder / "still.png"
    write_png(still, set_image(prompt, "", width, height, seed))
    first = clip("first", duration=1.0, first_frame=still)
    extended = frames(clip("extended", duration=2.0, extend=first))
    ending = folder / "ending.png"
    write_png(ending, set_image(prompt, "", width, height, seed + 100))
    into = frames(clip("into", duration=1.0, first_frame=still, last_frame=ending))
    onward = frames(clip("onward", duration=1.0, first_frame=ending))
    words_a = frames(clip("words-a", duration=1.0))
    words_b = frames(clip("words-b", duration=1.0, seed=seed + 1))
    return {"extend": compare(extended[11], extended[12]), "last→first": compare(into[-1], onward[0]),
            "none": compare(words_a[-1], words_b[0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="160x90", help="frame size, WxH")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per prompt")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    results: dict[str, list[Join]] = {"extend": [], "last→first": [], "none": []}
    with tempfile.TemporaryDirectory() as scratch:
        for index, prompt in enumerate(PROMPTS):
            for seed in range(1, args.seeds + 1):
                folder = Path(scratch) / f"{index}-{seed}"
                folder.mkdir()
                for kind, join in joins(prompt, seed, width, height, folder).items():
                    results[kind].append(join)
    summary = {kind: {"joins": len(js), "ssim_mean": statistics.fmean(j.ssim for j in js),
                      "ssim_worst": min(j.ssim for j in js),
                      "histogram_mean": statistics.fmean(j.histogram for j in js),
                      "histogram_worst": max(j.histogram for j in js),
                      "continuous": sum(j.continuous for j in js)} for kind, js in results.items()}
    if args.json:
        print(json.dumps({"size": [width, height], "fps": FPS, "thresholds": {"ssim": MIN_SSIM,
                          "histogram": MAX_HISTOGRAM}, "joins": summary}, indent=2, ensure_ascii=False))
        return
    print(f"{width}×{height}, {len(PROMPTS)} prompts × {args.seeds} seeds; a join shows below SSIM {MIN_SSIM:g} "
          f"or past colour distance {MAX_HISTOGRAM:g}")
    print(f"{'join':<12}{'SSIM mean':>10}{'worst':>8}{'colour mean':>13}{'worst':>8}{'continuous':>12}")
    for kind, row in summary.items():
        print(f"{kind:<12}{row['ssim_mean']:>10.3f}{row['ssim_worst']:>8.3f}{row['histogram_mean']:>13.3f}"
              f"{row['histogram_worst']:>8.3f}{row['continuous']:>7}/{row['joins']}")


if __name__ == "__main__":
    main()
