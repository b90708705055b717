"""The shot's player in real headless Chromium, on a 23.976 fps film: step frames with the editor's keys and read
the record timecode, draw on frame 37 and find the drawing there after a reload (not on 36 or 38), change the
shot's status. Screenshots go to the test's folder and /tmp/review-shots/ for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_review_browser import Camera, expect

from conftest import PASSWORD, served_film
from soundstage.project import Project
from tiny_film import green_plate, make_tiny

FPS = 23.976


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Project]]:
    """The tiny film at 23.976 fps, shot 1-1 two seconds (48 frames), rendered and served on a real port."""

    root = tmp_path_factory.mktemp("player") / "film"
    make_tiny(root, seconds=2.0)
    settings = root / "soundstage.toml"
    settings.write_text(settings.read_text().replace("fps = 12\n", f"fps = {FPS}\n")
                        + '[labels]\npolicy = "none"\n')
    green_plate(root / "plates" / "actor.mp4", 48, fps=FPS)
    project = Project.load(root)
    with served_film(project) as url:
        yield url, project


def _signed_in(browser: Any, server: str, name: str = "anna") -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server).new_page()
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{server}/")
    return page


def _ink(page: Any) -> int:
    """Painted pixels on the player's drawing layer."""
    return page.evaluate("() => { const c = document.getElementById('ink'); const d = c.getContext('2d')"
                         ".getImageData(0, 0, c.width, c.height).data; let n = 0;"
                         "for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; }")


def _at(page: Any) -> tuple[str, str, float]:
    """The timecode and frame number shown, and the frame the comp's video is on (from its clock)."""
    return (page.inner_text("#timecode"), page.inner_text("#frame-number"),
            page.evaluate(f"() => Math.floor(document.getElementById('comp').currentTime * {24000 / 1001})"))


def test_step_frames_draw_on_frame_37_and_find_it_there_after_a_reload(
        server: tuple[str, Project], browser: Any, tmp_path: Path) -> None:
    url, _project = server
    camera = Camera(tmp_path)
    page = _signed_in(browser, url)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/shots/1-1")
    page.wait_for_function("() => document.getElementById('comp').readyState >= 1")
    assert _at(page) == ("01:00:00:00", "0", 0)
    page.click("body")
    for _ in range(40):
        page.keyboard.press("ArrowRight")
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    page.keyboard.press("k")
    assert _at(page) == ("01:00:01:13", "37", 37)       # 37 frames at 24 labels a second
    assert page.input_value("#note-frame") == "37"

    box = page.locator("#ink").bounding_box()
    page.click('input[name="tool"][value="circle"]')
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7, steps=5)
    page.mouse.up()
    assert _ink(page) > 100
    page.fill("textarea[name=body]", "the hand: brighter here")
    camera.snap(page, "player-drawn-37")
    page.click("#note-form button")
    page.wait_for_url(f"{url}/shots/1-1?said=noted")

    page.reload()
    page.wait_for_function("() => document.getElementById('comp').readyState >= 1")
    assert _ink(page) == 0                            # frame 0: nothing drawn there
    page.click("body")
    for _ in range(36):
        page.keyboard.press("ArrowRight")
    assert _at(page)[:2] == ("01:00:01:12", "36") and _ink(page) == 0
    page.keyboard.press("ArrowRight")
    assert _at(page)[:2] == ("01:00:01:13", "37") and _ink(page) > 100
    expect(page.locator(".note.here")).to_contain_text("the hand: brighter here")
    camera.snap(page, "player-reloaded-37")
    page.keyboard.press("ArrowRight")
    assert _at(page)[:2] == ("01:00:01:14", "38") and _ink(page) == 0
    page.click(".note[data-frame='37'] .at-frame")     # the note's own link goes back to its frame
    assert _at(page)[:2] == ("01:00:01:13", "37") and _ink(page) > 100
    assert errors == []


def test_a_status_is_changed_in_the_browser(server: tuple[str, Project], browser: Any, tmp_path: Path) -> None:
    url, _project = server
    camera = Camera(tmp_path)
    page = _signed_in(browser, url)
    page.goto("/shots/2-1")
    page.select_option(".status-form select", "retake")
    page.click(".status-form button")
    page.wait_for_url(f"{url}/shots/2-1?said=status")
    expect(page.locator(".head .review-status")).to_have_text("retake")
    camera.snap(page, "status-retake")
    page.goto("/")
    expect(page.locator('.shot-card[data-shot="2-1"] .review-status')).to_have_text("retake")
    viewer = _signed_in(browser, url, "vic")
    viewer.goto("/shots/2-1")
    expect(viewer.locator(".status-form")).to_have_count(0)


def test_the_interface_switches_to_korean(server: tuple[str, Project], browser: Any, tmp_path: Path) -> None:
    url, _project = server
    camera = Camera(tmp_path)
    page = _signed_in(browser, url, "pat")
    page.goto("/shots/1-1")
    page.click('.language button[value="ko"]')
    page.wait_for_url(f"{url}/shots/1-1")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.locator("nav a").first).to_have_text("영화")
    expect(page.locator("#notes h2")).to_have_text("노트")
    expect(page.locator(".note-form button")).to_have_text("노트 추가")
    expect(page.locator(".facts dt").first).to_have_text("엔진")            # the take facts too
    camera.snap(page, "korean")
    page.goto("/")
    expect(page.locator("nav a").first).to_have_text("영화")          # kept for the member, on every page
    expect(page.locator(".head .dim").first).to_contain_text("씬 2개")
    camera.snap(page, "korean-film")
    page.click('.language button[value="en"]')
    expect(page.locator("nav a").first).to_have_text("Film")


def test_the_players_timecode_counts_drop_frame_as_the_cut_does(server: tuple[str, Project], browser: Any) -> None:
    page = _signed_in(browser, server[0])
    page.goto("/shots/1-1")
    labels = page.evaluate("() => { const ntsc = 30000 / 1001; const at = timecodeClock('00:00:59;28', ntsc);"
                           "const hour = timecodeClock('01:00:00;00', ntsc);"
                           "return [at(0), at(1), at(2), hour(1800), hour(17982), hour(17981),"
                           "timecodeClock('00:59:59:23', 24000 / 1001)(1)]; }")
    assert labels == ["00:00:59;28", "00:00:59;29", "00:01:00;02", "01:01:00;02", "01:10:00;00", "01:09:59;29",
                      "01:00:00:00"]


def test_a_playlist_plays_through_in_order(server: tuple[str, Project], browser: Any, tmp_path: Path) -> None:
    url, _project = server
    camera = Camera(tmp_path)
    page = _signed_in(browser, url)
    page.goto("/playlists")
    page.fill("input[name=name]", "Dailies 8 Dec")
    page.click("text=New playlist")
    for shot in ("2-1", "1-1"):
        page.select_option(".add-shot select", shot)
        page.click(".add-shot button")
        page.wait_for_load_state()
    expect(page.locator("#playlist-items li")).to_have_count(2)
    page.fill('#playlist-items li[data-index="0"] input[name=note]', "rain thinner")
    page.click('#playlist-items li[data-index="0"] button')
    page.wait_for_load_state()
    expect(page.locator('#playlist-items li[data-index="0"] input[name=note]')).to_have_value("rain thinner")
    page.evaluate("() => { const v = document.getElementById('dailies'); v.playbackRate = 4; v.play(); }")
    expect(page.locator("#dailies")).to_have_attribute("data-playing", "1", timeout=20_000)   # on to the second
    expect(page.locator('#playlist-items li[data-index="1"]')).to_have_class("card playing")
    assert page.evaluate("() => document.getElementById('dailies').src").endswith("/files/out/shots/1-1.mp4")
    camera.snap(page, "playlist-playing")
