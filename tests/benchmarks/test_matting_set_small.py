"""The matting set's small path: a fixed split by subject, exact truth, and figures from real keyed pixels."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import matting_set  # noqa: E402


def test_the_split_is_fixed_and_by_subject() -> None:
    halves = matting_set.split()
    assert halves == matting_set.split()
    assert not set(halves["tune"]) & set(halves["held-out"])
    assert sorted(halves["tune"] + halves["held-out"]) == sorted(matting_set.SUBJECTS)


def test_a_subject_truth_is_coverage() -> None:
    truth, _ = matting_set.make_subject("hair-blonde-long", 96, 72)
    assert truth.alpha.shape == (72, 96) and truth.fg.shape == (72, 96, 3)
    assert truth.alpha.min() == 0 and truth.alpha.max() == 1
    soft = (truth.alpha > 0) & (truth.alpha < 1)
    assert soft.mean() > 0.02                                  # strands are fractions of a pixel wide


def test_a_small_run_scores_both_keyers() -> None:
    result = matting_set.run(["strings"], size=(96, 72), grid=([0.02, 0.06], [0.0, 0.1]), lights=(True,),
                             codecs=("clean",))
    assert result["plates"] == 2
    for row in result["rows"]:
        assert row["ffmpeg_plate"]["sad"] <= row["ffmpeg_one"]["sad"]      # per plate is the stricter peer
        assert np.isfinite(row["soundstage"]["sad"]) and row["soundstage"]["sad"] > 0
    clips = matting_set.run_clips(["hair-red-long"], size=(96, 72), frames=3, grid=([0.04], [0.05]))
    assert len(clips["clips"]) == 8 and clips["dtssd_soundstage"] > 0
