"""A set is one take shared by every shot at its location: remaking it for one shot changes the others, and
soundstage says so before it makes it and after."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from soundstage.cli import app

SCRIPT = "Title: Cliff\n\nEXT. SEA CLIFF - DUSK\n\nWaves break below.\n"
SHOTS = """\
[[shot]]
id = "1-1"
scene = "1"
duration = 0.5
elements = []

[[shot]]
id = "1-2"
scene = "1"
duration = 0.5
elements = []
"""


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.output


def test_a_new_shared_set_names_the_other_shots_before_and_after(tmp_path: Path) -> None:
    (tmp_path / "soundstage.toml").write_text('title = "Cliff"\nscreenplay = "cliff.fountain"\nfps = 12\n'
                                              "resolution = [64, 36]\nseed = 3\n")
    (tmp_path / "cliff.fountain").write_text(SCRIPT)
    (tmp_path / "shots.toml").write_text(SHOTS)
    root = str(tmp_path)
    assert "set/sea-cliff-dusk is shared with shot 1-2" in cli("plan", root, "--shot", "1-1")
    cli("generate", root, "--shot", "1-1")
    assert "shared" not in cli("plan", root, "--shot", "1-2")      # in store: nothing changes

    said = cli("generate", root, "--shot", "1-2", "--seed", "7")
    before, made, after = said.partition("made set/")
    assert made, said
    assert "set/sea-cliff-dusk is shared with shot 1-1" in before, said
    assert "shot 1-1 now uses set/sea-cliff-dusk v002" in after, said
    assert "v002" in cli("takes", root, "1-1").split("▶ used")[0].splitlines()[-1]     # and it really does

    cli("approve", root, "set/sea-cliff-dusk", "v001")          # an approved take holds 1-1 whatever is made
    held = cli("generate", root, "--shot", "1-2", "--seed", "8")
    assert "made set/" in held and "1-1" not in held, held
