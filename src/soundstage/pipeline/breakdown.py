"""The breakdown step for a project: screenplay + shots.toml + locked scene numbers → Breakdown."""

from __future__ import annotations

import json
from pathlib import Path

from soundstage.atomic import write_text
from soundstage.errors import ProjectError
from soundstage.project import Project
from soundstage.script import read_screenplay
from soundstage.script.breakdown import Breakdown, break_down, fingerprint, read_shot_plan
from soundstage.script.model import Kind

SCENE_LOCK = "scenes.json"


def breakdown_project(project: Project, *, lock: bool = True) -> Breakdown:
    """Break down the project's screenplay, honouring ``shots.toml`` and the locked scene numbers.

    With ``lock`` the scene numbers of this run are written back, so the next revision of the script keeps them.
    """
    screenplay = read_screenplay(project.screenplay_path)
    plan = read_shot_plan(project.shots_file)
    for index, entry in enumerate(plan.entries):
        if entry.plate:
            line = plan.line_of(index, "plate")
            plate = project.inside(entry.plate, source=project.shots_file, key="plate", line=line)
            if not plate.is_file():
                raise ProjectError(f"plate {entry.plate!r} does not exist", path=project.shots_file, line=line,
                                   shot=entry.id)
    lock_path = project.state_dir / SCENE_LOCK
    locked = _read_lock(lock_path)
    s = project.settings
    result = break_down(screenplay, look=s.look.as_prompt(), shot_duration=s.shot_duration, seed=s.seed,
                        plan=plan, locked=locked)
    if lock:
        headings = [e for e in screenplay.elements if e.kind is Kind.SCENE_HEADING]
        pairs = zip(result.scenes, headings, strict=True)
        entries: list[dict[str, str | bool]] = [{"id": scene.id, "fingerprint": fingerprint(h)} for scene, h in pairs]
        # Omitted scenes stay in the lock, so their numbers are never handed to a new scene.
        entries += [{"id": old, "fingerprint": fp, "omitted": True} for old, fp in locked if old in result.omitted]
        write_text(lock_path, json.dumps(entries, indent=1, ensure_ascii=False))
    return result


def _read_lock(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        return []
    try:
        return [(item["id"], item["fingerprint"]) for item in json.loads(path.read_text("utf-8"))]
    except (ValueError, KeyError, TypeError) as exc:
        raise ProjectError(f"the scene-number lock is damaged ({exc})", path=path,
                           hint="restore it from backup, or delete it to renumber the scenes") from None
