"""Breakdown sheets and the shot list, as a first AD and a spreadsheet read them (``soundstage report breakdown``)."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from browser import inked_share, screenshot
from soundstage.errors import ProjectError
from soundstage.pipeline import Generation, breakdown_project
from soundstage.project import Project
from soundstage.reports.breakdown import CATEGORIES, COLUMNS, ink_on, pages_of, write_breakdown_report

EXAMPLE = Path(__file__).parent.parent / "examples" / "moonlit-hanok"
SCRIPT = Path(sys.executable).parent / "soundstage"
SHOTS = Path("/tmp/report-shots")
INDUSTRY = {"cast": "#d32f2f", "stunts": "#f57c00", "silent_bits": "#fbc02d", "extras": "#43a047",
            "effects": "#1e88e5", "props": "#8e24aa", "vehicles": "#ec407a"}

NIGHT_MARKET = """\
Title: The Night Market

INT. NOODLE STALL - NIGHT

Steam rises over the counter. JUN (30s), the cook, sharpens a sword behind the pots.

JUN
Closing time.

SOO-AH
One more bowl.

EXT. MARKET STREET - NIGHT

A truck backs into the alley, horn blaring, as JUN watches from the stall. Soo-ah leaps from the roof onto the
canvas awning. A horse shies at the noise.

[[VFX: paper birds swirl up from the stalls]]

SOO-AH
Run!
"""

NIGHT_MARKET_SHOTS = """\
[[shot]]
id = "1-1"
scene = "1"
duration = 1.0
elements = ["smoke"]

[[shot]]
id = "2-1"
scene = "2"
duration = 1.0
elements = ["magic"]
camera = { move = "push-in", amount = 0.1 }

[[shot]]
id = "2-2"
scene = "2"
duration = 0.5
prompt = "Soo-ah lands on the awning"
elements = []
"""


def soundstage(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env, timeout=120)


def night_market(tmp_path: Path, *, reports: str = "") -> Path:
    """A small project written here: two scenes that fill the cast, stunts, props, vehicles, animals and VFX."""
    root = tmp_path / "night-market"
    root.mkdir()
    (root / "market.fountain").write_text(NIGHT_MARKET, encoding="utf-8")
    (root / "shots.toml").write_text(NIGHT_MARKET_SHOTS, encoding="utf-8")
    (root / "soundstage.toml").write_text(
        'title = "The Night Market"\nscreenplay = "market.fountain"\nfps = 8\nresolution = [64, 36]\nseed = 3\n'
        + reports, encoding="utf-8")
    return root


@pytest.fixture
def example(tmp_path: Path) -> Project:
    copy = tmp_path / "moonlit-hanok"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("out", ".soundstage", "*.mp4", "source"))
    for plate in (EXAMPLE / "plates").glob("*.mp4"):
        (copy / "plates" / plate.name).write_bytes(b"")   # the breakdown checks plates exist, not their pixels
    return Project.load(copy)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return list(reader)


def box(html: str, category: str) -> str:
    """The HTML of one category's box on the first sheet that has it."""
    match = re.search(rf'<div class="box[^"]*" data-category="{category}".*?</div>\s*(?=<div class="box|</div>)',
                      html, re.DOTALL)
    assert match, f"no {category} box"
    return match.group(0)


def sheets_of(html: str) -> list[str]:
    return re.findall(r'<section class="sheet".*?</section>', html, re.DOTALL)


def look_at(page: Path, name: str, *, height: int) -> None:
    """Render the page as a browser shows it, keep the PNG for a person to look at, and check it has content."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    png = SHOTS / name
    picture = screenshot(page, png, width=1280, height=height)
    assert picture.shape[:2] == (height, 1280)
    assert inked_share(picture) > 0.08, f"{name} is nearly blank"


# ---------------------------------------------------------------------------------------------- the example


def test_example_report_from_the_command_line(example: Project) -> None:
    made = soundstage("report", "breakdown", example.root)
    assert made.returncode == 0, made.stderr
    reports = example.root / "out" / "reports"
    assert f"wrote {reports / 'breakdown.html'}" in made.stdout
    rows = read_csv(reports / "shotlist.csv")
    assert [(r["scene"], r["shot"]) for r in rows] == [("1", "1-1"), ("2", "2-1"), ("2", "2-2"), ("2", "2-3"),
                                                      ("3", "3-1"), ("3", "3-2"), ("4", "4-1")]
    first, _, _, _, rooftop, fire, cliff = rows
    assert first["description"].startswith("Fog rolls through the pines below a ridge of jagged mountains.")
    assert (first["camera"], first["duration"], first["set"], first["plate"]) == \
        ("pan-right 8%, parallax 0.6", "4", "mountain-pass-dawn", "plates/pass_walk.mp4")
    assert first["elements"] == "fog"            # no elements in shots.toml: the scene's detected effects
    assert rooftop["elements"] == "fire" and rooftop["plate"] == "plates/rooftop_blue.mp4"
    assert fire == {"scene": "3", "shot": "3-2", "description": "The dragon's fire sweeps across the tiled roofs "
                    "under the moon", "camera": "tilt-up 10%", "duration": "3", "set": "hanok-rooftops-night",
                    "plate": "", "elements": "fire; smoke; dragon", "engine": "procedural", "take_status": "not made",
                    "takes": ""}
    assert cliff["elements"] == "rain; magic; dragon" and cliff["camera"] == "pull-out 6%"   # the cast's dragon
    assert not (example.state_dir / "soundstage.db").exists()   # a report makes no take database

    html = (reports / "breakdown.html").read_text("utf-8")
    sheets = sheets_of(html)
    assert len(sheets) == 4
    for category in CATEGORIES:                                  # every box on every sheet, in its colour
        assert len(re.findall(rf'data-category="{category.key}" style="--c: {category.colour};', html)) == 4
    for key, colour in INDUSTRY.items():
        assert next(c for c in CATEGORIES if c.key == key).colour == colour
    pass_, desert, rooftops, _ = sheets
    assert "MOUNTAIN PASS" in pass_ and "DAWN" in pass_ and "3/8" in pass_
    assert "MIN-JI" in box(pass_, "cast") and "GRANDMOTHER" in box(pass_, "cast")
    assert "lantern" in box(pass_, "props") and "fog" in box(pass_, "effects")
    assert "dragon" in box(rooftops, "vfx") and "fire" in box(rooftops, "effects")
    assert "dragon" in box(rooftops, "cast") and "from cast/, with its references" in box(rooftops, "cast")
    assert "generated for" in box(rooftops, "vfx") and "3-1, 3-2" in box(rooftops, "vfx")
    assert "hanok-rooftops-night" in box(rooftops, "vfx")
    assert "plates/desert_look_logc4.mp4" in box(desert, "notes")
    assert "none" in box(pass_, "stunts")                        # looked for, not found
    assert "<li>" not in box(pass_, "wardrobe")                  # not looked for: left for the AD

    shotlist = (reports / "shotlist.html").read_text("utf-8")
    assert len(re.findall(r'<tr data-shot="', shotlist)) == 7
    assert 'data-category="effects" style="--c: #1e88e5' in shotlist      # fire is a special effect
    assert 'data-category="vfx" style="--c: #00897b' in shotlist          # magic a visual effect
    look_at(reports / "breakdown.html", "breakdown-example.png", height=1800)
    look_at(reports / "shotlist.html", "shotlist-example.png", height=900)


# ---------------------------------------------------------------------------------------------- a written script


def test_written_screenplay_fills_its_categories_and_take_status(tmp_path: Path) -> None:
    project = Project.load(night_market(tmp_path))
    generation = Generation(project)
    breakdown = breakdown_project(project)
    made = generation.generate(generation.orders(breakdown, ["1-1", "2-2"]))
    assert all(outcome.take and not outcome.error for outcome in made)
    generation.store.approve("set/market-street-night", 1)
    generation.store.approve("shot/2-2/sound/ambience", 1)

    paths = write_breakdown_report(project)
    assert [p.name for p in paths] == ["breakdown.html", "shotlist.html", "shotlist.csv"]
    rows = read_csv(paths[2])
    assert [r["shot"] for r in rows] == ["1-1", "2-1", "2-2"]
    stall, birds, landing = rows
    assert stall["take_status"] == "newest"
    assert stall["takes"] == ("set/noodle-stall-night v001 newest; shot/1-1/element/smoke v001 newest; "
                              "shot/1-1/sound/smoke v001 newest; shot/1-1/sound/ambience v001 newest")
    assert birds["take_status"] == "not made"                  # its set is approved, its magic never made
    assert birds["takes"] == ("set/market-street-night v001 approved; shot/2-1/element/magic - not made; "
                              "shot/2-1/sound/magic - not made; shot/2-1/sound/ambience - not made")
    assert landing["take_status"] == "approved"                 # its set and its ambience bed
    assert landing["takes"] == "set/market-street-night v001 approved; shot/2-2/sound/ambience v001 approved"
    assert (landing["description"], landing["duration"], landing["camera"], landing["elements"]) == \
        ("Soo-ah lands on the awning", "0.5", "static", "")
    assert birds["camera"] == "push-in 10%"

    html = paths[0].read_text("utf-8")
    stall_sheet, street = sheets_of(html)
    assert "<td>INT</td>" in stall_sheet and "NOODLE STALL" in stall_sheet
    assert "JUN" in box(stall_sheet, "cast") and "SOO-AH" in box(stall_sheet, "cast")
    assert "sword" in box(stall_sheet, "props")
    assert "JUN" in box(street, "cast") and "non-speaking" in box(street, "cast")
    assert "fall" in box(street, "stunts")
    assert "car" in box(street, "vehicles") and "horse" in box(street, "animals")
    assert "paper birds swirl up from the stalls" in box(street, "vfx")
    assert "<li>" not in box(street, "extras")                 # the parser finds no extras: the box stays empty
    shotlist = paths[1].read_text("utf-8")
    assert re.search(r'data-shot="2-2">.*?<span class="tag human"[^>]*>approved</span>', shotlist, re.DOTALL)
    assert re.search(r'data-shot="1-1">.*?<span class="tag estimate"[^>]*>newest</span>', shotlist, re.DOTALL)
    look_at(paths[0], "breakdown-night-market.png", height=1300)
    look_at(paths[1], "shotlist-night-market.png", height=600)


def test_korean_labels_and_a_colour_of_the_projects_own(tmp_path: Path) -> None:
    settings = '\n[reports]\nlanguage = "ko"\n\n[reports.breakdown.colours]\nvfx = "#FF00AA"\ncast = "#b00"\n'
    project = Project.load(night_market(tmp_path, reports=settings))
    paths = write_breakdown_report(project)
    html = paths[0].read_text("utf-8")
    assert '<html lang="ko">' in html
    for label in ("브레이크다운 시트", "배역", "스턴트", "소품", "차량", "특수 효과", "시각 효과 (VFX)", "분량",
                  "실내"):
        assert label in html, label
    assert "Breakdown sheet" not in html and "Cast<" not in html
    assert len(re.findall(r'data-category="vfx" style="--c: #ff00aa;', html)) == 2
    assert len(re.findall(r'data-category="cast" style="--c: #b00; --k: #ffffff', html)) == 2
    assert 'data-category="props" style="--c: #8e24aa;' in html           # the others keep the industry's
    shotlist = paths[1].read_text("utf-8")
    assert "촬영 목록" in shotlist and "미생성" in shotlist and "카메라" in shotlist
    assert read_csv(paths[2])[0]["take_status"] == "not made"              # the CSV's words stay for tools
    look_at(paths[0], "breakdown-ko.png", height=1300)


# ---------------------------------------------------------------------------------------------- refused


def test_a_bad_colour_is_refused_with_one_line(tmp_path: Path) -> None:
    root = night_market(tmp_path, reports='\n[reports.breakdown.colours]\nvfx = "teal-ish"\n')
    result = soundstage("report", "breakdown", root)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "soundstage.toml:8: reports.breakdown.colours.vfx: 'teal-ish' is not a colour; write it as #rrggbb" \
        in result.stderr
    assert not (root / "out").exists()


def test_a_colour_for_no_category_is_refused(tmp_path: Path) -> None:
    project = Project.load(night_market(tmp_path, reports='\n[reports.breakdown.colours]\nvfxx = "#00897b"\n'))
    with pytest.raises(ProjectError, match=r"soundstage.toml:8: reports.breakdown.colours.vfxx: is not a "
                                           r"breakdown category; categories: cast, stunts"):
        write_breakdown_report(project)


def test_page_counts_and_ink() -> None:
    assert [pages_of(n) for n in (1, 3, 8, 10, 16)] == ["1/8", "3/8", "1", "1 2/8", "2"]
    assert ink_on("#fbc02d") == "#1d232b" and ink_on("#8e24aa") == "#ffffff" and ink_on("#fff") == "#1d232b"


def test_an_omitted_scene_keeps_its_number_on_the_sheets(tmp_path: Path) -> None:
    project = Project.load(night_market(tmp_path))
    write_breakdown_report(project)                             # locks the scene numbers, as any breakdown does
    script = project.screenplay_path
    script.write_text(NIGHT_MARKET.replace(NIGHT_MARKET[NIGHT_MARKET.index("INT."):NIGHT_MARKET.index("EXT.")], ""),
                      encoding="utf-8")
    paths = write_breakdown_report(project)
    html = paths[0].read_text("utf-8")
    assert [re.search(r'id="scene-(\w+)"', s).group(1) for s in sheets_of(html)] == ["2"]  # type: ignore[union-attr]
    assert "OMITTED</b> Scene 1" in html
    assert "shot 1-1 in shots.toml belongs to scene 1" in html
    assert [r["shot"] for r in read_csv(paths[2])] == ["2-1", "2-2"]
