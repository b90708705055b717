"""A property-based fuzz of the review app's OpenAPI schema: whatever is sent, signed in as a director (so
the requests get past the door, CSRF token included), the answer is never a server error."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from conftest import sign_in

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

EXAMPLES = 5          # per operation: a small budget, run on every test run


def test_no_request_makes_a_server_error(app: FastAPI) -> None:
    anna = sign_in(app, "anna")
    director = {"cookie": f"soundstage_session={anna.cookies['soundstage_session']}", "x-csrf-token": anna.csrf}
    api = schemathesis.openapi.from_asgi("/openapi.json", app, headers=director)   # for the signed-in only
    tried = []
    for found in api.get_all_operations():
        operation = found.ok()
        if operation.path == "/logout":        # would end the fuzz's own session
            continue
        tried.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate], database=None,
                  suppress_health_check=list(HealthCheck))
        def answers(case: object) -> None:
            answer = case.call(headers=director)  # type: ignore[attr-defined]
            assert answer.status_code < 500, (case.method, case.formatted_path, answer.text[:300])  # type: ignore[attr-defined]

        answers()
    assert {"POST /takes/{take_id}/approve", "POST /shots/{shot_id}/regenerate", "POST /shots/{shot_id}/plate",
            "GET /files/{path}"} <= set(tried)
    assert anna.get("/api/me").status_code == 200
