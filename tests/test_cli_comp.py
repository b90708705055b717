"""`soundstage key` and `soundstage comp` as a user runs them: real files in, straight RGBA out, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from soundstage.media import ProResWriter, read_image, read_rgba_frames, read_sequence, write_png
from test_cli import soundstage
from test_comp_render import H, W, make_project, write_plate


def green_still(path: Path) -> np.ndarray:
    """A red block on a green screen, with a soft 1-px edge; returns its true alpha."""
    alpha = np.zeros((H, W), np.float32)
    alpha[30:80, 60:120] = 1.0
    alpha[29, 60:120] = alpha[80, 60:120] = 0.5
    picture = alpha[..., None] * np.array([200, 60, 50], np.float32) + (1 - alpha[..., None]) * np.array(
        [40, 190, 50], np.float32)
    write_png(path, np.round(picture).astype(np.uint8))
    return alpha


def test_key_a_still_to_straight_rgba(tmp_path: Path) -> None:
    truth = green_still(tmp_path / "plate.png")
    result = soundstage("key", tmp_path / "plate.png", "-o", tmp_path / "keyed.png")
    assert result.returncode == 0, result.stderr
    assert "keyed 1 frame" in result.stdout
    rgba = read_image(tmp_path / "keyed.png")
    assert rgba.shape == (H, W, 4)
    assert np.abs(rgba[..., 3] / 255.0 - truth).mean() < 0.01
    solid = truth == 1
    assert np.abs(rgba[solid][:, :3].astype(int) - (200, 60, 50)).max() <= 3, "straight colour, not premultiplied"
    assert (rgba[truth == 0][:, 3] == 0).all()


def test_key_multiplies_an_input_alpha_into_its_matte_and_says_so(tmp_path: Path) -> None:
    """An RGBA plate (a garbage matte already in its alpha): what the input hid stays hidden, as in a compositor."""
    truth = green_still(tmp_path / "plate.png")
    rgba = read_image(tmp_path / "plate.png")
    hidden = np.full((H, W), 255, np.uint8)
    hidden[:, : W // 2] = 0                                  # the left half matted out by whoever made it
    hidden[:, W // 2: W // 2 + 4] = 128
    write_png(tmp_path / "matted.png", np.dstack([rgba[..., :3], hidden]))
    result = soundstage("key", tmp_path / "matted.png", "-o", tmp_path / "keyed.png")
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stdout.splitlines() if "alpha" in line]
    assert len(said) == 1 and "multiplied" in said[0], result.stdout
    keyed = read_image(tmp_path / "keyed.png")[..., 3].astype(float) / 255
    expected = truth * hidden / 255
    assert np.abs(keyed - expected).mean() < 0.01
    assert keyed[:, : W // 2].max() == 0 and keyed[40:70, 101:115].min() == 1.0
    assert np.abs(keyed[40:70, W // 2: W // 2 + 4] - 128 / 255).max() <= 1 / 255    # multiplied, not cut off


def test_key_multiplies_a_clips_alpha_too(tmp_path: Path) -> None:
    green_still(tmp_path / "plate.png")
    rgb = read_image(tmp_path / "plate.png")[..., :3]
    hidden = np.full((H, W), 255, np.uint8)
    hidden[:, : W // 2] = 0
    with ProResWriter(tmp_path / "matted.mov", width=W, height=H, fps=12) as writer:
        for _ in range(3):
            writer.write(np.dstack([rgb, hidden]))
    result = soundstage("key", tmp_path / "matted.mov", "-o", tmp_path / "keyed.mov")
    assert result.returncode == 0, result.stderr
    assert sum("alpha" in line and "multiplied" in line for line in result.stdout.splitlines()) == 1
    for frame in read_rgba_frames(tmp_path / "keyed.mov"):
        assert frame[:, : W // 2, 3].max() == 0 and frame[40:70, 101:115, 3].min() == 255


@pytest.mark.parametrize("target", ["keyed.mov", "seq/keyed.%04d.png"])
def test_key_a_clip_keeps_the_alpha(tmp_path: Path, target: str) -> None:
    write_plate(tmp_path / "plate.mp4", frames=6)
    result = soundstage("key", tmp_path / "plate.mp4", "-o", tmp_path / target, "--screen", "green")
    assert result.returncode == 0, result.stderr
    frames = list(read_rgba_frames(tmp_path / target) if target.endswith(".mov")
                  else read_sequence(tmp_path / target))
    assert len(frames) == 6
    for index, frame in enumerate(frames):
        alpha = frame[..., 3]
        assert alpha[70, 62 + index + 5] == 255 and alpha[10, 10] == 0
        assert frame[70, 85, 0] > 150 and frame[70, 85, 1] < 110


def test_a_plate_keyed_in_a_project_is_signed_as_captured_and_keyed(tmp_path: Path) -> None:
    project = make_project(tmp_path / "film").root
    write_plate(project / "plates" / "walk.mp4", frames=4)
    result = soundstage("key", project / "plates" / "walk.mp4", "-o", project / "keyed" / "walk.%04d.png",
                        "--screen", "green")
    assert result.returncode == 0, result.stderr
    assert "signed 4 files as film" in result.stdout
    from soundstage.provenance import verify_file

    verdict = verify_file(project / "keyed" / "walk.0001.png")
    assert verdict.ok and [a.action for a in verdict.actions] == ["c2pa.opened", "c2pa.edited"]
    assert verdict.actions[0].digital_source_type.endswith("/digitalCapture")
    assert [(i.title, i.relationship) for i in verdict.ingredients] == [("walk.mp4", "parentOf")]
    assert read_image(project / "keyed" / "walk.0001.png").shape[2] == 4, "still straight RGBA"


@pytest.mark.parametrize(("args", "message"), [
    (("plate.png", "-o", "keyed.mp4"), "PNG"),
    (("clip.mp4", "-o", "keyed.mp4"), "H.264 keeps no alpha"),
    (("wall.png", "-o", "keyed.png"), "no green or blue screen"),
    (("broken.mp4", "-o", "keyed.mov"), "not a readable video"),
    (("missing.mp4", "-o", "keyed.mov"), "no such file"),
    (("plate.png", "-o", "keyed.png", "--screen", "red"), "--screen must be auto, green or blue"),
])
def test_key_refuses_bad_input_in_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    green_still(tmp_path / "plate.png")
    write_plate(tmp_path / "clip.mp4", frames=2)
    write_png(tmp_path / "wall.png", np.full((H, W, 3), 128, np.uint8))
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(3000))
    result = soundstage("key", *args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "keyed.png").exists() and not (tmp_path / "keyed.mov").exists()


def test_comp_renders_one_shot_and_leaves_the_cut(tmp_path: Path) -> None:
    make_project(tmp_path / "film")
    result = soundstage("comp", tmp_path / "film", "--shot", "1-1", "--json")
    assert result.returncode == 0, result.stderr
    steps = {s["step"]: s["status"] for s in json.loads(result.stdout)["steps"]}
    assert steps["shot 1-1"] == "built" and "cut" not in steps
    assert (tmp_path / "film" / "out" / "shots" / "1-1.mp4").is_file()
    assert not (tmp_path / "film" / "out" / "cut.mp4").exists()
    again = soundstage("comp", tmp_path / "film", "--shot", "1-1")
    assert again.returncode == 0 and "built 0, cached 3" in again.stdout, again.stdout   # set, ambience, shot
    unknown = soundstage("comp", tmp_path / "film", "--shot", "9-9")
    assert unknown.returncode == 2 and "no shot '9-9'" in unknown.stderr


def test_a_message_with_brackets_reaches_the_user_whole(tmp_path: Path) -> None:
    film = tmp_path / "film"
    make_project(film)
    write_plate(film / "plates" / "actor.mp4", fps=25)
    result = soundstage("render", film)
    assert result.returncode == 2
    assert "set [plates] rate = 'retime'" in result.stderr, result.stderr   # not eaten as Rich markup


def test_comp_compare_writes_without_and_with_integration_side_by_side(tmp_path: Path) -> None:
    from soundstage.media import probe, read_frames

    film = tmp_path / "film"
    make_project(film, 'comp = { match_colour = 0.8, light_wrap = 0.5, shadow = 1.0, contact = 1.0, relight = 1.0 }\n')
    result = soundstage("comp", film, "--shot", "1-1", "--compare")
    assert result.returncode == 0, result.stderr
    made = film / "out" / "compare" / "1-1.mp4"
    assert "without | with integration" in result.stdout and made.is_file()
    info = probe(made)
    assert (info.width, info.height) == (W // 4 * 4, H // 4 * 2)
    first = next(iter(read_frames(made))).astype(int)
    without, with_ = first[:, : W // 2], first[:, W // 2:]
    assert np.abs(without - with_).mean() > 2, "the integration changes the picture"
    from soundstage.provenance import verify_file

    verdict = verify_file(made)            # signed like the shot it shows: its plate opened, its takes placed
    shot = verify_file(film / "out" / "shots" / "1-1.mp4")
    assert verdict.ok and [a.action for a in verdict.actions] == [a.action for a in shot.actions]
    assert [(i.title, i.relationship) for i in verdict.ingredients] == [(i.title, i.relationship)
                                                                         for i in shot.ingredients]
    assert "c2pa.soft-binding" not in verdict.records, "the side-by-side carries no watermark to bind"
    assert not list(made.parent.glob(".*")), "nothing staged is left beside it"
