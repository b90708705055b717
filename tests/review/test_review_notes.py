"""Notes as a crew writes them from the command line: only on what exists, on a frame given by its number or
by the cut's record timecode (23.976, 24, 25 and 29.97 drop-frame), and approvals kept as history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from soundstage.db import ReviewEvent, open_database
from soundstage.pipeline import Generation
from soundstage.project import Project
from test_cli import soundstage
from tiny_film import make_tiny


def _film(root: Path, fps: float = 24.0, first_frame: int | None = None, seconds: float = 70.0) -> Project:
    """The tiny film at ``fps`` with a long first shot (1-1: ``seconds``), so timecodes cross minutes."""
    project = make_tiny(root)
    settings = project.settings_path.read_text().replace("fps = 12", f"fps = {fps}")
    settings += '[edit]\nstart_timecode = "01:00:00:00"\n'
    if first_frame is not None:
        settings += f"[review]\nfirst_frame = {first_frame}\n"
    project.settings_path.write_text(settings)
    shots = project.shots_file.read_text().replace("duration = 1.0", f"duration = {seconds}")
    project.shots_file.write_text(shots)
    return Project.load(root)


def _notes(root: Path) -> list[dict[str, object]]:
    listed = soundstage("notes", root, "--json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)["notes"]


def test_a_note_on_what_does_not_exist_is_refused(tmp_path: Path) -> None:
    film = _film(tmp_path / "film").root
    missing = soundstage("note", film, "9-9", "too dark")
    assert missing.returncode == 2 and missing.stderr.strip().startswith("error: no shot '9-9'"), missing.stderr
    slot = soundstage("note", film, "shot/1-1/element/dragon", "bigger")
    assert slot.returncode == 2 and "no slot 'shot/1-1/element/dragon'" in slot.stderr, slot.stderr
    take = soundstage("note", film, "set/hanok-rooftops-night", "warmer", "--take", "v004")
    assert take.returncode == 2 and "has no take v004" in take.stderr, take.stderr
    assert _notes(film) == []

    fine = soundstage("note", film, "1-1", "hold the last beat")
    assert fine.returncode == 0 and fine.stdout.strip() == "noted on shot/1-1", fine.stderr
    on_slot = soundstage("note", film, "set/hanok-rooftops-night", "more smoke")
    assert on_slot.returncode == 0, on_slot.stderr
    assert [(n["subject"], n["frame"]) for n in _notes(film)] == [("shot/1-1", None),
                                                                  ("set/hanok-rooftops-night", None)]


@pytest.mark.parametrize(("fps", "label", "frame"), [
    (23.976, "01:00:06:13", 6 * 24 + 13),          # non-drop: 24 labels a second at 23.976
    (24.0, "01:00:06:13", 6 * 24 + 13),
    (25.0, "01:00:02:10", 2 * 25 + 10),
    (29.97, "01:01:00;02", 1800),                  # ;00 and ;01 of minute 1 are skipped labels
    (29.97, "01:09:59;29", 17981),                 # the last frame of ten minutes: 17,982 frames
])
def test_a_note_at_a_record_timecode_lands_on_its_frame(tmp_path: Path, fps: float, label: str,
                                                       frame: int) -> None:
    film = _film(tmp_path / "film", fps, seconds=600.0).root
    noted = soundstage("note", film, "1-1", "the flare", "--tc", label)
    assert noted.returncode == 0, noted.stderr
    assert noted.stdout.strip() == f"noted on shot/1-1 at frame {frame} ({label})"
    [note] = _notes(film)
    assert (note["frame"], note["timecode"]) == (frame, label)


def test_a_timecode_in_the_next_shot_counts_from_that_shot(tmp_path: Path) -> None:
    film = _film(tmp_path / "film", 25.0, seconds=4.0).root     # 1-1 is 100 frames; 2-1 (12) starts at 01:00:04:00
    assert soundstage("note", film, "2-1", "rain too thin", "--tc", "01:00:04:07").returncode == 0
    assert _notes(film)[0]["frame"] == 7
    early = soundstage("note", film, "2-1", "x", "--tc", "01:00:03:24")
    assert early.returncode == 2 and early.stderr.strip() == (
        "error: shot 2-1: 01:00:03:24 is not in the shot: it plays 01:00:04:00 to 01:00:04:11"), early.stderr


def test_frames_and_timecodes_that_are_not_there_are_refused(tmp_path: Path) -> None:
    film = _film(tmp_path / "film", 29.97, first_frame=1001, seconds=2.0).root    # 60 frames: 1001-1060
    skipped = soundstage("note", film, "1-1", "x", "--tc", "01:01:00;00")
    assert skipped.returncode == 2 and "'01:01:00;00' is a label drop-frame timecode skips" in skipped.stderr
    garbled = soundstage("note", film, "1-1", "x", "--tc", "1h2m")
    assert garbled.returncode == 2 and "'1h2m' is not a timecode like 01:00:06:13" in garbled.stderr
    before = soundstage("note", film, "1-1", "x", "--frame", "37")
    assert before.returncode == 2 and "frame 37 is not in shot 1-1: its frames are 1001 to 1060" in before.stderr
    both = soundstage("note", film, "1-1", "x", "--frame", "1037", "--tc", "01:00:00;05")
    assert both.returncode == 2 and "--frame or --tc, not both" in both.stderr
    set_tc = soundstage("note", film, "set/hanok-rooftops-night", "x", "--tc", "01:00:00;05")
    assert set_tc.returncode == 2 and "a set is not in the cut" in set_tc.stderr
    assert _notes(film) == []
    assert soundstage("note", film, "1-1", "the flare", "--frame", "1037").returncode == 0
    [note] = _notes(film)
    assert (note["frame"], note["timecode"]) == (1037, "01:00:01;06")


def test_approvals_are_kept_as_history_with_who_and_when(tmp_path: Path) -> None:
    film = _film(tmp_path / "film", seconds=1.0)
    generation = Generation(film)
    assert soundstage("generate", film.root, "--shot", "2-1").returncode == 0
    assert soundstage("generate", film.root, "--shot", "2-1", "--seed", "99").returncode == 0
    slot = "set/sea-cliff-dusk"
    first = soundstage("approve", film.root, slot, "v001", "--by", "anna")
    assert first.returncode == 0 and first.stdout.strip().endswith("by anna"), first.stdout
    assert soundstage("approve", film.root, slot, "v002", "--by", "pat").returncode == 0
    assert soundstage("approve", film.root, slot, "v001", "--by", "anna").returncode == 0
    history = generation.store.history(slot)
    assert [(e.kind, e.version, e.by) for e in history] == [("approved", 1, "anna"), ("approved", 2, "pat"),
                                                            ("approved", 1, "anna")]
    assert history[0].at <= history[1].at <= history[2].at
    assert generation.store.approvals()[slot].approved_by == "anna"
    with open_database(film.database)() as session:
        assert session.query(ReviewEvent).count() == 3
