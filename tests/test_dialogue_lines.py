"""The breakdown keeps each scene's spoken lines (Fountain and FDX), and shares them among the scene's shots."""

from __future__ import annotations

import json
from pathlib import Path

from soundstage.script import parse_fdx, parse_fountain
from soundstage.script.breakdown import break_down, read_shot_plan

FIXTURES = Path(__file__).parent / "fixtures" / "screenplays"

BILINGUAL = """\
Title: 두 목소리

INT. HANOK KITCHEN - NIGHT

Steam rises.

MIN-JI
(quietly)
Is anyone there?

할머니 (V.O.)
여기 있다, 얘야.

MIN-JI (O.S.)
Grandmother?

She turns.

할머니
들어오너라.
"""


def test_a_scenes_lines_keep_speaker_aside_extension_and_source_line() -> None:
    scene = break_down(parse_fountain(BILINGUAL)).scenes[0]
    assert [(line.character, line.extension, line.parenthetical, line.text, line.line) for line in scene.lines] == [
        ("MIN-JI", None, "(quietly)", "Is anyone there?", 9),
        ("할머니", "V.O.", None, "여기 있다, 얘야.", 12),        # heard off screen: subtitled too
        ("MIN-JI", "O.S.", None, "Grandmother?", 15),
        ("할머니", None, None, "들어오너라.", 20),
    ]


def test_fdx_and_fountain_give_the_same_lines() -> None:
    fountain = break_down(parse_fountain((FIXTURES / "three_scenes.fountain").read_text("utf-8")))
    fdx = break_down(parse_fdx((FIXTURES / "three_scenes.fdx").read_bytes()))
    said = [[(line.character, line.extension, line.parenthetical, line.text) for line in scene.lines]
            for scene in fountain.scenes]
    assert said == [[(line.character, line.extension, line.parenthetical, line.text) for line in scene.lines]
                    for scene in fdx.scenes]
    assert said[1][2] == ("GRANDMOTHER", "V.O.", None, "Follow the lantern's dark, child.")


def test_lines_go_to_the_shots_with_plates_in_order_unless_a_shot_names_its_own(tmp_path: Path) -> None:
    (tmp_path / "shots.toml").write_text(
        '[[shot]]\nid = "1-1"\nscene = "1"\nplate = "plates/a.mp4"\nduration = 2\n'
        '[[shot]]\nid = "1-2"\nscene = "1"\nduration = 2\n'           # no plate: an insert, no one speaks
        '[[shot]]\nid = "1-3"\nscene = "1"\nplate = "plates/b.mp4"\nduration = 2\n'
        '[[shot]]\nid = "1-4"\nscene = "1"\nlines = [4, 9]\n', encoding="utf-8")
    result = break_down(parse_fountain(BILINGUAL), plan=read_shot_plan(tmp_path / "shots.toml"))
    assert [(shot.id, shot.lines) for shot in result.shots] == [("1-1", [1, 2]), ("1-2", []), ("1-3", [3]),
                                                               ("1-4", [4])]
    assert any("shot 1-4" in warning and "line 9" in warning and "4 lines" in warning for warning in result.warnings)


def test_the_json_carries_the_lines() -> None:
    data = json.loads(break_down(parse_fountain(BILINGUAL)).to_json())
    assert data["scenes"][0]["lines"][1] == {"character": "할머니", "text": "여기 있다, 얘야.", "parenthetical": None,
                                             "extension": "V.O.", "line": 12}
    assert data["shots"][0]["lines"] == [1, 2, 3, 4]
