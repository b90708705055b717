"""Visible AI labels and review burn-ins, checked on the pixels of a really rendered cut.

The tiny film (two shots, 18 frames at 12 fps) is rendered under each labels policy; the cut's frames are
decoded and compared: the corner mark's region against the unlabelled cut, the closing card against the card
drawn here from the takes in the project's database, the review copy's timecode frame against frame.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from soundstage.cli import app
from soundstage.db import TakeRecord, open_database
from soundstage.edit.burnin import REVIEW_FILE, BurnIn
from soundstage.edit.labels import CutLabels, Layer, ShotCredits, Tool, corner_position, sound_credits, typeface
from soundstage.errors import ProjectError
from soundstage.media import probe, read_frames
from soundstage.media.lettering import HANGUL_FONTS, face_for, text_patch
from soundstage.pipeline import render_project
from soundstage.project import Project
from soundstage.records import Slot
from soundstage.records.shot import read_shot_record
from soundstage.sound import read_sound
from tiny_film import FPS, H, W, make_tiny

MARKER = "\n# tables set by the test\n"
SHOT_FRAMES = 18                     # 1-1: 12 frames, 2-1: 6
CARD_FRAMES = round(5.0 * FPS)       # [labels] credits_seconds defaults to 5
PROCEDURAL = Tool("procedural", "p", "1", "algorithmicMedia")
VEO = Tool("google", "veo", "1", "trainedAlgorithmicMedia")


def configure(project: Project, **tables: str) -> Project:
    """Rewrite soundstage.toml with the given tables (``labels='policy = "none"'``) and load it again."""
    path = project.settings_path
    text = path.read_text().split(MARKER)[0] + MARKER
    for table, body in tables.items():
        text += f"\n[{table}]\n{body}\n"
    path.write_text(text)
    return Project.load(project.root)


def render(project: Project) -> dict[str, str]:
    report = render_project(project)
    assert not report.failed, report.failed
    return {step.step: step.status for step in report.steps}


def frames(path: Path) -> np.ndarray:
    return np.stack(list(read_frames(path))).astype(np.int16)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mark_box(project: Project) -> tuple[slice, slice]:
    """Where the corner mark sits (with a few pixels round it for the codec's blur)."""
    labels = CutLabels.prepare(project, [ShotCredits("x", 1, generated=True)])
    size = max(8, round(H * project.settings.labels.size))
    rgba = text_patch(labels.mark_text(labels.credits[0]) or "", labels.face, size)
    x, y = corner_position(project.settings.labels.corner, (W, H), rgba.shape[1::-1], margin=max(4, round(H * 0.03)))
    return slice(max(0, y - 2), y + rgba.shape[0] + 2), slice(max(0, x - 2), x + rgba.shape[1] + 2)


@pytest.fixture(scope="module")
def cuts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Project, np.ndarray]]:
    """The tiny film's cut under each policy: the project (as last configured) and the decoded frames; and
    its shot 1-1 (``"realistic 1-1"``). No watermark: its payload follows each render's key, so it would
    change pixels everywhere between policies, and only the labels' pixels are compared here."""
    project = make_tiny(tmp_path_factory.mktemp("labels"))
    made = {}
    for policy in ("none", "artistic", "realistic"):
        project = configure(project, labels=f'policy = "{policy}"', provenance="watermark = false")
        render(project)
        made[policy] = (project, frames(project.out_dir / "cut.mp4"))
        made[f"{policy} 1-1"] = (project, frames(project.out_dir / "shots" / "1-1.mp4"))
    return made


def test_realistic_marks_every_generated_frame_in_its_corner(cuts: dict[str, tuple[Project, np.ndarray]]) -> None:
    project, marked = cuts["realistic"]
    _, clean = cuts["none"]
    rows, cols = mark_box(project)
    shots = slice(0, SHOT_FRAMES)
    corner = np.abs(marked[shots, rows, cols] - clean[shots, rows, cols]).mean(axis=(1, 2, 3))
    assert (corner > 8).all(), corner           # the mark on every frame of both shots (each has a generated set)
    rest = np.abs(marked[shots] - clean[shots])
    rest[:, rows, cols] = 0
    assert rest.mean() < 1.0                   # and nowhere else: the picture itself is untouched


def test_policy_none_draws_nothing(cuts: dict[str, tuple[Project, np.ndarray]]) -> None:
    project, clean = cuts["none"]
    assert len(clean) == SHOT_FRAMES            # no closing card
    _, shot = cuts["none 1-1"]
    rows, cols = mark_box(project)
    assert np.abs(clean[: len(shot), rows, cols] - shot[:, rows, cols]).mean() < 2.0   # no mark either


def test_artistic_has_the_card_but_no_mark(cuts: dict[str, tuple[Project, np.ndarray]]) -> None:
    project, artistic = cuts["artistic"]
    _, clean = cuts["none"]
    _, realistic = cuts["realistic"]
    assert len(artistic) == len(realistic) == SHOT_FRAMES + CARD_FRAMES
    rows, cols = mark_box(project)
    assert np.abs(artistic[:SHOT_FRAMES, rows, cols] - clean[:SHOT_FRAMES, rows, cols]).mean() < 2.0
    assert np.abs(artistic[SHOT_FRAMES:] - realistic[SHOT_FRAMES:]).mean() < 1.0      # the same card


def test_the_card_closes_the_cut_and_names_the_tools_in_it(cuts: dict[str, tuple[Project, np.ndarray]]) -> None:
    project, cut = cuts["realistic"]
    assert probe(project.out_dir / "cut.mp4").frames == SHOT_FRAMES + CARD_FRAMES
    card = cut[SHOT_FRAMES:]
    assert np.abs(card - card[0]).mean(axis=(1, 2, 3)).max() < 1.0     # one still card, held
    assert (card[0] < 24).mean() > 0.8          # light text on black
    assert (card[0] > 150).any()

    with open_database(project.database)() as session:
        # the picture's takes: the card names sound takes once the mix records them
        takes = [t for t in session.query(TakeRecord) if not Slot.parse(t.slot).is_sound]
    tools = {(t.engine, t.model, t.engine_version) for t in takes}
    credits = [ShotCredits("1-1", 12, tuple(Layer("set", t.slot.split("/")[1], t.label,
                                                  Tool(t.engine, t.model, t.engine_version, t.source_type))
                                            for t in takes if t.slot.startswith("set/hanok")), "plates/actor.mp4",
                           generated=True),
               ShotCredits("2-1", 6, tuple(Layer("set" if t.slot.startswith("set/") else "element",
                                                 t.slot.split("/")[-1], t.label,
                                                 Tool(t.engine, t.model, t.engine_version, t.source_type))
                                           for t in takes if not t.slot.startswith("set/hanok")), generated=True)]
    # the sound the shot records say was heard (each shot's ambience bed, the rain's sound) closes the card
    credits = [replace(shot, sound=sound_credits(read_shot_record(project, shot.shot))) for shot in credits]
    expected = CutLabels.prepare(project, credits)
    text = "\n".join(line for _, line in expected.card_lines())
    for engine, model, version in tools:
        assert f"{engine} · {model} · {version}" in text
    assert "rain (shot\u00a02-1)" in text and "plates: shot\u00a01-1" in text
    assert np.abs(card[0] - expected.card_frame.astype(np.int16)).mean() < 2.0    # the card drawn is that card

    other = [ShotCredits(c.shot, c.frames, tuple(Layer(layer.role, layer.name, layer.take,
                                                       Tool("google", "veo-3.0", "1.0", "trainedAlgorithmicMedia"))
                                                 for layer in c.layers), c.plate, True, True) for c in credits]
    veo = CutLabels.prepare(project, other)
    assert "google · veo-3.0 · 1.0" in "\n".join(line for _, line in veo.card_lines())
    assert np.abs(veo.card_frame.astype(np.int16) - expected.card_frame).mean() > 0.5    # another card


def test_ai_shots_are_marked_as_ai_and_procedural_ones_are_not(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    procedural = ShotCredits("1-1", 12, (Layer("set", "hanok", "v001", PROCEDURAL),), generated=True)
    ai = ShotCredits("2-1", 6, (Layer("element", "rain", "v001", VEO),), generated=True, ai=True)
    plate_only = ShotCredits("3-1", 6, plate="plates/actor.mp4")
    labels = CutLabels.prepare(project, [procedural, ai, plate_only])
    assert [labels.mark_text(s) for s in labels.credits] == ["Computer-generated", "AI-generated", None]
    blank = np.zeros((H, W, 3), np.uint8)
    assert not labels.mark(blank.copy(), 2).any()             # no generated pixels: no mark
    assert labels.mark(blank.copy(), 0).any() and labels.mark(blank.copy(), 1).any()
    assert not np.array_equal(labels.mark(blank.copy(), 0), labels.mark(blank.copy(), 1))
    assert not CutLabels.prepare(project, [plate_only]).card    # nothing generated: no card


def test_korean_labels_use_a_hangul_font_or_say_why_not(tmp_path: Path) -> None:
    project = configure(make_tiny(tmp_path / "film"), labels='language = "ko"')
    ai = ShotCredits("2-1", 6, (Layer("element", "rain", "v001", VEO),), generated=True, ai=True)
    labels = CutLabels.prepare(project, [ai])
    english = CutLabels.prepare(configure(project, labels='language = "en"'), [ai])
    if labels.face.hangul:
        assert labels.language == "ko" and labels.mark_text(ai) == "AI 생성" and not labels.warnings
        assert labels.card_lines()[0] == ("title", "AI 사용 고지")
        assert not np.array_equal(labels.card_frame, english.card_frame)
    else:
        assert labels.language == "en" and labels.mark_text(ai) == "AI-generated"
        assert "no font with Hangul" in labels.warnings[0]


def test_a_text_with_hangul_is_set_in_a_face_with_hangul() -> None:
    if not any(Path(path).is_file() for path in HANGUL_FONTS):
        pytest.skip("no font with Hangul on this machine")
    face = face_for("크리처 · 임시")
    assert face.hangul
    # Distinct glyphs, not one missing-glyph box for every syllable.
    assert not np.array_equal(text_patch("크리처", face, 24), text_patch("크리저", face, 24))


def test_a_font_outside_the_project_or_not_a_font_is_refused(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    (project.root / "notes.ttf").write_text("not a font")
    outside = configure(project, labels='font = "../x.ttf"')
    with pytest.raises(ProjectError, match="outside the project"):
        typeface(outside, outside.settings.labels, "en")
    bad = configure(project, labels='font = "notes.ttf"')
    with pytest.raises(ProjectError, match="not a font"):
        typeface(bad, bad.settings.labels, "en")


def test_the_cut_renders_again_when_its_labels_change_and_only_then(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    assert render(project)["cut"] == "built"
    assert render(project)["cut"] == "cached"
    assert render(configure(project, labels="opacity = 0.5"))["cut"] == "built"
    movie = (project.out_dir / "cut.mp4").read_bytes()
    assert render(configure(project, labels="opacity = 0.5", edit='start_timecode = "00:59:00:00"'))["cut"] \
        == "built"                                    # the stems' BWF start moves with the timecode…
    assert (project.out_dir / "cut.mp4").read_bytes() == movie     # …and the picture, no burn-ins asked for, not
    assert read_sound(project.out_dir / "stems" / "dialogue.wav").time_reference == 59 * 60 * 48_000
    assert render(configure(project, labels="opacity = 0.5", edit='start_timecode = "00:59:00:00"'))["cut"] \
        == "cached"
    assert render(configure(project, labels='policy = "artistic"'))["cut"] == "built"
    assert render(configure(project, labels='policy = "artistic"\ncorner = "bottom-left"'))["cut"] == "cached"
    assert render(configure(project, labels='policy = "artistic"\ncredits_seconds = 2'))["cut"] == "built"
    assert probe(project.out_dir / "cut.mp4").frames == SHOT_FRAMES + 2 * FPS


def test_burn_ins_go_to_a_review_copy_and_leave_the_cut_clean(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    render(project)
    cut = digest(project.out_dir / "cut.mp4")
    project = configure(project, review="burn_in = true")
    assert render(project)["cut"] == "built"                      # the review copy was missing
    assert digest(project.out_dir / "cut.mp4") == cut               # the cut itself was not touched
    review, clean = frames(project.out_dir / REVIEW_FILE), frames(project.out_dir / "cut.mp4")
    assert len(review) == len(clean) == SHOT_FRAMES + CARD_FRAMES

    band = slice(H - H // 4, H)                                     # the burn-ins sit at the bottom
    assert (np.abs(review[:, band] - clean[:, band]).mean(axis=(1, 2, 3)) > 4).all()
    assert np.abs(review[:, : H // 2] - clean[:, : H // 2]).mean() < 1.0
    timecodes = review[SHOT_FRAMES:, band, W // 2:]                 # on the still card only the timecode moves
    steps = np.abs(np.diff(timecodes, axis=0)).mean(axis=(1, 2, 3))
    assert (steps > 0.2).all(), steps                               # every frame its own timecode

    assert render(project)["cut"] == "cached"
    assert render(configure(project, review="burn_in = true", edit='start_timecode = "10:00:00:00"'))["cut"] \
        == "built"
    assert digest(project.out_dir / "cut.mp4") == cut


def test_render_burn_in_option(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    result = CliRunner().invoke(app, ["render", str(project.root), "--burn-in", "--json"])
    assert result.exit_code == 0, result.output
    assert probe(project.out_dir / REVIEW_FILE).frames == probe(project.out_dir / "cut.mp4").frames


def test_burn_in_timecodes_count_as_the_timeline_does(tmp_path: Path) -> None:
    project = configure(make_tiny(tmp_path / "film"), review="burn_in = true", edit='start_timecode = "00:59:59:10"')
    burn = BurnIn.prepare(project, CutLabels.prepare(project, [ShotCredits("1-1", 12)]))
    assert [burn.timecode(i) for i in (0, 1, 2, FPS + 2)] == ["00:59:59:10", "00:59:59:11", "01:00:00:00",
                                                               "01:00:01:00"]
    drop = configure(project, review="burn_in = true", edit='start_timecode = "00:59:59;28"')
    drop = Project(drop.root, drop.settings.model_copy(update={"fps": 29.97}))
    burn = BurnIn.prepare(drop, CutLabels.prepare(drop, [ShotCredits("1-1", 12)]))
    assert [burn.timecode(i) for i in (0, 1, 2)] == ["00:59:59;28", "00:59:59;29", "01:00:00;00"]
    bad = configure(project, review="burn_in = true", edit='start_timecode = "01:00:00:12"')
    with pytest.raises(ProjectError, match="start_timecode"):
        BurnIn.prepare(bad, CutLabels.prepare(bad, [ShotCredits("1-1", 12)]))


HANGUL_FONT = any(Path(p).is_file() for p in HANGUL_FONTS)
needs_hangul = pytest.mark.skipif(not HANGUL_FONT, reason="no Hangul font installed (apt-get install fonts-nanum)")
NO_FONT_HAS = "\U00012000"       # CUNEIFORM SIGN A: a letter (a set name keeps it), in no font of a stock system


def set_credits(name: str, role: str = "set") -> list[ShotCredits]:
    return [ShotCredits("1-1", 12, (Layer(role, name, "v001", PROCEDURAL),), "plates/actor.mp4", generated=True)]


@needs_hangul
def test_hangul_on_an_english_card_is_drawn_in_a_font_that_has_it(tmp_path: Path) -> None:
    """``soundstage new`` makes English labels; the set names on the card are the screenplay's, in Korean."""
    project = make_tiny(tmp_path / "film")
    hanok, okhan = (CutLabels.prepare(project, set_credits(name)) for name in ("한옥-night", "옥한-night"))
    assert hanok.language == "en" and not hanok.warnings
    assert "sets: 한옥-night (shot\u00a01-1)" in [line for _, line in hanok.card_lines()]
    # Boxes (tofu) look alike whatever the syllable: the two names would draw the same card.
    assert np.abs(hanok.card_frame.astype(np.int16) - okhan.card_frame).mean() > 0.05
    shapes = {text_patch(syllable, hanok.face, 24).tobytes() for syllable in "한옥마을"}
    assert len(shapes) == 4                                # four syllables, four shapes
    latin = {text_patch(letter, hanok.face, 24).tobytes() for letter in "AIge"}
    assert len(latin) == 4


@needs_hangul
def test_burn_ins_draw_hangul_take_names_under_english_labels(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    burns = [BurnIn.prepare(project, CutLabels.prepare(project, set_credits(name, "element")))
             for name in ("도깨비불", "불도깨비")]        # the burn-in names each element's take
    patches = [burn._shot_patches[0] for burn in burns]
    assert not np.array_equal(patches[0].over, patches[1].over)
    assert not burns[0].warnings


def test_a_character_no_font_has_is_a_warning(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    labels = CutLabels.prepare(project, set_credits(f"hanok{NO_FONT_HAS}\ue000"))
    said = " ".join(labels.warnings)
    assert "U+12000" in said and "U+E000" in said and "no installed font" in said
    assert not CutLabels.prepare(project, set_credits("hanok")).warnings
    burn = BurnIn.prepare(project, CutLabels.prepare(project, set_credits(f"fire{NO_FONT_HAS}", "element")))
    assert "U+12000" in " ".join(burn.warnings) and "burn-ins" in " ".join(burn.warnings)


def test_render_json_warns_of_a_set_name_no_font_can_draw(tmp_path: Path) -> None:
    import json

    project = make_tiny(tmp_path / "film")
    script = project.root / "tiny.fountain"
    script.write_text(script.read_text().replace("HANOK ROOFTOPS", f"HANOK{NO_FONT_HAS} 한옥"))
    result = CliRunner().invoke(app, ["render", str(project.root), "--json"])
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert any("U+12000" in warning for warning in warnings), warnings
    assert not any("U+D55C" in warning for warning in warnings) or not HANGUL_FONT     # 한 is drawn


def test_shot_files_carry_the_mark_under_realistic_and_masters_stay_clean(tmp_path: Path) -> None:
    """The EDL, OTIO and XML link out/shots/*.mp4: an editor who rebuilds the cut from them keeps the label.
    The finishing masters ([render] deliver) stay clean, as finishing needs them."""
    from soundstage.media import read_image

    no_watermark = "watermark = false"          # its payload follows the render's key: it would differ everywhere
    project = configure(make_tiny(tmp_path / "film"), render='deliver = ["png"]', provenance=no_watermark)
    render(project)
    labelled = frames(project.out_dir / "shots" / "1-1.mp4")
    cut = frames(project.out_dir / "cut.mp4")
    master = read_image(project.out_dir / "masters" / "1-1_png" / "1-1.0001.png")[..., :3].astype(np.int16)
    clean_project = configure(project, render='deliver = ["png"]', labels='policy = "none"', provenance=no_watermark)
    render(clean_project)
    clean = frames(project.out_dir / "shots" / "1-1.mp4")
    rows, cols = mark_box(project)
    corner = np.abs(labelled[:, rows, cols] - clean[:, rows, cols]).mean(axis=(1, 2, 3))
    assert (corner > 8).all(), corner                    # the mark on every frame of the shot file
    rest = np.abs(labelled - clean)
    rest[:, rows, cols] = 0
    assert rest.mean() < 1.0
    clean_master = read_image(project.out_dir / "masters" / "1-1_png" / "1-1.0001.png")[..., :3].astype(np.int16)
    assert np.abs(master - clean_master)[rows, cols].mean() < 1.0      # no mark on the master
    # The cut shows the shot's mark as it is, not blended a second time over it.
    assert np.abs(cut[: len(labelled), rows, cols] - labelled[:, rows, cols]).mean() < 2.0
