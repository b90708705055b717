"""The AI/human ledger and the watermark in real renders: shares measured from the mattes, credentials on
every take, shot and cut, and a copy that lost its manifest traced back to its takes."""

from __future__ import annotations

import base64
import functools
import itertools
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from soundstage.comp import ShotComp
from soundstage.media import VideoWriter, read_frames
from soundstage.pipeline import breakdown_project, render_project
from soundstage.project import Project
from soundstage.provenance import verify_file
from soundstage.provenance.record import mark_key
from soundstage.provenance.trace import trace_watermark
from soundstage.provenance.watermark import detect, embed
from soundstage.records.shot import find_mark, read_cut_record, read_shot_record
from soundstage.takes import set_slot
from tiny_film import FPS, H, W, make_tiny

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def tiny_at(root: Path, width: int, height: int) -> Project:
    """The tiny film at a size where the mark can be read (its 16:9 plate fitted up), 2 s long, rendered."""
    project = make_tiny(root, seconds=2.0)
    settings = project.settings_path
    settings.write_text(settings.read_text().replace(f"resolution = [{W}, {H}]", f"resolution = [{width}, {height}]")
                        + '[plates]\nsize = "fit"\n[labels]\npolicy = "none"\n')
    project = Project.load(project.root)
    report = render_project(project)
    assert not report.failed, report.failed
    return project


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return tiny_at(tmp_path_factory.mktemp("ledger"), 640, 360)


def test_the_plate_share_is_measured_from_the_matte(film: Project) -> None:
    record = read_shot_record(film, "1-1")
    assert record is not None
    # The actor is a 50×60 block of the 192×108 plate, fitted to the frame: that share of its area is human.
    actor = 50 * 60 / (W * H)
    assert record.plate_share == pytest.approx(actor, abs=0.01)
    assert record.generated_share == pytest.approx(1 - record.plate_share, abs=1e-6)
    assert record.ai_share == 0.0, "the procedural engine is generated, not AI"
    (layer,) = record.layers
    assert layer.slot == set_slot("hanok-rooftops-night") and layer.source_type == "algorithmicMedia"
    assert layer.share == pytest.approx(record.generated_share, abs=1e-6)

    rain = read_shot_record(film, "2-1")
    assert rain is not None and rain.plate is None and rain.plate_share == 0.0
    assert rain.generated_share == pytest.approx(1.0)
    shares = {layer.role: layer.share for layer in rain.layers}
    assert 0 < shares["element"] < 0.5 and shares["set"] == pytest.approx(1 - shares["element"], abs=1e-4)

    cut = read_cut_record(film, [shot.id for shot in breakdown_project(film).shots])
    assert cut is not None and cut.frames == record.frames + rain.frames
    assert cut.plate_share == pytest.approx(record.plate_share * record.frames / cut.frames, abs=1e-6)


def test_coverage_follows_the_layers_stacked_over_each_other() -> None:
    """A half-transparent element in front of an opaque plate's half: the shares are the stacking's."""
    width, height = 64, 32
    plate_alpha = np.zeros((height, width), np.uint8)
    plate_alpha[:, : width // 2] = 255
    element = np.zeros((height, width, 4), np.uint8)
    element[..., 3] = 128
    from soundstage.comp import Element
    comp = ShotComp(width, height, 1, background=lambda i: np.zeros((height, width, 3), np.uint8),
                    elements=(Element("smoke", lambda i: element, front=True),))
    from soundstage.comp.shot import _Coverage
    cover = _Coverage(height, width, len(comp.layers))
    cover.place(2, plate_alpha)
    cover.place(1, element[..., 3])
    background, smoke, plate = cover.shares()
    assert smoke == pytest.approx(128 / 255, abs=1e-3)
    assert plate == pytest.approx(0.5 * (1 - 128 / 255), abs=1e-3)
    assert background + smoke + plate == pytest.approx(1.0, abs=1e-5)


def test_the_watermark_leaves_the_plate_as_it_was_shot() -> None:
    """Marked or not, the actor's pixels are the same: only generated pixels carry the mark."""
    width, height = 320, 180
    rng = np.random.default_rng(1)
    set_image = rng.integers(0, 255, (height, width, 3), np.uint8)
    plate = np.zeros((height, width, 3), np.uint8)
    plate[...] = (40, 190, 50)
    plate[40:140, 100:200] = (200, 60, 50)

    def comp(mark: tuple[bytes, int] | None) -> np.ndarray:
        marker = functools.partial(embed, payload=mark[0], key=mark[1]) if mark else None
        shot = ShotComp.prepare(width=width, height=height, frames=1, background=lambda i: set_image,
                                first_plate=plate, mark=marker)
        return shot.frame(0, plate)

    marked, clean = comp((b"12345678", 99)), comp(None)
    inner = (slice(50, 130), slice(110, 190))                       # well inside the actor
    assert np.array_equal(marked[inner], clean[inner])
    assert np.abs(marked.astype(int) - clean.astype(int)).max() > 0, "the set carries the mark"


def test_every_take_shot_and_the_cut_carry_credentials(film: Project) -> None:
    take = next((film.state_dir / "takes").rglob("set.png"))
    verdict = verify_file(take)
    assert verdict.ok and verdict.actions[0].action == "c2pa.created"
    assert verdict.actions[0].digital_source_type == IPTC + "algorithmicMedia"
    assert verdict.actions[0].software_agent == "procedural"

    shot = verify_file(film.out_dir / "shots" / "1-1.mp4")
    assert shot.ok
    assert [a.action for a in shot.actions] == ["c2pa.opened", "c2pa.placed", "c2pa.edited"]
    assert shot.actions[0].digital_source_type == IPTC + "digitalCapture"
    assert shot.actions[-1].digital_source_type == IPTC + "compositeSynthetic"
    assert [(i.title, i.relationship, i.state) for i in shot.ingredients] == [
        ("actor.mp4", "parentOf", None), ("set.png", "componentOf", "signed")]
    record = read_shot_record(film, "1-1")
    assert record is not None
    assert shot.records["org.soundstage.shot"]["plate_share"] == record.plate_share
    (binding,) = shot.records["c2pa.soft-binding"]["blocks"]
    assert base64.b64decode(binding["value"]).hex() == record.watermark, "the soft binding names the mark"

    cut = verify_file(film.out_dir / "cut.mp4", trust=film.state_dir / "keys" / "root.pem")
    assert cut.state == "Trusted" and not cut.tampered
    movies = [shot for shot in cut.ingredients if shot.title.endswith(".mp4")]
    takes = [take.actions[0].digital_source_type for shot in movies for take in shot.ingredients if take.actions]
    assert takes == [IPTC + "algorithmicMedia"] * 3, "the cut carries the chain to every take"
    assert sorted(i.title for i in cut.ingredients if i.title.endswith(".wav")) == \
        ["ambience.wav", "dialogue.wav", "effects.wav"], "and its sound, stem by stem"


def test_a_copy_that_lost_its_manifest_is_traced_back_to_its_takes(film: Project, tmp_path: Path) -> None:
    """Re-encoded at CRF 23 and downscaled, the manifest is gone; the watermark still names shot and takes."""
    copy = tmp_path / "leaked.mp4"
    with VideoWriter(copy, width=480, height=270, fps=FPS, crf=23) as writer:
        for frame in read_frames(film.out_dir / "cut.mp4"):
            writer.write(cv2.resize(frame, (480, 270), interpolation=cv2.INTER_AREA))
    assert verify_file(copy).state == "none"

    traces = trace_watermark(film, copy)
    found = [trace.shot.shot for trace in traces if trace.shot is not None]
    assert found == ["1-1", "2-1"], [(t.first, t.last, t.confidence) for t in traces]
    first = traces[0]
    assert first.first == 0 and first.shot is not None
    taken = {layer.slot: layer.take_id for layer in first.shot.layers}
    record = read_shot_record(film, "1-1")
    assert record is not None and taken == {layer.slot: layer.take_id for layer in record.layers}


def test_a_re_rendered_shot_still_traces_its_old_copies(film: Project, tmp_path: Path) -> None:
    record = read_shot_record(film, "1-1")
    assert record is not None and record.watermark is not None
    kept = find_mark(film, bytes.fromhex(record.watermark))
    assert kept == record
    # What the CLI prints, as JSON, for a file of someone else's (another key): nothing of this project's.
    other = tmp_path / "other"
    shutil.copytree(film.root, other, ignore=shutil.ignore_patterns("keys"))
    assert trace_watermark(Project.load(other), film.out_dir / "cut.mp4") == []


def test_verify_watermark_on_the_command_line(film: Project, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from soundstage.cli import app

    result = CliRunner().invoke(app, ["verify", "--watermark", "--json", str(film.out_dir / "shots" / "2-1.mp4")])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)["found"]
    assert [f["shot"] for f in found] == ["2-1"]
    assert {t["slot"] for t in found[0]["takes"]} == {"set/sea-cliff-dusk", "shot/2-1/element/rain"}

    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((180, 320, 3), 90, np.uint8))
    result = CliRunner().invoke(app, ["verify", "--watermark", "--project", str(film.root), str(blank)])
    assert result.exit_code == 1 and "no watermark" in result.output

    # bad requests: one line, exit 2
    result = CliRunner().invoke(app, ["verify", "--watermark", str(tmp_path / "gone.mp4")])
    assert result.exit_code == 2 and "gone.mp4: no such file" in result.output
    result = CliRunner().invoke(app, ["verify", "--watermark", str(blank)])     # tmp_path is in no project
    assert result.exit_code == 2 and "give --project PROJECT" in result.output


def test_a_cropped_copy_is_traced_too(tmp_path: Path) -> None:
    """A 720p film zoomed in (6% off each side) and re-encoded at CRF 23: the mark is read where the picture sat.

    (At 360p a mark's cell is 4 pixels, which a second H.264 pass at CRF 23 mostly quantises away once the
    crop has moved it off the encoder's blocks; at 720p and up it is 8 pixels or more.)
    """
    film = tiny_at(tmp_path / "film", 1280, 720)
    copy = tmp_path / "zoomed.mp4"
    with VideoWriter(copy, width=1128, height=634, fps=FPS, crf=23) as writer:
        for frame in read_frames(film.out_dir / "cut.mp4"):
            writer.write(np.ascontiguousarray(frame[43:677, 76:1204]))     # 6% of 720 and of 1280 off each side
    first = list(itertools.islice(read_frames(copy), 8))
    assert detect(first, mark_key(film)).payload is None, "as it is, the crop moved every cell of the mark"
    traces = trace_watermark(film, copy)
    assert [trace.shot.shot for trace in traces if trace.shot is not None] == ["1-1", "2-1"]


def test_verify_watermark_reads_what_a_truncated_cut_has(film: Project, tmp_path: Path) -> None:
    """A cut cut short (a broken download): the frames that decode are read, and it says how many."""
    from typer.testing import CliRunner

    from soundstage.cli import app

    whole = (film.out_dir / "cut.mp4").read_bytes()
    total = sum(1 for _ in read_frames(film.out_dir / "cut.mp4"))
    short = tmp_path / "short.mp4"
    short.write_bytes(whole[: len(whole) * 2 // 5])
    result = CliRunner().invoke(app, ["verify", "--watermark", "--project", str(film.root), "--json", str(short)])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert 0 < shown["frames_read"] < total and shown["complete"] is False
    assert [f["shot"] for f in shown["found"]][:1] == ["1-1"]
    said = CliRunner().invoke(app, ["verify", "--watermark", "--project", str(film.root), str(short)])
    assert said.exit_code == 0 and f"read {shown['frames_read']} frames" in said.output, said.output
    assert "shot 1-1" in said.output
