"""The sync benchmark's detectors, on real files: the example's plates as committed, and small movies, stems and
an OTIO timeline written here with a known flash and clap (a known error where one is planted).

Nothing here needs espeak-ng: the plates are read as committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest

from soundstage.sound.track import RATE, Sound
from soundstage.sound.wav import write_bwf

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import sound_sync  # noqa: E402

PLATES = sound_sync.EXAMPLE / "plates"
FPS = 24


def clap_track(count: int, claps: list[float], seed: int = 0) -> np.ndarray:
    """Room tone (-48 dBFS) with a clap (loudest sample first, then 120 ms of noise dying away) at each time."""
    rng = np.random.default_rng(seed)
    samples = rng.standard_normal((count, 2)) * 10 ** (-48 / 20)
    t = np.arange(round(0.12 * RATE)) / RATE
    for at in claps:
        burst = rng.standard_normal(t.size) * np.exp(-t / 0.015)
        burst = 0.5 * burst / np.abs(burst).max()
        burst[0] = 0.5
        start = round(at * RATE)
        end = min(start + burst.size, count)
        samples[start:end] += burst[:end - start, None]
    return samples.astype(np.float32)


def movie(path: Path, frames: int, flashes: list[int], claps: list[float] | None) -> Path:
    """A 64×36 H.264 movie at 24 fps, white on the ``flashes`` frames, with AAC claps at ``claps`` (seconds)."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = 64, 36, "yuv420p"
        audio = None
        if claps is not None:
            audio = container.add_stream("aac", rate=RATE, layout="stereo")
            audio.bit_rate, audio.options = 128_000, {"aac_pns": "0"}    # as the plates are encoded
        for index in range(frames):
            picture = np.full((36, 64, 3), 255 if index in flashes else 40, np.uint8)
            container.mux(video.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(video.encode(None))
        if audio is not None and claps is not None:   # after the picture: the muxer interleaves
            planar = np.ascontiguousarray(clap_track(round(frames / FPS * RATE), claps).T)
            for start in range(0, planar.shape[1], 1024):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planar[:, start:start + 1024]),
                                                   format="fltp", layout="stereo")
                frame.rate, frame.pts = RATE, start
                container.mux(audio.encode(frame))
            container.mux(audio.encode(None))
    return path


# ------------------------------------------------------------------------------------------- the example plates


SLATED = ("cliff_turn", "desert_look", "pass_walk", "rooftop_blue")   # shot with a slate: a flash and its clap


def test_every_example_plate_has_sound_a_timecode_and_its_clap_on_its_flash() -> None:
    """Every plate carries AAC sound and a timecode; the four slated ones a flash on frame 2 with its clap on it.
    (The handheld, standing and LogC4 plates of issues 18, 19 and 23 are shot without a slate: room tone, no
    flash.)"""
    plates = sorted(PLATES.glob("*.mp4"))
    assert [p.stem for p in plates] == ["cliff_turn", "desert_look", "desert_look_logc4", "handheld_look",
                                        "pass_stand", "pass_walk", "rooftop_blue"]
    codes = set()
    for plate in plates:
        with av.open(str(plate)) as container:
            audio = container.streams.audio[0]
            assert (audio.codec_context.name, audio.rate, audio.channels) == ("aac", 48_000, 2), plate.name
            codes.add(container.streams.video[0].metadata["timecode"])
        if plate.stem in SLATED:
            times, lumas = sound_sync.frame_lumas(plate)
            assert sound_sync.find_flashes(times, lumas) == [pytest.approx(2 / FPS)], plate.name   # frame 2, only
    assert codes == {"10:00:00:00", "10:00:20:00", "11:00:00:00", "11:00:20:00", "12:00:00:00", "13:00:00:00"}
    rows = [row for row in sound_sync.plates(PLATES) if row.item in SLATED]
    assert [row.item for row in rows] == list(SLATED)
    for row in rows:
        assert row.offset_ms is not None and abs(row.offset_ms) <= 0.1, row     # the detector's own error


def test_the_recorder_wav_starts_one_and_a_half_seconds_before_its_plate() -> None:
    wav = PLATES / "rooftop_blue_rec.wav"
    with av.open(str(wav)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.rate) == ("pcm_s24le", 48_000)
        assert container.metadata["time_reference"] == "2073528000"    # (12:00:00:00 − 1.5 s) × 48 kHz
    [row] = sound_sync.recorders(PLATES)
    assert row.offset_ms is not None and abs(row.offset_ms) <= 0.1, row
    assert "1.500 s before the camera" in row.note


# ------------------------------------------------------------------------------------------------ the detectors


@pytest.mark.parametrize("late_ms", [0.0, 4.0, -12.5])
def test_a_clap_placed_off_its_flash_is_measured_to_the_millisecond(tmp_path: Path, late_ms: float) -> None:
    clip = movie(tmp_path / "clip.mp4", 12, [2], [2 / FPS + late_ms / 1000])
    [row] = sound_sync.measure("plate", "clip", clip, clip)
    assert row.flash_s == pytest.approx(2 / FPS)
    assert row.offset_ms == pytest.approx(late_ms, abs=0.2)


def test_a_movie_without_a_flash_or_a_clap_says_so(tmp_path: Path) -> None:
    dark = movie(tmp_path / "dark.mp4", 6, [], [0.1])
    silent = movie(tmp_path / "silent.mp4", 6, [2], None)
    assert sound_sync.measure("cut", "dark", dark, dark)[0].note == "no flash frame found"
    assert sound_sync.measure("cut", "silent", silent, silent)[0].note == "silent.mp4 has no audio stream"


def test_without_a_render_the_stems_cut_and_timeline_are_skipped_saying_why(tmp_path: Path) -> None:
    rows = sound_sync.stems(tmp_path) + sound_sync.cut(tmp_path) + sound_sync.otio(tmp_path)
    assert [row.place for row in rows] == ["stem", "cut", "otio"]
    assert all(row.note.startswith("skipped:") and row.offset_ms is None for row in rows)


# ------------------------------------------------------------------- a rendered project's layout, planted errors


def rendered(root: Path) -> Path:
    """out/ as the render lays it out: two shots (1-1 in sync, 1-2 with its sound 5 ms late), their stems, the
    cut, the cut's dialogue stem, and its OTIO timeline: a video track of the shot movies, an audio track of the
    shots' dialogue stems, and one of the cut's stem as a single clip (named by a file:// URL)."""
    shots = root / "out" / "shots"
    shots.mkdir(parents=True)
    frames = 12
    for shot, late in (("1-1", 0.0), ("1-2", 0.005)):
        movie(shots / f"{shot}.mp4", frames, [2], None)
        write_bwf(shots / f"{shot}.dialogue.wav", Sound(clap_track(frames * RATE // FPS, [2 / FPS + late])))
    claps = [2 / FPS, (frames + 2) / FPS + 0.005]
    movie(root / "out" / "cut.mp4", 2 * frames, [2, frames + 2], claps)
    (root / "out" / "stems").mkdir()
    write_bwf(root / "out" / "stems" / "dialogue.wav", Sound(clap_track(2 * frames * RATE // FPS, claps)))
    timeline = otio.schema.Timeline(name="cut")
    video = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    sound = otio.schema.Track(kind=otio.schema.TrackKind.Audio)
    for shot in ("1-1", "1-2"):
        span = otio.opentime.TimeRange(otio.opentime.RationalTime(0, FPS), otio.opentime.RationalTime(frames, FPS))
        video.append(otio.schema.Clip(name=shot, source_range=span,
                                      media_reference=otio.schema.ExternalReference(f"shots/{shot}.mp4")))
        sound.append(otio.schema.Clip(name=f"{shot} dialogue", source_range=span, media_reference=otio.schema
                                      .ExternalReference(f"shots/{shot}.dialogue.wav")))
    whole = otio.opentime.TimeRange(otio.opentime.RationalTime(0, FPS), otio.opentime.RationalTime(2 * frames, FPS))
    stem = otio.schema.Track(kind=otio.schema.TrackKind.Audio)
    stem.append(otio.schema.Clip(name="dialogue stem", source_range=whole, media_reference=otio.schema
                                 .ExternalReference((root / "out" / "stems" / "dialogue.wav").as_uri())))
    timeline.tracks.extend([video, sound, stem])
    otio.adapters.write_to_file(timeline, str(root / "out" / "cut.otio"))
    return root


def test_stems_cut_and_timeline_are_measured_and_a_late_shot_is_caught(tmp_path: Path) -> None:
    project = rendered(tmp_path)
    stems = {row.item: row for row in sound_sync.stems(project)}
    assert stems["1-1"].offset_ms == pytest.approx(0.0, abs=0.1) and stems["1-1"].ok
    assert stems["1-2"].offset_ms == pytest.approx(5.0, abs=0.1) and not stems["1-2"].ok
    cut = sound_sync.cut(project)
    assert [row.flash_s for row in cut] == [pytest.approx(2 / FPS), pytest.approx(14 / FPS)]
    assert [row.offset_ms for row in cut] == [pytest.approx(0.0, abs=0.2), pytest.approx(5.0, abs=0.2)]
    timeline = {row.item: row for row in sound_sync.otio(project)}
    assert timeline["1-1 dialogue edges"].offset_ms == 0.0 and timeline["1-2 dialogue edges"].offset_ms == 0.0
    assert timeline["1-1 dialogue"].flash_s == pytest.approx(2 / FPS)
    assert timeline["1-2 dialogue"].flash_s == pytest.approx(14 / FPS)          # carried into timeline time
    assert timeline["1-1 dialogue"].offset_ms == pytest.approx(0.0, abs=0.1)
    assert timeline["1-2 dialogue"].offset_ms == pytest.approx(5.0, abs=0.1)
    assert "dialogue stem edges" not in timeline                               # it spans both shots
    assert timeline["dialogue stem over 1-1"].offset_ms == pytest.approx(0.0, abs=0.1)
    assert timeline["dialogue stem over 1-2"].offset_ms == pytest.approx(5.0, abs=0.1)
    assert sound_sync.main([str(project)]) == 1                                # a late shot fails the run
