"""Drawings on a shot that is not 16:9, in real headless Chromium: the player's box is 16:9 and shows a 2.39:1
shot letterboxed and a 4:3 shot pillarboxed inside it. A stroke is kept across the picture (0 to 1), so it is
drawn where the director put it on the picture and comes back there after a reload, at another window size.

Issue 22: the ink layer covered the whole 16:9 box, so on a 2.39:1 shot a circle drawn on the actor's face was
stored relative to the bars as well, and landed elsewhere on any other box (the OTIO export, another window).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_review_browser import Camera

from conftest import PASSWORD, served_film
from soundstage.media import VideoWriter
from soundstage.project import Project
from tiny_film import FPS, make_tiny

# (width, height) of the film: 2.4:1 (scope, letterboxed in the 16:9 box) and 4:3 (pillarboxed)
SIZES = {"scope": (192, 80), "academy": (144, 108)}
DRAWN = ((0.3, 0.3), (0.6, 0.7))             # the circle's corners, across the picture


@pytest.fixture(scope="module", params=sorted(SIZES))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    width, height = SIZES[request.param]
    root = tmp_path_factory.mktemp(request.param) / "film"
    make_tiny(root)
    settings = root / "soundstage.toml"
    settings.write_text(settings.read_text().replace("resolution = [192, 108]", f"resolution = [{width}, {height}]")
                        + '[labels]\npolicy = "none"\n')
    with VideoWriter(root / "plates" / "actor.mp4", width=width, height=height, fps=FPS) as plate:
        for _ in range(FPS):
            frame = np.zeros((height, width, 3), np.uint8)
            frame[...] = (40, 190, 50)
            frame[height // 4: 3 * height // 4, width // 3: width // 2] = (200, 60, 50)
            plate.write(frame)
    with served_film(Project.load(root)) as url:
        yield url


def _picture(page: Any) -> dict[str, float]:
    """Where the comp's picture is on the page, worked out here from the video's box and its frame size as
    object-fit: contain places it (not from the app's ink layer)."""
    return page.evaluate("() => { const v = document.getElementById('comp'); const r = v.getBoundingClientRect();"
                         "const s = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);"
                         "const w = v.videoWidth * s, h = v.videoHeight * s;"
                         "return {x: r.left + (r.width - w) / 2, y: r.top + (r.height - h) / 2, width: w, height: h,"
                         "box_width: r.width, box_height: r.height}; }")


def _ink_on_picture(page: Any) -> tuple[float, float, float, float]:
    """The painted pixels' extent, as fractions across the picture (left, top, right, bottom)."""
    painted = page.evaluate("() => { const c = document.getElementById('ink'); const b = c.getBoundingClientRect();"
                            "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                            "let x0 = 1e9, y0 = 1e9, x1 = -1, y1 = -1;"
                            "for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++)"
                            "  if (d[4 * (y * c.width + x) + 3] > 0) {"
                            "    x0 = Math.min(x0, x); y0 = Math.min(y0, y);"
                            "    x1 = Math.max(x1, x); y1 = Math.max(y1, y); }"
                            "if (x1 < 0) return null; const sx = b.width / c.width, sy = b.height / c.height;"
                            "return [b.left + x0 * sx, b.top + y0 * sy,"
                            "        b.left + (x1 + 1) * sx, b.top + (y1 + 1) * sy]; }")
    assert painted is not None, "nothing is drawn"
    picture = _picture(page)
    left, top, right, bottom = painted
    return ((left - picture["x"]) / picture["width"], (top - picture["y"]) / picture["height"],
            (right - picture["x"]) / picture["width"], (bottom - picture["y"]) / picture["height"])


def _open_on_frame(page: Any, frame: int) -> None:
    page.goto("/shots/1-1")
    page.wait_for_function("() => document.getElementById('comp').readyState >= 1")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(frame):
        page.keyboard.press("ArrowRight")
    assert page.inner_text("#frame-number") == str(frame)


def test_a_drawing_stays_on_the_picture_of_a_shot_that_is_not_16_9(server: str, browser: Any,
                                                                   tmp_path: Path) -> None:
    camera = Camera(tmp_path)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/login")
    page.fill("input[name=name]", "anna")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{server}/")
    _open_on_frame(page, 5)
    picture = _picture(page)
    assert abs(picture["box_width"] / picture["box_height"] - 16 / 9) < 0.02      # the box is 16:9, the shot not
    assert abs(picture["width"] / picture["height"] - 16 / 9) > 0.3

    (x0, y0), (x1, y1) = DRAWN
    page.click('input[name="tool"][value="circle"]')
    page.mouse.move(picture["x"] + picture["width"] * x0, picture["y"] + picture["height"] * y0)
    page.mouse.down()
    page.mouse.move(picture["x"] + picture["width"] * x1, picture["y"] + picture["height"] * y1, steps=5)
    page.mouse.up()
    page.fill("textarea[name=body]", "her eyes")
    camera.snap(page, "ink-drawn")
    page.click("#note-form button")
    page.wait_for_url(f"{server}/shots/1-1?said=noted")

    [note] = [n for n in page.request.get("/api/shots/1-1").json()["notes"] if n["body"] == "her eyes"]
    assert note["frame"] == 5
    points = note["drawing"][0]["points"]
    assert np.allclose(points, DRAWN, atol=0.01), points       # across the picture, not the 16:9 box

    page.set_viewport_size({"width": 900, "height": 700})       # another window: another box, the same picture
    _open_on_frame(page, 5)
    left, top, right, bottom = _ink_on_picture(page)
    tolerance = 0.04                                             # the pen's width and the circle's extra pixel
    assert abs(left - x0) < tolerance and abs(top - y0) < tolerance, (left, top)
    assert abs(right - x1) < tolerance and abs(bottom - y1) < tolerance, (right, bottom)
    camera.snap(page, "ink-reloaded")
    assert errors == []
