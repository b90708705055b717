"""The project database: takes, approvals, notes, money spent, renders and jobs, in SQLite
(``.soundstage/soundstage.db``) or a studio's PostgreSQL.

Why a database and not JSON files: two processes (a render and a crew member approving a take) must be able
to write at once without losing either write, and the budget must be checked and reserved in one
transaction. SQLite in WAL mode through SQLAlchemy does both; the same models work on a studio's PostgreSQL.

Every take also keeps a ``take.json`` beside its files, so the record of how a file was made survives even if
the database is lost (``TakeStore`` adopts such folders back).

The schema changes only through the Alembic migrations in ``soundstage/migrations``; opening a database
brings it up to date, so a project made by an older soundstage keeps its takes, approvals and renders.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from soundstage.errors import ProjectError, install_hint
from soundstage.journal import JOURNAL_FILE
from soundstage.project import DB_FILE

# The newest migration in soundstage/migrations/versions; a database already there is opened without Alembic.
SCHEMA_HEAD = "0005"


def now() -> datetime:
    """UTC without a zone: the columns hold no zone, and PostgreSQL would shift a zoned time to its own."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class TakeRecord(Base):
    """One take of one slot: ``v001``, ``v002``… never overwritten. Its files live in ``folder``."""

    __tablename__ = "takes"
    __table_args__ = (UniqueConstraint("slot", "version"), UniqueConstraint("slot", "key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    slot: Mapped[str] = mapped_column(String(200), index=True)     # "set/hanok-rooftops-night", "shot/3-1/element/fire"
    version: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64), index=True)       # hash of engine, model, parameters, seed, inputs
    design: Mapped[str] = mapped_column(String(64), index=True)    # the same hash without engine, model and seed
    kind: Mapped[str] = mapped_column(String(20))
    engine: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(200))
    engine_version: Mapped[str] = mapped_column(String(100))
    source_type: Mapped[str] = mapped_column(String(60))
    prompt: Mapped[str] = mapped_column(String)
    seed: Mapped[int] = mapped_column(Integer)
    folder: Mapped[str] = mapped_column(String)                     # relative to the project's state folder
    record: Mapped[dict[str, Any]] = mapped_column(JSON)           # the whole take.json
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)    # what this take cost when it was made
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def label(self) -> str:
        return f"v{self.version:03d}"


class Approval(Base):
    """The one approved take of a slot. A separate table, so approving never rewrites a take."""

    __tablename__ = "approvals"

    slot: Mapped[str] = mapped_column(String(200), primary_key=True)
    take_id: Mapped[int] = mapped_column(ForeignKey("takes.id"))
    approved_at: Mapped[datetime] = mapped_column(default=now)
    approved_by: Mapped[str] = mapped_column(String(100), default="")


class Spend(Base):
    """Money against the budget: reserved before a request is sent, settled when it returns.

    A run killed mid-request leaves its reservation standing: the service may have billed it, so the budget
    counts it until someone looks.
    """

    __tablename__ = "spend"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[float] = mapped_column(Float)
    usd: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))                 # reserved, settled, released
    created_at: Mapped[datetime] = mapped_column(default=now)


class Note(Base):
    """A crew member's note on a shot or a take (``shot/3-1``, ``set/hanok-rooftops-night``). Never edited."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)  # a shot ("shot/3-1") or a slot
    take_id: Mapped[int | None] = mapped_column(ForeignKey("takes.id"), nullable=True)
    body: Mapped[str] = mapped_column(String)
    author: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    frame: Mapped[int | None] = mapped_column(Integer, nullable=True)     # 0 = the shot's first frame
    drawing: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)   # vector strokes on that frame


class ReviewEvent(Base):
    """One change of a shot's status or a slot's approval, by whom and when. Only ever added to: the approvals
    table says what holds now, this says how it came to."""

    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)   # a slot (approvals) or a shot ("shot/3-1")
    kind: Mapped[str] = mapped_column(String(20))                   # approved, unapproved, status
    take_id: Mapped[int | None] = mapped_column(ForeignKey("takes.id"), nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    by: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime] = mapped_column(default=now)


class Job(Base):
    """One run of ``soundstage render`` / ``comp``: who ran it, how, and what it built, failed and cost.

    A job is written as *running* when it starts; a run killed before it finished is found still running
    by the next one, which marks it *killed*. The per-step statuses are kept as the run reported them.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    command: Mapped[str] = mapped_column(String(40))                # "render", "comp 3-1"
    executor: Mapped[str] = mapped_column(String(40))               # "local ×2", "ray ray://head:10001"
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))                 # running, finished, failed, killed
    started_at: Mapped[datetime] = mapped_column(default=now)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    built: Mapped[int] = mapped_column(Integer, default=0)
    cached: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)    # takes generated by this run
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    steps: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RenderRecord(Base):
    """The render ledger: a finished file (path relative to the project) and the key of what made it.

    A file counts as finished only when it exists *and* its row holds the key of its inputs now. The row is
    written after the file is renamed into place, so a run killed in between re-renders only that file.
    """

    __tablename__ = "renders"

    output: Mapped[str] = mapped_column(String(400), primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    made_at: Mapped[datetime] = mapped_column(default=now)


class CrewMember(Base):
    """Someone who signs in to the review app (``soundstage user add``), with the role that says what they may do.

    Only an Argon2 hash of the password is kept."""

    __tablename__ = "crew"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))                   # director, producer, artist, viewer
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")   # the app's words


class Login(Base):
    """A signed-in browser: the SHA-256 of its session cookie. Neither the cookie nor the CSRF token its forms
    carry (derived from the cookie) is stored, so a copy of the database opens no session."""

    __tablename__ = "logins"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(ForeignKey("crew.name", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime] = mapped_column()


class SignInTries(Base):
    """Wrong passwords lately from one address or for one name (``address 10.0.0.5``, ``name anna``); the next
    try from there waits until ``next_at``. Kept here so that restarts and several workers share the count."""

    __tablename__ = "sign_in_tries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    misses: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column()
    last_at: Mapped[datetime] = mapped_column()


class SignInPlace(Base):
    """An address a crew member has signed in from: someone guessing their name elsewhere does not slow them
    here."""

    __tablename__ = "sign_in_places"

    name: Mapped[str] = mapped_column(ForeignKey("crew.name", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_at: Mapped[datetime] = mapped_column(default=now)


class PlateChange(Base):
    """A plate replaced in the review app: by whom, when, the new file's hash, and where the bytes it replaced
    were kept (``plates/previous/…``, never overwritten), so an upload never loses a plate."""

    __tablename__ = "plate_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    shot: Mapped[str] = mapped_column(String(200), index=True)
    plate: Mapped[str] = mapped_column(String(400))                  # relative to the project
    sha256: Mapped[str] = mapped_column(String(64))                  # of the new plate
    size: Mapped[int] = mapped_column(BigInteger)                    # bytes of the new plate
    kept: Mapped[str | None] = mapped_column(String(400), nullable=True)   # the replaced plate, now
    kept_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    replaced_by: Mapped[str] = mapped_column(String(100))
    replaced_at: Mapped[datetime] = mapped_column(default=now)


class Playlist(Base):
    """Shot versions gathered for one review session (dailies), played in order."""

    __tablename__ = "playlists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    made_by: Mapped[str] = mapped_column(String(100), default="")
    made_at: Mapped[datetime] = mapped_column(default=now)


class PlaylistItem(Base):
    """One shot of a playlist, at the render it had when added (its movie's hash), with the crew's note on it."""

    __tablename__ = "playlist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    playlist_id: Mapped[int] = mapped_column(ForeignKey("playlists.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    shot: Mapped[str] = mapped_column(String(200))
    movie: Mapped[str] = mapped_column(String(400))                 # relative to the project
    version: Mapped[str] = mapped_column(String(64))                # the movie's SHA-256 when it was added
    note: Mapped[str] = mapped_column(String, default="")
    added_by: Mapped[str] = mapped_column(String(100), default="")
    added_at: Mapped[datetime] = mapped_column(default=now)


def open_database(url_or_path: str | Path) -> sessionmaker[Session]:
    """Open the project database, creating or migrating it. A path means SQLite in WAL mode; a URL (a studio's
    PostgreSQL, ``postgresql+psycopg://…``) is used as given."""
    if isinstance(url_or_path, Path):
        try:
            url_or_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(f"cannot make the folder for the project database: {exc.strerror}",
                               path=url_or_path.parent) from None
        _private(url_or_path)
        engine = create_engine(f"sqlite:///{url_or_path}")
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLite's default deferred transactions would let two processes both read the budget, then both
        # spend it; BEGIN IMMEDIATE takes the write lock up front, so the second waits.
        event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
        _check_integrity(engine, url_or_path)
    else:
        try:
            engine = create_engine(url_or_path, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise ProjectError(f"cannot use database URL {_hidden(url_or_path)}: {exc}",
                               hint=f"a URL like postgresql+psycopg://user@host/film "
                                    f"({install_hint('postgres')})") from None
    try:
        _migrate(engine)
    except SQLAlchemyError as exc:
        where = str(url_or_path) if isinstance(url_or_path, Path) else _hidden(url_or_path)
        raise ProjectError(f"cannot open the project database {where}: {str(exc).splitlines()[0]}") from None
    return sessionmaker(engine, expire_on_commit=False)


def row_fields(row: Base) -> dict[str, Any]:
    """A row's columns by name: how the journal keeps a row whose last line is its state (a job, a crew member)."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def journal_folder(sessions: sessionmaker[Session]) -> Path | None:
    """The folder of a SQLite project database, where its journal is kept; None on a database server (which
    its own backups restore, not ``soundstage db rebuild``)."""
    url = sessions.kw["bind"].url
    return Path(url.database).parent if url.get_backend_name() == "sqlite" and url.database else None


def _private(path: Path) -> None:
    """The database holds password hashes: make it 0600 from its first byte (SQLite gives its -wal and -shm
    files the database's mode), and close one an older soundstage left 0644; its journal, which holds them too."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise ProjectError(f"cannot make the project database: {exc.strerror}", path=path) from None
    for made in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
                 path.with_name(JOURNAL_FILE)):
        with contextlib.suppress(OSError):      # not there, or someone else's: theirs to close
            if made.stat().st_mode & 0o077:
                made.chmod(0o600)


_CHECKED: set[Path] = set()


def _check_integrity(engine: Engine, path: Path) -> None:
    """Refuse a damaged SQLite file before anything reads from it (a damaged page read later gives a traceback,
    or worse, rows silently missing: a render that finds no ledger rows re-renders, or says "cached").

    ``PRAGMA quick_check`` reads every page once (milliseconds for a project's database), so it runs once per
    process per file."""
    resolved = path.resolve()
    if resolved in _CHECKED or not path.is_file() or path.stat().st_size == 0:
        return
    try:
        connection = engine.raw_connection()
        try:
            rows = connection.cursor().execute("PRAGMA quick_check").fetchall()
        finally:
            connection.close()
        problem = None if [tuple(row) for row in rows] == [("ok",)] else str(rows[0][0])
    except (SQLAlchemyError, sqlite3.DatabaseError) as exc:
        problem = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    if problem is not None:
        project = path.parent.parent if path.parent.name == ".soundstage" else path.parent
        raise ProjectError(f"the project database is damaged ({problem})", path=path,
                           hint=f"rebuild it from the take folders and the journal: soundstage db rebuild {project}")
    _CHECKED.add(resolved)


def _migrate(engine: Engine) -> None:
    """Bring the schema to ``SCHEMA_HEAD``. The usual case, already there, costs one query and no Alembic."""
    if _revision(engine) == SCHEMA_HEAD:
        return
    from soundstage.migrations import upgrade

    upgrade(engine)


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None


def _hidden(url: str) -> str:
    """The URL as it may be shown: without its password."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except (SQLAlchemyError, ValueError):
        return "(unreadable URL)"
    query = {k: ("hidden" if "pass" in k.lower() else v) for k, v in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True)


def _wal(cursor: Any) -> None:
    """WAL mode, set once in the file. Switching needs the file to itself and SQLite does not wait for that
    (busy_timeout does not cover it): two processes opening a new database at once could fail here."""
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    deadline = time.monotonic() + 30
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None     # let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")  # wait for another process's write, rather than fail
    _wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


__all__ = ["DB_FILE", "SCHEMA_HEAD", "Approval", "Base", "CrewMember", "Job", "Login", "Note", "PlateChange",
           "Playlist", "PlaylistItem", "RenderRecord", "ReviewEvent", "SignInPlace", "SignInTries", "Spend",
           "TakeRecord", "journal_folder", "open_database", "row_fields"]
