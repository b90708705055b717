"""Scene headings and character cues: the two lines a screenplay reader must recognise on sight.

Both the Fountain and the Final Draft parser call these, so an ``INT. HOUSE - NIGHT`` or a ``S#12. 한옥 지붕 위
(밤)`` means the same scene whichever file it came from.

Scene headings
    English: ``INT.``, ``EXT.``, ``EST.``, ``INT./EXT.``, ``INT/EXT``, ``I/E`` (any case, then a dot or a space).
    ``EST.`` (an establishing shot) counts as ``EXT``; ``I/E`` as ``INT/EXT``. A trailing Fountain scene
    number ``#12A#`` becomes ``Heading.number``. The time of day is the part after the last `` - ``, or a known
    time word in a trailing ``(...)``.

    Korean convention: ``S#12. 한옥 지붕 위 (밤)``, ``S#3 집 앞 / 낮``, ``S#4. 거실 - 낮``. Only ``S#`` starts a
    Korean heading, so a Fountain section (``# ACT ONE``) is never mistaken for one. ``실내``/``내부`` give
    ``INT``, ``실외``/``외부``/``야외`` give ``EXT``, written first (``S#5. 실내 - 카페 (낮)``) or inside the
    brackets (``S#5. 카페 (실내, 낮)``). A Korean heading may be followed directly by action without a blank
    line, as Korean scripts are written; an English one needs the blank line the Fountain spec asks for.

    Times are normalised to one upper-case word list (``DAY``, ``NIGHT``, ``DAWN``, ``DUSK``, ``MORNING``,
    ``EVENING``, ``AFTERNOON``, ``CONTINUOUS``, ``LATER``, ``MOMENTS LATER``, ``SAME``) so a set is shared by
    every scene at one place and time; what the writer typed stays in ``Heading.time_original``. A time that
    is not in the list is kept, upper-cased.

Character cues
    Fountain's rule: a line entirely in upper case (at least one letter), after a blank line, with dialogue
    on the very next line. ``(V.O.)``-style extensions may be in any case. ``@`` forces a cue.

    Hangul has no upper case, so for a name with Hangul in it the rule is: the name (the part before any
    ``(extension)``) is at most 20 characters of Hangul, upper-case Latin letters, digits, spaces and
    hyphens, with at least one Hangul syllable; it stands after a blank line with dialogue on the very next
    line; and it is not a scene heading or a transition. So ``민지`` or ``형사 2 (V.O.)`` followed by a line of
    speech is a cue, while ``민지가 달린다.`` is action (the full stop is not allowed in a name). A short Hangul
    action line without a full stop, directly followed by another line, would read as a cue: write it with a
    leading ``!`` (forced action), or force a cue with ``@``.
"""

from __future__ import annotations

import re
from pathlib import Path

from soundstage.errors import ScreenplayError
from soundstage.script.model import Heading

__all__ = [
    "MAX_SCENES",
    "TIMES",
    "count_scene",
    "is_cue",
    "is_heading",
    "is_korean_heading",
    "is_transition",
    "normalise_time",
    "parse_heading",
    "split_cue",
    "split_scene_number",
]

# Written time of day (upper-cased, spaces collapsed) → the word every later stage uses.
TIMES: dict[str, str] = {
    **{word: word for word in (
        "DAY", "NIGHT", "DAWN", "DUSK", "MORNING", "EVENING", "AFTERNOON",
        "CONTINUOUS", "LATER", "MOMENTS LATER", "SAME",
    )},
    "SUNSET": "DUSK", "SUNRISE": "DAWN", "TWILIGHT": "DUSK", "MIDNIGHT": "NIGHT", "NOON": "DAY",
    "SAME TIME": "SAME", "A MOMENT LATER": "MOMENTS LATER", "MOMENT LATER": "MOMENTS LATER",
    "낮": "DAY", "한낮": "DAY", "밤": "NIGHT", "한밤": "NIGHT", "밤중": "NIGHT", "심야": "NIGHT",
    "새벽": "DAWN", "동틀녘": "DAWN", "새벽녘": "DAWN", "아침": "MORNING", "오전": "MORNING",
    "오후": "AFTERNOON", "저녁": "EVENING", "황혼": "DUSK", "해질녘": "DUSK", "해 질 녘": "DUSK", "노을": "DUSK",
    "계속": "CONTINUOUS", "잠시 후": "LATER", "같은 시각": "SAME", "동시": "SAME",
}

_KOREAN_PLACE = {"실내": "INT", "내부": "INT", "실외": "EXT", "외부": "EXT", "야외": "EXT", "실내외": "INT/EXT"}
_PLACE_WORDS = {**_KOREAN_PLACE, "INT": "INT", "EXT": "EXT", "INT/EXT": "INT/EXT", "I/E": "INT/EXT"}

_ENGLISH = re.compile(
    r"(?P<prefix>INT\.?\s*/\s*EXT|EXT\.?\s*/\s*INT|INT|EXT|EST|I/E|E/I)(?:\.\s*|\s+)", re.IGNORECASE
)
_KOREAN = re.compile(r"[Ss]#\s*(?P<number>[0-9][0-9A-Za-z-]*?)(?:\.\s*|\s+|$)")
_KOREAN_LEAD = re.compile(r"(?P<place>실내외|실내|내부|실외|외부|야외)\s*[-–—.,/:]\s*")
_SCENE_NUMBER = re.compile(r"#(?P<number>[0-9A-Za-z][0-9A-Za-z.\-]*)#\s*$")
_DASH = re.compile(r"(?<!\s)\s+(?:--?|–|—)\s+")
_SLASH = re.compile(r"(?<!\s)\s+/\s+")
_TRAILING_BRACKETS = re.compile(r"\((?P<inside>[^()]*)\)\s*$")
_SPACES = re.compile(r"\s+")
# None of these starts with \s* or tries a match inside a run of spaces: searched, such a pattern rescans the
# run from each of its characters, and a heading of 100,000 spaces took minutes. Callers strip instead.

_HANGUL_NAME = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318fA-Z0-9 \-]{1,20}")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_EXTENSION = re.compile(r"\(([^()]*)\)")


def is_heading(line: str) -> bool:
    """True when ``line`` (already stripped) opens like a scene heading, English or Korean."""
    return bool(_ENGLISH.match(line) or _KOREAN.match(line))


def is_korean_heading(line: str) -> bool:
    """True for ``S#…`` headings, which need no blank line after them."""
    return _KOREAN.match(line) is not None


def is_transition(line: str) -> bool:
    """Fountain's natural transition: upper case and ending in ``TO:`` (``CUT TO:``, ``SMASH CUT TO:``)."""
    return line.endswith("TO:") and line.isupper()


# A feature has 100 to 250 scenes and a whole drama series a few thousand; 10 MB of realistic script (the
# size limit) holds about 5,500. Past this many, a file is not one screenplay, and each scene costs the
# breakdown and every table (600,000 one-line headings fit in 10 MB and took a minute to parse).
MAX_SCENES = 10_000


def count_scene(count: int, path: Path | None, line: int) -> int:
    """``count`` + 1, the scenes read so far; a screenplay with more than :data:`MAX_SCENES` is refused here."""
    if count >= MAX_SCENES:
        raise ScreenplayError(f"has more than {MAX_SCENES:,} scenes; that is not one screenplay", path=path,
                              line=line, hint="split it into episodes or parts, a file each")
    return count + 1


def split_scene_number(text: str) -> tuple[str, str | None]:
    """``INT. HOUSE - DAY #12A#`` → (``INT. HOUSE - DAY``, ``12A``)."""
    match = _SCENE_NUMBER.search(text)
    if match is None:
        return text, None
    return text[: match.start()].rstrip(), match["number"]


def normalise_time(written: str) -> str:
    """The crew's word for a written time of day; unknown times are kept, upper-cased."""
    key = _time_key(written)
    return TIMES.get(key, key)


def _time_key(word: str) -> str:
    return _SPACES.sub(" ", word.strip().rstrip(".")).upper()


def _known(word: str) -> str | None:
    return TIMES.get(_time_key(word))


def _place(word: str) -> str | None:
    return _PLACE_WORDS.get(word.strip().rstrip(".").upper().replace(" ", "").replace("./", "/"))


def parse_heading(text: str, number: str | None = None) -> Heading:
    """Split a scene heading (without Fountain's forcing ``.``) into INT/EXT, location, time and number."""
    rest, written_number = split_scene_number(text.strip())
    number = number or written_number
    int_ext: str | None = None

    korean = _KOREAN.match(rest)
    if korean:
        number = number or korean["number"]
        rest = rest[korean.end():]
    english = _ENGLISH.match(rest)
    if english:
        prefix = english["prefix"].upper().replace(" ", "").replace(".", "")
        int_ext = {"INT": "INT", "EXT": "EXT", "EST": "EXT"}.get(prefix, "INT/EXT")
        rest = rest[english.end():]
    elif korean and (lead := _KOREAN_LEAD.match(rest)):
        int_ext = _KOREAN_PLACE[lead["place"]]
        rest = rest[lead.end():]

    location, time_original, bracket_place = _split_time(rest.strip())
    return Heading(
        int_ext=int_ext or bracket_place,
        location=location,
        time=normalise_time(time_original) if time_original else None,
        time_original=time_original,
        number=number,
    )


def _split_time(rest: str) -> tuple[str, str | None, str | None]:
    """(location, time as written, INT/EXT found in brackets) from what follows the INT/EXT prefix."""
    brackets = _TRAILING_BRACKETS.search(rest)
    if brackets:
        words = [w.strip() for w in re.split(r"[,/]", brackets["inside"]) if w.strip()]
        times = [w for w in words if _known(w)]
        places = [w for w in words if _place(w)]
        if times or places:
            others = [w for w in words if w not in times and w not in places]
            location = rest[: brackets.start()].rstrip()
            if others:
                location += f" ({', '.join(others)})"
            if not times:   # `카페 - 밤 (실내)`: the time may still sit before the brackets
                location, time, _ = _split_time(location)
                return location, time, _place(places[0])
            return location, times[-1], _place(places[0]) if places else None
    for separator in (_DASH, _SLASH):
        found = list(separator.finditer(rest))
        if found and rest[found[-1].end():].strip():
            return rest[: found[-1].start()].strip(), rest[found[-1].end():].strip(), None
    if ", " in rest:
        location, _, last = rest.rpartition(", ")
        if _known(last):
            return location.strip(), last.strip(), None
    return rest, None, None


def split_cue(text: str) -> tuple[str, str | None]:
    """``MIN-JI (V.O.)`` → (``MIN-JI``, ``V.O.``); several extensions are joined with ``, ``."""
    name, bracket, after = text.partition("(")
    if not bracket:
        return text.strip(), None
    extensions = [e.strip() for e in _EXTENSION.findall(bracket + after) if e.strip()]
    return name.strip(), ", ".join(extensions) or None


def is_cue(line: str) -> bool:
    """Whether a stripped line, after a blank line and before another line, is a character cue.

    The caller checks the blank line before and the dialogue after; this checks the line itself
    (see the module docstring for the English and the Hangul rule).
    """
    if line.endswith("^"):
        line = line[:-1].rstrip()
    name, _ = split_cue(line)
    if not name or is_heading(line) or is_transition(line):
        return False
    if name.isupper():
        return True
    return _HANGUL_NAME.fullmatch(name) is not None and _HANGUL.search(name) is not None
