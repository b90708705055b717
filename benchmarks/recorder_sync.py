"""Recorder sync: how exactly a recorder's WAV is lined up with its plate, by waveform and by timecode.

Run it by hand (results in docs/benchmarks.md, section Sound),

    .venv/bin/python benchmarks/recorder_sync.py [--cases 24] [--seconds 6] [--small] [--json]

Waveform: each case is one take of speech-like sound heard by two microphones. The camera's scratch track
hears it through a thin camera mic (band-passed) with its own noise; the recorder hears it through another
EQ, 8 dB quieter, with different noise, and started a known offset (±2 s, whole samples at 48 kHz) before or
after the camera. The SNR, the same on both, steps from +20 dB down to 0 dB over the cases.
``waveform_offset`` must find each offset within 1 ms (48 samples) with a confidence over 0.5; every
failure is listed, refusals (confidence under 0.5) apart from wrong answers.

Timecode: real files, a plate (MP4 with a ``tmcd`` start timecode) and a BWF WAV whose ``TimeReference``
puts a click exactly on the plate's first frame, at 23.976, 24, 25, 29.97 drop and non-drop, 30 and 59.94
drop fps, at 48 and 96 kHz, one across midnight. The frame counts come from the SMPTE tables (an hour of
29.97 drop-frame is 107,892 frames), not from the code under test; the click must land on sample 0.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import butter, sosfilt

from sound_material import click, speechlike, write_plate, write_wav
from soundstage.sound.sync import Timecode, plate_timecode, recorder_sound, waveform_offset
from soundstage.sound.track import RATE, Sound

TOLERANCE_MS = 1.0
MIN_CONFIDENCE = 0.5
REACH_S = 2.0
# (timecode, fps, frames since midnight by the SMPTE tables, the WAV's rate)
TIMECODES: tuple[tuple[str, float, int, int], ...] = (
    ("01:00:00:00", 24, 86_400, 48_000),
    ("01:00:00:00", 25, 90_000, 96_000),
    ("01:00:00:00", 24_000 / 1001, 86_400, 48_000),
    ("01:00:00:00", 30, 108_000, 48_000),
    ("01:00:00;00", 30_000 / 1001, 107_892, 48_000),        # an hour of 29.97 drop-frame
    ("00:10:00;00", 30_000 / 1001, 17_982, 96_000),         # ten minutes: no frames dropped at minute 10
    ("00:01:00;02", 30_000 / 1001, 1_800, 48_000),          # ;00 and ;01 do not exist at minute 1
    ("00:01:00:00", 30_000 / 1001, 1_800, 48_000),          # non-drop 29.97
    ("01:00:00;00", 60_000 / 1001, 215_784, 48_000),        # an hour of 59.94 drop-frame
    ("10:20:30:12", 25, ((10 * 60 + 20) * 60 + 30) * 25 + 12, 48_000),
)


def noisy(signal: np.ndarray, snr_db: float, rng: np.random.Generator, *, colour: str) -> np.ndarray:
    """``signal`` with noise at ``snr_db`` under its mean power: white, or pink-ish (a room's rumble)."""
    noise = rng.standard_normal(signal.shape[0])
    if colour == "pink":
        noise = sosfilt(butter(1, 500, "lowpass", fs=RATE, output="sos"), noise)
    noise *= np.sqrt(np.mean(signal**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
    return signal + noise


def waveform_case(index: int, cases: int, seconds: float) -> dict[str, Any]:
    rng = np.random.default_rng(1000 + index)
    snr = 20.0 - 20.0 * index / max(1, cases - 1)
    offset = int(rng.integers(-int(REACH_S * RATE) + 1, int(REACH_S * RATE)))
    shot = int(seconds * RATE)
    lead = int((REACH_S + 0.5) * RATE)
    source = speechlike(seconds + 2 * (REACH_S + 0.5), seed=index).astype(np.float64)
    camera_mic = butter(2, (300, 5_000), "bandpass", fs=RATE, output="sos")
    recorder_eq = butter(2, (80, 12_000), "bandpass", fs=RATE, output="sos")
    scratch = noisy(sosfilt(camera_mic, source[lead:lead + shot]), snr, rng, colour="pink")
    start = lead - offset                   # the recorder's sample ``offset`` plays with the camera's first
    recorder = noisy(0.4 * sosfilt(recorder_eq, source[start:start + shot + 2 * lead]), snr, rng, colour="white")
    found, confidence = waveform_offset(_stereo(recorder), _stereo(scratch), search_s=REACH_S)
    error_ms = (found - offset) / RATE * 1000
    refused = confidence < MIN_CONFIDENCE
    return {"case": index, "snr_db": round(snr, 2), "offset_samples": offset, "found_samples": round(found, 2),
            "error_ms": round(error_ms, 4), "confidence": round(confidence, 3), "refused": refused,
            "ok": not refused and abs(error_ms) <= TOLERANCE_MS}


def timecode_case(folder: Path, index: int, text: str, fps: float, frames: int, rate: int) -> dict[str, Any]:
    """A plate at ``text`` and a WAV that started 1.5 s (at its rate, rounded) before it with a click on the
    plate's first frame: the recorder's sound for the shot must start with that click."""
    nominal = round(fps)
    exact = Fraction(nominal * 1000, 1001) if abs(fps - nominal * 1000 / 1001) < 0.005 else Fraction(nominal)
    plate_start = frames / exact                            # seconds since midnight, from the SMPTE tables
    at_plate = round(plate_start * rate)                    # the WAV sample on the plate's first frame
    lead = int(1.5 * rate)
    reference = (at_plate - lead) % (24 * 3600 * rate)
    wav = write_wav(folder / f"tc{index}.wav", click(3 * rate, lead, level=0.9), rate=rate,
                    time_reference=reference)
    plate = write_plate(folder / f"tc{index}.mp4", fps=fps, frames=nominal, timecode=text)
    timecode = plate_timecode(plate, fps)
    sound, sync = recorder_sound(wav, None, timecode, fps=fps, frames=nominal)
    landed = int(np.argmax(np.abs(sound.samples[:, 0])))
    # the click's own sample, at 48 kHz, may be half a sample either side of the plate's first frame
    truth = round((Fraction(at_plate, rate) - plate_start) * RATE)
    return {"timecode": text, "fps": round(fps, 3), "wav_rate": rate, "read": timecode.text if timecode else None,
            "offset_samples": sync.offset_samples, "click_at": landed, "expected": truth,
            "ok": landed == truth and timecode is not None and timecode.seconds == plate_start}


def midnight_case(folder: Path) -> dict[str, Any]:
    """A plate at 23:59:59:00 (25 fps) and a WAV started 0.5 s after midnight: 1.5 s after the plate's start."""
    text = "23:59:59:00"
    wav = write_wav(folder / "midnight.wav", click(2 * RATE, 0), time_reference=RATE // 2)
    plate = write_plate(folder / "midnight.mp4", fps=25, frames=50, timecode=text)
    sound, sync = recorder_sound(wav, None, Timecode(text, 25), fps=25, frames=50)
    landed = int(np.argmax(np.abs(sound.samples[:, 0])))
    return {"timecode": text, "fps": 25, "wav_rate": RATE, "read": plate_timecode(plate, 25).text,  # type: ignore[union-attr]
            "offset_samples": sync.offset_samples, "click_at": landed, "expected": int(1.5 * RATE),
            "ok": landed == int(1.5 * RATE)}


def run(cases: int = 24, seconds: float = 6.0, *, small: bool = False) -> dict[str, Any]:
    if small:
        cases, seconds = 4, 2.0
    waveform = [waveform_case(index, cases, seconds) for index in range(cases)]
    chosen = TIMECODES[:3] + TIMECODES[4:5] if small else TIMECODES
    with tempfile.TemporaryDirectory() as folder:
        timecode = [timecode_case(Path(folder), index, *case) for index, case in enumerate(chosen)]
        timecode.append(midnight_case(Path(folder)))
    errors = [abs(case["error_ms"]) for case in waveform if not case["refused"]]
    return {"waveform": waveform, "timecode": timecode,
            "summary": {"cases": cases, "seconds": seconds,
                        "within_1ms": sum(case["ok"] for case in waveform),
                        "refused": [case["case"] for case in waveform if case["refused"]],
                        "wrong": [case["case"] for case in waveform if not case["ok"] and not case["refused"]],
                        "max_error_ms": max(errors, default=None),
                        "timecode_exact": sum(case["ok"] for case in timecode), "timecode_cases": len(timecode)}}


def _stereo(mono: np.ndarray) -> Sound:
    return Sound(np.repeat(mono[:, None], 2, axis=1).astype(np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.cases, args.seconds, small=args.small)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print("| case | SNR dB | offset (samples) | found | error ms | confidence | result |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for case in result["waveform"]:
        verdict = "refused" if case["refused"] else "ok" if case["ok"] else "WRONG"
        print(f"| {case['case']} | {case['snr_db']:g} | {case['offset_samples']} | {case['found_samples']:g} | "
              f"{case['error_ms']:.3f} | {case['confidence']:.2f} | {verdict} |")
    print()
    print("| timecode | fps | WAV rate | offset (samples) | click at | expected | exact |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for case in result["timecode"]:
        print(f"| {case['timecode']} | {case['fps']:g} | {case['wav_rate']} | {case['offset_samples']} | "
              f"{case['click_at']} | {case['expected']} | {'yes' if case['ok'] else 'NO'} |")
    print()
    print(json.dumps(result["summary"]))


if __name__ == "__main__":
    main()
