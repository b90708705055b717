"""`soundstage db rebuild` gives back everything the crew made in the review: approvals and re-approvals with
who and when, notes with their frames and drawings, statuses and their history, the crew and their languages,
playlists with their items' notes, plate uploads. Made through the real app and the real CLI, the database
lost, the real `db rebuild` run: every row comes back as it was, twice over, and a damaged journal line is
named by file and line while the rest is replayed.

Issue 22: the rebuild replayed approvals and notes only; a damaged database lost who approved what and when,
every status, the crew, their languages and the playlists.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from conftest import PASSWORD, sign_in, take_ids
from soundstage.db import (
    Approval,
    CrewMember,
    Job,
    Note,
    PlateChange,
    Playlist,
    PlaylistItem,
    ReviewEvent,
    TakeRecord,
    open_database,
)
from soundstage.journal import JOURNAL_FILE
from soundstage.pipeline import Generation
from soundstage.project import Project
from soundstage.review import make_app
from test_cli import SCRIPT, soundstage
from tiny_film import FPS, green_plate

RAIN = "shot/2-1/element/rain"
SET = "set/sea-cliff-dusk"
CIRCLE = [{"tool": "circle", "colour": "#ff0000", "points": [[0.25, 0.5], [0.4, 0.6]]},
          {"tool": "text", "colour": "#00ff00", "points": [[0.1, 0.1]], "text": "too bright"}]
TABLES = (TakeRecord, Approval, Note, ReviewEvent, CrewMember, Playlist, PlaylistItem, PlateChange, Job)


def everything(project: Project) -> dict[str, list[tuple[Any, ...]]]:
    """Every column of every row a person made (and the takes and jobs they hang on), by table."""
    sessions = open_database(project.database)
    try:
        with sessions() as session:
            dump = {}
            for model in TABLES:
                columns = [c.key for c in model.__table__.columns if c.key not in ("record", "steps")]
                dump[model.__tablename__] = sorted(
                    tuple(json.dumps(getattr(row, c), sort_keys=True, default=str) for c in columns)
                     for row in session.scalars(select(model)))
            return dump
    finally:
        sessions.kw["bind"].dispose()


def lose_the_database(project: Project) -> None:
    for name in ("soundstage.db", "soundstage.db-wal", "soundstage.db-shm"):
        (project.state_dir / name).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def reviewed(film: Project, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[Any, ...]]]:
    """A day of review, through the app and the CLI; returns the database as it stood at the end."""
    root = film.root
    assert soundstage("approve", root, SET, "v001", "--by", "anna").returncode == 0
    assert soundstage("approve", root, SET, "v001", "--by", "pat").returncode == 0        # re-approved
    assert soundstage("note", root, "2-1", "hold on the rain", "--frame", "2", "--by", "pat").returncode == 0
    added = subprocess.run([str(SCRIPT), "user", "add", str(root), "newbie", "--role", "artist"], text=True,
                           input=PASSWORD + "\n", capture_output=True, env={**os.environ, "NO_COLOR": "1"},
                           timeout=120)
    assert added.returncode == 0, added.stderr
    assert soundstage("user", "remove", root, "vic").returncode == 0
    Generation(film).store.unapprove(SET, by="anna")

    app: FastAPI = make_app(film)
    try:
        anna, pat = sign_in(app, "anna"), sign_in(app, "pat")
        rain = take_ids(film, RAIN)["v001"]
        assert pat.post(f"/takes/{rain}/approve", data={"csrf": pat.csrf, "shot": "2-1"}).status_code == 200
        drawn = anna.post("/shots/2-1/notes", data={"csrf": anna.csrf, "body": "this, @art", "frame": "4",
                                                   "drawing": json.dumps(CIRCLE)})
        assert drawn.status_code == 200, drawn.text
        for who, status in ((anna, "wip"), (pat, "review"), (anna, "retake")):
            assert who.post("/shots/2-1/status", data={"csrf": who.csrf, "status": status}).status_code == 200
        assert anna.post("/me/language", data={"csrf": anna.csrf, "language": "ko"}).status_code == 200
        playlist = pat.post("/playlists", data={"csrf": pat.csrf, "name": "dailies 12/8"}).json()["playlist"]
        for shot, said in (("2-1", "first look"), ("1-1", "")):
            answer = pat.post(f"/playlists/{playlist}/items", data={"csrf": pat.csrf, "shot": shot, "note": said})
            assert answer.status_code == 200, answer.text
        item = answer.json()["item"]
        assert pat.post(f"/playlists/{playlist}/items/{item}/note",
                        data={"csrf": pat.csrf, "note": "key edge chatters"}).status_code == 200
        plate = tmp_path_factory.mktemp("upload") / "actor.mp4"
        green_plate(plate, FPS + 1, block=(150, 60, 50))
        uploaded = anna.post("/shots/1-1/plate", data={"csrf": anna.csrf},
                             files={"plate": ("actor.mp4", plate.read_bytes())})
        assert uploaded.status_code == 200, uploaded.text
    finally:
        app.state.board.close()
    made = everything(film)
    assert len(made["review_events"]) == 7 and len(made["playlist_items"]) == 2
    assert len(made["plate_changes"]) == 1 and len(made["notes"]) == 2
    return made


def test_a_lost_database_is_rebuilt_with_everything_the_crew_made(film: Project, reviewed: dict[str, Any]) -> None:
    lose_the_database(film)
    rebuilt = soundstage("db", "rebuild", film.root)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stderr == ""
    assert "7 changes of approval or status, 4 crew members, 1 playlist, 1 plate change" in rebuilt.stdout
    after = everything(film)
    for table, rows in reviewed.items():
        assert after[table] == rows, table                 # every column: ids, who, when, frames, drawings

    with open_database(film.database)() as session:      # what a reader of the rows sees, said plainly
        history = [(e.subject, e.kind, e.status, e.by) for e in session.scalars(select(ReviewEvent)
                                                                               .order_by(ReviewEvent.id))]
        drawn = session.scalar(select(Note).where(Note.author == "anna"))
        crew = {m.name: (m.role, m.language) for m in session.scalars(select(CrewMember))}
    assert history == [(SET, "approved", None, "anna"), (SET, "approved", None, "pat"),
                       (SET, "unapproved", None, "anna"), (RAIN, "approved", None, "pat"),
                       ("shot/2-1", "status", "wip", "anna"), ("shot/2-1", "status", "review", "pat"),
                       ("shot/2-1", "status", "retake", "anna")]
    assert drawn is not None and drawn.frame == 4 and drawn.author == "anna" and drawn.drawing == CIRCLE
    assert crew == {"anna": ("director", "ko"), "pat": ("producer", "en"), "art": ("artist", "en"),
                    "newbie": ("artist", "en")}
    app = make_app(film)
    try:
        anna = sign_in(app, "anna")                        # the password hash came back: she signs in
        assert anna.get("/api/me").json()["language"] == "ko"
        assert "key edge chatters" in anna.get("/playlists/1", headers={"accept": "text/html"}).text
    finally:
        app.state.board.close()


def test_rebuilding_twice_gives_the_same_database(film: Project, reviewed: dict[str, Any]) -> None:
    again = soundstage("db", "rebuild", film.root, "--force")
    assert again.returncode == 0, again.stderr
    assert everything(film) == reviewed
    assert soundstage("db", "rebuild", film.root, "--force").returncode == 0
    assert everything(film) == reviewed


def test_a_damaged_journal_line_is_named_and_the_rest_replayed(film: Project, reviewed: dict[str, Any]) -> None:
    journal = film.state_dir / JOURNAL_FILE
    kept = journal.read_bytes()
    lines = kept.decode().splitlines(keepends=True)
    torn = next(n for n, line in enumerate(lines) if '"entry": "status"' in line)
    try:
        journal.write_text("".join([*lines[:torn], '{"entry": "status", "subj\n', *lines[torn:],
                                    '{"entry": "approval", "slot": "set/gone", "version": 9, "at": "2026-12-08"}\n']))
        lose_the_database(film)
        rebuilt = soundstage("db", "rebuild", film.root)
        assert rebuilt.returncode == 0, rebuilt.stderr
        warnings = rebuilt.stderr.strip().splitlines()
        assert warnings == [
            f"warning: {journal}:{torn + 1}: not a journal entry (torn by a crash or edited); skipped",
            f"warning: {journal}:{len(lines) + 2}: approval entry unusable: set/gone v009 is not in the take "
            "folders; skipped"], rebuilt.stderr
        assert "2 unreadable entries skipped" in rebuilt.stdout
        assert everything(film) == reviewed               # nothing else lost
    finally:
        journal.write_bytes(kept)


def test_a_line_torn_by_a_crash_costs_only_itself(film: Project, reviewed: dict[str, Any]) -> None:
    journal = film.state_dir / JOURNAL_FILE
    kept = journal.read_bytes()
    try:
        journal.write_bytes(kept + b'{"entry": "note", "subject": "shot/2-1", "bo')      # killed mid-line
        assert soundstage("note", film.root, "1-1", "after the crash", "--by", "art").returncode == 0
        last = journal.read_text("utf-8").splitlines()[-1]
        assert json.loads(last)["body"] == "after the crash"
        assert oct(journal.stat().st_mode & 0o777) == oct(0o600)      # it holds password hashes
    finally:
        journal.write_bytes(kept)
