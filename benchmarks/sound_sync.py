"""Sync: the slate's flash frame against its clap, from the plates to the finished cut.

The example's plates (``examples/moonlit-hanok/plates``, built by ``build_plates.py``) each carry a one-frame
white flash at frame 2 and a clap whose attack starts exactly at that frame's start time. Sound is in sync
wherever the clap is heard when the flash is seen. Measured in four places:

(a) ``plate``: each plate as shot, by PyAV with each frame's timestamps. The offset must be ~0: this
    validates the detectors themselves (AAC's attack smear included). ``recorder``: a recorder's BWF WAV
    beside its plate, placed by its time reference against the plate's start timecode. ``re-encoded``: the
    plate's sound through AAC once more (FFmpeg's defaults, and without perceptual noise substitution), the
    second generation the cut is, to show how closely a cut can be measured at all.
(b) ``stem``: a rendered project's shot stems ``out/shots/<id>.dialogue.wav`` against the frame times of the
    shot movie ``out/shots/<id>.mp4`` (both start at the shot's first frame).
(c) ``cut``: ``out/cut.mp4`` decoded by PyAV, every video and audio frame placed by its own pts × time_base.
(d) ``otio``: ``out/cut.otio`` read back with OpenTimelineIO: each audio clip must start and end where the
    video clip over it does (within 1 ms), and the clap in the audio clip's media, carried through the clip's
    source range into timeline time, must land on the flash of the video clip's media carried the same way.

The flash is a frame whose mean luma stands ``FLASH_RISE`` levels above both neighbours. The clap is the
first sample over ``CLAP_SHARE`` of the loudest sample near the flash, with ``QUIET`` before it held under
that level (the attack after a quiet stretch); the hit is then refined on a centred 0.1 ms energy envelope,
to the first sample where it rises over half the attack's level (where a step starts). Target: every offset ≤ 1 ms.

    PYTHONPATH=src .venv/bin/python benchmarks/sound_sync.py [PROJECT] [--json]

PROJECT (default: the example) is a rendered project folder; (b)–(d) are skipped, saying so, where its
``out/`` lacks the files.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "moonlit-hanok"
TARGET_MS = 1.0
FLASH_RISE = 60.0        # levels of mean luma (0..255) above both neighbouring frames
CLAP_SHARE = 0.3         # of the loudest sample near the flash
QUIET = 0.020            # seconds under that level before the attack
SEARCH = (-0.05, 0.25)   # seconds around the flash's start where the clap is looked for
ENVELOPE = 0.0001        # seconds: the energy envelope's window (5 samples at 48 kHz), for the refinement


@dataclass(frozen=True)
class Row:
    place: str           # plate, stem, cut, otio
    item: str            # the plate, the shot or the clip
    flash_s: float | None
    clap_s: float | None
    offset_ms: float | None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.offset_ms is not None and abs(self.offset_ms) <= TARGET_MS


# --------------------------------------------------------------------------------------------- the detectors


def frame_lumas(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Each video frame's start time (its pts × time_base, in seconds) and its mean luma (0..255)."""
    times, lumas = [], []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.pts is None:
                raise SystemExit(f"{path}: a video frame has no timestamp")
            times.append(float(frame.pts * stream.time_base))
            small = frame.reformat(width=max(frame.width // 8, 1), height=max(frame.height // 8, 1), format="gray")
            lumas.append(float(small.to_ndarray().mean()))
    return np.array(times), np.array(lumas)


def find_flashes(times: np.ndarray, lumas: np.ndarray) -> list[float]:
    """The start times of one-frame flashes: frames ``FLASH_RISE`` levels brighter than both neighbours."""
    found = []
    for index in range(len(lumas)):
        before = lumas[index - 1] if index > 0 else lumas[index + 1] if len(lumas) > 1 else 0.0
        after = lumas[index + 1] if index + 1 < len(lumas) else before
        if lumas[index] - max(before, after) >= FLASH_RISE:
            found.append(float(times[index]))
    return found


@dataclass(frozen=True)
class Heard:
    """An audio stream, mono, laid out on its own clock: ``samples[i]`` plays at ``start + i / rate``."""

    samples: np.ndarray
    rate: int
    start: float

    def at(self, seconds: float) -> int:
        return round((seconds - self.start) * self.rate)


def hear(path: Path) -> Heard | None:
    """The first audio stream, every decoded frame put where its pts says (gaps stay silent); None if none."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        placed: list[tuple[int, np.ndarray]] = []
        rate = 0
        for frame in container.decode(stream):
            rate = frame.sample_rate
            mono = frame.to_ndarray().astype(np.float64)
            mono = mono.reshape(-1, len(frame.layout.channels)).mean(axis=1) if not frame.format.is_planar \
                else mono.mean(axis=0)
            pts = frame.pts if frame.pts is not None else (placed[-1][0] + placed[-1][1].size if placed else 0)
            placed.append((round(pts * frame.time_base * rate), mono))
    if not placed:
        return None
    first = placed[0][0]
    samples = np.zeros(max(at + part.size for at, part in placed) - first)
    for at, part in placed:
        samples[at - first:at - first + part.size] = part
    return Heard(samples, rate, first / rate)


def find_clap(heard: Heard, flash: float) -> float | None:
    """The clap's attack near ``flash`` (seconds on the stream's clock), or None when none stands out."""
    lo = max(heard.at(flash + SEARCH[0]), 0)
    hi = min(heard.at(flash + SEARCH[1]), heard.samples.size)
    if hi - lo < 16:
        return None
    magnitude = np.abs(heard.samples)
    window = magnitude[lo:hi]
    level = CLAP_SHARE * float(window.max())
    quiet = round(QUIET * heard.rate)
    hit = None
    for index in np.flatnonzero(window > level) + lo:
        if magnitude[max(index - quiet, 0):index].max(initial=0.0) <= level:
            hit = int(index)
            break
    if hit is None or level <= 0:
        return None
    # Refine: a centred energy envelope crosses half the attack's own level exactly where a step starts.
    width = max(round(ENVELOPE * heard.rate), 2)
    base = max(hit - 2 * width, 0)
    energy = np.convolve(heard.samples[base:hit + 4 * width] ** 2, np.ones(width) / width, "same")
    attack = float(energy[hit - base:hit - base + 2 * width].max(initial=0.0))
    rising = np.flatnonzero(energy[:hit - base + width] >= 0.5 * attack)
    start = base + int(rising[0]) if rising.size else hit
    return heard.start + start / heard.rate


def measure(place: str, item: str, picture: Path, sound: Path) -> list[Row]:
    """Every flash in ``picture`` against the clap near it in ``sound`` (both on the same clock)."""
    flashes = find_flashes(*frame_lumas(picture))
    heard = hear(sound)
    if not flashes:
        return [Row(place, item, None, None, None, "no flash frame found")]
    if heard is None:
        return [Row(place, item, flashes[0], None, None, f"{sound.name} has no audio stream")]
    rows = []
    for number, flash in enumerate(flashes, 1):
        clap = find_clap(heard, flash)
        name = item if len(flashes) == 1 else f"{item} #{number}"
        rows.append(Row(place, name, flash, clap, None if clap is None else (clap - flash) * 1000,
                        "" if clap is not None else "no clap near the flash"))
    return rows


# ----------------------------------------------------------------------------------------------- the places


def plates(folder: Path) -> list[Row]:
    rows = []
    for plate in sorted(folder.glob("*.mp4")):
        rows += measure("plate", plate.stem, plate, plate)
    return rows


def second_generation(folder: Path) -> list[Row]:
    """Each plate's decoded sound encoded to AAC once more (what the cut does), with FFmpeg's defaults and with
    perceptual noise substitution off: how well the clap survives a second generation, so how closely the cut
    can be measured at all."""
    import tempfile

    rows = []
    for plate in sorted(folder.glob("*.mp4")):
        flashes = find_flashes(*frame_lumas(plate))
        heard = hear(plate)
        if not flashes or heard is None:
            continue
        for label, options in (("AAC defaults", {}), ("AAC, no PNS", {"aac_pns": "0"})):
            with tempfile.TemporaryDirectory() as scratch:
                again = hear(_encode_aac(Path(scratch) / "again.m4a", heard, options))
            clap = None if again is None else find_clap(again, flashes[0])
            rows.append(Row("re-encoded", f"{plate.stem}, {label}", flashes[0], clap,
                            None if clap is None else (clap - flashes[0]) * 1000, "128 kb/s stereo"))
    return rows


def _encode_aac(path: Path, heard: Heard, options: dict[str, str]) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=heard.rate, layout="stereo")
        stream.bit_rate, stream.options = 128_000, options
        planar = np.ascontiguousarray(np.repeat(heard.samples[None].astype(np.float32), 2, axis=0))
        for start in range(0, planar.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planar[:, start:start + 1024]), format="fltp",
                                               layout="stereo")
            frame.rate, frame.pts = heard.rate, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def recorders(folder: Path) -> list[Row]:
    """A recorder's WAV beside its plate (``<plate>_rec.wav``), placed by its BWF time reference against the
    plate's start timecode: its clap must land on the plate's flash, so the two clocks agree."""
    rows = []
    for wav in sorted(folder.glob("*_rec.wav")):
        plate = folder / f"{wav.name.removesuffix('_rec.wav')}.mp4"
        if not plate.is_file():
            continue
        with av.open(str(plate)) as container:
            stream = container.streams.video[0]
            code, fps = stream.metadata.get("timecode") or container.metadata.get("timecode"), stream.average_rate
        with av.open(str(wav)) as container:
            reference, rate = container.metadata.get("time_reference"), container.streams.audio[0].rate
        heard = hear(wav)
        if not code or not reference or not fps or heard is None:
            rows.append(Row("recorder", wav.name, None, None, None, "no timecode or time reference to place it by"))
            continue
        hours, minutes, seconds, frames = (int(part) for part in code.replace(";", ":").split(":"))
        camera = hours * 3600 + minutes * 60 + seconds + frames / float(fps)    # non-drop, as the plates are
        flashes = find_flashes(*frame_lumas(plate))
        heard = Heard(heard.samples, heard.rate, heard.start + int(reference) / rate)
        for flash in flashes:
            clap = find_clap(heard, camera + flash)
            rows.append(Row("recorder", f"{wav.name} at {code}", camera + flash, clap,
                            None if clap is None else (clap - camera - flash) * 1000,
                            f"recorder starts {camera - heard.start:.3f} s before the camera"))
    return rows


def stems(project: Path) -> list[Row]:
    shots = project / "out" / "shots"
    found = sorted(shots.glob("*.dialogue.wav"))
    if not found:
        return [Row("stem", "-", None, None, None, f"skipped: no shot stems {shots}/<id>.dialogue.wav yet")]
    rows = []
    for stem in found:
        shot = stem.name.removesuffix(".dialogue.wav")
        movie = shots / f"{shot}.mp4"
        if not movie.is_file():
            rows.append(Row("stem", shot, None, None, None, f"skipped: no shot movie {movie.name}"))
            continue
        rows += [row for row in measure("stem", shot, movie, stem) if row.note != "no flash frame found"]
    return rows


def cut(project: Path) -> list[Row]:
    movie = project / "out" / "cut.mp4"
    if not movie.is_file():
        return [Row("cut", "-", None, None, None, f"skipped: {movie} is not rendered yet")]
    return measure("cut", "cut.mp4", movie, movie)


def otio(project: Path) -> list[Row]:
    timeline_path = project / "out" / "cut.otio"
    if not timeline_path.is_file():
        return [Row("otio", "-", None, None, None, f"skipped: {timeline_path} is not written yet")]
    import opentimelineio as otio_lib

    timeline = otio_lib.adapters.read_from_file(str(timeline_path))
    video = [clip for track in timeline.video_tracks() for clip in track.find_clips()]
    audio = [clip for track in timeline.audio_tracks() for clip in track.find_clips()]
    if not audio:
        return [Row("otio", "-", None, None, None, "skipped: the timeline has no audio clips yet")]
    rows = []
    for sound in audio:
        placed = sound.range_in_parent()
        start, end = placed.start_time.to_seconds(), placed.end_time_exclusive().to_seconds()
        under = [clip for clip in video if _overlap(clip, start, end)]
        name = sound.name or "audio clip"
        if not under:
            rows.append(Row("otio", name, None, None, None, "no video clip under it"))
            continue
        if len(under) == 1:      # a shot's own sound: it must start and end with the shot's picture
            picture = under[0].range_in_parent()
            edges = abs(picture.start_time.to_seconds() - start) + abs(picture.end_time_exclusive().to_seconds() - end)
            rows.append(Row("otio", f"{name} edges", None, None, edges * 1000,
                            f"its start and end against {under[0].name or 'the video clip'}'s"))
        if sound.parent() is not None and sound.parent().name not in ("dialogue", "A1", ""):
            continue            # the slate's clap is production sound: only the dialogue stem carries it
        sound_media = _media(sound, timeline_path)
        heard = None if sound_media is None else hear(sound_media)
        if heard is None:
            rows.append(Row("otio", name, None, None, None, "its media cannot be read"))
            continue
        for clip in under:
            picture_media = _media(clip, timeline_path)
            if picture_media is None:
                continue
            for flash in find_flashes(*frame_lumas(picture_media)):
                flash_at = _to_timeline(clip, flash)
                if not start <= flash_at < end:
                    continue
                clap = find_clap(heard, _from_timeline(sound, flash_at))
                clap_at = None if clap is None else _to_timeline(sound, clap)
                item = name if len(under) == 1 else f"{name} over {clip.name}"
                rows.append(Row("otio", item, flash_at, clap_at,
                                None if clap_at is None else (clap_at - flash_at) * 1000,
                                "" if clap_at is not None else "no clap near the flash"))
    return rows


def _overlap(clip: object, start: float, end: float) -> bool:
    placed = clip.range_in_parent()  # type: ignore[attr-defined]
    return placed.start_time.to_seconds() < end and placed.end_time_exclusive().to_seconds() > start


def _media_start(clip: object) -> float:
    """Where the media's own clock starts (a BWF's or a movie's timecode, if the reference says so)."""
    available = getattr(clip.media_reference, "available_range", None)  # type: ignore[attr-defined]
    return available.start_time.to_seconds() if available is not None else 0.0


def _to_timeline(clip: object, media_seconds: float) -> float:
    """A time in the clip's media file (seconds from its first sample) as timeline time."""
    source = clip.source_range or clip.available_range()  # type: ignore[attr-defined]
    into = media_seconds + _media_start(clip) - source.start_time.to_seconds()
    return clip.range_in_parent().start_time.to_seconds() + into  # type: ignore[attr-defined]


def _from_timeline(clip: object, seconds: float) -> float:
    source = clip.source_range or clip.available_range()  # type: ignore[attr-defined]
    into = seconds - clip.range_in_parent().start_time.to_seconds()  # type: ignore[attr-defined]
    return source.start_time.to_seconds() + into - _media_start(clip)


def _media(clip: object, timeline: Path) -> Path | None:
    url = getattr(clip.media_reference, "target_url", None)  # type: ignore[attr-defined]
    if not url:
        return None
    path = Path(url2pathname(urlparse(url).path)) if url.startswith("file:") else Path(url)
    path = path if path.is_absolute() else timeline.parent / path
    return path if path.is_file() else None


# --------------------------------------------------------------------------------------------------- report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=EXAMPLE, help="a rendered project folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    folder = args.project / "plates"
    rows = plates(folder) + recorders(folder) + second_generation(folder)
    rows += stems(args.project) + cut(args.project) + otio(args.project)
    if args.json:
        print(json.dumps([{**asdict(row), "ok": row.ok} for row in rows], indent=2))
    else:
        print("| place | item | flash s | clap s | offset ms | ≤ 1 ms | note |\n|---|---|---:|---:|---:|---|---|")
        for row in rows:
            def number(value: float | None, digits: int) -> str:
                return "–" if value is None else f"{value:.{digits}f}"

            verdict = "" if row.offset_ms is None else ("yes" if row.ok else "**no**")
            print(f"| {row.place} | {row.item} | {number(row.flash_s, 6)} | {number(row.clap_s, 6)} "
                  f"| {number(row.offset_ms, 3)} | {verdict} | {row.note} |")
    measured = [row for row in rows if row.offset_ms is not None]
    return 0 if measured and all(row.ok for row in measured) else 1


if __name__ == "__main__":
    sys.exit(main())
