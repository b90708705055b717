"""``soundstage breakdown`` as a whole process, against screenplain's own CLI on the same screenplay (issue 16).

Both are run as a user runs them: a fresh process each time, interpreter start and imports included. The
screenplay is ``parse_speed.py``'s generated one (``--pages``, 120 by default: a feature), written to a
temporary ``.fountain``. screenplain converts it to HTML; soundstage prints its breakdown tables (and, in a
second row, the whole breakdown as ``--json``). Each command is run once untimed, then ``--repeat`` times,
interleaved; the figures are medians of the wall-clock time and of the CPU time (user + system, which a
busy neighbour on a shared machine disturbs less). Target: soundstage at most 3x screenplain.

    .venv/bin/python benchmarks/breakdown_cli.py [--pages 120] [--repeat 7] [--src FOLDER] [--json]

The tree under test is this checkout's ``src/`` or ``--src`` (an older tree, for a before/after figure: put
first on ``PYTHONPATH`` for both commands); the commands are the ``soundstage`` and ``screenplain`` scripts
next to this Python.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from parse_speed import screenplay

SRC = Path(__file__).resolve().parents[1] / "src"


def _command(name: str) -> str:
    """The console script ``name`` of this Python's environment."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        sys.exit(f"{name} is not installed next to {sys.executable} (pip install -e '.[dev]')")
    return found


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``command``; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run(pages: int, repeat: int, src: Path = SRC) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "feature.fountain"
        script.write_text(screenplay(pages), "utf-8")
        commands = {
            "screenplain": [_command("screenplain"), str(script), str(Path(folder) / "feature.html")],
            "soundstage breakdown": [_command("soundstage"), "breakdown", str(script)],
            "soundstage breakdown --json": [_command("soundstage"), "breakdown", "--json", str(script)],
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for command in commands.values():
            _timed(command, env)                                # untimed: file caches, .pyc files
        for _ in range(repeat):
            for name, command in commands.items():
                times[name].append(_timed(command, env))
        size = script.stat().st_size
    medians = {name: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
               for name, runs in times.items()}
    base_wall, base_cpu = medians["screenplain"]
    return {"pages": pages, "bytes": size, "repeat": repeat, "load": os.getloadavg()[0],
            "commands": {name: {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                                "wall_ratio": round(wall / base_wall, 2), "cpu_ratio": round(cpu / base_cpu, 2)}
                         for name, (wall, cpu) in medians.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=120, help="length of the generated screenplay")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each command; medians are reported")
    parser.add_argument("--src", type=Path, default=SRC, help="the soundstage source tree to run (default: ours)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()
    report = run(args.pages, args.repeat, args.src)
    if args.json:
        print(json.dumps(report))
        return
    print(f"{report['pages']} pages, {report['bytes']:,} bytes, median of {report['repeat']} runs, "
          f"load average {report['load']:.1f}")
    for name, row in report["commands"].items():   # type: ignore[attr-defined]
        print(f"{name:30} wall {row['wall_s']:6.3f} s ({row['wall_ratio']:4.1f}x)   "
              f"cpu {row['cpu_s']:6.3f} s ({row['cpu_ratio']:4.1f}x)")


if __name__ == "__main__":
    main()
