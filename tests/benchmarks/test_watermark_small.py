"""The watermark benchmark's small path, as CI runs it: each attack reported, the reframing search included.

Accuracy, not time, is checked: marks on the example's plates at 640×360 must read back through H.264 and a
downscale, a centre crop must read through the search, and no unmarked clip may read under any reframing.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import watermark  # noqa: E402


def test_the_small_run_reports_every_attack_and_the_search() -> None:
    result = watermark.run(small=True)
    assert set(result["attacks"]) == set(watermark.ATTACKS)
    assert result["attacks"]["both"]["pooled_mean"] >= 0.95, "720p-style downscale plus CRF 23 reads"
    assert result["attacks"]["crop 5%"]["read_pooled"] == 0.0, "plain detection cannot read a crop"
    framed = result["reframed"]
    assert framed["read_8_frames"]["crop 5%"] == 1.0 and framed["read_8_frames"]["crop 8% across, 3% down"] == 1.0
    assert framed["false_positive"] == 0 and framed["trials"] == result["clips"]
    assert result["false_positive"]["single"] == 0 and result["false_positive"]["pooled"] == 0
    report = watermark.report(result)
    assert "reframing search" in report and "| crop 5% |" in report
