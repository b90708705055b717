"""The review app's pages and actions, through its HTTP interface, on a real rendered film."""

from __future__ import annotations

import json
import re
import time

from fastapi import FastAPI

from conftest import HTML, Member, books, take_ids
from soundstage.db import Approval, now, open_database
from soundstage.project import Project
from soundstage.provenance import init_keys, keys_dir, load_identity, sign_file
from soundstage.provenance.keys import KEY_FILE
from soundstage.takes import TakeStore


def test_the_film_page_shows_every_scene_and_shot_with_its_status(crew: dict[str, Member]) -> None:
    page = crew["vic"].get("/", headers=HTML)
    assert page.status_code == 200
    assert "HANOK ROOFTOPS" in page.text and "SEA CLIFF" in page.text
    assert page.text.count('class="shot-card card"') == 2
    assert 'src="/thumbs/shots/1-1.jpg"' in page.text
    assert "0 of 2 approved" in page.text                 # nothing approved yet: each shot has two slots
    thumb = crew["vic"].get("/thumbs/shots/1-1.jpg")
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"   # a JPEG
    film = crew["vic"].get("/api/film").json()
    assert [[s["id"] for s in scene["shots"]] for scene in film["scenes"]] == [["1-1"], ["2-1"]]


def test_the_shot_page_shows_plate_comp_takes_and_their_facts(crew: dict[str, Member], film: Project) -> None:
    page = crew["vic"].get("/shots/2-1", headers=HTML).text
    assert 'src="/files/out/shots/2-1.mp4"' in page
    assert "Fully generated: no live-action plate." in page
    for fact in ("procedural · soundstage-procedural", "$0.00", "seed", "rain"):
        assert fact in page
    assert "Approve" not in page and "Generate" not in page        # a viewer only reads
    shot = crew["vic"].get("/shots/1-1", headers=HTML).text
    assert 'src="/files/plates/actor.mp4"' in shot
    movie = crew["vic"].get("/files/plates/actor.mp4")
    assert movie.status_code == 200 and movie.headers["content-type"] == "video/mp4"
    assert crew["vic"].get("/shots/9-9", headers=HTML).status_code == 404


def test_the_cut_plays_with_range_requests(crew: dict[str, Member], film: Project) -> None:
    page = crew["vic"].get("/cut", headers=HTML).text
    assert 'src="/files/out/cut.mp4"' in page and 'data-at="0.0000"' in page
    size = (film.out_dir / "cut.mp4").stat().st_size
    part = crew["vic"].get("/files/out/cut.mp4", headers={"range": "bytes=100-299"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-299/{size}"
    assert part.content == (film.out_dir / "cut.mp4").read_bytes()[100:300]


def test_approving_records_who_and_when_and_the_next_render_uses_it(crew: dict[str, Member], film: Project,
                                                                    app: FastAPI) -> None:
    slot = "shot/2-1/element/rain"
    made = crew["art"].post("/shots/2-1/regenerate", data={"slot": slot, "seed": "77", "csrf": crew["art"].csrf})
    assert made.status_code == 202
    _finish(crew["art"], made.json()["id"])
    ids = take_ids(film, slot)
    assert set(ids) == {"v001", "v002"}
    before = now()

    approved = crew["anna"].post(f"/takes/{ids['v001']}/approve", data={"csrf": crew["anna"].csrf, "shot": "2-1"},
                                 headers=HTML, follow_redirects=False)
    assert approved.status_code == 303 and approved.headers["location"] == "/shots/2-1?said=approved"
    with open_database(film.database)() as session:
        row = session.get(Approval, slot)
    assert row is not None and row.take_id == ids["v001"] and row.approved_by == "anna"
    assert row.approved_at >= before
    page = crew["vic"].get("/shots/2-1", headers=HTML).text
    assert re.search(r"Approved <strong>v001</strong> by anna", page)
    # The CLI's store sees the same truth, and so does the render.
    store = TakeStore(film.state_dir, prices=None, budget=film.settings.budget,  # type: ignore[arg-type]
                      database=film.database)
    assert store.chosen(slot, "")
    assert store.chosen(slot, "").id == ids["v001"]  # type: ignore[union-attr]
    rendered = crew["anna"].post("/shots/2-1/render", data={"csrf": crew["anna"].csrf})
    assert _finish(crew["anna"], rendered.json()["id"])["state"] == "done"
    record = crew["vic"].get("/api/shots/2-1").json()
    assert record["status"] in ("1 of 4 approved", "approved")       # set, rain, the rain's sound, the bed


def test_notes_are_kept_with_their_author(crew: dict[str, Member], film: Project) -> None:
    said = crew["pat"].post("/shots/1-1/notes", data={"body": "hold the wide longer", "csrf": crew["pat"].csrf},
                            headers=HTML, follow_redirects=False)
    assert said.status_code == 303
    take = take_ids(film, "set/hanok-rooftops-night")["v001"]
    on_take = crew["art"].post("/shots/1-1/notes", data={"body": "warmer roofs", "take": str(take),
                                                         "csrf": crew["art"].csrf})
    assert on_take.status_code == 200
    notes = [n for n in books(film)["notes"] if n[2] in ("hold the wide longer", "warmer roofs")]
    assert [(n[1], n[2], n[3]) for n in notes] == [("shot/1-1", "hold the wide longer", "pat"),
                                                  ("set/hanok-rooftops-night", "warmer roofs", "art")]
    page = crew["vic"].get("/shots/1-1", headers=HTML).text
    assert "hold the wide longer" in page and "warmer roofs" in page


def test_compare_two_takes_side_by_side_and_as_a_wipe(crew: dict[str, Member], film: Project) -> None:
    slot = "set/sea-cliff-dusk"
    made = crew["anna"].post("/shots/2-1/regenerate", data={"slot": slot, "seed": "12", "csrf": crew["anna"].csrf})
    _finish(crew["anna"], made.json()["id"])
    ids = take_ids(film, slot)
    side = crew["vic"].get(f"/compare?a={ids['v001']}&b={ids['v002']}&shot=2-1", headers=HTML)
    assert side.status_code == 200 and "A · v001" in side.text and "B · v002" in side.text
    wipe = crew["vic"].get(f"/compare?a={ids['v001']}&b={ids['v002']}&mode=wipe", headers=HTML)
    assert 'id="wipe-at"' in wipe.text
    assert crew["vic"].get("/compare?a=1&b=999999", headers=HTML).status_code == 404


def test_a_new_prompt_makes_a_new_design_to_approve(crew: dict[str, Member], film: Project) -> None:
    slot = "shot/2-1/element/rain"
    made = crew["art"].post("/shots/2-1/regenerate", data={"slot": slot, "prompt": "rain, heavy sheets",
                                                           "csrf": crew["art"].csrf})
    job = _finish(crew["art"], made.json()["id"])
    assert job["state"] == "done" and "approve it to use it" in job["message"]
    takes = crew["vic"].get("/api/shots/2-1").json()["slots"]
    rain = next(s for s in takes if s["slot"] == slot)["takes"]
    assert rain[-1]["prompt"] == "rain, heavy sheets" and not rain[-1]["used"]


def test_the_progress_streams_as_server_sent_events(crew: dict[str, Member]) -> None:
    made = crew["anna"].post("/shots/1-1/regenerate", data={"slot": "set/hanok-rooftops-night", "seed": "41",
                                                            "csrf": crew["anna"].csrf})
    events, streamed = [], []
    with crew["anna"].stream("GET", f"/jobs/{made.json()['id']}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
            elif line.startswith("data: ") and events[-1] == "progress":
                streamed.append(json.loads(line.removeprefix("data: ")))
    assert events[0] == "progress" and events[-1] == "end"
    states = [e["state"] for e in streamed]                      # the whole log (the API shows its last 20)
    assert states[0] == "queued" and "running" in states and states[-1] == "done"
    job = crew["anna"].get(f"/api/jobs/{made.json()['id']}").json()
    assert job["log"][-1]["state"] == "done"
    assert any(e.get("step") == "shot 1-1" for e in streamed)      # the shot was re-rendered with the new take


def test_reports_and_provenance(crew: dict[str, Member], film: Project) -> None:
    reports = film.out_dir / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "cost.html").write_text("<h1>cost</h1>")
    page = crew["vic"].get("/reports", headers=HTML).text
    assert 'href="/files/out/reports/cost.html"' in page and "render (local)" in page
    served = crew["vic"].get("/files/out/reports/cost.html")
    assert served.text == "<h1>cost</h1>" and "sandbox" in served.headers["content-security-policy"]

    identity = load_identity(film.root) if (keys_dir(film.root) / KEY_FILE).is_file() else init_keys(film.root)
    shot = film.out_dir / "signed" / "2-1.mp4"
    sign_file(film.out_dir / "shots" / "2-1.mp4", shot, identity, actions=[
        {"action": "c2pa.created", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/"
                                                         "algorithmicMedia"}])
    sign_file(film.out_dir / "cut.mp4", film.out_dir / "signed" / "cut.mp4", identity,
              actions=[{"action": "c2pa.opened", "parameters": {"ingredientIds": ["shot"]}}],
              ingredients=[(shot, "parentOf", "shot")])
    page = crew["vic"].get("/provenance?path=out/signed/cut.mp4", headers=HTML)
    assert page.status_code == 200
    assert "Trusted" in page.text and "2-1.mp4" in page.text and "algorithmicMedia" in page.text
    unsigned = crew["vic"].get("/provenance?path=plates/actor.mp4", headers=HTML).text
    assert "no C2PA manifest" in unsigned
    record = crew["vic"].get("/provenance?path=out/shots/1-1.mp4", headers=HTML).text
    assert "Shot record" in record and "plate" in record


def _finish(client: Member, job_id: int) -> dict:  # type: ignore[type-arg]
    """Follow the job's event stream to its end; its state then."""
    with client.stream("GET", f"/jobs/{job_id}/events") as stream:
        for _ in stream.iter_lines():
            pass
    return client.get(f"/api/jobs/{job_id}").json()


def test_approving_another_take_of_a_slot_records_the_new_time(crew: dict[str, Member], film: Project) -> None:
    slot = "set/hanok-rooftops-night"
    made = crew["anna"].post("/shots/1-1/regenerate", data={"slot": slot, "seed": "401", "csrf": crew["anna"].csrf})
    _finish(crew["anna"], made.json()["id"])
    ids = take_ids(film, slot)
    first, second = sorted(ids.values())[:2]
    crew["anna"].post(f"/takes/{first}/approve", data={"csrf": crew["anna"].csrf})
    with open_database(film.database)() as session:
        then = session.get(Approval, slot).approved_at  # type: ignore[union-attr]
    time.sleep(0.01)
    crew["pat"].post(f"/takes/{second}/approve", data={"csrf": crew["pat"].csrf})
    with open_database(film.database)() as session:
        row = session.get(Approval, slot)
    assert row is not None and row.take_id == second and row.approved_by == "pat"
    assert row.approved_at > then


def test_what_the_crew_writes_is_shown_as_text_never_as_markup(crew: dict[str, Member]) -> None:
    crew["art"].post("/shots/2-1/notes", data={"body": "<script>alert('x')</script> & <b>bold</b>",
                                               "csrf": crew["art"].csrf})
    page = crew["vic"].get("/shots/2-1", headers=HTML)
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
