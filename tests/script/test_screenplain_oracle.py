"""screenplain (a dev-only dependency, never imported by soundstage) as an independent oracle.

On English samples both parsers must find the same scene headings (and scene numbers), character cues,
parentheticals, dialogue lines, dual dialogue and transitions. Known, deliberate differences, none of which
occur in the compared parts of these samples:

- screenplain upper-cases scene headings and forced transitions; we keep them as written (compared upper-cased).
- screenplain has no Korean: ``S#12.`` headings and Hangul cues are action there.
- screenplain drops notes and lyrics' ``~``; we keep notes (``Kind.NOTE``, ``Element.notes``) and lyrics.
- A boneyard line inside a speech: screenplain leaves an empty line that splits the paragraph; we drop the line.
- screenplain refuses the whole title page when an inline value has an indented continuation line
  (``Notes: one`` then ``   two``); we keep it as a two-line value.
- A cue-shaped line that is a scene heading or ``CUT TO:`` directly followed by text: screenplain makes it
  a character; we keep it as action (a heading or transition is never a character name).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from screenplain.parsers.fountain import parse as screenplain_parse
from screenplain.types import Dialog, DualDialog, Slug, Transition

from soundstage.script import Kind, read_screenplay

FIXTURES = Path(__file__).parent.parent / "fixtures" / "screenplays"
Item = tuple[str, str, object]


def _speech(dialog: Dialog, dual: bool) -> list[Item]:
    items: list[Item] = [("character", str(dialog.character), dual)]
    for parenthetical, line in dialog.blocks:
        items.append(("parenthetical" if parenthetical else "dialogue", str(line), dual))
    return items


def screenplain_view(text: str) -> list[Item]:
    items: list[Item] = []
    for paragraph in screenplain_parse(io.StringIO(text)).paragraphs:
        if isinstance(paragraph, Slug):
            number = str(paragraph.scene_number) if paragraph.scene_number else None
            items.append(("heading", str(paragraph.line).upper(), number))
        elif isinstance(paragraph, Dialog):
            items += _speech(paragraph, False)
        elif isinstance(paragraph, DualDialog):
            items += _speech(paragraph.left, True) + _speech(paragraph.right, True)
        elif isinstance(paragraph, Transition):
            items.append(("transition", str(paragraph.line).upper(), None))
    return items


def our_view(path: Path) -> list[Item]:
    items: list[Item] = []
    for element in read_screenplay(path).elements:
        if element.kind is Kind.SCENE_HEADING:
            assert element.heading is not None
            items.append(("heading", element.text.upper(), element.heading.number))
        elif element.kind is Kind.CHARACTER:
            items.append(("character", element.text, element.dual))
        elif element.kind in (Kind.PARENTHETICAL, Kind.DIALOGUE):
            items += [(element.kind.value, line, element.dual) for line in element.text.split("\n")]
        elif element.kind is Kind.TRANSITION:
            items.append(("transition", element.text.upper(), None))
    return items


@pytest.mark.parametrize("name", ["oracle_sample.fountain", "three_scenes.fountain", "every_element.fountain"])
def test_agrees_with_screenplain(name: str) -> None:
    path = FIXTURES / name
    ours = our_view(path)
    assert ours == screenplain_view(path.read_text(encoding="utf-8"))
    assert {kind for kind, _, _ in ours} >= {"heading", "character", "dialogue", "transition"}


def test_the_oracle_sample_covers_the_hard_cases() -> None:
    ours = our_view(FIXTURES / "oracle_sample.fountain")
    assert ("heading", "INT. HARBOUR OFFICE - LATER", None) in ours          # written in lower case
    assert ("heading", "EXT. PIER - DAWN", "3A") in ours
    assert ("transition", "SMASH CUT TO:", None) in ours                     # forced with >
    assert ("dialogue", "", False) in ours                                   # the two-space line
    assert sum(1 for item in ours if item[2] is True) == 12                  # two dual pairs


def test_known_difference_korean_is_action_in_screenplain() -> None:
    text = "S#1. 거실 (밤)\n\n민지\n안녕.\n"
    assert screenplain_view(text) == []
    path = FIXTURES / "korean.fountain"
    assert ("heading", "S#1. 산길 - 새벽", "1") in our_view(path)
    assert ("character", "민지", False) in our_view(path)
