"""Secrets at rest: the keys folder and the project database are private to their owner, the database holds
no token a browser could use, and the watermark key has 128 bits while a 64-bit key made earlier still reads."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

import soundstage.migrations
from soundstage.db import open_database
from soundstage.project import Project
from soundstage.provenance import init_keys, keys_dir, load_identity
from soundstage.provenance.record import mark_key, share_mark_key
from soundstage.provenance.watermark import _pattern, detect, embed
from tiny_film import MARK_KEY, make_tiny

pytest.importorskip("argon2")
from soundstage.review.auth import Crew


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_tiny(tmp_path / "film")


def test_the_keys_folder_is_private_and_an_open_one_is_closed(project: Project) -> None:
    init_keys(project.root)
    assert mode(keys_dir(project.root)) == 0o700
    keys_dir(project.root).chmod(0o755)                  # as every project made before this release has it
    load_identity(project.root)
    assert mode(keys_dir(project.root)) == 0o700
    keys_dir(project.root).chmod(0o755)
    mark_key(project)
    assert mode(keys_dir(project.root)) == 0o700


def test_the_watermark_folder_alone_is_made_private(tmp_path: Path) -> None:
    share_mark_key(tmp_path, MARK_KEY)
    assert mode(keys_dir(tmp_path)) == 0o700 and mode(keys_dir(tmp_path) / "watermark.key") == 0o600


def test_the_database_is_private_and_an_open_one_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "state" / "soundstage.db"
    Crew(open_database(path)).add("anna", "director", "correct horse battery")
    for made in path.parent.iterdir():                   # the database and SQLite's -wal and -shm beside it
        assert mode(made) == 0o600, made
    for made in path.parent.iterdir():
        made.chmod(0o644)
    open_database(path)
    for made in path.parent.iterdir():
        assert mode(made) == 0o600, made


def test_the_database_holds_no_session_or_csrf_token(tmp_path: Path) -> None:
    path = tmp_path / "soundstage.db"
    sessions = open_database(path)
    crew = Crew(sessions)
    crew.add("anna", "director", "correct horse battery")
    token = crew.sign_in("anna", "correct horse battery", address="10.0.0.1")
    assert token is not None
    member = crew.member(token)
    assert member is not None and member.csrf
    sessions.kw["bind"].dispose()                        # SQLite folds its WAL back into the file
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"anna" in stored                             # the reading works
    for secret in (token, member.csrf):
        assert secret.encode() not in stored
    assert crew.member(token) == member                  # and the cookie still opens its session


def test_csrf_tokens_stored_before_are_wiped_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "soundstage.db"
    engine = create_engine(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", str(Path(soundstage.migrations.__file__).parent))
    with engine.begin() as connection:                   # a database as the previous release left it
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.execute(text("INSERT INTO crew VALUES ('anna', 'director', 'x', '2026-01-01 00:00:00')"))
        connection.execute(text("INSERT INTO logins VALUES ('" + "ab" * 32 + "', 'anna', 'PLAINCSRFTOKEN0123456789', "
                                "'2026-01-01 00:00:00', '2099-01-01 00:00:00')"))
    engine.dispose()
    assert b"PLAINCSRFTOKEN0123456789" in path.read_bytes()
    open_database(path).kw["bind"].dispose()
    assert b"PLAINCSRFTOKEN0123456789" not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


def test_a_new_watermark_key_has_128_bits_and_all_of_them_count(project: Project) -> None:
    (keys_dir(project.root) / "watermark.key").unlink()          # the tiny film shares a 64-bit key
    key = mark_key(project)
    assert len((keys_dir(project.root) / "watermark.key").read_text().strip()) == 32
    assert mark_key(project) == key and key.bit_length() > 64
    shading = np.random.default_rng(5).integers(40, 215, (22, 40, 3), dtype=np.uint8)
    frame = cv2.resize(shading, (320, 180), interpolation=cv2.INTER_CUBIC)      # a picture with some texture
    payload = bytes.fromhex("a17c03e9d25b4f80")
    marked = embed(frame, payload, key)
    assert detect([marked], key).payload == payload
    assert detect([marked], key ^ (1 << 100)).payload is None    # a key that differs only in its top half


def test_a_64_bit_key_made_before_still_reads_and_marks_as_it_did(project: Project) -> None:
    (keys_dir(project.root) / "watermark.key").write_text("5eedcafef00dd00d\n")
    assert mark_key(project) == MARK_KEY
    # The cell pattern this key gave before 128-bit keys: old cuts trace with the same key as before.
    cells = _pattern(bytes.fromhex("a17c03e9d25b4f80"), MARK_KEY, 90, 160)
    assert hashlib.sha256(cells.tobytes()).hexdigest() == \
        "e059661815e5af4fdcedc592843ce660b1027ec96b419f238e03625ea4dfe46d"


def test_a_shared_128_bit_key_is_kept_whole(tmp_path: Path) -> None:
    key = int.from_bytes(os.urandom(16), "big") | (1 << 127)
    share_mark_key(tmp_path, key)
    project_root = tmp_path
    assert int((keys_dir(project_root) / "watermark.key").read_text(), 16) == key
