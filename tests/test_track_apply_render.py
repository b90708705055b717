"""A tracked shot through the real render: the set follows the plate's solved camera, the shot's lens bends it, and
a bad lens in shots.toml is one line naming the shot. Checked on the encoded movie's pixels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from soundstage.comp.camera import overscan_size
from soundstage.comp.lens import Lens
from soundstage.comp.track import Track
from soundstage.errors import PreflightError, ProjectError
from soundstage.media import read_frames
from soundstage.pipeline import render_project
from soundstage.pipeline.breakdown import breakdown_project
from soundstage.pipeline.shot import render_shot
from soundstage.project import Project
from soundstage.takes import set_slot
from test_comp_render import FPS, H, W, make_project

UNSIGNED = "[provenance]\nsign = false\n"


def render_tracked(root: Path, camera: str, homographies: np.ndarray | None) -> tuple[Project, list[np.ndarray]]:
    """Render shot 1-1 over a dark set with one bright vertical and one bright horizontal line through its middle."""
    extra = f"camera = {camera}\ncomp = {{ grain = 'none' }}\n"
    project = make_project(root, settings_extra=UNSIGNED, shot_extra=extra)
    shot = breakdown_project(project).shots[0]
    sw, sh = overscan_size(W, H)
    still = np.full((sh, sw, 3), 30, np.uint8)
    still[:, sw // 2 - 1: sw // 2 + 1] = 230
    still[sh // 2 - 36: sh // 2 - 34, :] = 230        # above the actor's head, on open screen
    cv2.imwrite(str(root / "set.png"), still)
    track = None if homographies is None else Track(homographies, np.ones(len(homographies)), "homography", "given",
                                                    (), ())
    render_shot(project, shot, {set_slot(shot.set): [root / "set.png"]}, [], "key", lambda done, total: None,
                track=track)
    return project, [frame.astype(int) for frame in read_frames(project.out_dir / "shots" / "1-1.mp4")]


def line_x(frame: np.ndarray) -> float:
    """Where the vertical line crosses the open screen above the actor (rows 20–30), to a fraction of a pixel."""
    profile = frame[20:30, :, 1].mean(axis=0)
    weight = np.clip(profile - 80, 0, None)
    return float((weight * np.arange(W)).sum() / weight.sum())


def test_the_set_follows_the_track_frame_by_frame(tmp_path: Path) -> None:
    frames = FPS
    pan = np.array([[[1, 0, 2.0 * i], [0, 1, 0], [0, 0, 1]] for i in range(frames)], np.float64)
    _, tracked = render_tracked(tmp_path / "tracked", "{ shutter = 90 }", pan)
    start = line_x(tracked[0])
    for index in (3, frames - 1):
        assert abs(line_x(tracked[index]) - (start + 2 * index)) < 0.5, index
    _, still = render_tracked(tmp_path / "still", "{ shutter = 90 }", None)
    assert abs(line_x(still[-1]) - line_x(still[0])) < 0.3, "without a track the set stays put"


def test_the_shots_lens_bends_the_sets_straight_lines(tmp_path: Path) -> None:
    still_camera = np.repeat(np.eye(3)[None], FPS, axis=0)
    _, straight = render_tracked(tmp_path / "straight", "{ shutter = 180 }", still_camera)
    _, bent = render_tracked(tmp_path / "bent", "{ lens = { k1 = -0.3 } }", still_camera)

    def row_of_line(frame: np.ndarray, column: int) -> float:
        profile = frame[:40, column, 1].astype(float)
        weight = np.clip(profile - 80, 0, None)
        return float((weight * np.arange(40)).sum() / weight.sum())

    # the horizontal line lies above the centre: a barrel lens pulls its ends toward the middle (down)
    assert abs(row_of_line(straight[0], 10) - row_of_line(straight[0], W // 2 + 20)) < 0.3
    assert row_of_line(bent[0], 10) - row_of_line(bent[0], W // 2 + 20) > 1.0


def test_a_lens_that_cannot_be_inverted_names_the_shot(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as caught:
        render_tracked(tmp_path, "{ lens = { k1 = -1.5 } }", None)
    message = str(caught.value)
    assert "shots.toml" in message and "shot 1-1" in message and "cannot be inverted" in message
    assert "\n" not in message


def test_a_bad_lens_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    project = make_project(tmp_path, settings_extra=UNSIGNED, shot_extra="camera = { lens = { k1 = -1.5 } }\n")
    with pytest.raises(PreflightError) as caught:
        render_project(project)
    [problem] = caught.value.problems
    assert problem.shot == "1-1" and "cannot be inverted" in str(problem)
    assert not any(project.root.rglob("*.png")), "no take was made"


def test_the_example_handheld_plate_moves_as_its_true_camera_says() -> None:
    """The example's handheld plate against its truth: a tracking marker lands where the true H and the shot's
    lens put it, on the first, middle and last frames (so the set, on the same H and lens, stays with her)."""
    folder = Path(__file__).resolve().parents[1] / "examples" / "moonlit-hanok"
    rows = np.loadtxt(folder / "plates" / "handheld_look_camera.csv", delimiter=",", skiprows=1)
    truth = rows[:, 1:10].reshape(-1, 3, 3)
    lens = Lens.for_frame(1280, 720, k1=-0.06, k2=0.01)          # shot 2-2's camera.lens in shots.toml
    assert "lens = { k1 = -0.06, k2 = 0.01 }" in (folder / "shots.toml").read_text()
    dot = np.array([285.0, 135.0])                                 # a dark marker on frame 0, in straight px
    frames = list(read_frames(folder / "plates" / "handheld_look.mp4"))
    assert len(frames) == len(truth) == 60
    for index in (0, 30, 59):
        h = truth[index]
        seen = h @ [*dot, 1.0]
        expected = lens.distort_points((seen[:2] / seen[2])[None])[0]
        x0, y0 = np.rint(expected).astype(int) - 14
        patch = frames[index][y0: y0 + 29, x0: x0 + 29, 1].astype(float)
        weight = np.clip(np.median(patch) - patch - 20, 0, None)      # darker than the screen around it
        ys, xs = np.mgrid[0:29, 0:29]
        found = np.array([(weight * xs).sum(), (weight * ys).sum()]) / weight.sum() + [x0, y0]
        assert np.hypot(*(found - expected)) < 0.5, (index, found, expected)


def test_the_compare_movie_follows_the_track_like_the_render(tmp_path: Path) -> None:
    """``soundstage comp --compare``: both halves are comped on the shot's solved camera (here its track file),
    so the set's line moves with the plate's pan there as in the render."""
    from soundstage.comp.trackfile import write_track
    from soundstage.pipeline.shot import compare_shot

    root = tmp_path / "film"
    pan = np.array([[[1, 0, 2.0 * i], [0, 1, 0], [0, 0, 1]] for i in range(FPS)], np.float64)
    (root / "cam").mkdir(parents=True)
    write_track(root / "cam" / "pan.csv", Track(pan, np.ones(FPS), "translation", "given", (), ()))
    extra = "camera = { track = 'cam/pan.csv', shutter = 90 }\ncomp = { grain = 'none' }\n"
    project = make_project(root, settings_extra=UNSIGNED, shot_extra=extra)
    shot = breakdown_project(project).shots[0]
    sw, sh = overscan_size(W, H)
    still = np.full((sh, sw, 3), 30, np.uint8)
    still[:, sw // 2 - 1: sw // 2 + 1] = 230
    cv2.imwrite(str(root / "set.png"), still)
    compare_shot(project, shot, {set_slot(shot.set): [root / "set.png"]}, root / "compare.mp4")
    movie = [frame.astype(int) for frame in read_frames(root / "compare.mp4")]
    half = movie[0].shape[1] // 2

    def x_of_line(frame: np.ndarray) -> float:      # above the actor, in the right (integrated) half
        weight = np.clip(frame[10:15, half:, 1].mean(axis=0) - 80, 0, None)
        return float((weight * np.arange(half)).sum() / weight.sum())

    moved = x_of_line(movie[-1]) - x_of_line(movie[0])
    assert abs(moved - (FPS - 1)) < 1.0, moved          # 2 px a frame at full size: 1 px a frame at half
