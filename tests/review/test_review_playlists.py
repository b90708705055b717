"""Playlists for dailies: shot versions in order, a note on each, by who may, exported as OTIO for the editor."""

from __future__ import annotations

import opentimelineio as otio

from conftest import HTML, Member, books
from soundstage.project import Project


def test_a_playlist_gathers_shots_in_order_with_notes_and_exports_otio(crew: dict[str, Member],
                                                                       film: Project) -> None:
    anna = crew["anna"]
    made = anna.post("/playlists", data={"name": "Dailies 8 Dec", "csrf": anna.csrf}).json()["playlist"]
    first = anna.post(f"/playlists/{made}/items", data={"shot": "2-1", "csrf": anna.csrf}).json()
    second = anna.post(f"/playlists/{made}/items", data={"shot": "1-1", "note": "hold longer",
                                                          "csrf": anna.csrf}).json()
    assert (first["position"], second["position"]) == (1, 2)
    noted = anna.post(f"/playlists/{made}/items/{first['item']}/note", data={"note": "rain: thinner",
                                                                             "csrf": anna.csrf})
    assert noted.status_code == 200
    page = crew["vic"].get(f"/playlists/{made}", headers=HTML).text
    assert 'data-items="out/shots/2-1.mp4|out/shots/1-1.mp4"' in page and "rain: thinner" in page

    exported = crew["vic"].get(f"/playlists/{made}.otio")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    timeline = otio.adapters.read_from_string(exported.text, adapter_name="otio_json")
    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == ["2-1", "1-1"]
    assert [[m.name for m in c.markers] for c in clips] == [["rain: thinner"], ["hold longer"]]
    assert clips[0].media_reference.target_url == (film.out_dir / "shots" / "2-1.mp4").as_uri()
    assert clips[0].metadata["soundstage"]["added_by"] == "anna"


def test_playlists_are_for_who_may_note_and_need_the_csrf_token(crew: dict[str, Member], film: Project) -> None:
    anna, vic = crew["anna"], crew["vic"]
    made = anna.post("/playlists", data={"name": "locked", "csrf": anna.csrf}).json()["playlist"]
    before = books(film)
    assert vic.post("/playlists", data={"name": "mine", "csrf": vic.csrf}).status_code == 403
    assert vic.post(f"/playlists/{made}/items", data={"shot": "1-1", "csrf": vic.csrf}).status_code == 403
    assert anna.post(f"/playlists/{made}/items", data={"shot": "1-1"}).status_code == 403          # no token
    assert anna.post(f"/playlists/{made}/items", data={"shot": "9-9", "csrf": anna.csrf}).status_code == 404
    assert anna.post(f"/playlists/{made}/items/999/note", data={"note": "x", "csrf": anna.csrf}).status_code == 404
    assert anna.get("/playlists/4242").status_code == 404
    assert Member(anna.app).get(f"/playlists/{made}.otio").status_code == 401
    assert books(film) == before
