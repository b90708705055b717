"""The project database layer: migrations, the render ledger and jobs, where the database is, and sweeping.

A project outlives a release of soundstage, so a database made by an older one must come up to the models'
schema with its rows intact, and two processes opening a new project at once must not both build it.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, select, text

import soundstage.migrations
from soundstage.atomic import sweep_partials
from soundstage.db import (
    DB_FILE,
    SCHEMA_HEAD,
    Approval,
    Base,
    Job,
    Note,
    RenderRecord,
    Spend,
    TakeRecord,
    open_database,
)
from soundstage.errors import ProjectError
from soundstage.pipeline.ledger import LEGACY_FILE, Ledger
from soundstage.project import DATABASE_ENV, Project

TABLES = {"alembic_version", "approvals", "crew", "jobs", "logins", "notes", "plate_changes", "playlist_items",
          "playlists", "renders", "review_events", "sign_in_places", "sign_in_tries", "spend", "takes"}
OLD_TABLES = [TakeRecord.__table__, Approval.__table__, Spend.__table__]   # what soundstage 0.1 created


@pytest.fixture
def plain() -> Iterator[list[Engine]]:
    """Engines opened by a test to look at a database from outside soundstage; disposed afterwards."""
    engines: list[Engine] = []
    yield engines
    for engine in engines:
        engine.dispose()


def look_at(url: str | Path, engines: list[Engine]) -> Engine:
    engine = create_engine(f"sqlite:///{url}" if isinstance(url, Path) else url)
    engines.append(engine)
    return engine


def schema_differences(engine: Engine) -> list:  # type: ignore[type-arg]
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def versions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


# ------------------------------------------------------------------------------------------ the schema


def test_schema_head_is_the_newest_migration() -> None:
    scripts = ScriptDirectory(str(Path(soundstage.migrations.__file__).parent))
    assert scripts.get_heads() == [SCHEMA_HEAD], "bump soundstage.db.SCHEMA_HEAD with each new migration"


def test_a_new_sqlite_database_has_the_models_schema(tmp_path: Path, plain: list[Engine]) -> None:
    path = tmp_path / "state" / DB_FILE                  # the folder is made too
    open_database(path)
    engine = look_at(path, plain)
    assert schema_differences(engine) == []
    assert versions(engine) == [SCHEMA_HEAD]
    assert set(inspect(engine).get_table_names()) == TABLES
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_new_postgres_database_has_the_models_schema(postgres_url: str, plain: list[Engine]) -> None:
    sessions = open_database(postgres_url)
    engine = look_at(postgres_url, plain)
    assert schema_differences(engine) == []
    assert versions(engine) == [SCHEMA_HEAD]
    assert set(inspect(engine).get_table_names()) == TABLES
    with sessions.begin() as session:                   # and it takes rows through the models
        session.add(Note(subject="shot/3-1", body="more smoke on the eaves", author="dp"))
    with sessions() as session:
        assert [(n.subject, n.author) for n in session.scalars(select(Note))] == [("shot/3-1", "dp")]


# ------------------------------------------------------------------------------------------ upgrading


def make_old_database(path: Path) -> None:
    """A database as soundstage 0.1 left it: three tables straight from the models, no alembic_version."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        Base.metadata.create_all(engine, tables=OLD_TABLES)
        with engine.begin() as connection:
            connection.execute(TakeRecord.__table__.insert().values(
                id=1, slot="set/roofs", version=1, key="k" * 64, design="d" * 64, kind="set", engine="procedural",
                model="noise", engine_version="1", source_type="generated", prompt="hanok rooftops at night",
                seed=3, folder="takes/set/roofs/v001", record={"seed": 3, "files": ["set.png"]}, cost_usd=0.25,
                seconds=1.5, created_at=datetime(2026, 1, 2, 3, 4, 5)))
            connection.execute(Approval.__table__.insert().values(
                slot="set/roofs", take_id=1, approved_at=datetime(2026, 1, 3), approved_by="director"))
            connection.execute(Spend.__table__.insert().values(
                slot="set/roofs", key="k" * 64, engine="openai", model="gpt-image-1", unit="image", quantity=1.0,
                usd=0.25, status="settled", created_at=datetime(2026, 1, 2)))
    finally:
        engine.dispose()


def test_a_database_from_before_migrations_is_upgraded_with_its_rows(tmp_path: Path, plain: list[Engine]) -> None:
    path = tmp_path / DB_FILE
    make_old_database(path)
    assert set(inspect(look_at(path, plain)).get_table_names()) == {"takes", "approvals", "spend"}

    sessions = open_database(path)
    engine = look_at(path, plain)
    assert set(inspect(engine).get_table_names()) == TABLES
    assert versions(engine) == [SCHEMA_HEAD]
    assert schema_differences(engine) == []
    with sessions() as session:
        take = session.scalars(select(TakeRecord)).one()
        assert (take.slot, take.label, take.record, take.cost_usd) == (
            "set/roofs", "v001", {"seed": 3, "files": ["set.png"]}, 0.25)
        assert take.created_at == datetime(2026, 1, 2, 3, 4, 5)
        approval = session.scalars(select(Approval)).one()
        assert (approval.slot, approval.take_id, approval.approved_by) == ("set/roofs", 1, "director")
        assert [(s.usd, s.status) for s in session.scalars(select(Spend))] == [(0.25, "settled")]
    with sessions.begin() as session:                   # the new tables work, and point at the old rows
        session.add(Note(subject="set/roofs", take_id=1, body="the moon is too big"))
        session.add(Job(id=1, command="render", executor="local ×1", host="stage", pid=1, status="finished"))
        session.add(RenderRecord(output="out/shots/1-1.mp4", key="r" * 64, job_id=1))
    with sessions() as session:
        assert session.scalars(select(Note.body)).one() == "the moon is too big"
        assert session.scalars(select(RenderRecord.job_id)).one() == 1


def test_opening_a_database_at_head_runs_no_migration(tmp_path: Path, plain: list[Engine]) -> None:
    path = tmp_path / DB_FILE
    make_old_database(path)
    open_database(path)

    statements: list[str] = []

    def heard(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", heard)
    try:
        sessions = open_database(path)
    finally:
        event.remove(Engine, "before_cursor_execute", heard)
    assert [s for s in statements if not s.startswith("BEGIN")] == ["SELECT version_num FROM alembic_version"]
    engine = look_at(path, plain)
    assert versions(engine) == [SCHEMA_HEAD]
    with sessions() as session:
        assert session.scalars(select(TakeRecord.slot)).all() == ["set/roofs"]


# ------------------------------------------------------------------------------------------ two at once


def _open_at_once(database: str, barrier, queue) -> None:  # type: ignore[no-untyped-def]
    where: str | Path = Path(database) if "://" not in database else database
    barrier.wait(60)
    try:
        open_database(where)
        queue.put("opened")
    except Exception as exc:
        queue.put(f"failed: {type(exc).__name__}: {exc}")


def open_twice_at_once(database: str) -> list[str]:
    context = multiprocessing.get_context("spawn")
    queue, barrier = context.Queue(), context.Barrier(2)
    workers = [context.Process(target=_open_at_once, args=(database, barrier, queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(90)
    return [queue.get(timeout=10) for _ in workers]


def test_two_processes_opening_a_new_sqlite_database_at_once(tmp_path: Path, plain: list[Engine]) -> None:
    path = tmp_path / ".soundstage" / DB_FILE
    assert open_twice_at_once(str(path)) == ["opened", "opened"]
    engine = look_at(path, plain)
    assert versions(engine) == [SCHEMA_HEAD]
    assert set(inspect(engine).get_table_names()) == TABLES
    assert schema_differences(engine) == []


# Each transaction's first DDL statement waits a moment, so whichever process migrates first is still inside its
# transaction when the other looks at the tables: unguarded, both find none and both create them.
SLOW_FIRST_DDL = """
CREATE FUNCTION slow_first_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('soundstage.slowed', true), '') = '' THEN
        PERFORM set_config('soundstage.slowed', 'yes', true);
        PERFORM pg_sleep(0.3);
    END IF;
END $$;
CREATE EVENT TRIGGER slow_first_ddl ON ddl_command_start EXECUTE FUNCTION slow_first_ddl();
"""


def test_two_processes_opening_a_new_postgres_database_at_once(postgres_url: str, plain: list[Engine]) -> None:
    with look_at(postgres_url, plain).begin() as connection:
        connection.exec_driver_sql(SLOW_FIRST_DDL)
    assert open_twice_at_once(postgres_url) == ["opened", "opened"]
    engine = look_at(postgres_url, plain)
    assert versions(engine) == [SCHEMA_HEAD]
    assert set(inspect(engine).get_table_names()) == TABLES
    assert schema_differences(engine) == []


# ------------------------------------------------------------------------------------------ bad databases


def test_an_unreachable_server_is_named_without_its_password() -> None:
    with pytest.raises(ProjectError) as caught:
        open_database("postgresql+psycopg://film:s3cret@127.0.0.1:1/nope")
    message = str(caught.value)
    assert "s3cret" not in message and "\n" not in message
    assert "postgresql+psycopg://film:***@127.0.0.1:1/nope" in message


@pytest.mark.parametrize("url", ["nosuchdb://x", "postgresql+nosuchdriver://film:s3cret@host/film",
                                 "postgresql://film:s3cret@host:notaport/film", "not a url at all"])
def test_a_url_that_cannot_be_used_is_one_line(url: str) -> None:
    with pytest.raises(ProjectError) as caught:
        open_database(url)
    message = str(caught.value)
    assert message.startswith("cannot use database URL ")
    assert "s3cret" not in message and "\n" not in message


def test_a_password_in_the_query_is_hidden_too() -> None:
    with pytest.raises(ProjectError) as caught:
        open_database("postgresql+psycopg://film@127.0.0.1:1/nope?password=s3cret")
    assert "s3cret" not in str(caught.value) and "password=hidden" in str(caught.value)


def test_a_state_folder_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".soundstage").write_text("not a folder")
    with pytest.raises(ProjectError) as caught:
        open_database(tmp_path / ".soundstage" / DB_FILE)
    assert "cannot make the folder for the project database" in str(caught.value)


def test_times_are_utc_whatever_the_servers_time_zone(postgres_url: str) -> None:
    seoul = postgres_url + "&options=-c%20TimeZone%3DAsia/Seoul"
    sessions = open_database(seoul)
    with sessions.begin() as session:
        session.add(Note(subject="shot/1-1", body="a note", author=""))
    with sessions() as session:
        made = session.scalars(select(Note)).one().created_at
    assert made.tzinfo is None and abs((made - datetime.now(UTC).replace(tzinfo=None)).total_seconds()) < 60


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / DB_FILE
    path.write_bytes(b"not sqlite " * 500)
    with pytest.raises(ProjectError, match=r"soundstage\.db: the project database is damaged \(file is not a database\)"
                                           r".*soundstage db rebuild"):
        open_database(path)


# ------------------------------------------------------------------------------------------ where it is


def minimal_project(root: Path, database: str = "") -> Project:
    root.mkdir(parents=True, exist_ok=True)
    (root / "soundstage.toml").write_text('title = "Tiny"\nscreenplay = "tiny.fountain"\n'
                                          + (f'[database]\nurl = "{database}"\n' if database else ""))
    return Project.load(root)


def test_the_environment_wins_over_the_settings_over_the_sqlite_file(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    plain_project = minimal_project(tmp_path / "plain")
    assert plain_project.database == plain_project.root / ".soundstage" / DB_FILE
    settled = minimal_project(tmp_path / "studio", "postgresql+psycopg://render@db.studio/film")
    assert settled.database == "postgresql+psycopg://render@db.studio/film"

    monkeypatch.setenv(DATABASE_ENV, "postgresql+psycopg://render:pw@db.other/film")
    assert settled.database == "postgresql+psycopg://render:pw@db.other/film"
    assert plain_project.database == "postgresql+psycopg://render:pw@db.other/film"

    monkeypatch.setenv(DATABASE_ENV, "")                 # set but empty counts as unset
    assert settled.database == "postgresql+psycopg://render@db.studio/film"
    assert plain_project.database == plain_project.root / ".soundstage" / DB_FILE


# ------------------------------------------------------------------------------------------ the ledger


@pytest.fixture
def stage(tmp_path: Path) -> Path:
    (tmp_path / ".soundstage").mkdir()
    (tmp_path / "out" / "shots").mkdir(parents=True)
    return tmp_path


def ledger_at(root: Path) -> Ledger:
    """A fresh ledger, as the next run would open it."""
    return Ledger(open_database(root / ".soundstage" / DB_FILE), root)


def test_a_file_is_current_only_while_it_exists_and_its_key_matches(stage: Path) -> None:
    shot = stage / "out" / "shots" / "1-1.mp4"
    shot.write_bytes(b"movie")
    ledger_at(stage).record([shot], "a" * 64, seconds=2.5)

    ledger = ledger_at(stage)
    assert ledger.is_current(shot, "a" * 64)
    assert not ledger.is_current(shot, "b" * 64)                       # its inputs changed
    assert not ledger.is_current(stage / "out" / "shots" / "2-1.mp4", "a" * 64)   # never made
    shot.unlink()
    assert not ledger.is_current(shot, "a" * 64)                       # made, then lost
    with open_database(stage / ".soundstage" / DB_FILE)() as session:
        row = session.get(RenderRecord, "out/shots/1-1.mp4")
        assert row is not None and (row.key, row.seconds) == ("a" * 64, 2.5)


def test_rerecording_a_file_replaces_its_key(stage: Path) -> None:
    shot = stage / "out" / "shots" / "1-1.mp4"
    shot.write_bytes(b"movie")
    ledger_at(stage).record([shot], "a" * 64)
    ledger_at(stage).record([shot], "b" * 64)
    ledger = ledger_at(stage)
    assert ledger.is_current(shot, "b" * 64) and not ledger.is_current(shot, "a" * 64)
    with open_database(stage / ".soundstage" / DB_FILE)() as session:
        assert session.scalars(select(RenderRecord.key)).all() == ["b" * 64]


def test_a_job_left_running_is_marked_killed_and_a_finished_job_keeps_its_books(stage: Path) -> None:
    dead = ledger_at(stage).start_job("render", "local ×2")           # never finished: the run was killed
    ledger = ledger_at(stage)
    job = ledger.start_job("comp 3-1", "local ×1")
    steps = [{"step": "plate 1-1", "status": "built"}, {"step": "shot 1-1", "status": "cached"}]
    ledger.finish_job(job, status="finished", counts={"built": 3, "cached": 2, "failed": 1}, cost_usd=0.75,
                      seconds=12.5, steps=steps)
    ledger.finish_job(9999, status="finished", counts={"built": 0, "cached": 0, "failed": 0}, cost_usd=0.0,
                      seconds=0.0, steps=[])                            # no such job: nothing happens

    newest, oldest = ledger_at(stage).jobs()
    assert (oldest.id, oldest.status, oldest.command, oldest.executor) == (dead, "killed", "render", "local ×2")
    assert oldest.finished_at is None
    assert (newest.id, newest.status, newest.command) == (job, "finished", "comp 3-1")
    assert (newest.built, newest.cached, newest.failed, newest.cost_usd, newest.seconds) == (3, 2, 1, 0.75, 12.5)
    assert newest.steps == {"steps": steps} and newest.finished_at is not None
    assert len(ledger.jobs(limit=1)) == 1


def test_an_old_renders_json_is_adopted_once(stage: Path) -> None:
    shot, other = stage / "out" / "shots" / "1-1.mp4", stage / "out" / "shots" / "2-1.mp4"
    for path in (shot, other):
        path.write_bytes(b"movie")
    ledger_at(stage).record([other], "new" + "0" * 61)                # the database already knows this one
    legacy = stage / ".soundstage" / LEGACY_FILE
    legacy.write_text(json.dumps({"out/shots/1-1.mp4": "a" * 64, "out/shots/2-1.mp4": "old" + "0" * 61,
                                  "out/shots/3-1.mp4": 7}))           # not a key: skipped

    ledger = ledger_at(stage)
    assert ledger.is_current(shot, "a" * 64)
    assert ledger.is_current(other, "new" + "0" * 61), "the database's row wins over the old file"
    assert not legacy.exists() and legacy.with_name(LEGACY_FILE + ".adopted").is_file()
    with open_database(stage / ".soundstage" / DB_FILE)() as session:
        assert dict(session.execute(select(RenderRecord.output, RenderRecord.key)).all()) == {
            "out/shots/1-1.mp4": "a" * 64, "out/shots/2-1.mp4": "new" + "0" * 61}

    legacy.with_name(LEGACY_FILE + ".adopted").write_text(json.dumps({"out/shots/1-1.mp4": "z" * 64}))
    assert ledger_at(stage).is_current(shot, "a" * 64), "the adopted file is never read again"


@pytest.mark.parametrize("damage", [b'{"out/shots/1-1.mp4": "aaa', b"\xff\xfe not text", b""])
def test_a_damaged_renders_json_is_set_aside_without_error(stage: Path, damage: bytes) -> None:
    shot = stage / "out" / "shots" / "1-1.mp4"
    shot.write_bytes(b"movie")
    legacy = stage / ".soundstage" / LEGACY_FILE
    legacy.write_bytes(damage)
    ledger = ledger_at(stage)
    assert not ledger.is_current(shot, "aaa")
    assert not legacy.exists() and legacy.with_name(LEGACY_FILE + ".adopted").read_bytes() == damage
    with open_database(stage / ".soundstage" / DB_FILE)() as session:
        assert session.scalars(select(RenderRecord)).all() == []


@pytest.mark.parametrize("damage", ["[]", "null", '"out/shots/1-1.mp4"'])
def test_a_renders_json_that_is_not_a_table_is_set_aside_without_error(stage: Path, damage: str) -> None:
    legacy = stage / ".soundstage" / LEGACY_FILE
    legacy.write_text(damage)
    ledger_at(stage)
    assert not legacy.exists()


# ------------------------------------------------------------------------------------------ sweeping


def test_sweep_partials_removes_only_what_killed_writers_left(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "shots" / "png").mkdir(parents=True)
    leftovers = [
        out / ".cut.k3j2h1.partial.mp4",
        out / "shots" / ".1-1.x8a2b0.partial.mp4",                    # nested
        out / "shots" / "png" / ".1-1.q9w8e7.partial.png",           # deeper
    ]
    for path in leftovers:
        path.write_bytes(b"half")
    half_sequence = out / "shots" / ".1-1_png.x8a2.partial"          # a folder of frames being written
    half_sequence.mkdir()
    for frame in ("0001.png", "0002.png"):
        (half_sequence / frame).write_bytes(b"frame")
    kept = [out / "cut.mp4", out / "shots" / "1-1.mp4", out / "shots" / "png" / "0001.png", out / ".gitkeep",
            out / "shots" / ".notes.txt", out / "shots" / "take.partial.mp4"]   # not hidden: someone's own file
    for path in kept:
        path.write_bytes(b"finished")

    assert sweep_partials(out) == 4
    assert not any(path.exists() for path in [*leftovers, half_sequence])
    assert all(path.read_bytes() == b"finished" for path in kept)
    assert sweep_partials(out) == 0
    assert sweep_partials(tmp_path / "never-made") == 0
