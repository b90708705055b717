"""soundstage.toml: a good file loads; every bad one gives one line naming the file, the key and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundstage.errors import ProjectError
from soundstage.project import Project

GOOD = """\
title = "Test Film"
screenplay = "film.fountain"
fps = 24
resolution = [320, 180]

[look]
palette = "teal and amber"
film_stock = "500T"

[budget]
limit = 150000
currency = "KRW"
usd_rate = 1400
"""


def make(tmp_path: Path, text: str) -> Path:
    (tmp_path / "soundstage.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_good_settings_load(tmp_path: Path) -> None:
    project = Project.load(make(tmp_path, GOOD))
    assert project.settings.title == "Test Film"
    assert project.settings.resolution == (320, 180)
    assert project.settings.budget.currency == "KRW"
    assert project.settings.budget.to_currency(0.04) == pytest.approx(56.0)
    assert project.settings.look.as_prompt() == "teal and amber, 500T"
    assert project.screenplay_path == tmp_path.resolve() / "film.fountain"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("fps = 24", "fps = -3"), "soundstage.toml:3: fps: Input should be greater than 0"),
        (GOOD.replace("fps = 24", "fsp = 24"), "soundstage.toml:3: fsp: is not a known setting"),
        (GOOD.replace('title = "Test Film"\n', ""), "soundstage.toml: title: is missing"),
        (GOOD.replace("[320, 180]", "[321, 180]"), "soundstage.toml:4: resolution: width and height must be even"),
        (GOOD.replace("usd_rate = 1400\n", ""), "soundstage.toml:10: budget: usd_rate is needed to hold USD prices"),
        (GOOD.replace('"KRW"', '"EUR"'), "soundstage.toml:12: budget.currency: Input should be 'USD' or 'KRW'"),
        (GOOD.replace("fps = 24", "fps = = 24"), "soundstage.toml: not valid TOML: Invalid value (at line 3"),
    ],
)
def test_bad_settings_give_one_line_with_file_key_and_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ProjectError) as caught:
        Project.load(make(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / expected.split(":")[0]))
    assert expected.split(":", 1)[1] in message.removeprefix(str(tmp_path) + "/soundstage.toml")


def test_missing_project_and_missing_settings(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no such project folder"):
        Project.load(tmp_path / "nope")
    with pytest.raises(ProjectError, match=r"no soundstage\.toml here"):
        Project.load(tmp_path)


def test_screenplay_outside_the_project_is_refused(tmp_path: Path) -> None:
    project = Project.load(make(tmp_path, GOOD.replace("film.fountain", "../../etc/passwd")))
    with pytest.raises(ProjectError, match="points outside the project folder"):
        _ = project.screenplay_path


def test_symlink_escaping_the_project_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "film.fountain").write_text("INT. ROOM - DAY\n")
    root = tmp_path / "film"
    root.mkdir()
    (root / "film.fountain").symlink_to(outside / "film.fountain")
    project = Project.load(make(root, GOOD))
    with pytest.raises(ProjectError, match="outside the project"):
        _ = project.screenplay_path
