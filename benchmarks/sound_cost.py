"""What sound adds to the example's render: the same project rendered by a tree without sound and by this one.

Run it by hand, on a quiet machine (results in docs/benchmarks.md),

    git archive 1a16635 src | tar -x -C /tmp/before      # the last commit before sound
    .venv/bin/python benchmarks/sound_cost.py --before /tmp/before/src [--repeat 2]

Each run renders a fresh copy of ``examples/moonlit-hanok`` from nothing (takes, shots, the cut) in a new
process, the two trees taking turns so a busy machine slows both alike; the minimum of each is compared. The
tree without sound reads the same plates and ignores their sound; this one keeps it, syncs the recorder,
makes the sound takes, mixes, normalises, writes the stems and AAC, and times the subtitles. The issue's
target: at most 10% more wall time. Then the cut itself is measured: its loudness by FFmpeg's ``ebur128``
(the meter the mix was not normalised with) and the clap against the flash in ``benchmarks/sound_sync.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "moonlit-hanok"
TARGET = 1.10


def render(src: Path, project: Path) -> float:
    """Wall seconds of ``soundstage render`` of ``project`` with the package from ``src``, in a new process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from soundstage.cli import app; app()", "render", str(project)],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def fresh(folder: Path, name: str, *, silent: bool = False) -> Path:
    """A copy of the example; ``silent``: without the settings a tree from before sound does not know."""
    project = folder / name
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("out", ".soundstage"))
    if silent:
        settings = project / "soundstage.toml"
        settings.write_text(settings.read_text().split("\n[sound]")[0] + "\n")
        shots = project / "shots.toml"
        shots.write_text("\n".join(line for line in shots.read_text().splitlines() if not line.startswith("sound")))
    return project


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the src folder of a tree without sound")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"without sound": [], "with sound": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for _ in range(args.repeat):
            times["without sound"].append(render(args.before.resolve(), fresh(folder, "before", silent=True)))
            times["with sound"].append(render(ROOT / "src", fresh(folder, "after")))
        cut = folder / "after" / "out" / "cut.mp4"
        from soundstage.sound import read_sound
        from soundstage.sound.loudness import ebur128, integrated, true_peak
        heard = read_sound(cut)
        lufs, peak = ebur128(heard.sound)
        own, own_peak = integrated(heard.sound), true_peak(heard.sound)
        sync = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sound_sync.py"),
                               str(folder / "after")], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    best = {name: min(values) for name, values in times.items()}
    ratio = best["with sound"] / best["without sound"]
    print("| render of the example | runs (s) | minimum |")
    print("|---|---|---:|")
    for name, values in times.items():
        print(f"| {name} | {', '.join(f'{v:.1f}' for v in values)} | {best[name]:.1f} s |")
    print(f"\nsound adds {ratio - 1:+.1%} (target at most {TARGET - 1:+.0%}): {'met' if ratio <= TARGET else 'MISSED'}")
    print(f"cut.mp4 as decoded: {lufs:.2f} LUFS integrated and {peak:.2f} dBTP by ebur128; "
          f"{own:.2f} LUFS / {own_peak:.2f} dBTP by pyloudnorm and our 4x true peak (the mix's target: -23 LUFS, "
          "-1 dBTP)")
    print(sync.stdout[-3000:])
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
