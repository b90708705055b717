"""Final Draft ``.fdx`` into the same typed model the Fountain parser gives.

The XML goes through defusedxml, so a file that declares entities (the "billion laughs" bomb, or an
external entity that would read another file) is refused before anything expands; a DTD of any kind is
refused too, since Final Draft never writes one. The parser streams: a small target receives expat's
start/data/end events and builds elements directly, with no tree in memory. ``Element.line`` is the real
XML source line of the ``<Paragraph`` start tag, read from expat (``CurrentLineNumber``) as each tag opens.

Mapping:

- Paragraph ``Type``: Scene Heading, Action, Character, Parenthetical, Dialogue, Transition, Lyrics map to
  their kinds; Shot, General, Cast List and anything unknown are action; New Act is a section of depth 1.
  An Action paragraph with ``Alignment="Center"`` is centred text; ``StartsNewPage="Yes"`` puts a page break
  before the paragraph.
- ``<Text Style="Bold+Italic+Underline">`` runs become ``Element.runs`` (adjacent runs of one style merge).
- The scene number comes from the Scene Heading's ``Number`` attribute or its ``<SceneProperties Number>``.
- Every paragraph inside ``<DualDialogue>`` is ``dual=True`` (both columns, as the Fountain parser does).
- A ``<ScriptNote>`` inside a paragraph becomes that element's ``notes``, like an inline Fountain note.
- Title page: Final Draft keeps only laid-out paragraphs, so keys are inferred: the first line is
  ``Title``; a ``Written by``/``by`` line is ``Credit`` and the line after it ``Author``; left-aligned lines
  are ``Contact``; any other lines are ``Notes``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from soundstage.errors import ScreenplayError
from soundstage.script.heading import count_scene, parse_heading, split_cue
from soundstage.script.model import Element, Kind, Run, Screenplay

__all__ = ["parse_fdx"]

_KINDS = {
    "Scene Heading": Kind.SCENE_HEADING,
    "Action": Kind.ACTION,
    "Character": Kind.CHARACTER,
    "Parenthetical": Kind.PARENTHETICAL,
    "Dialogue": Kind.DIALOGUE,
    "Transition": Kind.TRANSITION,
    "Lyrics": Kind.LYRICS,
    "New Act": Kind.SECTION,
}
_SPEECH = frozenset({Kind.CHARACTER, Kind.PARENTHETICAL, Kind.DIALOGUE, Kind.LYRICS})
_DECLARED_ENCODING = re.compile(rb"""<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_DECLARED_TEXT = re.compile(r"""<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_EXPAT_ENCODINGS = frozenset({"utf-8", "utf8", "utf-16", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"})
_CREDIT = re.compile(r"(written\s+)?by|screenplay\s+by|story\s+by", re.IGNORECASE)


def parse_fdx(data: bytes, source: str | Path | None = None) -> Screenplay:
    """Parse the bytes of a Final Draft file; ``source`` is named in errors and kept on the result."""
    path = Path(source) if source is not None else None
    declared = _DECLARED_ENCODING.match(data[:300].lstrip())
    encoding = declared[1].decode("ascii").lower() if declared else "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"             # the byte-order mark decides; expat reads it
    elif encoding.replace("_", "-") not in _EXPAT_ENCODINGS:
        data = _as_utf8(data, encoding, path)
    target = _Target()
    target.source = path
    parser = DefusedXMLParser(target=target, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    expat = parser.parser
    expat.EndDoctypeDeclHandler = _refuse_dtd   # entity declarations inside a DTD are refused first, by name
    target.expat = expat
    try:
        parser.feed(data)
        parser.close()
    except EntitiesForbidden as error:
        what = "an external entity (a reference to another file)" if error.sysid else "entities"
        raise ScreenplayError(f"refused: the XML declares {what}, which can expand without limit or read "
                              "other files; a Final Draft file never needs them", path=path,
                              line=expat.CurrentLineNumber, hint="export it from Final Draft again") from None
    except ExternalReferenceForbidden:
        raise ScreenplayError("refused: the XML declares entities that refer to other files", path=path,
                              line=expat.CurrentLineNumber, hint="export it from Final Draft again") from None
    except DTDForbidden:
        raise ScreenplayError("refused: the XML declares a DTD (document type), which may declare entities; "
                              "a Final Draft file never needs one", path=path, line=expat.CurrentLineNumber,
                              hint="export it from Final Draft again") from None
    except ParseError as error:
        line, _ = getattr(error, "position", (None, None))
        reason = str(error).split(":")[0]
        raise ScreenplayError(f"is not well-formed XML ({reason})", path=path, line=line,
                              hint="is it a complete .fdx exported from Final Draft?") from None
    except ScreenplayError:
        raise                           # ours, from inside a paragraph
    except ValueError as error:     # expat's own refusals, such as an encoding it cannot read
        raise ScreenplayError(f"cannot be read as XML ({error})", path=path,
                              hint="export it from Final Draft again") from None
    if target.root != "FinalDraft":
        raise ScreenplayError(f"is not a Final Draft file (its XML root is <{target.root}>, not <FinalDraft>)",
                              path=path)
    return Screenplay(source=path, title_page=_title_page(target.title_lines), elements=tuple(target.elements),
                      encoding=encoding)


def _as_utf8(data: bytes, encoding: str, path: Path | None) -> bytes:
    """Expat reads no multi-byte legacy encoding (EUC-KR, CP949, Shift-JIS), so Python decodes those."""
    try:
        text = data.decode(encoding)
    except LookupError:
        raise ScreenplayError(f"declares an encoding Python does not know ({encoding!r})", path=path, line=1,
                              hint="export it from Final Draft again") from None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ScreenplayError(f"is not valid {encoding} text, as its XML declaration says", path=path,
                              line=line) from None
    declaration = _DECLARED_TEXT.match(text.lstrip())
    start = len(text) - len(text.lstrip())
    if declaration:
        text = text[: start + declaration.start(1)] + "UTF-8" + text[start + declaration.end(1):]
    return text.encode("utf-8")


def _refuse_dtd() -> None:
    raise DTDForbidden(None, None, None)


class _Paragraph:
    __slots__ = ("alignment", "line", "new_page", "notes", "number", "runs", "type")

    def __init__(self, attrib: dict[str, str], line: int) -> None:
        self.type = attrib.get("Type")
        self.alignment = attrib.get("Alignment", "")
        self.number = attrib.get("Number") or None
        self.new_page = attrib.get("StartsNewPage") == "Yes"
        self.line = line
        self.runs: list[Run] = []
        self.notes: list[str] = []       # Final Draft ScriptNotes attached to this paragraph


class _Target:
    """Receives expat's events and builds elements as each ``</Paragraph>`` closes."""

    def __init__(self) -> None:
        self.expat: Any = None
        self.root: str | None = None
        self.elements: list[Element] = []
        self.title_lines: list[tuple[str, str]] = []   # (text, alignment)
        self.paragraphs: list[_Paragraph] = []          # open <Paragraph>s, innermost last
        self.style: tuple[bool, bool, bool] | None = None   # inside <Text>: (bold, italic, underline)
        self.all_caps = False
        self.text: list[str] = []
        self.dual = 0
        self.title_page = 0
        self.content = 0
        self.script_note = 0
        self.scenes = 0
        self.source: Path | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self.root is None:
            self.root = tag
        if tag == "Paragraph":
            self.paragraphs.append(_Paragraph(attrib, self.expat.CurrentLineNumber))
        elif tag == "Text" and self.paragraphs:
            styles = set(attrib.get("Style", "").split("+"))
            self.style = ("Bold" in styles, "Italic" in styles, "Underline" in styles)
            self.all_caps = "AllCaps" in styles
            self.text = []
        elif tag == "SceneProperties" and self.paragraphs and attrib.get("Number"):
            self.paragraphs[-1].number = attrib["Number"]
        elif tag == "DualDialogue":
            self.dual += 1
        elif tag == "ScriptNote":
            self.script_note += 1
        elif tag == "TitlePage":
            self.title_page += 1
        elif tag == "Content":
            self.content += 1

    def data(self, text: str) -> None:
        if self.style is not None:
            self.text.append(text)

    def end(self, tag: str) -> None:
        if tag == "Text" and self.style is not None:
            text = "".join(self.text)
            self.paragraphs[-1].runs.append(Run(text.upper() if self.all_caps else text, *self.style))
            self.style = None
        elif tag == "Paragraph" and self.paragraphs:
            self._paragraph(self.paragraphs.pop())
        elif tag == "DualDialogue":
            self.dual -= 1
        elif tag == "ScriptNote":
            self.script_note -= 1
        elif tag == "TitlePage":
            self.title_page -= 1
        elif tag == "Content":
            self.content -= 1

    def close(self) -> None:
        return None

    def _paragraph(self, paragraph: _Paragraph) -> None:
        runs = _trimmed(paragraph.runs)
        text = "".join(run.text for run in runs)
        if self.script_note:
            if self.paragraphs and text:    # a note's own paragraphs: give the text to the paragraph noted
                outer = next((p for p in reversed(self.paragraphs) if p.type is not None), None)
                if outer is not None:
                    outer.notes.append(text)
            return
        if self.title_page:
            self.title_lines.append((text, paragraph.alignment))
            return
        if not self.content:
            return
        if paragraph.new_page:
            self.elements.append(Element(kind=Kind.PAGE_BREAK, text="", line=paragraph.line))
        if not text:
            return                      # an empty paragraph, or the one wrapped round a <DualDialogue>
        kind = _KINDS.get(paragraph.type or "", Kind.ACTION)
        if kind is Kind.ACTION and paragraph.alignment == "Center":
            kind = Kind.CENTERED
        fields: dict[str, Any] = {}
        if kind is Kind.SCENE_HEADING:
            self.scenes = count_scene(self.scenes, self.source, paragraph.line)
            fields["heading"] = parse_heading(text, paragraph.number)
        elif kind is Kind.CHARACTER:
            fields["character"], fields["extension"] = split_cue(text)
        elif kind is Kind.SECTION:
            fields["depth"] = 1
        if kind in _SPEECH and self.dual:
            fields["dual"] = True
        self.elements.append(Element(kind=kind, text=text, line=paragraph.line, runs=runs,
                                     notes=tuple(paragraph.notes), **fields))


def _trimmed(runs: list[Run]) -> tuple[Run, ...]:
    """Runs with the paragraph's outer whitespace removed and neighbours of one style merged."""
    merged: list[Run] = []
    for run in runs:
        if merged and (merged[-1].bold, merged[-1].italic, merged[-1].underline) == \
                (run.bold, run.italic, run.underline):
            merged[-1] = Run(merged[-1].text + run.text, run.bold, run.italic, run.underline)
        else:
            merged.append(run)
    while merged and not merged[0].text.strip():
        merged.pop(0)
    while merged and not merged[-1].text.strip():
        merged.pop()
    if merged:
        merged[0] = replace(merged[0], text=merged[0].text.lstrip())
        merged[-1] = replace(merged[-1], text=merged[-1].text.rstrip())
    return tuple(merged)


def _title_page(lines: list[tuple[str, str]]) -> dict[str, str]:
    page: dict[str, str] = {}

    def add(key: str, text: str) -> None:
        page[key] = f"{page[key]}\n{text}" if key in page else text

    after_credit = False
    for text, alignment in lines:
        if not text:
            continue
        if "Title" not in page:
            add("Title", text)
        elif _CREDIT.fullmatch(text) and "Credit" not in page:
            add("Credit", text)
            after_credit = True
            continue
        elif after_credit:
            add("Author", text)
        elif alignment == "Left":
            add("Contact", text)
        else:
            add("Notes", text)
        after_credit = False
    return page
