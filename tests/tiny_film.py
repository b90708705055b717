"""A tiny film for render tests: two scenes, one keyed plate, one rain element, 1.5 s at 192×108, 12 fps."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from soundstage.media import VideoWriter, read_frames
from soundstage.project import Project
from soundstage.provenance.record import share_mark_key

W, H, FPS = 192, 108, 12

SCRIPT = """\
Title: Tiny

EXT. HANOK ROOFTOPS - NIGHT

Fire on the eaves. MIN-JI runs.

EXT. SEA CLIFF - DUSK

Rain sweeps in.
"""

SHOTS = """\
[[shot]]
id = "1-1"
scene = "1"
plate = "plates/actor.mp4"
duration = {seconds}
elements = []

[[shot]]
id = "2-1"
scene = "2"
duration = {half}
elements = ["{element}"]
camera = {{ move = "push-in", amount = 0.1 }}
"""


def shots_toml(element: str = "rain", seconds: float = 1.0) -> str:
    return SHOTS.format(element=element, seconds=seconds, half=seconds / 2)


def green_plate(path: Path, frames: int, fps: float = FPS, block: tuple[int, int, int] = (200, 60, 50)) -> None:
    """An 'actor' (a red block) on an unevenly lit green screen: the alpha is known exactly."""
    ramp = np.linspace(0.8, 1.0, W, dtype=np.float32)[None, :, None]
    screen = (np.array([40, 190, 50], np.float32) * ramp).repeat(H, 0).astype(np.uint8)
    with VideoWriter(path, width=W, height=H, fps=fps) as writer:
        for index in range(frames):
            frame = screen.copy()
            frame[40:100, 60 + index % 60: 110 + index % 60] = block
            writer.write(frame)


MARK_KEY = 0x5EED_CAFE_F00D_D00D


def make_tiny(root: Path, seconds: float = 1.0) -> Project:
    """The film in ``root``; ``seconds`` lengthens it (for tests that must catch a render mid-way)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "soundstage.toml").write_text(
        f'title = "Tiny"\nscreenplay = "tiny.fountain"\nfps = {FPS}\nresolution = [{W}, {H}]\nseed = 3\n'
        '[look]\npalette = "teal nights"\n')
    (root / "tiny.fountain").write_text(SCRIPT)
    (root / "shots.toml").write_text(shots_toml(seconds=seconds))
    (root / "plates").mkdir()
    green_plate(root / "plates" / "actor.mp4", round(FPS * seconds))
    share_mark_key(root, MARK_KEY)    # two copies of the film mark their pixels alike
    return Project.load(root)


def pictures(movie: Path) -> str:
    """A movie by its decoded pixels: signing gives each render its own bytes (a signature, a time), so
    renders that must come out the same are compared by what a viewer sees."""
    digest = hashlib.sha256()
    for frame in read_frames(movie):
        digest.update(frame.tobytes())
    return digest.hexdigest()
