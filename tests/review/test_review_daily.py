"""The daily review in the app: notes on a frame with a drawing, a shot's status changed by who may, every
approval and status kept as history, and one project's drawings never shown by another's app."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import HTML, Member, books, rendered_film, sign_in, take_ids
from soundstage.project import Project
from soundstage.review import make_app

RAIN = "shot/2-1/element/rain"
CIRCLE = [{"tool": "circle", "colour": "#ff3b30", "points": [[0.25, 0.5], [0.4, 0.7]]},
          {"tool": "text", "colour": "#ffffff", "points": [[0.1, 0.1]], "text": "brighter here"}]


def test_a_note_on_a_frame_keeps_its_drawing(crew: dict[str, Member], film: Project) -> None:
    anna = crew["anna"]
    answer = anna.post("/shots/1-1/notes", data={"body": "the hand, brighter", "frame": "5",
                                                 "drawing": json.dumps(CIRCLE), "csrf": anna.csrf})
    assert answer.status_code == 200 and answer.json()["frame"] == 5, answer.text
    [note] = [n for n in anna.get("/api/shots/1-1").json()["notes"] if n["body"] == "the hand, brighter"]
    # 12 fps is no SMPTE rate: the timecode counts 12 labels a second from 01:00:00:00
    assert (note["frame"], note["timecode"], note["by"]) == (5, "01:00:00:05", "anna")
    assert note["drawing"] == CIRCLE
    clock = anna.get("/api/shots/2-1").json()["clock"]
    assert clock == {"first_frame": 0, "frames": 6, "fps": 12.0, "start": "01:00:01:00", "drop_frame": False}


@pytest.mark.parametrize(("fields", "message"), [
    ({"frame": "12"}, "frame 12 is not in shot 1-1: its frames are 0 to 11"),
    ({"drawing": json.dumps(CIRCLE)}, "a drawing is on a frame"),
    ({"frame": "1", "drawing": "[{"}, "the drawing is not JSON"),
    ({"frame": "1", "drawing": '[{"tool": "laser", "colour": "#fff000", "points": [[0, 0]]}]'}, "its tool must be"),
    ({"frame": "1", "drawing": '[{"tool": "pen", "colour": "red", "points": [[0, 0]]}]'}, "#rrggbb"),
    ({"frame": "1", "drawing": '[{"tool": "pen", "colour": "#ff0000", "points": [[0, 7]]}]'}, "from 0 to 1"),
    ({"frame": "1", "drawing": "[]"}, "1 to 200 strokes"),
])
def test_a_bad_frame_or_drawing_is_refused_in_one_line(crew: dict[str, Member], film: Project,
                                                       fields: dict[str, str], message: str) -> None:
    before = books(film)
    anna = crew["anna"]
    answer = anna.post("/shots/1-1/notes", data={"body": "x", "csrf": anna.csrf} | fields)
    assert answer.status_code == 400 and message in answer.json()["detail"], answer.text
    assert books(film) == before


def test_a_status_is_changed_by_who_may_and_kept_with_who_and_when(crew: dict[str, Member], film: Project) -> None:
    anna, art, pat = crew["anna"], crew["art"], crew["pat"]
    assert art.post("/shots/2-1/status", data={"status": "wip", "csrf": art.csrf}).json() == {
        "done": "status", "status": "wip"}
    assert art.post("/shots/2-1/status", data={"status": "approved", "csrf": art.csrf}).status_code == 403
    assert anna.post("/shots/2-1/status", data={"status": "done", "csrf": anna.csrf}).status_code == 400
    page = pat.post("/shots/2-1/status", data={"status": "review", "csrf": pat.csrf}, headers=HTML)
    assert page.status_code == 200 and "Status changed." in page.text and "pending review" in page.text
    shot = anna.get("/api/shots/2-1").json()
    assert shot["review"] == "review"
    assert [(e["kind"], e["status"], e["by"]) for e in shot["history"] if e["kind"] == "status"] == [
        ("status", "wip", "art"), ("status", "review", "pat")]
    film_page = anna.get("/", headers=HTML).text
    assert "pending review" in film_page


def test_an_approval_from_the_app_is_kept_with_the_member(crew: dict[str, Member], film: Project) -> None:
    anna, pat = crew["anna"], crew["pat"]
    take = take_ids(film, RAIN)["v001"]
    assert anna.post(f"/takes/{take}/approve", data={"csrf": anna.csrf}).status_code == 200
    assert pat.post(f"/takes/{take}/approve", data={"csrf": pat.csrf}).status_code == 200
    history = [e for e in anna.get("/api/shots/2-1").json()["history"] if e["subject"] == RAIN]
    assert [(e["kind"], e["version"], e["by"]) for e in history] == [("approved", 1, "anna"), ("approved", 1, "pat")]


@pytest.fixture(scope="module")
def other_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """A second project with the same shots and the same crew names, served by its own app."""
    review = make_app(rendered_film(tmp_path_factory.mktemp("other") / "film"))
    yield review
    review.state.board.close()


def test_no_access_to_another_projects_drawings(crew: dict[str, Member], film: Project, app: FastAPI,
                                                other_app: FastAPI) -> None:
    anna = crew["anna"]
    assert anna.post("/shots/1-1/notes", data={"body": "secret circle", "frame": "3", "csrf": anna.csrf,
                                               "drawing": json.dumps(CIRCLE)}).status_code == 200
    borrowed = Member(other_app)                   # this project's session cookie, at the other project's app
    borrowed.cookies.set("soundstage_session", anna.cookies.get("soundstage_session") or "")
    assert borrowed.get("/api/shots/1-1").status_code == 401
    there = sign_in(other_app, "anna")             # signed in there, the same name sees only that project's notes
    notes = there.get("/api/shots/1-1").json()["notes"]
    assert all(n["body"] != "secret circle" and n["drawing"] is None for n in notes)
    assert "secret circle" not in there.get("/shots/1-1", headers=HTML).text


def test_the_shot_page_shows_frames_and_timecode(crew: dict[str, Member], film: Project) -> None:
    page = crew["vic"].get("/shots/1-1", headers=HTML).text
    assert 'data-fps="12.0"' in page and 'data-start="01:00:00:00"' in page and 'data-first-frame="0"' in page
    assert "the hand, brighter" in page and "01:00:00:05" in page
    assert 'name="status"' not in page                 # a viewer sees the status, without the form


def test_each_member_reads_the_app_in_their_language(crew: dict[str, Member], film: Project) -> None:
    pat, anna = crew["pat"], crew["anna"]
    assert pat.post("/me/language", data={"language": "ko"}).status_code == 403        # no CSRF token
    assert pat.post("/me/language", data={"language": "fr", "csrf": pat.csrf}).status_code == 400
    assert pat.post("/me/language", data={"language": "ko", "csrf": pat.csrf}).json()["language"] == "ko"
    korean = pat.get("/shots/2-1", headers=HTML).text
    assert '<html lang="ko">' in korean and "노트 추가" in korean and "검토 대기" in korean   # its status: review
    assert "Add note" not in korean and "pending review" not in korean
    assert "12월" in korean or "월 " in korean                                  # the render's date, Korean style
    english = anna.get("/shots/2-1", headers=HTML).text                   # anna still reads English
    assert '<html lang="en">' in english and "Add note" in english and "pending review" in english
    assert pat.post("/me/language", data={"language": "en", "csrf": pat.csrf}).status_code == 200


def test_every_page_reads_korean_to_a_korean_reader(crew: dict[str, Member], film: Project, app: FastAPI) -> None:
    pat = crew["pat"]
    assert pat.post("/me/language", data={"language": "ko", "csrf": pat.csrf}).status_code == 200
    shot = pat.get("/shots/2-1", headers=HTML).text
    for said in ("<dt>엔진</dt>", "<dt>시드</dt>", "<dt>비용</dt><dd>$0.00</dd>", "절차적 생성", "테이크 1개.",
                 "미승인: 렌더는", "<th>레이어</th>", "슬롯 ", "카메라"):
        assert said in shot, said
    assert re.search(r"<dt>생성</dt><dd>\d+월 \d+일 \d\d:\d\d</dd>", shot)     # the take's date, Korean style
    assert 'lang="ko" title="한국어">한국어</button>' in shot and 'lang="en" title="영어">English</button>' in shot
    rain = take_ids(film, RAIN)["v001"]
    pages = {"/": "씬 2개", "/reports": "렌더 실행", "/provenance": "보기", "/cut": "편집본",
             f"/compare?a={rain}&b={rain}&mode=wipe": "와이프 위치"}
    for path, said in pages.items():
        page = pat.get(path, headers=HTML)
        assert page.status_code == 200 and said in page.text, path
    with TestClient(app) as stranger:        # before signing in, the browser's language
        assert "비밀번호" in stranger.get("/login", headers=HTML | {"accept-language": "ko-KR,ko;q=0.9"}).text
        assert "Password" in stranger.get("/login", headers=HTML | {"accept-language": "en-GB"}).text
    assert pat.post("/me/language", data={"language": "en", "csrf": pat.csrf}).status_code == 200


def test_money_reads_as_the_reader_counts_it() -> None:
    from soundstage.records.settings import Budget
    from soundstage.review.app import _money

    won = _money(Budget(currency="KRW", usd_rate=1400.0, limit=500_000))
    dollars = _money(Budget(currency="USD", limit=50))
    assert won({"language": "ko"}, 0.5) == "700원" and won({"language": "en"}, 0.5) == "₩700"
    assert won({"language": "ko"}, 1_234_567, converted=True) == "1,234,567원"
    assert dollars({"language": "ko"}, 0.04) == "$0.04" and dollars({"language": "en"}, 1234.5) == "$1,234.50"


def test_an_element_take_has_a_telling_thumbnail_and_a_strip(crew: dict[str, Member], film: Project,
                                                             app: FastAPI) -> None:
    take = take_ids(film, RAIN)["v001"]
    for path in (f"/thumbs/takes/{take}.jpg", f"/thumbs/takes/{take}/strip.jpg"):
        answer = crew["vic"].get(path)
        assert answer.status_code == 200 and answer.content[:2] == b"\xff\xd8", path     # a JPEG
        assert Member(app).get(path).status_code == 401                                 # signed out
    page = crew["vic"].get("/shots/2-1", headers=HTML).text
    assert f'data-strip="/thumbs/takes/{take}/strip.jpg"' in page


def test_the_cut_lists_each_shot_at_its_record_timecode(crew: dict[str, Member], film: Project) -> None:
    page = crew["vic"].get("/cut", headers=HTML).text
    assert '<span class="dim tc">01:00:00:00</span>' in page and '<span class="dim tc">01:00:01:00</span>' in page
