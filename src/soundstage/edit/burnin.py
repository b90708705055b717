"""Burn-ins for review: shot id, takes and record timecode drawn on each frame of the review copy.

The burn-ins go on ``out/cut_review.mp4``, never on ``out/cut.mp4``: the cut is the deliverable that gets
signed and sent, and a review copy with text over the picture must never be mistaken for it. Notes given
on the review copy name the shot, the takes and the timecode, which is what the editor needs to find them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
from opentimelineio.opentime import RationalTime

from soundstage.edit.labels import CutLabels, Patch, ShotCredits, missing_glyphs
from soundstage.edit.subtitles import Cue, Subtitles
from soundstage.edit.timeline import start_time, timecode
from soundstage.media.lettering import Typeface, text_patch
from soundstage.project import Project

REVIEW_FILE = "cut_review.mp4"
CARD_TEXT = "end card"


def with_burn_in(project: Project) -> Project:
    """The project as if ``[review] burn_in = true`` (``soundstage render --burn-in``)."""
    settings = project.settings
    review = settings.review.model_copy(update={"burn_in": True})
    return replace(project, settings=settings.model_copy(update={"review": review}))


@dataclass
class BurnIn:
    """What the review copy shows: per shot ``SHOT 3-1 · set v002 · fire v001``, and the record timecode."""

    credits: list[ShotCredits]
    width: int
    height: int
    fps: float
    start: RationalTime         # the cut's first frame, [edit] start_timecode
    face: Typeface
    top: bool                   # drawn at the top (where the AI mark sits at the bottom)
    warnings: list[str] = field(default_factory=list)     # characters no installed font has
    subtitles: Subtitles | None = None                     # drawn bottom centre, each on its frames
    _shown: tuple[Cue, Patch] | None = field(default=None, init=False, repr=False)   # the cue up, drawn

    @classmethod
    def prepare(cls, project: Project, labels: CutLabels, subtitles: Subtitles | None = None) -> BurnIn:
        settings = project.settings
        width, height = settings.resolution
        said = [row for cue in subtitles.events for row in cue.rows] if subtitles else []
        face, lost = labels.face.covering([*(_shot_text(shot) for shot in labels.credits), CARD_TEXT, *said])
        return cls(labels.credits, width, height, settings.fps, start_time(project), face,
                   top=labels.marks and settings.labels.corner.startswith("bottom"),
                   warnings=missing_glyphs("review burn-ins", lost), subtitles=subtitles)

    @property
    def key(self) -> dict[str, object]:
        """What the burn-ins add to the review copy's key."""
        return {"burn_in": 1, "start": [self.start.value, self.start.rate], "top": self.top, "font": self.face.key,
                "shots": [[shot.shot, shot.takes] for shot in self.credits]} | \
            ({"subtitles": self.subtitles.key} if self.subtitles and self.subtitles.events else {})

    @cached_property
    def _size(self) -> int:
        return max(8, round(self.height * 0.032))

    @cached_property
    def _margin(self) -> int:
        return max(2, round(self.height * 0.02))

    def _y(self, patch_height: int) -> int:
        return self._margin if self.top else self.height - patch_height - self._margin

    @cached_property
    def _shot_patches(self) -> list[Patch]:
        patches = []
        for shot in self.credits:
            patches.append(self._place(text_patch(_shot_text(shot), self.face, self._size,
                                                  box=(0, 0, 0, 170)), left=True))
        return patches

    @cached_property
    def _credits_patch(self) -> Patch:
        return self._place(text_patch(CARD_TEXT, self.face, self._size, box=(0, 0, 0, 170)), left=True)

    def _place(self, rgba: np.ndarray, *, left: bool) -> Patch:
        h, w = rgba.shape[:2]
        w, h = min(w, self.width), min(h, self.height)
        x = self._margin if left else max(0, self.width - w - self._margin)
        return Patch(rgba[:h, :w], x, max(0, self._y(h)))

    def timecode(self, index: int) -> str:
        """The record timecode of cut frame ``index``, counted as the EDL and the OTIO timeline count it."""
        return timecode(self.start + RationalTime(index, self.start.rate))

    def draw(self, frame: np.ndarray, shot: int | None, index: int) -> np.ndarray:
        """Burn shot ``shot`` (None: the closing card), the timecode of cut frame ``index`` and the subtitle up
        then in, in place."""
        (self._credits_patch if shot is None else self._shot_patches[shot]).blend(frame)
        self._place(text_patch(f"{self.timecode(index)}  #{index:06d}", self.face, self._size, box=(0, 0, 0, 170)),
                    left=False).blend(frame)
        cue = self.subtitles.at(index) if self.subtitles else None
        if cue is not None:
            self._subtitle(cue).blend(frame)
        return frame

    def _subtitle(self, cue: Cue) -> Patch:
        """The cue's rows, white on a dark box each, centred at the bottom: above the burn-in row when that is
        at the bottom too. One patch a cue, kept while the cue is up."""
        if self._shown is not None and self._shown[0] is cue:
            return self._shown[1]
        rows = [text_patch(row, self.face, max(8, round(self.height * 0.05)), box=(0, 0, 0, 190))
                for row in cue.rows]
        wide = min(self.width, max(row.shape[1] for row in rows))
        block = np.zeros((sum(row.shape[0] for row in rows), wide, 4), np.uint8)
        y = 0
        for row in rows:
            h, w = row.shape[0], min(row.shape[1], wide)
            x = (wide - w) // 2
            block[y:y + h, x:x + w] = row[:, (row.shape[1] - w) // 2:(row.shape[1] - w) // 2 + w]
            y += h
        block = block[:self.height]
        under = 0 if self.top else self._size * 2 + self._margin     # the burn-in row's height, with room
        top = max(0, self.height - self._margin - under - block.shape[0])
        patch = Patch(block, (self.width - block.shape[1]) // 2, top)
        self._shown = (cue, patch)
        return patch


def _shot_text(shot: ShotCredits) -> str:
    return f"{shot.shot}  |  {shot.takes}"
