"""The breakdown step for a project: screenplay + shots.toml + locked scene numbers → Breakdown."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from soundstage.atomic import write_text
from soundstage.errors import PreflightError, ProjectError
from soundstage.pipeline.cast import read_cast
from soundstage.project import Project, find_key_line
from soundstage.records.cast import CAST_DIR, CastMember
from soundstage.script import read_screenplay
from soundstage.script.breakdown import Breakdown, ShotPlan, break_down, fingerprint, read_shot_plan
from soundstage.script.model import Kind, Screenplay

SCENE_LOCK = "scenes.json"


@dataclass(frozen=True)
class ProjectBreakdown:
    """A project's breakdown with the screenplay and ``shots.toml`` it was made from, each read once: for the
    views that also show the title page or the crew's own settings (the disclosure), so they parse nothing again."""

    breakdown: Breakdown
    screenplay: Screenplay
    plan: ShotPlan
    cast: tuple[CastMember, ...] = ()


def breakdown_project(project: Project, *, lock: bool = True) -> Breakdown:
    """Break down the project's screenplay, honouring ``shots.toml`` and the locked scene numbers.

    With ``lock`` the scene numbers of this run are written back, so the next revision of the script keeps them.
    """
    return read_breakdown(project, lock=lock).breakdown


def read_breakdown(project: Project, *, lock: bool = True) -> ProjectBreakdown:
    """``breakdown_project``, keeping the screenplay and the shot plan it read."""
    screenplay = read_screenplay(project.screenplay_path)
    plan = read_shot_plan(project.shots_file)
    cast = read_cast(project)
    _refuse_missing(project, plan, cast)
    lock_path = project.state_dir / SCENE_LOCK
    locked = _read_lock(lock_path)
    s = project.settings
    result = break_down(screenplay, look=s.look.as_prompt(), shot_duration=s.shot_duration, seed=s.seed,
                        plan=plan, locked=locked, comp=s.comp, members=cast)
    if lock:
        headings = [e for e in screenplay.elements if e.kind is Kind.SCENE_HEADING]
        pairs = zip(result.scenes, headings, strict=True)
        entries: list[dict[str, str | bool]] = [{"id": scene.id, "fingerprint": fingerprint(h)} for scene, h in pairs]
        # Omitted scenes stay in the lock, so their numbers are never handed to a new scene.
        entries += [{"id": old, "fingerprint": fp, "omitted": True} for old, fp in locked if old in result.omitted]
        write_text(lock_path, json.dumps(entries, indent=1, ensure_ascii=False))
    return ProjectBreakdown(result, screenplay, plan, cast)


def breakdown_key(project: Project) -> str:
    """What a breakdown is made from: the bytes of the screenplay, ``shots.toml`` and the scene lock, the names,
    sizes and times of ``cast/``'s files, and the settings. The same key gives the same breakdown, so a long-lived
    reader (the review app) breaks the film down again only when one of them changed."""
    digest = hashlib.sha256(project.settings.model_dump_json().encode("utf-8"))
    for path in (project.screenplay_path, project.shots_file, project.state_dir / SCENE_LOCK):
        digest.update(f"\0{path.name}\0".encode())
        if path.is_file():
            digest.update(path.read_bytes())
    folder = project.root / CAST_DIR
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            stat = path.stat()
            digest.update(f"\0{path.relative_to(folder).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def check_breakdown(project: Project, made: ProjectBreakdown) -> None:
    """Refuse a kept breakdown whose files are gone since: a plate, a clean plate or a LUT it names."""
    _refuse_missing(project, made.plan, made.cast)


def _refuse_missing(project: Project, plan: ShotPlan, cast: tuple[CastMember, ...]) -> None:
    """Every file ``shots.toml`` and the settings name that does not exist, and every unknown cast name, at once."""
    missing = [problem for index, entry in enumerate(plan.entries)
               for key, relative in (("plate", entry.plate), ("clean_plate", entry.key.clean_plate),
                                     ("lut", entry.comp.lut))
               if relative and (problem := _check_file(project, relative, project.shots_file, key,
                                                       plan.line_of(index, key), entry.id))]
    if project.settings.comp.lut:
        missing += filter(None, [_check_file(project, project.settings.comp.lut, project.settings_path, "lut",
                                             None, None)])
    known = {member.name for member in cast}
    missing += [ProjectError(f"cast member {name!r} is not in {CAST_DIR}/", path=project.shots_file,
                             line=plan.line_of(index, "cast"), shot=entry.id,
                             hint=f"add {CAST_DIR}/{name}/ with its reference images, or fix the name")
                for index, entry in enumerate(plan.entries) for name in entry.cast or () if name not in known]
    if missing:     # every one at once, not one a run
        raise missing[0] if len(missing) == 1 else PreflightError(missing)


def _check_file(project: Project, relative: str, source: Path, key: str, line: int | None,
                shot: str | None) -> ProjectError | None:
    """A file named in a settings file must be inside the project (else refused at once) and exist."""
    line = line if line is not None else find_key_line(source.read_text("utf-8"), key)
    if not project.inside(relative, source=source, key=key, line=line).is_file():
        return ProjectError(f"{key} {relative!r} does not exist", path=source, line=line, shot=shot)
    return None


def _read_lock(path: Path) -> list[tuple[str, str]]:
    if not path.is_file():
        return []
    try:
        return [(item["id"], item["fingerprint"]) for item in json.loads(path.read_text("utf-8"))]
    except (ValueError, KeyError, TypeError) as exc:
        raise ProjectError(f"the scene-number lock is damaged ({exc})", path=path,
                           hint="restore it from backup, or delete it to renumber the scenes") from None
