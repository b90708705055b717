"""Measure the frame pipeline at 1080p: decode → a ~10 ms comp → encode, serial vs overlapped.

Run it by hand, on a quiet machine (results in docs/benchmarks.md),

    .venv/bin/python benchmarks/stream_speed.py [PLATE.mp4] [--frames 96] [--repeat 3]

It upscales a real plate (default: examples/moonlit-hanok/plates/pass_walk.mp4) to a 1080p H.264 veryfast
clip, then times each end alone and the whole loop with and without the decode and encode threads. It also
times the finishing writers (ProRes 4444, PNG, EXR) per 1080p RGBA frame.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from soundstage.media import (
    Background,
    ImageSequenceWriter,
    ProResWriter,
    VideoWriter,
    read_frames,
)

ROOT = Path(__file__).resolve().parents[1]


def comp(frame: np.ndarray) -> np.ndarray:
    """Stand-in for the comp: one 1080p uint8 Gaussian blur, ~10 ms on one core (OpenCV frees the GIL)."""
    return cv2.GaussianBlur(frame, (0, 0), 3.0)


def make_clip(plate: Path, out: Path, frames: int) -> None:
    with VideoWriter(out, width=1920, height=1080, fps=24) as writer:
        source = read_frames(plate)
        for index in range(frames):
            try:
                picture = next(source)
            except StopIteration:
                source = read_frames(plate)
                picture = next(source)
            writer.write(cv2.resize(picture, (1920, 1080), interpolation=cv2.INTER_CUBIC))
            del index


def timed(frames: int, work: Callable[[], int]) -> tuple[float, float]:
    """(fps, cores busy) of one run."""
    started, cpu = time.perf_counter(), time.process_time()
    count = work()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert count == frames, (count, frames)
    return frames / seconds, cpu / seconds


def best_of(repeat: int, rows: list[tuple[str, int, Callable[[], int]]]) -> dict[str, float]:
    """Run every row ``repeat`` times, interleaved, and keep each row's best: other work on a shared box
    only ever slows a run down, so the best run is the closest to the machine's own speed."""
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeat):
        for label, frames, work in rows:
            fps, cores = timed(frames, work)
            if fps > best.get(label, (0.0, 0.0))[0]:
                best[label] = (fps, cores)
    for label, (fps, cores) in best.items():
        print(f"{label:<40} {fps:6.1f} fps  {1000 / fps:6.1f} ms/frame  {cores:4.2f} cores busy")
    return {label: fps for label, (fps, _) in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("plate", nargs="?", type=Path,
                        default=ROOT / "examples/moonlit-hanok/plates/pass_walk.mp4")
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = folder / "clip.mp4"
        make_clip(args.plate, clip, args.frames)
        held = [comp(frame) for _, frame in zip(range(48), read_frames(clip), strict=False)]
        sample = held[0]
        n = args.frames

        def decode(prefetch: int) -> int:
            return sum(1 for _ in read_frames(clip, prefetch=prefetch))

        def comp_only() -> int:
            for index in range(n):
                comp(held[index % len(held)])
            return n

        def encode_only(preset: str) -> int:
            with VideoWriter(folder / "e.mp4", width=1920, height=1080, fps=24, preset=preset) as writer:
                for index in range(n):                 # real, changing frames: a still one encodes 2× faster
                    writer.write(held[index % len(held)])
            return writer.frames

        def loop(prefetch: int, threaded: bool, preset: str = "veryfast") -> int:
            writer = VideoWriter(folder / "o.mp4", width=1920, height=1080, fps=24, preset=preset)
            with Background(writer, depth=4) if threaded else writer as out:
                for frame in read_frames(clip, prefetch=prefetch):
                    out.write(comp(frame))
            return out.frames

        print(f"1080p, {n} frames of {args.plate.name} upscaled; H.264 crf 18; best of {args.repeat}")
        fps = best_of(args.repeat, [
            ("decode alone", n, lambda: decode(0)),
            ("comp alone (GaussianBlur sigma 3)", n, comp_only),
            ("encode alone (veryfast)", n, lambda: encode_only("veryfast")),
            ("veryfast: serial", n, lambda: loop(0, False)),
            ("veryfast: decode prefetched (4)", n, lambda: loop(4, False)),
            ("veryfast: encode in Background (4)", n, lambda: loop(0, True)),
            ("veryfast: both overlapped", n, lambda: loop(4, True)),
            ("encode alone (ultrafast)", n, lambda: encode_only("ultrafast")),
            ("ultrafast: serial", n, lambda: loop(0, False, "ultrafast")),
            ("ultrafast: both overlapped", n, lambda: loop(4, True, "ultrafast")),
        ])
        for preset in ("veryfast", "ultrafast"):
            ratio = fps[f"{preset}: both overlapped"] / fps[f"{preset}: serial"]
            print(f"{preset}: overlapped / serial = {ratio:.2f}×")

        rgba = np.dstack([sample, np.tile(np.arange(1920, dtype=np.uint16)[None, :] * 255 // 1919,
                                          (1080, 1)).astype(np.uint8)])
        k = 12

        def prores() -> int:
            with ProResWriter(folder / "p.mov", width=1920, height=1080, fps=24) as writer:
                for _ in range(k):
                    writer.write(rgba)
            return writer.frames

        def sequence(pattern: str) -> Callable[[], int]:
            def write() -> int:
                with ImageSequenceWriter(folder / pattern.split(".")[0], pattern, width=1920, height=1080,
                                         fps=24) as writer:
                    for _ in range(k):
                        writer.write(rgba)
                return writer.frames
            return write

        print("finishing writers, 1080p straight RGBA (serial, one writer at a time):")
        rows = [("ProRes 4444 (yuva444p10le)", k, prores), ("PNG sequence (compression 1)", k,
                                                            sequence("png.%04d.png"))]
        try:
            import OpenEXR  # noqa: F401
        except ImportError:
            print("EXR: OpenEXR not installed (soundstage[exr])", file=sys.stderr)
        else:
            rows.append(("EXR sequence (half, zip)", k, sequence("exr.%04d.exr")))
        best_of(args.repeat, rows)


if __name__ == "__main__":
    main()
