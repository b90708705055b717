"""Breakdown: scenes, locked scene numbers, elements, shots.toml, prompts and the JSON contract."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import pytest

from soundstage.errors import ProjectError, ScreenplayError
from soundstage.pipeline import breakdown_project
from soundstage.project import Project
from soundstage.script import parse_fdx, parse_fountain
from soundstage.script.breakdown import (
    _FOLDS,
    break_down,
    element_table,
    find_elements,
    lock_scene_ids,
    read_shot_plan,
)

EXAMPLE = Path(__file__).parent.parent / "examples" / "moonlit-hanok"


@pytest.fixture
def example(tmp_path: Path) -> Project:
    copy = tmp_path / "moonlit-hanok"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("out", ".soundstage", "*.mp4", "source"))
    for plate in (EXAMPLE / "plates").glob("*.mp4"):
        (copy / "plates" / plate.name).write_bytes(b"")   # breakdown checks plates exist, not their pixels
    return Project.load(copy)


def test_example_breakdown(example: Project) -> None:
    result = breakdown_project(example)
    assert [s.id for s in result.scenes] == ["1", "2", "3", "4"]
    pass_, desert, rooftops, cliff = result.scenes
    assert (pass_.int_ext, pass_.location, pass_.time) == ("EXT", "MOUNTAIN PASS", "DAWN")
    assert pass_.characters == ["MIN-JI", "GRANDMOTHER"]
    assert rooftops.time == "NIGHT" and rooftops.characters == ["MIN-JI"]
    assert {e.name for e in pass_.elements} == {"fog", "lantern"}
    assert {e.name for e in desert.elements} == {"sparks", "smoke"}
    dragon = next(e for e in rooftops.elements if e.name == "dragon")
    assert dragon.category == "vfx"
    assert {"fire", "dragon"} <= {e.name for e in rooftops.elements}
    assert {"rain", "magic", "dragon"} <= {e.name for e in cliff.elements}
    assert [s.id for s in result.shots] == ["1-1", "2-1", "2-2", "2-3", "3-1", "3-2", "4-1"]
    assert result.shots[5].plate is None and result.shots[5].duration == 3.0
    assert result.shots[4].screen == "blue" and result.shots[4].elements == ["fire"]
    # one set per location and time, shared by both rooftop shots
    assert result.shots[4].set == result.shots[5].set == "hanok-rooftops-night"
    assert len(result.sets) == 4
    prompt = result.shots[0].prompt
    assert prompt.startswith("mountain pass at dawn. Fog rolls through the pines")
    assert "Kodak Vision3 500T" in prompt                      # the look is in every prompt
    assert "dragon's fire sweeps" in result.shots[5].prompt     # shots.toml prompt wins


def test_breakdown_json_contract(example: Project) -> None:
    data = json.loads(breakdown_project(example).to_json())
    scene = data["scenes"][2]
    assert {"id", "number", "int_ext", "location", "time", "eighths", "line", "characters", "elements"} <= set(scene)
    assert scene["location"] == "HANOK ROOFTOPS" and scene["line"] == 37
    assert {"category": "vfx", "name": "dragon", "line": 43} in scene["elements"]
    shot = data["shots"][0]
    assert {"id", "scene", "prompt", "plate", "duration", "elements"} <= set(shot)
    assert shot["plate"] == "plates/pass_walk.mp4" and shot["duration"] == 4.0
    assert "action" not in scene


V1 = """\
EXT. MOUNTAIN PASS - DAWN

Fog.

EXT. DESERT - DAY

Sand.

EXT. SEA CLIFF - DUSK

Rain.
"""


def test_scene_numbers_are_locked_across_revisions(tmp_path: Path) -> None:
    (tmp_path / "soundstage.toml").write_text('title = "T"\nscreenplay = "s.fountain"\n')
    script = tmp_path / "s.fountain"
    script.write_text(V1)
    (tmp_path / "shots.toml").write_text('[[shot]]\nid = "3-1"\nscene = "3"\nduration = 2.5\n')
    project = Project.load(tmp_path)
    first = breakdown_project(project)
    assert [s.id for s in first.scenes] == ["1", "2", "3"]
    assert first.shots[-1].id == "3-1" and first.shots[-1].duration == 2.5

    # a scene inserted after scene 1 becomes 1A; the sea cliff keeps its number and its shot edits
    script.write_text(V1.replace("EXT. DESERT", "INT. CAVE - NIGHT\n\nDrip.\n\nEXT. DESERT"))
    second = breakdown_project(project)
    assert [(s.id, s.location) for s in second.scenes] == [
        ("1", "MOUNTAIN PASS"), ("1A", "CAVE"), ("2", "DESERT"), ("3", "SEA CLIFF")]
    assert second.shots[-1].id == "3-1" and second.shots[-1].duration == 2.5

    # cutting the sea cliff reports scene 3 as omitted and keeps its shots.toml entry out of the render
    script.write_text(V1.split("EXT. SEA CLIFF")[0].replace("EXT. DESERT", "INT. CAVE - NIGHT\n\nDrip.\n\nEXT. DESERT"))
    third = breakdown_project(project)
    assert [s.id for s in third.scenes] == ["1", "1A", "2"]
    assert third.omitted == ["3"]
    assert any("shot 3-1" in w and "scene 3" in w for w in third.warnings)
    assert 'id = "3-1"' in (tmp_path / "shots.toml").read_text()   # never rewritten

    # restoring it gives the old number back, never a new one
    script.write_text(V1.replace("EXT. DESERT", "INT. CAVE - NIGHT\n\nDrip.\n\nEXT. DESERT"))
    assert [s.id for s in breakdown_project(project).scenes] == ["1", "1A", "2", "3"]


def test_numbers_written_in_the_script_win() -> None:
    ids, omitted = lock_scene_ids([("12A", "EXT A"), (None, "EXT B"), ("7", "INT C")], [])
    assert ids == ["12A", "1", "7"] and omitted == []
    ids, _ = lock_scene_ids([(None, "X"), (None, "Y")], [("1", "Z"), ("2", "Y")])
    assert ids == ["A1", "2"]


def test_duplicate_scene_numbers_are_refused(tmp_path: Path) -> None:
    screenplay = parse_fountain("INT. A - DAY #5#\n\nx\n\nINT. B - DAY #5#\n\ny\n", source=tmp_path / "s.fountain")
    with pytest.raises(ScreenplayError, match=r"s\.fountain:5: scene number 5 is used twice \(first at line 1\)"):
        break_down(screenplay)


def test_a_scene_number_too_long_for_its_shot_ids_is_refused(tmp_path: Path) -> None:
    screenplay = parse_fountain("INT. A - DAY #1#\n\nx\n\nINT. B - DAY #" + "2" * 300 + "#\n\ny\n",
                                source=tmp_path / "s.fountain")
    with pytest.raises(ScreenplayError, match=r"s\.fountain:5: scene number 2{16}… is 300 characters; at most 16"):
        break_down(screenplay)


def test_a_scene_number_that_cannot_name_a_shot_is_one_line(tmp_path: Path) -> None:
    fdx = tmp_path / "s.fdx"
    fdx.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<FinalDraft DocumentType="Script" Version="5"><Content>\n'
                   '<Paragraph Number="12 A" Type="Scene Heading"><Text>INT. HOUSE - NIGHT</Text></Paragraph>\n'
                   '<Paragraph Type="Action"><Text>Anna waits.</Text></Paragraph>\n</Content></FinalDraft>\n')
    with pytest.raises(ScreenplayError, match=r"s\.fdx:3: scene number '12 A' .*letters, digits.*write it '12A'"):
        break_down(parse_fdx(fdx.read_bytes(), source=fdx))


def test_script_without_scenes_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScreenplayError, match="has no scene headings"):
        break_down(parse_fountain("Just some action.\n", source=tmp_path / "s.fountain"))


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Flames leap from the torches.", {"fire"}),
        ("The tower EXPLODES in a fireball.", {"explosion"}),
        ("비가 내린다. 멀리서 폭발이 일어난다.", {"rain", "explosion"}),
        ("그녀는 비밀을 말한다.", set()),              # 비 inside 비밀 is not rain
        ("하늘에 용이 나타난다.", {"dragon"}),
        ("Sparks fly from the anvil into the mist.", {"sparks", "fog"}),
        ("Nothing special here.", set()),
    ],
)
def test_elements_found_in_action(text: str, names: set[str]) -> None:
    assert {ref.name for ref in find_elements(text, 3)} == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("도깨비불이 숲 위를 떠다닌다.", {"wisp"}),            # a will-o'-the-wisp light, not a creature
        ("도깨비불 사이로 도깨비가 걸어 나온다.", {"wisp", "creature"}),
        ("혼불이 지붕 위로 날아간다.", {"wisp"}),
        ("A will-o'-the-wisp drifts over the marsh.", {"wisp"}),
        ("불꽃이 타오른다.", {"fire"}),                        # flame
        ("연기자가 무대에 선다.", set()),                       # an actor, not smoke
        ("연기자들이 연기력을 뽐낸다.", set()),
        ("회의가 연기되었다.", set()),                          # postponed
        ("공장에서 검은 연기가 피어오른다.", {"smoke"}),          # black smoke: smoke, and no sword
        ("검은 옷을 입은 남자가 검을 뽑는다.", {"sword"}),        # 검은 is black; 검을 is the sword
        ("불길한 예감이 든다.", set()),                          # ominous, not a blaze
        ("불길이 치솟는다.", {"fire"}),
        ("빵이 불티나게 팔린다.", set()),                        # selling like hot cakes
        ("그는 비밀을 숨긴다. 비행기가 떠난다. 준비가 끝났다.", set()),
        ("귀신같이 알아챈다.", set()),                          # uncannily
        ("눈이 초롱초롱하다.", set()),                          # bright-eyed, no lantern
        ("He fires the pistol at the door.", set()),            # a gunshot, not a fire
        ("Fires burn across the hills.", {"fire"}),
    ],
)
def test_lookalikes_and_compounds_take_the_longest_word(text: str, names: set[str]) -> None:
    assert {ref.name for ref in find_elements(text, 3)} == names


def test_elements_from_notes_and_korean_headings() -> None:
    screenplay = parse_fountain(
        "S#1. 한옥 지붕 위 (밤)\n\n민지가 지붕 위를 달린다.\n\n[[VFX: dragon over the rooftops]]\n\n"
        "[[PROP: grandmother's brass compass]]\n"
    )
    result = break_down(screenplay)
    scene = result.scenes[0]
    assert (scene.id, scene.location, scene.time, scene.time_original) == ("1", "한옥 지붕 위", "NIGHT", "밤")
    assert [(e.category, e.name, e.line) for e in scene.elements] == [
        ("vfx", "dragon", 5), ("props", "grandmother's brass compass", 7)]


def test_eighths_of_a_page() -> None:
    short = break_down(parse_fountain("INT. A - DAY\n\nShe waits.\n"))
    assert short.scenes[0].eighths == 1
    long_action = "\n\n".join("A line of action that fills most of the printed width of the page." for _ in range(18))
    full = break_down(parse_fountain(f"INT. A - DAY\n\n{long_action}\n"))
    # 67 characters print as two lines at 61 wide: heading 2 + 18 × (2 + blank) = 56 lines ≈ one 55-line page.
    assert full.scenes[0].eighths == 8


def test_non_speaking_characters() -> None:
    screenplay = parse_fountain(
        "INT. A - DAY\n\nMIN-JI\nHello.\n\nINT. B - NIGHT\n\nMIN-JI sleeps. An OLD MONK (70s) watches.\n"
    )
    second = break_down(screenplay).scenes[1]
    assert second.characters == [] and second.non_speaking == ["MIN-JI", "OLD MONK"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('[[shot]]\nid = "1-1"\nscene = "1"\nplate = "../../secret.mp4"\n',
         r"shots\.toml:4: plate = '\.\./\.\./secret\.mp4' points outside the project folder"),
        ('[[shot]]\nid = "1-1"\nscene = "1"\nplate = "plates/missing.mp4"\n',
         r"shots\.toml:4, shot 1-1: plate 'plates/missing\.mp4' does not exist"),
        ('[[shot]]\nid = "1-1"\nscene = "1"\nduraton = 3\n',
         r"shots\.toml:4, shot 1-1: duraton: is not a known shot setting"),
        ('[[shot]]\nid = "1-1"\nscene = "1"\n[[shot]]\nid = "1-1"\nscene = "1"\n',
         r"shots\.toml:5, shot 1-1: shot id '1-1' is used twice"),
        ('[[shot]]\nid = "' + "A" * 300 + '"\nscene = "1"\n',
         r"shots\.toml:2, shot A{32}…: id: is 300 characters; a shot id is at most 32"),
        ('[[shot]]\nid = "1/1"\nscene = "1"\n',
         r"shots\.toml:2, shot 1/1: id: '1/1' may hold only letters, digits, '\.', '_' and '-'"),
        ('[[shot]]\nid = ".hidden"\nscene = "1"\n', r"id: '\.hidden' must start with a letter or digit"),
        ('[[shots]]\nid = "1-1"\n', "unknown table 'shots'"),
        ('[[shot]\n', "not valid TOML"),
    ],
)
def test_bad_shot_plans_are_refused_with_file_and_line(tmp_path: Path, entry: str, message: str) -> None:
    (tmp_path / "soundstage.toml").write_text('title = "T"\nscreenplay = "s.fountain"\n')
    (tmp_path / "s.fountain").write_text(V1)
    (tmp_path / "shots.toml").write_text(entry)
    with pytest.raises(ProjectError, match=message) as caught:
        breakdown_project(Project.load(tmp_path))
    assert "\n" not in str(caught.value)


def test_longest_shot_id_in_any_script_is_read(tmp_path: Path) -> None:
    longest = "씬" * 31 + "1"                      # 32 letters, 94 bytes of UTF-8: a file name fits
    (tmp_path / "shots.toml").write_text(f'[[shot]]\nid = "{longest}"\nscene = "1"\n', encoding="utf-8")
    assert [entry.id for entry in read_shot_plan(tmp_path / "shots.toml").entries] == [longest]


def _alternation_refs(text: str) -> list[tuple[str, str]]:
    """The vocabulary as the one case-insensitive alternation it was before (each ``\\bword\\b``, a Korean word
    after no syllable, longest word first): the oracle of what the one matcher must find."""
    words = [(raw, item) for item in element_table()["element"] for raw in item["words"]]
    words += [(raw, None) for item in element_table()["element"] for raw in item.get("lookalikes", ())]
    words.sort(key=lambda pair: -len(pair[0]))
    parts = []
    for raw, _ in words:
        if not re.search("[가-힣]", raw):
            parts.append(rf"\b{re.escape(raw)}\b")
        elif len(raw) == 1:
            parts.append(rf"(?<![가-힣]){re.escape(raw)}(?:[이가을를은는에의도로와과])?(?![가-힣])")
        else:
            parts.append(rf"(?<![가-힣]){re.escape(raw)}")
    pattern = re.compile("|".join(f"({part})" for part in parts), re.IGNORECASE)
    return [(item["category"], item["name"]) for match in pattern.finditer(text)
            if (item := words[(match.lastindex or 0) - 1][1]) is not None]


def test_one_matcher_finds_what_the_alternation_found() -> None:
    words = [raw for item in element_table()["element"] for raw in [*item["words"], *item.get("lookalikes", ())]]
    pieces = [*words, "x", "the", "é", "가", "_", "-", "'", "\u212a", "\u0130", "\u0131", "\u017f", "FIRE", "Fire"]
    rng = random.Random(16)
    for _ in range(2000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " ", "s", "이", ".", "-", "가", "\n", "ing"])
                       for _ in range(rng.randint(1, 8)))
        assert [(ref.category, ref.name) for ref in find_elements(text, 1)] == _alternation_refs(text), text


def test_letters_case_folded_to_a_first_letter_are_the_ones_re_folds() -> None:
    firsts = {raw[0].lower() for item in element_table()["element"] for raw in item["words"] if raw[0].isascii()}
    cased = [chr(code) for code in range(0x10000) if chr(code).lower() != chr(code).upper()]
    for letter in sorted(firsts | set(_FOLDS)):
        folded = {ch for ch in cased if re.fullmatch(letter, ch, re.IGNORECASE)}
        assert folded == {letter, letter.upper(), *_FOLDS.get(letter, "")}, letter
