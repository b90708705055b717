"""Measure what the render pipeline costs around the real work, on synthetic projects of 10, 100, 1,000 shots.

Run it by hand, on a quiet machine (results in docs/benchmarks.md),

    .venv/bin/python benchmarks/render_overhead.py [--shots 10 100 1000] [--small] [--json]

Each project is tiny on purpose (64×36, 8 fps, 0.5 s a shot, procedural engine, five locations, no plates,
one cheap element on a few shots), so what is timed is the pipeline itself: breakdown, the take store, the
ledger, process start. For each size it times, through ``soundstage`` in a fresh process (a user pays the
start-up too): ``plan --json``; the first full ``render --json``; a no-op re-render (everything cached), and
the same no-op in-process through ``render_project``; then one shot's camera move is changed in shots.toml
and the project re-rendered, and the rebuild's wall time is set against that shot's and the cut's own step
seconds (the issue's target: within 10%).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from soundstage.pipeline import render_project
from soundstage.project import Project

WIDTH, HEIGHT, FPS, DURATION = 64, 36, 8, 0.5
LOCATIONS = ("HANOK ROOFTOPS - NIGHT", "SEA CLIFF - DUSK", "MARKET STREET - DAY", "TEMPLE COURTYARD - DAWN",
             "RIVER BANK - NIGHT")
ELEMENT_EVERY = 50          # one shot in 50 carries a cheap element ("rain"), so element takes are in the path
TARGETS = {100: 3.0, 1000: 15.0}     # no-op re-render wall seconds the issue asks for


def soundstage_command() -> list[str]:
    """The installed ``soundstage`` next to this interpreter, as a user would run it."""
    script = Path(sys.executable).parent / "soundstage"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "soundstage.cli"]


def shot_id(index: int, scenes: int) -> tuple[str, str]:
    """(shot id, scene id) of the ``index``-th shot: shots are dealt to the scenes in turn."""
    scene = index % scenes + 1
    return f"{scene}-{index // scenes + 1}", str(scene)


def shots_toml(count: int, scenes: int, *, changed: str | None = None) -> str:
    """``count`` shots over ``scenes`` scenes; ``changed`` gets a push-in instead of a static camera."""
    entries = []
    for index in range(count):
        ident, scene = shot_id(index, scenes)
        elements = '["rain"]' if index % ELEMENT_EVERY == ELEMENT_EVERY - 1 else "[]"
        move = "push-in" if ident == changed else "static"
        entries.append(f'[[shot]]\nid = "{ident}"\nscene = "{scene}"\nduration = {DURATION}\n'
                       f'elements = {elements}\ncamera = {{ move = "{move}", amount = 0.1 }}\n')
    return "\n".join(entries)


def build_project(root: Path, count: int) -> Project:
    """A synthetic project of ``count`` shots at a small resolution on the procedural engine."""
    scenes = min(len(LOCATIONS), count)
    root.mkdir(parents=True, exist_ok=True)
    (root / "soundstage.toml").write_text(
        f'title = "Overhead {count}"\nscreenplay = "film.fountain"\nfps = {FPS}\nresolution = [{WIDTH}, {HEIGHT}]\n'
        'seed = 7\nengine = "procedural"\n')
    script = [f"Title: Overhead {count}\n"]
    script += [f"EXT. {location}\n\nMIN-JI waits.\n" for location in LOCATIONS[:scenes]]
    (root / "film.fountain").write_text("\n".join(script))
    (root / "shots.toml").write_text(shots_toml(count, scenes))
    return Project.load(root)


def timed_cli(*args: str, parse: bool = True) -> tuple[float, dict[str, Any]]:
    """Wall seconds of one ``soundstage`` process, and its ``--json`` output."""
    started = time.perf_counter()
    done = subprocess.run([*soundstage_command(), *args], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"soundstage {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return seconds, json.loads(done.stdout) if parse else {}


def step_statuses(report: dict[str, Any]) -> dict[str, str]:
    return {step["step"]: step["status"] for step in report["steps"]}


def step_seconds(report: dict[str, Any]) -> float:
    return sum(step["seconds"] for step in report["steps"])


def measure(root: Path, count: int) -> dict[str, Any]:
    """Every timing for one project size (see the module docstring)."""
    project = build_project(root, count)
    scenes = min(len(LOCATIONS), count)
    folder = str(root)
    start_up, _ = timed_cli("--version", parse=False)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import soundstage.cli, soundstage.pipeline"], check=True)
    imports_s = time.perf_counter() - started
    plan_s, plan = timed_cli("plan", folder, "--json")
    full_s, full = timed_cli("render", folder, "--json")
    noop_s, noop = timed_cli("render", folder, "--json")

    started = time.perf_counter()
    again = render_project(Project.load(root))
    in_process_s = time.perf_counter() - started
    assert not again.failed, again.failed

    changed, _ = shot_id(count // 2, scenes)
    (root / "shots.toml").write_text(shots_toml(count, scenes, changed=changed))
    one_s, one = timed_cli("render", folder, "--json")
    seconds = {step["step"]: step["seconds"] for step in one["steps"]}
    own = seconds[f"shot {changed}"] + seconds["cut"]
    del project
    figures: dict[str, Any] = {
        "shots": count, "steps": len(full["steps"]), "takes": len(plan["takes"]),
        "start_up_s": start_up, "imports_s": imports_s, "plan_s": plan_s,
        "full_s": full_s, "full_steps_s": step_seconds(full),
        "noop_s": noop_s, "noop_steps_s": step_seconds(noop), "noop_in_process_s": in_process_s,
        "noop_target_s": TARGETS.get(count),
        "changed_shot": changed, "one_changed_s": one_s, "one_changed_steps_s": step_seconds(one),
        "changed_shot_s": seconds[f"shot {changed}"], "cut_s": seconds["cut"],
        "ratio": one_s / own, "ratio_steps": step_seconds(one) / own,
        "statuses": {"full": step_statuses(full), "noop": step_statuses(noop), "one_changed": step_statuses(one)},
    }
    return {key: round(value, 3) if isinstance(value, float) else value for key, value in figures.items()}


def run(counts: list[int], *, keep: Path | None = None) -> dict[str, Any]:
    """Measure each project size in a fresh temp folder (or under ``keep``, left in place)."""
    results = []
    for count in counts:
        parent = Path(tempfile.mkdtemp(prefix=f"overhead-{count}-")) if keep is None else keep
        try:
            results.append(measure(parent / f"shots-{count}", count))
        finally:
            if keep is None:
                shutil.rmtree(parent, ignore_errors=True)
    return {"resolution": [WIDTH, HEIGHT], "fps": FPS, "duration": DURATION, "results": results}


def table(report: dict[str, Any]) -> str:
    rows = [
        "| shots | steps | start-up | imports | plan | full render | no-op (CLI) | no-op in-process | no-op target | "
        "one changed | its shot + cut | ratio (wall) | ratio (steps) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        target = f"< {r['noop_target_s']:g} s" if r["noop_target_s"] else "–"
        rows.append(
            f"| {r['shots']} | {r['steps']} | {r['start_up_s']:.2f} s | {r['imports_s']:.2f} s | {r['plan_s']:.2f} s | "
            f"{r['full_s']:.1f} s | "
            f"{r['noop_s']:.2f} s | {r['noop_in_process_s']:.2f} s | {target} | {r['one_changed_s']:.2f} s | "
            f"{r['changed_shot_s']:.2f} + {r['cut_s']:.2f} s | {r['ratio']:.2f}× | {r['ratio_steps']:.2f}× |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shots", type=int, nargs="+", default=[10, 100, 1000], help="project sizes to measure")
    parser.add_argument("--small", action="store_true", help="just 10 shots, for CI")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    parser.add_argument("--keep", type=Path, help="build the projects under this folder and leave them there")
    args = parser.parse_args()
    report = run([10] if args.small else args.shots, keep=args.keep)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{WIDTH}×{HEIGHT}, {FPS} fps, {DURATION:g} s a shot, procedural engine\n")
        print(table(report))


if __name__ == "__main__":
    main()
