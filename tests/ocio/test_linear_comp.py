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


def test_a_take_enters_the_working_space_through_its_own_space(space: CompSpace) -> None:
    """The same 8-bit grey as a generated sRGB still (through the inverse view), as a Rec.709 video take
    (the camera curve) and as an element made by an engine in linear Rec.709: each as its space says."""
    from soundstage.comp.shot import Element

    width, height = 32, 18
    grey = np.full((height, width, 3), 128, np.uint8)
    shot = ShotColour.open(space, plate_space="Rec.709")
    generated = ShotComp.prepare(width=width, height=height, frames=1, background=lambda i: grey, managed=shot)
    video = ShotComp.prepare(width=width, height=height, frames=1, background=lambda i: grey, managed=shot)
    video.set_space = "Rec.709"
    as_made, as_video = generated.comp_frame(0)[1][5, 5], video.comp_frame(0)[1][5, 5]
    want = space.convert(np.full((1, 3), 128 / 255, np.float32), "Camera Rec.709", "ACEScg")[0]
    assert np.allclose(as_video, want, rtol=2e-3, atol=1e-4)
    assert not np.allclose(as_made, want, rtol=0.05)
    # an element in linear Rec.709 (an engine's EXR, here its float pixels), opaque over the set
    linear = np.dstack([np.full((height, width, 3), 0.5, np.float32), np.ones((height, width), np.float32)])
    element = Element("glow", lambda i: linear, space="Linear Rec.709 (sRGB)")
    comp = ShotComp.prepare(width=width, height=height, frames=1, background=lambda i: grey, managed=shot,
                            elements=[element])
    got = comp.comp_frame(0)[1][5, 5]
    assert np.allclose(got, space.convert(np.full((1, 3), 0.5, np.float32), "Linear Rec.709 (sRGB)", "ACEScg")[0],
                       rtol=2e-3)


def test_a_takes_recorded_space_is_read_from_its_take_json(tmp_path: Path) -> None:
    from soundstage.pipeline.shot import take_space
    from soundstage.records.take import TakeFile

    def take(folder: str, space: str) -> list[Path]:
        made = tmp_path / folder / "frames"
        made.mkdir(parents=True)
        record = TakeFile(slot="set:lab", key="k", design="d", kind="set", engine="e", model="m", engine_version="1",
                          source_type="trainedAlgorithmicMedia", request={}, files=("frames/0001.png",),
                          cost_usd=0.0, seconds=1.0, created_at="2026-12-08T00:00:00+00:00", colour_space=space)
        (tmp_path / folder / "take.json").write_text(record.to_json())
        return [made / "0001.png"]

    assert take_space(take("engine", "ACEScg")) == "ACEScg"
    assert take_space(take("web", "sRGB - Display")) is None        # the default: [colour] generated holds
    assert take_space(take("old", "")) is None


def test_a_defocused_highlight_keeps_its_light_in_a_managed_comp(space: CompSpace) -> None:
    """A small white light on a dark generated set, thrown far out of focus: blurred in linear light its
    energy (display white is some +7 stops of scene light) spreads into a bright bokeh disc; blurred on
    display code values, as the 8-bit path does, into a dim grey one."""
    from soundstage.comp.colour import defocused
    from soundstage.comp.light import defocus

    height, width = 180, 320
    still = np.full((height, width, 3), 12, np.uint8)
    still[88:92, 158:162] = 255
    depth = np.ones((height, width), np.float32)
    on_display = defocus(still, depth, focus=0.0, amount=1.0)
    in_linear = defocused(space, still, depth, focus=0.0, amount=1.0)
    assert in_linear.dtype == np.uint8 and in_linear.shape == still.shape
    centre = (slice(86, 94), slice(156, 164))
    assert on_display[centre].mean() < 90                 # the dim grey disc
    assert in_linear[centre].mean() > 200                 # the bright bokeh disc
    # the disc is wider than the light, and the dark set away from it is left as it was (a level or two)
    assert in_linear[90, 160 + 5].mean() > 150
    assert np.abs(in_linear[:40].astype(int) - still[:40]).max() <= 2


@pytest.mark.parametrize("mode", ["over", "screen", "add"])
def test_float_blends_in_the_alphas_box_match_the_whole_frame_formula(mode: str) -> None:
    """The float blend works only in the box around the alpha (and in place with ``out``): the same numbers
    as the whole-frame formula, light over 1.0 kept, the inputs left alone without ``out``."""
    from soundstage.comp.over import blend_linear

    rng = np.random.default_rng(3)
    fg = rng.uniform(0, 4, (36, 64, 3)).astype(np.float32)
    bg = rng.uniform(0, 2, (36, 64, 3)).astype(np.float32)
    alpha = np.zeros((36, 64), np.uint8)
    alpha[10:20, 30:50] = rng.integers(0, 256, (10, 20), dtype=np.uint8)
    a = alpha[..., None].astype(np.float32) / 255
    light = fg * a
    want = {"over": fg * a + bg * (1 - a), "add": bg + light, "screen": bg + light * np.maximum(1 - bg, 0)}[mode]
    kept = bg.copy()
    assert np.allclose(blend_linear(fg, alpha, bg, mode), want, atol=1e-4)
    assert np.array_equal(bg, kept)
    target = bg.copy()
    assert blend_linear(fg, alpha, target, mode, out=target) is target
    assert np.allclose(target, want, atol=1e-4)


def test_the_acescct_shaper_and_the_keyed_box_match_their_formulas(space: CompSpace) -> None:
    from soundstage.comp.colour import VIDEO, acescct

    rng = np.random.default_rng(1)
    values = np.concatenate([np.exp2(rng.uniform(-20, 10, 3000)), rng.uniform(-0.05, 0.02, 3000)])
    linear = values.astype(np.float32).reshape(-1, 1, 3)
    code = space._cct_code(linear)
    assert np.abs(code.astype(int) - np.rint(np.clip(acescct(linear), 0, 1) * 255)).max() <= 1
    shot = ShotColour.open(space, plate_space="ARRI LogC4")
    fg = rng.integers(0, 256, (36, 64, 3), dtype=np.uint8)
    matte = np.zeros((36, 64), np.uint8)
    matte[5:30, 20:40] = 255
    boxed = shot.keyed(fg, matte=matte)
    assert np.allclose(boxed[5:30, 20:40], space.decode(VIDEO)(fg)[5:30, 20:40]) and not boxed[:5].any()


def test_an_elements_motion_blur_keeps_its_light_in_a_managed_comp(space: CompSpace) -> None:
    """An opaque dark element with a small white lamp in it, moving 16 px a frame: smeared in linear light the
    lamp's light stays bright along its streak; smeared on display code values it greys out."""
    from soundstage.comp.colour import motion_blurred
    from soundstage.comp.light import motion_blur

    height, width = 72, 128

    def frame(x: int) -> np.ndarray:
        rgba = np.zeros((height, width, 4), np.uint8)
        rgba[20:52, x:x + 48] = (20, 20, 20, 255)
        rgba[34:38, x + 22:x + 26] = (255, 255, 255, 255)
        return rgba

    now, before = frame(48), frame(32)
    on_display = motion_blur(now, before, shutter=1.0)
    in_linear = motion_blurred(space, now, before, shutter=1.0)
    assert in_linear.dtype == np.uint8 and in_linear.shape == now.shape
    streak = (slice(35, 37), slice(66, 78))      # along the lamp's path, around where it is now
    assert on_display[streak][..., :3].mean() < 90
    assert in_linear[streak][..., :3].mean() > 150
    # the same coverage either way (to the 8-bit path's rounding in its repeated remaps)
    assert np.abs(in_linear[..., 3].astype(int) - on_display[..., 3]).max() <= 5
    assert np.abs(in_linear[24:30, 60:90, :3].astype(int) - 20).max() <= 3   # the dark body stays dark
    # and so in a managed shot's comp: the streak, seen through the view, is bright
    from soundstage.comp.shot import Element, Look

    shot = ShotColour.open(space, plate_space="Rec.709")
    dark = np.full((height, width, 3), 10, np.uint8)
    comp = ShotComp.prepare(width=width, height=height, frames=2, background=lambda i: dark, managed=shot,
                            elements=[Element("lamp", lambda i: frame(32 + 16 * i))],
                            look=Look(motion_blur=1.0, grain=False))
    assert comp.comp_frame(1)[0][streak].mean() > 150
