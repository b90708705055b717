"""Words shown to people, in English and Korean, read from the TOML files beside this module.

One file per set of words (a report's page, the labels drawn on the cut), so a translator edits one file with
each English text directly above its Korean::

    [[word]]
    en = "Cost and schedule"
    ko = "비용 및 일정"

The code and templates write the English and look up the Korean by it (``reports.page.translator``), as gettext
does with a message id. A sentence the code needs by itself (one it formats, or writes into a JSON or CSV file)
also has a ``name``, and the code reads its English from here, so it is written once. ``{braces}`` are filled in
by the code: both languages must keep the same ones.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from soundstage.errors import SoundstageError
from soundstage.tomlfile import read_toml

LANGUAGES = ("en", "ko")

__all__ = ["LANGUAGES", "Word", "Words", "placeholders", "read_words", "words_of"]


@dataclass(frozen=True)
class Word:
    en: str
    ko: str
    name: str = ""


class Words(Mapping[str, str]):
    """One file's words. As a mapping: each English text to its Korean, which ``translator`` takes. By name:
    ``text(name)``, the English (or another language's) of a sentence the code uses by itself."""

    def __init__(self, entries: tuple[Word, ...]) -> None:
        self._korean = {word.en: word.ko for word in entries}
        self._named = {word.name: word for word in entries if word.name}

    def __getitem__(self, english: str) -> str:
        return self._korean[english]

    def __iter__(self) -> Iterator[str]:
        return iter(self._korean)

    def __len__(self) -> int:
        return len(self._korean)

    def text(self, name: str, language: str = "en") -> str:
        word = self._named[name]
        return word.ko if language == "ko" else word.en

    def by_name(self, language: str) -> dict[str, str]:
        """Every named text in ``language``: the table a caller that keys its words by name reads."""
        return {name: self.text(name, language) for name in self._named}


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a text leaves for the code to fill in."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


@cache
def words_of(name: str) -> Words:
    """The words of ``name``.toml beside this module, read once."""
    return read_words(Path(str(resources.files(__name__).joinpath(f"{name}.toml"))))


def read_words(path: Path) -> Words:
    """A words file; one a translator broke is refused in one line naming the entry and what is wrong."""
    table, _ = read_toml(path)
    entries: list[Word] = []
    seen: set[str] = set()
    named: set[str] = set()
    for number, entry in enumerate(table.get("word", []), 1):
        name = entry.get("name", "")
        where = f"word {number} ({name or entry.get('en')!r})"
        en, ko = (entry.get(language) for language in LANGUAGES)
        if not (isinstance(en, str) and en and isinstance(ko, str) and ko):
            raise SoundstageError(f"{where}: needs both en and ko, as text", path=path)
        try:
            wanted, kept = placeholders(en), placeholders(ko)
        except ValueError as exc:       # a lone { or }
            raise SoundstageError(f"{where}: {exc} (write a brace as {{{{ or }}}})", path=path) from None
        if wanted != kept:
            raise SoundstageError(f"{where}: en and ko must keep the same {{names}}: {sorted(wanted)} against "
                                  f"{sorted(kept)}", path=path)
        if en in seen or (name and name in named):
            raise SoundstageError(f"{where}: is in the file twice", path=path)
        seen.add(en)
        named.add(name)
        entries.append(Word(en, ko, str(name)))
    return Words(tuple(entries))
