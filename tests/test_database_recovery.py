"""A project database corrupted in the middle: refused with one line, rebuilt from the take folders and the journal.

Issue 15: with pages of soundstage.db overwritten, `notes` and `report disclosure` gave tracebacks and `render`
said "cached 18" with no warning. Now every command refuses the file at open (PRAGMA quick_check) and names
`soundstage db rebuild PROJECT`, which moves the file aside and rebuilds takes, approvals, notes and jobs.
Real SQLite files, real CLI.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from soundstage.db import open_database
from soundstage.journal import JOURNAL_FILE
from soundstage.pipeline.ledger import Ledger
from test_cli import soundstage
from tiny_film import make_tiny

PAGE = 4096


def corrupt_middle(database: Path) -> None:
    """Overwrite a few pages in the middle of the file with garbage, as a disk fault would."""
    data = bytearray(database.read_bytes())
    pages = len(data) // PAGE
    assert pages >= 8, "the database is too small to have a middle"
    rng = random.Random(15)
    for page in range(pages // 2 - 1, pages // 2 + 2):
        data[page * PAGE:(page + 1) * PAGE] = rng.randbytes(PAGE)
    database.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny film with six takes (three of them sound), an approval, two notes and a finished job; then its
    database damaged."""
    root = tmp_path_factory.mktemp("recovery") / "film"
    project = make_tiny(root)
    assert soundstage("generate", root).returncode == 0
    assert soundstage("approve", root, "set/sea-cliff-dusk", "v001").returncode == 0
    assert soundstage("note", root, "2-1", "more rain", "--by", "director").returncode == 0
    assert soundstage("note", root, "set/sea-cliff-dusk", "cliff too dark", "--take", "v001").returncode == 0
    ledger = Ledger(open_database(project.database), root)
    job = ledger.start_job("render", "local ×1")
    ledger.finish_job(job, status="finished", counts={"built": 4, "cached": 0, "failed": 0}, cost_usd=0.0,
                      seconds=2.5, steps=[])
    lines = (root / ".soundstage" / JOURNAL_FILE).read_text("utf-8").splitlines()
    kinds = [json.loads(line)["entry"] for line in lines]
    assert kinds.count("take") == 6                     # each take's number in its slot
    assert [kind for kind in kinds if kind != "take"] == ["approval", "note", "note", "job", "job"]
    corrupt_middle(root / ".soundstage" / "soundstage.db")
    return root


@pytest.mark.parametrize("command", [("notes",), ("takes", "X", "2-1"), ("approve", "X", "set/sea-cliff-dusk", "v001"),
                                     ("render",)])
def test_a_damaged_database_is_one_line_naming_the_rebuild(film: Path, command: tuple[str, ...]) -> None:
    args = [film if part == "X" else part for part in command]
    result = soundstage(*args, *([] if "X" in command else [film]))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "cached" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "the project database is damaged" in lines[0]
    assert f"soundstage db rebuild {film}" in lines[0]


def test_rebuild_moves_the_file_aside_and_restores_takes_approvals_notes_and_jobs(film: Path) -> None:
    state = film / ".soundstage"
    damaged_bytes = (state / "soundstage.db").read_bytes()
    rebuilt = soundstage("db", "rebuild", film)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt 6 takes, 1 approval, 2 notes, 1 job" in rebuilt.stdout
    aside = [p for p in state.iterdir() if p.name.startswith("soundstage.db.damaged-") and "-wal" not in p.name
             and "-shm" not in p.name]
    assert [p.read_bytes() for p in aside] == [damaged_bytes]          # kept as it was, not deleted

    takes = json.loads(soundstage("takes", film, "2-1", "--json").stdout)["takes"]
    assert {(t["slot"], t["take"]) for t in takes} == {("set/sea-cliff-dusk", "v001"),
                                                       ("shot/2-1/element/rain", "v001"),
                                                       ("shot/2-1/sound/rain", "v001"),
                                                       ("shot/2-1/sound/ambience", "v001")}
    assert [t["approved"] for t in takes if t["slot"] == "set/sea-cliff-dusk"] == [True]
    notes = json.loads(soundstage("notes", film, "--json").stdout)["notes"]
    assert [(n["subject"], n["take"], n["by"], n["note"]) for n in notes] == [
        ("shot/2-1", None, "director", "more rain"), ("set/sea-cliff-dusk", "v001", "", "cliff too dark")]
    jobs = Ledger(open_database(film / ".soundstage" / "soundstage.db"), film).jobs()
    assert [(j.command, j.status, j.built, j.seconds) for j in jobs] == [("render", "finished", 4, 2.5)]

    again = soundstage("db", "rebuild", film)
    assert again.returncode == 2 and "not damaged" in again.stderr      # a sound database is not thrown away
