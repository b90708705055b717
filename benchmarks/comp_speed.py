"""Comp speed: decode + key + despill + composite + encode of a 1080p green-screen clip, soundstage vs FFmpeg.

The plate is made here, into a temporary folder: a material subject (``benchmarks/keying``) on an unevenly lit
green screen, with spill, sensor noise and a slow drift, 1920×1080 at 24 fps for 4 s, H.264 like a camera
file. The set is a 1080p still from the procedural engine. Then, in the same run:

- **soundstage** (:func:`comp_clip`): the render's own shot path: ``ShotComp.prepare`` measures the screen on
  the first frame, ``ShotComp.render`` keys (key + despill) and comps two frames at a time on a thread pool,
  with decode prefetched in a thread (``read_frames(prefetch=4)``) and H.264 encode in another
  (``Background``). Also run serially on one thread of ours (:func:`comp_clip_serial`), for context.
- **FFmpeg** (:func:`ffmpeg_comp`): PyAV decode → one ``av.filter.Graph`` (``chromakey → despill``, laid by
  ``overlay`` on the set, which is converted to yuv420p once and pushed with every frame) → libx264 through
  PyAV, the same preset and crf. Decoder and encoder threads as FFmpeg's CLI sets them (auto), and the
  graph's filter threads on auto (``Graph.threads = 0``, the CLI's ``-filter_threads`` default).

Also reported: decode-only and encode-only fps, and the memory-bandwidth bound of one 1080p RGBA uint8 pass
(``np.copyto``, and a read-two-write-one ``cv2.add``), median of many, with how many such passes the
soundstage comp's time per frame amounts to.

    .venv/bin/python benchmarks/comp_speed.py [--small] [--json] [--keep DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from soundstage.comp import key, measure_screen, over
from soundstage.comp.shot import Look, ShotComp
from soundstage.engines.procedural import set_image as procedural_set
from soundstage.media import Background, VideoWriter, probe, read_frames

sys.path.insert(0, str(Path(__file__).resolve().parent))
from key_quality import (  # a sibling script, not a package
    SCREENS,
    add_spill,
    load_material,
    machine,
    material_dir,
    screen_light,
    screen_yuv,
)

FPS = 24
PRESET, CRF = "veryfast", 18            # both sides encode with these (soundstage's VideoWriter default)
PLATE_OPTIONS = {"crf": "16", "preset": "veryfast"}   # the camera file: finer than the review encode (~29 Mbit/s)
# FFmpeg's key, as tuned by key_quality.py on the green H.264 plates (both folds agree to within 0.003).
FFMPEG_KEY = {"similarity": 0.043, "blend": 0.05, "mix": 0.65, "expand": 0.0}
SET_PROMPT = "night hanok rooftops with moon"


# ------------------------------------------------------------------------------------------------ the input


def make_plate(path: Path, width: int, height: int, frames: int, subject: str = "astronaut",
               seed: int = 7) -> None:
    """A green-screen plate: the subject ~80 % of the frame tall, drifting slowly, noise in every frame."""
    rng = np.random.default_rng(seed)
    material = load_material(material_dir(), [subject])[0]
    nominal = np.array(SCREENS["green"], np.float32)
    fg = add_spill(material.fg, material.alpha, nominal, 40.0)
    scale = 0.8 * height / material.alpha.shape[0]
    size = (round(material.alpha.shape[1] * scale), round(material.alpha.shape[0] * scale))
    alpha = np.clip(cv2.resize(material.alpha, size, interpolation=cv2.INTER_LINEAR), 0, 1)
    premult = np.clip(cv2.resize(fg * material.alpha[..., None], size, interpolation=cv2.INTER_LINEAR), 0, 255)
    backing = screen_light(height, width, rng)[..., None] * nominal
    # A few seeded noise fields, cycled: grain changes every frame without drawing 6 M normals per frame.
    grain = [(rng.normal(0, 1.8, (height, width, 1)) + rng.normal(0, 0.9, (height, width, 3))).astype(np.float32)
             for _ in range(5)]
    x0, y0 = 0.55 * width - size[0] / 2, height - size[1]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = dict(PLATE_OPTIONS)
        for index in range(frames):
            t = index / FPS
            drift = np.array([[1, 0, x0 - 0.02 * width + 0.04 * width * index / max(frames - 1, 1)],
                              [0, 1, y0 + 0.004 * height * np.sin(2 * np.pi * t / 2.5)]], np.float32)
            a = cv2.warpAffine(alpha, drift, (width, height), flags=cv2.INTER_LINEAR)
            p = cv2.warpAffine(premult, drift, (width, height), flags=cv2.INTER_LINEAR)
            picture = p + (1.0 - a)[..., None] * backing + grain[index % len(grain)]
            rgb = np.clip(picture + 0.5, 0, 255).astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))


def make_set(width: int, height: int) -> np.ndarray:
    """The set still: the procedural engine's night rooftops (any 1080p picture would do)."""
    return procedural_set(SET_PROMPT, "", width, height, seed=3)


# ---------------------------------------------------------------------------------------- soundstage's comp


def comp_clip(plate: Path, set_image: np.ndarray, out: Path, *, threads: int = 2, preset: str = PRESET,
              crf: int = CRF) -> int:
    """Key every frame of ``plate`` and comp it over ``set_image`` into ``out`` (H.264); return the frame count.

    This is the render's own shot path (``ShotComp.prepare`` on the first frame, then ``ShotComp.render``):
    decode prefetched in a thread, ``threads`` frames keyed and comped at once, encode in its own thread. Grain
    matching is off, since FFmpeg's graph does nothing like it.
    """
    info = probe(plate)
    frames: Iterator[np.ndarray] = read_frames(plate, prefetch=4)
    first = next(frames)
    comp = ShotComp.prepare(width=info.width, height=info.height, frames=info.frames,
                            background=lambda index: set_image, look=Look(grain=False), first_plate=first)
    writer = VideoWriter(out, width=info.width, height=info.height, fps=float(info.fps), crf=crf, preset=preset)
    with Background(writer, copy=False) as sink:
        return comp.render([sink], plates=itertools.chain([first], frames), threads=threads).frames


def comp_clip_serial(plate: Path, set_image: np.ndarray, out: Path, *, preset: str = PRESET, crf: int = CRF) -> int:
    """The same work one step after another on one thread of ours: decode, key, over, encode (for context)."""
    info = probe(plate)
    frames = read_frames(plate)
    first = next(frames)
    screen = measure_screen(first, "auto")
    count = 0
    with VideoWriter(out, width=info.width, height=info.height, fps=float(info.fps), crf=crf,
                     preset=preset) as writer:
        for frame in itertools.chain([first], frames):
            fg, matte = key(frame, screen)
            writer.write(over(fg, matte, set_image))
            count += 1
    return count


# -------------------------------------------------------------------------------------------- FFmpeg's comp


def ffmpeg_comp(plate: Path, set_image: np.ndarray, out: Path, *, settings: dict[str, float] | None = None,
                filter_threads: int = 0, preset: str = PRESET, crf: int = CRF) -> int:
    """The same work as one FFmpeg filter graph: ``[plate] chromakey, despill [fg]; [set][fg] overlay``.

    What ``ffmpeg -i plate.mp4 -i set.png -filter_complex … -c:v libx264`` does, through PyAV: the decoder's
    yuv420p frames go in as they are, libavfilter inserts the conversions chromakey (yuva420p), despill
    (rgba) and overlay need, and the result is encoded with the same libx264 preset and crf. The key colour
    is the one soundstage measures on the first frame, in the YUV the filter compares it with.
    """
    settings = settings or FFMPEG_KEY
    first = next(iter(read_frames(plate)))
    y, u, v = screen_yuv(measure_screen(first, "auto").rgb, "h264")
    count = 0
    with av.open(str(plate)) as source, av.open(str(out), mode="w") as target:
        stream = source.streams.video[0]
        stream.thread_type = "AUTO"
        width, height = stream.codec_context.width, stream.codec_context.height
        encoder = target.add_stream("libx264", rate=stream.average_rate or FPS)
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.options = {"crf": str(crf), "preset": preset}

        graph = av.filter.Graph()
        graph.threads = filter_threads
        plate_in = graph.add_buffer(template=stream)
        set_in = graph.add_buffer(width=width, height=height, format=av.VideoFormat("yuv420p"),
                                  time_base=stream.time_base)
        chromakey = graph.add("chromakey", f"color=0x{y:02x}{u:02x}{v:02x}:similarity={settings['similarity']}"
                                           f":blend={settings['blend']}:yuv=1")
        despill = graph.add("despill", f"type=green:mix={settings['mix']}:expand={settings['expand']}")
        overlay = graph.add("overlay", "format=yuv420:shortest=1:eof_action=endall")
        to_yuv = graph.add("format", "yuv420p")
        sink = graph.add("buffersink")
        plate_in.link_to(chromakey)
        chromakey.link_to(despill)
        set_in.link_to(overlay, 0, 0)
        despill.link_to(overlay, 0, 1)
        overlay.link_to(to_yuv)
        to_yuv.link_to(sink)
        graph.configure()

        backdrop = av.VideoFrame.from_ndarray(set_image, format="rgb24").reformat(format="yuv420p")
        backdrop.time_base = stream.time_base

        def drain() -> None:
            nonlocal count
            while True:
                try:
                    frame = graph.vpull()
                except (BlockingIOError, av.error.EOFError):
                    return
                frame.pts, frame.time_base = count, Fraction(1, FPS)
                target.mux(encoder.encode(frame))
                count += 1

        for frame in source.decode(stream):
            backdrop.pts = frame.pts
            set_in.push(backdrop)
            plate_in.push(frame)
            drain()
        set_in.push(None)
        plate_in.push(None)
        drain()
        target.mux(encoder.encode(None))
    return count


# ------------------------------------------------------------------------------------------------- context


def decode_fps(plate: Path, convert: bool) -> float:
    """Decode alone: to RGB arrays as soundstage gets them, or to FFmpeg's own yuv420p frames."""
    started = time.perf_counter()
    if convert:
        count = sum(1 for _ in read_frames(plate))
    else:
        with av.open(str(plate)) as source:
            stream = source.streams.video[0]
            stream.thread_type = "AUTO"
            count = sum(1 for _ in source.decode(stream))
    return count / (time.perf_counter() - started)


def encode_fps(frames: list[np.ndarray], count: int, out: Path, from_rgb: bool) -> float:
    """Encode alone (same preset and crf), ``count`` frames cycling ``frames``: from RGB through
    soundstage's VideoWriter, or from yuv420p frames straight into libx264 as FFmpeg's graph hands them."""
    height, width = frames[0].shape[:2]
    started = time.perf_counter()
    if from_rgb:
        with VideoWriter(out, width=width, height=height, fps=FPS, crf=CRF, preset=PRESET) as writer:
            for index in range(count):
                writer.write(frames[index % len(frames)])
    else:
        yuv = [av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv420p") for f in frames]
        started = time.perf_counter()
        with av.open(str(out), mode="w") as target:
            stream = target.add_stream("libx264", rate=FPS)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"crf": str(CRF), "preset": PRESET}
            for index in range(count):
                frame = yuv[index % len(yuv)]
                frame.pts = index
                target.mux(stream.encode(frame))
            target.mux(stream.encode(None))
    return count / (time.perf_counter() - started)


def stage_ms(frames: list[np.ndarray], set_image: np.ndarray) -> dict[str, float]:
    """soundstage's key and over alone, frames already in memory: median ms per frame (OpenCV's threads)."""
    screen = measure_screen(frames[0], "auto")
    keyed = [key(f, screen) for f in frames]
    key_times, over_times = [], []
    for frame, (fg, matte) in zip(frames, keyed, strict=True):
        started = time.perf_counter()
        key(frame, screen)
        key_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        over(fg, matte, set_image)
        over_times.append(time.perf_counter() - started)
    return {"key_ms": 1000 * statistics.median(key_times), "over_ms": 1000 * statistics.median(over_times)}


def median_ms(run: Callable[[], object], repeat: int, *, warm: bool = True) -> float:
    """The median ms of ``repeat`` calls, after one untimed call unless ``warm`` is False (a per-shot cost,
    where the first call is the one paid)."""
    if warm:
        run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return 1000.0 * statistics.median(times)


def bandwidth(width: int = 1920, height: int = 1080, repeat: int = 200) -> dict[str, float]:
    """One RGBA uint8 pass at 1080p: ``np.copyto`` (read one, write one) and ``cv2.add`` (read two, write one)."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    b = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    c = np.empty_like(a)
    copy_ms = median_ms(lambda: np.copyto(c, a), repeat)
    add_ms = median_ms(lambda: cv2.add(a, b, dst=c), repeat)
    nbytes = a.nbytes
    return {"frame_mb": nbytes / 1e6, "copy_ms": copy_ms, "copy_gbs": 2 * nbytes / copy_ms / 1e6,
            "add_ms": add_ms, "add_gbs": 3 * nbytes / add_ms / 1e6}


# ----------------------------------------------------------------------------------------------------- run


def _frames_in(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def run(*, small: bool = False, width: int | None = None, height: int | None = None, frames: int | None = None,
        filter_threads: int = 0, repeat: int = 1, keep: Path | None = None) -> dict[str, Any]:
    """Make the plate and the set, then time both comps (and the context figures) in this one process.

    With ``repeat`` > 1 the comps take turns that many times and each reports its median run.
    """
    width = width or (320 if small else 1920)
    height = height or (180 if small else 1080)
    frames = frames or (12 if small else 96)
    with tempfile.TemporaryDirectory(prefix="comp_speed.") as scratch:
        folder = keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        plate = folder / "plate.mp4"
        started = time.perf_counter()
        make_plate(plate, width, height, frames)
        backdrop = make_set(width, height)
        made_s = time.perf_counter() - started

        runs: dict[str, list[dict[str, Any]]] = {}

        def timed(name: str, out: Path, work: Callable[[], int]) -> None:
            started = time.perf_counter()
            count = work()
            seconds = time.perf_counter() - started
            runs.setdefault(name, []).append({"frames": count, "seconds": seconds, "fps": count / seconds,
                                              "ms_per_frame": 1000 * seconds / count, "output": str(out)})

        out_plain, out_serial, out_ff = (folder / f"{n}.mp4" for n in ("soundstage", "soundstage_serial", "ffmpeg"))
        for _ in range(repeat):
            timed("soundstage", out_plain, lambda: comp_clip(plate, backdrop, out_plain))
            timed("soundstage_serial", out_serial, lambda: comp_clip_serial(plate, backdrop, out_serial))
            timed("ffmpeg", out_ff, lambda: ffmpeg_comp(plate, backdrop, out_ff, filter_threads=filter_threads))
        timings = {}
        for name, tries in runs.items():
            middle = sorted(tries, key=lambda t: t["fps"])[len(tries) // 2]
            timings[name] = {**middle, "all_fps": [t["fps"] for t in tries],
                             "frames_in_output": _frames_in(Path(middle["output"]))}

        sample = list(itertools.islice(read_frames(out_plain), 24))
        context = {"decode_rgb_fps": decode_fps(plate, convert=True),
                   "decode_yuv_fps": decode_fps(plate, convert=False),
                   "encode_rgb_fps": encode_fps(sample, frames, folder / "encode_rgb.mp4", from_rgb=True),
                   "encode_yuv_fps": encode_fps(sample, frames, folder / "encode_yuv.mp4", from_rgb=False),
                   **stage_ms(list(itertools.islice(read_frames(plate), 24)), backdrop)}
        bound = bandwidth(repeat=30 if small else 200)      # always at 1080p, the size the bound is about

    best = timings["soundstage"]
    pass_ms = bound["copy_ms"] * width * height / (1920 * 1080)     # one pass at the comp's own size
    ffmpeg = timings["ffmpeg"]
    return {"benchmark": "comp_speed", "small": small, "machine": machine(), "size": f"{width}x{height}",
            "frames": frames, "fps": FPS, "preset": PRESET, "crf": CRF, "plate_encode": PLATE_OPTIONS,
            "ffmpeg_key": FFMPEG_KEY, "filter_threads": filter_threads, "opencv_threads": cv2.getNumThreads(),
            "make_seconds": made_s, "runs": timings, "context": context, "bandwidth": bound,
            "ratio": {k: v["fps"] / ffmpeg["fps"] for k, v in timings.items() if k != "ffmpeg"},
            "passes_per_frame": best["ms_per_frame"] / pass_ms,
            "passes_per_key_over": (context["key_ms"] + context["over_ms"]) / pass_ms}


def report(result: dict[str, Any]) -> str:
    lines = [f"{result['size']}, {result['frames']} frames, libx264 {result['preset']} crf {result['crf']}, "
             f"{result['machine']['nproc']} cores ({result['machine']['cpu']})", "",
             "| comp | fps | ms/frame | × FFmpeg | every run, fps |", "|---|---:|---:|---:|---|"]
    for name, run_ in result["runs"].items():
        ratio = result["ratio"].get(name)
        every = ", ".join(f"{f:.1f}" for f in run_["all_fps"])
        lines.append(f"| {name} | {run_['fps']:.1f} | {run_['ms_per_frame']:.1f} | "
                     f"{'' if ratio is None else f'{ratio:.2f}'} | {every} |")
    c, b = result["context"], result["bandwidth"]
    lines += ["", "| context | fps |", "|---|---:|",
              f"| decode → RGB arrays (read_frames) | {c['decode_rgb_fps']:.0f} |",
              f"| decode → yuv420p frames (PyAV) | {c['decode_yuv_fps']:.0f} |",
              f"| encode from RGB (VideoWriter) | {c['encode_rgb_fps']:.0f} |",
              f"| encode from yuv420p (libx264) | {c['encode_yuv_fps']:.0f} |", "",
              f"soundstage's key alone: {c['key_ms']:.1f} ms a frame; over: {c['over_ms']:.1f} ms (frames in "
              f"memory, median of 24).", "",
              f"Bandwidth, one {b['frame_mb']:.1f} MB RGBA pass: np.copyto {b['copy_ms']:.2f} ms "
              f"({b['copy_gbs']:.1f} GB/s read+write), cv2.add {b['add_ms']:.2f} ms ({b['add_gbs']:.1f} GB/s); "
              f"the fastest soundstage comp frame costs as much as {result['passes_per_frame']:.0f} copy passes "
              f"of its size, its key + over alone {result['passes_per_key_over']:.0f}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="320×180, 12 frames (CI)")
    parser.add_argument("--width", type=int)
    parser.add_argument("--height", type=int)
    parser.add_argument("--frames", type=int)
    parser.add_argument("--filter-threads", type=int, default=0, help="FFmpeg graph threads (0: auto)")
    parser.add_argument("--repeat", type=int, default=1, help="run each comp this many times, take the median")
    parser.add_argument("--keep", type=Path, help="write the plate and the comps here instead of a temp folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(small=args.small, width=args.width, height=args.height, frames=args.frames,
                 filter_threads=args.filter_threads, repeat=args.repeat, keep=args.keep)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
