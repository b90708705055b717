"""Breakdown: from a parsed screenplay to scenes, sets, shots, elements and prompts.

The breakdown is the contract the later stages and outside tools read (``soundstage breakdown --json``).
Two things here are human work that must survive a re-run:

- scene numbers, once assigned, are *locked*: a scene inserted later becomes ``12A`` rather than renumbering
  everything after it, and a scene cut from the script is reported as omitted (see ``lock_scene_ids``);
- ``shots.toml``, where the crew splits scenes into shots and sets plates, durations, cameras and elements.
  soundstage never writes it; entries are matched to scenes by those locked ids.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from soundstage.errors import ProjectError, ScreenplayError
from soundstage.records.cast import CastMember
from soundstage.records.settings import (
    SCENE_NUMBER_MAX,
    SHOT_ID,
    SHOT_ID_MAX,
    Camera,
    CompSettings,
    ElementPlacement,
    KeySettings,
    ShotEntry,
    ShotSound,
)
from soundstage.script.model import Element, Kind, Screenplay
from soundstage.tomlfile import read_toml

LINES_PER_PAGE = 55
# Printed widths of a standard screenplay page, in characters (Courier 12).
WIDTHS = {Kind.DIALOGUE: 35, Kind.PARENTHETICAL: 25, Kind.LYRICS: 35}
FULL_WIDTH = 61


# ---------------------------------------------------------------------------------------------- the contract

# Built into validators on first use, not at import: the breakdown makes its records with model_construct, so a
# plain `soundstage breakdown` never builds them (~40 ms of every run); --json builds them to write them.
_CONTRACT = ConfigDict(defer_build=True)


class ElementRef(BaseModel):
    model_config = _CONTRACT

    category: str
    name: str
    line: int


class Line(BaseModel):
    """One spoken line: what a subtitle shows. V.O. and O.S. lines are heard, so they are subtitled too."""

    model_config = _CONTRACT

    character: str
    text: str                             # whitespace folded to single spaces: subtitles wrap it again
    parenthetical: str | None = None      # "(whispering)" written just before it
    extension: str | None = None          # "V.O.", "O.S."
    line: int                             # where the screenplay has it


class Scene(BaseModel):
    model_config = _CONTRACT

    id: str
    number: str
    int_ext: str | None
    location: str
    time: str | None
    time_original: str | None
    eighths: int
    line: int
    characters: list[str]                 # speaking
    non_speaking: list[str] = []
    elements: list[ElementRef] = []
    cast: list[str] = []                  # cast members its action or notes name (cast/<name>), sorted
    set: str                              # the id of the set this scene is played in
    lines: list[Line] = []                # its dialogue, in order; a shot names its share by number from 1
    action: str = Field("", exclude=True)  # the scene's action text, for prompts; not part of the JSON


class Shot(BaseModel):
    model_config = _CONTRACT

    id: str
    scene: str
    set: str
    prompt: str
    plate: str | None = None
    duration: float
    elements: list[str] = []                        # generated cast members among them, by their cast name
    placements: list[ElementPlacement] = []         # one per element, in order: where and in what order it plays
    cast: list[str] = []                            # cast members in it (cast/<name>), sorted
    camera: Camera = Field(default_factory=Camera)
    screen: Literal["auto", "green", "blue"] = "auto"
    plate_space: str | None = None                  # the plate's encoding; None: [plates] space
    seed: int
    engine: str | None = None                       # None: the project's engine
    background: Literal["still", "moving"] = "still"
    first_frame: str | None = None                  # the moving background's first frame, as shots.toml names it
    last_frame: str | None = None                   # and its last
    key: KeySettings = Field(default_factory=KeySettings)
    comp: CompSettings = Field(default_factory=CompSettings)
    sound: ShotSound = Field(default_factory=ShotSound)
    lines: list[int] = []                           # the scene's lines it plays, numbered from 1


class SetDesign(BaseModel):
    """One generated environment, shared by every shot at its location and time, for continuity."""

    model_config = _CONTRACT

    id: str
    location: str
    time: str | None
    prompt: str


class Breakdown(BaseModel):
    model_config = _CONTRACT

    title: str
    scenes: list[Scene]
    sets: list[SetDesign]
    shots: list[Shot]
    omitted: list[str] = []     # scene ids that were in the locked numbering and are gone from the script
    warnings: list[str] = []

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


# ---------------------------------------------------------------------------------------------- shots.toml


@dataclass(frozen=True)
class ShotPlan:
    """``shots.toml`` read and checked: entries, plus where each came from for error messages."""

    entries: tuple[ShotEntry, ...]
    source: Path | None = None
    text: str = ""

    def line_of(self, index: int, key: str | None = None) -> int | None:
        """The line of the ``index``-th ``[[shot]]`` header, or of ``key`` inside that entry."""
        headers = [m.start() for m in re.finditer(r"^[ \t]*\[\[\s*shot\s*\]\]", self.text, re.MULTILINE)]
        if index >= len(headers):
            return None
        start, end = headers[index], headers[index + 1] if index + 1 < len(headers) else len(self.text)
        if key is not None:
            found = re.compile(rf"^[ \t]*\"?{re.escape(key)}\"?\s*[=.]", re.MULTILINE).search(self.text, start, end)
            if found:
                start = found.start()
        return self.text.count("\n", 0, start) + 1


def read_shot_plan(path: Path) -> ShotPlan:
    if not path.is_file():
        return ShotPlan(())
    raw, text = read_toml(path)
    unknown = set(raw) - {"shot"}
    if unknown:
        raise ProjectError(f"unknown table {sorted(unknown)[0]!r}; shots are [[shot]] entries", path=path)
    entries = []
    seen: set[str] = set()
    for index, item in enumerate(raw.get("shot", [])):
        try:
            entry = ShotEntry.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            # an element is a name or a placement: say where in the placement, not which of the two was tried
            key = ".".join(str(part) for part in first["loc"] if part != ElementPlacement.__name__)
            shot = str(item.get("id") or "") if isinstance(item, dict) else ""
            message = {"extra_forbidden": "is not a known shot setting",
                       "value_error": str(first.get("ctx", {}).get("error", first["msg"]))}.get(first["type"],
                                                                                                first["msg"])
            raise ProjectError(
                f"{key}: {message}", path=path, line=ShotPlan((), path, text).line_of(index, str(first["loc"][0])),
                shot=shot if len(shot) <= SHOT_ID_MAX else shot[:SHOT_ID_MAX] + "…",
            ) from None
        if entry.id in seen:
            raise ProjectError(f"shot id {entry.id!r} is used twice", path=path, shot=entry.id,
                               line=ShotPlan((), path, text).line_of(index, "id"))
        seen.add(entry.id)
        entries.append(entry)
    return ShotPlan(tuple(entries), path, text)


# ---------------------------------------------------------------------------------------------- elements


@dataclass(frozen=True)
class ElementWord:
    name: str
    category: str


@cache
def element_table() -> dict[str, Any]:
    """``elements.toml`` as read: every element's name, category, words, lookalikes and label."""
    return tomllib.loads(resources.files("soundstage.script").joinpath("elements.toml").read_text("utf-8"))


@cache
def _element_words() -> tuple[list[str], dict[str, ElementWord | None], set[str]]:
    """Every word as written, longest first; group name (``w`` and its index) → its element (None: a
    lookalike); the categories.

    The longest word comes first: where several words start at the same place the regex takes the first that
    fits, so 도깨비불 must be tried before 도깨비, and a lookalike (검은 "black") before its word (검 "sword").
    """
    table = element_table()
    words: list[tuple[str, ElementWord | None]] = []
    for item in table["element"]:
        word = ElementWord(item["name"], item["category"])
        words += [(raw, word) for raw in item["words"]]
        words += [(raw, None) for raw in item.get("lookalikes", ())]
    words.sort(key=lambda pair: -len(pair[0]))
    by_group = {f"w{index}": found for index, (_, found) in enumerate(words)}
    return [raw for raw, _ in words], by_group, {item["category"] for item in table["element"]}


@cache
def _vocabulary_matcher() -> re.Pattern[str]:
    """One matcher for the whole vocabulary: each word as ``\\bword\\b`` (Korean: no syllable before it),
    case-insensitive, longest first, but tried only where its first letter stands.

    Tried whole at every character, an alternation of a few hundred words costs ~25 µs a character (a 9 MB
    script spent minutes here), and a Python step at each place a word may start cost ~3 µs a word of
    action (most of a breakdown's time). Here each first letter is one branch that opens with the exact set
    of characters that letter matches, so the regex engine skips a branch on one look at the character, in C;
    the branch's words follow in their order. Every word starts with a letter (``\\w``) or a syllable."""
    by_letter: dict[str, list[str]] = {}
    for index, raw in enumerate(_element_words()[0]):
        by_letter.setdefault(raw[0].lower(), []).append(f"(?P<w{index}>{re.escape(raw[1:])}{_word_end(raw)})")
    branches: dict[bool, list[str]] = {False: [], True: []}    # by whether the letter is Hangul
    for letter, words in by_letter.items():
        variants = "".join(sorted({letter, letter.upper(), *_FOLDS.get(letter, "")}))
        branches[bool(re.match(f"[{_HANGUL}]", letter))].append(f"[{re.escape(variants)}](?i:{'|'.join(words)})")
    # what may stand before a word, tested once a place (\b before a letter; no syllable before a Korean word)
    starts = [rf"(?<!\w)(?:{'|'.join(branches[False])})" if branches[False] else "",
              rf"(?=[{_HANGUL}])(?<![{_HANGUL}])(?:{'|'.join(branches[True])})" if branches[True] else ""]
    return re.compile("|".join(filter(None, starts)))


# Characters that re.IGNORECASE also takes for a lower-case ASCII letter (tests check them against re).
_FOLDS = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}
_HANGUL = "가-힣"
_PARTICLES = "이가을를은는에의도로와과"


def _word_end(word: str) -> str:
    """What must follow ``word`` (after the word itself): a word's end; a one-syllable Korean word may take a
    particle and must then end. Hangul has no case, so its classes are compiled outside the matcher's ``(?i:)``:
    case-folded, re walks all 11,172 syllables of each class (~5 ms of every breakdown)."""
    if not re.search(f"[{_HANGUL}]", word):
        return r"\b"
    return rf"(?-i:[{_PARTICLES}]?(?![{_HANGUL}]))" if len(word) == 1 else ""


def find_elements(text: str, line: int) -> list[ElementRef]:
    _, by_group, _ = _element_words()
    found = []
    for match in _vocabulary_matcher().finditer(text):
        word = by_group[match.lastgroup or ""]
        if word is not None:
            found.append(ElementRef.model_construct(category=word.category, name=word.name, line=line))
    return found


@cache
def _order_matcher() -> re.Pattern[str]:
    """The words of elements.toml's ``[order]``, each a named group ``front`` or ``behind``."""
    table = element_table().get("order", {})
    groups = [f"(?P<{side}>{'|'.join(re.escape(w) for w in sorted(table[side], key=len, reverse=True))})"
              for side in ("front", "behind") if table.get(side)]
    return re.compile(rf"(?<!\w)(?:{'|'.join(groups)})(?!\w)" if groups else "(?!)", re.IGNORECASE)


def element_orders(texts: Iterable[str]) -> dict[str, Literal["front", "behind"]]:
    """Element → front or behind, from the sentences and notes that name it with an ``[order]`` word:
    "[[VFX: fire in front of the forge]]" → fire: front. The first sentence that says wins."""
    orders: dict[str, Literal["front", "behind"]] = {}
    for text in texts:
        if _order_matcher().search(text) is None:     # no sentence of it can say: most texts, split for nothing
            continue
        for sentence in re.split(r"(?<=[.!?。])\s+|\n+", text):
            said = _order_matcher().search(sentence)
            if said is None:
                continue
            for ref in find_elements(sentence, 0):
                orders.setdefault(ref.name, "front" if said.group("front") else "behind")
    return orders


_NOTE_TAG = re.compile(r"^\s*([A-Za-z]+|[가-힣]+)\s*:\s*(.+)$", re.DOTALL)


def elements_from_note(note: str, line: int) -> list[ElementRef]:
    """``[[VFX: dragon over the rooftops]]`` → vfx/dragon. A note without a known word keeps its text."""
    match = _NOTE_TAG.match(note)
    if not match:
        return []
    tag, body = match.group(1).lower(), " ".join(match.group(2).split())
    _, _, categories = _element_words()
    category = {"sfx": "effects", "fx": "effects", "prop": "props"}.get(tag, tag)
    if category not in categories:
        return []
    known = find_elements(body, line)
    if known:
        return [ElementRef.model_construct(category=category, name=ref.name, line=line) for ref in known]
    return [ElementRef.model_construct(category=category, name=body.lower(), line=line)]


# ---------------------------------------------------------------------------------------------- scenes


@dataclass
class _RawScene:
    heading: Element
    body: list[Element]


def _split_scenes(screenplay: Screenplay) -> list[_RawScene]:
    scenes: list[_RawScene] = []
    for element in screenplay.elements:
        if element.kind is Kind.SCENE_HEADING:
            scenes.append(_RawScene(element, []))
        elif scenes:
            scenes[-1].body.append(element)
    return scenes


def _printed_width(text: str) -> int:
    if text.isascii():
        return len(text)                # no wide letters: one column each
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _printed_lines(element: Element) -> int:
    """Lines the element takes on a standard page, with the blank line before it."""
    width = WIDTHS.get(element.kind, FULL_WIDTH)
    lines = sum(max(1, -(-_printed_width(part) // width)) for part in element.text.split("\n"))
    return lines if element.kind in (Kind.DIALOGUE, Kind.PARENTHETICAL) else lines + 1


def eighths_of_page(scene: _RawScene) -> int:
    lines = 2 + sum(_printed_lines(element) for element in scene.body)
    return max(1, round(lines * 8 / LINES_PER_PAGE))


_INTRO_TAIL = re.compile(r"(?<=[A-Z'\-]) \((?:\d+s?|[A-Z]+)\)")   # the `` (30s)`` after a NAME (30s)
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ'-")
_WORD = re.compile(r"\w+")
_HANGUL_RUN = re.compile(f"[{_HANGUL}]+")


def _non_speaking(scene: _RawScene, speaking: list[str], cast: _Cast) -> list[str]:
    """Cast members named in the action without a line here, and characters introduced as ``NAME (30s)``."""
    action = "\n".join(e.text for e in scene.body if e.kind is Kind.ACTION)
    found = [name for name in cast.mentioned_in(action) if name not in speaking]
    seen = {*speaking, *found}
    for name in _introduced(action):
        if name not in seen:
            found.append(name)
            seen.add(name)
    return found


class _Cast:
    """The speaking cast, indexed by the word each name starts with, so that finding who a scene mentions
    costs the scene's words, not (cast × scenes) searches: a script of thousands of names took minutes."""

    def __init__(self, names: Iterable[str]) -> None:
        self.by_key: dict[str, list[str]] = {}
        self.always: list[str] = []          # names no word can rule out: searched in every scene
        self.words: dict[str, int] = {}      # a name that starts and ends with a letter (no Hangul): its words
        for name in names:
            key = _mention_key(name)
            if key is None:
                self.always.append(name)
            else:
                self.by_key.setdefault(key, []).append(name)
            if not _HANGUL_RUN.search(name) and _WORD.match(name) and _WORD.match(name[-1]):
                self.words[name] = len(_WORD.findall(name))

    def mentioned_in(self, text: str) -> list[str]:
        """The names ``text`` mentions (see :func:`_mentions`), sorted.

        Where many names share their first word (AGENT 1 … AGENT 400, each named in each scene), a search
        each over the scene was (names × text) again. ``\\bNAME\\b`` for a name that starts and ends with a
        letter is the text from the start of a word to the end of the n-th word after it, equal to the name:
        those stretches are gathered once and each such name looked up."""
        keys = set(_WORD.findall(text)) | {run[0] for run in _HANGUL_RUN.findall(text)}
        candidates = [name for key in keys & self.by_key.keys() for name in self.by_key[key]] + self.always
        if len(candidates) <= _FEW_NAMES:
            return sorted(name for name in candidates if _mention_pattern(name).search(text))
        words = [match.span() for match in _WORD.finditer(text)]
        stretches: dict[int, set[str]] = {}
        found = []
        for name in candidates:
            count = self.words.get(name)
            if count is None:
                if _mention_pattern(name).search(text):
                    found.append(name)
                continue
            if count not in stretches:
                stretches[count] = {text[words[i][0]:words[i + count - 1][1]] for i in range(len(words) - count + 1)}
            if name in stretches[count]:
                found.append(name)
        return sorted(found)


_FEW_NAMES = 16     # up to this many candidates, a search each is cheaper than gathering the stretches


def _mention_key(name: str) -> str | None:
    """What a text must hold, as a word (or a run of Hangul's first syllable), to mention ``name``."""
    if re.search(f"[{_HANGUL}]", name):
        return name[0] if re.match(f"[{_HANGUL}]", name) else None
    first = _WORD.match(name)
    return first[0] if first else None


def _mentions(text: str, name: str) -> bool:
    return _mention_pattern(name).search(text) is not None


@lru_cache(maxsize=65536)
def _mention_pattern(name: str) -> re.Pattern[str]:
    """Compiled once per name (re's own cache holds 512, fewer than a large cast)."""
    if re.search(f"[{_HANGUL}]", name):
        return re.compile(rf"(?<![{_HANGUL}]){re.escape(name)}")
    return re.compile(rf"\b{re.escape(name)}\b")


def _introduced(action: str) -> list[str]:
    """Names introduced in capitals with an age or a word in brackets: ``ANNA KIM (30s)``, ``THE MONK (OLD)``.

    Found from each bracket back to the start of the run of capitalised words before it, so the work is
    linear; the regex it replaces (``\\b([A-Z][A-Z'-]+(?: [A-Z][A-Z'-]+)*) \\((?:\\d+s?|[A-Z]+)\\)``, whose
    matches these are) rescanned every run of capitals from each of its words: a page of them took minutes."""
    names = []
    for tail in _INTRO_TAIL.finditer(action):
        start, end = None, tail.start()
        while True:
            begin = end
            while begin and action[begin - 1] in _NAME_CHARS:
                begin -= 1
            first = next((i for i in range(begin, end - 1)
                          if "A" <= action[i] <= "Z" and not (i and _WORD.match(action, i - 1))), None)
            if first is None:
                break
            start = first
            if first != begin or begin < 2 or action[begin - 1] != " " or action[begin - 2] not in _NAME_CHARS:
                break
            end = begin - 1
        if start is not None:
            names.append(action[start:tail.start()])
    return names


def _slug(*parts: str | None) -> str:
    text = "-".join(p for p in parts if p)
    return re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-") or "set"


def lock_scene_ids(headings: Sequence[tuple[str | None, str]], locked: Sequence[tuple[str, str]],
                   ) -> tuple[list[str], list[str]]:
    """Give every scene an id that survives script revisions, as a production office locks scene numbers.

    ``headings`` is (number written in the script, heading fingerprint) per scene; ``locked`` is the
    (id, fingerprint) list from the last run. A number written in the script always wins. Other scenes keep
    the id of the locked scene they align with; a new scene takes its predecessor's id plus a letter (12A);
    locked ids that no longer align are returned as omitted.
    """
    ids: list[str | None] = [number for number, _ in headings]
    if locked:
        for old, new in _aligned([fp for _, fp in locked], [fp for _, fp in headings]):
            if ids[new] is None:
                ids[new] = locked[old][0]
    used = {i for i in ids if i}
    counter = 0
    for index, current in enumerate(ids):
        if current is not None:
            continue
        if not locked:
            counter += 1
            while str(counter) in used:
                counter += 1
            ids[index] = str(counter)
        else:
            before = ids[index - 1] if index else None
            ids[index] = _insert_id(before, used)
        used.add(ids[index] or "")
    final = [i or "" for i in ids]
    omitted = [old for old, _ in locked if old not in used]
    return final, omitted


def _aligned(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """(index in old, index in new) of the scenes that align, as a diff of the two lists aligns them.

    The run of equal scenes at each end aligns directly and only the middle goes to difflib, whose matching
    is quadratic where fingerprints repeat (50,000 identical headings took minutes on a re-run)."""
    head, most = 0, min(len(old), len(new))
    while head < most and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < most - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    pairs = [(index, index) for index in range(head)]
    matcher = difflib.SequenceMatcher(a=old[head:len(old) - tail], b=new[head:len(new) - tail], autojunk=False)
    for block in matcher.get_matching_blocks():
        pairs += [(head + block.a + offset, head + block.b + offset) for offset in range(block.size)]
    return pairs + [(len(old) - tail + offset, len(new) - tail + offset) for offset in range(tail)]


def _insert_id(before: str | None, used: set[str]) -> str:
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        candidate = f"{before}{letter}" if before else f"{letter}1"
        if candidate not in used:
            return candidate
    raise ScreenplayError(f"too many scenes inserted after scene {before}")


def _check_unique_numbers(raw: list[_RawScene], source: Path | None) -> None:
    first_line: dict[str, int] = {}
    for scene in raw:
        assert scene.heading.heading is not None
        number = scene.heading.heading.number
        if number is None:
            continue
        if len(number) > SCENE_NUMBER_MAX:      # its shots are <number>-1…, and a shot id names files
            raise ScreenplayError(f"scene number {number[:SCENE_NUMBER_MAX]}… is {len(number)} characters; at most "
                                  f"{SCENE_NUMBER_MAX}", path=source, line=scene.heading.line)
        if not SHOT_ID.fullmatch(number):
            written = re.sub(r"[^\w.-]", "", number)
            raise ScreenplayError(f"scene number {number!r} cannot name its shots: it may hold only letters, digits, "
                                  "'.', '_' and '-', starting with a letter or digit", path=source,
                                  line=scene.heading.line, hint=f"write it {written!r}")
        if number in first_line:
            raise ScreenplayError(
                f"scene number {number} is used twice (first at line {first_line[number]})",
                path=source, line=scene.heading.line,
            )
        first_line[number] = scene.heading.line


def fingerprint(element: Element) -> str:
    heading = element.heading
    assert heading is not None
    return " ".join(filter(None, (heading.int_ext, heading.location.upper(), heading.time)))


# ---------------------------------------------------------------------------------------------- cast


# What may follow a Korean name and still be the name: its particles, longest first (용이, 용을, 용에게서…).
_CAST_PARTICLES = sorted(["이", "가", "을", "를", "은", "는", "의", "도", "와", "과", "로", "으로", "에", "에게",
                          "에게서", "에서", "한테", "께", "처럼", "보다", "만", "까지", "부터", "이나", "나", "랑",
                          "이랑", "아", "야", "이다", "였다", "이었다", "조차", "마저"], key=len, reverse=True)


def cast_named(texts: Iterable[str], cast: Sequence[CastMember]) -> list[str]:
    """The cast members (their cast names, sorted) that ``texts`` (a scene's action and notes) name.

    An English name is a whole word in any case (``dragon's`` names the dragon, ``dragonfly`` does not); a
    Korean name stands after no syllable and before none, save a particle (용이, 용을, 용은, 용에게; not 용도)."""
    text = "\n".join(unicodedata.normalize("NFC", part) for part in texts)
    return sorted(member.name for member in cast if _cast_pattern(member.names).search(text))


def _lookalikes(name: str) -> list[str]:
    """Words that start like ``name`` but mean something else, as ``elements.toml`` lists them for the element
    the name is a word of (용도, a use, is not the dragon 용 with 도)."""
    return [word for item in element_table()["element"] if name in item["words"] for word in item.get("lookalikes", ())]


@lru_cache(maxsize=1024)
def _cast_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    particles = "|".join(_CAST_PARTICLES)
    forms = []
    for name in sorted(names, key=len, reverse=True):
        written = re.escape(unicodedata.normalize("NFC", name.strip()))
        if not written:
            continue
        if re.search(f"[{_HANGUL}]", name):
            others = "".join(f"(?!{re.escape(word)})" for word in _lookalikes(name))
            forms.append(rf"(?<![{_HANGUL}]){others}{written}(?:{particles})?(?![{_HANGUL}])")
        else:
            forms.append(rf"(?<!\w){written}(?:e?s)?(?!\w)")   # and its plural
    return re.compile("|".join(forms) or r"(?!)", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------- prompts


_TIME_WORDS = {"DAY": "in daylight", "NIGHT": "at night", "DAWN": "at dawn", "DUSK": "at dusk",
               "MORNING": "in the morning", "EVENING": "in the evening", "AFTERNOON": "in the afternoon"}


def set_prompt(location: str, time: str | None, look: str) -> str:
    """What the set generator is asked for: the place, empty of actors, in the film's look."""
    place = location.lower() if location.isupper() else location
    parts = [f"{place} {_TIME_WORDS.get(time or '', '')}".strip(), "wide establishing background plate, no people"]
    return ". ".join(parts + ([look] if look else []))


def shot_prompt(scene: Scene, elements: Iterable[str], look: str, override: str | None) -> str:
    place = scene.location.lower() if scene.location.isupper() else scene.location
    action = override or _first_sentences(scene.action, 2)
    parts = [f"{place} {_TIME_WORDS.get(scene.time or '', '')}".strip()]
    if action:
        parts.append(action)
    names = list(dict.fromkeys(elements))
    if names:
        parts.append("with " + ", ".join(names))
    if look:
        parts.append(look)
    return ". ".join(p.rstrip(".") for p in parts)


def _first_sentences(text: str, count: int) -> str:
    flat = " ".join(text.split())
    sentences = re.split(r"(?<=[.!?。])\s+", flat)
    return " ".join(sentences[:count])


# ---------------------------------------------------------------------------------------------- breakdown


def break_down(
    screenplay: Screenplay,
    *,
    look: str = "",
    shot_duration: float = 4.0,
    seed: int = 1,
    plan: ShotPlan | None = None,
    locked: Sequence[tuple[str, str]] = (),
    comp: CompSettings | None = None,
    members: Sequence[CastMember] = (),
) -> Breakdown:
    """Scenes, sets and shots of a screenplay. Pure: state (the locked ids, shots.toml, the cast's
    ``members``) comes in as arguments."""
    raw = _split_scenes(screenplay)
    if not raw:
        raise ScreenplayError("has no scene headings, so there is nothing to break down",
                              path=screenplay.source, hint="start scenes with INT./EXT. or S#1.")
    _check_unique_numbers(raw, screenplay.source)
    ids, omitted = lock_scene_ids([(s.heading.heading.number if s.heading.heading else None,
                                    fingerprint(s.heading)) for s in raw], locked)
    cast = _Cast({e.character for e in screenplay.elements if e.kind is Kind.CHARACTER and e.character})

    scenes: list[Scene] = []
    sets: dict[str, SetDesign] = {}
    orders: dict[str, dict[str, Literal["front", "behind"]]] = {}
    for scene_id, item in zip(ids, raw, strict=True):
        heading = item.heading.heading
        assert heading is not None
        speaking = list(dict.fromkeys(e.character for e in item.body if e.kind is Kind.CHARACTER and e.character))
        elements: dict[str, ElementRef] = {}
        for element in [item.heading, *item.body]:
            found = elements_from_note_list(element)
            if element.kind in (Kind.ACTION, Kind.SCENE_HEADING):
                found += find_elements(element.text, element.line)
            for ref in found:
                elements.setdefault(ref.name, ref)
        orders[scene_id] = element_orders(
            [*(e.text for e in item.body if e.kind in (Kind.ACTION, Kind.NOTE)), *(n for e in [item.heading, *item.body]
                                                                      for n in e.notes)])
        set_id = _slug(heading.location, heading.time)
        if set_id not in sets:
            sets[set_id] = SetDesign.model_construct(id=set_id, location=heading.location, time=heading.time,
                                                     prompt=set_prompt(heading.location, heading.time, look))
        # built from typed values, so not validated again (validation was a third of a breakdown's time)
        scenes.append(Scene.model_construct(
            id=scene_id, number=scene_id, int_ext=heading.int_ext, location=heading.location, time=heading.time,
            time_original=heading.time_original, eighths=eighths_of_page(item), line=item.heading.line,
            characters=speaking, non_speaking=_non_speaking(item, speaking, cast),
            elements=list(elements.values()), set=set_id, lines=_lines(item.body),
            cast=cast_named([e.text for e in item.body if e.kind in (Kind.ACTION, Kind.NOTE)]
                            + [note for e in (item.heading, *item.body) for note in e.notes], members),
            action="\n".join(e.text for e in item.body if e.kind is Kind.ACTION),
        ))

    shots, warnings = _plan_shots(scenes, plan or ShotPlan(()), look, shot_duration, seed,
                                  comp or CompSettings.model_construct(), orders, members)
    return Breakdown.model_construct(title=screenplay.title, scenes=scenes, sets=list(sets.values()), shots=shots,
                                     omitted=omitted, warnings=[*screenplay.warnings, *warnings])


def _lines(body: list[Element]) -> list[Line]:
    """The scene's spoken lines: each dialogue (or sung) paragraph under its cue, with the parenthetical
    written just before it."""
    lines: list[Line] = []
    cue: Element | None = None
    aside: str | None = None
    for element in body:
        if element.kind is Kind.CHARACTER:
            cue, aside = element, None
        elif cue is None:
            continue
        elif element.kind is Kind.PARENTHETICAL:
            aside = " ".join(element.text.split())
        elif element.kind in (Kind.DIALOGUE, Kind.LYRICS) and element.text.strip():
            lines.append(Line.model_construct(character=cue.character or cue.text, text=" ".join(element.text.split()),
                                              parenthetical=aside, extension=cue.extension, line=element.line))
            aside = None
        else:
            cue = None
    return lines


def elements_from_note_list(element: Element) -> list[ElementRef]:
    texts = list(element.notes) + ([element.text] if element.kind is Kind.NOTE else [])
    return [ref for text in texts for ref in elements_from_note(text, element.line)]


def _plan_shots(scenes: list[Scene], plan: ShotPlan, look: str, shot_duration: float, seed: int,
                comp: CompSettings, orders: dict[str, dict[str, Literal["front", "behind"]]] | None = None,
                cast: Sequence[CastMember] = ()) -> tuple[list[Shot], list[str]]:
    by_scene: dict[str, list[ShotEntry]] = {}
    warnings = []
    known = {scene.id for scene in scenes}
    for entry in plan.entries:
        if entry.scene not in known:
            warnings.append(f"shot {entry.id} in shots.toml belongs to scene {entry.scene}, which is not in the "
                            "screenplay (omitted?); it is kept in shots.toml and not rendered")
            continue
        by_scene.setdefault(entry.scene, []).append(entry)

    shots = []
    members = {member.name: member for member in cast}
    for scene in scenes:
        detected = [ref.name for ref in scene.elements if ref.category in ("vfx", "effects")]
        entries = by_scene.get(scene.id) or [_default_entry().model_copy(update={"id": f"{scene.id}-1",
                                                                                 "scene": scene.id})]
        shares = _share_lines(scene, entries, shot_duration, warnings)
        for index, entry in enumerate(entries):
            placed = entry.placements()
            in_shot = sorted(set(entry.cast)) if entry.cast is not None else scene.cast
            names = _with_cast([p.name for p in placed] if placed is not None else detected,
                               [members[n] for n in in_shot if n in members], cast, explicit=placed is not None)
            given = {p.name: p for p in placed or ()}
            placements = _ordered([given.get(name) or ElementPlacement.model_construct(name=name) for name in names],
                                  (orders or {}).get(scene.id, {}))
            elements = [p.name for p in placements]
            shots.append(Shot.model_construct(     # typed values: shots.toml's entry was validated when read
                id=entry.id, scene=scene.id, set=scene.set,
                prompt=shot_prompt(scene, elements, look, entry.prompt),
                plate=entry.plate, duration=float(entry.duration or shot_duration), elements=elements,
                placements=placements, cast=in_shot,
                camera=entry.camera, screen=entry.screen, engine=entry.engine, background=entry.background,
                plate_space=entry.plate_space,
                first_frame=entry.first_frame, last_frame=entry.last_frame,
                key=entry.key, comp=_shot_comp(comp, entry.comp), sound=entry.sound, lines=shares[index],
                seed=entry.seed if entry.seed is not None else seed + _stable_number(scene.id) * 100 + index,
            ))
    return shots, warnings


@cache
def _default_entry() -> ShotEntry:
    """The entry of a scene shots.toml has no shot for: every setting its default. Made once, unvalidated (a
    default is valid as it stands; a bare screenplay's breakdown then builds no validator), and copied per scene:
    its settings are read, never changed."""
    return ShotEntry.model_construct(id="", scene="", camera=Camera.model_construct(),
                                     key=KeySettings.model_construct(), comp=CompSettings.model_construct(),
                                     sound=ShotSound.model_construct())


def _ordered(placements: list[ElementPlacement], orders: dict[str, Literal["front", "behind"]],
             ) -> list[ElementPlacement]:
    """The shot's placements with the order the script's notes give where shots.toml gives none."""
    return [p.model_copy(update={"order": orders[p.name]}) if p.order is None and p.name in orders else p
            for p in placements]


def _with_cast(elements: Sequence[str], in_shot: Sequence[CastMember], cast: Sequence[CastMember], *,
               explicit: bool) -> list[str]:
    """The shot's elements with each generated cast member in it as one more, by its cast name. An element the
    script names by a cast member's name is that member (the dragon, not a second, generic one), in the shot
    only where it is cast; what the crew listed in shots.toml is kept as written."""
    taken = {name.lower() for member in cast for name in member.names}
    kept = [name for name in elements if explicit or name.lower() not in taken]
    return list(dict.fromkeys([*kept, *(member.name for member in in_shot if member.generated)]))


def _share_lines(scene: Scene, entries: list[ShotEntry], shot_duration: float, warnings: list[str]
                 ) -> list[list[int]]:
    """Which of the scene's lines each shot plays (numbers from 1). A shot that lists its ``lines`` plays
    those; the rest go, in order, to the other shots that have plates (else to all the others), each taking
    a run as long as its share of their running time, as the coverage of a scene is usually cut."""
    count = len(scene.lines)
    shares: list[list[int]] = [[] for _ in entries]
    claimed: set[int] = set()
    for index, entry in enumerate(entries):
        if entry.lines is None:
            continue
        beyond = [number for number in entry.lines if number > count]
        if beyond:
            warnings.append(f"shot {entry.id} in shots.toml plays line {beyond[0]} of scene {scene.id}, which has "
                            f"{count} line{'s' * (count != 1)}; left out")
        shares[index] = [number for number in entry.lines if number <= count]
        claimed.update(shares[index])
    free = [number for number in range(1, count + 1) if number not in claimed]
    open_ = [index for index, entry in enumerate(entries) if entry.lines is None]
    takers = [index for index in open_ if entries[index].plate] or open_
    if not free or not takers:
        return shares
    lengths = [float(entries[index].duration or shot_duration) for index in takers]
    total, ends, running = sum(lengths), [], 0.0
    for length in lengths:
        running += length
        ends.append(running)
    for position, number in enumerate(free):
        middle = (position + 0.5) / len(free) * total
        shares[takers[next(i for i, end in enumerate(ends) if middle <= end or i == len(ends) - 1)]].append(number)
    return shares


def _shot_comp(film: CompSettings, shot: CompSettings) -> CompSettings:
    """The film's [comp] with what the shot's own ``comp`` sets on top; element blend modes merge."""
    changes = {name: getattr(shot, name) for name in shot.model_fields_set}
    changes["blend"] = {**film.blend, **shot.blend}
    return film.model_copy(update=changes)


def _stable_number(text: str) -> int:
    """A small number from an id, the same on every machine (str hash() is salted per process)."""
    return sum(ord(ch) * (i + 1) for i, ch in enumerate(text)) % 10_000
