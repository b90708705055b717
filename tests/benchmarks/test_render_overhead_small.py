"""The render-overhead benchmark's small path, as CI runs it: the statuses it reports must be right.

No timing is asserted (the machine is shared); a no-op re-render must report every step cached, and a
changed camera move on one shot must rebuild that shot and the cut and nothing else.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import render_overhead  # noqa: E402


@pytest.fixture(scope="module")
def small() -> dict[str, Any]:
    [result] = render_overhead.run([10])["results"]
    return result


def test_first_render_builds_every_step(small: dict[str, Any]) -> None:
    full = small["statuses"]["full"]
    assert len(full) == small["steps"] == 5 + 10 + 10 + 1     # five sets, ten ambience beds, ten shots, the cut
    assert set(full.values()) == {"built"}


def test_noop_rerender_is_all_cached(small: dict[str, Any]) -> None:
    noop = small["statuses"]["noop"]
    assert noop.keys() == small["statuses"]["full"].keys()
    assert set(noop.values()) == {"cached"}


def test_one_changed_shot_rebuilds_that_shot_and_the_cut(small: dict[str, Any]) -> None:
    one = small["statuses"]["one_changed"]
    assert one.keys() == small["statuses"]["full"].keys()
    assert {step for step, status in one.items() if status == "built"} == {f"shot {small['changed_shot']}", "cut"}
    assert {status for step, status in one.items() if status != "built"} == {"cached"}
    assert small["changed_shot_s"] >= 0 and small["cut_s"] > 0 and small["ratio"] > 0
