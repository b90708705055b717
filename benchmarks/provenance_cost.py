"""What provenance costs a real render: the watermark and the C2PA signing, on the example project.

    .venv/bin/python benchmarks/provenance_cost.py [--small] [--repeat N] [--jobs N] [--json]

examples/moonlit-hanok is copied four times: as shipped (watermark and signing on), with
``[provenance] sign = false, watermark = false``, with the watermark alone, and with signing alone. Each copy
is rendered in full (its takes, its shots, the cut); then, for each further round of ``--repeat``, its shot
movies are removed and its shots rendered again, the four copies in turn and in a rotating order, so noise
from other work on the machine hits them all alike. What is compared is each shot step's own seconds (``RenderReport``
``shot <id>`` steps, the time the step ran on its worker), best of the rounds, and their total.

``--jobs 1`` by default: one step at a time, so a shot's seconds are its own and not shared with another
shot on the same cores (the example ships ``jobs = 2``; pass ``--jobs 2`` to time that).

Then the signing itself, as the pipeline does it, on unsigned copies of the files it wrote: each take's PNG
(``sign_take``), each shot movie with its plate and signed takes as ingredients (``sign_shot``), and the cut
with every signed shot as an ingredient, so its manifest carries every take's (``sign_cut``): its manifest
size (signed bytes minus unsigned) and the time to verify it (``verify_file`` with the project's root).

``--small``: 320×180 with ``[plates] size = "fit"``, 0.5 s shots, one round, for CI.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from soundstage.pipeline import render_project
from soundstage.pipeline.breakdown import breakdown_project
from soundstage.pipeline.shot import shot_outputs
from soundstage.pipeline.takes import Generation
from soundstage.project import Project
from soundstage.provenance.credentials import sign_cut, sign_shot, sign_take, signable
from soundstage.provenance.keys import ROOT_FILE, keys_dir
from soundstage.provenance.signer import project_signer
from soundstage.provenance.signing import verify_file
from soundstage.records.shot import read_cut_record, read_shot_record

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "moonlit-hanok"
VARIANTS = {"shipped": (True, True), "neither": (False, False), "watermark": (False, True), "signing": (True, False)}
TARGET = 1.25           # the issue: embedding must not slow the shot render by more than 25%


def copy_example(folder: Path, *, sign: bool, watermark: bool, small: bool) -> Project:
    """The example as shipped, or with a ``[provenance]`` table turning signing and/or the mark off."""
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("out", ".soundstage"))
    settings = folder / "soundstage.toml"
    text = settings.read_text()
    if small:     # and 0.5 s shots: the takes and shots are what a render is made of, just fewer frames
        text = text.replace("resolution = [1280, 720]", "resolution = [320, 180]").replace(
            'size = "refuse"', 'size = "fit"').replace("shot_duration = 4.0", "shot_duration = 0.5")
        shots = folder / "shots.toml"
        shots.write_text(re.sub(r"^duration = [0-9.]+", "duration = 0.5", shots.read_text(), flags=re.MULTILINE))
    if not (sign and watermark):
        text += f"\n[provenance]\nsign = {str(sign).lower()}\nwatermark = {str(watermark).lower()}\n"
    settings.write_text(text)
    return Project.load(folder)


def shot_seconds(project: Project, jobs: int) -> dict[str, float]:
    """Render the project; each shot step's own seconds (every shot must have been built)."""
    report = render_project(project, jobs=jobs)
    if report.failed:
        raise RuntimeError(f"{project.root.name}: {report.failed[0].step} failed: {report.failed[0].reason}")
    shots = {s.step.removeprefix("shot "): s for s in report.steps if s.step.startswith("shot ")}
    if any(s.status != "built" for s in shots.values()):
        raise RuntimeError(f"{project.root.name}: a shot was not rebuilt: {shots}")
    return {shot: s.seconds for shot, s in shots.items()}


def unrender_shots(project: Project) -> None:
    """Remove the shot movies, so the next render builds every shot again (its takes stay in the store)."""
    for shot in breakdown_project(project).shots:
        for path in shot_outputs(project, shot):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


def best_ms(fn: Callable[[Any], object], repeat: int, setup: Callable[[], Any] = lambda: None) -> float:
    """Best of ``repeat`` timed calls of ``fn(setup())``; the setup (a fresh unsigned copy) is not timed."""
    times = []
    for _ in range(repeat):
        made = setup()
        started = time.perf_counter()
        fn(made)
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def signing_costs(signed: Project, plain: Project, folder: Path, repeat: int) -> dict[str, Any]:
    """Time the pipeline's own signing calls on fresh unsigned copies of what ``plain``'s render wrote."""
    identity = project_signer(signed)
    assert identity is not None
    store = Generation(signed).store
    folder.mkdir()
    counter = iter(range(10**6))

    def fresh(path: Path) -> Path:
        copy = folder / f"{next(counter)}-{path.name}"
        shutil.copyfile(path, copy)
        return copy

    takes = []
    plain_store = Generation(plain).store
    for take in plain_store.takes():
        files = [f for f in plain_store.files(take) if signable(f)]
        if files:
            ms = best_ms(lambda copies, t=take: sign_take(copies, t.record, identity), repeat,
                         lambda f=files: [fresh(p) for p in f])
            takes.append({"slot": take.slot, "files": len(files), "bytes": sum(f.stat().st_size for f in files),
                          "sign_ms": round(ms, 1)})
    shots = []
    shot_ids = [shot.id for shot in breakdown_project(signed).shots]
    for shot_id in shot_ids:
        record = read_shot_record(signed, shot_id)
        assert record is not None
        movie = plain.out_dir / "shots" / f"{shot_id}.mp4"
        ingredients = {layer.slot: store.files(store.get(layer.take_id))[0] for layer in record.layers}
        plate = signed.root / record.plate if record.plate else None
        ms = best_ms(lambda copy, r=record, p=plate, i=ingredients:
                     sign_shot([(copy, copy)], r, identity, plate=p, takes=i), repeat, lambda m=movie: fresh(m))
        shots.append({"shot": shot_id, "frames": record.frames, "bytes": movie.stat().st_size,
                      "takes": len(ingredients), "plate": plate is not None, "sign_ms": round(ms, 1)})
    cut = plain.out_dir / "cut.mp4"
    record = read_cut_record(signed, shot_ids)
    movies = [signed.out_dir / "shots" / f"{shot_id}.mp4" for shot_id in shot_ids]
    signed_cut = fresh(cut)
    sign_ms = best_ms(lambda copy: sign_cut(copy, movies, record, identity), repeat, lambda: fresh(cut))
    sign_cut(signed_cut, movies, record, identity)
    root = keys_dir(signed.root) / ROOT_FILE
    verdict = verify_file(signed_cut, trust=root)
    verify_ms = best_ms(lambda _: verify_file(signed_cut, trust=root), repeat)
    return {"takes": takes, "shots": shots,
            "cut": {"bytes": cut.stat().st_size, "shots": len(movies), "takes": sum(s["takes"] for s in shots),
                    "manifest_bytes": signed_cut.stat().st_size - cut.stat().st_size, "sign_ms": round(sign_ms, 1),
                    "verify_ms": round(verify_ms, 1), "verify_state": verdict.state, "verify_ok": verdict.ok}}


def run(*, small: bool = False, repeat: int | None = None, jobs: int = 1) -> dict[str, Any]:
    repeat = repeat or (1 if small else 3)
    with tempfile.TemporaryDirectory(prefix="provenance-cost-") as tmp:
        projects = {name: copy_example(Path(tmp) / name, sign=sign, watermark=mark, small=small)
                    for name, (sign, mark) in VARIANTS.items()}
        # round 1 is the first render (takes, shots, the cut); later rounds rebuild only the shots
        rounds = {name: [shot_seconds(project, jobs)] for name, project in projects.items()}
        names = list(projects)
        for number in range(1, repeat):
            for name in names[number % len(names):] + names[:number % len(names)]:
                unrender_shots(projects[name])
                rounds[name].append(shot_seconds(projects[name], jobs))
        best = {name: {shot: min(r[shot] for r in runs) for shot in runs[0]} for name, runs in rounds.items()}
        signing = signing_costs(projects["shipped"], projects["neither"], Path(tmp) / "signed-copies", max(repeat, 3))
    base = best["neither"]
    per_shot = [{"shot": shot, **{name: round(best[name][shot], 3) for name in VARIANTS},
                 **{f"ratio_{name}": round(best[name][shot] / base[shot], 3) for name in VARIANTS if name != "neither"}}
                for shot in base]
    totals = {name: round(sum(best[name].values()), 3) for name in VARIANTS}
    ratios = {name: round(totals[name] / totals["neither"], 3) for name in VARIANTS if name != "neither"}
    settings = projects["shipped"].settings
    return {"resolution": list(settings.resolution), "fps": settings.fps, "jobs": jobs, "repeat": repeat,
            "per_shot": per_shot, "total": totals, "ratio": ratios, "target_ratio": TARGET,
            "meets_target": ratios["shipped"] <= TARGET,
            "rounds": {name: [round(sum(r.values()), 3) for r in runs] for name, runs in rounds.items()},
            "signing": signing,
            "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()}}


def report(result: dict[str, Any]) -> str:
    width, height = result["resolution"]
    lines = [f"{width}×{height}, {result['fps']:g} fps, --jobs {result['jobs']}, best of {result['repeat']} "
             f"interleaved rounds, Python {result['machine']['python']}", "",
             "| shot | neither | watermark only | signing only | both (shipped) | watermark | signing | both |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    rows = [*result["per_shot"], {"shot": "**total**", **result["total"],
                                  **{f"ratio_{name}": value for name, value in result["ratio"].items()}}]
    for r in rows:
        lines.append(f"| {r['shot']} | {r['neither']:.2f} s | {r['watermark']:.2f} s | {r['signing']:.2f} s | "
                     f"{r['shipped']:.2f} s | {r['ratio_watermark']:.3f}× | {r['ratio_signing']:.3f}× | "
                     f"{r['ratio_shipped']:.3f}× |")
    verdict = "meets" if result["meets_target"] else "misses"
    lines += ["", f"Both on: {result['ratio']['shipped']:.3f}× the shot render; {verdict} the "
              f"≤ {result['target_ratio']}× target.", "",
              "| signed file | bytes | ingredients | sign |", "|---|---:|---:|---:|"]
    signing = result["signing"]
    for t in signing["takes"]:
        lines.append(f"| take {t['slot']} ({t['files']} PNG) | {t['bytes']:,} | – | {t['sign_ms']:.1f} ms |")
    for s in signing["shots"]:
        plate = " + plate" if s["plate"] else ""
        lines.append(f"| shot {s['shot']} MP4 ({s['frames']} frames) | {s['bytes']:,} | {s['takes']} takes{plate} | "
                     f"{s['sign_ms']:.1f} ms |")
    cut = signing["cut"]
    lines += [f"| cut MP4 | {cut['bytes']:,} | {cut['shots']} shots ({cut['takes']} takes) | {cut['sign_ms']:.1f} ms |",
              "", f"The cut's manifest store: {cut['manifest_bytes']:,} bytes; verify {cut['verify_ms']:.1f} ms "
              f"({cut['verify_state']}, ok={cut['verify_ok']})."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="320×180, plates fitted, 0.5 s shots, one round (CI)")
    parser.add_argument("--repeat", type=int, help="interleaved shot rounds, best of (default 3; 1 small)")
    parser.add_argument("--jobs", type=int, default=1, help="render workers (default 1: a shot's seconds are its own)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(small=args.small, repeat=args.repeat, jobs=args.jobs)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
