"""Watermark robustness, invisibility and cost: does a take's id survive what review renders go through?

Real pictures: the moonlit-hanok plates and rendered shots (1280×720 H.264), upscaled bicubic to
1920×1080 for the 1080p case (there is no native 1080p footage in the repo or the shared bench). Each clip
gets its own random 64-bit payload; the same key marks them all. Attacks, each on the marked 1080p frames:

- clean: the marked frames as they are;
- H.264: encoded by soundstage's ``VideoWriter`` at CRF 23 (veryfast) and decoded back;
- downscale: ``cv2.resize`` INTER_AREA to 1280×720;
- both: downscaled to 720p, then encoded at CRF 23 and decoded (a review copy);
- both, twice: H.264 at 1080p, decoded, downscaled, H.264 again (a re-encode of a re-encode);
- jpeg q80: a still grabbed from the CRF 23 encode, saved as JPEG at quality 80 (OpenCV's encoder);
- gamma + sat: a grade, gamma 0.8 (brighter mids) and saturation × 1.3 around luma;
- lut: the example's show LUT (grade/moonlit.cube) applied again through ``soundstage.comp.grade.Lut3D``;
- noise σ4: Gaussian noise, σ 4 levels, on each channel of each frame;
- half rate: every other frame dropped, then CRF 23 (a 12 fps copy: does the pooled read still hold?);
- crop 5%: 5% off each edge, resized back to the frame (the grid is tied to the frame, so this misaligns it).

Bit accuracy is over the 64 payload bits, per single frame (mean and worst) and per clip with all its
frames pooled; clips are also read in runs of 4 frames. "read" counts detections that returned the right
payload (CRC and confidence passed). False positives: unmarked frames (clean and after "both") and marked
frames read with a wrong key, single frame and pooled; any payload returned there is a false positive.
Timings are on one OpenCV thread (the render marks two frames at once on two cores), median of repeats.

    .venv/bin/python benchmarks/watermark.py [--small] [--frames N] [--json]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from soundstage.comp.grade import Lut3D
from soundstage.media import read_frames
from soundstage.media.video import VideoWriter
from soundstage.provenance.watermark import Detection, detect, detect_reframed, embed

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "moonlit-hanok"
KEY = 0x50F7D57A
ATTACKS = ("clean", "h264", "downscale", "both", "both, twice", "jpeg q80", "gamma + sat", "lut", "noise σ4",
           "half rate", "crop 5%")


def clips(small: bool) -> list[Path]:
    plates = sorted((EXAMPLE / "plates").glob("*.mp4"))
    shots = sorted((EXAMPLE / "out" / "shots").glob("*.mp4"))
    return plates[:2] if small else plates + shots


def h264(frames: list[np.ndarray], folder: Path, fps: float = 24) -> list[np.ndarray]:
    height, width = frames[0].shape[:2]
    path = folder / f"attack-{width}x{height}.mp4"
    with VideoWriter(path, width=width, height=height, fps=fps, crf=23) as writer:
        for frame in frames:
            writer.write(frame)
    return list(read_frames(path))


def attacked(frames: list[np.ndarray], attack: str, low: tuple[int, int], folder: Path) -> list[np.ndarray]:
    def down(batch: list[np.ndarray]) -> list[np.ndarray]:
        return [cv2.resize(f, low, interpolation=cv2.INTER_AREA) for f in batch]

    if attack == "clean":
        return frames
    if attack == "h264":
        return h264(frames, folder)
    if attack == "downscale":
        return down(frames)
    if attack == "both":
        return h264(down(frames), folder)
    if attack == "both, twice":
        return h264(down(h264(frames, folder)), folder)
    if attack == "jpeg q80":
        return [jpeg(f, 80) for f in h264(frames, folder)]
    if attack == "gamma + sat":
        return [graded(f, gamma=0.8, saturation=1.3) for f in frames]
    if attack == "lut":
        return [show_lut().apply(f) for f in frames]
    if attack == "noise σ4":
        rng = np.random.default_rng(4)
        return [np.clip(f + rng.normal(0, 4, f.shape), 0, 255).astype(np.uint8) for f in frames]
    if attack == "half rate":
        return h264(frames[::2], folder, fps=12)
    if attack == "crop 5%":
        return [cropped(f, 0.05) for f in frames]
    raise ValueError(attack)


@functools.cache
def show_lut() -> Lut3D:
    return Lut3D.read(EXAMPLE / "grade" / "moonlit.cube")     # read and baked once (~0.5 s)


def jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def graded(frame: np.ndarray, *, gamma: float, saturation: float) -> np.ndarray:
    """A colourist's quick grade: a gamma curve, then saturation scaled around each pixel's luma."""
    curve = np.round(255 * (np.arange(256) / 255) ** gamma).astype(np.uint8)
    rgb = cv2.LUT(frame, curve).astype(np.float32)
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None]
    return np.clip(luma + (rgb - luma) * saturation, 0, 255).astype(np.uint8)


def cropped(frame: np.ndarray, edge: float) -> np.ndarray:
    """``edge`` of the width and height cut off each side, then scaled back to the frame's size."""
    height, width = frame.shape[:2]
    dy, dx = round(height * edge), round(width * edge)
    return cv2.resize(frame[dy:height - dy, dx:width - dx], (width, height), interpolation=cv2.INTER_CUBIC)


def accuracy(found: Detection, payload: bytes) -> float:
    return float(np.mean(found.bits == np.unpackbits(np.frombuffer(payload, np.uint8))))


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(*, small: bool = False, frames: int | None = None, repeat: int | None = None) -> dict[str, Any]:
    cv2.setNumThreads(1)
    size, low = ((640, 360), (320, 180)) if small else ((1920, 1080), (1280, 720))
    count = frames or (4 if small else 24)
    repeat = repeat or (3 if small else 20)
    rng = np.random.default_rng(6)
    rows: dict[str, dict[str, list[float]]] = {a: {"single": [], "pooled": [], "read1": [], "read4": [],
                                                   "readN": []}
                                               for a in ATTACKS}
    false_single = false_pooled = trials_single = trials_pooled = 0
    search: dict[str, list[float]] = {name: [] for name in REFRAMED}
    search_s: list[float] = []
    search_false = search_trials = 0
    unmarked_confidence: list[float] = []
    psnr: list[float] = []
    per_clip = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for clip in clips(small):
            source = [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC if size[0] > f.shape[1] else
                                 cv2.INTER_AREA) for f in itertools.islice(read_frames(clip), count)]
            payload = rng.bytes(8)
            marked = [embed(f, payload, KEY) for f in source]
            psnr += [cv2.PSNR(a, b) for a, b in zip(source, marked, strict=True)]
            clip_row = {"clip": clip.stem, "frames": len(source)}
            for attack in ATTACKS:
                seen = attacked(marked, attack, low, folder)
                singles = [detect([f], KEY) for f in seen]
                pooled = detect(seen, KEY)
                row = rows[attack]
                row["single"] += [accuracy(d, payload) for d in singles]
                row["read1"] += [float(d.payload == payload) for d in singles]
                row["read4"] += [float(detect(seen[i:i + 4], KEY).payload == payload)
                                 for i in range(0, max(len(seen) - 3, 1), 4)]
                row["pooled"].append(accuracy(pooled, payload))
                row["readN"].append(float(pooled.payload == payload))
                clip_row[attack] = round(accuracy(pooled, payload), 4)
                if attack in ("clean", "both"):
                    wrong = [detect([f], KEY ^ 0x1234) for f in seen] + [detect(seen, KEY ^ 0x1234)]
                    false_single += sum(d.payload is not None for d in wrong[:-1])
                    false_pooled += wrong[-1].payload is not None
                    trials_single += len(wrong) - 1
                    trials_pooled += 1
            for name, seen in reframed(marked, low, folder).items():
                started = time.perf_counter()
                found, _ = detect_reframed(seen[:8], KEY)
                search_s.append(time.perf_counter() - started)
                search[name].append(float(found.payload == payload))
            search_false += detect_reframed(source[:8], KEY)[0].payload is not None
            search_trials += 1
            for plain in (source, attacked(source, "both", low, folder)):
                found = [detect([f], KEY) for f in plain]
                unmarked_confidence += [d.confidence for d in found]
                false_single += sum(d.payload is not None for d in found)
                pooled = detect(plain, KEY)
                false_pooled += pooled.payload is not None
                trials_single += len(found)
                trials_pooled += 1
            per_clip.append(clip_row)
        sample = source[0]
        embed_ms = median_ms(lambda: embed(sample, payload, KEY), repeat)
        embed_first_ms = median_ms(lambda: embed(sample, rng.bytes(8), KEY), max(3, repeat // 4))
        small_frame = cv2.resize(sample, low, interpolation=cv2.INTER_AREA)
        detect_ms = median_ms(lambda: detect([sample], KEY), repeat)
        detect_low_ms = median_ms(lambda: detect([small_frame], KEY), repeat)
    summary = {a: {"single_mean": statistics.fmean(r["single"]), "single_worst": min(r["single"]),
                   "pooled_mean": statistics.fmean(r["pooled"]), "pooled_worst": min(r["pooled"]),
                   "read_single": statistics.fmean(r["read1"]),
                   "read_4": statistics.fmean(r["read4"]), "read_pooled": statistics.fmean(r["readN"])}
               for a, r in rows.items()}
    return {"size": f"{size[0]}×{size[1]}", "low": f"{low[0]}×{low[1]}", "clips": len(per_clip),
            "frames_per_clip": count, "attacks": summary, "per_clip": per_clip,
            "false_positive": {"single": false_single, "single_trials": trials_single,
                               "pooled": false_pooled, "pooled_trials": trials_pooled,
                               "unmarked_confidence_max": max(unmarked_confidence),
                               "unmarked_confidence_mean": statistics.fmean(unmarked_confidence)},
            "reframed": {"read_8_frames": {name: statistics.fmean(r) for name, r in search.items()},
                         "false_positive": search_false, "trials": search_trials,
                         "search_s_median": statistics.median(search_s)},
            "psnr_mean": statistics.fmean(psnr), "psnr_worst": min(psnr),
            "embed_ms": embed_ms, "embed_new_payload_ms": embed_first_ms,
            "detect_ms": detect_ms, "detect_low_ms": detect_low_ms,
            "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version(),
                        "numpy": np.__version__, "opencv": cv2.__version__}}


def report(result: dict[str, Any]) -> str:
    fp = result["false_positive"]
    lines = [f"{result['clips']} clips × {result['frames_per_clip']} frames at {result['size']} "
             f"(down to {result['low']}), one OpenCV thread, Python {result['machine']['python']}, "
             f"OpenCV {result['machine']['opencv']}", "",
             "| attack | bit acc, 1 frame (mean / worst) | read, 1 frame | bit acc, all frames (mean / worst) "
             "| read, all frames | read, 4 frames |", "|---|---:|---:|---:|---:|---:|"]
    for attack, s in result["attacks"].items():
        lines.append(f"| {attack} | {s['single_mean']:.4f} / {s['single_worst']:.4f} | {s['read_single']:.1%} "
                     f"| {s['pooled_mean']:.4f} / {s['pooled_worst']:.4f} | {s['read_pooled']:.1%} "
                     f"| {s['read_4']:.1%} |")
    lines += ["", "| measure | value |", "|---|---:|",
              f"| false positives, 1 frame (unmarked, wrong key) | {fp['single']} of {fp['single_trials']} |",
              f"| false positives, all frames | {fp['pooled']} of {fp['pooled_trials']} |",
              f"| unmarked confidence mean / max (threshold 2.5) | {fp['unmarked_confidence_mean']:.2f} / "
              f"{fp['unmarked_confidence_max']:.2f} |",
              f"| PSNR marked vs original, mean / worst | {result['psnr_mean']:.1f} / {result['psnr_worst']:.1f}"
              " dB |",
              f"| embed ms/frame at {result['size']} (cached pattern) | {result['embed_ms']:.2f} |",
              f"| embed ms/frame, new payload each call | {result['embed_new_payload_ms']:.2f} |",
              f"| detect ms/frame at {result['size']} | {result['detect_ms']:.2f} |",
              f"| detect ms/frame at {result['low']} | {result['detect_low_ms']:.2f} |",
              f"| frames used per pooled detection | {result['frames_per_clip']} |"]
    framed = result["reframed"]
    lines += ["", "Read with the reframing search (`detect_reframed`, 8 frames, as `verify --watermark` reads):", "",
              "| copy | read |", "|---|---:|"]
    lines += [f"| {name} | {share:.1%} |" for name, share in framed["read_8_frames"].items()]
    lines += [f"| unmarked, every reframing tried (false positives) | {framed['false_positive']} of "
              f"{framed['trials']} |", f"| search time, median | {framed['search_s_median']:.2f} s |"]
    return "\n".join(lines)


REFRAMED = ("crop 5%", "crop 5%, down to the low size, CRF 23", "9:16 cut-down, the low height, CRF 23",
            "crop 8% across, 3% down")


def centre_crop(frame: np.ndarray, across: float, down: float, height: int) -> np.ndarray:
    """Cut ``across`` / ``down`` off each side and scale to ``height`` rows, keeping the crop's own aspect."""
    h, w = frame.shape[:2]
    x, y = round(w * across), round(h * down)
    inner = frame[y:h - y, x:w - x]
    width = round(inner.shape[1] * height / inner.shape[0] / 2) * 2
    return cv2.resize(inner, (width, height), interpolation=cv2.INTER_AREA)


def reframed(frames: list[np.ndarray], low: tuple[int, int], folder: Path) -> dict[str, list[np.ndarray]]:
    """Centre crops a copy may have been through, each at its own aspect (no stretch)."""
    crop = centre_crop
    vertical = (1 - (9 / 16) / (16 / 9)) / 2
    return {REFRAMED[0]: [cropped(f, 0.05) for f in frames],
            REFRAMED[1]: h264([crop(f, 0.05, 0.05, low[1]) for f in frames], folder),
            REFRAMED[2]: h264([crop(f, vertical, 0.0, low[1]) for f in frames], folder),
            REFRAMED[3]: [crop(f, 0.08, 0.03, frames[0].shape[0]) for f in frames]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="640×360 → 320×180, 2 clips × 4 frames (CI)")
    parser.add_argument("--frames", type=int, help="frames per clip (default 24; 4 small)")
    parser.add_argument("--repeat", type=int, help="timing repeats (default 20; 3 small)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(small=args.small, frames=args.frames, repeat=args.repeat)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
