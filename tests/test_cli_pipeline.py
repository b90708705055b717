"""The render pipeline from the command line: --jobs, --json, the summary line, notes and the job log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from soundstage.media import write_png
from test_cli import soundstage
from tiny_film import make_tiny


def test_render_with_jobs_prints_the_summary_and_json_statuses(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    first = soundstage("render", project.root, "--jobs", "2")
    assert first.returncode == 0, first.stderr
    summary, ledger = first.stdout.strip().splitlines()[-2:]
    # six takes (three of them sound), two shots, the cut
    assert summary.startswith("built 9, cached 0, failed 0, skipped 0; spent 0.00 USD; ")
    assert summary.endswith("cut.mp4")
    # the tiny film: procedural sets (generated, not AI) around one keyed actor
    assert re.fullmatch(r"the cut's picture: AI 0\.0% · generated (\d+\.\d)% · live-action plate (\d+\.\d)% .*",
                        ledger), ledger

    again = soundstage("render", project.root, "--json")
    report = json.loads(again.stdout)
    assert {step["status"] for step in report["steps"]} == {"cached"}
    assert report["cost_usd"] == 0 and report["job"] == 2

    log = json.loads(soundstage("jobs", project.root, "--json").stdout)["jobs"]
    assert [(j["job"], j["executor"], j["status"], j["built"], j["cached"]) for j in log] == [
        (2, "local", "finished", 0, 9), (1, "local ×2", "finished", 9, 0)]


def test_a_failed_step_sets_the_exit_code_and_is_logged(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    write_png(project.root / "plates" / "clean.png", np.zeros((10, 10, 3), np.uint8))
    shots = project.shots_file.read_text().replace('plate = "plates/actor.mp4"\n', 'plate = "plates/actor.mp4"\n'
                                                   'key = { clean_plate = "plates/clean.png" }\n', 1)
    project.shots_file.write_text(shots)     # a clean plate of another set-up: found only at comp time
    result = soundstage("render", project.root)
    assert result.returncode == 1
    assert "failed shot 1-1:" in result.stderr and "clean.png" in result.stderr
    assert result.stdout.startswith("built 7, cached 0, failed 1, skipped 1;")
    log = json.loads(soundstage("jobs", project.root, "--json").stdout)["jobs"]
    assert log[0]["status"] == "failed" and log[0]["failed"] == 1


def test_notes_on_shots_and_takes_are_kept_and_listed(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    assert soundstage("render", project.root).returncode == 0
    assert soundstage("note", project.root, "2-1", "rain too heavy", "--by", "director").returncode == 0
    on_take = soundstage("note", project.root, "shot/2-1/element/rain", "softer drops", "--take", "v001")
    assert on_take.returncode == 0, on_take.stderr
    missing = soundstage("note", project.root, "shot/2-1/element/rain", "x", "--take", "v009")
    assert missing.returncode == 2 and "has no take v009" in missing.stderr

    listed = json.loads(soundstage("notes", project.root, "2-1", "--json").stdout)["notes"]
    assert [(n["subject"], n["take"], n["by"], n["note"]) for n in listed] == [
        ("shot/2-1", None, "director", "rain too heavy"), ("shot/2-1/element/rain", "v001", "", "softer drops")]
    assert json.loads(soundstage("notes", project.root, "1-1", "--json").stdout)["notes"] == []
    # A re-render never touches notes.
    assert soundstage("render", project.root).returncode == 0
    assert len(json.loads(soundstage("notes", project.root, "--json").stdout)["notes"]) == 2


def test_bad_executor_and_jobs_are_refused_in_one_line(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    bad = soundstage("render", project.root, "--executor", "slurm")
    assert bad.returncode == 2 and bad.stderr.strip() == "error: no executor 'slurm'; use local or ray"
    assert soundstage("render", project.root, "--jobs", "0").returncode == 2
