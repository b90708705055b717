"""A colour-managed comp past the conversions: the EXR master's watermark, each take entering through its own
space, and the physically linear tricks (defocus, motion blur, light) done in the working space."""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np
import pytest

from soundstage.comp.colour import CompSpace, ShotColour, comp_space
from soundstage.comp.shot import ShotComp
from soundstage.media import read_exr
from soundstage.media.exr import ExrSpace
from soundstage.media.sequence import ImageSequenceWriter
from soundstage.provenance.watermark import detect, embed

PAYLOAD, KEY = bytes.fromhex("0123456789abcdef"), 0x5EED


@pytest.fixture(scope="module")
def space() -> CompSpace:
    return comp_space()


def _set(width: int, height: int) -> np.ndarray:
    """A generated set with some texture, as the watermark likes it."""
    rng = np.random.default_rng(7)
    return cv2.GaussianBlur(rng.integers(40, 220, (height, width, 3), dtype=np.uint8), (0, 0), 2)


def test_the_exr_master_of_a_managed_comp_carries_the_watermark(space: CompSpace, tmp_path: Path) -> None:
    pytest.importorskip("OpenEXR")
    width, height = 320, 180
    backdrop = _set(width, height)
    shot = ShotColour.open(space, plate_space="Rec.709")
    mark = functools.partial(embed, payload=PAYLOAD, key=KEY)
    comp = ShotComp.prepare(width=width, height=height, frames=3, background=lambda i: backdrop, managed=shot,
                            mark=mark)
    out = tmp_path / "exr"
    master = ExrSpace(space.working, space.interop_id(), space.chromaticities())
    with ImageSequenceWriter(out, "m.%04d.exr", width=width, height=height, fps=24, alpha=False,
                             space=master) as writer:
        comp.render([writer], linear=[True])
    frames = [read_exr(path) for path in sorted(out.glob("*.exr"))]
    assert len(frames) == 3 and frames[0].dtype == np.float32
    # read as any viewer shows a master: through the view
    shown = [space.to_display(np.ascontiguousarray(frame[..., :3])) for frame in frames]
    assert detect(shown, KEY).payload == PAYLOAD
    plain = ShotComp.prepare(width=width, height=height, frames=1, background=lambda i: backdrop, managed=shot)
    assert detect([space.to_display(plain.comp_frame(0)[1])], KEY).payload is None
