"""The tracking benchmarks' small paths: they must produce their figures from real tracks and real comps.

No timing is asserted (the machine is shared); the accuracy run must still meet its target on a tiny plate,
clean and through H.264.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import track_accuracy  # noqa: E402
import track_speed  # noqa: E402


def test_track_accuracy_small_meets_its_target_and_reports_the_baseline() -> None:
    rows = track_accuracy.run(4, 320, 180, plates=[track_accuracy.PLATES[4]])
    assert [r["codec"] for r in rows] == ["clean", "crf23"]
    for row in rows:
        assert row["rms"] <= 0.3 and row["max"] <= 1.0 and row["unsolved"] == 0, row
        assert {"ecc_rms", "ecc_max", "ecc_drift", "ratio", "drift", "split"} <= row.keys()


def test_track_speed_small_compares_the_comp_with_and_without_tracking() -> None:
    result = track_speed.run(6, 320, 180)
    assert result["solve_fps"] > 0 and result["comp_fps_tracking_off"] > 0
    assert result["comp_fps_tracking_on_first"] > 0 and len(result["added_first_render_pct_each"]) == 1
    assert result["file_track_rms_px"] < 0.5      # the file's own track (luma, rough key on a proxy) is sub-pixel
