"""The chart round trip (benchmarks/colour_pipeline.py): a ColorChecker encoded as a 10-bit camera plate (three
camera logs and Rec.709), through a key-less colour-managed comp and its EXR master, read back: within ΔE2000
0.5 mean and 1.0 max, and light above 1.0 kept, not clipped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from soundstage.comp.colour import CompSpace, comp_space

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import colour_pipeline


@pytest.fixture(scope="module")
def space() -> CompSpace:
    return comp_space()    # one for all cameras: its view tables are baked once


@pytest.mark.parametrize("camera", colour_pipeline.CAMERAS)
def test_chart_through_comp_and_exr_master(tmp_path: Path, camera: str, space: CompSpace) -> None:
    pytest.importorskip("OpenEXR")
    trip = colour_pipeline.round_trip(camera, bits=10, space=space, folder=tmp_path)
    assert trip["mean"] < 0.5 and trip["max"] < 1.0, trip
    if camera != "Rec.709":     # a log plate holds light over 1.0; Rec.709 video clips it in the camera
        assert trip["hot_read"] == pytest.approx(trip["hot_sent"], rel=0.02) and trip["exr_max"] > 4.0, trip
