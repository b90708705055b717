"""Subtitles on the review copy: drawn bottom centre on the frames they are up, in a font that has Hangul; and the
render writes out/cut.srt and out/cut.vtt from the screenplay's dialogue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pysubs2
import pytest

from soundstage.edit.burnin import BurnIn
from soundstage.edit.labels import CutLabels, ShotCredits
from soundstage.edit.subtitles import ShotDialogue, rules_for, subtitle_cut
from soundstage.media.lettering import HANGUL_FONTS
from soundstage.pipeline import render_project
from soundstage.project import Project
from soundstage.script.breakdown import Line
from tiny_film import FPS, H, W, make_tiny

needs_hangul = pytest.mark.skipif(not any(Path(p).is_file() for p in HANGUL_FONTS),
                                  reason="no Hangul font installed (apt-get install fonts-nanum)")


def burn_in(project: Project, texts: list[str], frames: int = 48) -> BurnIn:
    lines = [Line(character="민지", text=text, line=n) for n, text in enumerate(texts, 1)]
    subtitles = subtitle_cut([ShotDialogue("1-1", 0, frames, lines)], FPS, rules_for("ko"))
    return BurnIn.prepare(project, CutLabels.prepare(project, [ShotCredits("1-1", frames)]), subtitles)


def drawn(burn: BurnIn, index: int) -> np.ndarray:
    return burn.draw(np.full((H, W, 3), 90, np.uint8), 0, index).astype(np.int16)


@needs_hangul
def test_a_subtitle_is_drawn_on_its_frames_and_no_others(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    burn = burn_in(project, ["사흘 밤.", "조용히."])
    bare = BurnIn.prepare(project, CutLabels.prepare(project, [ShotCredits("1-1", 48)]))
    assert burn.subtitles is not None and len(burn.subtitles.events) == 2
    up = {frame for cue in burn.subtitles.events for frame in range(cue.first, cue.end)}
    for index in range(48):
        changed = np.abs(drawn(burn, index) - drawn(bare, index)).sum(axis=2) > 0
        if index in up:
            rows, cols = np.nonzero(changed)
            assert rows.min() > H // 2 and abs((cols.min() + cols.max()) / 2 - W / 2) <= 2, index  # bottom centre
        else:
            assert not changed.any(), index
    assert burn.key != bare.key                       # the review copy is made again when the lines change


@needs_hangul
def test_korean_subtitles_are_set_in_a_face_with_hangul(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    one, other = burn_in(project, ["등불이 밝다"]), burn_in(project, ["밝다 등불이"])
    assert one.face.hangul and not one.warnings
    first = one.subtitles.events[0].first if one.subtitles else 0
    # Boxes (tofu) look alike whatever the syllable: the same syllables in another order would draw alike.
    assert not np.array_equal(drawn(one, first), drawn(other, first))


def test_render_writes_the_cuts_subtitles_from_the_screenplay(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    script = project.root / "tiny.fountain"
    script.write_text(script.read_text().replace("MIN-JI runs.\n", "MIN-JI runs.\n\nMIN-JI\n잠들어, 늙은 용아.\n"))
    report = render_project(Project.load(project.root))
    assert not report.failed, report.failed
    for name in ("cut.srt", "cut.vtt"):
        events = pysubs2.load(str(project.out_dir / name))
        assert [event.plaintext for event in events] == ["잠들어, 늙은 용아."]
        assert 0 <= events[0].start < events[0].end <= 1000        # inside shot 1-1, the cut's first second
    assert not [warning for warning in report.warnings if "subtitles" in warning]
