"""``soundstage breakdown`` as a whole process, against screenplain's own CLI on the same screenplay (issue 16).

Both are run as a user runs them: a fresh process each time, interpreter start and imports included. The
screenplay is ``parse_speed.py``'s generated one (``--pages``, 120 by default: a feature), written to a
temporary ``.fountain``. screenplain converts it to HTML; soundstage prints its breakdown tables (and, in a
second row, the whole breakdown as ``--json``; in a third, its tables as a terminal shows them, forced with
``FORCE_COLOR=1``: Rich lays them out only for a terminal). Each command is run once untimed, then ``--repeat``
times, interleaved; the figures are medians (and minimums: the least disturbed run on a shared machine) of the
wall-clock time and of the CPU time (user + system). Target: soundstage at most 3x screenplain.

Bytecode is cached as for an installed package (``PYTHONPYCACHEPREFIX``, a temporary folder, even where
``PYTHONDONTWRITEBYTECODE`` is set): screenplain's ``.pyc`` files are in site-packages, so without it only
soundstage would be compiled again on every run.

    .venv/bin/python benchmarks/breakdown_cli.py [--pages 120] [--repeat 7] [--src FOLDER] [--before FOLDER] [--json]
        [--instructions]

``--instructions`` also counts what each command executes, once, under valgrind (cachegrind, no cache model):
a figure that does not move with the machine's load, for a before/after that wall time cannot settle.

The tree under test is this checkout's ``src/`` or ``--src`` (put first on ``PYTHONPATH``); ``--before`` is an
older tree whose rows are timed in the same runs, for a before/after figure. The commands are the
``soundstage`` and ``screenplain`` scripts next to this Python.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


def _instructions(command: list[str], env: dict[str, str]) -> int:
    """Instructions one run of ``command`` (a console script, run by this Python) executes, counted by valgrind's
    cachegrind: the same on every run, where wall time on a shared VM wanders by ±20%."""
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           sys.executable, *command], env=env, check=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        sys.exit(f"valgrind counted no instructions for {command[0]}:\n{done.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def _environment(src: Path, cache: Path) -> dict[str, str]:
    """This process's environment with ``src`` first on the path and bytecode cached in ``cache``."""
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONDONTWRITEBYTECODE", "FORCE_COLOR")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))
    return {**env, "PYTHONPYCACHEPREFIX": str(cache)}


def run(pages: int, repeat: int, src: Path = SRC, before: Path | None = None, instructions: bool = False,
        ) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "feature.fountain"
        script.write_text(screenplay(pages), "utf-8")
        trees = {"": src, **({" (before)": before} if before else {})}
        commands = {"screenplain": ([_command("screenplain"), str(script), str(Path(folder) / "feature.html")],
                                    _environment(src, Path(folder) / "pycache"))}
        for label, tree in trees.items():
            env = _environment(tree, Path(folder) / f"pycache{label.strip(' ()')}")
            commands.update({
                f"soundstage breakdown{label}": ([_command("soundstage"), "breakdown", str(script)], env),
                f"soundstage breakdown --json{label}": ([_command("soundstage"), "breakdown", "--json", str(script)],
                                                         env),
                f"soundstage breakdown, terminal{label}": ([_command("soundstage"), "breakdown", str(script)],
                                                           {**env, "FORCE_COLOR": "1", "COLUMNS": "120"}),
            })
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for command, environment in commands.values():
            _timed(command, environment)                        # untimed: file caches, .pyc files
        for _ in range(repeat):
            for name, (command, environment) in commands.items():
                times[name].append(_timed(command, environment))
        counted = {name: _instructions(command, environment) for name, (command, environment) in commands.items()
                   } if instructions else {}
        size = script.stat().st_size
    figures = {name: {"wall_s": statistics.median(w for w, _ in runs), "cpu_s": statistics.median(c for _, c in runs),
                      "min_wall_s": min(w for w, _ in runs), "min_cpu_s": min(c for _, c in runs),
                      **({"instructions": counted[name]} if counted else {})}
               for name, runs in times.items()}
    base = figures["screenplain"]
    return {"pages": pages, "bytes": size, "repeat": repeat, "load": os.getloadavg()[0],
            "commands": {name: {**{key: round(value, 3) for key, value in row.items()},
                                **{key.removesuffix("_s") + "_ratio": round(value / base[key], 2)
                                   for key, value in row.items()}}
                         for name, row in figures.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=120, help="length of the generated screenplay")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each command")
    parser.add_argument("--src", type=Path, default=SRC, help="the soundstage source tree to run (default: ours)")
    parser.add_argument("--before", type=Path, help="an older source tree, timed in the same runs (interleaved)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--instructions", action="store_true",
                        help="also count each command's instructions once under valgrind (apt install valgrind)")
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind (Debian: apt install valgrind)")
    report = run(args.pages, args.repeat, args.src, args.before, args.instructions)
    if args.json:
        print(json.dumps(report))
        return
    print(f"{report['pages']} pages, {report['bytes']:,} bytes, median (minimum) of {report['repeat']} runs, "
          f"load average {report['load']:.1f}")
    for name, row in report["commands"].items():   # type: ignore[attr-defined]
        print(f"{name:41} wall {row['wall_s']:6.3f} s ({row['wall_ratio']:4.1f}x)   "
              f"min {row['min_wall_s']:6.3f} s ({row['min_wall_ratio']:4.1f}x)   "
              f"cpu {row['cpu_s']:6.3f} s ({row['cpu_ratio']:4.1f}x)"
              + (f"   instructions {row['instructions'] / 1e9:5.2f} G ({row['instructions_ratio']:4.2f}x)"
                 if "instructions" in row else ""))


if __name__ == "__main__":
    main()
