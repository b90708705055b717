"""The project database: takes, approvals and money spent, in SQLite (``.soundstage/soundstage.db``).

Why a database and not JSON files: two processes (a render and a crew member approving a take) must be able
to write at once without losing either write, and the budget must be checked and reserved in one
transaction. SQLite in WAL mode through SQLAlchemy does both; the same models work on a studio's PostgreSQL.

Every take also keeps a ``take.json`` beside its files, so the record of how a file was made survives even if
the database is lost (``TakeStore`` adopts such folders back).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, UniqueConstraint, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

DB_FILE = "soundstage.db"
SCHEMA_VERSION = 1


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


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


def open_database(url_or_path: str | Path) -> sessionmaker:
    """Open (and create) the project database. A path means SQLite in WAL mode; a URL is used as given."""
    if isinstance(url_or_path, Path):
        url_or_path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{url_or_path}")
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLite's default deferred transactions would let two processes both read the budget, then both
        # spend it; BEGIN IMMEDIATE takes the write lock up front, so the second waits.
        event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    else:
        engine = create_engine(url_or_path)
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None     # let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")  # wait for another process's write, rather than fail
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    cursor.close()


__all__ = ["DB_FILE", "Approval", "Base", "Spend", "TakeRecord", "open_database"]
