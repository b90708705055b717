"""``soundstage db rebuild``: a new project database from what lives outside the damaged one.

A SQLite file damaged in the middle (a disk fault, a copy cut short) is refused when opened (see
``db._check_integrity``). This rebuilds it:

- the damaged file (with its ``-wal`` and ``-shm``) is moved aside under a new name, never deleted;
- takes come back from the take folders (``.soundstage/takes/*/take.json``: slot, key, engine, prompt,
  seed, cost), numbered per slot in the order they were made; their cost is entered as money spent;
- approvals, notes and jobs come back from the journal (:mod:`soundstage.journal`).

What is not rebuilt: the render ledger (the next render re-renders once, then caches again) and the crew's
sign-ins for the review app (``soundstage user add`` again).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from soundstage import journal
from soundstage.db import Approval, Job, Note, Spend, TakeRecord, now, open_database
from soundstage.errors import ProjectError
from soundstage.project import Project
from soundstage.records.take import TakeFile
from soundstage.takes.store import TAKE_FILE, TAKES_DIR, take_row

__all__ = ["Rebuilt", "rebuild_database"]


@dataclass(frozen=True)
class Rebuilt:
    damaged: Path | None          # where the damaged database was moved; None if there was none
    takes: int
    approvals: int
    notes: int
    jobs: int
    skipped: int                  # take.json files or journal lines that could not be used


def rebuild_database(project: Project, *, force: bool = False) -> Rebuilt:
    """Move the project's SQLite database aside and build a new one from the take folders and the journal.

    A database that is not damaged is kept unless ``force``: rebuilding loses the render ledger and sign-ins."""
    database = project.database
    if not isinstance(database, Path):
        raise ProjectError("the project uses a database server; rebuild works on the project's own SQLite file",
                           hint="restore the server's database from its backup")
    if database.exists() and not force:
        try:
            open_database(database)
        except ProjectError:
            pass                            # damaged (or unreadable): rebuild it
        else:
            raise ProjectError("the project database is not damaged; nothing to rebuild", path=database,
                               hint="rebuild anyway with --force (the render ledger and sign-ins are not rebuilt)")
    damaged = _move_aside(database)
    sessions = open_database(database)
    takes, skipped = _take_rows(project.state_dir)
    versions: dict[tuple[str, int], int] = {}
    with sessions.begin() as session:
        for row in takes:
            session.add(row)
            if row.cost_usd > 0:
                made = TakeFile.from_dict(row.record)
                session.add(Spend(slot=row.slot, key=row.key, engine=row.engine, model=row.model,
                                  unit=made.unit, quantity=float(made.quantity),
                                  usd=row.cost_usd, status="settled", created_at=row.created_at))
        session.flush()
        versions = {(row.slot, row.version): row.id for row in takes}
    approvals, notes, jobs, unusable = _replay(sessions, project.state_dir, versions)
    return Rebuilt(damaged, len(takes), approvals, notes, jobs, skipped + unusable)


def _move_aside(database: Path) -> Path | None:
    """Rename the database and its WAL files to ``<name>.damaged-<time>[-n]``; never over an existing file."""
    if not database.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for attempt in range(1, 1000):
        aside = database.with_name(f"{database.name}.damaged-{stamp}" + (f"-{attempt}" if attempt > 1 else ""))
        companions = [(database.with_name(database.name + suffix), aside.with_name(aside.name + suffix))
                      for suffix in ("", "-wal", "-shm")]
        if any(target.exists() for _, target in companions):
            continue
        for source, target in companions:
            if source.exists():
                os.link(source, target)         # fails rather than replace a file of the same name
                source.unlink()
        return aside
    raise ProjectError("cannot find a free name to move the damaged database aside", path=database)


def _take_rows(state_dir: Path) -> tuple[list[TakeRecord], int]:
    """A row for each take folder, numbered per slot in the order the takes were made."""
    found: list[tuple[TakeFile, dict[str, Any], str]] = []
    skipped = 0
    for path in sorted((state_dir / TAKES_DIR).glob(f"*/{TAKE_FILE}")):
        if path.parent.name.startswith("."):
            continue                        # a half take of a killed run
        try:
            record = json.loads(path.read_text("utf-8"))
            found.append((TakeFile.from_dict(record), record, path.parent.relative_to(state_dir).as_posix()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            skipped += 1
    rows: list[TakeRecord] = []
    numbers: dict[str, int] = {}
    for take, record, folder in sorted(found, key=lambda item: (str(item[0].created_at), str(item[0].key))):
        slot = str(take.slot)
        try:
            row = take_row(slot, numbers.get(slot, 0) + 1, str(take.key), str(take.design), record, folder)
        except (KeyError, TypeError, ValueError):
            skipped += 1
            continue
        numbers[slot] = row.version
        row.created_at = _naive(str(take.created_at))
        rows.append(row)
    return rows, skipped


def _replay(sessions: Any, state_dir: Path, versions: dict[tuple[str, int], int]) -> tuple[int, int, int, int]:
    """Approvals, notes and jobs from the journal; (approvals, notes, jobs, entries that could not be used)."""
    approvals: dict[str, Approval | None] = {}
    notes: list[Note] = []
    jobs: dict[int, dict[str, Any]] = {}
    unusable = 0
    for item in journal.entries(state_dir):
        try:
            kind = item["entry"]
            if kind == "approval":
                take_id = versions.get((item["slot"], int(item["version"])))
                if take_id is None:
                    unusable += 1
                    continue
                approvals[item["slot"]] = Approval(slot=item["slot"], take_id=take_id, approved_by=item.get("by", ""),
                                                   approved_at=_naive(item["at"]))
            elif kind == "unapproval":
                approvals[item["slot"]] = None
            elif kind == "note":
                version = item.get("version")
                take_id = None if version is None else versions.get((item["subject"], int(version)))
                notes.append(Note(subject=item["subject"], take_id=take_id, body=item["body"],
                                  author=item.get("by", ""), created_at=_naive(item["at"]),
                                  frame=item.get("frame"), drawing=item.get("drawing")))
            elif kind == "job":
                jobs[int(item["id"])] = item
        except (KeyError, TypeError, ValueError):
            unusable += 1
    kept = [approval for approval in approvals.values() if approval is not None]
    with sessions.begin() as session:
        session.add_all(kept)
        session.add_all(notes)
        for fields in jobs.values():
            columns = {column.key for column in Job.__table__.columns}
            row = {key: value for key, value in fields.items() if key in columns}
            for stamp in ("started_at", "finished_at"):
                if row.get(stamp):
                    row[stamp] = _naive(row[stamp])
            session.add(Job(**row))
    return len(kept), len(notes), len(jobs), unusable


def _naive(stamp: str) -> datetime:
    """A stored time (ISO, with or without a zone) as the database keeps it: UTC without a zone."""
    try:
        moment = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return now()
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
