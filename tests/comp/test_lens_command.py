"""`soundstage lens calibrate` as a crew member runs it: on a checkerboard clip, with and without a board."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
from test_track_apply import board_views

from soundstage.comp.lens import Lens
from soundstage.media import VideoWriter
from test_cli import soundstage


def write_clip(path: Path, pictures: list[np.ndarray]) -> None:
    height, width = pictures[0].shape[:2]
    with VideoWriter(path, width=width, height=height, fps=24) as writer:
        for picture in pictures:
            writer.write(np.ascontiguousarray(np.dstack([picture] * 3) if picture.ndim == 2 else picture))


def test_calibrate_prints_a_lens_that_pastes_into_shots_toml(tmp_path: Path) -> None:
    truth = Lens.for_frame(640, 360, k1=-0.18, k2=0.05)
    write_clip(tmp_path / "board.mp4", [picture for _, picture in board_views(truth)])
    made = soundstage("lens", "calibrate", tmp_path / "board.mp4", "-o", tmp_path / "lens.toml")
    assert made.returncode == 0, made.stderr
    line = next(text for text in made.stdout.splitlines() if text.startswith("lens = "))
    pasted = tomllib.loads(f"camera = {{ {line} }}")["camera"]["lens"]
    assert abs(pasted["k1"] - truth.k1) < 0.02 and "RMS" in made.stdout
    assert tomllib.loads((tmp_path / "lens.toml").read_text())["lens"] == pasted
    again = soundstage("lens", "calibrate", tmp_path / "board.mp4", "-o", tmp_path / "lens.toml")
    assert again.returncode == 2 and "already exists" in again.stderr and len(again.stderr.splitlines()) == 1


def test_a_plate_with_no_board_is_refused_naming_the_frames(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    write_clip(tmp_path / "wall.mp4", [rng.integers(0, 255, (90, 160, 3), dtype=np.uint8) for _ in range(5)])
    made = soundstage("lens", "calibrate", tmp_path / "wall.mp4", "--board", "7x5")
    assert made.returncode == 2 and len(made.stderr.splitlines()) == 1
    assert "no 7×5 checkerboard found" in made.stderr and "tried frames 0, 1, 2, 3, 4" in made.stderr
    assert "Traceback" not in made.stderr
