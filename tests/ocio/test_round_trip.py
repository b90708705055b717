"""The chart round trip: a ColorChecker encoded as a camera plate (three camera logs and Rec.709, 10-bit), through
a key-less colour-managed comp and its EXR master, read back: within ΔE2000 0.5 mean, 1.0 max, and nothing
above 1.0 clipped."""

from __future__ import annotations

from pathlib import Path

import colour
import numpy as np
import pytest
from colourchart import chart_xyz, delta_e

from soundstage.comp.colour import CompSpace, ShotColour
from soundstage.comp.shot import ShotComp
from soundstage.media import read_exr
from soundstage.media.exr import ExrSpace, exr_space
from soundstage.media.sequence import ImageSequenceWriter

SIZE = 8
REC709 = colour.RGB_COLOURSPACES["ITU-R BT.709"]
HOT = 8.0          # the chart's white patch again, three stops over: light far above 1.0


def chart_linear() -> np.ndarray:
    """25 patches in linear Rec.709 (D65): the 24 of the chart, then the white three stops over."""
    rgb = colour.XYZ_to_RGB(chart_xyz(), REC709)
    return np.vstack([rgb, rgb[18] * HOT])


@pytest.fixture(scope="module")
def space() -> CompSpace:
    return CompSpace.open()    # one for all cameras: its view tables are baked once


@pytest.mark.parametrize("camera", ["ARRI LogC4", "ARRI LogC3", "S-Log3", "Canon Log 3", "Rec.709"])
def test_chart_through_comp_and_exr_master(tmp_path: Path, camera: str, space: CompSpace) -> None:
    pytest.importorskip("OpenEXR")
    shot = ShotColour.open(space, plate_space=camera)
    linear = chart_linear()
    code = np.clip(space.convert(linear, "Linear Rec.709 (sRGB)", shot.plate_space), 0, 1)
    ten_bit = np.rint(code * 1023) / 1023                          # what a 10-bit camera file holds
    values = np.vstack([ten_bit, np.zeros((30 - len(ten_bit), 3))])  # 6×5 patches: the 25, then black
    plate = np.rint(np.repeat(np.repeat(values.reshape(5, 6, 3), SIZE, 0), SIZE, 1) * 65535).astype(np.uint16)
    height, width = plate.shape[:2]
    comp = ShotComp.prepare(width=width, height=height, frames=1, managed=shot,
                            background=lambda i: np.zeros((height, width, 3), np.uint8))
    master = ExrSpace(space.working, space.interop_id(), space.chromaticities())
    with ImageSequenceWriter(tmp_path / "master", "m.%04d.exr", width=width, height=height, fps=24,
                             alpha=False, space=master) as writer:
        comp.render([writer], plates=iter([plate]), linear=[True])
    path = tmp_path / "master" / "m.0001.exr"
    assert exr_space(path)["colorInteropID"] == "lin_ap1_scene"
    working = read_exr(path)
    back = space.convert(working, space.working, "Linear Rec.709 (sRGB)")
    cells = back.reshape(5, SIZE, 6, SIZE, 3)[:, 2:-2, :, 2:-2].mean(axis=(1, 3)).reshape(30, 3)
    seen = colour.RGB_to_XYZ(cells[:24], REC709)
    # a Rec.709 camera cannot hold the chart's cyan (outside BT.709's gamut): it is held to what it can record
    sent = chart_xyz() if camera != "Rec.709" else colour.RGB_to_XYZ(np.clip(linear[:24], 0, 1), REC709)
    errors = delta_e(sent, seen)
    assert errors.mean() < 0.5 and errors.max() < 1.0, f"{camera}: mean {errors.mean():.3f}, max {errors.max():.3f}"
    if camera != "Rec.709":                # a log plate holds light over 1.0; Rec.709 video clips it at the camera
        assert cells[24].min() > 4.0 and np.allclose(cells[24], linear[24], rtol=0.03)
