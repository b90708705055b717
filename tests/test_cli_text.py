"""What the CLI prints of the user's own text: printed as written, whatever brackets it holds (Rich markup
must never see it), and install hints that work where the user is."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

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

    for console in (cli.out, cli.err):
        assert console.render_str(HOSTILE + " :smile:").plain == HOSTILE + " :smile:"
    source = Path(cli.__file__).read_text(encoding="utf-8")
    assert not re.findall(r"\[/[a-z ]*\]|\bescape\(|markup=True", source)


def dist_info(folder: Path, direct_url: str | None) -> Path:
    """A real installed distribution's metadata, as pip writes it, with or without its direct_url.json."""
    info = folder / "soundstage-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: soundstage\nVersion: 0.1.0\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(direct_url)
    return info


def test_a_missing_extra_is_installed_as_the_user_installed_soundstage(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import PathDistribution

    from soundstage.errors import install_hint

    wheel = PathDistribution(dist_info(tmp_path / "site", None))
    assert install_hint("review", distribution=wheel) == "pip install 'soundstage[review]'"
    from_index = PathDistribution(dist_info(tmp_path / "site2", '{"url": "https://x/s.whl", "archive_info": {}}'))
    assert install_hint("storage", "s3fs", distribution=from_index) == "pip install 'soundstage[storage]' s3fs"

    clone = tmp_path / "my clone"
    clone.mkdir()
    editable = PathDistribution(dist_info(tmp_path / "site3", json.dumps(
        {"url": clone.as_uri(), "dir_info": {"editable": True}})))
    pip = Path(sys.executable).parent / "pip"
    monkeypatch.chdir(clone)
    hint = install_hint("review", distribution=editable)
    assert hint == f"{pip} install -e '.[review]'" or hint == ".venv/bin/pip install -e '.[review]'"
    monkeypatch.chdir(tmp_path / "site")
    assert install_hint("review", distribution=editable).endswith(f" install -e '{clone}[review]'")


def test_user_add_without_the_review_extra_names_the_command_for_this_install(tmp_path: Path) -> None:
    """This test environment is an editable install from a clone (make test): the hint is the clone's pip."""
    from importlib.metadata import distribution

    origin = json.loads(distribution("soundstage").read_text("direct_url.json") or "{}")
    film = tmp_path / "film"
    assert soundstage("new", film).returncode == 0
    blocker = tmp_path / "no_fastapi"
    blocker.mkdir()
    (blocker / "fastapi.py").write_text("raise ImportError('blocked by the test', name='fastapi')\n")
    env_path = f"{blocker}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    result = soundstage("user", "add", film, "ana", env={"PYTHONPATH": env_path})
    assert result.returncode == 2, result.stderr
    if origin.get("dir_info", {}).get("editable"):
        assert "-e '" in result.stderr and "[review]'" in result.stderr and "soundstage[review]" not in result.stderr
    else:
        assert "pip install 'soundstage[review]'" in result.stderr
