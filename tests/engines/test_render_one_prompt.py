"""A rewritten prompt re-makes only what it reaches: that shot's take, its comp and the cut.

A shot's prompt reaches pixels only through a generated moving background, and the built-in procedural engine
makes none, so shot 2-1 of the tiny film gets its background from the ComfyUI engine's video workflow, run
against the scripted ComfyUI stand-in. The stand-in's clip is as bright as a hash of the prompt it was sent,
so a new prompt really is new pixels.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from standin import StandIn
from test_comfyui import FIXTURES, TXT2IMG, WAN, ComfyUI, by_class

from soundstage.media import VideoWriter, read_frames
from soundstage.pipeline import Generation, RenderReport, render_project
from soundstage.project import Project
from soundstage.provenance import verify_file
from soundstage.records.shot import read_shot_record
from tiny_film import FPS, H, W, make_tiny, pictures

DUSK = "Storm clouds roll over the cliff edge"
DAWN = "A calm sea under a pale sky"

SHOTS = """\
[[shot]]
id = "1-1"
scene = "1"
plate = "plates/actor.mp4"
duration = 1.0
elements = []

[[shot]]
id = "2-1"
scene = "2"
duration = 0.5
elements = []
background = "moving"
engine = "comfyui"
prompt = "{prompt}"
"""

# 1-1's ambience bed from the procedural engine; 2-1's ComfyUI has no audio workflow, so makes no sound
EVERY_STEP = {"take set/hanok-rooftops-night", "take set/sea-cliff-dusk", "take shot/2-1/background",
              "take shot/1-1/sound/ambience", "shot 1-1", "shot 2-1", "cut"}
PROMPTED = {"take shot/2-1/background", "shot 2-1", "cut"}


def level(text: str) -> int:
    """The grey the stand-in shoots for a prompt: 30…219, from the prompt's hash."""
    return 30 + hashlib.sha256(text.encode()).digest()[0] % 190


class VideoComfyUI(ComfyUI):
    """ComfyUI answering the video workflow with a 17-frame, 16 fps clip whose brightness follows the prompt."""

    def __init__(self, standin: StandIn, folder: Path) -> None:
        super().__init__(standin, render=self.save_video)
        self.folder = folder

    def save_video(self, graph: dict[str, Any]) -> dict[str, Any]:
        size = by_class(graph, "EmptyHunyuanLatentVideo")
        base = level(graph["6"]["inputs"]["text"])     # node 6: the prompt the engine filled in
        clip = self.folder / f"wan_{len(self.graphs)}.mp4"
        with VideoWriter(clip, width=size["width"], height=size["height"], fps=16) as writer:
            for k in range(17):
                writer.write(np.full((size["height"], size["width"], 3), min(base + 2 * k, 255), np.uint8))
        self.files[("ComfyUI_00001_.mp4", "video", "output")] = clip.read_bytes()
        return {"50": {"images": [{"filename": "ComfyUI_00001_.mp4", "subfolder": "video", "type": "output"}],
                       "animated": [True]}}


def write_prompt(root: Path, prompt: str) -> None:
    (root / "shots.toml").write_text(SHOTS.format(prompt=prompt))


@pytest.fixture
def film(tmp_path: Path, standin: StandIn) -> Path:
    """The tiny film with shot 2-1 on a moving background from ComfyUI; local GPU-seconds cost nothing."""
    root = tmp_path / "film"
    make_tiny(root)
    write_prompt(root, DUSK)
    (root / "workflows").mkdir()
    for name in (TXT2IMG, WAN):
        shutil.copy(FIXTURES / Path(name).name, root / name)
    with (root / "soundstage.toml").open("a") as settings:
        settings.write(f'[engines.comfyui]\nbase_url = "{standin.url}"\nworkflow = "{TXT2IMG}"\n'
                       f'video_workflow = "{WAN}"\ntimeout = 5.0\npoll_interval = 0.01\nbackoff = 0.0\n')
    return root


def statuses(report: RenderReport) -> dict[str, str]:
    return {step.step: step.status for step in report.steps}


def built(report: RenderReport) -> set[str]:
    assert not report.failed, report.failed
    assert set(statuses(report)) == EVERY_STEP
    assert {s for s, status in statuses(report).items() if status not in ("built", "cached")} == set()
    return {s for s, status in statuses(report).items() if status == "built"}


def levels(video: Path) -> list[float]:
    return [float(frame.mean()) for frame in read_frames(video)]


def test_a_new_prompt_remakes_its_take_its_shot_and_the_cut_only(film: Path, standin: StandIn,
                                                                 tmp_path: Path) -> None:
    comfy = VideoComfyUI(standin, tmp_path)
    shots = film / "out" / "shots"
    one, two, cut = shots / "1-1.mp4", shots / "2-1.mp4", film / "out" / "cut.mp4"

    # 1. the first render makes everything
    assert built(render_project(Project.load(film))) == EVERY_STEP
    assert cut.is_file()
    (graph,) = comfy.graphs
    assert DUSK in graph["6"]["inputs"]["text"]
    first_one, first_two, first_cut = one.read_bytes(), pictures(two), pictures(cut)
    one_written = one.stat().st_mtime_ns
    assert_ai_is_on_record(Project.load(film))
    dusk = levels(two)
    assert len(dusk) == round(0.5 * FPS)
    assert next(iter(read_frames(two))).shape == (H, W, 3)

    # 2. a new prompt for 2-1: its take, its comp and the cut, nothing else
    write_prompt(film, DAWN)
    assert built(render_project(Project.load(film))) == PROMPTED
    assert len(comfy.graphs) == 2 and DAWN in comfy.graphs[1]["6"]["inputs"]["text"]
    assert one.stat().st_mtime_ns == one_written and one.read_bytes() == first_one
    dawn = levels(two)
    assert len(dawn) == len(dusk)
    assert all(abs(a - b) > 15 for a, b in zip(dusk, dawn, strict=True))      # the new prompt's pixels
    assert pictures(cut) != first_cut

    # 3. nothing changed: nothing is made, and ComfyUI is not asked
    second_two, second_cut = two.read_bytes(), cut.read_bytes()
    assert built(render_project(Project.load(film))) == set()
    assert len(standin.calls("POST", "/prompt")) == 2
    assert two.read_bytes() == second_two and cut.read_bytes() == second_cut

    # 4. the old prompt back: its take is still in the store, so only the comp and the cut are redone from it
    write_prompt(film, DUSK)
    report = render_project(Project.load(film))
    assert built(report) == {"shot 2-1", "cut"}
    assert statuses(report)["take shot/2-1/background"] == "cached"
    assert len(standin.calls("POST", "/prompt")) == 2 and len(comfy.graphs) == 2
    store = Generation(Project.load(film)).store
    first, second = store.takes("shot/2-1/background")
    assert (first.label, second.label) == ("v001", "v002") and DUSK in first.prompt and DAWN in second.prompt
    served = next(s for s in report.steps if s.step == "take shot/2-1/background")
    assert served.output == store.files(first)[0]
    assert pictures(two) == first_two and pictures(cut) == first_cut
    assert one.stat().st_mtime_ns == one_written


def assert_ai_is_on_record(project: Project) -> None:
    """The model's background is AI on every record: its take, the shot, the cut, and the shares."""
    ai = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    store = Generation(project).store
    (take,) = store.takes("shot/2-1/background")
    verdict = verify_file(store.files(take)[0])
    assert verdict.ok and verdict.actions[0].digital_source_type == ai
    assert verdict.actions[0].software_agent == "comfyui"
    record = read_shot_record(project, "2-1")
    assert record is not None and record.ai_share == pytest.approx(1.0) and record.plate_share == 0.0
    assert {layer.role: layer.source_type for layer in record.layers}["background"] == "trainedAlgorithmicMedia"
    shot = verify_file(project.out_dir / "shots" / "2-1.mp4")
    assert shot.ok and shot.actions[-1].digital_source_type.endswith("/compositeWithTrainedAlgorithmicMedia")
    cut = verify_file(project.out_dir / "cut.mp4")
    assert cut.ok and cut.actions[0].digital_source_type.endswith("/compositeWithTrainedAlgorithmicMedia")
