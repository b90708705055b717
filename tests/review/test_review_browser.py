"""The whole review loop in real headless Chromium: sign in, open a shot, compare two takes, approve one,
regenerate, watch the progress and see the new take; then the cut, the reports and the provenance.

Every page is photographed into the test's folder and copied to /tmp/review-shots/ for a person to look at.
Skipped without Debian's /usr/bin/chromium or the playwright package, unless SOUNDSTAGE_REQUIRE_CHROMIUM=1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from conftest import PASSWORD, take_ids
from soundstage.pipeline import Generation, breakdown_project
from soundstage.project import Project

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/tmp/review-shots")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:            # pragma: no cover - depends on the machine
    sync_playwright = None     # type: ignore[assignment]

if sync_playwright is None or not CHROMIUM.is_file():
    if os.environ.get("SOUNDSTAGE_REQUIRE_CHROMIUM") == "1":
        raise RuntimeError("SOUNDSTAGE_REQUIRE_CHROMIUM=1 but /usr/bin/chromium or playwright is missing")
    pytest.skip("needs /usr/bin/chromium and the playwright package", allow_module_level=True)


@pytest.fixture(scope="module")
def server(app: FastAPI, film: Project) -> Iterator[str]:
    """The app on a real port, as ``soundstage serve`` runs it; a second take of shot 2-1's slots to compare."""
    generation = Generation(film, seed_override=8)       # what `soundstage generate --shot 2-1 --seed 8` does
    outcomes = generation.generate(generation.orders(breakdown_project(film), ["2-1"]))
    assert not [o.error for o in outcomes if o.error]
    with served(app) as url:
        yield url


@contextlib.contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, in a thread of this process: its URL, until the block ends."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(10)


class Camera:
    """Screenshots of each page: into the test's folder, and copies for people in /tmp/review-shots/."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        SHOTS.mkdir(exist_ok=True)
        self.taken: list[Path] = []

    def snap(self, page: Page, name: str, *, settled: bool = True) -> None:
        if settled:         # not while a job streams its progress: the stream keeps the network busy
            page.wait_for_load_state("networkidle")
        # a lazy image below the fold never loads by itself (the shot page grew with its sound takes' cards)
        page.evaluate("() => Promise.all(Array.from(document.images).map(i => { i.loading = 'eager'; "
                      "return i.complete ? 0 : new Promise(r => { i.onload = i.onerror = r; }); }))")
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shutil.copy(path, SHOTS / path.name)
        self.taken.append(path)


def test_the_review_loop_in_a_browser(server: str, browser: Any, film: Project, tmp_path: Path) -> None:
    camera = Camera(tmp_path)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=server)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    failed: list[tuple[int, str]] = []
    page.on("response", lambda answer: failed.append((answer.status, answer.url)) if answer.status >= 400 else None)

    # Sign in: a wrong password first, then the right one.
    page.goto("/")
    expect(page).to_have_url(f"{server}/login?next=/")
    page.fill("input[name=name]", "anna")
    page.fill("input[name=password]", "not it")
    page.click("button.primary")
    expect(page.locator(".error")).to_have_text("Wrong name or password.")
    page.fill("input[name=password]", PASSWORD)
    camera.snap(page, "login")
    page.click("button.primary")
    expect(page).to_have_url(f"{server}/")

    # The film: both scenes, their shots with thumbnails and status.
    expect(page.locator(".shot-card")).to_have_count(2)
    page.wait_for_function("() => Array.from(document.querySelectorAll('.shot-card img.thumb'))"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    expect(page.locator('[data-shot="2-1"] .status')).to_have_text("needs a render")   # new takes since
    camera.snap(page, "film")

    # A shot: comp, takes with their facts.
    page.click('[data-shot="2-1"]')
    expect(page).to_have_url(f"{server}/shots/2-1")
    rain = page.locator('[data-slot="shot/2-1/element/rain"]')
    expect(rain.locator(".take")).to_have_count(2)
    expect(rain.locator('.take[data-label="v002"] .chip.used')).to_be_visible()
    expect(rain.locator(".facts").first).to_contain_text("procedural")
    camera.snap(page, "shot")

    # Compare v001 and v002 side by side, then as a wipe.
    rain.locator('.take[data-label="v001"] input[name=b]').check()
    rain.locator("button.compare", has_text="side by side").click()
    expect(page.locator(".side")).to_have_count(2)
    expect(page.locator(".side h3").first).to_contain_text("v002")
    camera.snap(page, "compare-side-by-side")
    page.click("a.button:has-text('Wipe')")
    page.locator("#wipe-at").fill("30")
    clip = page.locator("#wipe-over").evaluate("e => e.style.clipPath")
    assert clip == "inset(0px 70% 0px 0px)" or clip == "inset(0 70% 0 0)", clip
    camera.snap(page, "compare-wipe")

    # Approve v001 from the comparison: back on the shot, recorded with who.
    page.click("a.button:has-text('Side by side')")
    page.locator(".side", has_text="v001").locator("button.approve").click()
    expect(page).to_have_url(f"{server}/shots/2-1?said=approved")
    expect(rain.locator(".slot-head")).to_contain_text("Approved v001 by anna")
    expect(rain.locator('.take[data-label="v001"] .chip.ok')).to_be_visible()
    camera.snap(page, "approved")

    # Regenerate the set with another seed: the job's progress live, then the new take in the re-rendered shot.
    sea = page.locator('[data-slot="set/sea-cliff-dusk"]')
    sea.locator("details.regenerate summary").click()
    sea.locator("input[name=seed]").fill("31")
    sea.locator("details.regenerate button.primary").click()
    expect(page.locator("#job")).to_be_visible()
    job = page.locator("#job").get_attribute("data-job")
    camera.snap(page, "regenerate-progress", settled=False)
    page.wait_for_function("() => document.getElementById('job').dataset.state === 'done'")
    page.wait_for_url(f"{server}/shots/2-1?job={job}")          # reloaded to show the result
    expect(page.locator("#job-state")).to_have_text("done")
    seen = page.evaluate(f"() => JSON.parse(sessionStorage.getItem('job-{job}'))")   # every word, live, by SSE
    assert seen[:2] == ["waiting for the jobs ahead", "starting"] or seen[0] == "starting", seen
    assert any("generating set/sea-cliff-dusk" in said for said in seen), seen
    assert any("made v003" in said for said in seen) and "rendering shot 2-1" in seen, seen
    expect(sea.locator('.take[data-label="v003"] .chip.used')).to_be_visible()
    expect(sea.locator('.take[data-label="v003"] .facts')).to_contain_text("31")
    assert set(take_ids(film, "set/sea-cliff-dusk")) == {"v001", "v002", "v003"}
    camera.snap(page, "new-take")

    # The cut plays in the browser (by range requests), and the reports and provenance pages.
    page.click("nav a:has-text('Cut')")
    page.wait_for_function("() => document.getElementById('cut').readyState >= 1", timeout=15000)
    assert page.locator("#cut").evaluate("v => v.duration") > 0.5
    page.locator(".strip-shot").nth(1).click()
    camera.snap(page, "cut")
    page.click("nav a:has-text('Reports')")
    expect(page.locator("h1")).to_have_text("Reports")
    camera.snap(page, "reports")
    page.click("nav a:has-text('Provenance')")
    page.select_option("select[name=path]", "out/shots/2-1.mp4")
    page.click(".pick-file button")
    expect(page.locator(".verdict h2")).to_have_text("out/shots/2-1.mp4")
    camera.snap(page, "provenance")

    assert not errors, errors
    assert failed == [(401, f"{server}/login")], failed     # only the wrong password
    context.close()
