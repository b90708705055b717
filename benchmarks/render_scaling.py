"""Measure how a cold full render scales with ``--jobs`` and frame threads, and check the cut comes out the same.

Run it by hand, on a quiet machine (results in docs/benchmarks.md),

    .venv/bin/python benchmarks/render_scaling.py [--shots 1000] [--repeat 1] [--no-example] [--no-ray] [--json]
    .venv/bin/python benchmarks/render_scaling.py --small          # a few seconds, for CI

Two projects: the bundled example ``examples/moonlit-hanok`` (copied to a temp folder without its ``out/`` and
``.soundstage/``, so nothing is cached; the example itself is never touched), and a synthetic project of many
short shots, the one ``render_overhead.py`` builds (64×36, 8 fps, 4 frames a shot), where what is timed is mostly
the cost of handing steps out. Every variant renders a fresh copy, through ``soundstage render --json`` in its own
process, as a user pays it: ``--jobs 1`` (in-process, two frame threads), ``--jobs 2`` (two worker processes,
two frame threads each), ``--jobs 2`` with ``[render] threads = 1``, and, if Ray imports, ``--executor ray`` once
on the synthetic project; ``ray.init`` is also timed on its own in a fresh process, since the Ray row pays it.
Repeats are interleaved (every variant once, then again), so a busy neighbour slows all of them alike; the
best wall time is the figure. The sha256 of the decoded pixels of ``out/cut.mp4`` (and of each shot) is
compared across every run: signing gives each file its own bytes, and every copy is given the same watermark
key, so the pictures must come out the same.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soundstage.media import read_frames
from soundstage.provenance.record import share_mark_key

sys.path.insert(0, str(Path(__file__).resolve().parent))

import render_overhead  # the synthetic project and the CLI runner are shared

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "moonlit-hanok"
STATE = ("out", ".soundstage")         # what a cold render must not find


@dataclass(frozen=True)
class Variant:
    """One way of rendering: how many shots at once, how many frames of a shot at once, where."""

    name: str
    jobs: int | None                 # None: the executor decides (Ray: one step per CPU)
    threads: int | None = None       # None: the project's own ``[render] threads`` (2 unless set)
    executor: str = "local"

    def arguments(self) -> list[str]:
        if self.executor == "ray":
            return ["--executor", "ray"]
        return ["--jobs", str(self.jobs)]


LOCAL = (Variant("jobs 1", 1), Variant("jobs 2", 2), Variant("jobs 2, threads 1", 2, threads=1))
RAY = Variant("ray", None, executor="ray")


def copy_example(source: Path, destination: Path) -> Path:
    """The example as a clone has it: everything but its renders and state, so the copy renders cold."""
    return Path(shutil.copytree(source, destination,
                                ignore=lambda folder, names: [n for n in names if Path(folder) == source
                                                              and n in STATE]))


def set_threads(root: Path, threads: int) -> None:
    """Give the project ``[render] threads = N`` (a copy's soundstage.toml, never the example's own)."""
    settings = root / "soundstage.toml"
    lines = settings.read_text().splitlines()
    if any(line.strip().startswith("threads") for line in lines):
        raise RuntimeError(f"{settings}: already sets threads; this benchmark sets it itself")
    if "[render]" in (line.split("#")[0].strip() for line in lines):
        index = next(i for i, line in enumerate(lines) if line.split("#")[0].strip() == "[render]")
        lines.insert(index + 1, f"threads = {threads}")
    else:
        lines += ["", "[render]", f"threads = {threads}"]
    settings.write_text("\n".join(lines) + "\n")


MARK_KEY = 0x5EEDCAFEF00DD00D    # one watermark key for every copy (a project otherwise draws its own)


def sha256(path: Path) -> str:
    """Of the movie's decoded pixels."""
    digest = hashlib.sha256()
    for frame in read_frames(path):
        digest.update(frame.tobytes())
    return digest.hexdigest()


def children_cpu() -> float:
    """CPU seconds of every finished child process so far (the CLI and the workers it waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def render_cold(root: Path, variant: Variant) -> dict[str, Any]:
    """One ``soundstage render --json`` of a project that has never been rendered; its times and hashes."""
    if variant.threads is not None:
        set_threads(root, variant.threads)
    share_mark_key(root, MARK_KEY)
    cpu = children_cpu()
    wall, report = render_overhead.timed_cli("render", str(root), "--json", *variant.arguments())
    cpu = children_cpu() - cpu
    failed = [s for s in report["steps"] if s["status"] != "built"]
    if failed:
        raise RuntimeError(f"{variant.name}: not every step was built on a cold render: {failed[:3]}")
    seconds = {kind: round(sum(s["seconds"] for s in report["steps"] if s["step"].split()[0] == kind), 3)
               for kind in ("take", "shot", "cut")}
    shots = sorted((root / "out" / "shots").glob("*.mp4"))
    return {"wall_s": round(wall, 3), "render_s": report["seconds"], "cpu_s": round(cpu, 3),
            "steps": len(report["steps"]), "step_s": seconds,
            "cut_sha256": sha256(root / "out" / "cut.mp4"),
            "shot_sha256": {shot.stem: sha256(shot) for shot in shots}}


def ray_init_cost() -> dict[str, float] | None:
    """``import ray``, ``ray.init`` (as the Ray executor calls it) and ``ray.shutdown`` in a fresh process."""
    if importlib.util.find_spec("ray") is None:
        return None
    script = (
        "import json, time\n"
        "t0 = time.perf_counter()\n"
        "import ray\n"
        "t1 = time.perf_counter()\n"
        "ray.init(include_dashboard=False, logging_level='WARNING', log_to_driver=False, configure_logging=True)\n"
        "t2 = time.perf_counter()\n"
        "ray.shutdown()\n"
        "t3 = time.perf_counter()\n"
        "print(json.dumps({'import_s': t1 - t0, 'init_s': t2 - t1, 'shutdown_s': t3 - t2}))\n")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    total = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"ray.init failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_s"] = total
    return {key: round(value, 3) for key, value in figures.items()}


def build(kind: str, root: Path, shots: int) -> Path:
    if kind == "example":
        return copy_example(EXAMPLE, root)
    render_overhead.build_project(root, shots)
    return root


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The best run stands for the variant (a busy neighbour only ever slows a run); all walls are kept."""
    best = min(runs, key=lambda run: run["wall_s"])
    return {**best, "walls_s": [run["wall_s"] for run in runs],
            "cut_sha256s": sorted({run["cut_sha256"] for run in runs})}


def measure(kind: str, variants: list[Variant], *, shots: int, repeat: int) -> dict[str, Any]:
    """Every variant on fresh copies of one project, ``repeat`` rounds interleaved."""
    runs: dict[str, list[dict[str, Any]]] = {variant.name: [] for variant in variants}
    for _ in range(repeat):
        for variant in variants:
            parent = Path(tempfile.mkdtemp(prefix=f"scaling-{kind}-"))
            try:
                root = build(kind, parent / kind, shots)
                runs[variant.name].append(render_cold(root, variant))
            finally:
                shutil.rmtree(parent, ignore_errors=True)
    results = [{"variant": variant.name, "jobs": variant.jobs, "threads": variant.threads,
                "executor": variant.executor, **summarise(runs[variant.name])} for variant in variants]
    base = results[0]["wall_s"]
    for result in results:
        result["speed_up"] = round(base / result["wall_s"], 3)
        result["cores_busy"] = round(result["cpu_s"] / result["wall_s"], 2)
    every = [run for name in runs for run in runs[name]]
    cuts = {run["cut_sha256"] for run in every}
    shot_names = {name for run in every for name in run["shot_sha256"]}
    differing = sorted(name for name in shot_names if len({run["shot_sha256"].get(name) for run in every}) > 1)
    return {"project": kind, "shots": len(every[0]["shot_sha256"]), "steps": every[0]["steps"],
            "identical": len(cuts) == 1, "differing_shots": differing, "results": results}


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "load": [round(x, 2) for x in os.getloadavg()]}


def run(*, small: bool = False, shots: int = 1000, repeat: int = 1, example: bool = True,
        ray: bool = True) -> dict[str, Any]:
    """The whole benchmark; ``small`` is CI's: six synthetic shots, local variants only, once."""
    if small:
        shots, repeat, example, ray = 6, 1, False, False
    load_before = [round(x, 2) for x in os.getloadavg()]
    projects = []
    if example:
        projects.append(measure("example", list(LOCAL), shots=shots, repeat=repeat))
    with_ray = ray and importlib.util.find_spec("ray") is not None
    synthetic = list(LOCAL) + ([RAY] if with_ray else [])
    projects.append(measure("synthetic", synthetic, shots=shots, repeat=repeat))
    return {"machine": {**machine(), "load_before": load_before}, "repeat": repeat,
            "ray_init": ray_init_cost() if with_ray else None, "projects": projects}


def table(report: dict[str, Any]) -> str:
    rows = []
    for project in report["projects"]:
        label = ("examples/moonlit-hanok" if project["project"] == "example" else
                 f"synthetic, {project['shots']} shots at {render_overhead.WIDTH}×{render_overhead.HEIGHT}")
        rows += [f"{label} ({project['steps']} steps)", "",
                 "| variant | wall, best (each run) | render | cut | CPU | cores busy | speed-up | cut sha256 |",
                 "|---|---:|---:|---:|---:|---:|---:|---|"]
        for r in project["results"]:
            walls = " / ".join(f"{w:.2f}" for w in r["walls_s"])
            rows.append(f"| {r['variant']} | {r['wall_s']:.2f} s ({walls}) | {r['render_s']:.2f} s | "
                        f"{r['step_s']['cut']:.2f} s | {r['cpu_s']:.1f} s | "
                        f"{r['cores_busy']:.2f} | {r['speed_up']:.2f}× | {r['cut_sha256'][:12]} |")
        same = "yes" if project["identical"] else "NO"
        rows.append(f"\nout/cut.mp4 identical across every run: {same}"
                    + (f" (shots that differ: {', '.join(project['differing_shots'])})"
                       if project["differing_shots"] else "") + "\n")
    if report["ray_init"]:
        ray = report["ray_init"]
        rows.append(f"ray, fresh process: import {ray['import_s']:.2f} s, init {ray['init_s']:.2f} s, "
                    f"shutdown {ray['shutdown_s']:.2f} s, the process {ray['process_s']:.2f} s")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shots", type=int, default=1000, help="shots in the synthetic project")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every variant (the best wall counts)")
    parser.add_argument("--small", action="store_true", help="six synthetic shots, local variants, once: for CI")
    parser.add_argument("--no-example", action="store_true", help="leave out the example project (~80 s a run)")
    parser.add_argument("--no-ray", action="store_true", help="leave out the Ray executor")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args()
    report = run(small=args.small, shots=args.shots, repeat=args.repeat, example=not args.no_example,
                 ray=not args.no_ray)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        m = report["machine"]
        print(f"{m['cores']} cores, {m['cpu']}, Python {m['python']}; "
              f"load average before {m['load_before']}, after {m['load']}\n")
        print(table(report))


if __name__ == "__main__":
    main()
