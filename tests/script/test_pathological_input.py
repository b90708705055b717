"""The hostile screenplays of ``benchmarks/parse_pathological.py``, small, read right.

The parser and the breakdown were rewritten in places to be linear (issue 15: a 280 KB line of emphasis
took 31 s, a centred line of 4,000 spaces 68 s, 50,000 headings over a minute). These tests hold the rewrite
to the old meaning: the emphasis scanner against the regex it replaced, on fuzzed text and on every
generator; the generators' parse and breakdown results. No timing is asserted (the figures are the
benchmark's, recorded in docs).
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest

from soundstage.errors import ScreenplayError
from soundstage.script import Kind, parse_fdx, parse_fountain
from soundstage.script.breakdown import _Cast, _mentions, break_down, lock_scene_ids
from soundstage.script.fountain import MAX_LINE_MARKS, styled
from soundstage.script.heading import MAX_SCENES
from soundstage.script.model import Run

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import parse_pathological

# The emphasis rule as it was written before issue 15, kept here as the oracle of what emphasis means (the
# parser reads short lines of a few marks with the same rule as a quicker regex, every other line with its
# linear scanner).
_EMPHASIS = re.compile(
    r"\*\*\*(?=\S)(?P<bold_italic>.+?)(?<=\S)\*\*\*"
    r"|\*\*(?=\S)(?P<bold>.+?)(?<=\S)\*\*"
    r"|\*(?=[^\s*])(?P<italic>.+?)(?<=[^\s*])\*(?!\*)"
    r"|(?<![^\W_])_(?=\S)(?P<underline>.+?)(?<=\S)_(?![^\W_])"
)


def _regex_runs(text: str) -> tuple[Run, ...]:
    spans: list[tuple[str, bool, bool, bool]] = []

    def walk(part: str, bold: bool, italic: bool, underline: bool) -> None:
        position = 0
        for match in _EMPHASIS.finditer(part):
            spans.append((part[position:match.start()], bold, italic, underline))
            if match["bold_italic"] is not None:
                walk(match["bold_italic"], True, True, underline)
            elif match["bold"] is not None:
                walk(match["bold"], True, italic, underline)
            elif match["italic"] is not None:
                walk(match["italic"], bold, True, underline)
            else:
                walk(match["underline"], bold, italic, True)
            position = match.end()
        spans.append((part[position:], bold, italic, underline))

    walk(text.replace("\\*", "\ufdd3").replace("\\_", "\ufdd4"), False, False, False)
    runs: list[Run] = []
    for part, bold, italic, underline in spans:
        part = part.replace("\ufdd3", "*").replace("\ufdd4", "_")
        if runs and (runs[-1].bold, runs[-1].italic, runs[-1].underline) == (bold, italic, underline):
            runs[-1] = Run(runs[-1].text + part, bold, italic, underline)
        elif part:
            runs.append(Run(part, bold, italic, underline))
    return tuple(runs)


def test_emphasis_scanner_reads_fuzzed_text_as_the_regex_did() -> None:
    rng = random.Random(15)
    alphabet = ["*", "*", "*", "_", "_", " ", "a", "b", "\n", "\\", "1", "é", "-"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))
        assert styled(text)[1] == _regex_runs(text), repr(text)
    # around the edge of what the regex reads itself (256 characters, 8 marks) and the scanner reads past it
    for _ in range(600):
        text = "".join(rng.choice(alphabet[5:] * 24 + alphabet[:5]) for _ in range(rng.randint(230, 290)))
        assert styled(text)[1] == _regex_runs(text), repr(text)


def test_lines_read_by_the_regex_and_by_the_scanner_together_read_as_the_regex_did() -> None:
    """Each line of a text is read alone: short lines of few marks by the parser's regex, the others (over 256
    characters or over 8 marks) by the scanner; a text mixing them reads as the old regex read it whole."""
    rng = random.Random(16)
    marks, words = ["*", "**", "***", "_", "\\*"], ["a", "b", "é", " ", " ", "-"]
    for _ in range(300):
        lines = []
        for _ in range(rng.randint(2, 8)):
            length, count = rng.choice([(rng.randint(1, 40), rng.randint(0, 12)), (rng.randint(250, 262), 8),
                                        (rng.randint(200, 256), rng.randint(7, 9))])
            pieces = [rng.choice(words) for _ in range(length)] + [rng.choice(marks) for _ in range(count)]
            rng.shuffle(pieces)
            lines.append("".join(pieces))
        text = "\n".join(lines)
        assert styled(text)[1] == _regex_runs(text), repr(text)


@pytest.mark.parametrize("name", ["nested_emphasis", "unclosed_emphasis"])
def test_emphasis_lines_read_as_the_regex_did(name: str) -> None:
    """Up to MAX_LINE_MARKS marks a line (120 bytes of these is 56), as the regex read them; past it, see below."""
    make, _ = parse_pathological.INPUTS[name]
    line = make(120).splitlines()[4]
    assert MAX_LINE_MARKS - 10 < line.count("*") + line.count("_") <= MAX_LINE_MARKS
    action = parse_fountain(make(120)).elements[1]
    assert action.kind is Kind.ACTION
    assert action.runs == _regex_runs(line.rstrip())   # action loses trailing spaces
    assert len(action.runs) > 5             # plenty of emphasis was found, not none


@pytest.mark.parametrize("name", ["nested_emphasis", "unclosed_emphasis"])
def test_a_line_too_dense_with_marks_is_literal_and_said(name: str) -> None:
    """The density rule: over MAX_LINE_MARKS marks, more than one character in 16, is not emphasis."""
    make, _ = parse_pathological.INPUTS[name]
    text = "INT. A - DAY\n\nAnna *waits* here.\n\n" + make(3000).split("\n", 4)[4]
    parsed = parse_fountain(text)
    line = text.splitlines()[4].rstrip()
    assert [(e.kind, e.text, e.runs) for e in parsed.elements[1:]] == [
        (Kind.ACTION, "Anna waits here.", (Run("Anna "), Run("waits", italic=True), Run(" here."))),
        (Kind.ACTION, line, (Run(line),))]
    assert parsed.warnings == ("line 5: emphasis marks taken literally on 1 line(s) with over 64 marks, "
                               "too dense to be emphasis",)
    assert break_down(parsed).warnings == list(parsed.warnings)


def test_density_rule_edges() -> None:
    sixty_four = "*a* " * 16 + "_b_ " * 16
    assert styled(sixty_four)[1] == _regex_runs(sixty_four)
    dense = sixty_four + "*c*"
    assert styled(dense) == (dense, (Run(dense),))
    sparse = dense + " " + "x" * (len(dense) * 16)     # the same marks in a long line: prose, read as emphasis
    assert styled(sparse)[1] == _regex_runs(sparse)
    assert styled(f"{dense}\n*d*")[1][-1] == Run("d", italic=True)    # only the dense line is literal
    escaped = "\\*" * 100 + " *e*"                    # escaped marks are not counted
    assert styled(escaped)[1] == _regex_runs(escaped)


def test_more_scenes_than_a_screenplay_has_are_refused_at_the_first_too_many() -> None:
    with pytest.raises(ScreenplayError, match="more than 10,000 scenes") as caught:
        parse_fountain(parse_pathological.headings(18 * (MAX_SCENES + 1)))
    assert caught.value.line == 2 * MAX_SCENES + 1
    assert len(parse_fountain(parse_pathological.headings(18 * MAX_SCENES)).elements) == MAX_SCENES
    paragraphs = "".join(f'<Paragraph Type="Scene Heading"><Text>INT. A{n} - DAY</Text></Paragraph>\n'
                         for n in range(MAX_SCENES + 1))
    with pytest.raises(ScreenplayError, match="more than 10,000 scenes") as caught:
        parse_fdx(f"<FinalDraft><Content>\n{paragraphs}</Content></FinalDraft>".encode(), "big.fdx")
    assert caught.value.line == MAX_SCENES + 2


def test_fifty_thousand_headings_small_each_a_scene_and_locked_again() -> None:
    parsed = parse_fountain(parse_pathological.headings(2000))
    result = break_down(parsed)
    assert len(result.scenes) == 111
    assert [scene.id for scene in result.scenes] == [str(n) for n in range(1, 112)]
    assert {(scene.location, scene.time) for scene in result.scenes} == {("HOUSE", "DAY")}
    locked = [(scene.id, "INT HOUSE DAY") for scene in result.scenes]
    # a re-run keeps every number; a scene inserted in the middle takes a letter
    headings = [(None, "INT HOUSE DAY")] * 111
    assert lock_scene_ids(headings, locked) == ([str(n) for n in range(1, 112)], [])
    inserted = [*headings[:50], (None, "EXT YARD NIGHT"), *headings[50:]]
    ids, omitted = lock_scene_ids(inserted, locked)
    assert ids[49:52] == ["50", "50A", "51"] and omitted == []


def test_korean_headings_one_under_another_each_a_scene() -> None:
    """Each ``S#`` line under the one before was read by a recursive call: 1,000 of them overflowed the stack."""
    elements = parse_fountain(parse_pathological.korean_headings(17 * 3000)).elements
    assert len(elements) == 3000 and {e.kind for e in elements} == {Kind.SCENE_HEADING}
    assert [e.heading.number for e in elements[:3] if e.heading] == ["0", "1", "2"]
    assert elements[-1].line == 3002 and elements[-1].heading and elements[-1].heading.time == "NIGHT"


def test_long_script_parses_whole() -> None:
    result = break_down(parse_fountain(parse_pathological.long_script(60_000)))
    assert len(result.scenes) > 20
    assert result.scenes[0].characters


def test_unclosed_notes_stay_text() -> None:
    elements = parse_fountain(parse_pathological.unclosed_notes(400)).elements
    assert [e.kind for e in elements] == [Kind.SCENE_HEADING, Kind.ACTION]
    assert elements[1].text.startswith("Anna [[ looks [[ up\nAnna [[ looks")
    assert elements[1].notes == ()


def test_unclosed_boneyard_is_refused_at_its_line() -> None:
    with pytest.raises(ScreenplayError, match="never closed") as caught:
        parse_fountain("INT. A - DAY\n\nfine /* a */ here\n\n" + parse_pathological.unclosed_boneyard(300))
    assert caught.value.line == 9


def test_boneyard_keeps_line_numbers() -> None:
    elements = parse_fountain("INT. A - DAY\n\n/* gone\nstill gone */Anna waits.\n\nBOB\nHi.\n").elements
    assert [(e.kind, e.text, e.line) for e in elements] == [
        (Kind.SCENE_HEADING, "INT. A - DAY", 1), (Kind.ACTION, "Anna waits.", 4),
        (Kind.CHARACTER, "BOB", 6), (Kind.DIALOGUE, "Hi.", 7)]


def test_runs_of_spaces_in_headings_centred_text_and_notes() -> None:
    run = " " * 3000
    elements = parse_fountain(f"INT. HOUSE{run}- DAY #1#{run}\n\n>{run}THE END{run}<\n\n"
                              f"Anna{run}[[note]]{run}waits.\n\nEXT. YARD{run}(NIGHT){run}\n").elements
    heading, centred, action, yard = elements
    assert heading.heading is not None and (heading.heading.location, heading.heading.time) == ("HOUSE", "DAY")
    assert heading.heading.number == "1"
    assert (centred.kind, centred.text) == (Kind.CENTERED, "THE END")
    assert (action.text, action.notes) == ("Anna" + run + "waits.", ("note",))
    assert yard.heading is not None and (yard.heading.location, yard.heading.time) == ("YARD", "NIGHT")
    spaced = parse_fountain(parse_pathological.spaces(6000)).elements
    assert spaced[0].heading is not None and spaced[0].heading.location == "HOUSE"


def test_long_cue_is_a_character() -> None:
    elements = parse_fountain(parse_pathological.long_cue(5000)).elements
    assert (elements[1].kind, elements[1].character, elements[1].extension) == (Kind.CHARACTER, "A" * 5000, "V.O.")
    assert (elements[2].kind, elements[2].text) == (Kind.DIALOGUE, "Hello.")


def test_many_characters_each_named_in_every_scene() -> None:
    result = break_down(parse_fountain(parse_pathological.many_characters(2000)))
    names = [f"AGENT {index}" for index in range(5)]
    for index, scene in enumerate(result.scenes[:5]):
        assert scene.characters == [names[index]]
        assert scene.non_speaking == [name for name in names if name != names[index]]


def test_shouting_introduces_no_one_and_introductions_still_found() -> None:
    result = break_down(parse_fountain(parse_pathological.shouting(3000)))
    assert result.scenes[0].non_speaking == []
    text = ("INT. A - DAY\n\nTHE DOOR OPENS. ANNA KIM (30s) and O'NEIL (OLD) enter; x-RAY TECH (40s) too. "
            "ANNA KIM (30s) again.\n")
    assert break_down(parse_fountain(text)).scenes[0].non_speaking == ["ANNA KIM", "O'NEIL", "RAY TECH"]


def test_breakdown_tables_stop_at_a_thousand_rows_and_say_so() -> None:
    from soundstage.cli import TABLE_ROWS, _clipped

    result = break_down(parse_fountain(parse_pathological.headings(18 * (TABLE_ROWS + 5))))
    assert len(result.scenes) == TABLE_ROWS + 5
    shown = _clipped(result)
    assert [s.id for s in shown.scenes] == [s.id for s in result.scenes[:TABLE_ROWS]]
    assert len(shown.shots) == TABLE_ROWS and len(result.scenes) == TABLE_ROWS + 5    # the result is not changed
    assert shown.warnings[-1] == (f"the tables show the first {TABLE_ROWS:,} of {TABLE_ROWS + 5:,} scenes and of "
                                  f"{TABLE_ROWS + 5:,} shots; --json has them all")
    small = break_down(parse_fountain(parse_pathological.headings(180)))
    assert _clipped(small) is small


def test_many_names_sharing_a_word_are_found_as_a_search_each_found_them() -> None:
    """Past a few candidates a name is looked up among the scene's stretches of words (AGENT 1 … AGENT 400
    named in every scene was a search per name per scene); the names found must be the searches' own."""
    names = [f"AGENT {n}" for n in range(30)] + ["AGENT", "AGENT 1-B", "AGENT O'NEIL", "AGENT 3.", "AGENT 요원",
                                                  "AGENT  2", "AGENT_7", "AGENTS"]
    cast = _Cast(names)
    rng = random.Random(16)
    pieces = [*names, "AGENT", " ", "  ", "-", "'", ".", "1", "B", "O'NEIL", "요원", "x", "\n", "_", "S"]
    for _ in range(800):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        assert cast.mentioned_in(text) == sorted(name for name in names if _mentions(text, name)), repr(text)
