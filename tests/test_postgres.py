"""The project database on a real PostgreSQL server: what a studio sharing one database across machines gets.

The take store must behave as it does on SQLite, the budget must hold against two processes at once, and a
process killed in the middle of its writes must leave a database the next run can trust.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from soundstage.db import DB_FILE, Spend, TakeRecord, open_database
from soundstage.engines import AssetKind, AssetRequest, load_engine
from soundstage.errors import BudgetError, ProjectError
from soundstage.records.settings import Budget
from soundstage.takes import PriceTable, TakeStore
from test_takes import CPU_AT_1000_USD


def request(seed: int = 3) -> AssetRequest:
    return AssetRequest(kind=AssetKind.SET, prompt="hanok rooftops at night with a full moon", width=96, height=64,
                        seed=seed)


def store_at(state: Path, database: str | None, *, limit: float = 0.0) -> TakeStore:
    return TakeStore(state, prices=PriceTable.load(state.parent), budget=Budget(limit=limit), database=database)


def test_the_take_store_keeps_takes_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    state = tmp_path / ".soundstage"
    store = store_at(state, postgres_url)
    procedural = load_engine("procedural")
    v1, made = store.make("set/roofs", procedural, request(seed=1))
    assert made and v1.label == "v001" and store.files(v1)[0].is_file()
    again, made_again = store.make("set/roofs", procedural, request(seed=1))
    assert not made_again and again.id == v1.id and len(store.takes("set/roofs")) == 1
    v2, made = store.make("set/roofs", procedural, request(seed=2))
    assert made and v2.label == "v002" and v2.key != v1.key

    assert store.chosen("set/roofs", v1.design).id == v2.id               # newest of the design
    store.approve("set/roofs", 1, by="dp")
    assert store.approved() == {"set/roofs": v1.id}
    assert store.chosen("set/roofs", v1.design).id == v1.id
    with pytest.raises(ProjectError, match=r"set/roofs has no take v009 \(it has v001, v002\)"):
        store.approve("set/roofs", 9)
    store.unapprove("set/roofs")
    assert store.approved() == {} and store.chosen("set/roofs", v1.design).id == v2.id

    # The rows are on the server, not in a SQLite file beside the takes.
    assert not (state / DB_FILE).exists()
    with open_database(postgres_url)() as session:
        rows = session.execute(select(TakeRecord.slot, TakeRecord.version, TakeRecord.seed)
                               .order_by(TakeRecord.version)).all()
        assert session.get_bind().dialect.name == "postgresql"
    assert [tuple(r) for r in rows] == [("set/roofs", 1, 1), ("set/roofs", 2, 2)]


def _spend_once(state: str, database: str, slot: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = store_at(Path(state), database, limit=2.0)   # room for one take at 1.33 USD
    try:
        store.make(slot, load_engine("procedural"), request(seed=os.getpid()))
        queue.put("made")
    except BudgetError:
        queue.put("refused")
    except Exception as exc:
        queue.put(f"failed: {type(exc).__name__}")


# Sessions of this database waiting on a lock.
WAITING = text("SELECT count(*) FROM pg_locks WHERE NOT granted"
               " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")


def test_two_processes_cannot_both_spend_the_last_of_the_budget_on_postgres(tmp_path: Path,
                                                                            postgres_url: str) -> None:
    """Both processes are held at the worst moment, so the race is run every time, not by luck.

    Another session (an accountant's report, say) holds the spend table against writes. Unguarded, each worker
    reads the same total, finds room, and waits only to write its reservation: released, both spend. Guarded,
    the second waits for the first before it reads, and then sees the first's reservation.
    """
    state = tmp_path / ".soundstage"
    (tmp_path / "prices.toml").write_text(CPU_AT_1000_USD)
    store_at(state, postgres_url)                    # create the tables once
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    # Two slots, so that the only thing the workers contend for is the budget.
    workers = [context.Process(target=_spend_once, args=(str(state), postgres_url, f"set/roofs-{n}", queue))
               for n in range(2)]
    books = create_engine(postgres_url)
    try:
        with books.connect() as accountant:
            accountant.execute(text(f"LOCK TABLE {Spend.__tablename__} IN SHARE MODE"))
            for worker in workers:
                worker.start()
            waiting = 0
            deadline = time.monotonic() + 60
            with books.connect() as watcher:
                while waiting < 2 and time.monotonic() < deadline and all(w.is_alive() for w in workers):
                    waiting = watcher.execute(WAITING).scalar_one()
                    time.sleep(0.02)
            accountant.rollback()                    # let them go
        for worker in workers:
            worker.join(60)
    finally:
        books.dispose()
    assert waiting == 2, "the two workers never both waited on the database"
    outcomes = sorted(queue.get(timeout=30) for _ in workers)
    with open_database(postgres_url)() as session:
        spent = [s.usd for s in session.scalars(select(Spend).where(Spend.status != "released"))]
    assert len(spent) == 1, f"both spent: {spent}, {outcomes}"
    assert outcomes == ["made", "refused"]


def _write_takes_forever(state: str, database: str | None, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Make, approve and pay for takes without end, until killed."""
    store = store_at(Path(state), database, limit=1e9)
    procedural = load_engine("procedural")
    for seed in range(1, 1_000_000):
        take, _ = store.make(f"set/roofs-{seed % 3}", procedural, request(seed=seed))
        store.approve(take.slot, take.version, by="gaffer")
        if seed % 2:
            store.unapprove(take.slot)
        queue.put(seed)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str | None:
    """None: the store's own SQLite file. Else a PostgreSQL URL (the server starts only for that case)."""
    return None if request.param == "sqlite" else request.getfixturevalue("postgres_url")


def test_a_process_killed_mid_write_leaves_the_database_consistent(tmp_path: Path, database: str | None) -> None:
    state = tmp_path / ".soundstage"
    (tmp_path / "prices.toml").write_text(CPU_AT_1000_USD)
    store_at(state, database)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    writer = context.Process(target=_write_takes_forever, args=(str(state), database, queue))
    writer.start()
    try:
        for _ in range(8):                           # well into its writes, then kill it without warning
            queue.get(timeout=60)
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.join(30)
    assert writer.exitcode == -signal.SIGKILL

    store = store_at(state, database, limit=1e9)
    takes = store.takes()
    assert len(takes) >= 8
    for slot in {t.slot for t in takes}:             # numbered v001… with no gap or repeat
        versions = [t.version for t in takes if t.slot == slot]
        assert versions == list(range(1, len(versions) + 1))
    for take in takes:                               # every take in the database is whole on disk
        record = json.loads((state / take.folder / "take.json").read_text())
        assert record["key"] == take.key and all(p.is_file() for p in store.files(take))
    by_id = {t.id: t for t in takes}
    assert all(by_id[take_id].slot == slot for slot, take_id in store.approved().items())
    with open_database(database or state / DB_FILE)() as session:
        spends = list(session.scalars(select(Spend)))
    assert {s.status for s in spends} <= {"reserved", "settled"}
    assert sum(s.status == "reserved" for s in spends) <= 1         # only the take in flight when it died
    assert store.spent_usd() == pytest.approx(sum(s.usd for s in spends))

    # The next run carries on: a new take is numbered after the old, and can be approved.
    slot = "set/roofs-0"
    before = [t.version for t in takes if t.slot == slot]
    fresh, made = store.make(slot, load_engine("procedural"), request(seed=2_000_000))
    assert made and fresh.version == max(before) + 1
    assert store.approve(slot, fresh.version).id == fresh.id and store.approved()[slot] == fresh.id
