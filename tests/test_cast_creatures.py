"""Issue 21: creatures made on a chroma screen and keyed by soundstage's keyer, comped with light wrap; a model
sheet approved once steers every later take of its cast member."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np

from cast_film import FPS, H, W, make_cast_film, reference_image
from soundstage.comp import Element, Look, ShotComp, key, measure_screen
from soundstage.engines import AssetKind, AssetRequest
from soundstage.engines.base import Reference
from soundstage.engines.frames import luminance_alpha
from soundstage.engines.procedural.creatures import creature_frame, figure_of, subject_of
from soundstage.engines.procedural.engine import ProceduralEngine
from soundstage.media import read_frames, read_image
from soundstage.pipeline import breakdown_project, render_project
from soundstage.pipeline.takes import Generation
from soundstage.records.cast import sheet_slot
from soundstage.takes import element_slot


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_creature_with_dark_parts_keys_solid_from_its_screen(tmp_path: Path) -> None:
    """The procedural engine's creature is opaque on green; the keyer keeps its dark stripe, which a
    luminance key (the way elements on black are keyed) would make a hole."""
    reference_image(tmp_path / "ref.png")
    frame = creature_frame(figure_of(subject_of(tmp_path / "ref.png"), 128, 72, still=True), 0, FPS, 128, 72, 3,
                           "green")
    dark = (frame.max(axis=2) < 40)
    assert dark.sum() > 20, "the creature has dark parts of its own"
    _, matte = key(frame, measure_screen(frame, "auto"))
    assert (matte[dark] > 240).mean() > 0.95
    assert (matte[(frame == frame[0, 0]).all(axis=2)] == 0).all(), "the open screen is keyed out"
    assert (luminance_alpha(frame)[..., 3][dark] < 60).all(), "by luminance the same parts would be see-through"


def test_the_procedural_engine_makes_the_creature_of_its_subject_reference(tmp_path: Path) -> None:
    red, blue = tmp_path / "red.png", tmp_path / "blue.png"
    reference_image(red, (200, 40, 30))
    reference_image(blue, (40, 60, 220))
    engine = ProceduralEngine()

    def made(reference: Path, folder: str) -> np.ndarray:
        request = AssetRequest(kind=AssetKind.ELEMENT, prompt="dragon", width=W, height=H, seed=3, duration=2 / FPS,
                               fps=FPS, element="dragon", screen="green", references=(Reference(reference, "subject"),))
        (tmp_path / folder).mkdir()
        got = engine.generate(request, tmp_path / folder)
        assert got.parameters["screen"] == "green" and got.source_type == "algorithmicMedia"
        return read_image(got.files[0])

    from_red, from_blue = made(red, "a"), made(blue, "b")
    assert from_red.shape == (H, W, 3), "no alpha: soundstage keys it"
    assert ((from_red[..., 0] > 150) & (from_red[..., 2] < 80)).sum() > 30
    assert ((from_blue[..., 2] > 150) & (from_blue[..., 0] < 80)).sum() > 30


def test_a_creature_element_takes_the_sets_light_on_its_edges() -> None:
    """Light wrap on a keyed creature (``wrap``), as on the plate; fire keeps its own light (no wrap)."""
    bright = np.full((36, 64, 3), 250, np.uint8)
    creature = np.zeros((36, 64, 4), np.uint8)
    creature[8:28, 16:48] = (30, 20, 20, 255)

    def comp(wrap: bool) -> np.ndarray:
        shot = ShotComp.prepare(width=64, height=36, frames=1, background=lambda _: bright,
                                elements=[Element("dragon", lambda _: creature, wrap=wrap)],
                                look=Look(light_wrap=0.8, grain=False))
        return shot.frame(0).astype(int)

    wrapped, plain = comp(True), comp(False)
    assert (wrapped[8:28, 16] - plain[8:28, 16]).mean() > 20, "its edge is lit by the set behind it"
    assert (wrapped[18, 32] == plain[18, 32]).all(), "its middle is not"


def test_the_cut_shows_the_same_creature_in_both_scenes_keyed_from_its_screen(tmp_path: Path) -> None:
    project = make_cast_film(tmp_path / "film")
    report = render_project(project)
    assert not report.failed, report.failed
    for shot in ("1-1", "2-1"):
        frame = list(read_frames(project.out_dir / "shots" / f"{shot}.mp4"))[2].astype(int)
        assert ((frame[..., 0] > 150) & (frame[..., 1] < 90)).sum() > 100, f"the red dragon is in shot {shot}"
        screen = (frame[..., 1] > 140) & (frame[..., 0] < 80) & (frame[..., 2] < 110)
        assert screen.sum() == 0, f"no green screen is left in shot {shot}"
    takes = {take.slot: take for take in Generation(project).store.takes()}
    reference = project.root / "cast" / "dragon" / "front.png"
    for slot in (element_slot("1-1", "dragon"), element_slot("2-1", "dragon"), sheet_slot("dragon")):
        assert [(r["sha256"], r["role"]) for r in takes[slot].record.request["references"]] == \
            [(_sha(reference), "subject")]
        assert takes[slot].record.request["screen"] == "green"
        assert "green screen" in takes[slot].record.request["prompt"]


def test_an_approved_model_sheet_is_sent_to_every_take_of_its_cast_member(tmp_path: Path) -> None:
    """Once a sheet is approved, its exact bytes are what every take of the dragon is made from: a new design,
    so the shots get new takes, and the procedural engine draws from them (a blue sheet makes a blue dragon)."""
    project = make_cast_film(tmp_path / "film")
    generation = Generation(project)
    breakdown = breakdown_project(project)
    orders = generation.orders(breakdown)
    sheet_order = next(order for order in orders if order.slot == sheet_slot("dragon"))
    assert sheet_order.request.kind == AssetKind.SET and sheet_order.shots == ()
    before = {order.slot: generation.make(order)[0] for order in orders if order.request.element == "dragon"}
    # the crew paints over the sheet and approves their own version of it: a blue dragon
    blue = tmp_path / "blue_sheet.png"
    reference_image(blue, (40, 60, 220))
    blue_order = replace(sheet_order, request=replace(sheet_order.request, references=(Reference(blue, "subject"),)))
    blue_take, _ = generation.make(blue_order)
    generation.store.approve(sheet_slot("dragon"), blue_take.version)
    sheet = generation.store.files(blue_take)[0]

    cast_orders = [order for order in generation.orders(breakdown) if order.request.element == "dragon"]
    assert [order.slot for order in cast_orders] == [element_slot("1-1", "dragon"), element_slot("2-1", "dragon")]
    for order in cast_orders:
        assert generation.chosen(order.slot, order.design) is None, "the render makes a new take, not the old"
        request = generation.request(order)
        assert [(r.path.read_bytes(), r.role) for r in request.references] == [(sheet.read_bytes(), "subject")]
        take, made = generation.make(order)
        assert made and take.version == before[order.slot].version + 1
        assert [r["sha256"] for r in take.record.request["references"]] == [_sha(sheet)]
        first = read_image(generation.store.files(take)[0])
        assert ((first[..., 2] > 150) & (first[..., 0] < 80)).sum() > 30, "drawn from the blue sheet"
        old = read_image(generation.store.files(before[order.slot])[0])
        assert ((old[..., 2] > 150) & (old[..., 0] < 80)).sum() == 0, "the takes before were the red references'"


def test_a_cast_take_without_a_screen_is_refused_in_one_line(tmp_path: Path) -> None:
    import pytest

    from soundstage.errors import MediaError
    from soundstage.pipeline.shot import _keyed

    grey = np.dstack([np.full((36, 64, 3), 128, np.uint8), np.full((36, 64), 255, np.uint8)])
    with pytest.raises(MediaError, match="no screen to key it from") as caught:
        _keyed(lambda _: grey, tmp_path / "element_0000.png", "3-2")
    assert caught.value.shot == "3-2" and "\n" not in str(caught.value)
