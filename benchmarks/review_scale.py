"""The review app's film and shot pages at scale: 500 shots and 5,000 takes (issue 22; target: server time under
200 ms a page).

Run it by hand, on a quiet machine (results in docs/benchmarks.md),

    .venv/bin/python benchmarks/review_scale.py [--shots 500] [--takes 5000] [--repeat 5] [--json]

The project is ``render_overhead.py``'s synthetic one (64×36, five locations, no plates). One shot's takes are
generated for real (the procedural engine); the rest of the 5,000 take rows are copies of those, spread over
every slot of every shot as v001, v002…, so the database holds what a long production's would. Half the slots
have an approved take, every shot a status and a frame note. Each page is asked once untimed (caches warm, as
for a crew that keeps the app open), then ``--repeat`` times through the app in-process (FastAPI's TestClient:
the server's time, no network); the figures are the median and the slowest.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fastapi.testclient import TestClient

from render_overhead import build_project
from soundstage.db import Approval, Note, ReviewEvent, TakeRecord, open_database
from soundstage.pipeline import Generation, breakdown_project
from soundstage.review import make_app
from soundstage.review.app import settle
from soundstage.review.auth import Crew

TARGET_MS = 200.0


def fill(root: Path, shots: int, takes: int) -> tuple[Any, str]:
    """The project with ``takes`` take rows over its slots; returns it and a shot id in its middle."""
    project = build_project(root, shots)
    generation = Generation(project)
    breakdown = breakdown_project(project)
    first = breakdown.shots[0].id
    outcomes = generation.generate(generation.orders(breakdown, [first]))
    assert not [o.error for o in outcomes if o.error]
    sessions = open_database(project.database)
    with sessions() as session:
        model = session.query(TakeRecord).first()
        assert model is not None
    slots = [order.slot for order in generation.orders(breakdown)]
    versions: dict[str, int] = {}
    with sessions.begin() as session:
        versions.update({row.slot: row.version for row in session.query(TakeRecord)})
        have = len(versions)
        rows = []
        for index in range(takes - have):
            slot = slots[index % len(slots)]
            versions[slot] = versions.get(slot, 0) + 1
            rows.append(TakeRecord(slot=slot, version=versions[slot], key=f"{index:064x}", design=model.design,
                                   kind=model.kind, engine=model.engine, model=model.model,
                                   engine_version=model.engine_version, source_type=model.source_type,
                                   prompt=model.prompt, seed=index, folder=model.folder, record=model.record,
                                   cost_usd=0.0, seconds=0.0))
        session.add_all(rows)
    with sessions.begin() as session:
        ids = {(row.slot, row.version): row.id for row in session.query(TakeRecord)}
        for number, slot in enumerate(slots):
            if number % 2 == 0:
                session.merge(Approval(slot=slot, take_id=ids[(slot, 1)], approved_by="anna"))
        for shot in breakdown.shots:
            session.add(ReviewEvent(subject=f"shot/{shot.id}", kind="status", status="wip", by="anna"))
            session.add(Note(subject=f"shot/{shot.id}", body="the light, warmer", author="pat", frame=2))
    Crew(sessions).add("anna", "director", "benchmark password")
    return project, breakdown.shots[len(breakdown.shots) // 2].id


def timed(client: TestClient, path: str, repeat: int) -> dict[str, float]:
    answer = client.get(path, headers={"accept": "text/html"})
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get(path, headers={"accept": "text/html"})
        seconds.append(time.perf_counter() - start)
        assert answer.status_code == 200
    return {"median_ms": round(1000 * statistics.median(seconds), 1), "max_ms": round(1000 * max(seconds), 1),
            "bytes": len(answer.content)}


def run(shots: int, takes: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        project, middle = fill(Path(folder) / "film", shots, takes)
        app = make_app(project)
        settle()                                # as `soundstage serve` does before it serves
        client = TestClient(app)
        form = client.get("/login", headers={"accept": "text/html"})
        token = form.text.split('name="csrf" value="')[1].split('"')[0]
        client.post("/login", data={"name": "anna", "password": "benchmark password", "csrf": token},
                    headers={"accept": "text/html"})
        with open_database(project.database)() as session:
            counted = session.query(TakeRecord).count()
        pages = {"film /": timed(client, "/", repeat),
                 f"shot /shots/{middle}": timed(client, f"/shots/{middle}", repeat),
                 f"shot API /api/shots/{middle}": timed(client, f"/api/shots/{middle}", repeat)}
        app.state.board.close()
    return {"shots": shots, "takes": counted, "target_ms": TARGET_MS, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=500)
    parser.add_argument("--takes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run(args.shots, args.takes, args.repeat)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['shots']} shots, {report['takes']} takes (target {TARGET_MS:.0f} ms)")
    for page, figures in report["pages"].items():
        mark = "ok" if figures["median_ms"] < TARGET_MS else "OVER"
        print(f"  {page:32s} median {figures['median_ms']:8.1f} ms  slowest {figures['max_ms']:8.1f} ms  "
              f"{figures['bytes']:>9,} bytes  {mark}")


if __name__ == "__main__":
    main()
