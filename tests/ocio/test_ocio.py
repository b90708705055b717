"""comp/colour.py against OpenColorIO itself: names, prepared conversions, the inverse view, the CDL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soundstage.comp.colour import CompSpace, ShotColour, comp_space, load_config, plate_tag_warning, resolve
from soundstage.comp.grade import Cdl
from soundstage.errors import ColourError, MediaError


@pytest.fixture(scope="module")
def space() -> CompSpace:
    return comp_space()


@pytest.mark.parametrize(("said", "name"), [
    ("LogC3", "ARRI LogC3 (EI800)"), ("ARRI LogC4", "ARRI LogC4"), ("S-Log3", "S-Log3 S-Gamut3.Cine"),
    ("Canon Log 2", "CanonLog2 CinemaGamut D55"), ("Canon Log 3", "CanonLog3 CinemaGamut D55"),
    ("acescg", "ACEScg"), ("slog3_sgamut3", "S-Log3 S-Gamut3"), ("Rec.709", "Camera Rec.709"),
])
def test_camera_encodings_are_known_by_the_names_crews_use(space: CompSpace, said: str, name: str) -> None:
    assert resolve(space.config, said) == name


def test_an_unknown_space_names_the_close_ones(space: CompSpace) -> None:
    with pytest.raises(ColourError, match=r"'ARRI LogC5' is not in the OCIO config .*close: 'ARRI LogC4'"):
        resolve(space.config, "ARRI LogC5", source="ocio://studio-config-latest")


def test_a_broken_config_says_ocios_message_and_its_path(tmp_path: Path) -> None:
    broken = tmp_path / "studio.ocio"
    broken.write_text("ocio_profile_version: 2\nroles: [\n")
    with pytest.raises(ColourError) as caught:
        load_config(str(broken))
    assert str(caught.value).startswith(f"{broken}: is not a usable OCIO config") and "yaml-cpp" in str(caught.value)
    with pytest.raises(ColourError, match="file does not exist"):
        load_config(str(tmp_path / "none.ocio"))


def test_a_working_space_that_is_not_linear_is_refused() -> None:
    with pytest.raises(ColourError, match="'ACEScct' is not scene-linear"):
        CompSpace.open(working="ACEScct")


@pytest.mark.parametrize("camera", ["ARRI LogC4", "S-Log3", "Canon Log 3", "Rec.709"])
def test_prepared_plate_decode_matches_ocio(space: CompSpace, camera: str) -> None:
    code = np.random.default_rng(1).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    exact = space.convert(code.astype(np.float32) / 255, camera, "ACEScg")
    assert np.allclose(space.decode(camera)(code), exact, rtol=1e-4, atol=1e-4)
    wide = (code.astype(np.uint16) * 257)
    assert np.allclose(space.decode(camera)(wide), exact, rtol=1e-4, atol=1e-4)


def test_a_generated_picture_comes_back_out_of_the_view_as_it_was_made() -> None:
    """Through the inverse view, a generated sRGB sky keeps its colour on an sRGB review; taken as a plain
    sRGB texture, the same sky comes out washed out (the view's tone curve and desaturation applied to it)."""
    space = comp_space(display="sRGB - Display")
    rng = np.random.default_rng(2)
    code = rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)
    code[:8] = (70, 130, 220)              # a clear blue sky
    back = space.to_display(space.from_generated(code)).astype(int)
    assert np.abs(back - code).mean() < 1.5 and np.abs(back[:8] - code[:8]).max() <= 3
    texture = space.to_display(space.decode("sRGB")(code)).astype(int)
    assert np.abs(texture[:8] - code[:8]).max() > 15


def test_working_values_above_one_are_float(space: CompSpace) -> None:
    hot = space.decode("ARRI LogC4")(np.full((2, 2, 3), 240, np.uint8))
    assert hot.dtype == np.float32 and hot.min() > 10.0


CDL = """<?xml version="1.0" encoding="UTF-8"?>
<ColorDecisionList xmlns="urn:ASC:CDL:v1.01">
 <ColorDecision><ColorCorrection id="sh010">
  <SOPNode><Slope>1.2 1.0 0.9</Slope><Offset>0.01 0 -0.02</Offset><Power>1.0 1.1 1.0</Power></SOPNode>
  <SatNode><Saturation>0.8</Saturation></SatNode>
 </ColorCorrection></ColorDecision>
</ColorDecisionList>
"""


def test_an_asc_cdl_reads_and_grades_without_clamping(tmp_path: Path) -> None:
    (tmp_path / "sh010.cdl").write_text(CDL)
    cdl = Cdl.read(tmp_path / "sh010.cdl")
    assert (cdl.slope, cdl.offset, cdl.power, cdl.saturation, cdl.id) == \
        ((1.2, 1.0, 0.9), (0.01, 0.0, -0.02), (1.0, 1.1, 1.0), 0.8, "sh010")
    values = np.array([[[0.5, 0.5, 0.5], [2.0, 3.0, 4.0]]], np.float32)
    sop = values * np.float32([1.2, 1.0, 0.9]) + np.float32([0.01, 0.0, -0.02])
    sop[..., 1] **= 1.1
    luma = sop @ np.float32([0.2126, 0.7152, 0.0722])
    assert np.allclose(cdl.apply(values), luma[..., None] + 0.8 * (sop - luma[..., None]), atol=1e-6)
    assert cdl.apply(values).max() > 3.0
    (tmp_path / "one.cc").write_text('<ColorCorrection id="a"><SOPNode><Slope>2 2 2</Slope></SOPNode>'
                                     '</ColorCorrection>')
    assert Cdl.read(tmp_path / "one.cc").slope == (2.0, 2.0, 2.0)


@pytest.mark.parametrize(("text", "said"), [
    ("<ColorCorrection><SOPNode><Slope>1 1</Slope></SOPNode></ColorCorrection>", "its Slope must be 3 numbers"),
    ("<ColorCorrection><SOPNode><Power>1 0 1</Power></SOPNode></ColorCorrection>", "its Power must be above 0"),
    ("<ColorDecisionList/>", "holds no ColorCorrection"),
    ("<ColorCorrection>", "not well-formed XML"),
])
def test_a_bad_cdl_is_one_line_naming_the_file(tmp_path: Path, text: str, said: str) -> None:
    (tmp_path / "bad.cc").write_text(text)
    with pytest.raises(MediaError, match=said) as caught:
        Cdl.read(tmp_path / "bad.cc")
    assert str(caught.value).startswith(str(tmp_path / "bad.cc"))


def test_the_shot_grade_runs_in_the_cdl_space(space: CompSpace) -> None:
    lift = Cdl(offset=(0.1, 0.1, 0.1))
    graded = ShotColour.open(space, plate_space="LogC4", cdl=lift).grade(np.full((1, 1, 3), 0.18, np.float32))
    # +0.1 in ACEScct is +1.75 stops in linear light
    assert graded[0, 0, 0] == pytest.approx(0.18 * 2 ** (0.1 * 17.52), rel=1e-3)
    with pytest.raises(ColourError, match="CDL space 'ACEScctt'"):
        ShotColour.open(space, plate_space="LogC4", cdl=lift, cdl_space="ACEScctt")


def test_a_plate_whose_metadata_disagrees_is_warned_with_both(space: CompSpace) -> None:
    said = plate_tag_warning(space, "LogC4", {"colorInteropID": "lin_ap0_scene"})
    assert said is not None and "lin_ap0_scene" in said and "'ARRI LogC4'" in said
    assert "PQ" in (plate_tag_warning(space, "Rec.709", {"transfer": "smpte2084"}) or "")
    assert plate_tag_warning(space, "Rec.709", {"transfer": "bt709"}) is None


def test_light_wrap_and_over_in_linear_light_keep_values_over_one() -> None:
    from soundstage.comp.light import light_wrap
    from soundstage.comp.over import blend

    fg = np.full((64, 96, 3), 0.2, np.float32)
    bg = np.full((64, 96, 3), 3.0, np.float32)                 # a bright sky behind, three times "white"
    matte = np.zeros((64, 96), np.uint8)
    matte[10:50, 20:70] = 255
    wrapped = light_wrap(fg, matte, bg, radius=4, strength=0.5)
    assert wrapped.dtype == np.float32 and wrapped[10, 20, 0] > 1.0     # the sky's light on the actor's edge
    assert wrapped[30, 45, 0] == pytest.approx(0.2) and wrapped[0, 0, 0] == pytest.approx(0.2)
    comp = blend(wrapped, matte, bg)
    assert comp[0, 0, 0] == pytest.approx(3.0, rel=1e-4) and comp[30, 45, 0] == pytest.approx(0.2, rel=1e-4)
    half = blend(fg, np.full((64, 96), 128, np.uint8), bg, "add")
    assert half[0, 0, 0] == pytest.approx(3.0 + 0.2 * 128 / 255)


def test_a_log_plate_is_keyed_in_its_video_rendition(space: CompSpace) -> None:
    """A green screen recorded in LogC4 is too grey for the keyer to find; keyed in its camera's Rec.709
    rendition it comes out as the video plate would, and the actor enters the comp from there."""
    from soundstage.comp.keyer import measure_screen
    from soundstage.comp.shot import ShotComp

    video = np.zeros((54, 96, 3), np.uint8)
    video[:] = (52, 168, 78)
    video[10:44, 30:60] = (200, 90, 60)                       # the actor
    log = np.rint(np.clip(space.convert(video.astype(np.float32) / 255, "Camera Rec.709", "ARRI LogC4"), 0, 1)
                  * 255).astype(np.uint8)
    with pytest.raises(MediaError, match="no green screen"):
        measure_screen(log, "green")
    log[20:30, 40:50] = 235                                   # a lamp in her hands: far above 1.0 in LogC4
    shot = ShotColour.open(space, plate_space="ARRI LogC4")
    assert np.abs(shot.keyable(log)[:18].astype(int) - video[:18]).max() <= 4
    sky = np.full((54, 96, 3), (70, 130, 220), np.uint8)
    comp = ShotComp.prepare(width=96, height=54, frames=1, background=lambda i: sky, first_plate=log,
                            screen="green", managed=shot)
    display, working, _ = comp.comp_frame(0, log)
    assert working is not None and working.dtype == np.float32
    assert working[25, 45].min() > 4.0, "the lamp keeps its light through the key, clipped by no video curve"
    assert np.abs(display[27, 45].astype(int) - shot.space.to_display(shot.plate(log[27:28, 45:46]))[0, 0]).max() <= 3
    assert np.abs(display[2, 2].astype(int) - space.to_display(space.from_generated(sky[:1, :1]))[0, 0]).max() <= 2


def test_a_faint_white_edge_of_an_element_stays_faint_in_a_managed_comp(space: CompSpace) -> None:
    """Smoke's outer edge is nearly transparent but its straight colour is near white. The inverse view sends
    display white to a scene value of ~100, so taken straight it lit up as a bright fringe around the smoke
    (seen in the example's shot 3-2); taken premultiplied it adds what its alpha says."""
    from soundstage.comp.shot import Element, ShotComp

    night = np.full((36, 64, 3), 12, np.uint8)
    smoke = np.zeros((36, 64, 4), np.uint8)
    smoke[..., :3] = 250
    smoke[:, 32:, 3] = 4                                   # a faint edge: 4 of 255
    comp = ShotComp.prepare(width=64, height=36, frames=1, background=lambda i: night,
                            elements=[Element("smoke", lambda i: smoke)],
                            managed=ShotColour.open(space, plate_space="Rec.709"))
    comp.grain = None
    display, _, _ = comp.comp_frame(0)
    base = int(space.to_display(space.from_generated(night[:1, :1]))[0, 0].max())   # the night on this display
    assert int(display[18, 10].max()) == base, "no smoke, no change"
    # its light, not its code: on the 2.4-gamma display a few light-levels over black are ~10 code values
    assert int(display[18, 50].max()) <= base + 12, "a 4/255 white edge adds a little light over the night"
