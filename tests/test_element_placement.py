"""Placing elements from shots.toml and from the script's notes, and the comp's strengths per shot: the settings
contract that outside checks use, read as a user writes it, bad values refused with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundstage.errors import ProjectError
from soundstage.records.settings import CompSettings, ElementPlacement
from soundstage.script import parse_fountain
from soundstage.script.breakdown import break_down, read_shot_plan

SCRIPT = """Title: Forge

EXT. FORGE - NIGHT

MIN-JI hammers at the anvil. Rain sweeps across the yard.

[[VFX: fire in front of the forge]]

EXT. YARD - NIGHT

Behind her, smoke rises from the chimney.
"""


def shots(tmp_path: Path, entries: str, settings: CompSettings | None = None):
    (tmp_path / "shots.toml").write_text(entries, encoding="utf-8")
    screenplay = parse_fountain(SCRIPT)
    return {s.id: s for s in break_down(screenplay, plan=read_shot_plan(tmp_path / "shots.toml"),
                                        comp=settings).shots}


def test_the_script_notes_order_the_elements_and_rain_is_left_to_fill_the_frame(tmp_path: Path) -> None:
    found = shots(tmp_path, "")
    forge, yard = found["1-1"], found["2-1"]
    assert sorted(forge.elements) == ["fire", "rain"]
    by_name = {p.name: p for p in forge.placements}
    assert by_name["fire"].order == "front", "fire in front of the forge"
    assert by_name["rain"].order is None and by_name["rain"].at is None, "rain: the comp's default, the frame"
    assert [(p.name, p.order) for p in yard.placements] == [("smoke", "behind")]


def test_placed_elements_and_comp_strengths_in_shots_toml(tmp_path: Path) -> None:
    found = shots(tmp_path, '[[shot]]\nid = "1-1"\nscene = "1"\n'
                            'elements = [{ name = "fire", at = [0.75, 0.85], scale = 0.4, order = "behind" }, "rain"]\n'
                            'comp = { shadow = 0.6, contact = 0.5, interactive_light = 1.0 }\n',
                  CompSettings(shadow=0.3, contact=0.0, relight=0.5))
    shot = found["1-1"]
    assert shot.elements == ["fire", "rain"], "names read as before, plain strings too"
    fire, rain = shot.placements
    assert fire == ElementPlacement(name="fire", at=(0.75, 0.85), scale=0.4, order="behind"), \
        "what shots.toml says wins over the note"
    assert rain == ElementPlacement(name="rain")
    assert (shot.comp.shadow, shot.comp.contact, shot.comp.interactive_light, shot.comp.relight) == \
        (0.6, 0.5, 1.0, 0.5), "the shot's own over the film's [comp]"


def test_the_film_turns_the_integration_on_by_default() -> None:
    comp = CompSettings()
    assert comp.shadow > 0 and comp.contact > 0 and comp.interactive_light > 0


@pytest.mark.parametrize(("entry", "message"), [
    ('elements = [{ name = "fire", order = "middle" }]', "elements.0.order"),
    ('elements = [{ name = "fire", at = [1.5, 0.5] }]', "elements.0.at.0"),
    ('elements = [{ name = "fire", size = 2 }]', "is not a known shot setting"),
    ('comp = { shadow = 2 }', "comp.shadow"),
])
def test_bad_placements_and_strengths_are_one_line(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(ProjectError, match=message) as caught:
        shots(tmp_path, f'[[shot]]\nid = "1-1"\nscene = "1"\n{entry}\n')
    assert "\n" not in str(caught.value) and "shots.toml:4," in str(caught.value)


def test_a_new_project_starts_with_the_integration_the_example_uses(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from soundstage.cli import app
    from soundstage.project import Project

    assert CliRunner().invoke(app, ["new", str(tmp_path / "film")]).exit_code == 0
    made = Project.load(tmp_path / "film").settings.comp
    example = Project.load(Path(__file__).parent.parent / "examples" / "moonlit-hanok").settings.comp
    for name in ("match_colour", "light_wrap", "shadow", "contact", "interactive_light", "relight"):
        assert getattr(made, name) == getattr(example, name) > 0, name
