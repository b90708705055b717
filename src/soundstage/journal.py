"""The crew's decisions, also kept outside the database: takes approved, notes and drawings, statuses, the crew
and their languages, playlists, plate uploads and jobs, one JSON line each.

The database is the place they are read from; this journal (``.soundstage/journal.jsonl``, beside the
database file, never inside it) is what ``soundstage db rebuild`` replays, in order, when the database is
damaged. Each line is appended and fsync'd after the database has committed it, so what the crew decided
survives a corrupted database. A line torn by a crash mid-write is ended before the next is appended, so it
costs only itself; reading names it by its line number.

It holds the crew's password hashes, as the database does, so it is private to its owner (0600).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

JOURNAL_FILE = "journal.jsonl"

__all__ = ["JOURNAL_FILE", "append", "entries", "lines"]


def append(state_dir: Path, entry: str, **fields: Any) -> None:
    """Add one ``entry`` ("approval", "note", "status", "crew", "playlist", "job"…) and make it durable first.

    One ``write`` of the whole line under an exclusive lock, so lines of two processes never interleave."""
    line = (json.dumps({"entry": entry, **fields}, ensure_ascii=False, default=_plain) + "\n").encode()
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / JOURNAL_FILE
    handle = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with contextlib.suppress(OSError):      # someone else's file: theirs to close
            if os.fstat(handle).st_mode & 0o077:
                os.fchmod(handle, 0o600)
        size = os.fstat(handle).st_size
        if size and os.pread(handle, 1, size - 1) != b"\n":
            line = b"\n" + line                 # end a line torn by a crash, or this one would be lost with it
        written = 0
        while written < len(line):
            written += os.write(handle, line[written:])
        os.fsync(handle)
    finally:
        os.close(handle)                        # also lets go of the lock


def lines(state_dir: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Each line's number (from 1) and its entry, oldest first; None for a line that does not read as an entry
    (torn by a crash, or edited by hand). Blank lines are passed over."""
    path = state_dir / JOURNAL_FILE
    if not path.is_file():
        return
    with path.open(encoding="utf-8", errors="replace") as journal:
        for number, line in enumerate(journal, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                yield number, None
                continue
            yield number, item if isinstance(item, dict) and isinstance(item.get("entry"), str) else None


def entries(state_dir: Path) -> Iterator[dict[str, Any]]:
    """The journal's entries, oldest first; lines that do not read as an entry are passed over."""
    return (item for _, item in lines(state_dir) if item is not None)


def _plain(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
