"""The procedural engine's moving backgrounds: image-to-video from a first frame, into a last frame, and
extension that keeps the clip and goes on from it. Offline, and labelled not AI, like the rest of it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from soundstage.engines.base import AssetKind, AssetRequest, Reference, SourceType
from soundstage.engines.procedural import ProceduralEngine, set_image
from soundstage.errors import EngineError
from soundstage.media import probe, read_frames

W, H, FPS = 64, 36, 12.0


def still(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def background(**kw: object) -> AssetRequest:
    kw.setdefault("duration", 1.0)
    return AssetRequest(kind=AssetKind.BACKGROUND, prompt="a hanok courtyard at night", width=W, height=H,
                        seed=3, fps=FPS, **kw)  # type: ignore[arg-type]


def frames(path: Path) -> list[np.ndarray]:
    return list(read_frames(path))


def close(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_a_moving_background_starts_on_its_first_frame_and_ends_on_its_last(tmp_path: Path) -> None:
    first = still(tmp_path / "first.png", set_image("a hanok courtyard at night", "", W, H, 1))
    last_rgb = set_image("a pine forest at dawn", "", W, H, 2)
    last = still(tmp_path / "last.png", last_rgb)
    got = ProceduralEngine().generate(background(first_frame=first, last_frame=last), tmp_path / "take")

    assert got.source_type is SourceType.ALGORITHMIC and got.files == (tmp_path / "take" / "background.mp4",)
    clip = frames(got.files[0])
    assert len(clip) == 12 and probe(got.files[0]).width == W
    assert close(clip[0], cv2.cvtColor(cv2.imread(str(first)), cv2.COLOR_BGR2RGB)) < 4    # H.264's loss only
    assert close(clip[-1], last_rgb) < 4
    assert close(clip[0], last_rgb) > 15                  # it travelled: the two ends are different pictures
    assert got.parameters["starts_from"] == "first_frame" and got.parameters["ends_on_last_frame"]


def test_the_set_reference_is_the_first_frame_when_none_is_given(tmp_path: Path) -> None:
    set_rgb = set_image("a hanok courtyard at night", "", W, H, 9)
    reference = still(tmp_path / "set.png", set_rgb)
    got = ProceduralEngine().generate(background(references=(Reference(reference, "set"),)), tmp_path / "a")
    assert got.parameters["starts_from"] == "references:set"
    assert close(frames(got.files[0])[0], set_rgb) < 4
    words = ProceduralEngine().generate(background(), tmp_path / "b")   # text-to-video: drawn from the prompt
    assert words.parameters["starts_from"] == "prompt"


def test_an_extension_keeps_the_clip_and_goes_on_without_a_seam(tmp_path: Path) -> None:
    first = still(tmp_path / "first.png", set_image("a hanok courtyard at night", "", W, H, 1))
    engine = ProceduralEngine()
    one = engine.generate(background(first_frame=first, camera_hint="pan left"), tmp_path / "one").files[0]
    two = engine.generate(background(duration=2.0, extend=one, camera_hint="pan left"), tmp_path / "two")
    before, after = frames(one), frames(two.files[0])
    assert len(after) == 24 and two.parameters["extended_frames"] == 12
    assert all(close(a, b) < 2 for a, b in zip(before, after[:12], strict=True))   # the clip, kept
    seam = close(after[11], after[12])
    steps = [close(after[i], after[i + 1]) for i in range(12, 23)]
    assert seam <= 2 * max(steps) + 1, (seam, steps)        # the join moves no more than the move does


def test_what_it_cannot_take_is_refused_before_drawing(tmp_path: Path) -> None:
    engine = ProceduralEngine()
    first = still(tmp_path / "first.png", np.zeros((H, W, 3), np.uint8))
    with pytest.raises(EngineError, match=r"cannot take references:subject for a background"):
        engine.quote(background(references=(Reference(first, "subject"),)))
    with pytest.raises(EngineError, match=r"cannot take first_frame for a set"):
        engine.quote(AssetRequest(kind=AssetKind.SET, prompt="x", width=W, height=H, seed=1, first_frame=first))
    with pytest.raises(EngineError, match=r"130 s clip is longer than it extends \(at most 120 s\)"):
        engine.quote(background(duration=130.0, extend=tmp_path / "one.mp4"))
    assert not list(tmp_path.glob("*.mp4"))
