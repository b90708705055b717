"""The project's cast: ``cast/<name>/`` folders read and checked, each a :class:`CastMember`.

Every picture file in a member's folder (PNG, JPEG, TIFF, WebP, BMP) is a reference image, and each is decoded
here, so a text file saved as ``front.png`` is refused before a take is asked for, not when an engine chokes on
it. Other files (notes, the script that drew a reference) are the crew's own and left alone.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from pydantic import ValidationError

from soundstage.errors import MediaError, ProjectError
from soundstage.media import STILL_SUFFIXES, read_image
from soundstage.project import Project, settings_error
from soundstage.records.cast import CAST_DIR, CAST_FILE, CastFile, CastMember
from soundstage.tomlfile import read_toml


def read_cast(project: Project) -> tuple[CastMember, ...]:
    """Every member of ``cast/``, by name; none when the project has no ``cast/`` folder."""
    folder = project.root / CAST_DIR
    if not folder.is_dir():
        return ()
    members = [read_member(path) for path in sorted(folder.iterdir()) if path.is_dir() and not _hidden(path)]
    return tuple(sorted(members, key=lambda member: member.name))


def read_member(folder: Path) -> CastMember:
    """One ``cast/<name>/`` folder: its ``cast.toml`` (optional) and its reference images (at least one)."""
    name = unicodedata.normalize("NFC", folder.name)    # macOS writes Hangul folder names decomposed
    description = folder / CAST_FILE
    if description.is_file():
        raw, text = read_toml(description)
        try:
            entry = CastFile.model_validate(raw)
        except ValidationError as exc:
            raise settings_error(exc, description, text) from None
    else:
        entry = CastFile()
    references = tuple(sorted((path for path in folder.iterdir()
                               if path.is_file() and path.suffix.lower() in STILL_SUFFIXES and not _hidden(path)),
                              key=lambda path: path.name))
    if not references:
        raise ProjectError(f"cast member {name!r} has no reference images", path=folder,
                           hint="put at least one drawing or photo of it (PNG or JPEG) in its folder")
    for path in references:
        try:
            read_image(path)
        except MediaError:
            raise ProjectError(f"reference of cast member {name!r} is not an image", path=path,
                               hint=f"{CAST_DIR}/{name}/ holds reference images (PNG, JPEG…) and {CAST_FILE}") \
                from None
    names = [name, *(n for n in (entry.en, entry.ko, *entry.aliases) if n and n.strip())]
    return CastMember(name=name, names=tuple(dict.fromkeys(unicodedata.normalize("NFC", n.strip()) for n in names)),
                      kind=entry.kind, description=entry.description.strip(), screen=entry.screen, made=entry.made,
                      references=references)


def _hidden(path: Path) -> bool:
    """Dot files (``.DS_Store``) and the partials of an atomic write are nobody's reference."""
    return path.name.startswith((".", "~"))
