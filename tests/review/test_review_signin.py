"""Sign-in throttling: guessing is slowed per client address and per name with waits that double up to a cap,
counted in the database; nobody can lock a crew member out from where they sign in. The clock is the test's,
so no test sleeps."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import HTML, PASSWORD
from soundstage.db import now, open_database
from soundstage.project import Project
from soundstage.review import make_app
from soundstage.review.auth import Crew, Throttle, Throttled

HOME, ATTACKER, ELSEWHERE = "10.0.0.1", "10.6.6.6", "10.0.0.9"


class Clock:
    def __init__(self) -> None:
        self.at = now()

    def __call__(self) -> datetime:
        return self.at

    def after(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def crew(tmp_path: Path, clock: Clock) -> Crew:
    made = Crew(open_database(tmp_path / "soundstage.db"), throttle=Throttle(cap=8, clock=clock))
    made.add("anna", "director", PASSWORD)
    made.add("pat", "producer", PASSWORD)
    return made


def _tries(crew: Crew, clock: Clock, name: str, address: str, count: int) -> list[float]:
    """Wrong passwords, each sent as soon as it is allowed; the waits the throttle asked for, in order."""
    waits = []
    for guess in range(count):
        try:
            assert crew.sign_in(name, f"guess {guess}", address=address) is None
            waits.append(0.0)
        except Throttled as exc:
            waits.append(exc.seconds)
            clock.after(exc.seconds)
            assert crew.sign_in(name, f"guess {guess}", address=address) is None
    return waits


def test_guesses_wait_longer_and_longer_up_to_a_cap(crew: Crew, clock: Clock) -> None:
    assert _tries(crew, clock, "anna", ATTACKER, 8) == [0, 0, 0, 1, 2, 4, 8, 8]
    with pytest.raises(Throttled) as refused:           # even the right password waits its turn here
        crew.sign_in("anna", PASSWORD, address=ATTACKER)
    assert refused.value.seconds == 8 and "try again in 8 s" in refused.value.message
    assert [Throttle().wait(n) for n in (2, 3, 4, 11, 12, 40)] == [0, 1, 2, 256, 300, 300]   # the defaults


def test_guessing_from_elsewhere_never_locks_out_the_member_where_they_sign_in(crew: Crew, clock: Clock) -> None:
    assert crew.sign_in("anna", PASSWORD, address=HOME)        # the director's own address
    _tries(crew, clock, "anna", ATTACKER, 6)
    with pytest.raises(Throttled):                              # the attacker waits
        crew.sign_in("anna", PASSWORD, address=ATTACKER)
    with pytest.raises(Throttled):        # at an address she never used, her name under attack is slowed too
        crew.sign_in("anna", PASSWORD, address=ELSEWHERE)
    assert crew.sign_in("anna", PASSWORD, address=HOME)        # where she signs in, she gets in at once


def test_spraying_many_names_from_one_address_is_slowed(crew: Crew, clock: Clock) -> None:
    for n in range(3):
        assert crew.sign_in(f"user{n}", "Winter2026!", address=ATTACKER) is None
    with pytest.raises(Throttled) as refused:
        crew.sign_in("pat", "Winter2026!", address=ATTACKER)
    assert refused.value.seconds == 1
    assert crew.sign_in("pat", PASSWORD, address=HOME)          # nobody else is slowed


def test_the_counts_are_in_the_database_and_outlive_a_restart(crew: Crew, clock: Clock, tmp_path: Path) -> None:
    _tries(crew, clock, "anna", ATTACKER, 6)
    restarted = Crew(open_database(tmp_path / "soundstage.db"), throttle=crew.throttle)
    with pytest.raises(Throttled) as refused:
        restarted.sign_in("anna", PASSWORD, address=ATTACKER)
    assert refused.value.seconds == 8
    clock.after(8)
    assert restarted.sign_in("anna", PASSWORD, address=ATTACKER)


def test_a_right_password_clears_its_counts_and_a_quiet_day_forgets_the_rest(crew: Crew, clock: Clock) -> None:
    _tries(crew, clock, "anna", ATTACKER, 5)
    with pytest.raises(Throttled):                      # her name waits 4 s at an address she never used
        crew.sign_in("anna", PASSWORD, address=HOME)
    clock.after(4)
    assert crew.sign_in("anna", PASSWORD, address=HOME)
    assert crew.sign_in("anna", PASSWORD, address=ELSEWHERE)       # her name's count is cleared
    assert _tries(crew, clock, "ghost", HOME, 3) == [0, 0, 0]       # and so is her address's
    assert _tries(crew, clock, "pat", ATTACKER, 1) == [0]          # the attacker's address still counts:
    assert _tries(crew, clock, "pat", ATTACKER, 1) == [8]          # its 6th miss waited 4 s, its 7th waits 8
    clock.after(24 * 3600 + 1)
    assert _tries(crew, clock, "pat", ATTACKER, 3) == [0, 0, 0]


# ---------------------------------------------------------------------------------------------- the app

@pytest.fixture(scope="module")
def slow_app(film: Project) -> FastAPI:
    review = make_app(film, throttle=Throttle(clock=lambda: datetime(2030, 1, 1)))    # a clock that stands still
    yield review
    review.state.board.close()


def _post_login(app: FastAPI, address: str, name: str, password: str):  # type: ignore[no-untyped-def]
    client = TestClient(app, client=(address, 40000))
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login", headers=HTML).text).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"name": name, "password": password, "csrf": token}, follow_redirects=False)


def test_the_app_answers_429_with_retry_after_and_the_director_still_signs_in_at_home(slow_app: FastAPI) -> None:
    assert _post_login(slow_app, HOME, "anna", PASSWORD).status_code == 303
    answers = [_post_login(slow_app, ATTACKER, "anna", f"guess {n}") for n in range(6)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429, 429]
    assert answers[-1].headers["retry-after"] == "1" and "try again in 1 s" in answers[-1].json()["detail"]
    home = _post_login(slow_app, HOME, "anna", PASSWORD)
    assert home.status_code == 303 and "soundstage_session" in home.cookies


def test_the_api_description_is_for_the_signed_in_only(slow_app: FastAPI) -> None:
    stranger = TestClient(slow_app, client=(ELSEWHERE, 1))
    assert stranger.get("/openapi.json").status_code == 401
    member = TestClient(slow_app, client=(HOME, 1))
    member.cookies.set("soundstage_session", _post_login(slow_app, HOME, "pat", PASSWORD).cookies["soundstage_session"])
    assert "/shots/{shot_id}/plate" in member.get("/openapi.json").json()["paths"]
    for page in ("/docs", "/redoc"):      # pages that would load their scripts from a CDN: not served at all
        assert stranger.get(page).status_code == member.get(page).status_code == 404
