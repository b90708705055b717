"""Hostile input through the installed command: each bad file or bad request a crew or an attacker can hand
soundstage, run as a new user runs it, and scored.

Each case copies a fresh tiny film, spoils one thing, runs one ``soundstage`` command and checks:

- answered right: the exit code the case expects (2 for bad input, 1 for a failed check such as an untrusted
  signature, 0 where the input is odd but valid), and the words the answer must carry;
- no traceback: nothing on stderr looks like a Python traceback;
- one line: every line of an error answer starts with ``error:`` (a preflight lists each problem on its own);
- nothing lost: every file the user made (screenplay, shot plan, settings, plates) has the same bytes after.

    .venv/bin/python benchmarks/hostile_inputs.py [--json]

Exit status 1 when any case fails. ``tests/benchmarks/test_hostile_inputs_small.py`` runs every case in CI.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from tiny_film import make_tiny  # noqa: E402

SOUNDSTAGE = Path(sys.executable).parent / "soundstage"
USER_FILES = ("soundstage.toml", "tiny.fountain", "shots.toml", "plates")


@dataclass(frozen=True)
class Case:
    name: str
    spoil: Callable[[Path], list[str]]     # spoils the film in the folder, returns the command's arguments
    exit: int                               # the exit code a right answer has
    says: str                               # words the answer must carry (stdout + stderr), case-folded


def _set(film: Path, name: str, text: str | bytes) -> None:
    path = film / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height``: a decoder would allocate that much first."""
    ok, encoded = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    assert ok
    data = bytearray(encoded.tobytes())
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _shots_with(film: Path, old: str, new: str) -> None:
    path = film / "shots.toml"
    path.write_text(path.read_text().replace(old, new, 1))


def _heading_markup(film: Path) -> list[str]:
    _set(film, "tiny.fountain", "Title: T\n\nINT. [/x] HOUSE [red] - NIGHT\n\nAnna waits.\n")
    return ["breakdown", str(film)]


def _not_utf8(name: str) -> Callable[[Path], list[str]]:
    def spoil(film: Path) -> list[str]:
        path = film / name
        text = path.read_text() if path.is_file() else '[[price]]\nengine = "x"\n'
        path.write_bytes(text.encode("utf-8") + "# 한옥\n".encode("cp949"))
        return ["plan", str(film)]
    return spoil


def _long_shot_id(film: Path) -> list[str]:
    _shots_with(film, 'id = "1-1"', f'id = "{"A" * 300}"')
    return ["plan", str(film)]


def _plate_outside(film: Path) -> list[str]:
    _shots_with(film, 'plate = "plates/actor.mp4"', 'plate = "../../etc/passwd"')
    return ["plan", str(film)]


def _junk_plate(film: Path) -> list[str]:
    (film / "plates" / "actor.mp4").write_bytes(b"\x00\x01junk" * 400)
    return ["plan", str(film)]


def _truncated_plate(film: Path) -> list[str]:
    plate = film / "plates" / "actor.mp4"
    data = plate.read_bytes()
    plate.write_bytes(data[: len(data) // 3])
    return ["plan", str(film)]


def _unmakeable_element(film: Path) -> list[str]:
    _shots_with(film, 'elements = ["rain"]', 'elements = ["whale"]')
    return ["plan", str(film)]


def _oversize_key(film: Path) -> list[str]:
    (film / "plates" / "huge.png").write_bytes(_png_claiming(20000, 20000))
    return ["key", str(film / "plates" / "huge.png"), "-o", str(film / "huge_key.png")]


def _key_into_nowhere(film: Path) -> list[str]:
    return ["key", str(film / "plates" / "actor.mp4"), "-o", str(film.parent / "nowhere" / "x" / "key.mov")]


def _damaged_database(film: Path) -> list[str]:
    database = film / ".soundstage" / "soundstage.db"
    database.parent.mkdir(exist_ok=True)
    with sqlite3.connect(database) as connection:      # a database with some pages, then garbage in the middle
        connection.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT)")
        connection.executemany("INSERT INTO filler (text) VALUES (?)", [("x" * 500,)] * 200)
    connection.close()
    data = bytearray(database.read_bytes())
    middle = len(data) // 2 // 4096 * 4096
    data[middle:middle + 3 * 4096] = os.urandom(3 * 4096)
    database.write_bytes(bytes(data))
    return ["notes", str(film)]


def _binary_screenplay(film: Path) -> list[str]:
    _set(film, "tiny.fountain", os.urandom(4096))
    return ["breakdown", str(film)]


def _xml_bomb(film: Path) -> list[str]:
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
            '<FinalDraft><Content><Paragraph Type="Scene Heading"><Text>&lol3;</Text></Paragraph>'
            '</Content></FinalDraft>\n')
    _set(film, "bomb.fdx", bomb)
    return ["breakdown", str(film / "bomb.fdx")]


def _nested_emphasis(film: Path) -> list[str]:
    _set(film, "tiny.fountain", "Title: T\n\nEXT. FIELD - DAY\n\n" + "*_" * 20_000 + "wind" + "_*" * 20_000 + "\n")
    return ["breakdown", str(film), "--json"]


def _cp949_screenplay(film: Path) -> list[str]:
    script = "Title: 밤\n\nS#1. 한옥 지붕 위 (밤)\n\n민지가 달린다. 불길이 치솟는다.\n"
    _set(film, "tiny.fountain", script.encode("cp949"))
    return ["breakdown", str(film), "--json"]


def _foreign_root(film: Path) -> list[str]:
    """A file signed under this film's root, checked against another project's root."""
    other = film.parent / "other"
    make_tiny(other)
    for project in (film, other):
        subprocess.run([str(SOUNDSTAGE), "keys", "init", str(project)], capture_output=True, check=True,
                       timeout=120)
    still = film / "refs" / "still.png"
    still.parent.mkdir(exist_ok=True)
    picture = np.zeros((36, 64, 3), np.uint8)
    picture[...] = (50, 190, 40)                  # BGR: a green screen, and an actor on it
    picture[10:30, 20:40] = (50, 60, 200)
    cv2.imwrite(str(still), picture)
    subprocess.run([str(SOUNDSTAGE), "key", str(still), "-o", str(film / "refs" / "still_key.png"),
                    "--project", str(film)], capture_output=True, check=True, timeout=120)
    return ["verify", str(film / "refs" / "still_key.png"), "--trust",
            str(other / ".soundstage" / "keys" / "root.pem")]


CASES = [
    Case("markup in a scene heading", _heading_markup, 0, "[/x] house [red]"),
    Case("shots.toml not UTF-8", _not_utf8("shots.toml"), 2, "not utf-8"),
    Case("soundstage.toml not UTF-8", _not_utf8("soundstage.toml"), 2, "not utf-8"),
    Case("prices.toml not UTF-8", _not_utf8("prices.toml"), 2, "not utf-8"),
    Case("a 300-character shot id", _long_shot_id, 2, "shots.toml"),
    Case("a plate outside the project", _plate_outside, 2, "outside the project"),
    Case("a plate that is not a movie", _junk_plate, 2, "actor.mp4"),
    Case("a truncated plate", _truncated_plate, 2, "actor.mp4"),
    Case("an element no engine makes", _unmakeable_element, 2, "whale"),
    Case("key: a 20000×20000 PNG header", _oversize_key, 2, "pixels"),
    Case("key -o into a missing folder", _key_into_nowhere, 2, "does not exist"),
    Case("a database damaged in the middle", _damaged_database, 2, "soundstage db rebuild"),
    Case("a screenplay of random bytes", _binary_screenplay, 2, "tiny.fountain"),
    Case("an FDX entity bomb", _xml_bomb, 2, "bomb.fdx"),
    Case("80 KB of nested emphasis", _nested_emphasis, 0, '"scenes"'),
    Case("a CP949 screenplay", _cp949_screenplay, 0, "한옥"),
    Case("verify --trust another project's root", _foreign_root, 1, "not trusted by"),
]


def _fingerprint(film: Path) -> dict[str, str]:
    files = [film / name for name in USER_FILES]
    found = [f for path in files for f in ([path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir()
                                           else []) if f.is_file()]
    return {str(f.relative_to(film)): hashlib.sha256(f.read_bytes()).hexdigest() for f in found}


def run_case(case: Case, workdir: Path) -> dict[str, object]:
    film = workdir / "film"
    make_tiny(film)
    args = case.spoil(film)
    before = _fingerprint(film)
    started = time.perf_counter()
    done = subprocess.run([str(SOUNDSTAGE), *args], capture_output=True, text=True, timeout=300, cwd=workdir,
                          env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    seconds = time.perf_counter() - started
    answer = (done.stdout + done.stderr).casefold()
    error_lines = [line for line in done.stderr.splitlines() if line.strip()] if done.returncode == 2 else []
    result = {
        "case": case.name,
        "exit": done.returncode,
        "answered_right": done.returncode == case.exit and case.says.casefold() in answer,
        "traceback": "traceback (most recent call last)" in answer,
        "one_line": all(line.startswith("error:") for line in error_lines),
        "lost": sorted(name for name, digest in before.items() if _fingerprint(film).get(name) != digest),
        "seconds": round(seconds, 2),
        "said": (done.stderr.strip() or done.stdout.strip()).splitlines()[-1][:160] if answer.strip() else "",
    }
    result["ok"] = result["answered_right"] and not result["traceback"] and result["one_line"] and not result["lost"]
    return result


def run(cases: list[Case] | None = None) -> list[dict[str, object]]:
    results = []
    for case in cases or CASES:
        with tempfile.TemporaryDirectory(prefix="hostile-") as folder:
            results.append(run_case(case, Path(folder)))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    options = parser.parse_args()
    if not SOUNDSTAGE.is_file():
        print(f"needs the installed command at {SOUNDSTAGE} (make test sets it up)", file=sys.stderr)
        return 2
    results = run()
    if options.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        print("| case | exit | answered right | traceback | one line | lost | s | said |")
        print("|---|---:|---|---|---|---|---:|---|")
        for r in results:
            said = str(r["said"]).replace("|", "\\|")
            print(f"| {r['case']} | {r['exit']} | {'yes' if r['answered_right'] else 'NO'} | "
                  f"{'YES' if r['traceback'] else 'no'} | {'yes' if r['one_line'] else 'NO'} | "
                  f"{', '.join(r['lost']) or 'none'} | {r['seconds']} | {said} |")  # type: ignore[arg-type]
        ok = sum(1 for r in results if r["ok"])
        print(f"\n{len(results)} tried, {ok} answered right with one line and nothing lost, "
              f"{sum(1 for r in results if r['traceback'])} tracebacks")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
