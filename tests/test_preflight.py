"""Preflight: every plate and engine problem of a project found at once, before anything is generated.

Plates are probed (decodable, size, rate, length, the named screen found) and every take's engine is asked
whether it makes that kind of take and that element. ``soundstage plan`` lists them all and exits 2;
``render``, ``comp`` and ``generate`` refuse with the same list, having made nothing.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from soundstage.cli import app
from soundstage.engines import load_engine
from soundstage.engines.base import makes_element
from soundstage.engines.google import GoogleEngine
from soundstage.engines.openai import OpenAIEngine
from soundstage.errors import PreflightError
from soundstage.pipeline import Generation, breakdown_project, render_project
from soundstage.pipeline.preflight import SCREEN_FOUND, preflight
from soundstage.project import Project
from tiny_film import H, W, green_plate, make_tiny

EXAMPLE = Path(__file__).parents[1] / "examples" / "moonlit-hanok"

# A test engine, registered as a real one is (an entry point of an installed distribution): the procedural
# engine's pictures, but it declares that of all elements it makes only fire.
ENGINE = '''\
from typing import ClassVar
from soundstage.engines.procedural import ProceduralEngine

class FireOnly(ProceduralEngine):
    name: ClassVar[str] = "fireonly"
    elements: ClassVar[frozenset[str] | None] = frozenset({"fire"})
'''


@pytest.fixture
def fireonly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    site = tmp_path / "site"
    info = site / "fireonly_engine-0.1.dist-info"
    info.mkdir(parents=True)
    (site / "fireonly_engine.py").write_text(ENGINE)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fireonly-engine\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[soundstage.engines]\nfireonly = fireonly_engine:FireOnly\n")
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop("fireonly_engine", None)


BAD_SHOTS = """\
[[shot]]
id = "1-1"
scene = "1"
plate = "plates/actor.mp4"
duration = 1.0
elements = []

[[shot]]
id = "1-2"
scene = "1"
plate = "plates/wall.png"
screen = "green"
elements = []

[[shot]]
id = "1-3"
scene = "1"
plate = "plates/junk.mp4"
elements = []

[[shot]]
id = "2-1"
scene = "2"
duration = 0.5
engine = "fireonly"
elements = ["fire", "rain"]

[[shot]]
id = "2-2"
scene = "2"
duration = 0.5
background = "moving"
engine = "openai"
elements = []
"""


def bad_project(root: Path) -> Project:
    """Five shots, each with its own problem (the first with two)."""
    project = make_tiny(root)
    green_plate(root / "plates" / "actor.mp4", 5, fps=25)             # 25 fps, and 5 frames for a 1 s shot
    cv2.imwrite(str(root / "plates" / "wall.png"), np.full((H, W, 3), 120, np.uint8))   # no screen: a wall
    (root / "plates" / "junk.mp4").write_bytes(b"\x00\x01junk" * 500)
    (root / "shots.toml").write_text(BAD_SHOTS)
    return project


def made_nothing(project: Project) -> bool:
    takes = project.state_dir / "takes"
    return not (takes.exists() and any(takes.rglob("*.png"))) and not (project.out_dir / "shots").exists()


def test_plan_lists_every_problem_at_once_and_exits_2(tmp_path: Path, fireonly: None) -> None:
    project = bad_project(tmp_path / "film")
    result = CliRunner().invoke(app, ["plan", str(project.root)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert any("plates/actor.mp4, shot 1-1: plate runs at 25 fps but the project is 12 fps" in line
               and "[plates] rate = 'retime'" in line for line in lines), lines   # markup escaped, not eaten
    assert any("plates/actor.mp4, shot 1-1: plate has 2 frames but the shot needs 12" in line for line in lines)
    assert any("plates/wall.png, shot 1-2:" in line and "green screen" in line for line in lines), lines
    assert any("plates/junk.mp4, shot 1-3: not a readable video" in line for line in lines), lines
    assert any("shot 2-1:" in line and "'rain'" in line and "fireonly" in line for line in lines), lines
    assert not any("'fire'" in line for line in lines), "fire it makes"
    assert any("shot 2-2:" in line and "background" in line and "openai" in line for line in lines), lines
    assert len(lines) == 7, lines       # six problems and the summary
    assert "6 problems" in lines[-1] and "nothing was generated" in lines[-1]
    assert made_nothing(project)


def test_plan_json_carries_the_problems(tmp_path: Path, fireonly: None) -> None:
    project = bad_project(tmp_path / "film")
    result = CliRunner().invoke(app, ["plan", str(project.root), "--json"])
    assert result.exit_code == 2
    problems = json.loads(result.stdout)["problems"]
    assert len(problems) == 6 and {p["shot"] for p in problems} == {"1-1", "1-2", "1-3", "2-1", "2-2"}
    assert {p["plate"] for p in problems} == {"plates/actor.mp4", "plates/wall.png", "plates/junk.mp4", None}


def test_render_json_carries_the_problems_as_json(tmp_path: Path, fireonly: None) -> None:
    project = bad_project(tmp_path / "film")
    result = CliRunner().invoke(app, ["render", str(project.root), "--json"])
    assert result.exit_code == 2
    answer = json.loads(result.stdout)       # a script reading --json gets JSON, not an empty page
    assert answer["steps"] == [] and len(answer["problems"]) == 6
    assert made_nothing(project)


@pytest.mark.parametrize("command", [["render"], ["comp", "--shot", "1-1", "--shot", "2-1"], ["generate"]])
def test_render_comp_and_generate_refuse_before_making_anything(tmp_path: Path, fireonly: None,
                                                                command: list[str]) -> None:
    project = bad_project(tmp_path / "film")
    result = CliRunner().invoke(app, [command[0], str(project.root), *command[1:]])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert any("shot 1-1" in line for line in lines) and any("'rain'" in line for line in lines), lines
    if command[0] == "comp":          # only the shots asked for
        assert not any("shot 1-2" in line or "shot 2-2" in line for line in lines), lines
    assert made_nothing(project)


def test_render_project_raises_with_every_problem(tmp_path: Path, fireonly: None) -> None:
    project = bad_project(tmp_path / "film")
    with pytest.raises(PreflightError) as caught:
        render_project(project)
    assert len(caught.value.problems) == 6 and "\n" not in str(caught.value)
    assert made_nothing(project)


def test_a_good_project_passes(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    result = CliRunner().invoke(app, ["plan", str(project.root)])
    assert result.exit_code == 0, result.output


def test_the_example_plates_pass_and_their_screens_are_found(tmp_path: Path) -> None:
    """The threshold measured honestly: each example plate's first frame is ~77% screen (``SCREEN_FOUND``)."""
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root)
    project = Project.load(root)
    breakdown = breakdown_project(project)
    generation = Generation(project)
    assert preflight(project, breakdown.shots, generation, generation.orders(breakdown)) == []
    # the same plates, told the other screen colour, are refused
    swapped = (root / "shots.toml").read_text().replace('screen = "blue"', 'screen = "green"')
    (root / "shots.toml").write_text(swapped)
    breakdown = breakdown_project(project)
    [problem] = preflight(project, breakdown.shots, generation, generation.orders(breakdown))
    assert problem.shot == "3-1" and "green screen covers 0%" in str(problem)
    assert "set screen = 'blue'" in str(problem) and f"at least {SCREEN_FOUND:.0%}" in str(problem)


def test_a_still_plate_has_no_rate_and_is_held(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    still = np.zeros((60, 80, 3), np.uint8)
    still[:] = (40, 190, 50)
    still[20:50, 30:50] = (200, 60, 50)
    cv2.imwrite(str(project.root / "plates" / "actor.png"), cv2.cvtColor(still, cv2.COLOR_RGB2BGR))
    (project.root / "shots.toml").write_text(
        '[[shot]]\nid = "1-1"\nscene = "1"\nplate = "plates/actor.png"\nscreen = "green"\nduration = 30\n'
        'elements = []\n')
    breakdown = breakdown_project(project)
    generation = Generation(project)
    assert preflight(project, breakdown.shots, generation, generation.orders(breakdown)) == []
    refuse = project.settings_path.read_text() + '[plates]\nsize = "refuse"\n'
    project.settings_path.write_text(refuse)
    project = Project.load(project.root)
    [problem] = preflight(project, breakdown.shots, Generation(project), generation.orders(breakdown))
    assert str(problem).startswith(f"plates/actor.png, shot 1-1: plate is 80×60 but the project is {W}×{H}")


def test_an_engine_declares_the_elements_it_makes(fireonly: None) -> None:
    procedural = load_engine("procedural")
    assert makes_element(procedural, "fire") and makes_element(procedural, "Flames")   # its own aliases
    assert not makes_element(procedural, "tornado")
    fire_only = load_engine("fireonly")
    assert makes_element(fire_only, "fire") and not makes_element(fire_only, "rain")
    assert GoogleEngine.elements is None and OpenAIEngine.elements is None   # a prompt can ask them for anything


def test_an_element_no_engine_makes_is_refused_naming_the_elements_not_every_word(tmp_path: Path) -> None:
    """The procedural engine answers to every word of elements.toml; the refusal lists the elements by name."""
    project = make_tiny(tmp_path / "film")
    (project.root / "shots.toml").write_text('[[shot]]\nid = "1-1"\nscene = "1"\nelements = ["tornado"]\n')
    breakdown = breakdown_project(project)
    generation = Generation(project)
    [problem] = preflight(project, breakdown.shots, generation, generation.orders(breakdown))
    assert "cannot make the element 'tornado' (it makes car, creature, dragon, explosion, fall, fire, fog, " \
           "horse, lantern, magic, rain, smoke, snow, sparks, sword, wisp)" in str(problem), str(problem)


def test_every_missing_plate_is_listed_at_once(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    (project.root / "shots.toml").write_text(
        '[[shot]]\nid = "1-1"\nscene = "1"\nplate = "plates/gone.mp4"\n'
        '[[shot]]\nid = "2-1"\nscene = "2"\nplate = "plates/lost.png"\n')
    result = CliRunner().invoke(app, ["plan", str(project.root)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any("shot 1-1: plate 'plates/gone.mp4' does not exist" in line for line in lines), lines
    assert any("shot 2-1: plate 'plates/lost.png' does not exist" in line for line in lines), lines


def test_an_unchanged_plate_is_not_decoded_again_and_a_changed_one_is(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A no-op render of a feature checks every plate: each is read once, then again only when it changes."""
    from soundstage.pipeline import preflight as preflight_module

    project = make_tiny(tmp_path / "film")
    breakdown = breakdown_project(project)
    generation = Generation(project)
    orders = generation.orders(breakdown)
    assert preflight(project, breakdown.shots, generation, orders) == []

    def decoded(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged plate was decoded again")

    with monkeypatch.context() as patch:
        patch.setattr(preflight_module, "probe_plate", decoded)
        patch.setattr(preflight_module, "read_frames", decoded)
        assert preflight(project, breakdown.shots, generation, orders) == []
    (project.root / "plates" / "actor.mp4").write_bytes(b"\x00\x01junk" * 100)     # replaced: read again
    [problem] = preflight(project, breakdown.shots, generation, orders)
    assert problem.shot == "1-1" and "actor.mp4" in str(problem)
