"""The provenance-cost benchmark's small path, as CI runs it: every figure it reports must be there.

No timing is asserted (the machine is shared). What is checked is that all four copies of the example
rendered every shot, that each file type the pipeline writes was signed, and that the cut, signed with every
shot as an ingredient, verifies against the project's root.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import provenance_cost  # noqa: E402

SHOTS = {"1-1", "2-1", "2-2", "2-3", "3-1", "3-2", "4-1"}       # examples/moonlit-hanok/shots.toml


@pytest.fixture(scope="module")
def small() -> dict[str, Any]:
    return provenance_cost.run(small=True)


def test_every_shot_is_timed_in_every_copy(small: dict[str, Any]) -> None:
    assert small["resolution"] == [320, 180] and small["jobs"] == 1 and small["repeat"] == 1
    assert {row["shot"] for row in small["per_shot"]} == SHOTS
    variants = set(provenance_cost.VARIANTS)
    for row in small["per_shot"]:
        assert all(row[name] > 0 for name in variants), row
        assert all(row[f"ratio_{name}"] > 0 for name in variants - {"neither"}), row
    assert set(small["total"]) == variants and set(small["ratio"]) == variants - {"neither"}
    assert all(len(rounds) == 1 for rounds in small["rounds"].values())
    assert small["target_ratio"] == 1.25 and isinstance(small["meets_target"], bool)


def test_each_file_type_is_signed(small: dict[str, Any]) -> None:
    signing = small["signing"]
    takes = signing["takes"]
    assert any(t["files"] == 1 for t in takes) and any(t["files"] > 1 for t in takes)   # stills and sequences
    assert all(t["bytes"] > 0 and t["sign_ms"] > 0 for t in takes)
    assert {s["shot"] for s in signing["shots"]} == SHOTS
    assert all(s["frames"] == 12 and s["takes"] >= 2 and s["sign_ms"] > 0 for s in signing["shots"])


def test_the_cut_carries_every_shot_and_verifies(small: dict[str, Any]) -> None:
    cut = small["signing"]["cut"]
    assert cut["shots"] == len(SHOTS)
    assert cut["takes"] == sum(s["takes"] for s in small["signing"]["shots"])
    assert cut["manifest_bytes"] > 10_000          # every shot's manifest and, through them, every take's
    assert cut["verify_ok"] and cut["verify_state"] == "Trusted"
    assert cut["sign_ms"] > 0 and cut["verify_ms"] > 0
