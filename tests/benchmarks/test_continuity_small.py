"""The continuity benchmark's small path: conditioned joins hold, unconditioned ones show, on real clips."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import continuity  # noqa: E402


def test_conditioned_joins_hold_and_unconditioned_ones_show(tmp_path: Path) -> None:
    joins = continuity.joins("night hanok rooftops with moon", 1, 64, 36, tmp_path)
    assert joins["extend"].continuous and joins["last→first"].continuous
    assert not joins["none"].continuous
    assert joins["extend"].ssim > joins["none"].ssim + 0.2
