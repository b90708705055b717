"""The plate tracker against plates whose camera is known: small synthetic green screens with markers.

The plates come from the accuracy benchmark's own renderer (``benchmarks/track_accuracy.py``) at 320×180, a
few frames each, so what is tested here is what is measured there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from soundstage.comp.track import Track, project, track_plate
from soundstage.comp.trackfile import HEADER, read_track, write_track
from soundstage.errors import MediaError
from soundstage.media import VideoWriter, write_png
from soundstage.pipeline.track import frame_list
from test_cli import soundstage

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import track_accuracy as bench

W, H = 320, 180


def plate(name: str, frames: int = 8) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray] | None]:
    return bench.render(next(p for p in bench.PLATES if p.name == name), frames, W, H)


def error(track: Track, truth: list[np.ndarray]) -> dict[str, float]:
    return bench.errors(track.homographies, truth, W, H)


@pytest.mark.parametrize("name", ["pan-tilt-roll", "zoom-out-pan", "handheld-hard", "dolly-stage"])
def test_the_solved_camera_puts_set_points_where_the_true_camera_does(name: str) -> None:
    pictures, truth, _ = plate(name)
    track = track_plate(pictures)
    measured = error(track, truth)
    assert measured["rms"] < 0.05 and measured["max"] < 0.2, measured
    assert track.unsolved == () and track.jumps == ()
    assert track.confidence.min() > 0.5
    assert track.homographies.shape == (8, 3, 3) and np.allclose(track.homographies[0], np.eye(3))


def test_a_moving_textured_actor_does_not_pull_the_solve_and_covered_markers_are_survived() -> None:
    pictures, truth, mattes = plate("handheld-actor")
    assert mattes is not None and all((m > 127).mean() > 0.1 for m in mattes)   # the actor covers markers
    track = track_plate(pictures, mattes=mattes)
    measured = error(track, truth)
    assert measured["rms"] < 0.05 and measured["max"] < 0.2, measured
    assert track.unsolved == ()


def test_the_actor_matte_can_be_a_callable_of_the_frame() -> None:
    pictures, truth, mattes = plate("pan-actor", frames=5)
    assert mattes is not None
    seen: list[int] = []

    def matte(index: int, frame: np.ndarray) -> np.ndarray:
        seen.append(index)
        return mattes[index]

    track = track_plate(pictures, mattes=matte)
    assert seen == [0, 1, 2, 3, 4]
    assert error(track, truth)["max"] < 0.2


def test_auto_picks_the_simplest_model_the_shot_needs_and_says_why() -> None:
    pictures, _, _ = plate("zoom-in", frames=5)
    zoom = track_plate(pictures)
    assert zoom.model == "similarity" and zoom.reason.startswith("similarity: lowest BIC")
    assert np.allclose(zoom.homographies[:, 2, :2], 0)      # a similarity: no perspective row
    pictures, _, _ = plate("pan-tilt-roll", frames=5)
    assert track_plate(pictures).model == "homography"
    flat_shift = [np.roll(pictures[0], (0, 3 * i), axis=(0, 1)) for i in range(4)]
    shift = track_plate(flat_shift)
    assert shift.model == "translation", shift.reason
    assert np.allclose(shift.homographies[3][:2, 2], (9, 0), atol=0.05)
    assert track_plate(pictures, model="similarity").model == "similarity"


def test_a_flat_plate_has_nothing_to_track_and_its_frames_are_named() -> None:
    pictures, _, _ = plate("pan-right", frames=6)
    flat = np.full_like(pictures[0], (40, 170, 60))
    nothing = track_plate([flat] * 4)
    assert nothing.unsolved == (0, 1, 2, 3) and not nothing.confidence.any()
    partly = track_plate([*pictures[:3], flat, flat, pictures[5]])
    assert partly.unsolved == (3, 4)
    assert np.array_equal(partly.homographies[3], partly.homographies[2])    # held, not invented
    assert partly.confidence[3] == 0 and partly.confidence[5] > 0.5
    assert frame_list(partly.unsolved) == "3-4" and frame_list([0, 1, 2, 5, 7, 8]) == "0-2, 5, 7-8"


def test_a_camera_that_leaps_is_flagged_as_a_jump() -> None:
    pictures, _, _ = plate("pan-right", frames=10)
    leap = [*pictures[:6], *(np.roll(p, 25, axis=1) for p in pictures[6:])]
    track = track_plate(leap)
    assert track.jumps == (6,)


def test_frames_of_another_size_are_refused_in_one_line() -> None:
    pictures, _, _ = plate("pan-right", frames=2)
    with pytest.raises(MediaError, match=r"^frame 1 is 160x90, the plate's first is 320x180$"):
        track_plate([pictures[0], pictures[1][::2, ::2]])


def _track(name: str = "pan-tilt-roll") -> tuple[Track, list[np.ndarray]]:
    pictures, truth, _ = plate(name, frames=5)
    return track_plate(pictures), truth


def test_csv_round_trip_keeps_every_homography(tmp_path: Path) -> None:
    track, _ = _track()
    write_track(tmp_path / "t.csv", track)
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines[0] == "frame,h00,h01,h02,h10,h11,h12,h20,h21,h22,confidence" == ",".join(HEADER)
    assert len(lines) == 6 and lines[1].startswith("0,1.0,0.0,0.0,0.0,1.0,0.0,0.0,0.0,1.0,")
    back = read_track(tmp_path / "t.csv")
    assert np.allclose(back.homographies, track.homographies, atol=1e-12)
    assert np.allclose(back.confidence, track.confidence, atol=1e-4)


def test_chan_round_trip_is_exact_for_a_nodal_camera_with_the_assumed_lens(tmp_path: Path) -> None:
    truth = np.array(bench.PLATES[4].camera(5, W, H, 0))      # pan, tilt and roll of a nodal camera, focal 1.2 W
    track = Track(truth, np.ones(5), "homography", "truth", (), ())
    write_track(tmp_path / "t.chan", track, width=W, height=H, focal_mm=1.2 * 24.89, filmback_mm=24.89)
    first, last = (tmp_path / "t.chan").read_text().splitlines()[::4]
    assert first.split()[:4] == ["1", "0", "0", "0"] and len(last.split()) == 8
    assert [round(float(v), 6) for v in last.split()[4:7]] == [-3.0, 4.0, -5.0]    # degrees: tilt, pan, roll
    back = read_track(tmp_path / "t.chan", width=W, height=H)
    assert np.abs(back.homographies - truth).max() < 1e-6


def test_chan_columns_are_frame_translate_rotate_and_the_vertical_fov_in_degrees(tmp_path: Path) -> None:
    """The 8th column is the vertical field of view in degrees ("FRAME TX TY TZ RX RY RZ VFOV", Foundry's
    nukescripts.import_boujou; Blender's chan add-on writes degrees(camera.angle_y)), not a focal length."""
    track = Track(np.repeat(np.eye(3)[None], 2, axis=0), np.ones(2), "homography", "still", (), ())
    write_track(tmp_path / "t.chan", track, width=1920, height=1080)            # 35 mm on Super 35 (24.89 mm)
    cells = (tmp_path / "t.chan").read_text().splitlines()[0].split("\t")
    assert cells[:4] == ["1", "0", "0", "0"] and [float(v) for v in cells[4:7]] == [0.0, 0.0, 0.0]
    focal_px = 35.0 / 24.89 * 1920
    assert abs(float(cells[7]) - np.degrees(2 * np.arctan(540 / focal_px))) < 1e-6      # ~22.6°, not 35 (mm)
    (tmp_path / "wide.chan").write_text("1 0 0 0 0 0 0 60\n2 0 0 0 0 0 0 30\n")     # a 2× zoom in, by the FOV
    zoom = read_track(tmp_path / "wide.chan", width=1920, height=1080).homographies[1]
    expected = np.tan(np.radians(30)) / np.tan(np.radians(15))
    assert abs(zoom[0, 0] - expected) < 1e-9 and abs(zoom[1, 1] - expected) < 1e-9


def test_a_2d_point_track_gives_the_camera(tmp_path: Path) -> None:
    truth = bench.PLATES[4].camera(5, W, H, 0)
    points = np.array([[40, 30], [280, 25], [300, 160], [30, 150.0]])
    body = ["frame,a_x,a_y,b_x,b_y,c_x,c_y,d_x,d_y"]
    for i, h in enumerate(truth):
        seen = project(h, points)
        body.append(",".join([str(101 + i), *(f"{v:.5f}" for v in seen.ravel())]))
    body[3] = body[3].rsplit(",", 2)[0] + ",,"                 # frame 102: point d not seen (3 left: a similarity)
    (tmp_path / "points.csv").write_text("\n".join(body) + "\n")
    back = read_track(tmp_path / "points.csv")
    assert back.model == "homography" and back.frames == 5
    assert np.abs(back.homographies[4] - truth[4]).max() < 1e-4
    assert np.allclose(back.homographies[2][2, :2], 0)


@pytest.mark.parametrize(("name", "text", "said"), [
    ("t.csv", "frame,h00,h01,h02,h10,h11,h12,h20,h21,h22,confidence\n0,1,0,0,0,1,0,0,0,1,1\n1,1,0,0,0,1\n",
     "t.csv:3: 6 fields, 11 expected"),
    ("t.csv", "frame,h00,h01,h02,h10,h11,h12,h20,h21,h22,confidence\n0,1,0,0,0,1,0,0,0,1,1\n1,1,0,x,0,1,0,0,0,1,1\n",
     "t.csv:3: h02 is not a number: 'x'"),
    ("t.csv", "frame,h00,h01,h02,h10,h11,h12,h20,h21,h22,confidence\n0,1,0,0,0,1,0,0,0,1,1\n0,1,0,0,0,1,0,0,0,1,1\n",
     "t.csv:3: frame 0 does not follow frame 0"),
    ("p.csv", "frame,x,y\n1,2,3\n2,4,\n", "p.csv:3: point 1 has only one of x and y"),
    ("p.csv", "when,x\n", "p.csv:1: the header must be"),
    ("t.chan", "1 0 0 0 0 0 0 40\n2 0 0 0 0 nan 0 40\n", "t.chan:2: ry is not finite: 'nan'"),
    ("t.chan", "1 0 0 0 0 0 0 40\n\n3 0 0 0\n", "t.chan:3: 4 fields: frame tx ty tz rx ry rz [vfov] expected"),
    ("t.chan", "1 0 0 0 0 0 0 400\n", "t.chan:1: vfov 400.0 is not an angle between 0 and 180 degrees"),
])
def test_a_malformed_track_file_is_refused_with_its_path_and_line(tmp_path: Path, name: str, text: str,
                                                                   said: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(MediaError) as caught:
        read_track(tmp_path / name, width=W, height=H)
    assert str(caught.value).startswith(f"{tmp_path / said}"), str(caught.value)
    assert "\n" not in str(caught.value)


# --- soundstage track ------------------------------------------------------------------------------------------

def _clip(path: Path, pictures: list[np.ndarray]) -> Path:
    with VideoWriter(path, width=W, height=H, fps=24, crf=12) as writer:
        for picture in pictures:
            writer.write(picture)
    return path


def test_track_command_writes_the_csv_and_prints_json(tmp_path: Path) -> None:
    pictures, truth, _ = plate("handheld", frames=6)
    clip = _clip(tmp_path / "plate.mp4", pictures)
    result = soundstage("track", clip, "-o", tmp_path / "track.csv", "--json")
    assert result.returncode == 0, result.stderr
    told = json.loads(result.stdout)
    assert told["model"] == "homography" and told["unsolved"] == [] and told["jumps"] == []
    assert [row["frame"] for row in told["frames"]] == [0, 1, 2, 3, 4, 5]
    written = read_track(tmp_path / "track.csv")
    assert np.allclose([[r[k] for k in HEADER[1:10]] for r in told["frames"]],
                       written.homographies.reshape(6, 9))
    assert bench.errors(written.homographies, truth, W, H)["rms"] < 0.3     # through H.264: still sub-pixel
    chan = soundstage("track", clip, "-o", tmp_path / "track.chan")
    assert chan.returncode == 0 and "tracked 6 frames" in chan.stdout, chan.stderr
    assert len((tmp_path / "track.chan").read_text().splitlines()) == 6


def test_track_command_refuses_in_one_line(tmp_path: Path) -> None:
    flat = np.full((H, W, 3), (40, 170, 60), np.uint8)
    clip = _clip(tmp_path / "flat.mp4", [flat] * 4)
    nothing = soundstage("track", clip, "-o", tmp_path / "t.csv")
    assert nothing.returncode == 2
    assert nothing.stderr.strip().startswith(f"error: {clip}: nothing to track in frames 0-3")
    assert len(nothing.stderr.strip().splitlines()) == 1 and not (tmp_path / "t.csv").exists()
    (tmp_path / "bad.mp4").write_text("not a movie")
    bad = soundstage("track", tmp_path / "bad.mp4", "-o", tmp_path / "t.csv")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "bad.mp4" in bad.stderr
    model = soundstage("track", clip, "-o", tmp_path / "t.csv", "--model", "affine")
    assert model.returncode == 2 and "--model must be auto, translation, similarity or homography" in model.stderr
    suffix = soundstage("track", clip, "-o", tmp_path / "t.txt")
    assert suffix.returncode == 2 and "a track is written as .csv or .chan" in suffix.stderr
    write_png(tmp_path / "still.png", flat)
    still = soundstage("track", tmp_path / "still.png", "-o", tmp_path / "t.csv")
    assert still.returncode == 2
    assert still.stderr.strip() == f"error: {tmp_path / 'still.png'}: is a still: a camera move needs a clip"


# --- a shot's track take ---------------------------------------------------------------------------------------

def _tracked_film(root: Path, pictures: list[np.ndarray], camera: str) -> tuple[object, object]:
    from soundstage.pipeline import breakdown_project
    from soundstage.project import Project
    from tiny_film import make_tiny, shots_toml

    make_tiny(root)
    with VideoWriter(root / "plates" / "actor.mp4", width=192, height=108, fps=12, crf=12) as writer:
        for picture in pictures:
            writer.write(picture)
    (root / "shots.toml").write_text(shots_toml().replace('elements = []', f'elements = []\ncamera = {camera}', 1))
    project = Project.load(root)
    return project, next(s for s in breakdown_project(project).shots if s.id == "1-1")


def test_a_shots_track_is_solved_once_cached_and_shown_in_plan(tmp_path: Path) -> None:
    from soundstage.pipeline.track import plan_lines, shot_track, shot_track_take

    pictures, truth, _ = bench.render(bench.PLATES[7], 12, 192, 108)
    project, shot = _tracked_film(tmp_path / "film", pictures, '{ track = "auto" }')
    take = shot_track_take(project, shot)
    assert take is not None and list(plan_lines([take])) == ["track 1-1: auto, to solve"]
    told: list[str] = []
    track = shot_track(project, shot, warn=told.append)
    assert track is not None and told == [] and take.cached
    assert take.path.parent == project.state_dir / "tracks"
    assert bench.errors(track.homographies, truth, 192, 108)["rms"] < 1.0     # a 192×108 plate: few markers
    planned = soundstage("plan", tmp_path / "film", "--json")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["tracks"] == [{"shot": "1-1", "track": "auto", "cached": True}]
    again = shot_track(project, shot)                  # read back from the take, not solved again
    assert again is not None and np.allclose(again.homographies, track.homographies)


def test_a_tracked_shot_renders_and_its_record_names_the_tracks_frames(tmp_path: Path) -> None:
    from soundstage.pipeline import render_project
    from soundstage.records.shot import read_shot_record

    pictures, _, _ = bench.render(bench.PLATES[7], 12, 192, 108)
    pictures[5] = np.full_like(pictures[5], (40, 170, 60))          # a frame with nothing to track
    project, _ = _tracked_film(tmp_path / "film", pictures, '{ track = "auto" }')
    report = render_project(project)
    assert not report.failed, report.failed
    assert len(list((project.state_dir / "tracks").glob("*-auto.csv"))) == 1
    record = read_shot_record(project, "1-1")
    assert record is not None and 5 in record.track_unsolved


def test_a_flat_plate_is_refused_unless_the_shot_is_locked_off(tmp_path: Path) -> None:
    from soundstage.pipeline.track import first_frame_problem, shot_track

    flat = [np.full((108, 192, 3), (40, 170, 60), np.uint8)] * 12
    project, shot = _tracked_film(tmp_path / "film", flat, '{ track = "auto" }')
    before = first_frame_problem(project, shot)          # preflight: refused before anything is generated
    assert before is not None and "shot 1-1" in str(before) and "camera.locked = true" in str(before)
    planned = soundstage("plan", tmp_path / "film")
    assert planned.returncode == 2 and "nothing to track in frame 0" in planned.stderr, planned.stderr
    with pytest.raises(MediaError) as caught:
        shot_track(project, shot)
    said = str(caught.value)
    assert "shot 1-1" in said and "nothing to track in frames 0-11" in said and "camera.locked = true" in said
    project, shot = _tracked_film(tmp_path / "locked", flat, '{ track = "auto", locked = true }')
    assert first_frame_problem(project, shot) is None
    told: list[str] = []
    assert shot_track(project, shot, warn=told.append) is None
    assert told == ["shot 1-1: nothing to track in frames 0-11: no markers or texture on the screen; "
                    "rendered locked-off (camera.locked)"]


def test_a_track_file_outside_the_project_or_missing_is_a_preflight_problem(tmp_path: Path) -> None:
    from soundstage.pipeline.track import check_mode

    root = tmp_path / "film"
    root.mkdir()
    (root / "cam.chan").write_text("1 0 0 0 0 0 0 40\n")
    assert check_mode("cam.chan", root) == "cam.chan" and check_mode("auto", root) == "auto"
    with pytest.raises(Exception, match="outside the project"):
        check_mode("../cam.chan", root)
    with pytest.raises(Exception, match="does not exist"):
        check_mode("gone.csv", root)


def test_the_keys_specks_are_markers_not_the_actor() -> None:
    from soundstage.pipeline.track import actor_only

    matte = np.zeros((180, 320), np.uint8)
    matte[40:170, 100:160] = 255                     # the actor
    for x in range(10, 320, 30):                     # markers the key holds, as it holds anything off-screen
        matte[10:14, x:x + 4] = 255
    kept = actor_only(matte)
    assert (kept[40:170, 100:160] == 255).all() and kept[:20].max() == 0


def test_a_cached_track_keeps_its_unsolved_frames_and_jumps_for_the_shot_record(tmp_path: Path) -> None:
    from soundstage.records.shot import ShotRecord

    pictures, _, _ = plate("pan-right", frames=10)
    flat = np.full_like(pictures[0], (40, 170, 60))
    leap = [*pictures[:4], flat, *(np.roll(p, 25, axis=1) for p in pictures[5:])]
    track = track_plate(leap)
    assert track.unsolved == (4,) and track.jumps == (5,)
    write_track(tmp_path / "t.csv", track)
    back = read_track(tmp_path / "t.csv", width=W, height=H)
    assert (back.unsolved, back.jumps) == (track.unsolved, track.jumps)
    record = ShotRecord("1-1", "1", 10, 24.0, W, H, "plates/a.mp4", 1.0, 0.0, 0.0, (), None,
                        track_unsolved=back.unsolved, track_jumps=back.jumps)
    again = ShotRecord.from_dict(json.loads(record.to_json()))
    assert again == record and again.track_jumps == (5,)


def test_with_a_lens_model_the_camera_is_solved_in_undistorted_pixels() -> None:
    pictures, truth, _ = plate("pan-tilt-roll", frames=4)
    scale = np.diag([2.0, 2.0, 1.0])            # a stand-in "undistortion": every pixel twice as far out
    track = track_plate(pictures, undistort=lambda points: points * 2.0)
    grid = np.array([[20, 20], [300, 20], [300, 160], [20, 160], [160, 90.0]]) * 2.0
    for mine, true in zip(track.homographies, truth, strict=True):
        expected = scale @ true @ np.linalg.inv(scale)
        assert np.abs(project(mine, grid) - project(expected, grid)).max() < 0.1    # undistorted px (2× here)


def test_a_plate_file_is_tracked_with_its_own_key_keeping_the_actor_out(tmp_path: Path) -> None:
    from soundstage.pipeline.track import actor_mattes, track_source

    pictures, truth, mattes = plate("handheld-actor")
    assert mattes is not None
    keyed = actor_mattes()(0, pictures[0])
    assert keyed is not None
    actor = mattes[0] > 127
    assert (keyed[actor] == 255).mean() > 0.99 and (keyed[~actor] == 255).mean() < 0.01   # the actor, no markers
    track, info = track_source(_clip(tmp_path / "actor.mp4", pictures))
    assert (info.width, info.height) == (W, H) and track.unsolved == ()
    assert error(track, truth)["rms"] < 0.3


def test_a_markerless_screen_has_nothing_to_track_even_in_its_grain() -> None:
    rng = np.random.default_rng(5)
    light = np.linspace(0.8, 1.0, W, dtype=np.float32)[None, :, None]
    screens = [np.clip(np.array([40, 170, 60], np.float32) * light + rng.normal(0, 1.8, (H, W, 3)), 0, 255)
               .astype(np.uint8) for _ in range(4)]
    assert track_plate(screens).unsolved == (0, 1, 2, 3)      # sensor noise is not texture: no camera from it


def test_a_camera_track_setting_that_is_neither_a_mode_nor_a_file_is_refused_in_one_line(tmp_path: Path) -> None:
    from tiny_film import make_tiny, shots_toml

    make_tiny(tmp_path / "film")
    (tmp_path / "film" / "shots.toml").write_text(
        shots_toml().replace("elements = []", 'elements = []\ncamera = { track = "wobble" }', 1))
    planned = soundstage("plan", tmp_path / "film")
    assert planned.returncode == 2
    assert planned.stderr.strip().endswith("shot 1-1: camera.track: must be off, auto, translation, similarity, "
                                           "homography, or a .csv or .chan file inside the project, not 'wobble'")


def test_a_shot_can_take_its_camera_from_a_chan_file_in_the_project(tmp_path: Path) -> None:
    from soundstage.pipeline.track import plan_lines, shot_track, shot_track_take

    truth = np.array(bench.PLATES[4].camera(12, 192, 108, 0))
    pictures, _, _ = bench.render(bench.PLATES[4], 12, 192, 108)
    project, shot = _tracked_film(tmp_path / "film", pictures, '{ track = "cam/shot.chan" }')
    (tmp_path / "film" / "cam").mkdir()
    write_track(tmp_path / "film" / "cam" / "shot.chan", Track(truth, np.ones(12), "homography", "", (), ()),
                width=192, height=108, focal_mm=1.2 * 24.89)
    take = shot_track_take(project, shot)
    assert take is not None and list(plan_lines([take])) == ["track 1-1: cam/shot.chan, cached"]
    track = shot_track(project, shot)
    assert track is not None and np.abs(track.homographies - truth).max() < 1e-6


def test_a_first_render_decodes_its_plate_once_and_matches_a_re_render_from_the_cached_track(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from soundstage.media import read_frames
    from soundstage.pipeline import render_project
    from soundstage.pipeline import shot as shot_stage
    from soundstage.records.shot import record_path

    pictures, _, _ = bench.render(bench.PLATES[7], 12, 192, 108)
    project, _ = _tracked_film(tmp_path / "film", pictures, '{ track = "auto" }')
    opened: list[Path] = []

    def counted(path: Path, **options: int) -> object:
        opened.append(Path(path).name)
        return read_frames(path, **options)

    monkeypatch.setattr(shot_stage, "read_frames", counted)
    assert not render_project(project, shots=["1-1"]).failed
    assert "actor.mp4" not in opened, "the comp took the frames the solve decoded"
    movie = project.out_dir / "shots" / "1-1.mp4"
    first = [frame.astype(int) for frame in read_frames(movie)]
    movie.unlink()
    record_path(project, "1-1").unlink()
    assert not render_project(project, shots=["1-1"]).failed      # the track read back from its take
    assert "actor.mp4" in opened
    again = [frame.astype(int) for frame in read_frames(movie)]
    assert len(first) == len(again) == 12
    assert max(np.abs(a - b).max() for a, b in zip(first, again, strict=True)) == 0
