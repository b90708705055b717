"""Loudness: stems normalised with pyloudnorm to a delivery target, then measured by the other meter.

Run it by hand (results in docs/benchmarks.md, section Sound),

    .venv/bin/python benchmarks/loudness.py [--seconds 20] [--small] [--json]

Three kinds of programme, each three stems (dialogue, effects, ambience), all generated (no synthesiser):
a dialogue scene (speech-like lines over a room's noise), an action scene (lines, a noise bed and sharp hits
far above the dialogue, so the true-peak limiter must work), and a quiet scene (soft lines and a faint room,
raised by about 20 dB, where the gate's -70 LUFS floor makes the gain a loop, not one step). Each is
normalised by ``soundstage.sound.loudness.normalise`` to -23 LUFS (EBU R128, ceiling -1 dBTP), -24 LKFS
(ATSC A/85, -2 dBTP) and -27 dialogue-gated (Netflix, -2 dBTP, measured over the spans where lines are
spoken), then the mix of the normalised stems is measured by FFmpeg's ``ebur128`` filter (peak=true) through
PyAV: integrated within ±0.5 LU of the target, true peak at or under the ceiling.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
from scipy.signal import butter, sosfilt

from sound_material import speechlike
from soundstage.sound.loudness import ebur128, integrated, normalise, true_peak
from soundstage.sound.mix import mixdown
from soundstage.sound.track import RATE, Sound

TARGETS = (("-23 LUFS", -23.0, -1.0, False), ("-24 LKFS", -24.0, -2.0, False),
           ("-27 dialogue-gated", -27.0, -2.0, True))
TOLERANCE_LU = 0.5


def stereo(left: np.ndarray, right: np.ndarray | None = None) -> Sound:
    return Sound(np.stack([left, left if right is None else right], axis=1).astype(np.float32))


def programme(kind: str, seconds: float, seed: int) -> tuple[dict[str, Sound], list[tuple[float, float]]]:
    """The stems of one scene and the spans where its lines are spoken."""
    rng = np.random.default_rng(seed)
    count = int(seconds * RATE)
    voice, spans = np.zeros(count, np.float32), []
    at = 0.5
    while at + 2.5 < seconds:                     # lines of 1.5–3 s with pauses between
        length = float(rng.uniform(1.5, 3.0))
        line = speechlike(length, seed=int(rng.integers(1 << 30)))
        voice[int(at * RATE):int(at * RATE) + line.shape[0]] = line[: count - int(at * RATE)]
        spans.append((at, at + length))
        at += length + float(rng.uniform(0.5, 2.5))
    room = sosfilt(butter(1, 400, "lowpass", fs=RATE, output="sos"), rng.standard_normal((2, count)))
    effects = np.zeros(count)
    if kind == "action":
        for hit in rng.integers(0, count - RATE // 4, int(seconds / 3)):
            effects[hit:hit + RATE // 4] += np.exp(-np.arange(RATE // 4) / 800) * rng.standard_normal(RATE // 4)
        effects *= 1.5
    scale = {"dialogue": 1.0, "action": 1.0, "quiet": 0.05}[kind]
    stems = {"dialogue": stereo(voice * scale), "effects": stereo(effects),
             "ambience": stereo(room[0] * 0.02 * scale, room[1] * 0.02 * scale)}
    return stems, spans


def case(kind: str, label: str, target: float, ceiling: float, gated: bool, seconds: float) -> dict[str, Any]:
    stems, spans = programme(kind, seconds, seed=len(kind))
    speech = spans if gated else None
    started = time.perf_counter()
    done, result = normalise(stems, target_lufs=target, ceiling_dbtp=ceiling, speech=speech)
    elapsed = time.perf_counter() - started
    mix = mixdown(done)
    measured, peak = ebur128(mix, speech)
    _, whole_peak = ebur128(mix) if gated else (measured, peak)
    return {"programme": kind, "target": label, "ceiling_dbtp": ceiling, "before_lufs": round(
                integrated(mixdown(stems), speech), 2),
            "gain_db": round(result.gain_db, 2), "limited": result.limited,
            "pyloudnorm_lufs": round(result.loudness, 2), "soundstage_dbtp": round(true_peak(mix), 2),
            "ebur128_lufs": round(measured, 2), "ebur128_dbtp": round(whole_peak, 2),
            "seconds": seconds, "normalise_s": round(elapsed, 2),
            "ok": abs(measured - target) <= TOLERANCE_LU and whole_peak <= ceiling}


def run(seconds: float = 20.0, *, small: bool = False) -> dict[str, Any]:
    kinds = ("dialogue", "action") if small else ("dialogue", "action", "quiet")
    seconds = 8.0 if small else seconds
    cases = [case(kind, *target, seconds) for kind in kinds for target in TARGETS]
    return {"cases": cases, "summary": {"cases": len(cases), "ok": sum(c["ok"] for c in cases),
                                        "worst_lu": max(abs(c["ebur128_lufs"] - float(c["target"].split()[0]))
                                                        for c in cases)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.seconds, small=args.small)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print("| programme | target | before | gain dB | limited | pyloudnorm | ebur128 | TP (ours) | TP (ebur128) "
          "| ceiling | ok |")
    print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|")
    for c in result["cases"]:
        print(f"| {c['programme']} | {c['target']} | {c['before_lufs']} | {c['gain_db']} | "
              f"{'yes' if c['limited'] else 'no'} | {c['pyloudnorm_lufs']} | {c['ebur128_lufs']} | "
              f"{c['soundstage_dbtp']} | {c['ebur128_dbtp']} | {c['ceiling_dbtp']} | {'yes' if c['ok'] else 'NO'} |")
    print()
    print(json.dumps(result["summary"]))


if __name__ == "__main__":
    main()
