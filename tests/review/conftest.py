"""A rendered tiny film with a crew of four, shared by the review app's tests of one module.

Each test module gets its own film (rendering it takes about a second), so a test that approves or uploads
changes only its own module's film.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from soundstage.db import Approval, CrewMember, Login, Note, ReviewEvent, Spend, TakeRecord, open_database
from soundstage.pipeline import render_project
from soundstage.project import Project

pytest.importorskip("fastapi")
pytest.importorskip("argon2")

from fastapi import FastAPI
from fastapi.testclient import TestClient

from soundstage.review import make_app
from soundstage.review.auth import Crew
from tiny_film import make_tiny

PASSWORD = "correct horse battery"
CREW = {"anna": "director", "pat": "producer", "art": "artist", "vic": "viewer"}
HTML = {"accept": "text/html"}
UPLOAD_MB = 1


def rendered_film(root: Path) -> Project:
    project = make_tiny(root)
    report = render_project(project)
    assert not report.failed, report.failed
    crew = Crew(open_database(project.database))
    for name, role in CREW.items():
        crew.add(name, role, PASSWORD)
    return project


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return rendered_film(tmp_path_factory.mktemp("review") / "film")


@pytest.fixture(scope="module")
def app(film: Project) -> Iterator[FastAPI]:
    review = make_app(film, max_upload_mb=UPLOAD_MB)
    yield review
    review.state.board.close()


class Member(TestClient):
    """A browser signed in as one crew member; ``csrf`` is the token its pages' forms carry."""

    csrf: str = ""


def sign_in(app: FastAPI, name: str, password: str = PASSWORD) -> Member:
    client = Member(app)
    form = client.get("/login", headers=HTML)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    answer = client.post("/login", data={"name": name, "password": password, "csrf": token}, headers=HTML,
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    client.csrf = client.get("/api/me").json()["csrf"]
    return client


@pytest.fixture(scope="module")
def crew(app: FastAPI) -> dict[str, Member]:
    return {name: sign_in(app, name) for name in CREW}


def books(project: Project) -> dict[str, Any]:
    """Everything an action could change: the database's rows and the plates' bytes."""
    sessions = open_database(project.database)
    with sessions() as session:
        state = {
            "takes": sorted((t.id, t.slot, t.version, t.seed, t.prompt) for t in session.scalars(select(TakeRecord))),
            "approvals": sorted((a.slot, a.take_id, a.approved_by, a.approved_at)
                                for a in session.scalars(select(Approval))),
            "notes": sorted((n.id, n.subject, n.body, n.author, n.frame, str(n.drawing))
                            for n in session.scalars(select(Note))),
            "history": sorted((e.id, e.subject, e.kind, e.status, e.by) for e in session.scalars(select(ReviewEvent))),
            "spend": sorted((s.id, s.usd, s.status) for s in session.scalars(select(Spend))),
            "crew": sorted((m.name, m.role, m.password_hash) for m in session.scalars(select(CrewMember))),
            "logins": len(list(session.scalars(select(Login)))),
        }
    state["plates"] = {p.relative_to(project.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                       for p in sorted((project.root / "plates").rglob("*")) if p.is_file()}
    return state


def take_ids(project: Project, slot: str) -> dict[str, int]:
    """label → take id of a slot's takes."""
    with open_database(project.database)() as session:
        return {t.label: t.id for t in session.scalars(select(TakeRecord).where(TakeRecord.slot == slot))}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright, one per module of browser tests."""
    from test_review_browser import CHROMIUM, FLAGS, sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@contextlib.contextmanager
def served_film(project: Project) -> Iterator[str]:
    """``project`` rendered, the crew signed up, and its review app on a real port of 127.0.0.1: its URL."""
    from test_review_browser import served

    report = render_project(project)
    assert not report.failed, report.failed
    crew = Crew(open_database(project.database))
    for name, role in CREW.items():
        crew.add(name, role, PASSWORD)
    app = make_app(project)
    try:
        with served(app) as url:
            yield url
    finally:
        app.state.board.close()
