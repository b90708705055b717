"""The review app from the command line: crew members added with a password from standard input, and
``soundstage serve`` answering on its port with the same database the CLI writes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from soundstage.db import CrewMember, open_database
from soundstage.errors import ProjectError
from soundstage.review.auth import Crew
from test_cli import SCRIPT
from tiny_film import make_tiny


def _user(*args: str | Path, password: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), "user", *map(str, args)], input=password + "\n", capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})


def test_crew_members_are_added_listed_and_removed(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    added = _user("add", project.root, "anna", "--role", "director", password="a long secret")
    assert added.returncode == 0 and added.stdout.strip() == "added anna (director)", added.stderr
    with open_database(project.database)() as session:
        member = session.get(CrewMember, "anna")
    assert member is not None and member.role == "director"
    assert member.password_hash.startswith("$argon2id$") and "a long secret" not in member.password_hash

    short = _user("add", project.root, "bo", password="short")
    assert short.returncode == 2 and short.stderr.strip() == "error: the password must have at least 8 characters"
    crew = Crew(open_database(project.database))
    with pytest.raises(ProjectError, match="user 'anna' already exists"):
        crew.add("anna", "viewer", "another secret")
    with pytest.raises(ProjectError, match="role 'boss' is not one of director, producer, artist, viewer"):
        crew.add("cy", "boss", "a long secret")
    with pytest.raises(ProjectError, match="must be letters, digits"):
        crew.add("../x", "viewer", "a long secret")
    assert _user("list", project.root).stdout.split() == ["anna", "director"]
    assert _user("remove", project.root, "anna").stdout.strip() == "removed anna"
    assert crew.members() == []


def test_serve_answers_on_its_port(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    assert _user("add", project.root, "anna", "--role", "director", password="a long secret").returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(SCRIPT), "serve", str(project.root), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        page = _get(f"http://127.0.0.1:{port}/login", server)
        assert "Review the takes of <strong>Tiny</strong>" in page
        assert re.search(r'name="csrf" value="[^"]+"', page)
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert f"reviewing Tiny at http://127.0.0.1:{port}/" in out


def _get(url: str, server: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.read().decode()
        except (urllib.error.URLError, ConnectionError):
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "soundstage serve did not answer"
            time.sleep(0.1)
