"""The film's nouns: a slot written and read in one place, and one answer to "is it AI?"."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from soundstage.engines import AssetRequest, load_engine
from soundstage.errors import ProjectError
from soundstage.records import AssetKind, Slot, SourceType, is_ai, shot_subject
from soundstage.records.settings import Budget
from soundstage.records.shot import LayerRecord, measured
from soundstage.records.take import Take, TakeFile
from soundstage.takes import PriceTable, TakeStore, background_slot, element_slot, set_slot, sound_slot
from soundstage.takes.store import as_take, take_row


@pytest.mark.parametrize(("text", "role", "name", "shot"), [
    ("set/hanok-rooftops-night", "set", "hanok-rooftops-night", None),
    ("shot/3-1/background", "background", "background", "3-1"),
    ("shot/12A/element/fire", "element", "fire", "12A"),
    ("shot/12A/sound/fire", "sound", "fire", "12A"),
    ("shot/12A/sound/ambience", "sound", "ambience", "12A"),
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
    assert sound_slot("3-1", "fire") == "shot/3-1/sound/fire"
    assert sound_slot("3-1") == "shot/3-1/sound/ambience"
    assert Slot.parse(sound_slot("3-1")).is_ambience and not Slot.parse(sound_slot("3-1", "fire")).is_ambience


def test_a_sound_layer_takes_no_share_of_the_picture() -> None:
    """The fire's sound is not the fire's pixels: a sound take must not count in the shot's AI picture share."""
    def layer(slot: str, source_type: str) -> LayerRecord:
        parsed = Slot.parse(slot)
        return LayerRecord(slot, parsed.role, parsed.name, 1, "v001", "e", "m", "1", source_type, "", 0, 0.0, 0.0)

    placed, shares = measured([layer("shot/1/element/fire", "algorithmicMedia"),
                               layer("shot/1/sound/fire", "trainedAlgorithmicMedia")],
                              {"fire": 0.25, "plate": 0.75})
    assert [p.share for p in placed] == [0.25, 0.0]
    assert shares["ai_share"] == 0.0


@pytest.mark.parametrize("text", ["", "set/", "shot/3-1", "shot//background", "plate/3-1", "shot/3-1/element/",
                                  "shot/3-1/sound/", "shot/3-1/sound"])
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


TAKE_JSON_ORDER = ["slot", "key", "design", "kind", "engine", "model", "engine_version", "source_type", "request",
                   "parameters", "files", "unit", "quantity", "cost_usd", "price", "seconds", "created_at",
                   "soundstage", "colour_space"]


def test_the_store_answers_a_typed_take_and_take_json_keeps_its_bytes(tmp_path: Path) -> None:
    state = tmp_path / "film" / ".soundstage"
    store = TakeStore(state, prices=PriceTable.load(state.parent), budget=Budget(limit=0.0))
    request = AssetRequest(kind=AssetKind.SET, prompt="hanok rooftops at night", width=64, height=36, seed=3)
    take, made = store.make("set/roofs", load_engine("procedural"), request)
    assert made and isinstance(take, Take) and store.get(take.id) == take and store.takes() == [take]
    assert (take.label, take.record.files, take.record.price and take.record.price.unit) == \
        ("v001", ("set.png",), "cpu_second")
    text = (store.files(take)[0].parent / "take.json").read_text("utf-8")
    assert list(json.loads(text)) == TAKE_JSON_ORDER
    assert TakeFile.from_dict(json.loads(text)).to_json() == text


def test_an_older_take_json_without_its_price_still_reads() -> None:
    old = {"slot": "set/roofs", "key": "k" * 64, "design": "d" * 64, "kind": "set", "engine": "procedural",
           "model": "soundstage-procedural", "engine_version": "0.1", "source_type": "algorithmicMedia",
           "request": {"prompt": "roofs", "seed": 3}, "files": ["set.png"], "cost_usd": 0.0, "seconds": 0.5,
           "created_at": "2026-01-01T00:00:00+00:00"}
    row = take_row("set/roofs", 1, old["key"], old["design"], old, "takes/kkkk")
    row.id, row.created_at = 7, datetime(2026, 1, 1)
    take = as_take(row)
    assert (take.prompt, take.seed, take.record.unit, take.record.quantity, take.record.price) == \
        ("roofs", 3, "", 0.0, None)
    assert not take.is_ai
