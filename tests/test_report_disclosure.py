"""The disclosure report: AI and human shares measured from the comp mattes, the tools, the human work, and the
fields copyright registration asks for.

The bundled example is rendered once, small (the measured, procedural case, with a take approved by name and a
note). A second tiny film makes its sets through the real Google engine (google-genai) against the local
stand-in, so its takes are trainedAlgorithmicMedia and its AI shares are measured in a real render too.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from browser import inked_share, screenshot
from engines.standin import Reply, StandIn
from soundstage.cli import app
from soundstage.pipeline import Generation, breakdown_project, read_breakdown, render_project
from soundstage.project import Project
from soundstage.records.shot import read_shot_record
from soundstage.reports.disclosure import NOT_APPROVED, PROMPT_NOTE, WORDS, write_disclosure_report
from soundstage.takes import set_slot
from test_example_on_ray import small_example
from tiny_film import make_tiny, shots_toml

SHOTS_DIR = Path("/tmp/report-shots")
TEMPLATE = Path(__file__).parents[1] / "src" / "soundstage" / "templates" / "reports" / "disclosure.html"
ROOFTOPS = set_slot("hanok-rooftops-night")


def keep(picture_path: Path, name: str) -> None:
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(picture_path, SHOTS_DIR / name)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The example at 320×180: the rooftops set made twice, v001 approved by name, a note, then rendered."""
    project = small_example(tmp_path_factory.mktemp("disclosure") / "moonlit-hanok")
    again = Generation(project, seed_override=99)
    [outcome] = again.generate([o for o in again.orders(breakdown_project(project), ["3-1"]) if o.slot == ROOFTOPS])
    assert outcome.made, outcome.error
    first = Generation(project)
    assert not [o.error for o in first.generate(first.orders(breakdown_project(project))) if o.error]
    first.store.approve(ROOFTOPS, 1, by="Kim Ji-woo")
    first.store.add_note("shot/3-1", "Keep the first rooftops: the moon sits better behind the ridge.", by="Kim Ji-woo")
    report = render_project(project)
    assert not report.failed, report.failed
    return project


def disclosure_json(project: Project, folder: Path) -> dict:
    paths = write_disclosure_report(project, out=folder)
    assert [p.name for p in paths] == ["disclosure.html", "disclosure.json"]
    return json.loads((folder / "disclosure.json").read_text("utf-8"))


def test_the_example_shows_the_shares_measured_in_its_shot_records(example: Project, tmp_path: Path) -> None:
    data = disclosure_json(example, tmp_path)
    shots = [s.id for s in breakdown_project(example).shots]
    assert [s["shot"] for s in data["shots"]] == shots == data["cut"]["shots"]
    records = [read_shot_record(example, shot) for shot in shots]
    for shown, record in zip(data["shots"], records, strict=True):
        assert record is not None
        for name in ("ai_share", "generated_share", "plate_share"):
            assert shown[name] == getattr(record, name), (record.shot, name)
        assert shown["procedural_share"] == pytest.approx(record.generated_share - record.ai_share)
        assert shown["ai_share"] == 0.0, "the procedural engine is generated, not AI"
        assert shown["plate"] == record.plate
        if record.plate:
            assert 0 < shown["plate_share"] < 1, record.shot
        else:
            assert shown["plate_share"] == 0.0 and shown["generated_share"] == pytest.approx(1.0)
        assert [(layer["slot"], layer["share"]) for layer in shown["layers"]] == [
            (layer.slot, layer.share) for layer in record.layers]
        assert all(layer["source_type"] == "algorithmicMedia" and not layer["ai"] for layer in shown["layers"])
    assert any(r is not None and r.plate is None for r in records), "the example has a fully generated shot"
    frames = sum(r.frames for r in records if r is not None)
    assert data["cut"]["frames"] == frames
    for name in ("ai_share", "generated_share", "plate_share"):
        weighted = sum(getattr(r, name) * r.frames for r in records if r is not None) / frames
        assert data["cut"][name] == pytest.approx(weighted, abs=1e-12)
    assert "every 8th pixel" in data["method"] and "weighted by their frames" in data["method"]
    assert data["ai_tools"] == [] and data["registration"]["ai_generated_parts_to_exclude"] == []
    [procedural] = data["generated_tools_not_ai"]
    assert procedural["engine"] == "procedural" and procedural["source_type"] == "algorithmicMedia"


def test_the_report_is_of_the_breakdown_it_is_handed(example: Project, tmp_path: Path) -> None:
    """The command hands the report the breakdown with the screenplay and shot plan it read (issue 16), so
    nothing is parsed twice: the title page and the crew's settings shown are the ones handed."""
    read = read_breakdown(example, lock=False)
    title_page = {**read.screenplay.title_page, "Author": "Handed Over"}
    plan = replace(read.plan, entries=tuple(e.model_copy(update={"duration": 9.5}) if e.id == "3-1" else e
                                            for e in read.plan.entries))
    write_disclosure_report(example, out=tmp_path, read=replace(
        read, screenplay=replace(read.screenplay, title_page=title_page), plan=plan))
    report = json.loads((tmp_path / "disclosure.json").read_text("utf-8"))
    assert report["human"]["screenplay"]["author"] == "Handed Over"
    assert "duration = 9.5" in report["human"]["edits"]["shots"]["3-1"]
    own = disclosure_json(example, tmp_path / "own")        # read by the report itself: the files as they are
    assert own["human"]["screenplay"]["author"] != "Handed Over"
    assert "duration = 9.5" not in own["human"]["edits"]["shots"]["3-1"]


def test_selection_names_who_approved_which_take_and_when(example: Project, tmp_path: Path) -> None:
    data = disclosure_json(example, tmp_path)
    selection = {s["slot"]: s for s in data["human"]["selection"]}
    rooftops = selection[ROOFTOPS]
    assert rooftops["takes_made"] == 2 and rooftops["chosen"] == "v001"
    assert rooftops["approved_by"] == "Kim Ji-woo" and rooftops["approved_at"]
    assert rooftops["shots"] == ["3-1", "3-2"] and rooftops["chosen_how"] == "approved"
    others = [s for slot, s in selection.items() if slot != ROOFTOPS]
    assert others and all(s["approved_by"] is None and s["chosen_how"] == NOT_APPROVED for s in others)
    assert data["human"]["arrangement"]["cut_order"] == ["1-1", "2-1", "2-2", "2-3", "3-1", "3-2", "4-1"]
    [note] = data["human"]["notes"]
    assert note["author"] == "Kim Ji-woo" and note["subject"] == "shot/3-1"
    edits = data["human"]["edits"]
    assert 'camera.move = "pan-right"' in edits["shots"]["1-1"] and "key.refine = 2" in edits["shots"]["4-1"]
    assert '[comp] lut = "grade/moonlit.cube"' in edits["film"]

    script = data["human"]["screenplay"]
    assert script["file"] == "moonlit-hanok.fountain" and script["title"] == "Moonlit Hanok"
    assert script["author"] == "The soundstage contributors" and script["scenes"] == 4
    assert [p["plate"] for p in data["human"]["performances"]] == [
        "plates/pass_walk.mp4", "plates/desert_look_logc4.mp4", "plates/handheld_look.mp4", "plates/pass_stand.mp4",
        "plates/rooftop_blue.mp4", "plates/cliff_turn.mp4"]

    registration = data["registration"]
    assert all(p["human_creative_contribution"] is False and p["note"] == PROMPT_NOTE
               for p in registration["prompts"])
    assert ("The selection of takes: for 1 of 18 slots a named person approved the take, from 19 takes generated"
            in registration["human_parts_claimed"])
    assert "For 1 of them a named person approved the take used." in registration["process"]
    assert "For 17 slots the take used is the newest of its design, approved by no one." in registration["process"]
    assert "1-1 → 2-1 → 2-2 → 2-3 → 3-1 → 3-2 → 4-1" in registration["process"]

    deliverable = data["deliverable"]
    assert deliverable["state"] == "Trusted" and deliverable["ok"] and deliverable["signer"]
    assert deliverable["trust"] == ".soundstage/keys/root.pem" and not deliverable["tampered"]
    for shot in data["shots"]:
        record = read_shot_record(example, shot["shot"])
        assert record is not None and record.watermark
        assert deliverable["watermarks"][shot["shot"]] == record.watermark == shot["watermark"]
        assert shot["file_manifest"] == "Trusted"

    html = (tmp_path / "disclosure.html").read_text("utf-8")
    assert "Kim Ji-woo" in html and NOT_APPROVED in html and "Keep the first rooftops" in html
    assert "a person with counsel decides what to file" in html


def test_the_report_reads_at_a_glance(example: Project, tmp_path: Path) -> None:
    write_disclosure_report(example, out=tmp_path)
    picture = screenshot(tmp_path / "disclosure.html", tmp_path / "disclosure.png", width=1400, height=2400)
    keep(tmp_path / "disclosure.png", "disclosure-example.png")
    assert inked_share(picture) > 0.04
    # the cut's stacked bar: procedural violet and plate green, no AI orange in a procedural film
    assert np.any(np.all(np.abs(picture.astype(int) - (0x8A, 0x6F, 0xB0)) < 8, axis=2))
    assert np.any(np.all(np.abs(picture.astype(int) - (0x2E, 0x8B, 0x57)) < 8, axis=2))


def test_every_label_of_the_page_has_korean_words() -> None:
    labels = set(re.findall(r'\bt\("([^"]+)"\)', TEMPLATE.read_text("utf-8")))
    labels |= set(re.findall(r"\bt\('([^']+)'\)", TEMPLATE.read_text("utf-8")))
    assert labels and sorted(labels - set(WORDS)) == []


def test_a_korean_report(example: Project, tmp_path: Path) -> None:
    root = tmp_path / "ko"
    shutil.copytree(example.root, root)
    settings = root / "soundstage.toml"
    text = settings.read_text()
    settings.write_text(re.sub(r'(?m)^language = "en"', 'language = "ko"', text) if "[reports]" in text
                        else text + '[reports]\nlanguage = "ko"\n')
    write_disclosure_report(Project.load(root), out=tmp_path)
    html = (tmp_path / "disclosure.html").read_text("utf-8")
    for korean in ("사람의 기여", "저작권 등록용", "등록 신청에서 제외할 AI 생성 부분", "같은 디자인의 최신 테이크",
                   "법률 자문을 받은 사람이 결정한다", "프롬프트만으로는 사람의 창작적 기여가 아님"):
        assert korean in html
    for english in ("What is human", "For registration", "Share of the cut", "How this was measured"):
        assert english not in html
    assert '<html lang="ko">' in html
    picture = screenshot(tmp_path / "disclosure.html", tmp_path / "disclosure-ko.png", width=1400, height=2400)
    keep(tmp_path / "disclosure-ko.png", "disclosure-example-ko.png")
    assert inked_share(picture) > 0.04


def test_the_command_writes_the_report(example: Project) -> None:
    result = CliRunner().invoke(app, ["report", "disclosure", str(example.root)])
    assert result.exit_code == 0, result.output
    assert "disclosure.html" in result.output and "disclosure.json" in result.output
    assert (example.out_dir / "reports" / "disclosure.json").is_file()


def test_shots_without_records_say_render_first(tmp_path: Path) -> None:
    project = small_example(tmp_path / "unrendered")
    result = CliRunner().invoke(app, ["report", "disclosure", str(project.root)])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert "no shot record for 1-1, 2-1, 2-2, 2-3, 3-1, 3-2, 4-1" in line and "render first" in line
    assert not (project.out_dir / "reports" / "disclosure.html").exists()


def test_a_renumbered_shot_is_reported_as_omitted_and_the_rest_carry_on(example: Project, tmp_path: Path) -> None:
    """1-1 renumbered A1-1 in the shot plan after the render: its record is under the old id."""
    shutil.copytree(example.root, tmp_path / "film")
    project = Project.load(tmp_path / "film")
    plan = project.shots_file.read_text("utf-8")
    assert plan.count('id = "1-1"') == 1
    project.shots_file.write_text(plan.replace('id = "1-1"', 'id = "A1-1"'), "utf-8")
    result = CliRunner().invoke(app, ["report", "disclosure", str(project.root)])
    assert result.exit_code == 0, result.output
    shown = json.loads((project.out_dir / "reports" / "disclosure.json").read_text("utf-8"))
    assert [s["shot"] for s in shown["shots"]] == ["2-1", "2-2", "2-3", "3-1", "3-2", "4-1"]
    [omitted] = shown["omitted"]
    assert omitted["shot"] == "A1-1" and "no shot record" in omitted["reason"] and "1-1" in omitted["reason"]
    html = (project.out_dir / "reports" / "disclosure.html").read_text("utf-8")
    assert "A1-1" in html and "omitted" in html


# ---------------------------------------------------------------------------------------------- an AI film

IMAGEN = r"/v1beta1/publishers/google/models/imagen-4\.0-generate-001:predict"
GOOGLE_ENV = ("GEMINI_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "GOOGLE_GENAI_USE_VERTEXAI",
              "GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_GENAI_API_VERSION", "GOOGLE_APPLICATION_CREDENTIALS",
              "GOOGLE_GENAI_HTTP_CLIENT")


def imagen_reply() -> Reply:
    picture = np.zeros((108, 192, 3), np.uint8)
    picture[:] = np.linspace(30, 200, 192, dtype=np.uint8)[None, :, None]
    ok, data = cv2.imencode(".png", picture)
    assert ok
    return Reply(200, {"predictions": [{"bytesBase64Encoded": base64.b64encode(data.tobytes()).decode(),
                                        "mimeType": "image/png"}]})


@pytest.fixture(scope="module")
def ai_film(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The tiny film with its sets made by Imagen 4 (through the real SDK, against the stand-in) and its rain
    by the procedural engine: one shot part plate, part AI; one part AI, part procedural."""
    with pytest.MonkeyPatch.context() as env, StandIn() as standin:
        for name in GOOGLE_ENV:
            env.delenv(name, raising=False)
        env.setenv("GOOGLE_API_KEY", "AQ.express-test-key")
        standin.route("POST", IMAGEN, imagen_reply())
        root = tmp_path_factory.mktemp("ai-film") / "film"
        make_tiny(root)
        (root / "shots.toml").write_text(shots_toml().replace('elements = ["rain"]',
                                                              'elements = ["rain"]\nengine = "procedural"'))
        text = (root / "soundstage.toml").read_text()
        (root / "soundstage.toml").write_text(
            text.replace('seed = 3\n', 'seed = 3\nengine = "google"\n')
            + '[labels]\npolicy = "none"\n[budget]\nlimit = 1\n'
            f'[engines.google]\nimage_model = "imagen-4.0-generate-001"\nbase_url = "{standin.url}"\n'
            "retries = 1\nbackoff = 0\n")
        project = Project.load(root)
        report = render_project(project)
        assert not report.failed, report.failed
        assert standin.calls("POST", IMAGEN), "the sets were made by the engine"
    return project


def test_ai_takes_are_measured_and_listed_for_exclusion(ai_film: Project, tmp_path: Path) -> None:
    data = disclosure_json(ai_film, tmp_path)
    plated, rain = data["shots"]
    plated_record, rain_record = read_shot_record(ai_film, "1-1"), read_shot_record(ai_film, "2-1")
    assert plated_record is not None and rain_record is not None
    assert plated["ai_share"] == plated_record.ai_share > 0 and plated["plate_share"] == plated_record.plate_share > 0
    assert plated["ai_share"] == pytest.approx(1 - plated["plate_share"], abs=1e-5)
    assert plated["procedural_share"] == pytest.approx(0.0, abs=1e-5)
    shares = {layer["role"]: layer for layer in rain["layers"]}
    assert shares["set"]["ai"] and shares["set"]["source_type"] == "trainedAlgorithmicMedia"
    assert not shares["element"]["ai"] and shares["element"]["source_type"] == "algorithmicMedia"
    assert rain["ai_share"] == rain_record.ai_share == shares["set"]["share"]
    assert rain["procedural_share"] == pytest.approx(shares["element"]["share"], abs=1e-5)
    assert 0 < rain["ai_share"] < 1 and rain["plate_share"] == 0.0

    frames = plated_record.frames + rain_record.frames
    expected = (plated_record.ai_share * plated_record.frames + rain_record.ai_share * rain_record.frames) / frames
    assert data["cut"]["ai_share"] == pytest.approx(expected, abs=1e-12)
    [imagen] = data["ai_tools"]
    assert imagen["engine"] == "google" and imagen["model"] == "imagen-4.0-generate-001"
    assert imagen["engine_version"] and imagen["shots"] == ["1-1", "2-1"]
    assert imagen["share_of_cut"] == pytest.approx(data["cut"]["ai_share"], abs=1e-9)
    registration = data["registration"]
    assert registration["ai_tools_with_versions"] == [
        f"google · imagen-4.0-generate-001 ({imagen['engine_version']})"]
    excluded = registration["ai_generated_parts_to_exclude"]
    assert len(excluded) == 2 and all("google · imagen-4.0-generate-001" in line for line in excluded)
    assert any("rain" in line for line in registration["generated_not_ai"])

    html = (tmp_path / "disclosure.html").read_text("utf-8")
    assert "AI (trained model)" in html and "procedural: generated, not AI" in html
    picture = screenshot(tmp_path / "disclosure.html", tmp_path / "ai.png", width=1400, height=2400)
    keep(tmp_path / "ai.png", "disclosure-ai-film.png")
    assert np.any(np.all(np.abs(picture.astype(int) - (0xD0, 0x57, 0x2B)) < 8, axis=2)), "the AI share shows"


def test_approvals_given_after_the_render(example: Project, tmp_path: Path) -> None:
    """The shares are the render's. Approving the take a shot shows changes no pixel, so it shows at once; approving
    another take is named, with what to do, and not mixed into what the pixels were made of."""
    root = tmp_path / "later"
    shutil.copytree(example.root, root)
    later = Generation(Project.load(root))
    rain = "shot/4-1/element/rain"
    later.store.approve(rain, 1, by="Park Seo-yeon")
    later.store.approve(ROOFTOPS, 2, by="Kim Ji-woo")
    data = disclosure_json(Project.load(root), tmp_path / "reports")
    selection = {s["slot"]: s for s in data["human"]["selection"]}
    assert selection[rain]["approved_by"] == "Park Seo-yeon" and selection[rain]["chosen_how"] == "approved"
    layer = next(la for s in data["shots"] if s["shot"] == "4-1" for la in s["layers"] if la["slot"] == rain)
    assert layer["approved_by"] == "Park Seo-yeon"
    assert selection[ROOFTOPS]["chosen"] == "v001" and selection[ROOFTOPS]["approved_now"] == "v002"
    [warning] = data["warnings"]
    assert warning.startswith(ROOFTOPS) and "v002 was approved after 3-1, 3-2 rendered with v001" in warning
    assert "render again" in warning


def test_the_disclosure_reads_who_approved_the_take_used_from_the_history(example: Project, tmp_path: Path) -> None:
    """Approved again by someone else, then replaced by another take: the take the cut shows was last chosen by
    the second person, and the history, not the render's record, says so."""
    root = tmp_path / "history"
    shutil.copytree(example.root, root)
    store = Generation(Project.load(root)).store
    store.approve(ROOFTOPS, 1, by="Han Ye-jin")
    store.approve(ROOFTOPS, 2, by="Lee Do-hyun")
    data = disclosure_json(Project.load(root), tmp_path / "reports")
    rooftops = {s["slot"]: s for s in data["human"]["selection"]}[ROOFTOPS]
    assert (rooftops["chosen"], rooftops["approved_by"], rooftops["approved_now"]) == ("v001", "Han Ye-jin", "v002")
    assert [(e.version, e.by) for e in store.history(ROOFTOPS)] == [
        (1, "Kim Ji-woo"), (1, "Han Ye-jin"), (2, "Lee Do-hyun")]


def test_a_tampered_cut_is_reported_as_such(example: Project, tmp_path: Path) -> None:
    root = tmp_path / "tampered"
    shutil.copytree(example.root, root)
    cut = root / "out" / "cut.mp4"
    data = bytearray(cut.read_bytes())
    data[len(data) // 2] ^= 0xFF                       # one byte of the picture
    cut.write_bytes(bytes(data))
    deliverable = disclosure_json(Project.load(root), tmp_path / "reports")["deliverable"]
    assert deliverable["tampered"] and not deliverable["ok"] and deliverable["state"] == "Invalid"
    html = (tmp_path / "reports" / "disclosure.html").read_text("utf-8")
    assert "signature invalid or tampered" in html
