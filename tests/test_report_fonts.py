"""Korean names on English reports: the browser sets them in a font that has Hangul, never as boxes.

A screenplay written in Korean gives Korean set names whatever language the report's own labels are in. The
page is opened in Debian's Chromium and asked (DevTools' CSS.getPlatformFontsForNode) which font really drew
each piece of Korean text.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from browser import CHROMIUM, FLAGS, require_chromium
from soundstage.reports.breakdown import write_breakdown_report
from tiny_film import make_tiny

HANGUL_FAMILIES = ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR")


def hangul_families() -> set[str]:
    """Every installed font family that has Hangul, by each of its names."""
    if not shutil.which("fc-list"):
        pytest.skip("fontconfig's fc-list is not installed")
    listed = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True, check=True).stdout
    families = {name.strip() for line in listed.splitlines() for name in line.split(",") if name.strip()}
    if not families:
        pytest.skip("no Hangul font installed (apt-get install fonts-nanum)")
    return families


def fonts_drawing(page: Path, text: str) -> list[set[str]]:
    """For each element whose own text holds ``text``: the families of the fonts Chromium drew it with."""
    require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            tab = browser.new_page()
            tab.goto(page.resolve().as_uri())
            tab.evaluate("""text => { let n = 0; for (const el of document.querySelectorAll('body *')) {
                if ([...el.childNodes].some(c => c.nodeType === 3 && c.textContent.includes(text)))
                    el.setAttribute('data-probe', String(n++)); } }""", text)
            devtools = tab.context.new_cdp_session(tab)
            devtools.send("DOM.enable")
            devtools.send("CSS.enable")
            root = devtools.send("DOM.getDocument")["root"]["nodeId"]
            nodes = devtools.send("DOM.querySelectorAll", {"nodeId": root, "selector": "[data-probe]"})["nodeIds"]
            return [{font["familyName"] for font in devtools.send("CSS.getPlatformFontsForNode",
                                                                  {"nodeId": node})["fonts"]} for node in nodes]
        finally:
            browser.close()


def test_a_korean_set_name_on_an_english_report_is_drawn_in_a_hangul_font(tmp_path: Path) -> None:
    families = hangul_families()
    project = make_tiny(tmp_path / "film")          # [reports] language: "en", as `soundstage new` writes it
    script = project.root / "tiny.fountain"
    script.write_text(script.read_text().replace("HANOK ROOFTOPS", "한옥 지붕"), encoding="utf-8")
    report = next(path for path in write_breakdown_report(project) if path.name == "breakdown.html")
    assert 'lang="en"' in report.read_text(encoding="utf-8")
    drawn = fonts_drawing(report, "한옥")
    assert drawn, "the Korean set name is not on the page"
    for used in drawn:
        assert used & families, f"Korean drawn in {used}, none of which has Hangul"


def test_the_report_stylesheets_name_a_hangul_face_before_the_generic_family() -> None:
    """So a browser without fontconfig's fallback (or a PDF printer) still finds one, whatever lang says."""
    from importlib import resources

    sheets = [resources.files("soundstage.templates").joinpath("reports/base.html").read_text("utf-8"),
              resources.files("soundstage.review").joinpath("static/review.css").read_text("utf-8")]
    for sheet in sheets:
        for family in HANGUL_FAMILIES:
            assert f'"{family}"' in sheet
