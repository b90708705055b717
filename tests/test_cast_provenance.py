"""Issue 21: the images that steer a take are its C2PA ingredients (inputTo), and a person's drawing of a cast
member is listed in the disclosure as human contribution."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cast_film import make_cast_film
from soundstage.pipeline import render_project
from soundstage.pipeline.takes import Generation
from soundstage.project import Project
from soundstage.provenance import verify_file
from soundstage.reports.disclosure import write_disclosure_report
from soundstage.takes import element_slot


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_cast_film(tmp_path_factory.mktemp("cast") / "film")
    report = render_project(project)
    assert not report.failed, report.failed
    return project


def test_a_cast_take_carries_its_reference_as_an_ingredient_input_to_it(rendered: Project) -> None:
    generation = Generation(rendered)
    take = generation.store.takes(element_slot("2-1", "dragon"))[0]
    verdict = verify_file(generation.store.files(take)[0])
    assert verdict.ok
    assert [(i.relationship, i.title) for i in verdict.ingredients] == [("inputTo", "front.png")]
    assert verdict.actions[0].action == "c2pa.created"


def test_verify_shows_which_image_steered_which_take_of_a_shot(rendered: Project) -> None:
    done = subprocess.run([sys.executable, "-c", "from soundstage.cli import app; app()", "verify",
                           str(rendered.out_dir / "shots" / "1-1.mp4")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    take = next(i for i, line in enumerate(lines) if "componentOf element_0000.png" in line)
    assert any("inputTo front.png" in line for line in lines[take:take + 4]), done.stdout


def test_the_disclosure_lists_a_drawn_reference_as_human_contribution(rendered: Project, tmp_path: Path) -> None:
    html, data = write_disclosure_report(rendered, tmp_path / "en")
    report = json.loads(data.read_text("utf-8"))
    assert report["human"]["cast_references"] == [
        {"member": "dragon", "file": "cast/dragon/front.png", "made": "drawing", "shots": ["1-1", "2-1"]}]
    line = ("The drawing cast/dragon/front.png of the cast member dragon, from which its takes were made "
            "(shots 1-1, 2-1)")
    assert line in report["registration"]["human_parts_claimed"]
    assert line in html.read_text("utf-8")

    settings = rendered.settings_path.read_text("utf-8")
    rendered.settings_path.write_text(settings + '[reports]\nlanguage = "ko"\n')
    try:
        html, _ = write_disclosure_report(Project.load(rendered.root), tmp_path / "ko")
    finally:
        rendered.settings_path.write_text(settings)
    assert "등장 캐릭터 dragon의 그림 cast/dragon/front.png" in html.read_text("utf-8")


def test_a_procedural_reference_is_not_claimed_as_human_work(tmp_path: Path) -> None:
    from cast_film import CAST

    project = make_cast_film(tmp_path / "film", cast=CAST.replace('made = "drawing"', 'made = "procedural"'))
    assert not render_project(project).failed
    _, data = write_disclosure_report(project, tmp_path / "out")
    report = json.loads(data.read_text("utf-8"))
    assert report["human"]["cast_references"] == []
    assert not any("front.png" in line for line in report["registration"]["human_parts_claimed"])


def test_the_review_shows_the_model_sheet_beside_the_shots_takes(rendered: Project) -> None:
    from soundstage.db import open_database
    from soundstage.review.dailies import Dailies

    view = Dailies(rendered, open_database(rendered.database)).shot("1-1")
    slots = {slot.slot: slot for slot in view.slots}
    assert slots["cast/dragon/sheet"].role == "sheet" and slots["cast/dragon/sheet"].name == "dragon"
    assert [view.take.label for view in slots["cast/dragon/sheet"].takes] == ["v001"]
    assert slots[element_slot("1-1", "dragon")].role == "element"
