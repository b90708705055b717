"""Issue 21, the cast: cast/<name>/ read and checked, and the breakdown linking each member to its scenes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cast_film import make_cast_film
from soundstage.errors import ProjectError
from soundstage.pipeline import breakdown_project
from soundstage.pipeline.cast import read_cast
from soundstage.records.cast import CastMember
from soundstage.script.breakdown import cast_named


def _member(*names: str) -> CastMember:
    return CastMember(name=names[0], names=names, kind="creature", description="", screen="green", made="drawing",
                      references=())


def test_cast_is_read_with_every_name_and_its_references(tmp_path: Path) -> None:
    project = make_cast_film(tmp_path / "film")
    (member,) = read_cast(project)
    assert member.name == "dragon"
    assert member.names == ("dragon", "용", "이무기")
    assert (member.kind, member.screen, member.made, member.human_made) == ("creature", "green", "drawing", True)
    assert [p.name for p in member.references] == ["front.png"]


@pytest.mark.parametrize(("text", "named"), [
    ("용이 달 앞에서 몸을 푼다.", True),
    ("그는 용을 본다.", True),
    ("용은 잠들었다.", True),
    ("용에게 등불을 내민다.", True),
    ("용도 모르는 물건", False),          # 용도 (a use) is another word, not the dragon with 도
    ("용감한 소녀", False),
    ("이무기가 운다.", True),              # an alias
    ("The DRAGON answers with a roar.", True),
    ("the dragon's tail", True),
    ("two dragons circle", True),
    ("a dragonfly hovers", False),
    ("Snapdragon flowers", False),
])
def test_a_name_is_found_with_its_particles_and_as_a_whole_word(text: str, named: bool) -> None:
    assert cast_named([text], [_member("dragon", "용", "이무기")]) == (["dragon"] if named else [])


def test_names_are_matched_whatever_the_normalisation_and_sorted() -> None:
    import unicodedata

    fox = _member("구미호", "fox spirit")
    text = unicodedata.normalize("NFD", "구미호가 웃는다. The dragon sleeps.")   # as macOS may save it
    assert cast_named([text], [fox, _member("dragon", "용")]) == ["dragon", "구미호"]


def test_breakdown_links_the_cast_to_the_scenes_and_shots_that_name_it(tmp_path: Path) -> None:
    project = make_cast_film(tmp_path / "film")
    result = breakdown_project(project)
    assert [scene.cast for scene in result.scenes] == [["dragon"], ["dragon"], []]
    assert [shot.cast for shot in result.shots] == [["dragon"], ["dragon"], []]
    # the generated creature is one of the shot's layers, once (not the script's generic "dragon" beside it)
    assert result.shots[0].elements.count("dragon") == 1 and "dragon" not in result.shots[2].elements


def test_shots_toml_names_the_cast_of_a_shot(tmp_path: Path) -> None:
    project = make_cast_film(tmp_path / "film", shots='[[shot]]\nid = "3-1"\nscene = "3"\ncast = ["dragon"]\n'
                                                      '[[shot]]\nid = "1-1"\nscene = "1"\ncast = []\n')
    shots = {shot.id: shot for shot in breakdown_project(project).shots}
    assert shots["3-1"].cast == ["dragon"] and "dragon" in shots["3-1"].elements
    assert shots["1-1"].cast == [] and "dragon" not in shots["1-1"].elements


def test_breakdown_json_gives_each_shot_its_cast(tmp_path: Path) -> None:
    project = make_cast_film(tmp_path / "film")
    done = subprocess.run([sys.executable, "-c", "from soundstage.cli import app; app()", "breakdown",
                           str(project.root), "--json"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert [shot["cast"] for shot in json.loads(done.stdout)["shots"]] == [["dragon"], ["dragon"], []]


# ---------------------------------------------------------------------------------------------- bad input


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from soundstage.cli import app; app()", *args],
                          capture_output=True, text=True, check=False)


def test_a_reference_that_is_not_an_image_is_refused_in_one_line(tmp_path: Path) -> None:
    project = make_cast_film(tmp_path / "film")
    (project.root / "cast" / "dragon" / "side.png").write_text("not a picture")
    with pytest.raises(ProjectError, match="reference of cast member 'dragon' is not an image"):
        read_cast(project)
    done = _cli("breakdown", str(project.root))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "side.png" in done.stderr and "Traceback" not in done.stderr


def test_a_cast_member_with_no_references_is_refused(tmp_path: Path) -> None:
    project = make_cast_film(tmp_path / "film")
    (project.root / "cast" / "dragon" / "front.png").unlink()
    done = _cli("breakdown", str(project.root))
    assert done.returncode == 2
    assert "cast member 'dragon' has no reference images" in done.stderr and "Traceback" not in done.stderr


def test_a_cast_member_named_in_shots_toml_but_not_in_cast_is_refused(tmp_path: Path) -> None:
    project = make_cast_film(tmp_path / "film", shots='[[shot]]\nid = "1-1"\nscene = "1"\ncast = ["gumiho"]\n')
    with pytest.raises(ProjectError, match="cast member 'gumiho' is not in cast/") as caught:
        breakdown_project(project)
    assert caught.value.line == 4 and caught.value.shot == "1-1"
    done = _cli("breakdown", str(project.root))
    assert done.returncode == 2 and "gumiho" in done.stderr and "Traceback" not in done.stderr


def test_a_wrong_cast_toml_names_its_key(tmp_path: Path) -> None:
    project = make_cast_film(tmp_path / "film", cast='kind = "ghost"\n')
    with pytest.raises(ProjectError, match="kind") as caught:
        read_cast(project)
    assert caught.value.line == 1


def test_the_breakdown_sheet_lists_the_cast_member_in_its_scenes(tmp_path: Path) -> None:
    from soundstage.reports.breakdown import make_sheets

    result = breakdown_project(make_cast_film(tmp_path / "film"))
    sheets = make_sheets(result, {key: "#000000" for key in ("cast", "stunts", "silent_bits", "extras", "effects",
                                                              "props", "vehicles", "animals", "vfx", "sound",
                                                              "wardrobe", "makeup", "set_dressing", "equipment",
                                                              "notes")})
    cast = [[(item.name, item.note) for item in next(b for b in sheet.boxes if b.key == "cast").items]
            for sheet in sheets]
    assert cast == [[("dragon", "from cast/, with its references")], [("dragon", "from cast/, with its references")],
                    []]


def test_notes_beside_the_references_are_not_references(tmp_path: Path) -> None:
    project = make_cast_film(tmp_path / "film")
    (project.root / "cast" / "dragon" / "notes.md").write_text("sketched by the art department")
    (member,) = read_cast(project)
    assert [p.name for p in member.references] == ["front.png"]


def test_a_model_sheet_is_a_slot_of_its_own() -> None:
    from soundstage.records.cast import sheet_slot
    from soundstage.records.slot import Slot

    slot = Slot.parse("cast/구미호/sheet")
    assert (slot.role, slot.name, slot.shot, slot.is_sheet) == ("sheet", "구미호", None, True)
    assert str(slot) == sheet_slot("구미호") == "cast/구미호/sheet"
    assert not Slot.parse("set/cast").is_sheet
    with pytest.raises(ProjectError, match="cast/<name>/sheet"):
        Slot.parse("cast/dragon")


def test_a_note_naming_the_cast_member_links_it_to_the_scene(tmp_path: Path) -> None:
    from soundstage.script import read_screenplay
    from soundstage.script.breakdown import break_down

    script = tmp_path / "s.fountain"
    script.write_text("EXT. ROOFTOPS - NIGHT\n\nThe tiles shake.\n\n[[VFX: the dragon over the rooftops]]\n\n"
                      "EXT. SEA CLIFF - DUSK\n\nMIN-JI\nSleep, dragon.\n", encoding="utf-8")
    result = break_down(read_screenplay(script), members=[_member("dragon", "용")])
    assert [scene.cast for scene in result.scenes] == [["dragon"], []]   # a line of dialogue does not cast it
