"""The render-scaling benchmark's small path, as CI runs it: every variant must render cold and report sanely.

No timing is asserted (the machine is shared). Every step of each cold render must be built, the figures must
be there and positive, and the cut must come out byte for byte the same however many processes and frame
threads made it, since the same inputs give the same output.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import render_scaling  # noqa: E402


@pytest.fixture(scope="module")
def small() -> dict[str, Any]:
    return render_scaling.run(small=True)


def test_every_local_variant_renders_the_synthetic_project_cold(small: dict[str, Any]) -> None:
    [project] = small["projects"]
    assert project["project"] == "synthetic" and project["shots"] == 6
    assert project["steps"] == 5 + 6 + 6 + 1              # five sets, six ambience beds, six shots, the cut
    results = {r["variant"]: r for r in project["results"]}
    assert list(results) == ["jobs 1", "jobs 2", "jobs 2, threads 1"]
    assert [(r["jobs"], r["threads"]) for r in results.values()] == [(1, None), (2, None), (2, 1)]
    for result in results.values():
        assert result["wall_s"] > 0 and result["render_s"] > 0 and result["cpu_s"] > 0
        assert result["wall_s"] >= result["render_s"]      # the process around the render costs something
        assert result["speed_up"] > 0 and result["walls_s"] == [result["wall_s"]]
        assert len(result["cut_sha256"]) == 64 and len(result["shot_sha256"]) == 6
    assert results["jobs 1"]["speed_up"] == 1.0


def test_the_cut_is_the_same_however_it_was_rendered(small: dict[str, Any]) -> None:
    [project] = small["projects"]
    assert project["identical"] is True and project["differing_shots"] == []
    assert len({r["cut_sha256"] for r in project["results"]}) == 1


def test_the_example_copy_leaves_renders_and_state_behind(tmp_path: Path) -> None:
    source = tmp_path / "film"
    for path in ("soundstage.toml", "plates/a.mp4", "out/cut.mp4", ".soundstage/soundstage.db", "refs/out/x.png"):
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_text(path)
    (source / "soundstage.toml").write_text('title = "Film"\n')
    copy = render_scaling.copy_example(source, tmp_path / "copy")
    copied = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    assert copied == ["plates/a.mp4", "refs/out/x.png", "soundstage.toml"]    # only the top-level state is left
    render_scaling.set_threads(copy, 1)
    assert tomllib.loads((copy / "soundstage.toml").read_text()) == {"title": "Film", "render": {"threads": 1}}
    assert (source / "soundstage.toml").read_text() == 'title = "Film"\n'    # the original is not touched
    (copy / "soundstage.toml").write_text('title = "Film"\n\n[render]  # how\njobs = 2\n\n[look]\nera = "now"\n')
    render_scaling.set_threads(copy, 1)
    assert tomllib.loads((copy / "soundstage.toml").read_text())["render"] == {"jobs": 2, "threads": 1}
