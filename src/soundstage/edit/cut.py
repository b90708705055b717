"""The cut: finished shots, in screenplay order, joined into one movie."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

from soundstage.edit.burnin import BurnIn
from soundstage.edit.labels import CutLabels
from soundstage.media import VideoWriter, read_frames
from soundstage.sound.track import RATE, Sound


def assemble_cut(shots: Sequence[Path], out: Path | None, *, width: int, height: int, fps: float,
                 on_frame: Callable[[], None] | None = None, labels: CutLabels | None = None,
                 review: tuple[Path, BurnIn] | None = None, sound: Sound | None = None) -> int:
    """Join the shot movies into ``out`` and return its frame count.

    Re-encoded rather than stream-copied: shots rendered by different versions or settings need not share
    codec parameters, and a clean single-GOP-structure file is what review players expect. With ``labels``
    the closing card follows the last shot (the corner marks are in the shot movies already). With ``review``
    the same frames, burnt in, also go to the review copy, in the same pass, so the shots are decoded once;
    ``out`` None writes the review copy alone (the cut is already current). ``sound``, the cut's mix from its
    first frame, goes into both as AAC, in sync (see :class:`~soundstage.media.video.Soundtrack`): what it
    lacks of the picture's length (the closing card) is silence, and what it has beyond is dropped.
    """
    count = 0
    mix = None if sound is None else sound.samples
    with ExitStack() as stack:
        writer = stack.enter_context(VideoWriter(out, width=width, height=height, fps=fps, sound=mix,
                                                 sound_rate=RATE)) if out else None
        # The review copy is for notes, not for finishing: a lighter encode keeps it from doubling the cut's time.
        copy = stack.enter_context(VideoWriter(review[0], width=width, height=height, fps=fps, crf=23,
                                               preset="ultrafast", sound=mix, sound_rate=RATE, aac_coder="fast")) \
            if review else None
        burn = review[1] if review else None

        def put(frame, shot: int | None) -> None:  # type: ignore[no-untyped-def]
            nonlocal count
            if writer:
                writer.write(frame)
            if copy and burn:
                copy.write(burn.draw(frame.copy(), shot, count))    # the card is one shared frame
            count += 1
            if on_frame:
                on_frame()

        for index, shot in enumerate(shots):
            for frame in read_frames(shot, prefetch=4):
                put(frame, index)
        if labels and labels.card_frames:
            card = labels.card_frame
            for _ in range(labels.card_frames):
                put(card, None)
    return count
