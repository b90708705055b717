"""The keying benchmarks' small paths, as CI runs them: they must produce figures, on real keyed pixels.

No timing is asserted (the machine is shared); the quality run must still find soundstage's key closer to
the true matte than FFmpeg's tuned chromakey, and the speed run must write two comps that decode to the
plate's frame count and show the set, not the screen.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import comp_speed  # noqa: E402
import key_quality  # noqa: E402


@pytest.fixture(scope="module")
def quality() -> dict[str, Any]:
    return key_quality.run(key_quality.STAND_IN, small=True)


def test_quality_scores_every_plate_for_both_keyers(quality: dict[str, Any]) -> None:
    plates = quality["plates"]
    assert len(plates) == 2 * 2 * 2          # two subjects × green, blue × clean, H.264
    assert {(p["screen"], p["codec"]) for p in plates} == {(s, c) for s in ("green", "blue")
                                                           for c in ("clean", "h264")}
    for plate in plates:
        for keyer in ("soundstage", "ffmpeg"):
            scores = plate[keyer]
            for field in ("sad", "mse", "colour"):
                assert math.isfinite(scores[field]) and scores[field] >= 0.0, (plate["plate"], keyer, field)
            # the split adds up to the whole
            assert scores["sad_edge"] + scores["sad_subject"] + scores["sad_screen"] == pytest.approx(
                scores["sad"], rel=1e-4, abs=1e-6)
    # Neither keyer is hopeless: a key that gave up (all opaque, all clear) scores far worse than this.
    assert all(p[k]["sad"] < 3.0 for p in plates for k in ("soundstage", "ffmpeg"))


def test_soundstage_keys_closer_to_the_truth_than_ffmpeg(quality: dict[str, Any]) -> None:
    mean = quality["mean"]
    assert mean["soundstage"]["sad"] < mean["ffmpeg"]["sad"]
    assert quality["sad_ratio"] == pytest.approx(mean["soundstage"]["sad"] / mean["ffmpeg"]["sad"])
    # FFmpeg was tuned on the other subject, never on the plate it is scored on
    for settings in quality["ffmpeg_settings"].values():
        assert not set(settings["tuned_on"]) & set(settings["applies_to"])


def test_quality_reads_the_shared_set_when_it_lands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert key_quality.material_dir() in (key_quality.SHARED, key_quality.STAND_IN)
    monkeypatch.setattr(key_quality, "SHARED", tmp_path)
    assert key_quality.material_dir() == key_quality.STAND_IN        # no fg/ and alpha/ there yet
    (tmp_path / "fg").mkdir()
    (tmp_path / "alpha").mkdir()
    assert key_quality.material_dir() == tmp_path
    assert key_quality.material_dir(Path("elsewhere")) == Path("elsewhere")


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def _green_share(picture: np.ndarray) -> float:
    rgb = picture.astype(np.int16)
    return float((rgb[..., 1] - np.maximum(rgb[..., 0], rgb[..., 2]) > 40).mean())


def test_speed_writes_both_comps_and_reports_fps(tmp_path: Path) -> None:
    result = comp_speed.run(small=True, keep=tmp_path)
    plate = _frames(tmp_path / "plate.mp4")
    assert len(plate) == result["frames"] == 12
    assert _green_share(plate[0]) > 0.3                  # the plate is a green-screen shot
    for name in ("soundstage", "ffmpeg"):
        run = result["runs"][name]
        assert run["fps"] > 0 and run["frames"] == 12
        comp = _frames(Path(run["output"]))
        assert len(comp) == 12 and comp[0].shape == plate[0].shape
        assert _green_share(comp[6]) < 0.01, name         # keyed: the set shows where the screen was
    assert result["ratio"]["soundstage"] > 0
    assert result["bandwidth"]["copy_gbs"] > 0 and result["bandwidth"]["copy_ms"] > 0
    assert all(v > 0 for v in result["context"].values())


def test_comp_ops_reports_every_op() -> None:
    import comp_ops  # a sibling script, found through BENCHMARKS on sys.path

    result = comp_ops.run(small=True)
    assert result["size"] == "320x180"
    assert set(result["per_frame"]) == {
        "key", "key_refine", "over", "screen", "add", "colour_apply", "lut_apply", "grain_add", "camera_flat",
        "camera_parallax", "camera_shutter", "light_wrap", "motion_blur", "shot_frame"}
    assert set(result["per_shot"]) == {"measure_screen", "grain_measure", "grain_fields", "colour_measure",
                                       "lut_bake", "estimate_depth", "defocus", "camera_prepare"}
    for group in ("per_frame", "per_shot"):
        for name, ms in result[group].items():
            assert math.isfinite(ms) and ms > 0, (group, name)
            assert result["labels"][name]
    assert "| per frame | ms |" in comp_ops.report(result)
