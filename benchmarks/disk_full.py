"""Disk full: a render into a real, tiny tmpfs filled to each of a range of free-space levels, then re-run.

For each level the tiny film (two shots and the cut, signed) is rendered with ``out/`` on a tmpfs that has only
that much room left, so the disk fills at a different point each time: while a shot is encoded, while it is
signed, while its record is written, while the cut is encoded or signed. Each run is scored:

- refused right: exit 1 or 2, the message says "disk full", and there is no traceback;
- published unsigned: a movie under its final name that carries no C2PA manifest (must be 0);
- partials left: half-written files left behind (must be 0);
- data lost: a file that was finished before the run changed or went (must be 0);
- recovered: with the space freed, the same command renders the film, and its pictures are the reference's.

Needs root (to mount a tmpfs); skips with the reason where that is not permitted.

    sudo .venv/bin/python benchmarks/disk_full.py [--small] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from soundstage.pipeline import render_project  # noqa: E402
from soundstage.provenance import verify_file  # noqa: E402
from tiny_film import make_tiny, pictures  # noqa: E402

SOUNDSTAGE = Path(sys.executable).parent / "soundstage"
LEVELS_KIB = (0, 4, 8, 12, 16, 24, 32, 40, 48, 64, 80, 96, 128)
SMALL_LEVELS_KIB = (0, 12, 24, 48, 80)


class NoTmpfs(Exception):
    """Mounting a tmpfs is not permitted here (not root, or no mount in this container)."""


@contextlib.contextmanager
def tmpfs(folder: Path, kib: int) -> Iterator[Path]:
    """A real file system of ``kib`` KiB mounted at ``folder`` for the block; raises NoTmpfs where it cannot be."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        raise NoTmpfs("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        raise NoTmpfs(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def leave_free(folder: Path, free: int) -> Path:
    """Fill ``folder``'s file system with a ballast file until about ``free`` bytes are left; returns the file."""
    stat = os.statvfs(folder)
    ballast = folder / "ballast"
    ballast.write_bytes(b"\0" * max(stat.f_bavail * stat.f_frsize - free, 0))
    return ballast


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".partial" in p.name]


def soundstage(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([str(SOUNDSTAGE), *map(str, args)], capture_output=True, text=True, env=env, timeout=300,
                          check=False)


def _movies(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.mp4"))}


def trial(reference: Path, where: Path, free: int, *, cut_only: bool) -> dict[str, Any]:
    """One render into ``free`` bytes of room; ``cut_only``: the shots are finished first, only the cut is made."""
    film = where / "film"
    shutil.copytree(reference, film, ignore=shutil.ignore_patterns("out"))
    out = film / "out"
    with tmpfs(out, 8192):
        if cut_only:
            assert soundstage("render", film).returncode == 0
            (out / "cut.mp4").unlink()
        before = _movies(out)
        ballast = leave_free(out, free)
        run = soundstage("render", film)
        said = run.stdout + run.stderr
        failed = run.returncode != 0
        unsigned = [name for name in _movies(out) if verify_file(out / name).state == "none"]
        lost = [name for name, data in before.items() if not (out / name).is_file() or
                (out / name).read_bytes() != data]
        left = [p.name for p in leftovers(out)]
        ballast.unlink()
        again = soundstage("render", film)
        recovered = again.returncode == 0 and all(
            pictures(out / name) == pictures(reference / "out" / name) for name in ("shots/1-1.mp4", "shots/2-1.mp4",
                                                                                     "cut.mp4"))
    shutil.rmtree(film)
    return {"free_kib": free // 1024, "cut_only": cut_only, "exit": run.returncode, "failed": failed,
            "refused_right": not failed or ("disk full" in said and "Traceback" not in said
                                            and run.returncode in (1, 2)),
            "crashed": "Traceback" in said, "unsigned": unsigned, "partials": left, "lost": lost,
            "recovered": recovered, "said": next((line for line in said.splitlines() if "disk full" in line), "")}


def run(small: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="disk-full-") as folder:
        reference = Path(folder) / "reference"
        report = render_project(make_tiny(reference))
        assert not report.failed, report.failed
        trials = [trial(reference, Path(folder), kib * 1024, cut_only=cut_only)
                  for cut_only in (False, True) for kib in (SMALL_LEVELS_KIB if small else LEVELS_KIB)]
    failed = [t for t in trials if t["failed"]]
    return {"trials": trials, "tried": len(trials), "disk_full_hit": len(failed),
            "refused_right": sum(t["refused_right"] for t in failed), "crashes": sum(t["crashed"] for t in trials),
            "published_unsigned": sum(len(t["unsigned"]) for t in trials),
            "partials_left": sum(len(t["partials"]) for t in trials),
            "finished_files_lost": sum(len(t["lost"]) for t in trials),
            "recovered": sum(t["recovered"] for t in trials)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="five free-space levels instead of thirteen")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    try:
        result = run(small=args.small)
    except NoTmpfs as exc:
        print(f"skipped: {exc}")
        return
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'free':>6} {'what':<9} {'exit':>4}  {'refused right':<13} unsigned partials lost recovered  said")
    for t in result["trials"]:
        print(f"{t['free_kib']:>4} K {'cut' if t['cut_only'] else 'film':<9} {t['exit']:>4}  "
              f"{'yes' if t['refused_right'] else 'NO':<13} {len(t['unsigned']):>8} {len(t['partials']):>8} "
              f"{len(t['lost']):>4} {'yes' if t['recovered'] else 'NO':>9}  {t['said'][-90:]}")
    print(f"tried {result['tried']}, disk filled in {result['disk_full_hit']}, refused right "
          f"{result['refused_right']}, crashes {result['crashes']}, published unsigned "
          f"{result['published_unsigned']}, partials left {result['partials_left']}, finished files lost "
          f"{result['finished_files_lost']}, recovered on re-run {result['recovered']}/{result['tried']}")


if __name__ == "__main__":
    main()
