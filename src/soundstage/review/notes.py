"""Notes as a crew leaves them, from the command line or the review app: only on a shot, slot or take the
project has, and on a frame given by its number (``[review] first_frame`` is the shot's first) or by the cut's
record timecode (``[edit] start_timecode``), so "01:00:06:13" lands on the frame the editor sees there.

A note keeps the frame as an offset into its shot (0 = the shot's first frame): renumbering the frames or
moving the cut's start changes what the note shows, never which picture it is about.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from opentimelineio import opentime

from soundstage.db import Note
from soundstage.edit.timeline import frame_rate, parse_timecode, start_time, timecode
from soundstage.errors import ProjectError
from soundstage.pipeline.shot import shot_frames
from soundstage.project import Project
from soundstage.records import shot_subject, subject_shot
from soundstage.script.breakdown import Breakdown


@dataclass(frozen=True)
class ShotClock:
    """Where a shot plays in the cut, and how its frames are numbered and labelled there."""

    shot: str
    start: int                       # the shot's first frame, counted from the cut's first
    frames: int
    rate: Fraction
    cut_start: opentime.RationalTime
    first_frame: int

    def number(self, offset: int) -> int:
        """The frame number the players show for an offset into the shot."""
        return self.first_frame + offset

    def timecode(self, offset: int) -> str:
        """The record timecode of an offset into the shot."""
        return timecode(self.cut_start + opentime.RationalTime(self.start + offset, self.cut_start.rate))

    def offset(self, number: int | None = None, label: str | None = None) -> int:
        """The offset of a frame given by its number or its record timecode; refused outside the shot."""
        if number is not None and label is not None:
            raise ProjectError("give the frame as --frame or --tc, not both", shot=self.shot)
        if label is not None:
            try:
                at = parse_timecode(label, self.rate)
            except ValueError as exc:
                raise ProjectError(str(exc), shot=self.shot) from None
            offset = round((at - self.cut_start).value) - self.start
            if not 0 <= offset < self.frames:
                raise ProjectError(f"{label} is not in the shot: it plays {self.timecode(0)} to "
                                   f"{self.timecode(self.frames - 1)}", shot=self.shot)
            return offset
        if number is None:
            raise ProjectError("no frame given", shot=self.shot)
        offset = number - self.first_frame
        if not 0 <= offset < self.frames:
            raise ProjectError(f"frame {number} is not in shot {self.shot}: its frames are {self.number(0)} to "
                               f"{self.number(self.frames - 1)}")
        return offset


def shot_clocks(project: Project, breakdown: Breakdown) -> dict[str, ShotClock]:
    """Every shot's place in the cut, in the breakdown's order (the order the render joins them)."""
    rate, start = frame_rate(project), start_time(project)
    first = project.settings.review.first_frame
    clocks, at = {}, 0
    for shot in breakdown.shots:
        frames = shot_frames(project, shot)
        clocks[shot.id] = ShotClock(shot.id, at, frames, rate, start, first)
        at += frames
    return clocks


def check_subject(generation: Any, breakdown: Breakdown, subject: str) -> None:
    """Refuse a subject the project does not have: a shot not in the breakdown, a slot nothing orders or holds."""
    shot = subject_shot(subject)
    shots = [s.id for s in breakdown.shots]
    if subject == shot_subject(shot or ""):
        if shot not in shots:
            raise ProjectError(f"no shot {shot!r}", hint=f"the shots are {', '.join(shots)}" if shots else None)
        return
    if shot is not None and shot not in shots:
        raise ProjectError(f"no shot {shot!r}", hint=f"the shots are {', '.join(shots)}" if shots else None)
    known = {order.slot for order in generation.orders(breakdown, [shot] if shot else None)}
    if subject not in known and not any(t.slot == subject for t in generation.store.takes(subject)):
        raise ProjectError(f"no slot {subject!r} in the project",
                           hint="soundstage plan lists the slots" if not known else
                           f"its slots there are {', '.join(sorted(known))}")


def write_note(generation: Any, breakdown: Breakdown, subject: str, body: str, *, by: str = "",
               version: int | None = None, frame: int | None = None, tc: str | None = None,
               drawing: list[Any] | None = None) -> tuple[Note, ShotClock | None]:
    """Keep a note on ``subject`` (a shot's subject or a slot), on one take with ``version``, on a frame given as
    its number (``frame``) or its record timecode (``tc``), with a drawing on that frame.
    Returns the note and the clock of its shot (None for a set)."""
    check_subject(generation, breakdown, subject)
    project: Project = generation.project
    shot = subject_shot(subject)
    clock = shot_clocks(project, breakdown)[shot] if shot else None
    offset = None
    if frame is not None or tc is not None:
        if clock is None:
            if tc is not None:
                raise ProjectError(f"{subject}: a set is not in the cut, so it has no record timecode: give "
                                   "--frame, counted in the take")
            offset = frame - project.settings.review.first_frame if frame is not None else None
            if offset is not None and offset < 0:
                raise ProjectError(f"{subject}: frame {frame} is before the first, "
                                   f"{project.settings.review.first_frame}")
        else:
            offset = clock.offset(frame, tc)
    if drawing is not None and offset is None:
        raise ProjectError("a drawing is on a frame: give the frame it is on")
    note = generation.store.add_note(subject, body, by=by, version=version, frame=offset, drawing=drawing)
    return note, clock


TOOLS = ("pen", "arrow", "circle", "text")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_MOST_STROKES, _MOST_POINTS = 200, 4000


def read_drawing(text: str) -> list[dict[str, Any]]:
    """A drawing as the review app's player sends it: JSON strokes, each ``{"tool": pen|arrow|circle|text,
    "colour": "#rrggbb", "points": [[x, y], …], "text": …}`` with x and y from 0 to 1 across the picture, so it
    lands on the same spot at any size. Anything else is refused, never stored."""
    try:
        strokes = json.loads(text)
    except ValueError:
        raise ProjectError("the drawing is not JSON") from None
    if not isinstance(strokes, list) or not 0 < len(strokes) <= _MOST_STROKES:
        raise ProjectError(f"a drawing is a list of 1 to {_MOST_STROKES} strokes")
    kept = []
    for number, stroke in enumerate(strokes, 1):
        if not isinstance(stroke, dict) or stroke.get("tool") not in TOOLS:
            raise ProjectError(f"stroke {number} of the drawing: its tool must be one of {', '.join(TOOLS)}")
        colour, points, words = stroke.get("colour"), stroke.get("points"), stroke.get("text", "")
        if not isinstance(colour, str) or not _COLOUR.fullmatch(colour):
            raise ProjectError(f"stroke {number} of the drawing: its colour must be #rrggbb")
        if (not isinstance(points, list) or not 0 < len(points) <= _MOST_POINTS
                or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(v, int | float) and 0 <= v <= 1
                                                                     for v in p) for p in points)):
            raise ProjectError(f"stroke {number} of the drawing: its points must be [x, y] pairs from 0 to 1")
        if not isinstance(words, str) or len(words) > 500:
            raise ProjectError(f"stroke {number} of the drawing: its text must be up to 500 characters")
        kept.append({"tool": stroke["tool"], "colour": colour.lower(),
                     "points": [[round(float(x), 5), round(float(y), 5)] for x, y in points],
                     **({"text": words} if words else {})})
    return kept


def note_frame(note: Note, clocks: dict[str, ShotClock], first_frame: int) -> tuple[int | None, str | None]:
    """A note's frame as the crew sees it: its number and its record timecode (None off the cut)."""
    if note.frame is None:
        return None, None
    shot = subject_shot(note.subject)
    clock = clocks.get(shot) if shot else None
    if clock is None:
        return first_frame + note.frame, None
    return clock.number(note.frame), clock.timecode(note.frame)


__all__ = ["TOOLS", "ShotClock", "check_subject", "note_frame", "read_drawing", "shot_clocks", "write_note"]
