"""The cost and schedule report: measured takes and render times against a traditional rate card.

The procedural film is rendered once for real; the priced film makes its takes through the real Google engine
(google-genai) against the local stand-in, so the price table's Imagen line is what charges them.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import shutil
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from browser import inked_share, screenshot
from engines.standin import Reply, StandIn
from soundstage.cli import app
from soundstage.db import RenderRecord, open_database
from soundstage.errors import ProjectError
from soundstage.pipeline import Generation, breakdown_project, render_project
from soundstage.project import Project
from soundstage.reports.cost import write_cost_report
from soundstage.reports.ratecard import RATECARD_FILE, load_ratecard
from tiny_film import make_tiny

SHOTS_DIR = Path("/tmp/report-shots")
CARD = resources.files("soundstage.templates").joinpath(RATECARD_FILE).read_text("utf-8")
KRW = '[reports]\ncurrency = "KRW"\nusd_rate = 1400\nrate_date = "2026-11-30"\n'


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))


def copy_of(project: Project, where: Path, extra: str = "") -> Project:
    shutil.copytree(project.root, where)
    if extra:
        with (where / "soundstage.toml").open("a") as settings:
            settings.write(extra)
    return Project.load(where)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The tiny film rendered with the procedural engine, plus one take the crew made and did not use."""
    root = tmp_path_factory.mktemp("tiny") / "film"
    make_tiny(root)
    with (root / "soundstage.toml").open("a") as settings:
        settings.write(KRW)
    project = Project.load(root)
    assert not render_project(project).failed
    again = Generation(project, seed_override=99)             # another seed for 1-1's set: a take not used
    [outcome] = again.generate([o for o in again.orders(breakdown_project(project), ["1-1"]) if "set/" in o.slot])
    assert outcome.made and outcome.take is not None and outcome.take.label == "v002"
    again.store.approve(outcome.take.slot, 1)                   # the crew keeps v001: v002 was rejected
    return project


def test_the_procedural_film_shows_measured_times_and_zero_cost(tiny: Project, tmp_path: Path) -> None:
    paths = write_cost_report(tiny, out=tmp_path)
    assert [p.name for p in paths] == ["cost.html", "cost.csv", "cost-takes.csv", "cost-claims.csv"]
    sessions = open_database(tiny.database)
    with sessions() as session:
        ledger = {r.output: r.seconds for r in session.scalars(select(RenderRecord))}

    shots = {row["shot"]: row for row in rows(tmp_path / "cost.csv")}
    assert list(shots) == ["1-1", "2-1", "total"]
    for shot in ("1-1", "2-1"):
        assert float(shots[shot]["render_seconds"]) == round(ledger[f"out/shots/{shot}.mp4"], 3) > 0
        assert float(shots[shot]["engine_seconds"]) > 0 and float(shots[shot]["ai_cost_usd"]) == 0.0
        assert shots[shot]["price_used"] == "0 USD / cpu_second (no date)"
    # 1-1: its set's v001 and v002, and its ambience bed; 2-1: its set, the rain, the rain's sound and its bed
    assert shots["1-1"]["takes"] == "3" and shots["2-1"]["takes"] == "4"
    assert shots["1-1"]["type"] == "medium" and shots["1-1"]["type_from"] == "keyed plate + set"
    assert shots["2-1"]["type"] == "medium" and shots["2-1"]["type_from"] == "set + rain"
    # medium: 5 artist-hours at 320 USD a day of 8 h, +20% supervision +15% contingency = 270 USD = 378,000 KRW
    assert shots["1-1"]["traditional_cost_usd_estimate"] == "270.0"
    assert shots["1-1"]["traditional_cost_krw_estimate"] == "378000"
    total = shots["total"]
    # three sets, the rain; the rain's sound and two ambience beds
    assert total["takes"] == "7" and total["ai_cost_usd"] == "0.0" and total["ai_cost_krw"] == "0"
    renders = [ledger["out/shots/1-1.mp4"], ledger["out/shots/2-1.mp4"], ledger["out/cut.mp4"]]
    assert float(total["render_seconds"]) == pytest.approx(sum(renders), abs=2e-3)
    engine_seconds = sum(take.seconds for take in Generation(tiny).store.takes())
    assert engine_seconds > 0 and float(total["engine_seconds"]) == pytest.approx(engine_seconds, abs=1e-3)
    assert total["traditional_cost_krw_estimate"] == "756000"

    takes = rows(tmp_path / "cost-takes.csv")
    status = {(t["slot"], t["take"]): t["status"] for t in takes}
    assert status[("set/hanok-rooftops-night", "v001")] == "approved"
    assert status[("set/hanok-rooftops-night", "v002")] == "not used"
    assert {t["price_source"] for t in takes} == {"your rate: set it in the project's prices.toml"}
    assert all(float(t["engine_seconds"]) > 0 for t in takes)

    html = (tmp_path / "cost.html").read_text("utf-8")
    assert html.count("<svg") == 3 and "polyline" in html and "<rect" in html
    assert "1 USD = 1,400.00 KRW (rate of 2026-11-30)" in html
    assert 'class="tag measured"' in html and 'class="tag estimate"' in html
    assert "756,000 KRW" in html and "your rate: set it in the project&#39;s prices.toml" in html
    assert "10 times faster than CGI" in html and "half the cost" in html and "production time -50%" in html
    assert "procedural and local takes are priced at 0" in html
    assert "blkrip.vip/pricing/vfx-shot-pricing" in html           # the rate card's source is printed


def test_the_report_is_of_the_breakdown_it_is_handed(tiny: Project, tmp_path: Path) -> None:
    """The command hands the report the breakdown it made (issue 16), so the report parses no screenplay again:
    what it is handed is what it reports."""
    whole = breakdown_project(tiny, lock=False)
    handed = whole.model_copy(update={"title": "Handed Over", "shots": whole.shots[1:]})
    [page, table, *_] = write_cost_report(tiny, out=tmp_path, breakdown=handed)
    assert [row["shot"] for row in rows(table)] == ["2-1", "total"]
    assert "Handed Over" in page.read_text("utf-8")


def test_the_report_reads_at_a_glance(tiny: Project, tmp_path: Path) -> None:
    [page, *_] = write_cost_report(tiny, out=tmp_path)
    picture = screenshot(page, tmp_path / "cost.png", width=1280, height=1800)
    SHOTS_DIR.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "cost.png", SHOTS_DIR / "cost.png")
    assert inked_share(picture) > 0.04
    # the bars of the cost chart are drawn: the traditional bid's blue is on the page
    blue = np.all(np.abs(picture.astype(int) - (0x2F, 0x6F, 0xBF)) < 12, axis=2)
    assert blue.mean() > 0.003


def test_a_korean_report_has_korean_labels(tiny: Project, tmp_path: Path) -> None:
    project = copy_of(tiny, tmp_path / "ko")
    settings = project.settings_path.read_text().replace("[reports]\n", '[reports]\nlanguage = "ko"\n')
    project.settings_path.write_text(settings)
    project = Project.load(project.root)
    [page, table, *_] = write_cost_report(project, out=tmp_path / "out")
    html = page.read_text("utf-8")
    assert '<html lang="ko">' in html
    for label in ("비용 및 일정", "샷별 비용", "예산 대비 지출", "실측", "추정", "전통 방식 견적",
                  "CGI보다 10배 빠르다", "모든 테이크", "단가표"):
        assert label in html, label
    assert "Cost per shot" not in html
    assert rows(table)[0]["shot"] == "1-1"                        # the CSV stays machine-readable
    picture = screenshot(page, tmp_path / "cost-ko.png", width=1280, height=1800)
    SHOTS_DIR.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "cost-ko.png", SHOTS_DIR / "cost-ko.png")
    assert inked_share(picture) > 0.04


def test_report_cost_command_writes_the_files(tiny: Project, tmp_path: Path) -> None:
    project = copy_of(tiny, tmp_path / "film")
    result = CliRunner().invoke(app, ["report", "cost", str(project.root)])
    assert result.exit_code == 0, result.output
    assert "cost.html" in result.output and (project.out_dir / "reports" / "cost.csv").is_file()


def test_a_new_project_gets_the_rate_card_and_an_empty_report(tmp_path: Path) -> None:
    film = tmp_path / "film"
    runner = CliRunner()
    assert runner.invoke(app, ["new", str(film)]).exit_code == 0
    assert (film / RATECARD_FILE).read_text("utf-8") == CARD         # the producer edits their own copy
    result = runner.invoke(app, ["report", "cost", str(film)])
    assert result.exit_code == 0, result.output
    html = (film / "out" / "reports" / "cost.html").read_text("utf-8")
    assert "no takes yet" in html and "cannot be tested" in html and html.count("<svg") == 3
    assert rows(film / "out" / "reports" / "cost.csv")[-1]["takes"] == "0"


# -- a paid engine ----------------------------------------------------------------------------------------

PAID_SCRIPT = """\
Title: Paid

EXT. HANOK ROOFTOPS - NIGHT

The moon over the tiles.

EXT. SEA CLIFF - DUSK

Waves below.
"""

PAID_SHOTS = """\
[[shot]]
id = "1-1"
scene = "1"

[[shot]]
id = "1-2"
scene = "1"

[[shot]]
id = "2-1"
scene = "2"
"""

IMAGEN = r"/v1beta1/publishers/google/models/imagen-4\.0-generate-001:predict"
GOOGLE_ENV = ("GEMINI_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION", "GOOGLE_GENAI_USE_VERTEXAI",
              "GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_GENAI_API_VERSION", "GOOGLE_APPLICATION_CREDENTIALS",
              "GOOGLE_GENAI_HTTP_CLIENT")


def imagen_reply() -> Reply:
    ok, data = cv2.imencode(".png", np.full((36, 64, 3), 90, np.uint8))
    assert ok
    return Reply(200, {"predictions": [{"bytesBase64Encoded": base64.b64encode(data.tobytes()).decode(),
                                        "mimeType": "image/png"}]})


@pytest.fixture
def paid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """Four Imagen 4 takes (two sets, each made twice): 4 × 0.04 USD, through the real google-genai SDK."""
    for name in GOOGLE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", "AQ.express-test-key")
    with StandIn() as standin:
        standin.route("POST", IMAGEN, imagen_reply())
        (tmp_path / "soundstage.toml").write_text(
            'title = "Paid"\nscreenplay = "paid.fountain"\nresolution = [64, 36]\nengine = "google"\n'
            '[budget]\nlimit = 700\ncurrency = "KRW"\nusd_rate = 1400\n'
            '[reports]\nrate_date = "2026-11-30"\n'
            f'[engines.google]\nimage_model = "imagen-4.0-generate-001"\nbase_url = "{standin.url}"\n'
            "retries = 1\nbackoff = 0\n")
        (tmp_path / "paid.fountain").write_text(PAID_SCRIPT)
        (tmp_path / "shots.toml").write_text(PAID_SHOTS)
        project = Project.load(tmp_path)
        for seed in (None, 12):
            generation = Generation(project, seed_override=seed)
            outcomes = generation.generate(generation.orders(breakdown_project(project)))
            assert [o.made for o in outcomes] == [True, True], [o.error for o in outcomes]
        assert len(standin.calls("POST", IMAGEN)) == 4
    return project


def test_a_priced_engine_is_charged_at_its_price_line(paid: Project, tmp_path: Path) -> None:
    write_cost_report(paid, out=tmp_path)
    shots = {row["shot"]: row for row in rows(tmp_path / "cost.csv")}
    # set/hanok-rooftops-night (two takes, 0.08 USD) is shared by 1-1 and 1-2; 2-1 has its own set's two
    assert shots["1-1"]["ai_cost_usd"] == "0.04" and shots["1-1"]["ai_cost_krw"] == "56"
    assert shots["1-2"]["ai_cost_usd"] == "0.04" and shots["2-1"]["ai_cost_usd"] == "0.08"
    assert shots["1-1"]["units"] == "1 image" and shots["2-1"]["units"] == "2 images"
    assert shots["2-1"]["price_used"] == "0.04 USD / image (2026-10)"
    assert shots["2-1"]["type"] == "simple"                    # no plate, no elements: 1.25 h
    total = shots["total"]
    assert total["takes"] == "4" and total["ai_cost_usd"] == "0.16" and total["ai_cost_krw"] == "224"
    # 3 simple shots: 3 × 1.25 h × 40 USD × 1.35 = 202.5 USD; crew: 4 takes × 10 min at 40 USD an hour
    assert total["traditional_cost_usd_estimate"] == "202.5" and total["traditional_cost_krw_estimate"] == "283500"
    assert total["crew_cost_krw_estimate"] == "37333"

    takes = rows(tmp_path / "cost-takes.csv")
    assert [(t["slot"], t["take"], t["status"]) for t in takes] == [
        ("set/hanok-rooftops-night", "v001", "not used"), ("set/sea-cliff-dusk", "v001", "not used"),
        ("set/hanok-rooftops-night", "v002", "used"), ("set/sea-cliff-dusk", "v002", "used")]
    assert {(t["model"], t["price_model"], t["price_usd_per_unit"], t["price_date"], t["cost_usd"])
            for t in takes} == {("imagen-4.0-generate-001", "imagen-4.0-*", "0.04", "2026-10", "0.04")}
    assert {t["price_source"] for t in takes} == {"ai.google.dev/gemini-api/docs/pricing (via a copy)"}

    html = (tmp_path / "cost.html").read_text("utf-8")
    assert "224 KRW" in html and "283,500 KRW" in html and "0.04 USD / image" in html
    assert "not tested" not in html and "No AI takes" not in html     # Imagen takes: the claims are tested
    assert {row["verdict"] for row in rows(tmp_path / "cost-claims.csv")} <= {"borne out", "not borne out"}
    assert "ai.google.dev/gemini-api/docs/pricing (via a copy)" in html
    assert "Budget 700 KRW" in html                           # the budget line of the spend chart
    # (0.16 + 26.67) / 202.5 of the bid: engines measured, crew time estimated
    assert re.search(r"13\.2% of the traditional cost \(engines 0\.16 USD measured \+ crew time 26\.67 USD", html)
    picture = screenshot(tmp_path / "cost.html", tmp_path / "cost-paid.png", width=1280, height=1800)
    SHOTS_DIR.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "cost-paid.png", SHOTS_DIR / "cost-paid.png")
    assert inked_share(picture) > 0.04


# -- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("edit", "said"), [
    (("hours = 5 ", "hours = -5 "), r"ratecard.toml:35: type.medium.hours: Input should be greater than or equal to 0"),
    (('# "3-2" = "complex"', '"3-2" = "hero"'), r"ratecard.toml:\d+: shots.3-2: unknown shot type 'hero'"),
    (("day_rate = 320", ""), r"ratecard.toml: day_rate: is missing"),
    (("day_rate = 320", 'day_rate = "320"'), r"ratecard.toml:23: day_rate: must be a number, not '320'"),
    (("supervision = 20 ", "supervision = 120 "), r"ratecard.toml:25: supervision: .*less than or equal to 100"),
    (("day_rate = 320", "day_rate = = 320"), r"ratecard.toml: not valid TOML: Invalid value \(at line 23"),
    (("[type.medium]", "[type.mediu]"), r"ratecard.toml: type.medium: is missing"),
])
def test_a_bad_rate_card_is_refused_naming_the_file_and_key(tmp_path: Path, edit: tuple[str, str], said: str) -> None:
    assert edit[0] in CARD
    (tmp_path / RATECARD_FILE).write_text(CARD.replace(*edit))
    with pytest.raises(ProjectError, match=said):
        load_ratecard(tmp_path)


def test_the_command_refuses_a_bad_rate_card_in_one_line(tiny: Project, tmp_path: Path) -> None:
    project = copy_of(tiny, tmp_path / "film")
    (project.root / RATECARD_FILE).write_text(CARD.replace("contingency = 15", "contingency = 150"))
    result = CliRunner().invoke(app, ["report", "cost", str(project.root)])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: ") and "ratecard.toml:26: contingency:" in line
    assert not (project.out_dir / "reports" / "cost.html").exists()


@pytest.mark.parametrize(("table", "said"), [
    ('usd = "0.04"', r"prices.toml:6: \[\[price\]\] #1 usd: Input should be a valid number"),
    ("usd = -0.04", r"prices.toml:6: \[\[price\]\] #1 usd: Input should be greater than or equal to 0"),
    ("usd = inf", r"prices.toml:6: \[\[price\]\] #1 usd: Input should be a finite number"),
])
def test_a_bad_price_table_is_refused_naming_the_file_and_key(tiny: Project, tmp_path: Path, table: str,
                                                              said: str) -> None:
    project = copy_of(tiny, tmp_path / "film")
    (project.root / "prices.toml").write_text(
        f'[[price]]\nengine = "procedural"\nmodel = "*"\nunit = "cpu_second"\n# a studio rate\n{table}\n')
    with pytest.raises(ProjectError, match=said):
        write_cost_report(project)


def test_a_misspelt_price_table_is_refused_not_ignored(tmp_path: Path) -> None:
    from soundstage.takes import PriceTable

    (tmp_path / "prices.toml").write_text('[[prices]]\nengine = "google"\n')
    with pytest.raises(ProjectError, match=r"prices.toml:1: prices: is not a known key"):
        PriceTable.load(tmp_path)
    (tmp_path / "prices.toml").write_text("price = 0.04\n")
    with pytest.raises(ProjectError, match=r"prices.toml:1: price: must be a list of \[\[price\]\] tables"):
        PriceTable.load(tmp_path)


def test_claims_without_ai_takes_are_not_tested(tiny: Project, tmp_path: Path) -> None:
    """A cut of procedural placeholders proves nothing about AI: no claim is borne out or not, and it says why."""
    [page, _, _, claims] = write_cost_report(tiny, out=tmp_path / "en")
    html = page.read_text("utf-8")
    assert "borne out" not in html
    assert html.count("not tested: no AI takes in this cut") == 3
    assert "No AI takes in this cut" in html and "Estimates:" in html       # the summary says which are estimates
    table = rows(claims)
    assert [row["claim"] for row in table] == ["10 times faster than CGI", "half the cost", "production time -50%"]
    assert {row["verdict"] for row in table} == {"not tested: no AI takes in this cut"}
    assert all(row["figure_estimate"] for row in table)

    korean = copy_of(tiny, tmp_path / "ko")
    korean.settings_path.write_text(korean.settings_path.read_text().replace("[reports]\n",
                                                                              '[reports]\nlanguage = "ko"\n'))
    [page, *_] = write_cost_report(Project.load(korean.root), out=tmp_path / "ko-out")
    html = page.read_text("utf-8")
    assert html.count("검증 안 됨: 이 편집본에 AI 테이크 없음") == 3 and "뒷받침" not in html
    assert "not tested" not in html and "Estimates:" not in html
