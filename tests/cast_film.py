"""A tiny film with a cast: a dragon (용) in cast/dragon/, named in two of its three scenes. 64×36, 12 fps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from soundstage.media import write_png
from soundstage.project import Project

W, H, FPS = 64, 36, 12

SCRIPT = """\
Title: 용

S#1. 지붕 위 (밤)

용이 달 앞에서 몸을 푼다.

S#2. 바닷가 절벽 (새벽)

Min-ji lifts the lantern. Far below, the dragon's tail cuts the waves.

S#3. 마당 (낮)

용도 모르는 물건이 마당에 놓여 있다.
"""

CAST = """\
ko = "용"
en = "dragon"
aliases = ["이무기"]
kind = "creature"
screen = "green"
description = "a slender red dragon with dark scales"
made = "drawing"
"""


def reference_image(path: Path, colour: tuple[int, int, int] = (200, 40, 30)) -> None:
    """A 'drawing' of the creature: an oval body with a dark stripe, on a plain green ground."""
    picture = np.zeros((48, 64, 3), np.uint8)
    picture[:] = (0, 177, 64)
    yy, xx = np.mgrid[:48, :64]
    body = ((xx - 32) / 22.0) ** 2 + ((yy - 24) / 14.0) ** 2 <= 1
    picture[body] = colour
    picture[body & (abs(yy - 24) < 3)] = (20, 18, 24)    # dark parts of its own, which a luminance key would lose
    write_png(path, picture)


def make_cast_film(root: Path, shots: str = "", cast: str = CAST) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    (root / "soundstage.toml").write_text(
        f'title = "용"\nscreenplay = "s.fountain"\nfps = {FPS}\nresolution = [{W}, {H}]\nseed = 3\n'
        'shot_duration = 0.5\n[labels]\npolicy = "none"\n[sound]\ngenerate = false\n')
    (root / "s.fountain").write_text(SCRIPT)
    if shots:
        (root / "shots.toml").write_text(shots)
    member = root / "cast" / "dragon"
    member.mkdir(parents=True)
    (member / "cast.toml").write_text(cast)
    reference_image(member / "front.png")
    return Project.load(root)
