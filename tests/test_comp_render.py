"""The comp inside a real render: plates that do not match the project, plates that are not screen shots,
damaged plates, roto shapes, the grade, grain and the finishing masters — each checked on the output's pixels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from soundstage.errors import PreflightError, ProjectError
from soundstage.media import VideoWriter, probe, read_frames, read_rgba_frames, read_sequence
from soundstage.pipeline import render_project
from soundstage.project import Project

W, H, FPS = 192, 108, 12
ACTOR = (slice(40, 100), slice(60, 110))          # where the red block stands on frame 0
SCREEN = (slice(5, 30), slice(5, 40))             # open screen, far from the actor

SCRIPT = "Title: Tiny\n\nEXT. HANOK ROOFTOPS - NIGHT\n\nMIN-JI waits.\n"


def write_plate(path: Path, *, frames: int = FPS, fps: float = FPS, size: tuple[int, int] = (W, H),
                screen: tuple[int, int, int] = (40, 190, 50)) -> None:
    """An 'actor' (a red block, sliding a pixel a frame) on an unevenly lit screen, or on a plain wall."""
    width, height = size
    path.parent.mkdir(parents=True, exist_ok=True)
    ramp = np.linspace(0.8, 1.0, width, dtype=np.float32)[None, :, None]
    backing = (np.array(screen, np.float32) * ramp).repeat(height, 0).astype(np.uint8)
    with VideoWriter(path, width=width, height=height, fps=fps) as writer:
        for index in range(frames):
            frame = backing.copy()
            y0, x0 = height * 40 // H, width * 60 // W
            frame[y0: y0 + height * 60 // H, x0 + index: x0 + index + width * 50 // W] = (200, 60, 50)
            writer.write(frame)


def make_project(root: Path, shot_extra: str = "", settings_extra: str = "") -> Project:
    root.mkdir(parents=True, exist_ok=True)
    (root / "soundstage.toml").write_text(
        f'title = "Tiny"\nscreenplay = "tiny.fountain"\nfps = {FPS}\nresolution = [{W}, {H}]\nseed = 3\n'
        + settings_extra)
    (root / "tiny.fountain").write_text(SCRIPT)
    (root / "shots.toml").write_text('[[shot]]\nid = "1-1"\nscene = "1"\nplate = "plates/actor.mp4"\n'
                                     'duration = 1.0\nelements = []\n' + shot_extra)
    if not (root / "plates" / "actor.mp4").exists():
        write_plate(root / "plates" / "actor.mp4")
    return Project.load(root)


def first_frame(project: Project, shot: str = "1-1") -> np.ndarray:
    return next(iter(read_frames(project.out_dir / "shots" / f"{shot}.mp4"))).astype(int)


def is_green(pixels: np.ndarray) -> bool:
    mean = pixels.reshape(-1, 3).mean(0)
    return bool(mean[1] > mean[0] + 60 and mean[1] > mean[2] + 60)


def test_plain_render_keys_the_actor_over_the_set(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    report = render_project(project)
    assert not report.failed, report.failed
    frame = first_frame(project)
    r, g, _ = frame[70, 85]
    assert r > 150 and g < 110, "the actor is in, red, despilled"
    assert not is_green(frame[SCREEN]), "no screen left"


def test_wrong_size_plate_is_refused_unless_conformed(tmp_path: Path) -> None:
    write_plate(tmp_path / "plates" / "actor.mp4", size=(2 * W, H))   # 2:1, so a scale would stretch
    project = make_project(tmp_path, settings_extra='[plates]\nsize = "refuse"\n')
    with pytest.raises(PreflightError) as caught:       # before anything is generated
        render_project(project)
    [problem] = caught.value.problems
    assert problem.shot == "1-1"
    assert f"is {2 * W}×{H} but the project is {W}×{H}" in str(problem) and "actor.mp4" in str(problem)
    assert "[plates] size" in str(problem) and "\n" not in str(problem)
    assert not (project.out_dir / "shots" / "1-1.mp4").exists()

    fit = make_project(tmp_path, settings_extra='[plates]\nsize = "fit"\n')
    assert not render_project(fit).failed
    frame = first_frame(fit)
    # fit: the 2:1 plate is scaled to W×H/2 and letterboxed; keyed first, so the bars are transparent and show
    # the set, as the open screen does (the same set, so the same pixels)
    bars = frame[:H // 4 - 2].astype(float)
    screen = frame[H // 4 + 2: H // 4 + 10, :20].astype(float)
    assert bars.mean() > 8 and not is_green(frame[:H // 4 - 2]), "the bars are the set, not black"
    assert abs(bars[:, :20].mean() - screen.mean()) < 12
    assert info_size(fit) == (W, H)

    fill = make_project(tmp_path, settings_extra='[plates]\nsize = "fill"\n')
    assert not render_project(fill).failed
    assert info_size(fill) == (W, H)


def info_size(project: Project) -> tuple[int, int]:
    info = probe(project.out_dir / "shots" / "1-1.mp4")
    return info.width, info.height


def test_wrong_rate_plate_is_retimed_when_asked(tmp_path: Path) -> None:
    write_plate(tmp_path / "plates" / "actor.mp4", frames=2 * FPS, fps=2 * FPS)
    with pytest.raises(PreflightError, match="plate runs at 24 fps but the project is 12 fps"):
        render_project(make_project(tmp_path))
    project = make_project(tmp_path, settings_extra='[plates]\nrate = "retime"\n')
    assert not render_project(project).failed
    frames = list(read_frames(project.out_dir / "shots" / "1-1.mp4"))
    assert len(frames) == FPS
    # every other source frame: the actor slides 2 px a frame instead of 1
    left = [int(np.argmax(f[70, :, 0] > 150)) for f in frames[:4]]
    assert np.diff(left).tolist() == [2, 2, 2]


def test_plate_without_a_screen_is_used_as_it_is_with_a_warning(tmp_path: Path) -> None:
    write_plate(tmp_path / "plates" / "actor.mp4", screen=(120, 110, 100))   # a grey wall: a location plate
    project = make_project(tmp_path)
    report = render_project(project)
    assert not report.failed
    [warning] = [w for w in report.warnings if "1-1" in w]
    assert "no green or blue screen" in warning and "used as it is" in warning
    frame = first_frame(project)
    plate = next(iter(read_frames(tmp_path / "plates" / "actor.mp4"))).astype(int)
    assert np.abs(frame - plate).mean() < 4, "the plate is the picture"


def test_damaged_plate_is_refused_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "plates").mkdir()
    (tmp_path / "plates" / "actor.mp4").write_bytes(np.random.default_rng(1).bytes(20_000))
    with pytest.raises(PreflightError) as caught:
        render_project(make_project(tmp_path))
    [problem] = caught.value.problems
    assert "actor.mp4" in str(problem) and "not a readable video" in str(problem) and "\n" not in str(problem)


def test_garbage_and_core_shapes(tmp_path: Path) -> None:
    # garbage over the actor (frame fractions: x 0.25..0.65, y 0.3..1) keys them out; core over a screen corner
    # keeps that corner solid: the green screen shows there (it is held, whatever colour it is)
    shapes = ('key = { garbage = [[[0.25, 0.3], [0.65, 0.3], [0.65, 1.0], [0.25, 1.0]]], '
              'core = [[[0.0, 0.0], [0.25, 0.0], [0.25, 0.3], [0.0, 0.3]]], feather = 0, despill = "none" }\n')
    project = make_project(tmp_path, shapes)
    assert not render_project(project).failed
    frame = first_frame(project)
    assert frame[70, 85, 0] < 120, "the actor is gone behind the garbage shape"
    assert is_green(frame[SCREEN]), "the core shape holds the screen solid"


def test_grade_and_grain_change_the_picture(tmp_path: Path) -> None:
    unlabelled = '[labels]\npolicy = "none"\n'      # the AI label is drawn over the grade, never graded
    plain = make_project(tmp_path / "plain", settings_extra='[comp]\ngrain = "none"\n' + unlabelled)
    rows = [f"{1 - r} {1 - g} {1 - b}" for b in (0, 1) for g in (0, 1) for r in (0, 1)]
    (tmp_path / "graded").mkdir()
    (tmp_path / "graded" / "invert.cube").write_text("LUT_3D_SIZE 2\n" + "\n".join(rows) + "\n")
    graded = make_project(tmp_path / "graded",
                          settings_extra='[comp]\ngrain = "none"\nlut = "invert.cube"\n' + unlabelled)
    assert not render_project(plain).failed and not render_project(graded).failed
    assert np.abs((255 - first_frame(plain)) - first_frame(graded)).mean() < 6, "the LUT inverts the whole comp"

    noisy = tmp_path / "grainy" / "plates" / "actor.mp4"
    noisy.parent.mkdir(parents=True)
    rng = np.random.default_rng(5)
    with VideoWriter(noisy, width=W, height=H, fps=FPS, crf=4) as writer:
        for index in range(FPS):
            frame = np.full((H, W, 3), (40, 190, 50), np.float32) + rng.normal(0, 6, (H, W, 3))
            frame[40:100, 60 + index: 110 + index] = (200, 60, 50)
            writer.write(np.clip(frame, 0, 255).astype(np.uint8))
    grainy = make_project(tmp_path / "grainy")
    assert not render_project(grainy).failed

    def grain(frame: np.ndarray) -> float:
        """The fine texture only: the picture less its own 5×5 blur (the set's broad shapes cancel)."""
        region = frame[SCREEN].astype(np.float32)
        return float((region - cv2.blur(region, (5, 5))).std())

    assert grain(first_frame(grainy)) > grain(first_frame(plain)) + 1.5, "the plate's grain is on the set"


def test_finishing_masters_are_written_and_cached(tmp_path: Path) -> None:
    project = make_project(tmp_path, settings_extra='[render]\ndeliver = ["prores", "png"]\n')
    assert not render_project(project).failed
    review = list(read_frames(project.out_dir / "shots" / "1-1.mp4"))
    prores = list(read_rgba_frames(project.out_dir / "masters" / "1-1.mov"))
    pngs = list(read_sequence(project.out_dir / "masters" / "1-1_png"))
    assert len(review) == len(prores) == len(pngs) == FPS
    assert (prores[0][..., 3] == 255).all()
    assert np.abs(prores[3][..., :3].astype(int) - pngs[3][..., :3].astype(int)).mean() < 2
    below_label = slice(H // 4, H)            # the review movie alone carries the AI label, top right
    assert np.abs(review[3][below_label].astype(int) - pngs[3][below_label, :, :3].astype(int)).mean() < 4
    again = render_project(project)
    assert {s.step: s.status for s in again.steps}["shot 1-1"] == "cached"
    (project.out_dir / "masters" / "1-1.mov").unlink()
    assert {s.step: s.status for s in render_project(project).steps}["shot 1-1"] == "built"


@pytest.mark.parametrize(("extra", "message"), [
    ('key = { clip_black = 2 }\n', "key.clip_black"),
    ('key = { clip_black = 0.5, clip_white = 0.4 }\n', "below clip_white"),
    ('key = { garbage = [[[0.1, 0.1], [0.2, 0.2]]] }\n', "key.garbage"),
    ('comp = { blend = { fire = "multiply" } }\n', "comp.blend.fire"),
    ('comp = { glow = 1 }\n', "comp.glow"),
    ('comp = { lut = "grade/missing.cube" }\n', "lut 'grade/missing.cube' does not exist"),
    ('comp = { lut = "../../outside.cube" }\n', "points outside the project"),
])
def test_bad_comp_settings_are_refused_with_the_line(tmp_path: Path, extra: str, message: str) -> None:
    project = make_project(tmp_path, extra)
    with pytest.raises(ProjectError, match=r"shots\.toml") as caught:
        render_project(project)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_still_plate_of_another_size_is_held_for_the_shot_and_fitted(tmp_path: Path) -> None:
    """A newcomer's ``plate = "plates/actor.jpg"``: a square still in a 16:9 project, no [plates] settings."""
    still = np.zeros((96, 96, 3), np.uint8)
    still[:] = (40, 190, 50)                          # green screen
    still[40:70, :] = (200, 60, 50)                   # the actor: a red band from edge to edge of the still
    (tmp_path / "plates").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "plates" / "actor.jpg"), cv2.cvtColor(still, cv2.COLOR_RGB2BGR))
    project = make_project(tmp_path, shot_extra="")
    (tmp_path / "shots.toml").write_text((tmp_path / "shots.toml").read_text().replace("actor.mp4", "actor.jpg"))
    report = render_project(project)
    assert not report.failed, report.failed
    fitted = [w for w in report.warnings if "actor.jpg" in w]
    assert len(fitted) == 1 and "96×96" in fitted[0] and "fit" in fitted[0], report.warnings  # said once
    frames = list(read_frames(project.out_dir / "shots" / "1-1.mp4"))
    assert len(frames) == FPS                         # held for the shot's 1 s, not 1 frame
    # fit: 96×96 → 108×108, centred; columns 42…149 are the plate, the rest (the bars) the set
    for frame in (frames[0], frames[-1]):
        band = frame[40 * 108 // 96 + 3: 70 * 108 // 96 - 3].astype(int)
        red = (band[..., 0] > 150) & (band[..., 1] < 110)
        assert red[:, 46:146].all(), "the actor is there, across the plate's whole width"
        assert not red[:, :38].any() and not red[:, 154:].any(), "nothing of the plate in the bars: not stretched"
        assert not is_green(frame[5:30, 50:140]), "the screen is keyed"


def test_a_placed_element_lands_where_shots_toml_says(tmp_path: Path) -> None:
    project = make_project(tmp_path, 'comp = { shadow = 0.6, contact = 0.5, interactive_light = 1.0 }\n')
    shots = project.shots_file.read_text().replace(
        "elements = []", 'elements = [{ name = "fire", at = [0.75, 0.85], scale = 0.4, order = "front" }]')
    project.shots_file.write_text(shots)
    report = render_project(project, shots=["1-1"])
    assert not report.failed, report.failed
    frame = first_frame(project)
    fiery = (frame[..., 0] > 170) & (frame[..., 0] - frame[..., 2] > 90)
    fiery[:, : 125] = False                      # the red actor stands left of x 110
    rows, cols = np.nonzero(fiery)
    assert rows.size > 20, "the fire shows"
    assert abs(cols.mean() - 0.75 * W) < 0.1 * W and abs(rows.mean() - 0.85 * H) < 0.12 * H, "centred at [0.75, 0.85]"
    assert rows.min() > 0.5 * H, "small: none of it in the upper half"
