"""How fast a feature-length screenplay parses.

Generates a realistic script deterministically (about 50 source lines and 0.9 scenes a page: English and
Korean headings, action, dialogue with parentheticals and extensions, dual dialogue, notes, emphasis,
boneyard, sections and transitions), parses it ``--repeat`` times and prints the median.

    .venv/bin/python benchmarks/parse_speed.py --pages 120 --repeat 20 [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from soundstage.script import Kind, parse_fountain

LINES_PER_PAGE = 50

_PLACES = ["MOUNTAIN PASS", "DESERT OF GLASS", "HANOK ROOFTOPS", "SEA CLIFF", "VILLAGE MARKET",
           "TEMPLE COURTYARD", "MIN-JI'S KITCHEN", "BAMBOO FOREST", "HARBOUR", "POLICE STATION"]
_KOREAN_PLACES = ["한옥 지붕 위", "시장 골목", "절 마당", "바닷가 절벽", "민지의 부엌", "대나무 숲"]
_TIMES = ["DAY", "NIGHT", "DAWN", "DUSK", "CONTINUOUS", "LATER"]
_KOREAN_TIMES = ["낮", "밤", "새벽", "저녁", "황혼"]
_CAST = ["MIN-JI", "GRANDMOTHER", "DETECTIVE HAN", "OLD MONK", "SEO-YEON"]
_KOREAN_CAST = ["민지", "할머니", "한 형사"]
_WORDS = ["the", "lantern", "swings", "low", "over", "the", "water", "while", "smoke", "drifts", "through",
          "the", "gate", "and", "a", "bell", "rings", "somewhere", "far", "below", "as", "she", "turns",
          "toward", "the", "dragon", "and", "the", "crowd", "falls", "silent"]


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    if rng.random() < 0.15:
        text = text.replace(" the ", " *the* ", 1)
    if rng.random() < 0.05:
        text += " [[VFX: smoke]]"
    return text[0].upper() + text[1:] + "."


def _speech(rng: random.Random, name: str, dual: bool = False) -> list[str]:
    lines = [name + rng.choice(["", "", "", " (V.O.)", " (CONT'D)"]) + (" ^" if dual else "")]
    if rng.random() < 0.3:
        lines.append("(" + " ".join(rng.choice(_WORDS) for _ in range(2)) + ")")
    lines += [_sentence(rng, rng.randint(4, 12)) for _ in range(rng.randint(1, 3))]
    return [*lines, ""]


def screenplay(pages: int, seed: int = 7) -> str:
    """A Fountain screenplay of about ``pages`` pages, the same for the same arguments."""
    rng = random.Random(seed)
    out = ["Title: The Lantern Keeper", "Credit: Written by", "Author: soundstage benchmarks", "",
           "/* first draft:", "   scene order still open */", ""]
    scene = 0
    while len(out) < pages * LINES_PER_PAGE:
        scene += 1
        if scene % 30 == 1:
            out += [f"# ACT {scene // 30 + 1}", "", "= The lantern keeper climbs.", ""]
        if rng.random() < 0.3:
            out.append(f"S#{scene}. {rng.choice(_KOREAN_PLACES)} ({rng.choice(_KOREAN_TIMES)})")
            cast = _KOREAN_CAST
        else:
            out.append(f"{rng.choice(['INT.', 'EXT.', 'INT./EXT.'])} {rng.choice(_PLACES)} - "
                       f"{rng.choice(_TIMES)} #{scene}#")
            cast = _CAST
        out.append("")
        for _ in range(rng.randint(9, 15)):
            if rng.random() < 0.4:
                out += [_sentence(rng, rng.randint(8, 20)) for _ in range(rng.randint(1, 4))] + [""]
            else:
                out += _speech(rng, rng.choice(cast))
                if rng.random() < 0.1:
                    out += _speech(rng, rng.choice(cast), dual=True)
        if rng.random() < 0.1:
            out += ["[[PROP: the brass compass]]", ""]
        if rng.random() < 0.2:
            out += ["CUT TO:", ""]
    out += ["> THE END <", ""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=120, help="length of the generated screenplay")
    parser.add_argument("--repeat", type=int, default=20, help="parses to time; the median is reported")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()

    text = screenplay(args.pages)
    result = parse_fountain(text)
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        parse_fountain(text)
        times.append((time.perf_counter() - start) * 1000)
    report = {
        "pages": args.pages,
        "lines": text.count("\n") + 1,
        "bytes": len(text.encode("utf-8")),
        "elements": len(result.elements),
        "scenes": sum(e.kind is Kind.SCENE_HEADING for e in result.elements),
        "repeat": args.repeat,
        "median_ms": round(statistics.median(times), 2),
        "min_ms": round(min(times), 2),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['pages']} pages, {report['lines']} lines, {report['bytes'] / 1024:.0f} KB: "
              f"{report['elements']} elements, {report['scenes']} scenes")
        print(f"parse_fountain: median {report['median_ms']} ms, min {report['min_ms']} ms "
              f"over {report['repeat']} runs")


if __name__ == "__main__":
    main()
