"""The crew's decisions, also kept outside the database: approvals, notes and jobs, one JSON line each.

The database is the place they are read from; this journal (``.soundstage/journal.jsonl``, beside the
database file, never inside it) is what ``soundstage db rebuild`` replays when the database is damaged.
Each line is appended and fsync'd after the database has committed it, so what the crew decided survives
a corrupted database; a line torn by a crash mid-write is skipped when read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

JOURNAL_FILE = "journal.jsonl"

__all__ = ["JOURNAL_FILE", "append", "entries"]


def append(state_dir: Path, entry: str, **fields: Any) -> None:
    """Add one ``entry`` ("approval", "unapproval", "note", "job") and make it durable before returning."""
    line = json.dumps({"entry": entry, **fields}, ensure_ascii=False, default=_plain) + "\n"
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / JOURNAL_FILE).open("a", encoding="utf-8") as journal:
        journal.write(line)
        journal.flush()
        os.fsync(journal.fileno())


def entries(state_dir: Path) -> Iterator[dict[str, Any]]:
    """The journal's entries, oldest first; lines that do not read as an entry are passed over."""
    path = state_dir / JOURNAL_FILE
    if not path.is_file():
        return
    with path.open(encoding="utf-8", errors="replace") as journal:
        for line in journal:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and isinstance(item.get("entry"), str):
                yield item


def _plain(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
