"""The take store: reproducible, content-addressed, versioned, priced takes that a killed run never loses."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from soundstage.db import DB_FILE
from soundstage.engines import AssetKind, AssetRequest, load_engine
from soundstage.errors import BudgetError, EngineError, ProjectError
from soundstage.pipeline import Generation, breakdown_project
from soundstage.project import Project
from soundstage.provenance import verify_file
from soundstage.records.settings import Budget
from soundstage.sound import read_sound
from soundstage.takes import PriceTable, TakeStore

SCRIPT = """\
Title: Takes

EXT. HANOK ROOFTOPS - NIGHT

Fire on the eaves.

EXT. HANOK ROOFTOPS - DAY

Snow falls on the tiles.
"""


def request(seed: int = 3, prompt: str = "hanok rooftops at night with a full moon") -> AssetRequest:
    return AssetRequest(kind=AssetKind.SET, prompt=prompt, width=96, height=64, seed=seed)


def store_at(state: Path, *, limit: float = 0.0, prices: str = "", currency: str = "USD",
             usd_rate: float | None = None) -> TakeStore:
    if prices:
        (state.parent / "prices.toml").write_text(prices)
    return TakeStore(state, prices=PriceTable.load(state.parent),
                     budget=Budget(limit=limit, currency=currency, usd_rate=usd_rate))


CPU_AT_1000_USD = """\
[[price]]
engine = "procedural"
model = "*"
unit = "cpu_second"
usd = 1000.0
date = "2026-11-25"
source = "test rate"
"""


@pytest.fixture
def procedural():  # type: ignore[no-untyped-def]
    return load_engine("procedural")


def test_same_request_twice_is_byte_identical_and_the_second_is_free(tmp_path: Path, procedural) -> None:
    store = store_at(tmp_path / "a" / ".soundstage")
    first, made = store.make("set/roofs", procedural, request())
    assert made and first.label == "v001" and first.source_type == "algorithmicMedia"
    again, made_again = store.make("set/roofs", procedural, request())
    assert not made_again and again.id == first.id
    assert len(store.takes("set/roofs")) == 1

    elsewhere = store_at(tmp_path / "b" / ".soundstage")      # another project, same request
    twin, _ = elsewhere.make("set/roofs", procedural, request())
    assert store.files(first)[0].read_bytes() == elsewhere.files(twin)[0].read_bytes()
    assert twin.key == first.key

    record = json.loads((store.files(first)[0].parent / "take.json").read_text())
    assert record["request"]["seed"] == 3 and record["engine"] == "procedural"
    assert record["source_type"] == "algorithmicMedia" and record["files"] == ["set.png"]
    assert record["price"]["unit"] == "cpu_second" and record["cost_usd"] == 0.0


def test_takes_are_versioned_and_never_overwritten(tmp_path: Path, procedural) -> None:
    store = store_at(tmp_path / ".soundstage")
    v1, _ = store.make("set/roofs", procedural, request(seed=1))
    before = store.files(v1)[0].read_bytes()
    v2, made = store.make("set/roofs", procedural, request(seed=2))
    assert made and v2.label == "v002" and store.files(v1)[0].read_bytes() == before
    assert store.files(v1)[0].read_bytes() != store.files(v2)[0].read_bytes()
    # the same take asked for by another slot is served from the store and numbered there
    shared, made_shared = store.make("set/roofs-again", procedural, request(seed=1))
    assert not made_shared and shared.label == "v001" and shared.key == v1.key and shared.cost_usd == 0.0


def test_the_render_uses_the_approved_take_else_the_newest(tmp_path: Path, procedural) -> None:
    store = store_at(tmp_path / ".soundstage")
    v1, _ = store.make("set/roofs", procedural, request(seed=1))
    v2, _ = store.make("set/roofs", procedural, request(seed=2))
    assert store.chosen("set/roofs", v1.design).id == v2.id               # newest of the design
    store.approve("set/roofs", 1)
    store.make("set/roofs", procedural, request(seed=3))
    assert store.chosen("set/roofs", v1.design).id == v1.id               # approval outlives new takes
    with pytest.raises(ProjectError, match=r"set/roofs has no take v009 \(it has v001, v002, v003\)"):
        store.approve("set/roofs", 9)
    store.unapprove("set/roofs")
    assert store.chosen("set/roofs", v1.design).label == "v003"


def test_the_budget_is_never_crossed(tmp_path: Path, procedural) -> None:
    state = tmp_path / ".soundstage"
    store = store_at(state, limit=1.0, prices=CPU_AT_1000_USD)         # quoted 0.00133 cpu-s: 1.33 USD
    with pytest.raises(BudgetError) as refused:
        store.make("set/roofs", procedural, request())
    message = str(refused.value)
    assert "set/roofs: this take would cost 1.33 USD" in message and "only 1.00 USD of the 1.00 USD" in message
    assert store.takes() == [] and store.spent_usd() == 0.0
    assert [p.name for p in (state / "takes").iterdir()] == [] if (state / "takes").exists() else True

    richer = store_at(state, limit=1000.0, prices=CPU_AT_1000_USD)
    take, made = richer.make("set/roofs", procedural, request())
    assert made and take.cost_usd > 0
    assert richer.spent_usd() == pytest.approx(take.cost_usd)         # settled at the measured CPU time
    _, again = richer.make("set/roofs", procedural, request())
    assert not again and richer.spent_usd() == pytest.approx(take.cost_usd)   # served from the store: free


def test_a_krw_budget_holds_usd_prices(tmp_path: Path, procedural) -> None:
    store = store_at(tmp_path / ".soundstage", limit=1000, currency="KRW", usd_rate=1400, prices=CPU_AT_1000_USD)
    with pytest.raises(BudgetError, match=r"would cost 1,866 KRW .* only 1,000 KRW of the 1,000 KRW budget"):
        store.make("set/roofs", procedural, request())


def test_a_failed_take_leaves_nothing_and_releases_its_reservation(tmp_path: Path, procedural) -> None:
    state = tmp_path / ".soundstage"
    store = store_at(state, limit=1000.0, prices=CPU_AT_1000_USD)
    broken = AssetRequest(kind=AssetKind.ELEMENT, prompt="whale", element="whale", width=32, height=32, seed=1)
    with pytest.raises(EngineError, match="whale"):
        store.make("shot/1-1/element/whale", procedural, broken)
    assert store.takes() == [] and store.spent_usd() == 0.0

    class Interrupted(KeyboardInterrupt):
        pass

    class DiesMidway:
        """The procedural engine, interrupted after writing a file (Ctrl-C in the middle of a take)."""

        def __getattr__(self, name: str) -> object:
            return getattr(procedural, name)

        def generate(self, req: AssetRequest, out_dir: Path) -> object:
            procedural.generate(req, out_dir)
            raise Interrupted

    with pytest.raises(Interrupted):
        store.make("set/roofs", DiesMidway(), request())  # type: ignore[arg-type]
    assert store.takes() == [] and not any((state / "takes").iterdir())


def test_a_killed_runs_half_take_is_swept_and_a_lost_database_is_rebuilt(tmp_path: Path, procedural) -> None:
    state = tmp_path / ".soundstage"
    store = store_at(state)
    take, _ = store.make("set/roofs", procedural, request())
    dead = multiprocessing.get_context("spawn").Process(target=os.getpid)
    dead.start()
    dead.join()
    host = socket.gethostname().replace("-", "_")
    half = state / "takes" / f".partial-{host}-{dead.pid}-deadbeef"
    elsewhere = state / "takes" / f".partial-another_machine-{dead.pid}-deadbeef"   # a cluster's shared folder
    for folder in (half, elsewhere):
        folder.mkdir()
        (folder / "set.png").write_bytes(b"\x89PNG half")
    (state / DB_FILE).unlink()
    for extra in state.glob(f"{DB_FILE}-*"):
        extra.unlink()

    reopened = store_at(state)
    assert not half.exists() and elsewhere.exists(), "only this machine's dead half takes are swept"
    adopted, made = reopened.make("set/roofs", procedural, request())
    assert not made and adopted.key == take.key and reopened.files(adopted)[0].is_file()


def _spend_once(state: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    # The parent wrote prices.toml once: rewriting it here raced the other worker's read of it, which then
    # found no price and took the procedural engine for free (seen as two "made" under load).
    store = store_at(Path(state), limit=2.0)   # room for one take
    try:
        store.make("set/roofs", load_engine("procedural"), request(seed=os.getpid()))
        queue.put("made")
    except BudgetError:
        queue.put("refused")


def test_two_processes_cannot_both_spend_the_last_of_the_budget(tmp_path: Path) -> None:
    state = tmp_path / ".soundstage"
    store_at(state, prices=CPU_AT_1000_USD)      # create the database and prices file once
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_spend_once, args=(str(state), queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert sorted(queue.get(timeout=5) for _ in workers) == ["made", "refused"]


def test_generation_orders_sets_once_per_location_with_continuity(tmp_path: Path) -> None:
    (tmp_path / "soundstage.toml").write_text('title = "T"\nscreenplay = "s.fountain"\nresolution = [64, 36]\n'
                                              "shot_duration = 0.25\nfps = 8\n")
    (tmp_path / "s.fountain").write_text(SCRIPT)
    (tmp_path / "shots.toml").write_text('[[shot]]\nid = "1-1"\nscene = "1"\n\n[[shot]]\nid = "1-2"\nscene = "1"\n'
                                         'elements = ["smoke"]\n\n[[shot]]\nid = "2-1"\nscene = "2"\n'
                                         'background = "moving"\n')
    project = Project.load(tmp_path)
    generation = Generation(project)
    orders = generation.orders(breakdown_project(project))
    assert [o.slot for o in orders if o.request.kind != AssetKind.SOUND] == [
        "set/hanok-rooftops-night", "set/hanok-rooftops-day", "shot/1-1/element/fire", "shot/1-2/element/smoke",
        "shot/2-1/background", "shot/2-1/element/snow"]
    # the procedural engine makes the sound of fire and smoke (not of snow) and every shot's ambience bed
    assert [o.slot for o in orders if o.request.kind == AssetKind.SOUND] == [
        "shot/1-1/sound/fire", "shot/1-1/sound/ambience", "shot/1-2/sound/smoke", "shot/1-2/sound/ambience",
        "shot/2-1/sound/ambience"]
    assert orders[0].shots == ("1-1", "1-2") and orders[0].reference is None
    assert orders[1].reference == "set/hanok-rooftops-night"           # one location, one look
    background = next(o for o in orders if o.slot == "shot/2-1/background")
    assert background.request.kind is AssetKind.BACKGROUND and background.reference == "set/hanok-rooftops-day"
    bed = next(o for o in orders if o.slot == "shot/1-1/sound/ambience")
    assert (bed.request.prompt, bed.request.element, bed.request.duration) == ("HANOK ROOFTOPS NIGHT", None, 0.25)

    outcomes = generation.generate(orders)
    assert not [o.error for o in outcomes if o.error] and all(o.made for o in outcomes)
    # the moving background starts from its location's set still; the stills and elements take no references
    day = generation.store.files(generation.chosen("set/hanok-rooftops-day"))[0]
    assert generation.request(background) == replace(background.request, first_frame=day)
    assert all(generation.request(o) == o.request for o in orders if o is not background)


def test_sound_takes_are_stored_priced_signed_approved_and_served_again(tmp_path: Path) -> None:
    """A shot's sound goes through the take store like its pictures: a signed WAV per take, v001, free."""
    (tmp_path / "soundstage.toml").write_text('title = "T"\nscreenplay = "s.fountain"\nresolution = [64, 36]\n'
                                              "shot_duration = 0.5\nfps = 8\n")
    (tmp_path / "s.fountain").write_text(SCRIPT)
    (tmp_path / "shots.toml").write_text('[[shot]]\nid = "1-1"\nscene = "1"\n')
    project = Project.load(tmp_path)
    generation = Generation(project)
    orders = [o for o in generation.orders(breakdown_project(project), ["1-1"]) if o.request.kind == AssetKind.SOUND]
    assert [o.slot for o in orders] == ["shot/1-1/sound/fire", "shot/1-1/sound/ambience"]
    outcomes = generation.generate(orders)
    assert not [o.error for o in outcomes if o.error] and all(o.made for o in outcomes)
    for outcome in outcomes:
        take = outcome.take
        assert take is not None and take.label == "v001" and take.cost_usd == 0.0
        assert take.record.kind == "sound" and take.record.source_type == "algorithmicMedia"
        [wav] = generation.store.files(take)
        assert wav.name == "sound.wav" and read_sound(wav).sound.count == 24000
        verdict = verify_file(wav)
        assert verdict.state == "Valid" and not verdict.tampered
        assert [a.digital_source_type for a in verdict.actions if a.action == "c2pa.created"] == [
            "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"]
    generation.store.approve("shot/1-1/sound/fire", 1, by="mixer")
    settings = tmp_path / "soundstage.toml"
    settings.write_text(settings.read_text() + "[sound]\ngenerate = false\n")
    quiet = Generation(Project.load(tmp_path))
    assert not [o for o in quiet.orders(breakdown_project(quiet.project)) if o.request.kind == AssetKind.SOUND]
    settings.write_text(settings.read_text().replace("generate = false", "generate = true"))
    again = Generation(project).generate(orders)
    assert [o.made for o in again] == [False, False]                    # resumed from the store, nothing remade
    assert [o.take.id for o in again if o.take] == [o.take.id for o in outcomes if o.take]
