"""The film's nouns: a slot written and read in one place, and one answer to "is it AI?"."""

from __future__ import annotations

import subprocess
import sys

import pytest

from soundstage.errors import ProjectError
from soundstage.records import AssetKind, Slot, SourceType, is_ai, shot_subject
from soundstage.takes import background_slot, element_slot, set_slot


@pytest.mark.parametrize(("text", "role", "name", "shot"), [
    ("set/hanok-rooftops-night", "set", "hanok-rooftops-night", None),
    ("shot/3-1/background", "background", "background", "3-1"),
    ("shot/12A/element/fire", "element", "fire", "12A"),
])
def test_a_slot_reads_back_what_was_written(text: str, role: str, name: str, shot: str | None) -> None:
    slot = Slot.parse(text)
    assert (slot.role, slot.name, slot.shot) == (role, name, shot)
    assert str(slot) == text


def test_the_take_store_builds_slots_with_the_same_words() -> None:
    assert set_slot("hanok") == str(Slot(AssetKind.SET, "hanok")) == "set/hanok"
    assert background_slot("3-1") == "shot/3-1/background"
    assert element_slot("3-1", "fire") == "shot/3-1/element/fire"
    assert element_slot("3-1", "fire").startswith(shot_subject("3-1") + "/")


@pytest.mark.parametrize("text", ["", "set/", "shot/3-1", "shot//background", "plate/3-1", "shot/3-1/element/"])
def test_a_string_that_is_no_slot_is_refused_in_one_line(text: str) -> None:
    with pytest.raises(ProjectError, match="not a slot") as refused:
        Slot.parse(text)
    assert "\n" not in str(refused.value)


def test_only_trained_models_are_ai() -> None:
    assert is_ai("trainedAlgorithmicMedia") and SourceType.TRAINED_ALGORITHMIC.is_ai
    assert not is_ai("algorithmicMedia") and not SourceType.ALGORITHMIC.is_ai
    assert not is_ai("digitalCapture")


def test_the_records_load_no_stage_and_no_database() -> None:
    loaded = subprocess.run([sys.executable, "-c", "import sys, soundstage.records; print(' '.join(sys.modules))"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert not [m for m in loaded if m.startswith(("sqlalchemy", "soundstage.")) and
                not m.startswith(("soundstage.records", "soundstage.errors"))]
