"""The sound benchmarks' small paths, as CI runs them: recorder sync and loudness on tiny inputs.

No timing is asserted (the machine is shared): every waveform case must land within 1 ms or be refused
(never a wrong sync), timecode sync must put the click on the plate's first frame exactly, and every
normalised mix must read within ±0.5 LU of its target and under its ceiling on FFmpeg's ebur128.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import loudness  # noqa: E402
import recorder_sync  # noqa: E402


def test_recorder_sync_small_is_within_a_millisecond_and_timecode_is_exact() -> None:
    result = recorder_sync.run(small=True)
    summary = result["summary"]
    assert summary["cases"] == len(result["waveform"]) == 4
    assert summary["wrong"] == []                                    # refused, maybe; wrong, never
    assert summary["within_1ms"] + len(summary["refused"]) == 4 and summary["within_1ms"] >= 3
    assert all(abs(case["error_ms"]) <= 1.0 for case in result["waveform"] if not case["refused"])
    assert summary["timecode_exact"] == summary["timecode_cases"] == 5
    assert all(case["click_at"] == case["expected"] for case in result["timecode"])


def test_loudness_small_meets_each_target_on_the_other_meter() -> None:
    result = loudness.run(small=True)
    assert len(result["cases"]) == 6
    for case in result["cases"]:
        target = float(case["target"].split()[0])
        assert abs(case["ebur128_lufs"] - target) <= 0.5, case
        assert case["ebur128_dbtp"] <= case["ceiling_dbtp"], case
    assert any(case["limited"] for case in result["cases"])          # the action scene needed the limiter
