"""Conditioning through the pipeline: a moving background starts from its location's set still, a long shot is
a chain of extensions, `plan` shows what each engine uses and drops, and what cannot be done is refused
before anything is spent (one line, exit 2)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from soundstage.engines.base import Reference
from soundstage.engines.frames import fit_to_frame
from soundstage.media import read_frames, read_image
from soundstage.pipeline import Generation, breakdown_project
from soundstage.pipeline.preflight import preflight
from soundstage.pipeline.takes import aspect_differs
from soundstage.project import Project
from test_cli import soundstage


def film(tmp_path: Path, shots: str, engine: str = "procedural", extra: str = "") -> Path:
    root = tmp_path / "film"
    assert soundstage("new", root).returncode == 0
    settings = root / "soundstage.toml"
    text = settings.read_text().replace("[1920, 1080]", "[64, 36]").replace("4.0", "0.25")
    text = text.replace("fps = 24", "fps = 12")
    settings.write_text(text.replace('engine = "procedural"', f'engine = "{engine}"') + extra)
    (root / "shots.toml").write_text(shots)
    return root


MOVING = '[[shot]]\nid = "1-1"\nscene = "1"\nbackground = "moving"\nduration = 0.5\n'


def test_a_moving_background_starts_from_its_sets_still(tmp_path: Path) -> None:
    root = film(tmp_path, MOVING)
    planned = json.loads(soundstage("plan", root, "--json").stdout)["takes"]
    [background] = [t for t in planned if t["slot"] == "shot/1-1/background"]
    assert background["conditioning"] == {"first_frame": "set/mountain-lake-dawn", "last_frame": None, "references": [],
                                          "extend": None, "parts": 1, "dropped": []}
    made = soundstage("generate", root)
    assert made.returncode == 0, made.stderr
    planned = json.loads(soundstage("plan", root, "--json").stdout)["takes"]
    [background] = [t for t in planned if t["slot"] == "shot/1-1/background"]
    still = Path(background["conditioning"]["first_frame"])
    assert still.name == "set.png" and background["status"] == "in store"
    clip = next(Path(root, ".soundstage").rglob("background.mp4"))
    first = next(read_frames(clip))
    expected = fit_to_frame(read_image(still)[..., :3], 64, 36)
    assert np.abs(first.astype(int) - expected.astype(int)).mean() < 4       # the set's own pixels, moving
    text = soundstage("plan", root)
    assert "shot/1-1/background: uses first frame " in text.stdout


def test_an_engine_without_a_first_frame_drops_the_set_and_says_so(tmp_path: Path) -> None:
    root = film(tmp_path, MOVING.replace('duration = 0.5', 'duration = 0.5\nengine = "comfyui"'),
                extra='\n[engines.comfyui]\nworkflow = "set.json"\nvideo_workflow = "video.json"\n')
    # a text-to-video graph: no LoadImage, so it takes no first frame and no reference
    graph = {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "wan.safetensors"}},
             "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "x", "clip": ["1", 1]}},
             "3": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 8}},
             "4": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["2", 0],
                                                         "latent_image": ["3", 0], "seed": 1, "steps": 4}},
             "5": {"class_type": "SaveAnimatedWEBP", "inputs": {"images": ["4", 0]}}}
    for name in ("set.json", "video.json"):
        (root / name).write_text(json.dumps(graph))
    planned = json.loads(soundstage("plan", root, "--json").stdout)["takes"]
    [background] = [t for t in planned if t["slot"] == "shot/1-1/background"]
    assert background["conditioning"]["first_frame"] is None
    assert background["conditioning"]["dropped"] == ["references:set set/mountain-lake-dawn"]


def test_a_long_shot_is_a_chain_of_extensions_priced_per_part(tmp_path: Path) -> None:
    shots = MOVING.replace("duration = 0.5", "duration = 20.0")
    root = film(tmp_path, shots, engine="google", extra='\n[engines.google]\nvideo_model = "veo-3.1-generate-001"\n')
    planned = json.loads(soundstage("plan", root, "--json").stdout)
    [background] = [t for t in planned["takes"] if t["slot"] == "shot/1-1/background"]
    assert background["conditioning"]["parts"] == 3                            # 8 s, then 15 s, then 20 s
    assert background["quantity"] == 22.0 and background["usd"] == pytest.approx(22 * 0.40)
    assert background["model"] == "veo-3.1-generate-001"


def test_an_extension_past_the_engines_limit_is_refused_before_anything(tmp_path: Path) -> None:
    shots = MOVING.replace("duration = 0.5", "duration = 200.0")
    root = film(tmp_path, shots, engine="google", extra='\n[engines.google]\nvideo_model = "veo-3.1-generate-001"\n')
    result = soundstage("generate", root)
    assert result.returncode == 2
    assert "shot 1-1: the google engine cannot take extend to 200 s (at most 148 s) for shot/1-1/background" \
        in result.stderr, result.stderr
    assert not (root / ".soundstage" / "takes").exists()


def test_bad_steering_images_are_one_line_each(tmp_path: Path) -> None:
    root = film(tmp_path, MOVING, extra="")
    (root / "notes.png").write_text("not a picture")
    cv2.imwrite(str(root / "square.png"), np.zeros((40, 40, 3), np.uint8))
    project = Project.load(root)
    generation = Generation(project)
    breakdown = breakdown_project(project)
    orders = generation.orders(breakdown)
    background = next(o for o in orders if o.slot == "shot/1-1/background")
    odd = replace(background, request=replace(background.request, references=(Reference(root / "notes.png", "style"),),
                                                 first_frame=root / "square.png"))
    lines = [str(p) for p in preflight(project, breakdown.shots, generation, [odd])]
    assert any("the style reference is not an image" in line and "notes.png" in line for line in lines), lines
    assert not any("first frame" in line for line in lines)                  # [plates] size = "fit": conformed
    request = generation.request(odd)
    conformed = read_image(request.first_frame)
    assert conformed.shape[:2] == (36, 64) and request.first_frame != root / "square.png"
    refusing = root / "soundstage.toml"
    refusing.write_text(refusing.read_text().replace('size = "fit"', 'size = "refuse"'))
    project = Project.load(root)
    generation = Generation(project)
    lines = [str(p) for p in preflight(project, breakdown.shots, generation, [odd])]
    assert any("the first frame is 40×40, another shape than the take's 64×36" in line for line in lines), lines
    assert aspect_differs(40, 40, 64, 36) and not aspect_differs(1920, 1080, 64, 36)


def test_offline_a_long_shot_is_extended_part_by_part_and_its_joins_hold(tmp_path: Path) -> None:
    shots = MOVING.replace("duration = 0.5", 'duration = 1.25\ncamera = { move = "push-in", amount = 0.1 }')
    root = film(tmp_path, shots, extra="\n[engines.procedural]\nclip = 0.5\n")
    planned = json.loads(soundstage("plan", root, "--json").stdout)["takes"]
    [background] = [t for t in planned if t["slot"] == "shot/1-1/background"]
    assert background["conditioning"]["parts"] == 3                      # 0.5 s, then 1.0 s, then 1.25 s
    made = soundstage("generate", root, "--json")
    assert made.returncode == 0, made.stderr
    assert "warning" not in made.stderr                                  # no join shows
    listed = json.loads(soundstage("takes", root, "1-1", "--json").stdout)["takes"]
    parts = [t for t in listed if t["slot"] == "shot/1-1/background"]
    assert [t["take"] for t in parts] == ["v001", "v002", "v003"]
    project = Project.load(root)
    generation = Generation(project)
    clips = [generation.store.files(t)[0] for t in generation.store.takes("shot/1-1/background")]
    lengths = [len(list(read_frames(c))) for c in clips]
    assert lengths == [6, 12, 15]
    first, last = list(read_frames(clips[0])), list(read_frames(clips[-1]))
    drift = [float(np.abs(a.astype(int) - b.astype(int)).mean()) for a, b in zip(first, last[:6], strict=True)]
    assert max(drift) < 4, drift                                  # the first clip, kept (through two encodes)
    from soundstage.pipeline.joins import measure_join
    assert measure_join(clips[-1], 6).continuous and measure_join(clips[-1], 12).continuous


def test_the_crews_first_and_last_frames_from_shots_toml(tmp_path: Path) -> None:
    shots = MOVING.replace("duration = 0.5", 'duration = 0.5\nfirst_frame = "refs/open.png"\n'
                                             'last_frame = "refs/close.png"\ncamera = { move = "pan-left" }')
    root = film(tmp_path, shots)
    (root / "refs").mkdir(exist_ok=True)
    close = np.zeros((36, 64, 3), np.uint8)
    close[:, :32] = (200, 40, 40)
    cv2.imwrite(str(root / "refs" / "open.png"), np.full((36, 64, 3), 60, np.uint8))
    cv2.imwrite(str(root / "refs" / "close.png"), cv2.cvtColor(close, cv2.COLOR_RGB2BGR))
    planned = json.loads(soundstage("plan", root, "--json").stdout)["takes"]
    [background] = [t for t in planned if t["slot"] == "shot/1-1/background"]
    c = background["conditioning"]
    assert (c["first_frame"], c["last_frame"]) == (str(root / "refs" / "open.png"), str(root / "refs" / "close.png"))
    # the crew's first frame leads: the set still is not sent beside it
    assert c["references"] == [] and c["dropped"] == []
    assert soundstage("generate", root).returncode == 0
    clip = next(Path(root, ".soundstage").rglob("background.mp4"))
    frames = list(read_frames(clip))
    assert abs(float(frames[0].mean()) - 60) < 3 and np.abs(frames[-1].astype(int) - close.astype(int)).mean() < 4
    record = json.loads(next(clip.parent.glob("take.json")).read_text())
    assert record["request"]["camera_hint"] == "pan left" and record["parameters"]["move"] == "pan left"
    assert record["request"]["last_frame"]["path"] == "refs/close.png"

    # Veo 3.0 takes a first frame but no last frame: refused before anything is sent
    google = film(tmp_path / "g", shots, engine="google")
    shutil.copytree(root / "refs", google / "refs", dirs_exist_ok=True)
    refused = soundstage("plan", google)
    assert refused.returncode == 2
    assert "the google engine cannot take last_frame for shot/1-1/background" in refused.stderr, refused.stderr
