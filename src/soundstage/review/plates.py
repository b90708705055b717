"""A new plate for a shot, uploaded in the review app: checked before it replaces anything, and the plate it
replaces is always kept.

The checks are the render's own: ``probe_plate`` (a decodable frame; a still or a clip by content, not by
suffix; width × height capped from the headers before any pixel is decoded) and ``plate_problems`` (size, rate
and length against the project and ``[plates]``), so an upload the render would refuse is refused here.

Why a lock and exclusive names: two uploads in the same second once shared one backup name, so the second
overwrote the first and the original plate was lost. Each replaced plate is now copied to a name no other
file has (``plates/previous/<stem>.<time>[-n].<ext>``, created exclusively), uploads of a project take turns
(an OS lock, so several workers do too), and the database keeps the history: who, when, which file, its hash.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session, sessionmaker

from soundstage import journal
from soundstage.atomic import atomic_path, copy_new
from soundstage.db import PlateChange, now, row_fields
from soundstage.errors import MediaError
from soundstage.keys import file_digest
from soundstage.media import STILL_SUFFIXES
from soundstage.media.probe import PlateInfo, probe_plate
from soundstage.pipeline.shot import plate_problems
from soundstage.project import Project
from soundstage.script.breakdown import Shot

PREVIOUS = "previous"               # plates/previous/: every plate an upload replaced
LOCK_FILE = "plates.lock"           # in .soundstage/review/


class TooLarge(MediaError):
    """The upload is over the app's byte limit."""


class NotAPlate(MediaError):
    """The upload is not a decodable picture of the kind the shot's plate is."""


class Mismatch(MediaError):
    """The upload does not fit the shot under the project's ``[plates]`` settings."""


@dataclass(frozen=True)
class Replaced:
    change: PlateChange
    info: PlateInfo
    warnings: tuple[str, ...] = ()


def replace_plate(project: Project, sessions: sessionmaker[Session], shot: Shot, upload: BinaryIO, *, by: str,
                  limit: int) -> Replaced:
    """Make ``upload`` the shot's plate once it passes the checks, keeping the plate it replaces."""
    assert shot.plate is not None
    target = project.inside(shot.plate, source=project.shots_file, key="plate")
    with _turn(project.state_dir / "review" / LOCK_FILE), atomic_path(target) as tmp:
        sha256, size = _receive(upload, tmp, limit)
        info, warnings = _check(project, shot, tmp, target)
        kept = kept_sha256 = None
        if target.is_file():
            kept_sha256 = file_digest(target)
            kept = copy_new(target, _previous_names(target))
    change = PlateChange(shot=shot.id, plate=target.relative_to(project.root).as_posix(), sha256=sha256, size=size,
                         kept=kept.relative_to(project.root).as_posix() if kept else None,
                         kept_sha256=kept_sha256, replaced_by=by, replaced_at=now())
    with sessions.begin() as session:
        session.add(change)
        session.flush()
    journal.append(project.state_dir, "plate_change", **row_fields(change))
    return Replaced(change, info, warnings)


def _receive(upload: BinaryIO, tmp: Path, limit: int) -> tuple[str, int]:
    """Copy the upload to ``tmp`` a megabyte at a time, refusing it once it passes ``limit`` bytes."""
    digest, size = hashlib.sha256(), 0
    with open(tmp, "wb") as written:
        while chunk := upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"the plate is over the {limit // (1024 * 1024)} MB limit")
            digest.update(chunk)
            written.write(chunk)
    return digest.hexdigest(), size


def _check(project: Project, shot: Shot, upload: Path, target: Path) -> tuple[PlateInfo, tuple[str, ...]]:
    """The upload's facts, once it is a plate of the kind the shot's is that the render would take; and what the
    render will change in it (fit, retime) as ``[plates]`` allows."""
    upload_for = f"the upload for {shot.plate}"
    try:
        info = probe_plate(upload)
    except MediaError as exc:
        raise NotAPlate(exc.message, path=upload_for, hint=exc.hint) from None
    if info.still != (target.suffix.lower() in STILL_SUFFIXES):
        kind, wanted = ("a still picture", "a movie") if info.still else ("a movie", "a still picture")
        raise NotAPlate(f"is {kind}; the shot's plate is {wanted}", path=upload_for)
    problems = plate_problems(project, shot, info)
    if problems:
        raise Mismatch("; ".join(str(problem) for problem in problems))
    settings = project.settings
    warnings = []
    if (info.width, info.height) != settings.resolution:
        warnings.append(f"{shot.plate} is {info.width}×{info.height}, the project "
                        f"{settings.resolution[0]}×{settings.resolution[1]}: renders {settings.plates.size} its "
                        "size ([plates] size)")
    if info.fps is not None and abs(float(info.fps) - settings.fps) > 0.01:
        warnings.append(f"{shot.plate} runs at {float(info.fps):g} fps, the project at {settings.fps:g}: renders "
                        "retime its rate ([plates] rate)")
    return info, tuple(warnings)


def _previous_names(plate: Path) -> Iterator[Path]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for n in itertools.count(1):
        yield plate.parent / PREVIOUS / f"{plate.stem}.{stamp}{f'-{n}' if n > 1 else ''}{plate.suffix}"


@contextlib.contextmanager
def _turn(lock: Path) -> Iterator[None]:
    """One upload at a time across threads and processes; the kernel drops the lock if its holder dies."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
