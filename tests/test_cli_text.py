"""What the CLI prints of the user's own text: printed as written, whatever brackets it holds (Rich markup
must never see it), and install hints that work where the user is."""

from __future__ import annotations

from pathlib import Path

from test_cli import soundstage

HOSTILE = "[/x] [red]HOUSE[/red] [bold"


def test_markup_in_a_scene_heading_is_printed_as_written(tmp_path: Path) -> None:
    script = tmp_path / "m.fountain"
    script.write_text(f"Title: T [/x]\n\nINT. {HOSTILE} - NIGHT\n\nAnna.\n", encoding="utf-8")
    result = soundstage("breakdown", script)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert HOSTILE in result.stdout and "T [/x]" in result.stdout


def test_markup_in_a_prompt_and_in_a_project_path_is_printed_as_written(tmp_path: Path) -> None:
    film = tmp_path / "film [/x] [red]one"
    made = soundstage("new", film)
    assert made.returncode == 0, made.stderr
    assert f"Created {film}:" in made.stdout and f"soundstage render {film}" in made.stdout
    shots = film / "shots.toml"
    shots.write_text('[[shot]]\nid = "1-1"\nscene = "1"\nprompt = "a lake [/x] under [red]mist"\n', encoding="utf-8")
    result = soundstage("breakdown", film)
    assert result.returncode == 0, result.stderr
    assert "a lake [/x] under [red]mist" in result.stdout


def test_the_cli_styles_with_text_objects_never_with_markup() -> None:
    """Its consoles parse no markup, so a ``[bold]...[/]`` added to cli.py would print its brackets, and an
    ``escape()`` its backslashes: styles go in as ``Text.assemble(("warning:", "yellow"), ...)``."""
    import re

    import soundstage.cli as cli

    assert not cli.out._markup and not cli.err._markup and not cli.out._emoji
    source = Path(cli.__file__).read_text(encoding="utf-8")
    assert not re.findall(r"\[/[a-z ]*\]|\bescape\(|markup=True", source)
