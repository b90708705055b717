"""The command line as a user meets it: the installed `soundstage` script, its output and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

SCRIPT = Path(sys.executable).parent / "soundstage"


def soundstage(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


def test_new_then_breakdown(tmp_path: Path) -> None:
    film = tmp_path / "my-film"
    made = soundstage("new", film)
    assert made.returncode == 0, made.stderr
    assert {p.name for p in film.iterdir()} >= {"soundstage.toml", "screenplay.fountain", "shots.toml", "plates",
                                                "refs", ".gitignore"}
    assert 'title = "My Film"' in (film / "soundstage.toml").read_text()
    assert oct((film / "soundstage.toml").stat().st_mode & 0o777) != oct(0o600)   # not mkstemp's private mode
    result = soundstage("breakdown", film, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["location"] for s in data["scenes"]] == ["MOUNTAIN LAKE", "HANOK"]
    assert [s["id"] for s in data["shots"]] == ["1-1", "2-1"]
    assert {"snow", "fog"} <= {e["name"] for s in data["scenes"] for e in s["elements"]}
    again = soundstage("new", film)
    assert again.returncode == 2 and "already exists and is not empty" in again.stderr


def test_breakdown_of_a_bare_screenplay_prints_tables_and_json(tmp_path: Path) -> None:
    script = tmp_path / "film.fountain"
    script.write_text("EXT. SEA CLIFF - DUSK\n\nRain sweeps in.\n\nMIN-JI\nSleep, old one.\n", encoding="utf-8")
    table = soundstage("breakdown", script)
    assert table.returncode == 0 and "SEA CLIFF" in table.stdout and "rain" in table.stdout
    data = json.loads(soundstage("breakdown", script, "--json").stdout)
    assert data["scenes"][0]["characters"] == ["MIN-JI"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.fountain", b"", "empty.fountain"),
        ("binary.fountain", bytes(range(256)) * 4, "binary.fountain"),
        ("bone.fountain", b"INT. A - DAY\n\n/* never closed\n\nmore\n", "bone.fountain:3"),
        ("bomb.fdx", b'<?xml version="1.0"?>\n<!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
                     b"<FinalDraft><Content><Paragraph><Text>&b;</Text></Paragraph></Content></FinalDraft>\n",
         "bomb.fdx"),
        ("film.docx", b"PK\x03\x04", "film.docx"),
    ],
)
def test_bad_screenplays_give_one_line_and_exit_2(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = soundstage("breakdown", path, "--json")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert path.read_bytes() == content          # nothing lost


def test_bad_project_settings_give_one_line(tmp_path: Path) -> None:
    (tmp_path / "soundstage.toml").write_text('title = "T"\nscreenplay = "s.fountain"\nfps = "fast"\n')
    result = soundstage("render", tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path}/soundstage.toml:3: fps: Input should be a valid number, " \
                                    "unable to parse string as a number"


def test_new_project_renders_and_rerenders_from_cache(tmp_path: Path) -> None:
    """What a new user does second: scaffold a film and render it, with no plates yet (sets and elements only)."""
    film = tmp_path / "my-film"
    assert soundstage("new", film).returncode == 0
    settings = film / "soundstage.toml"
    settings.write_text(settings.read_text().replace("[1920, 1080]", "[160, 90]").replace("4.0", "0.25"))
    first = soundstage("render", film, "--json")
    assert first.returncode == 0, first.stderr
    steps = {s["step"]: s for s in json.loads(first.stdout)["steps"]}
    assert steps["cut"]["status"] == "built" and {s["status"] for s in steps.values()} == {"built"}
    cut = film / "out" / "cut.mp4"
    with av.open(str(cut)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 2 * 6 and frames[0].shape == (90, 160, 3)
    assert frames[0].std() > 5, "a generated set, not a blank frame"
    again = soundstage("render", film, cwd=film)
    assert again.returncode == 0 and again.stdout.startswith("built 0, cached")
    assert again.stdout.strip().endswith("→ out/cut.mp4")
