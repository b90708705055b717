"""A newcomer's first project renders on the first try (issue 15, "done means").

Made as a new user makes it, through the installed command: ``soundstage new``, a Korean screenplay that
names a creature (도깨비), a real green-screen clip of a figure and a still plate of another size than the
project; then ``plan`` and ``render``, each once.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from soundstage.media import VideoWriter, probe
from test_cli import soundstage

W, H, FPS = 192, 108, 24            # the scaffold's 1920×1080 at a tenth, so the test stays quick
SHOT = 0.5                          # seconds a shot: 12 frames

SCREENPLAY = """\
Title: 도깨비 밤

INT. 한옥 - 밤

민지가 마루에 앉아 있다. 문 뒤에서 도깨비가 나타난다.

EXT. 산길 - 새벽

민지가 산길을 걷는다.
"""

SHOTS = f"""\
[[shot]]
id = "1-1"
scene = "1"
plate = "plates/minji.mp4"
duration = {SHOT}

[[shot]]
id = "2-1"
scene = "2"
plate = "plates/minji.jpg"
duration = {SHOT}
"""


def figure(width: int, height: int, shift: int = 0) -> np.ndarray:
    """A figure (head and body, skin and a dark coat) on an unevenly lit green screen."""
    ramp = np.linspace(0.85, 1.0, width, dtype=np.float32)[None, :, None]
    picture = (np.array([45, 185, 60], np.float32) * ramp).repeat(height, 0).astype(np.uint8)
    x = width // 2 + shift
    cv2.circle(picture, (x, height * 3 // 10), height // 10, (225, 180, 150), -1)
    cv2.rectangle(picture, (x - width // 10, height * 4 // 10), (x + width // 10, height - 1), (70, 50, 90), -1)
    return picture


@pytest.mark.xfail(strict=True, reason="needs procedural creature placeholder from i15-creatures")
def test_newcomer_project_renders_first_time(tmp_path: Path) -> None:
    film = tmp_path / "dokkaebi"
    assert soundstage("new", film).returncode == 0
    settings = film / "soundstage.toml"
    settings.write_text(settings.read_text().replace("resolution = [1920, 1080]", f"resolution = [{W}, {H}]"))
    (film / "screenplay.fountain").write_text(SCREENPLAY, encoding="utf-8")
    (film / "shots.toml").write_text(SHOTS)
    with VideoWriter(film / "plates" / "minji.mp4", width=W, height=H, fps=FPS) as clip:   # a real clip
        for index in range(round(SHOT * FPS)):
            clip.write(figure(W, H, shift=index))
    still = figure(90, 120)                               # portrait, 3:4: another size and shape
    cv2.imwrite(str(film / "plates" / "minji.jpg"), cv2.cvtColor(still, cv2.COLOR_RGB2BGR))

    breakdown = soundstage("breakdown", film, "--json")
    assert '"creature"' in breakdown.stdout, "도깨비 is a creature the render must make"
    plan = soundstage("plan", film)
    assert plan.returncode == 0, plan.stderr
    render = soundstage("render", film)
    assert render.returncode == 0, render.stderr
    cut = film / "out" / "cut.mp4"
    card = 5 * FPS                                        # the closing AI label card, [labels] credits_seconds
    assert probe(cut).frames == 2 * round(SHOT * FPS) + card
    assert "minji.jpg is 90×120" in render.stderr         # the still fitted, and said so once
    assert render.stderr.count("minji.jpg") == 1
