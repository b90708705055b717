"""The cut's mix in out/cut.mp4 and its review copy: AAC in sync with the shots, silence under the closing card."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from soundstage.edit import assemble_cut
from soundstage.edit.burnin import BurnIn
from soundstage.edit.labels import CutLabels, ShotCredits
from soundstage.media import VideoWriter
from soundstage.project import Project
from soundstage.provenance import init_keys, sign_file, verify_file
from soundstage.sound import RATE, Sound
from tiny_film import FPS, H, W, make_tiny

sys.path.insert(0, str(Path(__file__).parent / "media"))
from clips import click_track, decode_sound

AAC_FRAME = 1024 / RATE
SHOT_FRAMES = 6
CREATED = [{"action": "c2pa.created",
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"}]


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, list[Path]]:
    """The tiny film's project (for its card and burn-in) and two grey shot movies of six frames each."""
    root = tmp_path_factory.mktemp("cut")
    project = make_tiny(root / "film")
    shots = []
    for index, grey in enumerate((60, 160)):
        shot = root / f"shot{index}.mp4"
        with VideoWriter(shot, width=W, height=H, fps=FPS) as writer:
            for _ in range(SHOT_FRAMES):
                writer.write(np.full((H, W, 3), grey, np.uint8))
        shots.append(shot)
    return project, shots


def test_the_cut_carries_its_mix_in_sync_with_silence_under_the_card(film: tuple[Project, list[Path]],
                                                                     tmp_path: Path) -> None:
    project, shots = film
    labels = CutLabels.prepare(project, [ShotCredits("1-1", SHOT_FRAMES, generated=True),
                                         ShotCredits("2-1", SHOT_FRAMES, generated=True)])
    burn = BurnIn.prepare(project, labels)
    assert labels.card_frames > 0
    mix = Sound(click_track(2 * SHOT_FRAMES, FPS, at=SHOT_FRAMES))      # the mix ends with the shots: a click
    mix.samples[: RATE // 10] += 0.2 * np.sin(np.linspace(0, 200 * np.pi, RATE // 10, dtype=np.float32))[:, None]
    cut, review = tmp_path / "cut.mp4", tmp_path / "cut.review.mp4"
    count = assemble_cut(shots, cut, width=W, height=H, fps=FPS, labels=labels, review=(review, burn), sound=mix)
    assert count == 2 * SHOT_FRAMES + labels.card_frames
    for movie in (cut, review):
        heard = decode_sound(movie)
        assert heard.start == 0 and heard.picture_start == 0
        assert abs(heard.first_above(0.5) - SHOT_FRAMES / FPS) < 0.001, movie.name   # shot 2's first frame
        assert np.abs(heard.samples[: RATE // 20]).max() > 0.1                        # the tone at the head
        assert abs(heard.end - count / FPS) <= AAC_FRAME                              # as long as the picture
        card = round(2 * SHOT_FRAMES / FPS * RATE) + RATE // 100
        assert np.abs(heard.samples[card:]).max() < 0.01                              # silence under the card


def test_the_review_copy_alone_gets_the_mix_too(film: tuple[Project, list[Path]], tmp_path: Path) -> None:
    project, shots = film
    labels = CutLabels.prepare(project, [ShotCredits("1-1", SHOT_FRAMES), ShotCredits("2-1", SHOT_FRAMES)])
    review = tmp_path / "cut.review.mp4"
    mix = Sound(click_track(2 * SHOT_FRAMES, FPS, at=3))
    assemble_cut(shots, None, width=W, height=H, fps=FPS, review=(review, BurnIn.prepare(project, labels)),
                 sound=mix)
    assert abs(decode_sound(review).first_above(0.5) - 3 / FPS) < 0.001
    assert not (tmp_path / "cut.mp4").exists()


def test_a_cut_without_a_mix_stays_silent(film: tuple[Project, list[Path]], tmp_path: Path) -> None:
    import av

    _, shots = film
    assemble_cut(shots, tmp_path / "cut.mp4", width=W, height=H, fps=FPS)
    with av.open(str(tmp_path / "cut.mp4")) as container:
        assert not container.streams.audio


def test_signing_the_cut_keeps_its_sound_in_sync(film: tuple[Project, list[Path]], tmp_path: Path) -> None:
    """The cut is published signed: C2PA's box in the MP4 must not move the sound off its timestamps."""
    _, shots = film
    cut = tmp_path / "cut.mp4"
    assemble_cut(shots, cut, width=W, height=H, fps=FPS, sound=Sound(click_track(2 * SHOT_FRAMES, FPS, at=7)))
    identity = init_keys(tmp_path / "keys")
    signed = sign_file(cut, tmp_path / "signed.mp4", identity, actions=CREATED)
    verdict = verify_file(signed, trust=identity.root)
    assert verdict.state != "none" and not verdict.tampered
    heard = decode_sound(signed)
    assert heard.start == 0 and abs(heard.first_above(0.5) - 7 / FPS) < 0.001
