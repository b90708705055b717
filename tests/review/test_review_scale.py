"""The review pages keep the film's breakdown and its takes between requests (issue 22's scale): what they show
still follows every edit of the screenplay and shots.toml, and a plate deleted since is still refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from soundstage.db import open_database
from soundstage.errors import SoundstageError
from soundstage.pipeline import Generation, breakdown_project
from soundstage.review.dailies import Dailies
from tiny_film import SCRIPT, make_tiny, shots_toml

RAIN = "shot/2-1/element/rain"


def shown(dailies: Dailies) -> dict[str, tuple[float, list[str]]]:
    return {view.shot.id: (view.shot.duration, [slot.slot for slot in view.slots if "/sound/" not in slot.slot])
            for scene in dailies.film() for view in scene.shots}


def test_the_kept_breakdown_follows_every_edit(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    dailies = Dailies(project, open_database(project.database))
    assert shown(dailies)["2-1"] == (0.5, ["set/sea-cliff-dusk", "shot/2-1/element/rain"])
    (project.root / "shots.toml").write_text(shots_toml(element="smoke", seconds=2.0))
    assert shown(dailies)["2-1"] == (1.0, ["set/sea-cliff-dusk", "shot/2-1/element/smoke"])
    (project.root / "tiny.fountain").write_text(SCRIPT + "\nINT. BATHHOUSE - DAY\n\nSteam.\n")
    assert [scene.heading for scene in dailies.film()][-1] == "INT BATHHOUSE – DAY"
    assert dailies.breakdown() == breakdown_project(project, lock=False)
    (project.root / "plates" / "actor.mp4").unlink()
    with pytest.raises(SoundstageError, match=re.escape("plate 'plates/actor.mp4' does not exist")):
        dailies.film()


def test_a_kept_take_is_shown_as_the_store_reads_it(tmp_path: Path) -> None:
    project = make_tiny(tmp_path / "film")
    dailies = Dailies(project, open_database(project.database))

    def rain() -> list[Any]:
        return next(slot.takes for slot in dailies.shot("2-1").slots if slot.slot == RAIN)

    assert rain() == []
    generation = Generation(project, database=dailies.sessions)
    [order] = [o for o in generation.orders(breakdown_project(project, lock=False), ["2-1"]) if o.slot == RAIN]
    [made] = generation.generate([order])
    [shown_once] = rain()
    [shown_again] = rain()      # from the kept takes
    for view in (shown_once, shown_again):
        assert view.take == generation.store.get(made.take.id) and view.used
        assert view.files == [dailies.relative(p) for p in generation.store.files(made.take)]
    [view] = [v for scene in dailies.film() for s in scene.shots if s.shot.id == "2-1"
              for slot in s.slots if slot.slot == RAIN for v in slot.takes]
    assert view.take == made.take and view.used
