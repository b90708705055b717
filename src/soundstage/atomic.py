"""Atomic writes: a file either holds its finished content or does not exist.

Everything soundstage writes goes through here, so a killed run never leaves a half-written file
that a re-run could mistake for a finished one.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from soundstage.errors import DiskFull

# A full disk (or a full quota) is the user's to fix, not a bug: said in one line, wherever it happens.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}

# Marks a file or folder being written: ``.cut.k3j2h1.partial.mp4``, ``.1-1_png.x8a2.partial``.
PARTIAL = ".partial"


@contextlib.contextmanager
def atomic_path(target: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only if the block succeeds.

    The temporary keeps the target's extension (encoders pick the container from it). Every writer (movies,
    signed files, reports) goes through here, so this is where a full disk becomes one line (:class:`DiskFull`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=PARTIAL + (suffix or target.suffix), dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, _mode_for(target))
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        full = disk_full(exc, target)
        if full is None:
            raise
        raise full from None
    finally:
        tmp.unlink(missing_ok=True)


def disk_full(exc: BaseException | None, target: str | Path) -> DiskFull | None:
    """``exc`` said the way a user can act on, if it is a full disk (FFmpeg's and c2pa's included); else None.
    It names the folder that filled, not the half-written file (which is gone by the time it is read)."""
    if not isinstance(exc, OSError) or isinstance(exc, DiskFull) or exc.errno not in _NO_SPACE:
        return None
    return DiskFull("disk full: free space there and re-run; finished shots are kept", path=Path(target).parent)


def _mode_for(target: Path) -> int:
    """mkstemp makes 0600 files; give the result the mode a plain open() would (or the old file's)."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_bytes(target: str | Path, content: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(content)


def write_text(target: str | Path, content: str) -> None:
    write_bytes(target, content.encode("utf-8"))


def copy_new(source: str | Path, names: Iterable[Path]) -> Path:
    """Copy ``source`` to the first of ``names`` that no file has yet, and return it. Never replaces a file,
    even when two processes copy at once: the finished copy is hard-linked into place, which fails where a
    file exists (where links are not supported, the name is claimed with O_EXCL and the copy renamed onto it).
    """
    names = iter(names)
    first = next(names)
    first.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{first.stem}.", suffix=PARTIAL + first.suffix, dir=first.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copy2(source, tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        for name in itertools.chain([first], names):
            try:
                os.link(tmp, name)
                return name
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                    raise
            try:
                os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                continue
            os.replace(tmp, name)
            return name
        raise FileExistsError(errno.EEXIST, "every name is taken", str(first))
    finally:
        tmp.unlink(missing_ok=True)


def sweep_partials(folder: Path) -> int:
    """Remove what killed writers left under ``folder``; returns how many. Only call it while holding the lock
    that keeps other writers out (a render's lock, for ``out/``)."""
    if not folder.is_dir():
        return 0
    swept = 0
    for leftover in sorted(folder.rglob(f".*{PARTIAL}*"), reverse=True):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        swept += 1
    return swept
