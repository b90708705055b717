"""Honest tags: the review H.264 and ProRes say BT.709 and are encoded by the BT.709 matrix; EXR masters
declare their space; ``soundstage probe`` prints it all."""

from __future__ import annotations

import sys
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from soundstage.cli import app
from soundstage.media import ProResWriter, VideoWriter, write_exr
from soundstage.media.exr import ExrSpace, exr_space, read_exr
from soundstage.media.video import colour_tags

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from colour_pipeline import chart_xyz, delta_e, patches, read_patches, srgb_code_to_xyz

SIZE = 16


def chart_code() -> np.ndarray:
    """The chart as 8-bit sRGB display code values, 64×96."""
    import colour

    rgb = colour.XYZ_to_RGB(chart_xyz(), colour.RGB_COLOURSPACES["sRGB"], apply_cctf_encoding=True)
    return np.rint(np.clip(patches(rgb, SIZE), 0, 1) * 255).astype(np.uint8)


def _decoded_by(path: Path, kr: float, kb: float) -> np.ndarray:
    """The first frame's Y'CbCr turned to RGB by the matrix ``kr``/``kb`` (limited range), as a player does."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        planes = [np.frombuffer(memoryview(p), np.uint8).reshape(p.height, p.line_size)[:, : p.width]
                  for p in frame.planes]
    y = (planes[0].astype(np.float64) - 16) / 219
    cb, cr = ((np.repeat(np.repeat(p, 2, 0), 2, 1).astype(np.float64) - 128) / 224 for p in planes[1:])
    kg = 1 - kr - kb
    r = y + 2 * (1 - kr) * cr
    b = y + 2 * (1 - kb) * cb
    g = (y - kr * r - kb * b) / kg
    return np.clip(np.dstack([r, g, b]), 0, 1)


def test_review_h264_is_tagged_and_encoded_bt709(tmp_path: Path) -> None:
    code = chart_code()
    path = tmp_path / "chart.mp4"
    with VideoWriter(path, width=code.shape[1], height=code.shape[0], fps=24) as writer:
        for _ in range(3):
            writer.write(code)
    tags = colour_tags(path)
    assert (tags.primaries, tags.transfer, tags.matrix, tags.range) == ("bt709", "bt709", "itu709", "mpeg")
    sent = srgb_code_to_xyz(read_patches(code.astype(np.float64) / 255, SIZE))
    seen = srgb_code_to_xyz(read_patches(_decoded_by(path, 0.2126, 0.0722), SIZE))
    assert delta_e(sent, seen).max() < 2.0
    # the old BT.601 encoding, read by the BT.709 matrix a player uses for HD, shifted the chart by more
    wrong = srgb_code_to_xyz(read_patches(_decoded_by(path, 0.299, 0.114), SIZE))
    assert delta_e(sent, wrong).max() > 2.0


def test_prores_master_is_tagged_bt709(tmp_path: Path) -> None:
    code = chart_code()
    path = tmp_path / "chart.mov"
    with ProResWriter(path, width=code.shape[1], height=code.shape[0], fps=24) as writer:
        writer.write(code)
    tags = colour_tags(path)
    assert (tags.primaries, tags.transfer, tags.matrix, tags.range) == ("bt709", "bt709", "itu709", "mpeg")
    from soundstage.media import read_frames

    back = next(iter(read_frames(path)))
    assert np.abs(back.astype(int) - code).max() <= 2


def test_exr_declares_its_space_and_keeps_values_over_one(tmp_path: Path) -> None:
    pytest.importorskip("OpenEXR")
    linear = np.full((4, 6, 3), 7.25, np.float32)
    acescg = ExrSpace("ACEScg", "lin_ap1_scene", (0.713, 0.293, 0.165, 0.830, 0.128, 0.044, 0.32168, 0.33767))
    write_exr(tmp_path / "hot.exr", linear, space=acescg)
    header = exr_space(tmp_path / "hot.exr")
    assert header["colorInteropID"] == "lin_ap1_scene" and header["oiio:ColorSpace"] == "ACEScg"
    assert np.allclose(header["chromaticities"], acescg.chromaticities, atol=1e-6)
    assert read_exr(tmp_path / "hot.exr").max() == pytest.approx(7.25)
    write_exr(tmp_path / "still.exr", np.full((4, 6, 3), 200, np.uint8))
    assert exr_space(tmp_path / "still.exr")["colorInteropID"] == "lin_rec709_scene"


def test_probe_prints_a_files_tags(tmp_path: Path) -> None:
    code = chart_code()
    path = tmp_path / "chart.mp4"
    with VideoWriter(path, width=code.shape[1], height=code.shape[0], fps=24) as writer:
        writer.write(code)
    result = CliRunner().invoke(app, ["probe", str(path)])
    assert result.exit_code == 0
    assert f"{path}: primaries: bt709" in result.output and f"{path}: matrix: itu709" in result.output
    missing = CliRunner().invoke(app, ["probe", str(tmp_path / "none.mp4")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def _untagged_h264(path: Path, rgb: np.ndarray, matrix: str) -> None:
    """An H.264 as a phone or an old encoder writes it: Y'CbCr made by ``matrix``, no colour tags at all."""
    from av.video.reformatter import ColorRange, Colorspace

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "yuv420p"
        stream.options = {"crf": "1"}
        for _ in range(2):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
                format="yuv420p", dst_colorspace=getattr(Colorspace, matrix), dst_color_range=ColorRange.MPEG)
            frame.colorspace, frame.color_range = 2, 0       # unspecified: nothing says which matrix
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


@pytest.mark.parametrize(("height", "matrix"), [(720, "ITU709"), (360, "ITU601")])
def test_untagged_h264_plate_is_decoded_as_players_do(tmp_path: Path, height: int, matrix: str) -> None:
    """Untagged, an HD plate is BT.709 and an SD one BT.601 (what players assume); a saturated red and
    green tell the two matrices apart by some 20 levels."""
    from soundstage.media import read_frames

    rgb = np.zeros((height, 64 * height // 36 // 2 * 2, 3), np.uint8)
    rgb[:, : rgb.shape[1] // 2] = (220, 30, 40)
    rgb[:, rgb.shape[1] // 2:] = (40, 200, 60)
    path = tmp_path / f"untagged_{height}.mp4"
    _untagged_h264(path, rgb, matrix)
    assert colour_tags(path).matrix.startswith("unknown")
    back = next(iter(read_frames(path)))
    inner = (slice(8, -8), np.r_[8: rgb.shape[1] // 2 - 8, rgb.shape[1] // 2 + 8: rgb.shape[1] - 8])
    assert np.abs(back[inner].astype(int) - rgb[inner]).max() <= 3
    from soundstage.media.video import assumed_matrix

    said = assumed_matrix(path)
    assert (said is not None) == (height >= 720)
    if said:
        assert "BT.709" in said


def test_every_example_plate_names_its_matrix() -> None:
    """The example's plates were converted to Y'CbCr by BT.601 and said nothing: read as untagged HD (BT.709)
    their colours shifted and the demo warned on every plate. Each now names the matrix it was made with."""
    from soundstage.media.video import assumed_matrix

    plates = sorted((Path(__file__).parents[2] / "examples" / "moonlit-hanok" / "plates").glob("*.mp4"))
    assert len(plates) >= 7
    assert {plate.name: assumed_matrix(plate) for plate in plates} == {plate.name: None for plate in plates}
    assert {colour_tags(plate).matrix for plate in plates} == {"itu601"}
