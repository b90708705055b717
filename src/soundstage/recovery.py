"""``soundstage db rebuild``: a new project database from what lives outside the damaged one.

A SQLite file damaged in the middle (a disk fault, a copy cut short) is refused when opened (see
``db._check_integrity``). This rebuilds it:

- the damaged file (with its ``-wal`` and ``-shm``) is moved aside under a new name, never deleted;
- takes come back from the take folders (``.soundstage/takes/*/take.json``: slot, key, engine, prompt,
  seed, cost), numbered per slot in the order they were made; their cost is entered as money spent;
- what the crew did comes back from the journal (:mod:`soundstage.journal`), replayed in order: approvals and
  their history (who, when, re-approvals and withdrawals), notes with their frames and drawings, shot
  statuses and their history, the crew (role, password hash, language), playlists with their items and
  notes, plate uploads, and jobs. A line of the journal that cannot be used is named by file and line, and
  the rest replayed. The same journal gives the same database, however often it is rebuilt.

What is not rebuilt: the render ledger (the next render re-renders once, then caches again) and the review
app's sign-in sessions (the crew signs in again).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from soundstage import journal
from soundstage.db import (
    Approval,
    Base,
    CrewMember,
    Job,
    Note,
    PlateChange,
    Playlist,
    PlaylistItem,
    ReviewEvent,
    Spend,
    TakeRecord,
    open_database,
)
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
    history: int = 0              # changes of approval and status, with who and when
    crew: int = 0
    playlists: int = 0
    plate_changes: int = 0
    problems: tuple[str, ...] = ()   # each one skipped, one line naming its file (and line)


def rebuild_database(project: Project, *, force: bool = False) -> Rebuilt:
    """Move the project's SQLite database aside and build a new one from the take folders and the journal.

    A database that is not damaged is kept unless ``force``: rebuilding loses the render ledger and sign-in
    sessions."""
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
                               hint="rebuild anyway with --force (the render ledger and sign-in sessions are not "
                                    "rebuilt)")
    damaged = _move_aside(database)
    sessions = open_database(database)
    journalled = list(journal.lines(project.state_dir))
    takes, unread = _take_rows(project.state_dir, journalled)
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
    book = _replay(sessions, project.state_dir, versions, journalled)
    problems = (*unread, *book.problems)
    return Rebuilt(damaged, len(takes), len(book.approvals), len(book.notes), len(book.rows["job"]), len(problems),
                   history=len(book.history), crew=len(book.rows["crew"]), playlists=len(book.rows["playlist"]),
                   plate_changes=len(book.rows["plate_change"]), problems=problems)


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


def _take_rows(state_dir: Path, journalled: list[tuple[int, dict[str, Any] | None]]
               ) -> tuple[list[TakeRecord], list[str]]:
    """A row for each take of each slot: numbered (id, version, time) as the journal's ``take`` lines say, so
    a take keeps its number and its page's address; a folder the journal does not number (made before takes were
    journalled) after those of its slot, in the order the takes were made. And what could not be used, one line
    each."""
    found: dict[str, tuple[TakeFile, dict[str, Any], str]] = {}
    problems: list[str] = []
    for path in sorted((state_dir / TAKES_DIR).glob(f"*/{TAKE_FILE}")):
        if path.parent.name.startswith("."):
            continue                        # a half take of a killed run
        try:
            record = json.loads(path.read_text("utf-8"))
            made = TakeFile.from_dict(record)
            found[str(made.key)] = (made, record, path.parent.relative_to(state_dir).as_posix())
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            problems.append(f"{path}: not a readable take record; skipped")
    rows: dict[tuple[str, str], TakeRecord] = {}
    where = state_dir / journal.JOURNAL_FILE
    for number, item in journalled:
        if item is None or item.get("entry") != "take":
            continue
        try:
            slot, key, version, take_id = str(item["slot"]), str(item["key"]), int(item["version"]), int(item["id"])
            if key not in found:
                problems.append(f"{where}:{number}: take {slot} v{version:03d} has no take folder; skipped")
                continue
            made, record, folder = found[key]
            row = take_row(slot, version, key, str(made.design), record, folder, served=bool(item.get("served")))
            row.id, row.created_at = take_id, _naive(item["at"])
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{where}:{number}: take entry unusable: {exc}; skipped")
            continue
        rows[(slot, key)] = row
    numbers: dict[str, int] = {}
    for row in rows.values():
        numbers[row.slot] = max(numbers.get(row.slot, 0), row.version)
    numbered = {key for _, key in rows}
    for made, record, folder in sorted((entry for key, entry in found.items() if key not in numbered),
                                       key=lambda entry: (str(entry[0].created_at), str(entry[0].key))):
        slot = str(made.slot)
        try:
            row = take_row(slot, numbers.get(slot, 0) + 1, str(made.key), str(made.design), record, folder)
            row.created_at = _naive(str(made.created_at))
        except (KeyError, TypeError, ValueError):
            problems.append(f"{state_dir / folder / TAKE_FILE}: not a take this soundstage can number; skipped")
            continue
        numbers[slot] = row.version
        rows[(slot, str(made.key))] = row
    return list(rows.values()), problems


# Rows the journal keeps whole, by their columns: the last line of a key is the row's state.
_ROWS: dict[str, type[Base]] = {"crew": CrewMember, "playlist": Playlist, "playlist_item": PlaylistItem,
                                "plate_change": PlateChange, "job": Job}


@dataclass
class _Replayed:
    """What the journal says holds, built up line by line before one transaction writes it."""

    approvals: dict[str, Approval] = field(default_factory=dict)
    notes: dict[int, Note] = field(default_factory=dict)
    history: list[ReviewEvent] = field(default_factory=list)
    rows: dict[str, dict[Any, tuple[int, dict[str, Any]]]] = field(default_factory=lambda: {k: {} for k in _ROWS})
    problems: list[str] = field(default_factory=list)


def _replay(sessions: Any, state_dir: Path, versions: dict[tuple[str, int], int],
            journalled: list[tuple[int, dict[str, Any] | None]]) -> _Replayed:
    """Replay the journal in order: approvals and their history, notes with their frames and drawings, statuses,
    the crew and their languages, playlists, plate changes and jobs. A line that cannot be used is named (file
    and line) in ``problems`` and the rest replayed."""
    book = _Replayed()
    where = state_dir / journal.JOURNAL_FILE
    for number, item in journalled:
        if item is None:
            book.problems.append(f"{where}:{number}: not a journal entry (torn by a crash or edited); skipped")
            continue
        try:
            problem = _enter(book, number, item, versions)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            problem = f"its {exc.args[0] if isinstance(exc, KeyError) else 'fields'} "\
                      f"{'is missing' if isinstance(exc, KeyError) else 'do not read: ' + str(exc)}"
        if problem is not None:
            book.problems.append(f"{where}:{number}: {item.get('entry')} entry unusable: {problem}; skipped")
    crew = book.rows["crew"]
    for key, (number, fields) in list(book.rows["playlist_item"].items()):
        if fields.get("playlist_id") not in book.rows["playlist"]:
            del book.rows["playlist_item"][key]
            book.problems.append(f"{where}:{number}: playlist_item entry unusable: its playlist "
                                 f"{fields.get('playlist_id')} is not in the journal; skipped")
    with sessions.begin() as session:
        session.add_all(_row(CrewMember, fields) for _, fields in crew.values())
        session.add_all(book.approvals.values())
        session.add_all(book.notes.values())
        session.add_all(book.history)
        for kind in ("job", "playlist", "playlist_item", "plate_change"):
            session.add_all(_row(_ROWS[kind], fields) for _, fields in book.rows[kind].values())
    return book


def _enter(book: _Replayed, number: int, item: dict[str, Any], versions: dict[tuple[str, int], int]) -> str | None:
    """Take one journal entry into ``book``; what is wrong with it, if it cannot be used."""
    kind = item["entry"]
    if kind == "approval":
        version = int(item["version"])
        take_id = versions.get((item["slot"], version))
        if take_id is None:
            return f"{item['slot']} v{version:03d} is not in the take folders"
        at = _naive(item["at"])
        book.approvals[item["slot"]] = Approval(slot=item["slot"], take_id=take_id, approved_by=item.get("by", ""),
                                                approved_at=at)
        book.history.append(ReviewEvent(subject=item["slot"], kind="approved", take_id=take_id, version=version,
                                        by=item.get("by", ""), at=at))
    elif kind == "unapproval":
        withdrawn = book.approvals.pop(item["slot"], None)
        if withdrawn is not None:
            book.history.append(ReviewEvent(subject=item["slot"], kind="unapproved", take_id=withdrawn.take_id,
                                            by=item.get("by", ""), at=_naive(item["at"])))
    elif kind == "status":
        book.history.append(ReviewEvent(subject=item["subject"], kind="status", status=str(item["status"]),
                                        by=item.get("by", ""), at=_naive(item["at"])))
    elif kind == "note":
        version = item.get("version")
        take_id = None if version is None else versions.get((item["subject"], int(version)))
        note_id = int(item.get("id") or 0)
        if note_id < 1 or note_id in book.notes:    # written before notes kept their number: the next one
            note_id = max(book.notes, default=0) + 1
        book.notes[note_id] = Note(id=note_id, subject=item["subject"], take_id=take_id, body=str(item["body"]),
                                  author=item.get("by", ""), created_at=_naive(item["at"]),
                                  frame=item.get("frame"), drawing=item.get("drawing"))
    elif kind == "take":
        pass                                # numbered with the take folders (see _take_rows)
    elif kind == "crew_removed":
        book.rows["crew"].pop(item["name"], None)
    elif kind in _ROWS:
        model = _ROWS[kind]
        key = tuple(item[column.key] for column in model.__table__.primary_key.columns)
        book.rows[kind][key[0] if len(key) == 1 else key] = (number, item)
    else:
        return "not a kind this soundstage knows"
    return None


def _row(model: type[Base], fields: dict[str, Any]) -> Base:
    """A row from its journalled columns: unknown keys left out, times read back as the database keeps them."""
    row: dict[str, Any] = {}
    for column in model.__table__.columns:
        if column.key in fields:
            value = fields[column.key]
            if isinstance(value, str) and _is_time(column):
                value = _naive(value)
            row[column.key] = value
    return model(**row)


def _is_time(column: Any) -> bool:
    try:
        return column.type.python_type is datetime
    except NotImplementedError:
        return False


def _naive(stamp: str) -> datetime:
    """A stored time (ISO, with or without a zone) as the database keeps it: UTC without a zone. Raises
    ValueError on one that does not read (never "now": rebuilding twice must give the same database)."""
    moment = datetime.fromisoformat(stamp)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
