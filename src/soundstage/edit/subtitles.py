"""The cut's subtitles: each shot's lines from the screenplay, timed to the speech in its sound, as SRT and WebVTT.

A shot plays its share of its scene's lines (the breakdown says which). Where the shot's dialogue sound is at
hand, voice-activity detection (:func:`soundstage.sound.speech.speech_spans`) finds where people speak and the
lines take those places in order; where there is no sound, or fewer stretches of speech than lines, the lines
are laid out by reading speed within the shot. The rules (line length, lines an event, reading speed, least and
most time up, the gap between events) are per language, as data with their sources: ``subtitles.toml``. What
breaks them is warned, never cut: a word wider than a line, a line shown too briefly to be read.
"""

from __future__ import annotations

import bisect
import math
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pysubs2

from soundstage.atomic import write_bytes
from soundstage.records.settings import SubtitleSettings
from soundstage.script.breakdown import Line, Scene, Shot
from soundstage.sound.speech import speech_spans
from soundstage.sound.track import Sound

FILES = ("cut.srt", "cut.vtt")      # beside out/cut.mp4
VOICE_OVER = frozenset({"V.O.", "VO", "V/O"})   # cue extensions of a voice recorded after the shoot
PUNCTUATION = ",.?!…;:"              # a row that ends with one of these is a good place to break


@dataclass(frozen=True)
class Rules:
    """One language's subtitle rules, as ``subtitles.toml`` gives them."""

    language: str
    line_length: float       # characters a row, a wide character counting 1 and a narrow one `half_width`
    half_width: float
    reading_speed: float     # characters a second
    lines: int               # rows an event shows at most
    min_seconds: float
    max_seconds: float
    gap_frames: int
    italic: tuple[str, ...]  # cue extensions set in italics (a voice off screen)
    source: str


@cache
def _table() -> dict[str, Any]:
    return tomllib.loads(resources.files("soundstage.edit").joinpath("subtitles.toml").read_text("utf-8"))


def rules_for(language: str) -> Rules:
    table = _table()
    general, own = table["general"], table["language"][language]
    return Rules(language, float(own["line_length"]), float(own["half_width"]), float(own["reading_speed"]),
                 int(general["lines"]), float(general["min_seconds"]), float(general["max_seconds"]),
                 int(general["gap_frames"]), tuple(general["italic"]), str(own["source"]))


def dialogue_language(texts: Iterable[str]) -> str:
    """``ko`` when most of the letters spoken are Hangul, else ``en``."""
    hangul = letters = 0
    for text in texts:
        for char in text:
            if char.isalpha():
                letters += 1
                hangul += "HANGUL" in unicodedata.name(char, "")
    return "ko" if letters and hangul * 2 >= letters else "en"


def cut_rules(settings: SubtitleSettings, scenes: Sequence[Scene]) -> Rules:
    """The rules the cut's subtitles follow: ``[subtitles] language``, or the screenplay's own."""
    if settings.language != "auto":
        return rules_for(settings.language)
    return rules_for(dialogue_language(line.text for scene in scenes for line in scene.lines))


# ---------------------------------------------------------------------------------------------- text


def seen(text: str) -> list[str]:
    """``text`` in the characters a viewer counts: a Hangul syllable (composed, or as conjoining jamo), a letter
    with its combining marks, an emoji with its joiners and variation selectors, each one."""
    out: list[str] = []
    joined = False
    for char in unicodedata.normalize("NFC", text):
        code = ord(char)
        attached = joined or unicodedata.category(char) in ("Mn", "Me", "Mc") or 0xFE00 <= code <= 0xFE0F \
            or char == "\u200d" or ((0x1160 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FF) and bool(out)
                                    and _hangul(out[-1][-1]))
        if attached and out:
            out[-1] += char
        else:
            out.append(char)
        joined = char == "\u200d"
    return out


def _hangul(char: str) -> bool:
    code = ord(char)
    return 0x1100 <= code <= 0x11FF or 0xAC00 <= code <= 0xD7A3 or 0xD7B0 <= code <= 0xD7FF


def width(text: str, rules: Rules) -> float:
    """How many characters ``text`` counts for under ``rules``: a wide one 1, a narrow one ``half_width``."""
    return sum(1.0 if unicodedata.east_asian_width(part[0]) in "WF" else rules.half_width for part in seen(text))


def wrap(text: str, rules: Rules) -> tuple[list[tuple[str, ...]], list[str]]:
    """``text`` as events of at most ``rules.lines`` rows, broken only at spaces (for Korean, between eojeol,
    never inside one); and the words wider than a row, which stand on a row of their own."""
    words = text.split()
    limit = rules.line_length
    long = [word for word in words if width(word, rules) > limit]
    rows = _rows(words, rules)
    count = -(-len(rows) // rules.lines)
    chunks = _even(words, count, rules)
    if chunks is None:
        chunks = [" ".join(rows[i:i + rules.lines]).split() for i in range(0, len(rows), rules.lines)]
    return [_balanced(chunk, rules) for chunk in chunks], long


def _rows(words: list[str], rules: Rules) -> list[str]:
    """Words filled into rows as long as the rule allows, first to last."""
    rows: list[list[str]] = []
    for word in words:
        if rows and width(" ".join([*rows[-1], word]), rules) <= rules.line_length:
            rows[-1].append(word)
        else:
            rows.append([word])
    return [" ".join(row) for row in rows]


def _even(words: list[str], count: int, rules: Rules) -> list[list[str]] | None:
    """``words`` in ``count`` runs of about equal width, each fitting an event; None if one would not."""
    if count <= 1:
        return [words] if len(_rows(words, rules)) <= rules.lines else None
    sizes = [width(word, rules) + rules.half_width for word in words]
    chunks: list[list[str]] = [[] for _ in range(count)]
    total, running = sum(sizes), 0.0
    for word, size in zip(words, sizes, strict=True):
        chunks[min(count - 1, int((running + size / 2) / total * count))].append(word)
        running += size
    if any(not chunk or len(_rows(chunk, rules)) > rules.lines for chunk in chunks):
        return None
    return chunks


def _balanced(words: list[str], rules: Rules) -> tuple[str, ...]:
    """One row if it fits; else the break that makes the rows most even, better after punctuation."""
    whole = " ".join(words)
    if width(whole, rules) <= rules.line_length or len(words) < 2 or rules.lines < 2:
        return tuple(_rows(words, rules))
    best: tuple[float, int] | None = None
    for at in range(1, len(words)):
        top, bottom = " ".join(words[:at]), " ".join(words[at:])
        wide = max(width(top, rules), width(bottom, rules))
        if wide > rules.line_length:
            continue
        cost = wide - (1.5 if top[-1] in PUNCTUATION else 0.0)
        if best is None or cost < best[0]:
            best = (cost, at)
    if best is None:
        return tuple(_rows(words, rules))
    return " ".join(words[:best[1]]), " ".join(words[best[1]:])


# ---------------------------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class ShotDialogue:
    """What one shot of the cut says: where it sits in the cut, its lines, and its dialogue sound if any."""

    shot: str
    start: int                   # its first frame in the cut
    frames: int
    lines: Sequence[Line]
    dialogue: Sound | None = None     # the shot's production dialogue, trimmed to the shot


@dataclass(frozen=True)
class Cue:
    """One subtitle event, in frames of the cut (``end`` exclusive)."""

    first: int
    end: int
    rows: tuple[str, ...]
    shot: str
    line: int                    # the screenplay's line it comes from
    speaker: str
    italic: bool = False


@dataclass
class Subtitles:
    events: list[Cue]
    warnings: list[str]
    rules: Rules
    fps: float
    _firsts: list[int] = field(default_factory=list, repr=False)

    def at(self, frame: int) -> Cue | None:
        """The event up at cut frame ``frame``, if any."""
        if len(self._firsts) != len(self.events):
            self._firsts = [cue.first for cue in self.events]
        index = bisect.bisect_right(self._firsts, frame) - 1
        return self.events[index] if index >= 0 and frame < self.events[index].end else None

    @property
    def key(self) -> list[object]:
        """What the subtitles add to the review copy's key."""
        return [[cue.first, cue.end, list(cue.rows)] for cue in self.events]


def cut_dialogue(scenes: Sequence[Scene], shots: Sequence[Shot], frames: Sequence[int],
                 dialogue: Sequence[Sound | None] | None = None) -> list[ShotDialogue]:
    """The cut's shots, in order, with the lines each plays (the breakdown's share) and their sound."""
    by_id = {scene.id: scene for scene in scenes}
    out, start = [], 0
    for index, (shot, count) in enumerate(zip(shots, frames, strict=True)):
        lines = by_id[shot.scene].lines if shot.scene in by_id else []
        out.append(ShotDialogue(shot.id, start, count, [lines[n - 1] for n in shot.lines if n <= len(lines)],
                                dialogue[index] if dialogue else None))
        start += count
    return out


def subtitle_cut(shots: Sequence[ShotDialogue], fps: float, rules: Rules) -> Subtitles:
    """Every shot's lines as timed events, in cut order, and what breaks the rules."""
    cues: list[Cue] = []
    warnings: list[str] = []
    for shot in shots:
        cues += _shot_cues(shot, fps, rules, warnings)
    for index in range(len(cues) - 1):      # the gap between events, taken from the earlier one's end
        before, after = cues[index], cues[index + 1]
        latest = after.first - rules.gap_frames
        if before.end > latest and latest > before.first:
            cues[index] = _with_end(before, latest)
    for cue in cues:
        warnings += _broken(cue, fps, rules)
    return Subtitles(cues, warnings, rules, fps)


def _shot_cues(shot: ShotDialogue, fps: float, rules: Rules, warnings: list[str]) -> list[Cue]:
    if not shot.lines or shot.frames <= 0:
        return []
    length = shot.frames / fps
    wrapped = []
    for line in shot.lines:
        events, long = wrap(line.text, rules)
        wrapped.append(events)
        warnings += [f"subtitles: shot {shot.shot}, line {line.line} ({line.character}): {word!r} is "
                     f"{width(word, rules):g} characters, wider than a line ({rules.line_length:g})" for word in long]
    needs = [sum(_reading(rows, rules) for rows in events) for events in wrapped]
    # A voice-over is recorded after the shoot: it is not in the plate's sound, so it takes no stretch of it.
    on_set = [i for i, line in enumerate(shot.lines) if (line.extension or "").upper() not in VOICE_OVER]
    spoken = _spoken(shot, length, len(on_set), warnings) if shot.dialogue is not None and on_set else None
    if spoken is None:
        windows = _read(needs, length, rules.gap_frames / fps)
    else:
        timed = dict(zip(on_set, spoken, strict=True))
        windows, at = [], 0.0
        for i, need in enumerate(needs):
            later = [timed[k][0] for k in range(i + 1, len(needs)) if k in timed]
            until = later[0] - rules.gap_frames / fps if later else length
            start, end = timed.get(i, (at, at + need))
            windows.append((start, max(start, min(max(end, start + need), until))))
            at = windows[-1][1] + rules.gap_frames / fps
    cues = []
    for line, events, (start, end) in zip(shot.lines, wrapped, windows, strict=True):
        sizes = [sum(width(row, rules) for row in rows) or 1.0 for rows in events]
        at = start
        for rows, size in zip(events, sizes, strict=True):
            until = at + (end - start) * size / sum(sizes)
            # on frames: the start to the nearest, the end to the next whole frame (never shorter than timed)
            first = shot.start + round(at * fps)
            last = min(shot.start + shot.frames, shot.start + math.ceil(until * fps - 1e-6))
            cues.append(Cue(first, max(first + 1, last), rows, shot.shot, line.line, line.character,
                            line.extension in rules.italic))
            at = until
    return cues


def _reading(rows: tuple[str, ...], rules: Rules) -> float:
    """Seconds an event of ``rows`` wants up: its reading time, within the least and the most."""
    return min(rules.max_seconds, max(rules.min_seconds, sum(width(row, rules) for row in rows) / rules.reading_speed))


def _spoken(shot: ShotDialogue, length: float, lines: int, warnings: list[str]) -> list[tuple[float, float]] | None:
    """The stretches of speech in the shot's sound, one per line spoken on set, in order; None when fewer."""
    assert shot.dialogue is not None
    spans = [(start, min(end, length)) for start, end in speech_spans(shot.dialogue) if start < length]
    if len(spans) < lines:
        warnings.append(f"subtitles: shot {shot.shot} has {lines} lines spoken on set and speech in {len(spans)} "
                        "places; its lines are timed by reading speed")
        return None
    while len(spans) > lines:      # a line with a long pause inside: join the closest stretches
        i = min(range(len(spans) - 1), key=lambda k: spans[k + 1][0] - spans[k][1])
        spans[i:i + 2] = [(spans[i][0], spans[i + 1][1])]
    return spans


def _read(needs: list[float], length: float, gap: float) -> list[tuple[float, float]]:
    """Lines laid out by reading speed: each its reading time, with even pauses round them; squeezed in
    proportion when the shot is too short for them all."""
    busy = sum(needs) + gap * (len(needs) - 1)
    if busy <= length:
        pause, scale = (length - busy) / (len(needs) + 1), 1.0
    else:
        pause, scale = 0.0, max(0.0, length - gap * (len(needs) - 1)) / sum(needs)
    windows, at = [], pause
    for need in needs:
        windows.append((at, at + need * scale))
        at += need * scale + pause + gap
    return windows


def _with_end(cue: Cue, end: int) -> Cue:
    return Cue(cue.first, end, cue.rows, cue.shot, cue.line, cue.speaker, cue.italic)


def _broken(cue: Cue, fps: float, rules: Rules) -> list[str]:
    """The rules ``cue`` breaks as shown: too fast to read, too brief to see."""
    seconds = (cue.end - cue.first) / fps
    size = sum(width(row, rules) for row in cue.rows)
    where = f"subtitles: shot {cue.shot}, line {cue.line} ({cue.speaker})"
    found = []
    if size / seconds > rules.reading_speed + 1e-6:
        found.append(f"{where}: {size / seconds:.1f} characters a second, faster than {rules.reading_speed:g} "
                     f"can be read; give it {size / rules.reading_speed:.2f} s or fewer words")
    elif seconds < rules.min_seconds - 0.5 / fps:
        found.append(f"{where}: up for {seconds:.2f} s, under the least {rules.min_seconds:.2f} s")
    return found


# ---------------------------------------------------------------------------------------------- files


def write_subtitles(subtitles: Subtitles, out_dir: Path) -> list[Path]:
    """``out/cut.srt`` and ``out/cut.vtt``, each written atomically, with pysubs2; a file that already holds
    the same is left alone (a re-run that changes nothing touches nothing)."""
    document = pysubs2.SSAFile()
    for cue in subtitles.events:
        text = r"\N".join(cue.rows)
        document.append(pysubs2.SSAEvent(start=_ms(cue.first, subtitles.fps), end=_ms(cue.end, subtitles.fps),
                                         text=r"{\i1}" + text + r"{\i0}" if cue.italic else text))
    written = []
    for name in FILES:
        path = out_dir / name
        content = document.to_string(Path(name).suffix[1:]).encode("utf-8")
        if not (path.is_file() and path.read_bytes() == content):
            write_bytes(path, content)
        written.append(path)
    return written


def _ms(frame: int, fps: float) -> int:
    return round(frame / fps * 1000)
