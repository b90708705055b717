"""The Fountain parser: every element of the 1.1 spec, with the source line each one came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundstage.errors import ScreenplayError
from soundstage.script import Element, Heading, Kind, Run, parse_fountain, read_screenplay
from soundstage.script.fountain import styled

FIXTURES = Path(__file__).parent.parent / "fixtures" / "screenplays"


def summary(elements: tuple[Element, ...]) -> list[tuple[int, Kind, str]]:
    return [(e.line, e.kind, e.text) for e in elements]


def test_every_element_with_its_line() -> None:
    screenplay = read_screenplay(FIXTURES / "every_element.fountain")
    assert screenplay.title_page == {
        "Title": "The Lantern Keeper", "Credit": "Written by", "Author": "Min Park",
        "Draft date": "25 November 2026", "Contact": "soundstage contributors\nSeoul",
    }
    assert screenplay.title == "The Lantern Keeper" and screenplay.encoding == "utf-8"
    assert summary(screenplay.elements) == [
        (9, Kind.SECTION, "ACT ONE"),
        (11, Kind.SYNOPSIS, "Min-ji climbs to the pass."),
        (13, Kind.SECTION, "The Pass"),
        (15, Kind.SCENE_HEADING, "EXT. MOUNTAIN PASS - DAWN"),
        (17, Kind.ACTION, "Fog rolls through the pines. MIN-JI (20s) climbs.\n    The lantern swings low on her pack."),
        (20, Kind.ACTION, "THE LANTERN GOES OUT\nShe stops."),
        (23, Kind.CHARACTER, "MIN-JI"),
        (24, Kind.PARENTHETICAL, "(to herself)"),
        (25, Kind.DIALOGUE, "Three nights left."),
        (27, Kind.CHARACTER, "GRANDMOTHER (V.O.)"),
        (28, Kind.DIALOGUE, "Follow the dark, child.\n\nWhere it will not light, the dragon sleeps."),
        (32, Kind.CHARACTER, "MIN-JI (CONT'D)"),
        (33, Kind.DIALOGUE, "I remember."),
        (35, Kind.CHARACTER, "GRANDMOTHER"),
        (36, Kind.PARENTHETICAL, "(whispering, as the\nwind rises)"),
        (38, Kind.DIALOGUE, "Remember."),
        (40, Kind.CHARACTER, "McKENNA"),
        (41, Kind.DIALOGUE, "Keep the receipt."),
        (43, Kind.TRANSITION, "CUT TO:"),
        (45, Kind.SCENE_HEADING, "SNIPER SCOPE POV"),
        (47, Kind.SCENE_HEADING, "int. village market - night"),
        (49, Kind.ACTION, "Lanterns everywhere. Smoke drifts."),
        (51, Kind.NOTE, "PROP: grandmother's brass\ncompass"),
        # lines 54-56 are boneyard: gone, and the lines after it keep their numbers
        (58, Kind.SCENE_HEADING, "INT./EXT. BUS - CONTINUOUS"),
        (60, Kind.TRANSITION, "Burn to White."),
        (62, Kind.PAGE_BREAK, ""),
        (64, Kind.LYRICS, "Light the lantern, light the way,\nkeep the dragon's dark at bay."),
        (67, Kind.SCENE_HEADING, "I/E CAR - SUNSET"),
        (69, Kind.ACTION, "Underlined and bold italic and *not italic*."),
        (71, Kind.CENTERED, "THE END"),
    ]
    by_line = {e.line: e for e in screenplay.elements}
    assert [by_line[n].depth for n in (9, 13)] == [1, 2]
    assert by_line[15].heading == Heading("EXT", "MOUNTAIN PASS", "DAWN", "DAWN", "1")
    assert by_line[45].heading == Heading(None, "SNIPER SCOPE POV", None, None, None)
    assert by_line[47].heading == Heading("INT", "village market", "NIGHT", "night", None)
    assert by_line[58].heading == Heading("INT/EXT", "BUS", "CONTINUOUS", "CONTINUOUS", None)
    assert by_line[67].heading == Heading("INT/EXT", "CAR", "DUSK", "SUNSET", None)
    assert [(by_line[n].character, by_line[n].extension) for n in (23, 27, 32, 35, 40)] == [
        ("MIN-JI", None), ("GRANDMOTHER", "V.O."), ("MIN-JI", "CONT'D"), ("GRANDMOTHER", None), ("McKENNA", None)]
    # dual dialogue: the caret's speech and the one before it, every element of both
    assert [n for n, e in by_line.items() if e.dual] == [32, 33, 35, 36, 38]
    assert [n for n, e in by_line.items() if e.forced] == [20, 40, 45, 60, 64]
    assert by_line[49].notes == ("VFX: a thousand lanterns",)
    assert all(not e.notes for n, e in by_line.items() if n != 49)


def test_emphasis_becomes_runs_and_text_stays_plain() -> None:
    screenplay = read_screenplay(FIXTURES / "every_element.fountain")
    by_line = {e.line: e for e in screenplay.elements}
    assert by_line[69].runs == (
        Run("Underlined", underline=True), Run(" and "), Run("bold italic", bold=True, italic=True),
        Run(" and *not italic*."))
    assert by_line[28].runs[1] == Run("dark", bold=True)
    assert by_line[17].runs[1] == Run("low", italic=True)
    for element in screenplay.elements:
        assert "".join(run.text for run in element.runs) == element.text


@pytest.mark.parametrize(
    ("written", "runs"),
    [
        ("plain", (Run("plain"),)),
        ("*italic*", (Run("italic", italic=True),)),
        ("**bold**", (Run("bold", bold=True),)),
        ("***both***", (Run("both", bold=True, italic=True),)),
        ("_**bold underline**_", (Run("bold underline", bold=True, underline=True),)),
        ("**bold *and italic* text**", (Run("bold ", bold=True), Run("and italic", bold=True, italic=True),
                                        Run(" text", bold=True))),
        ("Dial *69 then *23", (Run("Dial *69 then *23"),)),          # a star before a space is not emphasis
        ("the snake_case_name stays", (Run("the snake_case_name stays"),)),
        ("**\\*9765\\***", (Run("*9765*", bold=True),)),                # the spec's escape example
        ("*not across\na line break*", (Run("*not across\na line break*"),)),
        ("", ()),
    ],
)
def test_emphasis(written: str, runs: tuple[Run, ...]) -> None:
    text, got = styled(written)
    assert got == runs
    assert text == "".join(r.text for r in runs)


def test_dual_dialogue_caret_without_a_speech_before_it_is_ignored() -> None:
    elements = parse_fountain("Rain.\n\nSTEEL ^\nAlone.\n").elements
    assert [(e.kind, e.text, e.dual) for e in elements] == [
        (Kind.ACTION, "Rain.", False), (Kind.CHARACTER, "STEEL", False), (Kind.DIALOGUE, "Alone.", False)]


def test_dual_dialogue_needs_the_speeches_side_by_side() -> None:
    elements = parse_fountain("A\nHi.\n\nRain falls.\n\nB ^\nHo.\n").elements
    assert not any(e.dual for e in elements)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a heading needs a blank line after it (spec); without one it is action
        ("INT. HOUSE - DAY\nJohn enters.\n", [(1, Kind.ACTION, "INT. HOUSE - DAY\nJohn enters.")]),
        # a cue needs a line of dialogue right after it
        ("MIN-JI\n\nHello.\n", [(1, Kind.ACTION, "MIN-JI"), (3, Kind.ACTION, "Hello.")]),
        # ... and a blank line before it
        ("She waits.\nMIN-JI\nHello.\n", [(1, Kind.ACTION, "She waits.\nMIN-JI\nHello.")]),
        # a transition stands alone; "CUT TO:" followed by a line is not a cue either
        ("CUT TO:\nThe desert.\n", [(1, Kind.ACTION, "CUT TO:\nThe desert.")]),
        # ellipses do not force a heading
        ("...and then.\n", [(1, Kind.ACTION, "...and then.")]),
        ("23\nSkidoo.\n", [(1, Kind.ACTION, "23\nSkidoo.")]),
        ("R2D2\nBeep.\n", [(1, Kind.CHARACTER, "R2D2"), (2, Kind.DIALOGUE, "Beep.")]),
        ("    EXT. LAKE - DAY\n", [(1, Kind.SCENE_HEADING, "EXT. LAKE - DAY")]),
        ("\tIndented\taction.\n", [(1, Kind.ACTION, "    Indented    action.")]),
        ("Windows\r\nline ends\r\n\r\nOld Mac\rline ends\r", [(1, Kind.ACTION, "Windows\nline ends"),
                                                             (4, Kind.ACTION, "Old Mac\nline ends")]),
        ("> THE END <\n> FIN <\n", [(1, Kind.CENTERED, "THE END\nFIN")]),
        ("==\n", [(1, Kind.SYNOPSIS, "=")]),
        ("====\n", [(1, Kind.PAGE_BREAK, "")]),
        ("### Sequence three\n", [(1, Kind.SECTION, "Sequence three")]),
        ("@Alone\n", [(1, Kind.ACTION, "@Alone")]),
        # two spaces keep an action paragraph together too
        ("Rain.\n  \nMore rain.\n", [(1, Kind.ACTION, "Rain.\n\nMore rain.")]),
        ("S#1. 거실\n  \n민지\n안녕.\n", [(1, Kind.SCENE_HEADING, "S#1. 거실"), (3, Kind.CHARACTER, "민지"),
                                         (4, Kind.DIALOGUE, "안녕.")]),
        ("[[note]]\n  \nAction.\n", [(3, Kind.ACTION, "Action.")]),
    ],
)
def test_paragraph_rules(text: str, expected: list[tuple[int, Kind, str]]) -> None:
    assert summary(parse_fountain(text).elements) == expected


def test_a_note_line_before_a_two_space_line_is_kept() -> None:
    (action,) = parse_fountain("[[note]]\n  \nAction.\n").elements
    assert (action.line, action.text, action.notes) == (3, "Action.", ("note",))


def test_parentheticals_inside_dialogue() -> None:
    elements = parse_fountain("MIN-JI\n(beat)\nYes.\n(laughs) Really?\nNo.\n(quietly)\n").elements
    assert summary(elements) == [
        (1, Kind.CHARACTER, "MIN-JI"), (2, Kind.PARENTHETICAL, "(beat)"),
        (3, Kind.DIALOGUE, "Yes.\n(laughs) Really?\nNo."), (6, Kind.PARENTHETICAL, "(quietly)")]


def test_lyrics_inside_dialogue() -> None:
    elements = parse_fountain("MIN-JI\n~Light the lantern,\n~light the way.\nThere.\n").elements
    assert summary(elements) == [
        (1, Kind.CHARACTER, "MIN-JI"), (2, Kind.LYRICS, "Light the lantern,\nlight the way."),
        (4, Kind.DIALOGUE, "There.")]


def test_notes() -> None:
    text = (
        "INT. HOUSE - DAY [[check the location]]\n"   # 1
        "\n"
        "[[VFX: dragon]] [[PROP: compass]]\n"          # 3: two standalone notes on one line
        "[[SFX: thunder\n"                              # 4: a note over two lines
        "far off]]\n"
        "\n"
        "MIN-JI\n"                                       # 7
        "Hello.\n"
        "[[she cries]]\n"                                # 9: a note on its own line inside a speech
        "Goodbye.\n"
        "\n"
        "[[not a note\n"                                 # 12: a blank line ends any note
        "\n"
        "after all]]\n"                                  # 14
    )
    elements = parse_fountain(text).elements
    assert summary(elements) == [
        (1, Kind.SCENE_HEADING, "INT. HOUSE - DAY"),
        (3, Kind.NOTE, "VFX: dragon"), (3, Kind.NOTE, "PROP: compass"), (4, Kind.NOTE, "SFX: thunder\nfar off"),
        (7, Kind.CHARACTER, "MIN-JI"), (8, Kind.DIALOGUE, "Hello.\nGoodbye."),
        (12, Kind.ACTION, "[[not a note"), (14, Kind.ACTION, "after all]]"),
    ]
    assert elements[0].notes == ("check the location",)
    assert elements[0].heading is not None and elements[0].heading.location == "HOUSE"
    assert elements[5].notes == ("she cries",)


def test_boneyard_keeps_line_numbers_and_drops_whole_lines() -> None:
    text = (
        "/* a comment\n"        # 1
        "over three\n"
        "lines */\n"
        "\n"
        "MIN-JI\n"              # 5
        "Hi /* gone */there.\n"
        "/* a cut line */\n"    # 7: vanishes, the speech goes on
        "Still talking.\n"
        "\n"
        "EXT. LAKE - DAY\n"     # 10
    )
    assert summary(parse_fountain(text).elements) == [
        (5, Kind.CHARACTER, "MIN-JI"), (6, Kind.DIALOGUE, "Hi there.\nStill talking."),
        (10, Kind.SCENE_HEADING, "EXT. LAKE - DAY")]


def test_unclosed_boneyard_names_the_file_and_the_line_it_opened(tmp_path: Path) -> None:
    path = tmp_path / "bone.fountain"
    path.write_text("INT. A - DAY\n\nAction.\n\n/* never closed\n\nmore\n", encoding="utf-8")
    with pytest.raises(ScreenplayError) as caught:
        read_screenplay(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:5: boneyard '/*' is never closed") and "\n" not in message
    assert caught.value.line == 5 and caught.value.path == path


@pytest.mark.parametrize(
    ("text", "title_page", "first"),
    [
        ("Title: A\nAuthor: B\n\nEXT. LAKE - DAY\n", {"Title": "A", "Author": "B"}, (4, Kind.SCENE_HEADING)),
        ("Title:\n\t**A**\n\tB\n\nAction.\n", {"Title": "A\nB"}, (5, Kind.ACTION)),
        ("Notes: one\n   two\n\nAction.\n", {"Notes": "one\ntwo"}, (4, Kind.ACTION)),
        ("EXT. LAKE: DAY - NIGHT\n\nAction.\n", {}, (1, Kind.SCENE_HEADING)),   # not a key: value
        ("CUT TO:\n\nAction.\n", {}, (1, Kind.TRANSITION)),
        ("Title: A\nthis is not a key\n\nAction.\n", {}, (1, Kind.ACTION)),
        ("Action first.\n\nTitle: too late\n", {}, (1, Kind.ACTION)),
    ],
)
def test_title_page(text: str, title_page: dict[str, str], first: tuple[int, Kind]) -> None:
    screenplay = parse_fountain(text)
    assert screenplay.title_page == title_page
    assert (screenplay.elements[0].line, screenplay.elements[0].kind) == first


def test_untitled_screenplay_is_named_after_its_file(tmp_path: Path) -> None:
    assert parse_fountain("Action.\n", source=tmp_path / "lantern.fountain").title == "lantern"
    assert parse_fountain("Action.\n").title == "Untitled"
    assert parse_fountain("Action.\n").source is None


def test_hangul_cues_and_korean_headings() -> None:
    text = (
        "S#1. 거실 (밤)\n"           # 1: a Korean heading needs no blank line after it
        "민지가 들어온다.\n"
        "\n"
        "민지\n"                      # 4
        "할머니?\n"
        "\n"
        "민지가 달린다.\n"           # 7: a full stop: action, not a name
        "숨이 차다.\n"
        "\n"
        "형사 2 (V.O.)\n"            # 10
        "멈춰!\n"
        "\n"
        "@민지야\n"                   # 13: forced
        "응.\n"
        "\n"
        "!민지\n"                      # 16: forced action
        "달린다.\n"
        "\n"
        "이 줄은 스무 글자를 훨씬 넘는 아주 긴 한국어 지문입니다\n"   # 19: too long for a name
        "다음 줄.\n"
    )
    elements = parse_fountain(text).elements
    assert summary(elements) == [
        (1, Kind.SCENE_HEADING, "S#1. 거실 (밤)"), (2, Kind.ACTION, "민지가 들어온다."),
        (4, Kind.CHARACTER, "민지"), (5, Kind.DIALOGUE, "할머니?"),
        (7, Kind.ACTION, "민지가 달린다.\n숨이 차다."),
        (10, Kind.CHARACTER, "형사 2 (V.O.)"), (11, Kind.DIALOGUE, "멈춰!"),
        (13, Kind.CHARACTER, "민지야"), (14, Kind.DIALOGUE, "응."),
        (16, Kind.ACTION, "민지\n달린다."),
        (19, Kind.ACTION, "이 줄은 스무 글자를 훨씬 넘는 아주 긴 한국어 지문입니다\n다음 줄."),
    ]
    assert elements[0].heading == Heading(None, "거실", "NIGHT", "밤", "1")
    assert (elements[5].character, elements[5].extension) == ("형사 2", "V.O.")


def test_every_element_knows_its_kind_fields_only() -> None:
    for element in read_screenplay(FIXTURES / "every_element.fountain").elements:
        assert (element.heading is not None) == (element.kind is Kind.SCENE_HEADING)
        assert (element.character is not None) == (element.kind is Kind.CHARACTER)
        assert element.depth == 0 or element.kind is Kind.SECTION


FRAGMENTS = ["", "", "  ", " ", "\t", "INT. HOUSE - DAY", "S#3. 거실 (밤)", "MIN-JI", "민지", "MIN-JI ^",
             "@Mc", "(beat)",
             "(long", "paren)", "Hello *there*.", "**bold", "_u_", "\\*", "[[note", "note]]", "[[n]]", "/* b */",
             "*/", "> END <", ">CUT TO:", "CUT TO:", "===", "= syn", "# sec", "~la", "!forced", ".HEAD", "...",
             "Title: X", "    indented", "^", "@", "(", ")", "[[", "]]", "#1#", "EXT. A - B #2A#"]


def test_any_mix_of_fountain_fragments_parses_with_sane_lines() -> None:
    import random

    rng = random.Random(1)
    for _ in range(1500):
        lines = [rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 25))]
        text = "\n".join(lines)
        try:
            screenplay = parse_fountain(text)
        except ScreenplayError as error:        # only an unclosed boneyard may be refused
            assert "boneyard" in str(error) and error.line is not None and 1 <= error.line <= len(lines)
            continue
        previous = 0
        for element in screenplay.elements:
            assert previous <= element.line <= len(lines), (text, element)
            assert "".join(run.text for run in element.runs) == element.text
            for text in (element.text, *element.notes):
                assert not set(text) & set("\ufdd0\ufdd1\ufdd2\ufdd3\ufdd4"), element   # no stand-ins left
            previous = element.line
        assert not set("".join(screenplay.title_page.values())) & set("\ufdd0\ufdd1\ufdd2")
