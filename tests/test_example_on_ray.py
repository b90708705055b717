"""The bundled example project rendered by the Ray executor, at a small size so CI can afford it.

The example as shipped (1280×720) is what `make demo` renders; here it is copied, conformed to 320×180 with
`[plates] size = "fit"` (the plates are 16:9, so nothing is cropped or barred), and rendered twice: on a
local Ray and in this process. The two films must be the same pictures (signing gives each file its own
bytes).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from soundstage.pipeline import render_project
from soundstage.project import Project
from soundstage.provenance.record import share_mark_key
from tiny_film import MARK_KEY, pictures

EXAMPLE = Path(__file__).parents[1] / "examples" / "moonlit-hanok"


def small_example(folder: Path) -> Project:
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("out", ".soundstage"))
    settings = folder / "soundstage.toml"
    text = settings.read_text().replace("resolution = [1280, 720]", "resolution = [320, 180]")
    settings.write_text(text.replace('size = "refuse"', 'size = "fit"'))
    share_mark_key(folder, MARK_KEY)
    return Project.load(folder)


def films(project: Project) -> dict[str, str]:
    return {f.relative_to(project.out_dir).as_posix(): pictures(f) for f in sorted(project.out_dir.rglob("*.mp4"))}


def test_the_example_renders_on_ray_as_it_does_here(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    on_ray = small_example(tmp_path / "ray")
    report = render_project(on_ray, executor="ray")
    assert not report.failed, report.failed
    assert report.count("built") == len(report.steps)
    here = small_example(tmp_path / "here")
    assert not render_project(here, jobs=1).failed
    assert films(on_ray) == films(here)
    assert len(films(here)) == 1 + len(list((here.out_dir / "shots").glob("*.mp4")))
