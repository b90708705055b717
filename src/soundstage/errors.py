"""One small family of errors, each saying what was wrong, where, and what to do.

The CLI prints ``str(error)`` as a single line and exits non-zero; a user never sees a traceback for bad
input. Like PyAV's errors, the ones about bad input are also the matching built-in (``ValueError``), so
library callers can catch either.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib import metadata


class SoundstageError(Exception):
    """Base of every error soundstage raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        shot: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.shot = shot
        self.hint = hint

    @property
    def where(self) -> str:
        parts = []
        if self.path is not None:
            parts.append(f"{self.path}:{self.line}" if self.line else str(self.path))
        if self.shot:
            parts.append(f"shot {self.shot}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.split("\n"))


class ProjectError(SoundstageError, ValueError):
    """A project folder, ``soundstage.toml`` or ``shots.toml`` that cannot be used as it is."""


class PreflightError(ProjectError):
    """Problems found before anything was generated or rendered, all of them at once, in ``problems``: each a
    SoundstageError of its own line (naming the shot, the plate or element, and what to do)."""

    def __init__(self, problems: Sequence[SoundstageError]) -> None:
        self.problems = list(problems)
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{self.summary()}: {self.problems[0]}{more}" if self.problems else self.summary())

    def summary(self) -> str:
        """The line that follows the problems where each is shown on its own line (the CLI)."""
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        return f"{count} found before anything was made; nothing was generated"


class ScreenplayError(SoundstageError, ValueError):
    """A screenplay file that cannot be read or parsed."""


class MediaError(SoundstageError, ValueError):
    """A plate or other media file that cannot be decoded, or does not match the project."""


class ColourError(SoundstageError, ValueError):
    """A colour space, OCIO config, LUT or CDL that cannot be used as declared."""


class EngineError(SoundstageError):
    """A generator engine that failed, refused, or is not installed."""


class EngineRefused(EngineError):
    """The service refused this prompt (content policy, safety filter). Retrying the same prompt will not help."""


class EngineTimeout(EngineError):
    """The engine did not answer, or a long-running job did not finish, within the configured time."""


class EngineBusy(EngineError):
    """Rate-limited (429) or a server error (5xx): worth retrying after ``retry_after`` seconds, if given."""

    def __init__(self, message: str, *, retry_after: float | None = None, path: str | Path | None = None,
                 shot: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, path=path, shot=shot, hint=hint)
        self.retry_after = retry_after


class EngineReplyError(EngineError):
    """The service answered with something that is not what its API promises (malformed or empty reply)."""


class DiskFull(SoundstageError, OSError):
    """The disk filled while a file was written: nothing half-written is left, and what finished before is kept."""


class BudgetError(SoundstageError):
    """A request would cross the project's budget, so it was not sent."""


def install_hint(extra: str | None, *packages: str, distribution: metadata.Distribution | None = None) -> str:
    """The command that installs an optional extra (and ``packages``) where this soundstage is installed.

    From a clone (pip's ``direct_url.json`` says editable, as ``make demo`` and ``make test`` install it) that is
    this environment's pip on the clone's folder, ``.venv/bin/pip install -e '.[review]'``; a command naming
    the published package would fetch a second soundstage instead. Otherwise ``pip install 'soundstage[review]'``.
    """
    from importlib import metadata  # here: ~50 ms of imports every command would pay to say nothing
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    try:
        found = distribution or metadata.distribution("soundstage")
        origin = json.loads(found.read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        origin = {}
    clone = None
    if isinstance(origin, dict) and (origin.get("dir_info") or {}).get("editable"):
        url = urlparse(str(origin.get("url", "")))
        clone = Path(url2pathname(url.path)) if url.scheme == "file" else None
    if clone is None:
        words = ["pip", "install", *([f"soundstage[{extra}]"] if extra else []), *packages]
    else:
        pip = Path(sys.executable).parent / ("pip.exe" if os.name == "nt" else "pip")
        run = [_as_here(pip)] if pip.is_file() else [_as_here(Path(sys.executable)), "-m", "pip"]
        words = [*run, "install", *(["-e", f"{_as_here(clone)}[{extra}]"] if extra else []), *packages]
    return shlex.join(words)


def _as_here(path: Path) -> str:
    """A path as the user types it from the current folder: relative inside it, absolute outside."""
    cwd = Path.cwd()
    return os.path.relpath(path, cwd) if path.is_absolute() and path.is_relative_to(cwd) else str(path)
