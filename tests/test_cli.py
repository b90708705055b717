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


def soundstage(*args: str | Path, cwd: Path | None = None,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
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
    # two shots of 6 frames, then the closing card naming the tools (the default [labels] policy, realistic)
    assert len(frames) == 2 * 6 + 5 * 24 and frames[0].shape == (90, 160, 3)
    assert frames[0].std() > 5, "a generated set, not a blank frame"
    again = soundstage("render", film, cwd=film)
    assert again.returncode == 0 and again.stdout.startswith("built 0, cached")
    assert again.stdout.splitlines()[0].endswith("→ out/cut.mp4")


def test_generate_takes_approve_and_plan(tmp_path: Path) -> None:
    film = tmp_path / "film"
    assert soundstage("new", film).returncode == 0
    settings = film / "soundstage.toml"
    settings.write_text(settings.read_text().replace("[1920, 1080]", "[96, 54]").replace("4.0", "0.25"))

    planned = json.loads(soundstage("plan", film, "--json").stdout)
    assert [t["status"] for t in planned["takes"]] == ["new"] * 7 and planned["new_usd"] == 0.0
    # the fog's sound and each shot's ambience bed (snow has no sound of its own)
    assert [t["slot"] for t in planned["takes"] if "/sound/" in t["slot"]] == [
        "shot/1-1/sound/fog", "shot/1-1/sound/ambience", "shot/2-1/sound/ambience"]

    first = soundstage("generate", film, "--shot", "2-1")
    assert first.returncode == 0, first.stderr
    assert "made set/hanok-night v001" in first.stdout and "made 3, in store 0, failed 0" in first.stdout
    again = soundstage("generate", film, "--shot", "2-1")
    assert "in store set/hanok-night v001" in again.stdout and "made 0, in store 3" in again.stdout
    other = soundstage("generate", film, "--shot", "2-1", "--seed", "99")
    assert "made set/hanok-night v002" in other.stdout

    listed = json.loads(soundstage("takes", film, "2-1", "--json").stdout)["takes"]
    sets = [t for t in listed if t["slot"] == "set/hanok-night"]
    assert [(t["take"], t["seed"], t["used"]) for t in sets] == [("v001", 1, False), ("v002", 99, True)]
    assert (film / sets[0]["file"]).is_file()

    approved = soundstage("approve", film, "set/hanok-night", "v001")
    assert approved.returncode == 0 and "approved set/hanok-night v001" in approved.stdout
    listed = json.loads(soundstage("takes", film, "2-1", "--json").stdout)["takes"]
    assert [(t["take"], t["approved"], t["used"]) for t in listed if t["slot"] == "set/hanok-night"] == [
        ("v001", True, True), ("v002", False, False)]
    wrong = soundstage("approve", film, "set/hanok-night", "v7")
    assert wrong.returncode == 2 and "has no take v007 (it has v001, v002)" in wrong.stderr
    missing = soundstage("takes", film, "9-9")
    assert missing.returncode == 2 and "no shot '9-9'" in missing.stderr

    planned = json.loads(soundstage("plan", film, "--json").stdout)
    assert {t["slot"]: t["status"] for t in planned["takes"]}["set/hanok-night"] == "in store"


def test_a_take_the_engine_cannot_make_is_refused_before_any_is_made(tmp_path: Path) -> None:
    film = tmp_path / "film"
    assert soundstage("new", film).returncode == 0
    settings = film / "soundstage.toml"
    settings.write_text(settings.read_text().replace("[1920, 1080]", "[96, 54]").replace("4.0", "0.25"))
    (film / "shots.toml").write_text('[[shot]]\nid = "1-1"\nscene = "1"\nbackground = "moving"\nengine = "openai"\n')
    result = soundstage("generate", film)
    assert result.returncode == 2
    assert "error: shot 1-1: the openai engine cannot make a background" in result.stderr, result.stderr
    assert "nothing was generated" in result.stderr and not (film / ".soundstage" / "takes").exists()
