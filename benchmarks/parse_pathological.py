"""How long hostile screenplays take to parse and break down: each must stay linear in its size.

The 120-page script of ``parse_speed.py`` says how fast a real script goes; these are the inputs an attacker
(or a broken export) sends, each built deterministically to about ``--size`` bytes. Most were quadratic or
worse before issue 15 (a 280 KB line of nested emphasis took 31 s, 50,000 headings 64 s). Target: every
accepted input up to the 10 MB limit (:data:`soundstage.script.text.MAX_BYTES`) under 3 s, end to end. A
line too dense with emphasis marks is read literally, and over 10,000 scenes are refused (issue 16), so at
10 MB the emphasis lines, ``headings`` and ``korean_headings`` come back as a warning or a refusal.

    .venv/bin/python benchmarks/parse_pathological.py [--size BYTES] [--only NAME ...] [--json]

Without ``--size`` each input has the size the issue reported (or 1 MB). Prints, per input, its size and the
seconds to parse (``parse_fountain``) and to break down (``break_down``), wall-clock and CPU (on a shared
machine the CPU time is the steadier figure), or the one line it was refused with.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from parse_speed import LINES_PER_PAGE, screenplay
from soundstage.errors import SoundstageError
from soundstage.script import parse_fountain
from soundstage.script.breakdown import break_down

OPENING = "Title: Hostile\n\nINT. STAGE - NIGHT\n\n"


def _repeat(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit.encode("utf-8")))


def nested_emphasis(size: int) -> str:
    """One action line of emphasis opened in every way, nested, then closed: ``*a _b **c … c** b_ a*``."""
    half = size // 2
    return OPENING + _repeat("*a _b **c ***d ", half) + "x" + _repeat(" d*** c** b_ a*", half) + "\n"


def unclosed_emphasis(size: int) -> str:
    """One line of marks that never close, each of which used to scan to the end of the line."""
    return OPENING + _repeat("*a **b _c ***d ", size) + "\n"


def dense_emphasis(size: int) -> str:
    """Real emphasis on every line, two marks in 32 characters: below the density at which marks are taken
    literally (over 64 on a line, more than one character in 16), so each is read."""
    return OPENING + _repeat("*a* b c d e f g h i j k l m n o " * 3 + "\n", size)


def headings(size: int) -> str:
    """The same scene heading over and over (0.9 MB is 50,000 headings)."""
    return _repeat("INT. HOUSE - DAY\n\n", size)


def korean_headings(size: int) -> str:
    """``S#`` headings one under another with no blank line (a Korean heading needs none after it)."""
    return "Title: 한밤\n\n" + "".join(f"S#{index}. 집 (밤)\n" for index in range(max(1, size // 17)))


def long_script(size: int) -> str:
    """The benchmark's realistic script, just very long (9 MB is about 5,000 pages)."""
    return screenplay(max(1, size // (LINES_PER_PAGE * 38)))


def unclosed_notes(size: int) -> str:
    """``[[`` that never closes, on many lines and within lines."""
    return OPENING + _repeat("Anna [[ looks [[ up\n", size)


def unclosed_boneyard(size: int) -> str:
    """``/*`` after ``/*`` with no ``*/``: refused, and the refusal must be quick too."""
    return OPENING + _repeat("/* draft ", size) + "\n"


def spaces(size: int) -> str:
    """Headings, centred text, notes and dashes followed by long runs of spaces."""
    run = " " * (size // 6)
    return (f"INT. HOUSE{run}- DAY{run}(NIGHT{run}#1#\n\n>{run}THE END{run}\n\n"
            f"Anna{run}[[note]]{run}waits.\n")


def long_cue(size: int) -> str:
    """One character cue as long as the file, then a line of dialogue."""
    return OPENING + "A" * size + " (V.O.)\nHello.\n"


def many_characters(size: int) -> str:
    """Thousands of scenes, each with a new speaking character named in every scene's action."""
    count = max(1, int((size / 64) ** 0.5))
    names = [f"AGENT {index}" for index in range(count)]
    action = " ".join(names)
    unit = "".join(f"INT. ROOM {i} - DAY\n\n{action}\n\n{name}\nGo.\n\n" for i, name in enumerate(names))
    return _repeat(unit, size)


def shouting(size: int) -> str:
    """Action in capitals, every word a possible ``NAME (30s)`` introduction that never comes."""
    return OPENING + _repeat("THE DOOR OPENS AND ", size) + "\n"


INPUTS: dict[str, tuple[Callable[[int], str], int]] = {
    "nested_emphasis": (nested_emphasis, 280_000),
    "unclosed_emphasis": (unclosed_emphasis, 1_000_000),
    "dense_emphasis": (dense_emphasis, 1_000_000),
    "headings": (headings, 900_000),
    "korean_headings": (korean_headings, 1_000_000),
    "long_script": (long_script, 9_000_000),
    "unclosed_notes": (unclosed_notes, 1_000_000),
    "unclosed_boneyard": (unclosed_boneyard, 1_000_000),
    "spaces": (spaces, 1_000_000),
    "long_cue": (long_cue, 1_000_000),
    "many_characters": (many_characters, 1_000_000),
    "shouting": (shouting, 1_000_000),
}


def run(name: str, size: int | None = None) -> dict[str, object]:
    """Parse and break down one input; the figures, or the line it was refused with."""
    make, default = INPUTS[name]
    text = make(size or default)
    report: dict[str, object] = {"input": name, "bytes": len(text.encode("utf-8"))}
    start, cpu = time.perf_counter(), time.process_time()
    try:
        parsed = parse_fountain(text)
        report["parse_s"] = round(time.perf_counter() - start, 3)
        report["parse_cpu_s"] = round(time.process_time() - cpu, 3)
        report["elements"] = len(parsed.elements)
        report["warnings"] = len(parsed.warnings)
        start, cpu = time.perf_counter(), time.process_time()
        report["scenes"] = len(break_down(parsed).scenes)
        report["breakdown_s"] = round(time.perf_counter() - start, 3)
        report["breakdown_cpu_s"] = round(time.process_time() - cpu, 3)
    except SoundstageError as error:
        report["refused_s"] = round(time.perf_counter() - start, 3)
        report["refused"] = str(error)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, help="bytes of every input (default: each input's own)")
    parser.add_argument("--only", nargs="+", choices=sorted(INPUTS), help="run only these inputs")
    parser.add_argument("--json", action="store_true", help="print one JSON object per input")
    args = parser.parse_args()
    for name in args.only or INPUTS:
        report = run(name, args.size)
        if args.json:
            print(json.dumps(report), flush=True)
        elif "refused" in report:
            print(f"{name:18} {report['bytes'] / 1e6:6.2f} MB  refused in {report['refused_s']:6.3f} s: "
                  f"{str(report['refused'])[:60]}", flush=True)
        else:
            print(f"{name:18} {report['bytes'] / 1e6:6.2f} MB  parse {report['parse_s']:6.3f} s "
                  f"(cpu {report['parse_cpu_s']:6.3f})  breakdown {report['breakdown_s']:6.3f} s "
                  f"(cpu {report['breakdown_cpu_s']:6.3f})  ({report['elements']} elements, {report['scenes']} "
                  f"scenes{', literal marks said' if report['warnings'] else ''})", flush=True)


if __name__ == "__main__":
    main()
