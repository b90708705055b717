"""Refusals: wrong roles, missing CSRF tokens, traversal, oversized and fake uploads, wrong passwords.

Each refusal is checked for its status and for having changed nothing: the database's rows and the plates'
bytes are the same before and after.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import HTML, PASSWORD, UPLOAD_MB, Member, books, rendered_film, sign_in, take_ids
from soundstage.db import open_database
from soundstage.project import Project
from soundstage.review import make_app
from soundstage.review.auth import Crew
from tiny_film import green_plate

RAIN = "shot/2-1/element/rain"
DRAWING = '[{"tool": "circle", "colour": "#ff3b30", "points": [[0.5, 0.5], [0.6, 0.6]]}]'


def _login_form(client: TestClient) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/login", headers=HTML).text).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize("name, password", [("anna", "wrong password"), ("nobody", PASSWORD), ("anna", "")])
def test_a_wrong_name_or_password_signs_nobody_in(app: FastAPI, film: Project, name: str, password: str) -> None:
    before = books(film)
    client = TestClient(app)
    answer = client.post("/login", data={"name": name, "password": password, "csrf": _login_form(client)},
                         headers=HTML, follow_redirects=False)
    assert answer.status_code == (422 if not password else 401)
    assert "soundstage_session" not in answer.cookies
    assert books(film) == before
    assert client.get("/", headers=HTML, follow_redirects=False).headers["location"] == "/login?next=/"


def test_guessing_passwords_slows_the_guesser_not_the_member(app: FastAPI, film: Project) -> None:
    Crew(open_database(film.database)).add("guessed", "viewer", PASSWORD)
    assert _sign_in_from(app, "10.0.0.1", "guessed", PASSWORD).status_code == 303
    before = books(film)
    answers = [_sign_in_from(app, "10.6.6.6", "guessed", f"guess {n}") for n in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    right = _sign_in_from(app, "10.6.6.6", "guessed", PASSWORD)     # the guesser waits, right password or not
    assert right.status_code == 429 and "try again in" in right.json()["detail"]
    assert "soundstage_session" not in right.cookies
    assert books(film) == before
    assert _sign_in_from(app, "10.0.0.1", "guessed", PASSWORD).status_code == 303     # the member does not


def _sign_in_from(app: FastAPI, address: str, name: str, password: str):  # type: ignore[no-untyped-def]
    client = TestClient(app, client=(address, 50000))
    return client.post("/login", data={"name": name, "password": password, "csrf": _login_form(client)},
                       follow_redirects=False)


def test_signing_in_needs_the_forms_csrf_token(app: FastAPI, film: Project) -> None:
    before = books(film)
    client = TestClient(app)
    _login_form(client)
    for token in ("", "forged"):
        answer = client.post("/login", data={"name": "anna", "password": PASSWORD, "csrf": token})
        assert answer.status_code == 403 and "CSRF" in answer.json()["detail"]
    assert books(film) == before


def test_signed_out_requests_are_refused(app: FastAPI, film: Project) -> None:
    before = books(film)
    stranger = TestClient(app)
    take = take_ids(film, RAIN)["v001"]
    assert stranger.post(f"/takes/{take}/approve", data={"csrf": "x"}).status_code == 401
    assert stranger.get("/api/film").status_code == 401
    assert stranger.get("/files/out/cut.mp4").status_code == 401
    stranger.cookies.set("soundstage_session", "made-up")
    assert stranger.get("/api/shots/2-1").status_code == 401
    assert books(film) == before


@pytest.mark.parametrize("who, action", [
    ("vic", "approve"), ("art", "approve"), ("vic", "note"), ("vic", "regenerate"), ("pat", "regenerate"),
    ("vic", "render"), ("vic", "upload"), ("pat", "upload"), ("vic", "status"), ("art", "status-final"),
    ("vic", "drawing"),
])
def test_each_role_may_do_only_its_own_work(crew: dict[str, Member], film: Project, who: str, action: str) -> None:
    before = books(film)
    client = crew[who]
    answer = _act(client, film, action, client.csrf)
    assert answer.status_code == 403, answer.text
    assert f"a {client.get('/api/me').json()['role']} may not" in answer.json()["detail"]
    assert books(film) == before


@pytest.mark.parametrize("action", ["approve", "note", "regenerate", "render", "upload", "logout", "status",
                                    "drawing"])
@pytest.mark.parametrize("token", ["", "forged", "other"])
def test_every_form_needs_the_sessions_csrf_token(crew: dict[str, Member], app: FastAPI, film: Project,
                                                  action: str, token: str) -> None:
    before = books(film)
    if token == "other":                 # a real token, but another browser's session
        token = sign_in(app, "pat").csrf
        before = books(film)
    answer = _act(crew["anna"], film, action, token)
    assert answer.status_code == 403, answer.text
    assert "CSRF" in answer.json()["detail"]
    assert books(film) == before
    assert crew["anna"].get("/api/me").status_code == 200      # still signed in: logout was refused too


@pytest.mark.parametrize("path", [
    "/files/%2e%2e/%2e%2e/etc/passwd", "/files/..%2F..%2Fetc%2Fpasswd", "/files/out/..%2Fsoundstage.toml",
    "/files/.soundstage/soundstage.db", "/files/.soundstage/keys/signing.key", "/files/soundstage.toml",
    "/files/%2Fetc%2Fpasswd", "/files/out/%00cut.mp4", "/files/out/" + "x" * 5000, "/files/out/escape/passwd",
    "/files/.soundstage/takes/../soundstage.db", "/thumbs/shots/..%2F..%2Fsoundstage.jpg",
    "/files/.soundstage/journal.jsonl", "/files/.soundstage/takes/..%2Fjournal.jsonl",     # it holds password hashes
])
def test_no_file_outside_the_served_folders_is_served(crew: dict[str, Member], film: Project, path: str) -> None:
    escape = film.out_dir / "escape"
    if not escape.exists():
        escape.symlink_to("/etc")             # a link inside out/ that leads outside the project
    answer = crew["anna"].get(path)
    assert answer.status_code in (404, 422), (path, answer.status_code)
    assert b"root:" not in answer.content and b"SQLite" not in answer.content and b"PRIVATE" not in answer.content
    assert b"argon2" not in answer.content


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", ".soundstage/soundstage.db",
                                  "out/escape/passwd"])
def test_provenance_refuses_paths_outside_the_served_folders(crew: dict[str, Member], film: Project,
                                                             path: str) -> None:
    escape = film.out_dir / "escape"
    if not escape.exists():
        escape.symlink_to("/etc")
    answer = crew["anna"].get("/provenance", params={"path": path}, headers=HTML)
    assert answer.status_code == 404 and "root:" not in answer.text


def test_an_oversized_plate_is_refused_before_it_is_stored(crew: dict[str, Member], film: Project) -> None:
    before = books(film)
    big = b"\0" * (UPLOAD_MB * 1024 * 1024 + 200 * 1024)
    answer = _upload(crew["art"], "actor.mp4", big)
    assert answer.status_code == 413
    assert books(film) == before
    assert not [p for p in (film.root / "plates").iterdir() if ".partial" in p.name]


@pytest.mark.parametrize("name, content", [
    ("actor.mp4", b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000)),   # looks like an MP4, is not one
    ("actor.mp4", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
    ("actor.txt", b"hello"),
    ("actor.mov", None),                                              # a real movie, of another kind
])
def test_a_fake_or_wrong_plate_is_refused(crew: dict[str, Member], film: Project, tmp_path: Path, name: str,
                                          content: bytes | None) -> None:
    if content is None:
        green_plate(tmp_path / "plate.mp4", 6)
        content = (tmp_path / "plate.mp4").read_bytes()
    before = books(film)
    answer = _upload(crew["art"], name, content)
    assert answer.status_code == 415, answer.text
    assert books(film) == before
    assert not [p for p in (film.root / "plates").iterdir() if ".partial" in p.name]


def test_a_real_plate_replaces_the_old_one_which_is_kept(crew: dict[str, Member], film: Project,
                                                         tmp_path: Path) -> None:
    old = (film.root / "plates" / "actor.mp4").read_bytes()
    green_plate(tmp_path / "new.mp4", 12, block=(30, 60, 200))
    answer = _upload(crew["anna"], "take-2.mp4", (tmp_path / "new.mp4").read_bytes())
    assert answer.status_code == 200, answer.text
    assert answer.json()["frames"] == 12
    assert (film.root / "plates" / "actor.mp4").read_bytes() == (tmp_path / "new.mp4").read_bytes()
    kept = list((film.root / "plates" / "previous").iterdir())
    assert len(kept) == 1 and kept[0].read_bytes() == old


def test_a_take_over_the_budget_is_refused_and_nothing_is_spent(tmp_path: Path) -> None:
    project = rendered_film(tmp_path / "priced")
    # From now on the procedural engine costs money; the budget (limit 0) allows none.
    (project.root / "prices.toml").write_text('[[price]]\nengine = "procedural"\nmodel = "*"\nunit = "cpu_second"\n'
                                              'usd = 2.0\ndate = "2026-12"\nsource = "test"\n')
    review = make_app(project)
    try:
        artist = sign_in(review, "art")
        before = books(project)
        made = artist.post("/shots/2-1/regenerate", data={"slot": RAIN, "seed": "99", "csrf": artist.csrf})
        assert made.status_code == 202
        with artist.stream("GET", f"/jobs/{made.json()['id']}/events") as stream:
            for _ in stream.iter_lines():
                pass
        job = artist.get(f"/api/jobs/{made.json()['id']}").json()
        assert job["state"] == "refused"
        assert "would cost" in job["message"] and "budget is left" in job["message"]
        assert books(project) == before
        page = artist.get(f"/shots/2-1?job={job['id']}", headers=HTML).text
        assert "refused" in page
    finally:
        review.state.board.close()


def test_a_body_without_a_length_is_refused(crew: dict[str, Member], film: Project) -> None:
    before = books(film)
    anna = crew["anna"]

    def endless() -> Iterator[bytes]:         # sent chunked: no Content-Length to refuse up front
        yield f"csrf={anna.csrf}&body=".encode()
        for _ in range(100):
            yield b"x" * 8192

    answer = anna.post("/shots/2-1/notes", content=endless(),
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 411
    assert books(film) == before


def test_unknown_ids_and_bad_numbers_are_refused_cleanly(crew: dict[str, Member], film: Project) -> None:
    before = books(film)
    anna = crew["anna"]
    assert anna.post("/takes/999999/approve", data={"csrf": anna.csrf}).status_code == 404
    assert anna.post(f"/takes/{2**40}/approve", data={"csrf": anna.csrf}).status_code == 422
    assert anna.post("/shots/2-1/regenerate", data={"slot": "set/elsewhere", "csrf": anna.csrf}).status_code == 404
    assert anna.post("/shots/2-1/regenerate", data={"slot": RAIN, "seed": "-1", "csrf": anna.csrf}).status_code == 422
    assert anna.post("/shots/2-1/notes", data={"body": "   ", "csrf": anna.csrf}).status_code == 400
    assert anna.post("/shots/2-1/notes", data={"body": "x" * 300_000, "csrf": anna.csrf}).status_code == 413
    assert anna.post("/shots/2-1/plate", files={"plate": ("a.mp4", b"x")}, data={"csrf": anna.csrf}).status_code == 409
    assert anna.get("/api/jobs/424242").status_code == 404
    assert books(film) == before


def _act(client: TestClient, film: Project, action: str, token: str):  # type: ignore[no-untyped-def]
    data = {"csrf": token} if token else {}
    if action == "approve":
        return client.post(f"/takes/{take_ids(film, RAIN)['v001']}/approve", data=data | {"shot": "2-1"})
    if action == "note":
        return client.post("/shots/2-1/notes", data=data | {"body": "a note"})
    if action == "regenerate":
        return client.post("/shots/2-1/regenerate", data=data | {"slot": RAIN, "seed": "5"})
    if action == "render":
        return client.post("/shots/2-1/render", data=data)
    if action == "upload":
        return client.post("/shots/1-1/plate", data=data, files={"plate": ("actor.mp4", b"not a movie")})
    if action == "logout":
        return client.post("/logout", data=data)
    if action.startswith("status"):
        return client.post("/shots/2-1/status", data=data | {"status": action.partition("-")[2] or "retake"})
    if action == "drawing":
        return client.post("/shots/2-1/notes", data=data | {"body": "here", "frame": "2", "drawing": DRAWING})
    raise AssertionError(action)


def _upload(client: Member, name: str, content: bytes):  # type: ignore[no-untyped-def]
    return client.post("/shots/1-1/plate", data={"csrf": client.csrf}, files={"plate": (name, content)})
