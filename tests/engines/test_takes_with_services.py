"""Takes from a paid engine, end to end: continuity by reference, a refused prompt, and the budget cap.

The OpenAI engine runs through its real SDK against the stand-in; the take store, price table and budget are
the ones a user's project uses.
"""

from __future__ import annotations

import base64
from pathlib import Path

import cv2
import numpy as np
import pytest
from standin import Reply, Request, StandIn

from soundstage.pipeline import Generation, breakdown_project
from soundstage.project import Project

SCRIPT = """\
Title: Paid

EXT. HANOK ROOFTOPS - NIGHT

The moon over the tiles.

EXT. HANOK ROOFTOPS - DAY

Sun on the same tiles.

EXT. SEA CLIFF - DUSK

A forbidden cliff.
"""

SHOTS = "".join(f'[[shot]]\nid = "{n}-1"\nscene = "{n}"\nelements = []\n\n' for n in (1, 2, 3))

PRICES = """\
[[price]]
engine = "openai"
model = "gpt-image-test"
unit = "image"
usd = 0.05
date = "2026-11-25"
source = "the studio's negotiated rate"
"""


def picture(shade: int) -> str:
    ok, data = cv2.imencode(".png", np.full((1024, 1536, 3), shade, np.uint8))
    assert ok
    return base64.b64encode(data.tobytes()).decode()


def answer(request: Request) -> Reply:
    if "cliff" in request.json()["prompt"]:
        return Reply(400, {"error": {"message": "Your request was rejected by the safety system.",
                                     "type": "image_generation_user_error", "code": "content_policy_violation"}})
    return Reply(200, {"created": 1, "data": [{"b64_json": picture(60)}]})


@pytest.fixture
def paid(tmp_path: Path, standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    (tmp_path / "soundstage.toml").write_text(
        'title = "Paid"\nscreenplay = "paid.fountain"\nresolution = [64, 36]\nengine = "openai"\n'
        "[budget]\nlimit = 0.15\n"
        f'[engines.openai]\nmodel = "gpt-image-test"\nbase_url = "{standin.url}/v1"\nretries = 2\nbackoff = 0\n')
    (tmp_path / "paid.fountain").write_text(SCRIPT)
    (tmp_path / "shots.toml").write_text(SHOTS)
    (tmp_path / "prices.toml").write_text(PRICES)
    standin.route("POST", "/v1/images/generations", answer)
    standin.route("POST", "/v1/images/edits", Reply(200, {"created": 1, "data": [{"b64_json": picture(200)}]}))
    return Project.load(tmp_path)


def test_paid_takes_keep_continuity_refuse_alone_and_stay_in_budget(paid: Project, standin: StandIn) -> None:
    generation = Generation(paid)
    orders = generation.orders(breakdown_project(paid))
    planned = generation.plan(orders)
    assert [(p.order.slot, p.estimate.price.usd) for p in planned if p.estimate] == [
        ("set/hanok-rooftops-night", 0.05), ("set/hanok-rooftops-day", 0.05), ("set/sea-cliff-dusk", 0.05)]
    assert planned[0].estimate and planned[0].estimate.price.line.source == "the studio's negotiated rate"

    outcomes = generation.generate(orders)
    night, day, cliff = outcomes
    assert night.made and day.made and not cliff.made
    assert "shot 3-1" in cliff.error and "safety system" in cliff.error          # refused, one line
    assert len(standin.calls("POST", "/v1/images/generations")) == 2              # the refusal was not retried

    # continuity: the day set was made from the night set, sent as the reference image
    edits = standin.calls("POST", "/v1/images/edits")
    assert len(edits) == 1
    sent = edits[0].form()["image[]"][0][1]
    assert night.take is not None and sent == generation.store.files(night.take)[0].read_bytes()
    assert day.take is not None and day.take.record.request["references"][0]["path"].startswith(".soundstage/")

    assert generation.store.spent_usd() == pytest.approx(0.10)                     # the refusal cost nothing
    # 0.05 USD left: new takes with another seed get one more image, then are refused before anything is sent
    calls = len(standin.requests)
    retry = Generation(paid, seed_override=99)
    again = retry.generate(retry.orders(breakdown_project(paid), ["1-1", "2-1"]))
    assert again[0].made and again[0].take and again[0].take.label == "v002"
    assert "would cost 0.05 USD" in again[1].error and "only 0.00 USD of the 0.15 USD budget is left" in again[1].error
    assert len(standin.requests) == calls + 1 and retry.store.spent_usd() == pytest.approx(0.15)
    calls += 1

    # everything already made is served from the store, at no cost and with no call
    served = Generation(paid).generate(orders[:2])
    assert [o.made for o in served] == [False, False] and len(standin.requests) == calls
