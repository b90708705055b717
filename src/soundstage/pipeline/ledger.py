"""The render's books in the project database: which finished file was made from which inputs, and the jobs.

A file counts as finished only when it exists *and* the ledger holds the key of the inputs that made it.
The row is written after the file has been renamed into place, so a run killed in between merely re-renders
that one file. Every key is read once when a render starts, so a render with everything cached asks the
database nothing more.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from soundstage import journal
from soundstage.db import Job, RenderRecord, now, row_fields

LEGACY_FILE = "renders.json"     # the ledger before it moved into the database


class Ledger:
    def __init__(self, sessions: sessionmaker[Session], root: Path) -> None:
        self._sessions = sessions
        self.root = root
        with sessions() as session:
            self._keys = {row.output: row.key for row in session.scalars(select(RenderRecord))}
        self._adopt_legacy(root / ".soundstage" / LEGACY_FILE)

    def is_current(self, output: Path, key: str, *, storage: str | None = None) -> bool:
        """Whether ``output`` was made from ``key`` and is still there (or, with ``storage``, was published
        there; the store is not asked, so a no-op render stays a local affair)."""
        current = self._keys.get(self._name(output, storage)) == key
        return current and (storage is not None or output.exists())

    def record(self, outputs: Iterable[Path], key: str, *, storage: str | None = None, job: int | None = None,
               seconds: float = 0.0) -> None:
        """Enter finished files (already in place, or with ``storage`` published there) as made from ``key``."""
        names = [self._name(output, storage) for output in outputs]
        with self._sessions.begin() as session:
            for name in names:
                session.merge(RenderRecord(output=name, key=key, job_id=job, seconds=seconds, made_at=now()))
        self._keys.update(dict.fromkeys(names, key))

    # ------------------------------------------------------------------------------------------ jobs

    def start_job(self, command: str, executor: str) -> int:
        """Log this run as running. Runs still logged as running are dead: the render lock is ours."""
        with self._sessions.begin() as session:
            session.execute(update(Job).where(Job.status == "running").values(status="killed"))
            job = Job(command=command, executor=executor, host=socket.gethostname(), pid=os.getpid(),
                      status="running", built=0, cached=0, failed=0, cost_usd=0.0, seconds=0.0, steps={})
            session.add(job)
            session.flush()
            fields = row_fields(job)
        journal.append(self.root / ".soundstage", "job", **fields)
        return int(fields["id"])

    def finish_job(self, job_id: int, *, status: str, counts: dict[str, int], cost_usd: float, seconds: float,
                   steps: list[dict[str, Any]]) -> None:
        with self._sessions.begin() as session:
            job = session.get(Job, job_id)
            if job is None:
                return
            job.status, job.finished_at, job.cost_usd, job.seconds = status, now(), cost_usd, seconds
            job.built, job.cached, job.failed = counts["built"], counts["cached"], counts["failed"]
            job.steps = {"steps": steps}
            fields = row_fields(job)
        journal.append(self.root / ".soundstage", "job", **fields)

    def jobs(self, limit: int = 20) -> list[Job]:
        with self._sessions() as session:
            return list(session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)))

    # ------------------------------------------------------------------------------------------ inside

    def _name(self, output: Path, storage: str | None = None) -> str:
        name = output.relative_to(self.root).as_posix()
        return name if storage is None else f"{storage.rstrip('/')}::{name}"

    def _adopt_legacy(self, path: Path) -> None:
        """Take in a ``renders.json`` left by soundstage before 0.2, so nothing it lists is rendered again."""
        if not path.is_file():
            return
        try:
            keys = json.loads(path.read_text("utf-8"))
        except (ValueError, OSError):
            keys = {}     # a damaged ledger only costs re-renders, never output
        if not isinstance(keys, dict):
            keys = {}
        adopted = {name: key for name, key in keys.items() if isinstance(key, str) and name not in self._keys}
        if adopted:
            with self._sessions.begin() as session:
                for name, key in adopted.items():
                    session.merge(RenderRecord(output=name, key=key, seconds=0.0, made_at=now()))
            self._keys.update(adopted)
        path.replace(path.with_name(LEGACY_FILE + ".adopted"))

