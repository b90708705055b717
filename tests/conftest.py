"""Shared fixtures. ``postgres_url``: a fresh database on a real, throwaway PostgreSQL server.

Why a real server: a studio shares one project database between machines, and PostgreSQL's locking and
isolation differ from SQLite's in exactly the places that matter (two processes spending one budget). The
server starts once per session, and only when a selected test asks for it.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_POSTGRES = "SOUNDSTAGE_REQUIRE_POSTGRES"
_SUPERUSER = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: Path

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{_SUPERUSER}@/{database}?host={self.socket_dir}"

    def admin(self):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(host=str(self.socket_dir), user=_SUPERUSER, dbname="postgres", autocommit=True)


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine without PostgreSQL; fail where it is required (CI)."""
    if os.environ.get(REQUIRE_POSTGRES) == "1":
        pytest.fail(f"{REQUIRE_POSTGRES}=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason} (install Debian's postgresql package to run these tests)")


def _server_binaries() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres: pg_config's answer first, else Debian's layout."""
    candidates: list[Path] = []
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(Path(found.stdout.strip()))
    newest_first = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                          key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")],
                          reverse=True)
    candidates += [Path(p) for p in newest_first]
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """initdb into a temporary folder and start a server on a Unix socket only, with fsync off for speed."""
    bindir = _server_binaries()
    if bindir is None:
        _unavailable("PostgreSQL's server binaries (initdb, pg_ctl, postgres) were not found via pg_config "
                     "--bindir or in /usr/lib/postgresql/*/bin")
    if importlib.util.find_spec("psycopg") is None:
        _unavailable("psycopg is not installed (pip install -e '.[postgres]')")
    as_user: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:                      # PostgreSQL refuses to run as root
        try:
            owner = pwd.getpwnam(_SUPERUSER)
        except KeyError:
            _unavailable(f"running as root and there is no {_SUPERUSER!r} user to run PostgreSQL as")
        if shutil.which("runuser") is None:
            _unavailable(f"running as root and runuser is missing, so PostgreSQL cannot run as {_SUPERUSER!r}")
        as_user = ["runuser", "-u", _SUPERUSER, "--"]

    # /tmp rather than pytest's basetemp: a Unix socket path must stay under ~100 characters, and the postgres
    # user must be able to reach the folder.
    base = Path(tempfile.mkdtemp(prefix="soundstage-pg-", dir="/tmp" if os.path.isdir("/tmp") else None))
    data, sockets, log = base / "data", base / "sockets", base / "server.log"
    sockets.mkdir()
    if owner is not None:
        for path in (base, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)

    def run(*command: str) -> None:
        done = subprocess.run([*as_user, *command], cwd=base, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            shutil.rmtree(base, ignore_errors=True)
            pytest.fail(f"{Path(command[0]).name} failed ({done.returncode}): {done.stdout}{done.stderr}{tail}",
                        pytrace=False)

    run(str(bindir / "initdb"), "-D", str(data), "-U", _SUPERUSER, "--auth=trust", "--no-sync",
        "--encoding=UTF8", "--locale=C")
    options = (f"-c listen_addresses='' -k {sockets} -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "30", "-o", options, "start")
    try:
        yield PostgresServer(sockets)
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       cwd=base, capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A SQLAlchemy URL to an empty database of its own, dropped (connections and all) after the test."""
    name = f"soundstage_{uuid.uuid4().hex[:12]}"
    from psycopg import sql

    with postgres_server.admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield postgres_server.url(name)
    with postgres_server.admin() as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
