"""Issue 15: a Korean screenplay that names a 도깨비 (and its 도깨비불) reaches a cut offline, with no AI."""

from __future__ import annotations

from pathlib import Path

from soundstage.media import probe
from soundstage.pipeline import breakdown_project, render_project
from soundstage.pipeline.takes import Generation
from soundstage.project import Project
from soundstage.records.take import Take

SCRIPT = """\
Title: 도깨비

S#1. 산길 (밤)

도깨비가 어둠 속에서 걸어 나온다. 도깨비불이 그 뒤를 따른다.
"""


def test_a_korean_creature_and_its_ghost_fire_render_offline(tmp_path: Path) -> None:
    root = tmp_path / "film"
    root.mkdir()
    (root / "soundstage.toml").write_text('title = "도깨비"\nscreenplay = "s.fountain"\nfps = 12\n'
                                          'resolution = [64, 36]\nseed = 3\n[labels]\npolicy = "none"\n')
    (root / "s.fountain").write_text(SCRIPT)
    project = Project.load(root)
    shot = breakdown_project(project).shots[0]
    assert shot.elements == ["creature", "wisp"], shot.elements     # 도깨비불 is the ghost fire, not a second creature

    report = render_project(project)
    assert not report.failed, report.failed
    assert probe(project.out_dir / "cut.mp4").frames == round(shot.duration * 12)
    takes: dict[str, Take] = {t.slot: t for t in Generation(project).store.takes()}
    creature, wisp = takes["shot/1-1/element/creature"], takes["shot/1-1/element/wisp"]
    assert (creature.engine, creature.model) == ("procedural", "placeholder-creature")
    assert creature.source_type == "algorithmicMedia" and creature.record.parameters["placeholder"] is True
    assert wisp.model == "soundstage-procedural"
