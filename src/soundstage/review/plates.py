"""A new plate for a shot, uploaded in the review app: checked before it replaces anything, and the plate it
replaces is always kept.

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

from soundstage.atomic import atomic_path, copy_new
from soundstage.db import PlateChange
from soundstage.errors import MediaError
from soundstage.keys import file_digest
from soundstage.media import VideoInfo, probe, read_frames
from soundstage.project import Project

PREVIOUS = "previous"               # plates/previous/: every plate an upload replaced
LOCK_FILE = "plates.lock"           # in .soundstage/review/


class TooLarge(MediaError):
    """The upload is over the app's byte limit."""


class NotAPlate(MediaError):
    """The upload is not a decodable picture of the kind the shot's plate is."""


@dataclass(frozen=True)
class Replaced:
    change: PlateChange
    info: VideoInfo
    warnings: tuple[str, ...] = ()


def replace_plate(project: Project, sessions: sessionmaker[Session], shot: str, target: Path, upload: BinaryIO,
                  *, by: str, limit: int) -> Replaced:
    """Make ``upload`` the plate at ``target`` once it passes the checks, keeping the plate it replaces."""
    with _turn(project.state_dir / "review" / LOCK_FILE), atomic_path(target) as tmp:
        sha256, size = _receive(upload, tmp, limit)
        info = _check(tmp)
        kept = kept_sha256 = None
        if target.is_file():
            kept_sha256 = file_digest(target)
            kept = copy_new(target, _previous_names(target))
    change = PlateChange(shot=shot, plate=target.relative_to(project.root).as_posix(), sha256=sha256, size=size,
                         kept=kept.relative_to(project.root).as_posix() if kept else None,
                         kept_sha256=kept_sha256, replaced_by=by)
    with sessions.begin() as session:
        session.add(change)
    return Replaced(change, info)


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


def _check(path: Path) -> VideoInfo:
    try:
        info = probe(path)
        next(iter(read_frames(path)))
    except Exception:   # whatever the decoder trips on (probe raises more than MediaError on some junk)
        raise NotAPlate("that file is not a movie that can be decoded") from None
    return info


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
