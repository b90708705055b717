"""The project folder and its settings.

A project is a folder: ``soundstage.toml``, the screenplay, ``shots.toml``, ``plates/`` and ``refs/``;
state lives in ``.soundstage/`` and outputs in ``out/``. Every path a user writes in a settings file is
resolved here, and refused if it leads outside the folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from soundstage.errors import ProjectError
from soundstage.records.settings import Settings  # the soundstage.toml schema, declared once on the ground floor
from soundstage.tomlfile import read_toml

SETTINGS_FILE = "soundstage.toml"
SHOTS_FILE = "shots.toml"
DB_FILE = "soundstage.db"
DATABASE_ENV = "SOUNDSTAGE_DATABASE_URL"


@dataclass(frozen=True)
class Project:
    root: Path
    settings: Settings

    @classmethod
    def load(cls, folder: str | Path) -> Project:
        root = Path(folder)
        settings_path = root / SETTINGS_FILE
        if not root.is_dir():
            raise ProjectError("no such project folder", path=root, hint="create one with 'soundstage new'")
        if not settings_path.is_file():
            raise ProjectError(f"no {SETTINGS_FILE} here", path=root, hint="create one with 'soundstage new'")
        return cls(root.resolve(), load_settings(settings_path))

    @property
    def state_dir(self) -> Path:
        return self.root / ".soundstage"

    @property
    def out_dir(self) -> Path:
        return self.root / "out"

    @property
    def settings_path(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def database(self) -> str | Path:
        """The database URL (environment first, then ``[database] url``), else the project's SQLite file."""
        return os.environ.get(DATABASE_ENV) or self.settings.database.url or self.state_dir / DB_FILE

    @property
    def shots_file(self) -> Path:
        return self.root / SHOTS_FILE

    @property
    def screenplay_path(self) -> Path:
        return self.inside(self.settings.screenplay, source=self.settings_path, key="screenplay")

    def inside(self, relative: str, *, source: Path, key: str, line: int | None = None) -> Path:
        """Resolve a path written in ``source`` and refuse it unless it stays inside the project."""
        return resolve_inside(self.root, relative, source=source, key=key, line=line)


def shown_in(path: Path, root: Path) -> str:
    """A path as records and reports show it: relative to the project when inside it, else as it is."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def resolve_inside(root: Path, relative: str, *, source: Path, key: str, line: int | None = None) -> Path:
    root = root.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise ProjectError(
            f"{key} = {relative!r} points outside the project folder {root}",
            path=source,
            line=line,
            hint="keep plates, screenplays and references inside the project",
        )
    return target


def load_settings(path: Path) -> Settings:
    raw, text = read_toml(path)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise settings_error(exc, path, text) from None


def settings_error(exc: ValidationError, path: Path, text: str) -> ProjectError:
    """Turn pydantic's report into one line naming the file, the key and (where found) its line."""
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"]
    if first["type"] == "missing":
        message = "is missing"
    elif first["type"] == "extra_forbidden":
        message = "is not a known setting"
    elif first["type"] == "value_error":
        message = str(first.get("ctx", {}).get("error", message))
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return ProjectError(f"{key}: {message}{more}", path=path, line=find_key_line(text, str(first["loc"][-1])))


def find_key_line(text: str, key: str) -> int | None:
    """The line where ``key = …`` is set, or where its ``[key]`` table opens."""
    name = re.escape(key)
    pattern = re.compile(rf"^[ \t]*(?:\"?{name}\"?\s*=|\[(?:[\w.\"-]*\.)?\"?{name}\"?\])", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


