"""Our own Fountain 1.1 parser (https://fountain.io/syntax) into the typed screenplay model.

Why our own: every element must keep the 1-based source line it came from, Korean scripts (``S#`` headings,
Hangul names, see :mod:`soundstage.script.heading`) must work, and a feature-length script must parse in a
few milliseconds. The parser runs once over the lines, groups them into paragraphs (text between blank
lines) and decides each paragraph from its first line, as a reader does.

How the parts of the spec are read:

- Boneyard ``/* ... */`` and notes ``[[ ... ]]`` are taken out of the text first, each replaced by as many
  line ends as it spanned, so every later line keeps its number. A line that held nothing but boneyard
  vanishes (it neither breaks nor joins paragraphs). An unclosed ``/*`` is an error at the line it opened.
- A note that is the only thing in its paragraph is a :attr:`Kind.NOTE` element (one per note, each at its
  own line). Any other note is inline: it is removed from the text and kept in ``Element.notes`` of the
  element it sits in (a note on a line of its own inside a paragraph goes with the line before it). Notes
  may span lines but not a blank line (a line of two spaces keeps them together, as the spec says).
- A line of two or more spaces and nothing else keeps a paragraph together (the spec's blank line inside
  dialogue); other whitespace-only lines are blank.
- Scene headings and transitions stand alone between blank lines, as the spec requires. ``S#`` Korean
  headings only need the blank line before them.
- Dual dialogue: the caret on the second cue (``STEEL ^``) marks *both* speeches, each character,
  parenthetical, dialogue and lyric element of the two blocks, ``dual=True``; the first of the two cues is
  the left column. A caret with no speech right before it is ignored. Final Draft's ``<DualDialogue>``
  wraps both speeches too, so both formats give the same model.
- Action keeps its indentation (tabs become four spaces) and its line breaks; other elements are stripped.
- Emphasis ``*italic*``, ``**bold**``, ``***bold italic***``, ``_underline_`` (nestable, never across a
  line break, ``\\*`` and ``\\_`` for the characters themselves) becomes ``Element.runs``; ``Element.text``
  is the plain text. An underscore inside a word (``snake_case``) is not emphasis. A line with more than
  :data:`MAX_LINE_MARKS` marks, more than one character in 16, is not prose: its marks stay as written, and
  ``Screenplay.warnings`` says where (the breakdown passes it on).
- More than :data:`~soundstage.script.heading.MAX_SCENES` scene headings are refused at the first one too many.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from soundstage.errors import ScreenplayError
from soundstage.script.heading import (
    count_scene,
    is_cue,
    is_heading,
    is_korean_heading,
    is_transition,
    parse_heading,
    split_cue,
    split_scene_number,
)
from soundstage.script.model import Element, Kind, Run, Screenplay
from soundstage.script.text import normalise_newlines

__all__ = ["parse_fountain", "styled"]

# Private-use stand-ins (Unicode noncharacters, never in a real script) for text taken out before parsing.
_VANISH = "\ufdd2"                      # on a line that held only boneyard or the rest of a note
_NOTE_OPEN, _NOTE_CLOSE = "\ufdd0", "\ufdd1"
_STAR, _UNDERSCORE = "\ufdd3", "\ufdd4"  # escaped \* and \_

_NOTE = re.compile(r"\[\[((?:[^\[\]]|\[(?!\[)|\](?!\]))*)\]\]")
# from the start of the spaces before a note (a match tried inside them would rescan them all)
_NOTE_REF = re.compile(r"(?<![ \t])[ \t]*\ufdd0(\d+)\ufdd1")
_TITLE_KEY = re.compile(r"([^\s:!.@#=~>\[][^:]*):[ \t]*(.*)")
_FORCED_HEADING = re.compile(r"\.(?=\w)")
_PAGE_BREAK = re.compile(r"={3,}")
_Line = tuple[int, str, tuple[str, ...]]   # (1-based source line, text, inline notes on it)


def parse_fountain(text: str, source: str | Path | None = None) -> Screenplay:
    """Parse Fountain text; ``source`` is the file it came from, named in errors and kept on the result."""
    path = Path(source) if source is not None else None
    return _Parser(normalise_newlines(text), path).parse()


def styled(text: str) -> tuple[str, tuple[Run, ...]]:
    """(plain text, emphasis runs) of a piece of Fountain text."""
    return _styled(text)[:2]


# A line holding more than this many emphasis marks, where they are more than one character in
# _MARK_SHARE, is not prose: its marks are taken literally (and the parser says so). Reading each mark costs
# a few microseconds of Python, so without this a 10 MB line of marks took 20 s; a real line this dense
# does not occur (a page of action with a dozen emphasised words has a few dozen marks, one in 50 characters).
MAX_LINE_MARKS = 64
_MARK_SHARE = 16


def _styled(text: str) -> tuple[str, tuple[Run, ...], tuple[int, ...]]:
    """(plain text, emphasis runs, 0-based offsets of the lines whose marks were taken literally)."""
    if not text:
        return "", (), ()
    if "*" not in text and "_" not in text:
        return text, (Run(text),), ()
    text = text.replace("\\*", _STAR).replace("\\_", _UNDERSCORE)
    text, literal = _literal_dense_lines(text)
    run = _run if _STAR in text or _UNDERSCORE in text else Run   # put back escaped marks, if any
    runs: list[Run] = []
    parts: list[str] = []
    style: tuple[bool, bool, bool] | None = None
    for part, bold, italic, underline in _emphasis(text):
        if part and (bold, italic, underline) != style:
            if parts and style is not None:
                runs.append(run("".join(parts), *style))
            parts, style = [], (bold, italic, underline)
        parts.append(part)
    if parts and style is not None:
        runs.append(run("".join(parts), *style))
    return "".join(run.text for run in runs), tuple(runs), literal


def _literal_dense_lines(text: str) -> tuple[str, tuple[int, ...]]:
    """``text`` with the marks of each too dense line escaped (emphasis never crosses a line, so the other
    lines read as before), and the offsets of those lines. Counted by ``str.count``, at C speed."""
    if text.count("*") + text.count("_") <= MAX_LINE_MARKS:
        return text, ()
    lines = text.split("\n")
    literal = []
    for offset, line in enumerate(lines):
        marks = line.count("*") + line.count("_")
        if marks > MAX_LINE_MARKS and marks * _MARK_SHARE > len(line):
            lines[offset] = line.replace("*", _STAR).replace("_", _UNDERSCORE)
            literal.append(offset)
    return ("\n".join(lines), tuple(literal)) if literal else (text, ())


def _run(text: str, bold: bool, italic: bool, underline: bool) -> Run:
    return Run(text.replace(_STAR, "*").replace(_UNDERSCORE, "_"), bold, italic, underline)


# Where each closing mark may stand, judged on what precedes it (and, for * and _, what follows it).
_CLOSERS = {
    "***": re.compile(r"(?<=\S)(?=\*\*\*)"),
    "**": re.compile(r"(?<=\S)(?=\*\*)"),
    "*": re.compile(r"(?<=[^\s*])(?=\*)"),
    "_": re.compile(r"(?<=\S)(?=_)"),
}
_FOLLOWS_CLOSER = {"*": re.compile(r"\*"), "_": re.compile(r"[^\W_]")}   # what may not follow a closing * or _
_WORDY = _FOLLOWS_CLOSER["_"]
_OPENERS = {"***": r"\*\*\*(?=\S)", "**": r"\*\*(?=\S)", "*": r"\*(?=[^\s*])", "_": r"(?<![^\W_])_(?=\S)"}


@cache
def _openers(marks: frozenset[str]) -> re.Pattern[str]:
    """Where an opening mark of one of ``marks`` may stand."""
    return re.compile("|".join(_OPENERS[mark] for mark in sorted(marks)))


class _Closers:
    """Every position where a closing mark may stand, found once per text, so that finding the first closer
    after an opening mark is a bisection rather than a scan to the end of the line (which made a line of
    unclosed marks quadratic)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.anywhere = {mark: [m.start() for m in pattern.finditer(text)] if mark[0] in text else []
                         for mark, pattern in _CLOSERS.items()}
        self.free = {mark: [q for q in self.anywhere[mark] if not after.match(text, q + 1)]
                     for mark, after in _FOLLOWS_CLOSER.items()}
        self.reaches: dict[tuple[int, int], dict[str, int]] = {}

    def line_end(self, position: int) -> int:
        index = bisect_left(self.newlines, position)
        return self.newlines[index] if index < len(self.newlines) else len(self.text)

    def first(self, mark: str, start: int, end: int) -> int | None:
        """The first closing ``mark`` at or after ``start`` that ends by ``end``, the edge of the text read."""
        last = end - len(mark)
        found = self.free.get(mark, self.anywhere[mark])
        index = bisect_left(found, start)
        closer = found[index] if index < len(found) and found[index] <= last else None
        if mark in self.free and last >= start:
            # at the edge of the text read, nothing follows the closer
            everywhere = self.anywhere[mark]
            at_edge = bisect_left(everywhere, last)
            if at_edge < len(everywhere) and everywhere[at_edge] == last and (closer is None or last < closer):
                closer = last
        return closer

    def reach(self, line_end: int, high: int) -> dict[str, int]:
        """Per mark, the last place on the line where it can still open: at p only if one of its closers stands
        at p + len + 1 or later. The same for every stretch read up to ``high`` on that line, so kept."""
        found = self.reaches.get((line_end, high))
        if found is None:
            found = {mark: self.last(mark, min(high, line_end + len(mark))) - len(mark) - 1 for mark in _CLOSERS}
            self.reaches[(line_end, high)] = found
        return found

    def last(self, mark: str, end: int) -> int:
        """The last closing ``mark`` that ends by ``end`` (as in :meth:`first`), or -1."""
        bound = end - len(mark)
        found = self.free.get(mark, self.anywhere[mark])
        index = bisect_right(found, bound) - 1
        closer = found[index] if index >= 0 else -1
        if mark in self.free and closer < bound:
            everywhere = self.anywhere[mark]
            at_edge = bisect_left(everywhere, bound)
            if at_edge < len(everywhere) and everywhere[at_edge] == bound:
                closer = bound
        return closer


# The rule itself, as a regex: at each place the first of these that closes on the same line wins. From a mark
# that never closes it reads to the end of the line (``.`` stops at a newline), so it reads only short lines of
# a few marks (a line of dialogue, a line of action), where it is the fastest. Written as the lazy
# ``(?<=\S)\*\*`` after ``.+?`` was (the tests keep that form as the oracle), but each inside runs from mark
# to mark (possessive ``[^*\n]*+``) and a closer is checked only where its mark stands: 2.7 times quicker on a
# line of unclosed marks. (A 10 MB line of 8 unclosed marks took the lazy form 2 s, the scanner 0.4 s.)
_EMPHASIS = re.compile(
    r"\*\*\*(?=\S)(?P<bold_italic>.[^*\n]*+(?:\*[^*\n]*+)*?)\*\*\*(?<=\S\*\*\*)"
    r"|\*\*(?=\S)(?P<bold>.[^*\n]*+(?:\*[^*\n]*+)*?)\*\*(?<=\S\*\*)"
    r"|\*(?=[^\s*])(?P<italic>.[^*\n]*+(?:\*[^*\n]*+)*?)\*(?<=[^\s*]\*)(?!\*)"
    r"|(?<![^\W_])_(?=\S)(?P<underline>.[^_\n]*+(?:_[^_\n]*+)*?)_(?<=\S_)(?![^\W_])"
)
_SHORT_TEXT, _SHORT_MARKS = 256, 8


def _emphasis(text: str) -> list[tuple[str, bool, bool, bool]]:
    """Pieces of ``text`` with their emphasis, as ``*italic*``, ``**bold**``, ``***both***`` and ``_underline_``
    read: at each mark the first of those that closes on the same line wins, and its inside is read again.

    Emphasis never crosses a line, so each line is read alone: a short line of a few marks by the regex of
    that rule, any other in linear time: each mark looks its closer up (see :class:`_Closers`), and the marks
    after the last closer of their kind on a line are passed over by one regex search, not one by one.
    Neighbouring lines read the same way are read together, one call for the lot."""
    if "*" not in text and "_" not in text:
        return [(text, False, False, False)]    # every mark escaped, or taken literally
    out: list[tuple[str, bool, bool, bool]] = []
    if _by_regex(text):
        _matched(text, False, False, False, out)
        return out
    lines = text.split("\n")
    start = 0
    by_regex = _by_regex(lines[0])
    for index in range(1, len(lines) + 1):
        if index < len(lines) and _by_regex(lines[index]) == by_regex:
            continue
        if start:
            out.append(("\n", False, False, False))
        stretch = "\n".join(lines[start:index])
        if by_regex:
            _matched(stretch, False, False, False, out)
        else:
            out.extend(_scanned(stretch))
        start, by_regex = index, not by_regex
    return out


def _by_regex(line: str) -> bool:
    """Whether the regex reads ``line``: short, and of few marks, so that it stays quick."""
    return len(line) <= _SHORT_TEXT and line.count("*") + line.count("_") <= _SHORT_MARKS


def _matched(text: str, bold: bool, italic: bool, underline: bool, out: list[tuple[str, bool, bool, bool]]) -> None:
    """The pieces of ``text`` as :data:`_EMPHASIS` reads them, each inside read again, added to ``out``."""
    position = 0
    for match in _EMPHASIS.finditer(text):
        if match.start() > position:
            out.append((text[position:match.start()], bold, italic, underline))
        kind = match.lastgroup or ""
        inside, styles = match[kind], (bold or kind in ("bold_italic", "bold"),
                                       italic or kind in ("bold_italic", "italic"), underline or kind == "underline")
        if "*" in inside or "_" in inside:
            _matched(inside, *styles, out)
        else:
            out.append((inside, *styles))   # nothing inside to read again
        position = match.end()
    out.append((text[position:], bold, italic, underline))


def _scanned(text: str) -> list[tuple[str, bool, bool, bool]]:
    closers = _Closers(text)
    out: list[tuple[str, bool, bool, bool]] = []
    # (start, end of the text read, where unread text begins, bold, italic, underline)
    stack = [(0, len(text), 0, False, False, False)]
    while stack:
        low, high, position, bold, italic, underline = stack.pop()
        at, found = _next_opening(closers, position, low, high)
        if found is None:
            if position < high:
                out.append((text[position:high], bold, italic, underline))
            continue
        inner, close, end, styles = found
        if at > position:
            out.append((text[position:at], bold, italic, underline))
        stack.append((low, high, end, bold, italic, underline))
        stack.append((inner, close, inner, bold or styles[0], italic or styles[1], underline or styles[2]))
    return out


def _next_opening(closers: _Closers, search: int, low: int, high: int,
                  ) -> tuple[int, tuple[int, int, int, tuple[bool, bool, bool]] | None]:
    """(where, what) of the first emphasis that opens at or after ``search`` inside ``low``..``high``."""
    text = closers.text
    if search == low and text.startswith("_", low):     # nothing before the text read: no word before it
        found = _opening(closers, low, low, high)
        if found is not None:
            return low, found
        search += 1
    mark = _openers(frozenset(_OPENERS)).search(text, search, high)   # most marks open: try the first
    if mark is None:
        return high, None
    found = _opening(closers, mark.start(), low, high)
    if found is not None:
        return mark.start(), found
    search = mark.start() + 1
    while search < high:
        line_end = closers.line_end(search)
        limit = min(high, line_end)
        reach = closers.reach(line_end, high)
        while True:
            alive = frozenset(mark for mark, last in reach.items() if last >= search)
            if not alive:
                break
            mark = _openers(alive).search(text, search, limit)
            if mark is None or mark.start() > max(reach[kind] for kind in alive):
                break
            found = _opening(closers, mark.start(), low, high)
            if found is not None:
                return mark.start(), found
            search = mark.start() + 1
        search = line_end + 1
    return high, None


def _opening(closers: _Closers, at: int, low: int, high: int,
             ) -> tuple[int, int, int, tuple[bool, bool, bool]] | None:
    """(inside start, inside end, end, (bold, italic, underline)) of the emphasis opening at ``at``, if any."""
    text = closers.text
    if text[at] == "_":
        if at > low and _WORDY.match(text, at - 1):
            return None
        candidates: tuple[tuple[str, tuple[bool, bool, bool]], ...] = (("_", (False, False, True)),)
    else:
        candidates = (("***", (True, True, False)), ("**", (True, False, False)), ("*", (False, True, False)))
    for mark, styles in candidates:
        inner = at + len(mark)
        if inner >= high or not text.startswith(mark, at) or text[inner].isspace():
            continue
        if mark == "*" and text[inner] == "*":
            continue
        close = closers.first(mark, inner + 1, min(high, closers.line_end(inner) + len(mark)))
        if close is not None:
            return inner, close, close + len(mark), styles
    return None


def _is_blank(line: str) -> bool:
    """Whitespace only, and not the two spaces that keep a paragraph together."""
    return not line.strip() and not (len(line) >= 2 and not line.strip(" "))


class _Parser:
    def __init__(self, text: str, source: Path | None) -> None:
        self.source = source
        self.notes: list[str] = []
        self.elements: list[Element] = []
        self.block: tuple[int, int] = (-1, -1)   # where the last speech sits in self.elements
        self.marked = False                      # whether boneyard or notes were taken out
        self.literal: list[int] = []             # source lines whose emphasis marks were taken literally
        self.scenes = 0
        self.lines = self._take_out_boneyard_and_notes(text).split("\n")

    def parse(self) -> Screenplay:
        title_page, start = self._title_page()
        paragraph: list[_Line] = []
        lines = self.lines
        for index in range(start, len(lines)):
            line = lines[index]
            notes: tuple[str, ...] = ()
            if self.marked and (_VANISH in line or _NOTE_OPEN in line):
                if _VANISH in line:
                    # what follows a closing */ or ]] on a later line is text, not indentation
                    line = line.replace(_VANISH, "").lstrip() if line[0] == _VANISH else line.replace(_VANISH, "")
                    if not line.strip():
                        continue
                line, notes = self._inline_notes(line)
            if notes or line.strip():
                paragraph.append((index + 1, line, notes))
            elif paragraph and not _is_blank(line):
                paragraph.append((index + 1, "", ()))
            elif paragraph:
                self._paragraph(paragraph)
                paragraph = []
        if paragraph:
            self._paragraph(paragraph)
        warnings: tuple[str, ...] = ()
        if self.literal:
            warnings = (f"line {self.literal[0]}: emphasis marks taken literally on {len(self.literal):,} "
                        f"line(s) with over {MAX_LINE_MARKS} marks, too dense to be emphasis",)
        return Screenplay(source=self.source, title_page=title_page, elements=tuple(self.elements),
                          warnings=warnings)

    # -- boneyard, notes, title page ---------------------------------------------------------------------

    def _take_out_boneyard_and_notes(self, text: str) -> str:
        if "/*" in text:
            text = self._take_out_boneyard(text)
            self.marked = True
        if "[[" in text:
            text = _NOTE.sub(self._note, text)
            self.marked = self.marked or bool(self.notes)
        return text

    def _take_out_boneyard(self, text: str) -> str:
        """Each ``/* ... */`` becomes as many line ends as it spanned; found with ``str.find``, once over the text
        (a lazy regex rescanned the rest of the text from every unclosed ``/*``)."""
        kept: list[str] = []
        position = 0
        while (opened := text.find("/*", position)) >= 0:
            closed = text.find("*/", opened + 2)
            if closed < 0:
                raise ScreenplayError("boneyard '/*' is never closed with '*/'", path=self.source,
                                      line=text.count("\n", 0, opened) + 1,
                                      hint="close it, or everything after it would vanish from the script")
            kept += [text[position:opened], _VANISH, ("\n" + _VANISH) * text.count("\n", opened, closed)]
            position = closed + 2
        kept.append(text[position:])
        return "".join(kept)

    def _note(self, match: re.Match[str]) -> str:
        lines = match[1].split("\n")
        if any(_is_blank(line) for line in lines[1:-1]):
            return match[0]             # a blank line ends any note; this is literal text
        self.notes.append("\n".join(line.replace(_VANISH, "").strip() for line in lines).strip())
        return f"{_NOTE_OPEN}{len(self.notes) - 1}{_NOTE_CLOSE}" + ("\n" + _VANISH) * (len(lines) - 1)

    def _inline_notes(self, line: str) -> tuple[str, tuple[str, ...]]:
        if _NOTE_OPEN not in line:
            return line, ()
        found: list[str] = []

        def take(match: re.Match[str]) -> str:
            found.append(self.notes[int(match[1])])
            return ""

        at_start = line.lstrip().startswith(_NOTE_OPEN)
        line = _NOTE_REF.sub(take, line)
        return (line.lstrip() if at_start else line), tuple(found)

    def _title_page(self) -> tuple[dict[str, str], int]:
        """Key: value lines at the very top, ending at the first blank line; (page, first body line index)."""
        page: dict[str, str] = {}
        key: str | None = None
        lines = self.lines
        first = next((line for line in lines if line.replace(_VANISH, "").strip()), "").replace(_VANISH, "")
        if not _TITLE_KEY.fullmatch(first) or is_heading(first) or is_transition(first):
            return {}, 0
        for index, raw in enumerate(lines):
            line = raw.replace(_VANISH, "") if self.marked else raw
            if raw != line and not line.strip():
                continue
            if not line.strip():
                return page, index
            line = self._inline_notes(line)[0]
            if not line.strip():
                continue                # a note on a title page line of its own
            match = _TITLE_KEY.fullmatch(line)
            if line[0] in " \t" and key is not None:
                value = styled(line.strip())[0]
            elif match:
                key, value = match[1].strip(), styled(match[2].strip())[0]
                if key not in page:
                    page[key] = value
                    continue
            else:
                return {}, 0        # not a title page after all: the body starts at the top
            page[key] = f"{page[key]}\n{value}" if page[key] else value
        return page, len(lines)

    # -- paragraphs -------------------------------------------------------------------------------------

    def _paragraph(self, lines: list[_Line]) -> None:
        while lines and not lines[-1][1] and not lines[-1][2]:
            lines.pop()                         # trailing two-space lines hold nothing together
        if all(not text.strip() for _, text, _ in lines):
            for number, _, notes in lines:
                for note in notes:
                    self._emit(Kind.NOTE, note, number, ())
            return
        self._classify(_fold_note_lines(lines))

    def _classify(self, lines: Sequence[_Line]) -> None:
        start = 0
        while True:
            while start < len(lines) and not lines[start][1].strip():
                start += 1                      # a two-space line cannot open a paragraph
            if start == len(lines):
                return
            number, raw, notes = lines[start]
            first = raw.strip()
            if not is_korean_heading(first):
                break
            # a Korean heading needs no blank line after it: the lines under it are read on (in a loop, not
            # a call per heading, which a few thousand S# lines one under another overflowed)
            self._heading(first, number, notes)
            start += 1
        lines = lines[start:] if start else lines
        lead = first[0]
        single = len(lines) == 1
        if lead == "@" and not single:
            self._speech(lines)
        elif lead == "." and single and _FORCED_HEADING.match(first):
            self._heading(first[1:].strip(), number, notes, forced=True)
        elif lead == ">" and single and _centered_text(first) is None:
            self._emit(Kind.TRANSITION, first[1:].strip(), number, notes, forced=True)
        elif lead in ("!", ".", "#", "=", "~", ">", "["):
            self._loose(lines)
        elif single and is_heading(first):
            self._heading(first, number, notes)
        elif single and is_transition(first):
            self._emit(Kind.TRANSITION, first, number, notes)
        elif not single and is_cue(first):
            self._speech(lines)
        else:
            self._loose(lines)

    def _heading(self, text: str, line: int, notes: tuple[str, ...], forced: bool = False) -> None:
        self.scenes = count_scene(self.scenes, self.source, line)
        text, number = split_scene_number(text)
        self._emit(Kind.SCENE_HEADING, text, line, notes, forced=forced, number=number)

    def _speech(self, lines: Sequence[_Line]) -> None:
        """A character cue and what is said under it: parentheticals, dialogue, lyrics."""
        number, raw, notes = lines[0]
        cue = raw.strip()
        forced = cue.startswith("@")
        if forced:
            cue = cue[1:].lstrip()
        dual = cue.endswith("^")
        if dual:
            cue = cue[:-1].rstrip()
            left_start, left_end = self.block
            dual = left_end == len(self.elements)
            if dual:
                for index in range(left_start, left_end):
                    self.elements[index] = replace(self.elements[index], dual=True)
        start = len(self.elements)
        self._emit(Kind.CHARACTER, cue, number, notes, forced=forced, dual=dual)
        index, count = 1, len(lines)
        while index < count:
            end = _parenthetical_end(lines, index)
            if end is not None:
                self._emit_lines(Kind.PARENTHETICAL, lines[index:end], str.strip, dual=dual)
            elif lines[index][1].strip().startswith("~"):
                end = _run_end(lines, index, lambda t: t.startswith("~"))
                self._emit_lines(Kind.LYRICS, lines[index:end], _lyric, forced=True, dual=dual)
            else:
                end = index + 1
                while end < count and not lines[end][1].strip().startswith("~") \
                        and _parenthetical_end(lines, end) is None:
                    end += 1
                self._emit_lines(Kind.DIALOGUE, lines[index:end], str.strip, dual=dual)
            index = end
        self.block = (start, len(self.elements))

    def _loose(self, lines: Sequence[_Line]) -> None:
        """Lines outside a speech: action, with sections, synopses, page breaks, lyrics and centred text."""
        index, count = 0, len(lines)
        while index < count:
            number, raw, notes = lines[index]
            text = raw.strip()
            lead = text[:1]
            if lead == "=" and _PAGE_BREAK.fullmatch(text):
                self._emit(Kind.PAGE_BREAK, "", number, notes)
            elif lead == "#":
                body = text.lstrip("#")
                self._emit(Kind.SECTION, body.strip(), number, notes, depth=len(text) - len(body))
            elif lead == "=":
                self._emit(Kind.SYNOPSIS, text[1:].strip(), number, notes)
            elif lead == "~":
                end = _run_end(lines, index, lambda t: t.startswith("~"))
                self._emit_lines(Kind.LYRICS, lines[index:end], _lyric, forced=True)
                index = end
                continue
            elif lead == ">" and _centered_text(text) is not None:
                end = _run_end(lines, index, lambda t: _centered_text(t) is not None)
                self._emit_lines(Kind.CENTERED, lines[index:end], _centered)
                index = end
                continue
            else:
                end = _run_end(lines, index, lambda t: not _is_special(t))
                self._emit_lines(Kind.ACTION, lines[index:end], _action_line, forced=lead == "!")
                index = end
                continue
            index += 1

    # -- elements ---------------------------------------------------------------------------------------

    def _emit_lines(self, kind: Kind, lines: Sequence[_Line], text_of: Callable[[str], str],
                    **fields: Any) -> None:
        self._emit(kind, "\n".join(text_of(text) for _, text, _ in lines), lines[0][0], _notes_of(lines),
                   numbers=[number for number, _, _ in lines], **fields)

    def _emit(self, kind: Kind, text: str, line: int, notes: tuple[str, ...], *, number: str | None = None,
              numbers: Sequence[int] = (), **fields: Any) -> None:
        plain, runs, literal = _styled(text)
        self.literal += [numbers[offset] if numbers else line for offset in literal]
        if kind is Kind.SCENE_HEADING:
            fields["heading"] = parse_heading(plain, number)
        elif kind is Kind.CHARACTER:
            fields["character"], fields["extension"] = split_cue(plain)
        self.elements.append(Element(kind=kind, text=plain, line=line, runs=runs, notes=notes, **fields))


def _fold_note_lines(lines: list[_Line]) -> list[_Line]:
    """Lines holding only a note give it to the line before (or after) and drop out of the paragraph."""
    if not any(notes and not text.strip() for _, text, notes in lines):
        return lines
    kept: list[_Line] = []
    waiting: tuple[str, ...] = ()
    for number, text, notes in lines:
        if not text.strip() and (notes or not kept):
            if kept:
                kept[-1] = (kept[-1][0], kept[-1][1], kept[-1][2] + notes)
            else:
                waiting += notes
            continue
        kept.append((number, text, waiting + notes))
        waiting = ()
    return kept


def _notes_of(lines: Sequence[_Line]) -> tuple[str, ...]:
    if len(lines) == 1:
        return lines[0][2]
    return tuple(note for _, _, notes in lines for note in notes)


def _run_end(lines: Sequence[_Line], index: int, belongs: Callable[[str], object]) -> int:
    """The index after the run of lines from ``index`` on whose stripped text ``belongs``."""
    index += 1
    while index < len(lines) and belongs(lines[index][1].strip()):
        index += 1
    return index


def _parenthetical_end(lines: Sequence[_Line], index: int) -> int | None:
    """End of a ``(parenthetical)`` starting at ``index`` (it may wrap over lines), or None if none starts."""
    text = lines[index][1].strip()
    if not text.startswith("("):
        return None
    if text.endswith(")"):
        return index + 1
    if ")" in text:
        return None                     # `(laughs) Really?` is dialogue
    for end in range(index + 1, len(lines)):
        following = lines[end][1].strip()
        if following.endswith(")"):
            return end + 1
        if "(" in following or ")" in following:
            return None
    return None


def _is_special(text: str) -> bool:
    """Lines that break an action paragraph into their own elements."""
    lead = text[:1]
    return lead in ("#", "=", "~") or (lead == ">" and _centered_text(text) is not None)


def _centered_text(text: str) -> str | None:
    """What stands between ``>`` and ``<`` of a centred line (stripped), or None if it is not one.

    (The regex ``>\\s*(.*?)\\s*<`` it replaces took cubic time on a line of spaces.)"""
    if len(text) < 2 or text[0] != ">" or text[-1] != "<" or "\n" in text:
        return None
    return text[1:-1].strip()


def _lyric(text: str) -> str:
    return text.strip()[1:].strip()


def _centered(text: str) -> str:
    inside = _centered_text(text.strip())
    return text.strip() if inside is None else inside


def _action_line(text: str) -> str:
    """Action keeps its indentation; a forcing ``!`` goes, and tabs count as four spaces."""
    text = text.replace("\t", "    ").rstrip()
    stripped = text.lstrip()
    if stripped.startswith("!"):
        return text[: len(text) - len(stripped)] + stripped[1:]
    return text
