"""The ComfyUI engine, through httpx, against a stand-in that answers as ComfyUI's server.py does.

The stand-in implements ``/system_stats``, ``POST /prompt`` (``{prompt_id, number, node_errors}``, or 400
``{error, node_errors}``), ``GET /history/{id}`` (``{}`` until done, then ``{id: {prompt, outputs, status,
meta}}``), ``GET /queue`` (``queue_running`` / ``queue_pending`` lists), ``GET /view`` and ``POST
/upload/image`` (multipart). It "renders" what the received graph asks for, so the pixels that come back
prove which values reached which node. The workflows are real API exports under tests/fixtures/comfyui/.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from standin import Reply, Request, StandIn

from soundstage.engines import load_engine
from soundstage.engines.base import AssetKind, AssetRequest, Engine, Reference, SourceType, makes_sound
from soundstage.engines.comfyui import ComfyUIEngine, plan_workflow, read_workflow
from soundstage.engines.frames import RETIME_METHOD
from soundstage.errors import EngineBusy, EngineError, EngineReplyError, EngineTimeout, ProjectError
from soundstage.media import VideoWriter, probe, read_frames, read_image
from soundstage.sound import read_sound

FIXTURES = Path(__file__).parents[1] / "fixtures" / "comfyui"
TXT2IMG = "workflows/sd15_txt2img_api.json"
IMG2IMG = "workflows/sd15_img2img_api.json"
WAN = "workflows/wan21_t2v_api.json"
AUDIO = "workflows/stable_audio_api.json"
PROMPT_ID = "2f8bd0a4-6c1e-4a53-9d8e-51a0c0b5e1f7"
START_MS = 1_790_000_000_000

SYSTEM_STATS = {
    "system": {"os": "posix", "ram_total": 67245514752, "ram_free": 51023122432, "comfyui_version": "0.3.68",
               "python_version": "3.12.9 (main, Feb 12 2025, 14:50:50) [GCC 11.4.0]",
               "pytorch_version": "2.8.0+cu128", "embedded_python": False, "argv": ["main.py", "--listen"]},
    "devices": [{"name": "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync", "type": "cuda", "index": 0,
                 "vram_total": 25386352640, "vram_free": 24068128768, "torch_vram_total": 0,
                 "torch_vram_free": 0}],
}

Render = Callable[[dict[str, Any]], dict[str, Any]]


def png(pixels: np.ndarray) -> bytes:
    order = cv2.COLOR_RGBA2BGRA if pixels.shape[2] == 4 else cv2.COLOR_RGB2BGR
    ok, data = cv2.imencode(".png", cv2.cvtColor(pixels, order))
    assert ok
    return data.tobytes()


def by_class(graph: dict[str, Any], class_type: str) -> dict[str, Any]:
    return next(node["inputs"] for node in graph.values() if node["class_type"] == class_type)


def still_picture(graph: dict[str, Any]) -> np.ndarray:
    """What the stand-in 'renders': red = x, green = y (mod 256), blue = the seed (mod 256), at the latent's size."""
    size, sampler = by_class(graph, "EmptyLatentImage"), by_class(graph, "KSampler")
    h, w = size["height"], size["width"]
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = (np.arange(w) % 256)[None, :]
    img[..., 1] = (np.arange(h) % 256)[:, None]
    img[..., 2] = sampler["seed"] % 256
    return img


class ComfyUI:
    """The stand-in scripted as a ComfyUI server that runs one prompt and keeps what it was sent."""

    def __init__(self, standin: StandIn, *, render: Render | None = None, polls: int = 0,
                 status: dict[str, Any] | None = None) -> None:
        self.graphs: list[dict[str, Any]] = []
        self.bodies: list[dict[str, Any]] = []
        self.files: dict[tuple[str, str, str], bytes] = {}
        self.uploads: dict[str, bytes] = {}
        self.render = render or self.save_still
        self.polls, self.seen = polls, 0
        self.status = status
        self.picture: np.ndarray | None = None
        standin.route("GET", "/system_stats", Reply(200, SYSTEM_STATS))
        standin.route("POST", "/prompt", self._prompt)
        standin.route("GET", r"/history/[^/]+", self._history)
        standin.route("GET", "/queue", self._queue)
        standin.route("GET", "/view", self._view)
        standin.route("POST", "/upload/image", self._upload)
        standin.route("POST", "/queue", Reply(200, b""))

    def save_still(self, graph: dict[str, Any]) -> dict[str, Any]:
        self.picture = still_picture(graph)
        self.files[("ComfyUI_00001_.png", "", "output")] = png(self.picture)
        return {"9": {"images": [{"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"}]}}

    def _prompt(self, request: Request) -> Reply:
        body = request.json()
        self.bodies.append(body)
        self.graphs.append(body["prompt"])
        return Reply(200, {"prompt_id": PROMPT_ID, "number": 3, "node_errors": {}})

    def _history(self, request: Request) -> Reply:
        self.seen += 1
        prompt_id = request.path.rsplit("/", 1)[1]
        if prompt_id != PROMPT_ID or not self.graphs or self.seen <= self.polls:
            return Reply(200, {})
        graph = self.graphs[-1]
        status = self.status or {"status_str": "success", "completed": True, "messages": [
            ["execution_start", {"prompt_id": PROMPT_ID, "timestamp": START_MS}],
            ["execution_cached", {"nodes": [], "prompt_id": PROMPT_ID, "timestamp": START_MS + 2}],
            ["execution_success", {"prompt_id": PROMPT_ID, "timestamp": START_MS + 3500}]]}
        outputs = self.render(graph) if status["status_str"] == "success" else {}
        entry = {"prompt": [3, PROMPT_ID, graph, {"client_id": self.bodies[-1]["client_id"]}, list(outputs)],
                 "outputs": outputs, "status": status,
                 "meta": {n: {"node_id": n, "display_node": n, "parent_node": None, "real_node_id": n}
                          for n in outputs}}
        return Reply(200, {PROMPT_ID: entry})

    def _queue(self, request: Request) -> Reply:
        graph = self.graphs[-1] if self.graphs else {}
        return Reply(200, {"queue_running": [[2, "0c9e-other-job", {}, {"client_id": "someone"}, ["9"]]],
                           "queue_pending": [[3, PROMPT_ID, graph, {}, ["9"]]]})

    def _view(self, request: Request) -> Reply:
        key = tuple(request.query.get(k, [""])[0] for k in ("filename", "subfolder", "type"))
        data = self.files.get(key)      # type: ignore[call-overload]
        return Reply(200, data, {"Content-Type": "image/png"}) if data is not None else Reply(404, b"")

    def _upload(self, request: Request) -> Reply:
        fields = request.form()
        ((name, data),) = fields["image"]
        assert name is not None
        self.uploads[name] = data
        return Reply(200, {"name": name, "subfolder": "", "type": fields["type"][0][1].decode()})


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "film"
    (project / "workflows").mkdir(parents=True)
    for fixture in FIXTURES.glob("*.json"):
        shutil.copy(fixture, project / "workflows" / fixture.name)
    return project


def engine(root: Path, standin: StandIn | None = None, **options: Any) -> ComfyUIEngine:
    settings: dict[str, Any] = {"workflow": TXT2IMG, "retries": 2, "backoff": 0.0, "timeout": 5.0,
                                "poll_interval": 0.01}
    if standin is not None:
        settings["base_url"] = standin.url
    settings.update(options)
    return ComfyUIEngine(ComfyUIEngine.Options(**settings), root=root)


def set_request(**kw: Any) -> AssetRequest:
    fields: dict[str, Any] = {"kind": AssetKind.SET, "prompt": "a hanok courtyard at night", "width": 320,
                              "height": 180, "seed": 42, "look": "teal and orange", "negative_prompt": "people, text"}
    fields.update(kw)
    return AssetRequest(**fields)


# -- success ------------------------------------------------------------------------------------------------


def test_set_fills_prompt_seed_and_size_in_the_right_nodes(standin: StandIn, root: Path, tmp_path: Path) -> None:
    comfy = ComfyUI(standin)
    original_bytes = (root / TXT2IMG).read_bytes()
    original = json.loads(original_bytes)
    out = tmp_path / "take"
    out.mkdir()
    got = engine(root, standin).generate(set_request(), out)

    (graph,) = comfy.graphs
    expected = copy.deepcopy(original)
    expected["6"]["inputs"]["text"] = "a hanok courtyard at night. teal and orange"
    expected["7"]["inputs"]["text"] = "people, text"
    expected["3"]["inputs"]["seed"] = 42
    expected["5"]["inputs"].update(width=320, height=184, batch_size=1)      # 180 → a multiple of 8
    assert graph == expected                        # those values, in those nodes, and nothing else touched
    assert (root / TXT2IMG).read_bytes() == original_bytes
    assert len(comfy.bodies[0]["client_id"]) == 32

    (view,) = standin.calls("GET", "/view")
    assert view.query == {"filename": ["ComfyUI_00001_.png"], "type": ["output"]}    # subfolder= is blank
    assert got.files == (out / "set.png",)
    assert [p.name for p in out.iterdir()] == ["set.png"]              # the download scratch is gone
    pixels = read_image(got.files[0])
    assert comfy.picture is not None
    assert np.array_equal(pixels, comfy.picture[2:182])                  # 320×184 centre-cropped to 320×180

    p = got.parameters
    assert p["workflow_sha256"] == hashlib.sha256(original_bytes).hexdigest()
    assert p["workflow_file"] == TXT2IMG and p["workflow"] == graph
    assert p["filled"] == {"6": {"text": "a hanok courtyard at night. teal and orange"},
                           "7": {"text": "people, text"}, "3": {"seed": 42},
                           "5": {"width": 320, "height": 184, "batch_size": 1}}
    assert p["nodes"] == {"prompt": ["6"], "negative": ["7"], "seed": ["3.seed"], "size": "5", "load_image": [],
                          "output": "9"}
    assert p["prompt_id"] == PROMPT_ID and p["client_id"] == comfy.bodies[0]["client_id"]
    assert p["comfyui_version"] == "0.3.68" and p["pytorch_version"] == "2.8.0+cu128"
    assert p["resized"]["crop"] == [0, 2, 320, 180]
    assert p["seed"] == 42 and p["deterministic"] is True and p["history_polls"] == 1
    assert p["models"] == {"4": {"ckpt_name": "v1-5-pruned-emaonly-fp16.safetensors"}}
    assert (got.engine, got.model, got.version) == ("comfyui", "v1-5-pruned-emaonly-fp16.safetensors",
                                                    "ComfyUI 0.3.68")
    assert (got.unit, got.quantity) == ("gpu_second", pytest.approx(3.5))     # ComfyUI's own timestamps
    assert got.source_type == SourceType.TRAINED_ALGORITHMIC


def test_quote_counts_the_graphs_steps_and_sends_nothing(standin: StandIn, root: Path) -> None:
    comfy_engine = engine(root, standin, video_workflow=WAN)
    still = comfy_engine.quote(set_request())
    assert (still.engine, still.model, still.unit, still.quantity) == (
        "comfyui", "v1-5-pruned-emaonly-fp16.safetensors", "gpu_second", 5.0)        # 20 steps × 0.25 s
    moving = comfy_engine.quote(set_request(kind=AssetKind.BACKGROUND, duration=1.0, fps=24))
    assert (moving.model, moving.quantity) == ("wan2.1_t2v_1.3B_fp16.safetensors", 240.0)  # 30 × 8 s
    with pytest.raises(EngineError, match="needs a video workflow"):
        engine(root, standin).quote(set_request(kind=AssetKind.BACKGROUND, duration=1.0, fps=24))
    assert standin.requests == []


def test_reference_is_uploaded_and_named_in_load_image(standin: StandIn, root: Path, tmp_path: Path) -> None:
    comfy = ComfyUI(standin)
    reference = tmp_path / "set_v001.png"
    reference.write_bytes(png(np.full((32, 48, 3), 77, np.uint8)))
    # img2img has no EmptyLatentImage: the size comes from the reference, so the stand-in renders 512×512.
    comfy.render = lambda graph: comfy.save_still({**graph, "99": {"class_type": "EmptyLatentImage", "inputs": {
        "width": 512, "height": 512}}})
    got = engine(root, standin, workflow=IMG2IMG).generate(set_request(references=(Reference(reference),)),
                                                           tmp_path / "t")

    (upload,) = standin.calls("POST", "/upload/image")
    fields = upload.form()
    ((name, data),) = fields["image"]
    assert data == reference.read_bytes()
    assert name == f"soundstage_{hashlib.sha256(data).hexdigest()[:16]}.png"
    assert fields["type"] == [(None, b"input")] and fields["overwrite"] == [(None, b"true")]
    assert comfy.uploads == {name: data}
    (graph,) = comfy.graphs
    assert graph["10"]["inputs"] == {"image": name, "upload": "image"}
    assert graph["3"]["inputs"]["seed"] == 42 and graph["3"]["inputs"]["latent_image"] == ["12", 0]
    assert got.parameters["references"] == ["set_v001.png"]
    assert got.parameters["nodes"]["size"] is None and got.parameters["resized"]["from"] == [512, 512]
    assert read_image(got.files[0]).shape == (180, 320, 3)


def test_history_is_polled_until_the_entry_appears(standin: StandIn, root: Path, tmp_path: Path) -> None:
    comfy = ComfyUI(standin, polls=3)
    got = engine(root, standin, poll_interval=0.02).generate(set_request(), tmp_path)
    assert len(standin.calls("GET", rf"/history/{PROMPT_ID}")) == 4
    assert len(standin.calls("GET", "/queue")) == 3                      # its place asked between polls
    assert got.parameters["history_polls"] == 4
    assert comfy.seen == 4


def test_background_from_a_video_workflow_is_retimed_to_the_shot(standin: StandIn, root: Path,
                                                                  tmp_path: Path) -> None:
    def save_video(graph: dict[str, Any]) -> dict[str, Any]:
        clip = tmp_path / "wan.mp4"
        with VideoWriter(clip, width=64, height=48, fps=16) as writer:        # 17 frames, 16 fps: 1.06 s
            for k in range(17):
                writer.write(np.full((48, 64, 3), 20 + 12 * k, np.uint8))
        comfy.files[("ComfyUI_00001_.mp4", "video", "output")] = clip.read_bytes()
        return {"50": {"images": [{"filename": "ComfyUI_00001_.mp4", "subfolder": "video", "type": "output"}],
                       "animated": [True]}}

    comfy = ComfyUI(standin, render=save_video)
    request = set_request(kind=AssetKind.BACKGROUND, width=96, height=64, duration=1.0, fps=24)
    got = engine(root, standin, video_workflow=WAN).generate(request, tmp_path / "take")

    (graph,) = comfy.graphs
    assert graph["40"]["inputs"] == {"width": 96, "height": 64, "length": 33, "batch_size": 1}
    assert graph["6"]["inputs"]["text"] == request.full_prompt and graph["3"]["inputs"]["seed"] == 42
    assert got.files == (tmp_path / "take" / "background.mp4",)
    info = probe(got.files[0])
    assert (info.width, info.height, float(info.fps)) == (96, 64, 24.0)
    levels = [float(frame.mean()) for frame in read_frames(got.files[0])]
    assert len(levels) == 24
    for i, level in enumerate(levels):                 # output frame i shows source frame ⌊i · 16 / 24⌋
        assert abs(level - (20 + 12 * (i * 16 // 24))) < 4, i
    timing = got.parameters["timing"]
    assert timing == {"source_frames": 17, "source_fps": 16.0, "frames": 24, "fps": 24.0, "looped": False,
                      "trimmed": True, "retimed": True, "method": RETIME_METHOD}
    assert got.model == "wan2.1_t2v_1.3B_fp16.safetensors"


def flac_tone(hz: float, seconds: float, rate: int = 44100) -> bytes:
    """What SaveAudio writes: FLAC, here a mono tone at ``hz``."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="flac") as out:
        stream = out.add_stream("flac", rate=rate, layout="mono")
        t = np.arange(int(seconds * rate)) / rate
        tone = (0.4 * np.sin(2 * np.pi * hz * t) * 32767).astype(np.int16)
        for start in range(0, tone.size, 4096):
            frame = av.AudioFrame.from_ndarray(tone[None, start:start + 4096], format="s16", layout="mono")
            frame.rate, frame.pts = rate, start
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


def test_sound_from_an_audio_workflow_is_the_shots_length_at_48k(standin: StandIn, root: Path,
                                                                  tmp_path: Path) -> None:
    """A Stable Audio Open graph: prompt, seed and seconds filled; SaveAudio's FLAC fetched through /view."""
    def save_audio(graph: dict[str, Any]) -> dict[str, Any]:
        seconds = by_class(graph, "EmptyLatentAudio")["seconds"]
        hz = 200 + by_class(graph, "KSampler")["seed"] % 256          # the seed, heard
        comfy.files[("ComfyUI_00001_.flac", "audio", "output")] = flac_tone(hz, seconds + 0.5)
        return {"13": {"audio": [{"filename": "ComfyUI_00001_.flac", "subfolder": "audio", "type": "output"}]}}

    comfy = ComfyUI(standin, render=save_audio)
    eng = engine(root, standin, audio_workflow=AUDIO)
    request = AssetRequest(kind=AssetKind.SOUND, prompt="fire", width=0, height=0, seed=42, duration=1.25,
                           element="fire")
    assert makes_sound(eng, "fire") and makes_sound(eng, None)
    assert eng.quote(request).unit == "gpu_second" and eng.quote(request).quantity == 5.0   # 50 steps
    got = eng.generate(request, tmp_path / "take")

    (graph,) = comfy.graphs
    assert graph["6"]["inputs"]["text"] == "fire, sound effect, no music"
    assert graph["11"]["inputs"]["seconds"] == 1.25 and graph["15"]["inputs"]["seconds_total"] == 1.25
    assert graph["3"]["inputs"]["seed"] == 42
    assert got.files == (tmp_path / "take" / "sound.wav",)
    heard = read_sound(got.files[0])
    assert heard.codec == "pcm_s24le" and heard.sound.count == 60000                     # 1.25 s at 48 kHz
    left = heard.sound.samples[:, 0]
    peak = np.argmax(np.abs(np.fft.rfft(left * np.hanning(left.size)))) * 48000 / left.size
    assert abs(peak - (200 + 42)) < 2.0
    assert got.source_type == SourceType.TRAINED_ALGORITHMIC and got.model == "stable-audio-open-1.0.safetensors"
    assert got.parameters["sound"]["trimmed"] and got.parameters["nodes"]["output"] == "13"


def test_without_an_audio_workflow_comfyui_makes_no_sound(root: Path) -> None:
    eng = engine(root)
    assert not makes_sound(eng, "fire") and not makes_sound(eng, None)
    with pytest.raises(EngineError, match="sound needs an audio workflow"):
        eng.quote(AssetRequest(kind=AssetKind.SOUND, prompt="x", width=0, height=0, seed=1, duration=1.0))


@pytest.mark.parametrize("with_alpha", [True, False])
def test_element_from_a_still_workflow_keeps_or_pulls_alpha(standin: StandIn, root: Path, tmp_path: Path,
                                                            with_alpha: bool) -> None:
    def save_element(graph: dict[str, Any]) -> dict[str, Any]:
        size = by_class(graph, "EmptyLatentImage")
        img = np.zeros((size["height"], size["width"], 4 if with_alpha else 3), np.uint8)
        colour = (255, 160, 40, 255) if with_alpha else (255, 160, 40)
        cv2.circle(img, (size["width"] // 2, size["height"] // 2), size["height"] // 4, colour, -1)
        comfy.files[("ComfyUI_00001_.png", "", "output")] = png(img)
        return {"9": {"images": [{"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"}]}}

    comfy = ComfyUI(standin, render=save_element)
    request = set_request(kind=AssetKind.ELEMENT, width=128, height=96, duration=0.25, fps=24, element="fire")
    got = engine(root, standin).generate(request, tmp_path / "take")

    assert [p.name for p in got.files] == [f"element_{i:04d}.png" for i in range(6)]
    frame = read_image(got.files[3])
    assert frame.shape == (96, 128, 4)
    assert frame[48, 64, 3] == 255 and frame[2, 2, 3] == 0
    if with_alpha:
        assert tuple(frame[48, 64, :3]) == (255, 160, 40)
        assert got.parameters["alpha"] == "the workflow's (RGBA output)"
    else:
        assert tuple(frame[48, 64, :3]) == (255, 160, 40)          # light on black: colour / brightest channel
        assert got.parameters["alpha"].startswith("luminance")
    assert got.parameters["held_still"] is True and got.parameters["frames"] == 6


def test_load_engine_and_the_workflows_digest_in_the_options(root: Path) -> None:
    loaded = load_engine("comfyui", {"workflow": TXT2IMG}, root=root)
    assert isinstance(loaded, ComfyUIEngine) and isinstance(loaded, Engine)
    before = loaded.options.model_dump(mode="json")["workflow_sha256"]
    assert before == hashlib.sha256((root / TXT2IMG).read_bytes()).hexdigest()
    workflow = json.loads((root / TXT2IMG).read_text())
    workflow["3"]["inputs"]["cfg"] = 5
    (root / TXT2IMG).write_text(json.dumps(workflow))
    assert loaded.options.model_dump(mode="json")["workflow_sha256"] != before     # an edited graph: new takes
    with pytest.raises(ProjectError, match=r"engines\.comfyui\.workflow"):
        load_engine("comfyui", {}, root=root)


# -- failures -----------------------------------------------------------------------------------------------


def test_workflow_outside_the_project_is_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"
    shutil.copy(FIXTURES / "sd15_txt2img_api.json", outside)
    (root / "workflows" / "link.json").symlink_to(outside)
    for value in ("../elsewhere.json", str(outside), "workflows/link.json"):
        with pytest.raises(EngineError, match="is outside the project folder"):
            engine(root, workflow=value)
    with pytest.raises(EngineError, match=r"video_workflow = '\.\./elsewhere\.json' is outside"):
        engine(root, video_workflow="../elsewhere.json")
    with pytest.raises(EngineError, match="outside the project folder"):
        load_engine("comfyui", {"workflow": "../elsewhere.json"}, root=root)


def test_workflows_it_cannot_read_are_refused_before_sending(standin: StandIn, root: Path) -> None:
    (root / "workflows" / "ui.json").write_text(json.dumps({"last_node_id": 9, "nodes": [], "links": []}))
    with pytest.raises(EngineError, match="UI format") as caught:
        engine(root, standin, workflow="workflows/ui.json").quote(set_request())
    assert "Export (API)" in str(caught.value)

    no_sampler = {"1": {"class_type": "LoadImage", "inputs": {"image": "a.png"}},
                  "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}}
    (root / "workflows" / "odd.json").write_text(json.dumps(no_sampler))
    with pytest.raises(EngineError, match="cannot tell which node holds the prompt") as caught:
        engine(root, standin, workflow="workflows/odd.json").generate(set_request(), root / "out")
    assert "prompt_node" in str(caught.value)

    workflow, _ = read_workflow(root / TXT2IMG)
    workflow["3"]["inputs"]["negative"] = ["6", 0]    # one encoder wired as both: which is the prompt?
    with pytest.raises(EngineError, match="node 6 feeds both"):
        plan_workflow(workflow)
    assert plan_workflow(workflow, prompt_node="6", negative_node="7").positive == ("6",)
    with pytest.raises(EngineError, match="prompt_node = '66' is not a node"):
        plan_workflow(workflow, prompt_node="66")
    assert standin.requests == []


def test_invalid_workflow_names_the_node_and_its_message(standin: StandIn, root: Path, tmp_path: Path) -> None:
    ComfyUI(standin)
    standin.route("POST", "/prompt", Reply(400, {
        "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                  "details": "", "extra_info": {}},
        "node_errors": {"4": {"errors": [{
            "type": "value_not_in_list", "message": "Value not in list",
            "details": "ckpt_name: 'v1-5-pruned-emaonly-fp16.safetensors' not in []",
            "extra_info": {"input_name": "ckpt_name", "received_value": "v1-5-pruned-emaonly-fp16.safetensors"}}],
            "dependent_outputs": ["9"], "class_type": "CheckpointLoaderSimple"}}}))
    with pytest.raises(EngineError, match=r"refused the workflow: Prompt outputs failed validation; node 4 "
                                          r"\(CheckpointLoaderSimple\): Value not in list: ckpt_name: "
                                          r"'v1-5-pruned-emaonly-fp16.safetensors' not in \[\]"):
        engine(root, standin).generate(set_request(), tmp_path)
    assert len(standin.calls("POST", "/prompt")) == 1 and standin.calls("GET", r"/history/.*") == []


def test_execution_error_carries_the_nodes_exception(standin: StandIn, root: Path, tmp_path: Path) -> None:
    ComfyUI(standin, status={"status_str": "error", "completed": False, "messages": [
        ["execution_start", {"prompt_id": PROMPT_ID, "timestamp": START_MS}],
        ["execution_cached", {"nodes": [], "prompt_id": PROMPT_ID, "timestamp": START_MS + 1}],
        ["execution_error", {"prompt_id": PROMPT_ID, "node_id": "3", "node_type": "KSampler",
                             "executed": ["4", "5", "6", "7"],
                             "exception_message": "Allocation on device 0 would exceed allowed memory. "
                                                  "(out of memory)\nCurrently allocated: 23.1 GiB",
                             "exception_type": "torch.OutOfMemoryError",
                             "traceback": ["  File \"execution.py\", line 496, in execute\n"],
                             "current_inputs": {}, "current_outputs": [], "timestamp": START_MS + 900}]]})
    with pytest.raises(EngineError, match=rf"prompt {PROMPT_ID} failed at node 3 \(KSampler\): "
                                          r"torch.OutOfMemoryError: Allocation on device 0 would exceed"):
        engine(root, standin).generate(set_request(), tmp_path)
    assert standin.calls("GET", "/view") == []
    assert not (tmp_path / "set.png").exists()


def test_rate_limit_is_retried_then_succeeds(standin: StandIn, root: Path, tmp_path: Path) -> None:
    comfy = ComfyUI(standin)
    tries: list[int] = []

    def limited_once(request: Request) -> Reply:
        tries.append(1)
        if len(tries) == 1:
            return Reply(429, {"error": "too many requests"}, {"Retry-After": "0"})
        return comfy._prompt(request)

    standin.route("POST", "/prompt", limited_once)
    got = engine(root, standin).generate(set_request(), tmp_path)
    assert len(standin.calls("POST", "/prompt")) == 2 and len(comfy.graphs) == 1
    assert read_image(got.files[0]).shape == (180, 320, 3)


def test_busy_server_gives_up_after_the_retries(standin: StandIn, root: Path, tmp_path: Path) -> None:
    ComfyUI(standin)
    standin.route("POST", "/prompt", Reply(503, "Service Unavailable"))
    with pytest.raises(EngineBusy, match=r"POST /prompt answered 503 .*gave up after 3 tries"):
        engine(root, standin, retries=2).generate(set_request(), tmp_path)
    assert len(standin.calls("POST", "/prompt")) == 3


def test_server_errors_while_polling_are_retried(standin: StandIn, root: Path, tmp_path: Path) -> None:
    comfy = ComfyUI(standin)
    errors = [Reply(500, "Internal Server Error"), Reply(502, "Bad Gateway")]
    standin.route("GET", r"/history/[^/]+", lambda r: errors.pop(0) if errors else comfy._history(r))
    got = engine(root, standin, retries=2).generate(set_request(), tmp_path)
    assert len(standin.calls("GET", rf"/history/{PROMPT_ID}")) == 3
    assert got.parameters["history_polls"] == 1                 # one poll, retried twice under it
    assert read_image(got.files[0]).shape == (180, 320, 3)


def test_a_job_that_never_finishes_times_out_naming_the_prompt(standin: StandIn, root: Path,
                                                               tmp_path: Path) -> None:
    ComfyUI(standin, polls=10**9)
    start = time.perf_counter()
    with pytest.raises(EngineTimeout, match=rf"prompt {PROMPT_ID} did not finish within 0.3 s "
                                            r"\(still queued, next in line\)"):
        engine(root, standin, timeout=0.3, poll_interval=0.05).generate(set_request(), tmp_path)
    assert time.perf_counter() - start < 1.5
    (cancel,) = standin.calls("POST", "/queue")
    assert cancel.json() == {"delete": [PROMPT_ID]}


def test_a_server_that_does_not_answer_times_out(standin: StandIn, root: Path, tmp_path: Path) -> None:
    ComfyUI(standin)
    standin.route("GET", "/system_stats", Reply(200, SYSTEM_STATS, delay=1.0))
    with pytest.raises(EngineTimeout, match=r"GET /system_stats got no answer within 0.3 s"):
        engine(root, standin, timeout=0.3).generate(set_request(), tmp_path)
    assert standin.calls("POST", "/prompt") == []


def test_connection_refused_asks_whether_comfyui_is_running(root: Path, tmp_path: Path) -> None:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(EngineError, match=rf"is ComfyUI running at {url}\?") as caught:
        engine(root, base_url=url, retries=3).generate(set_request(), tmp_path)
    assert not isinstance(caught.value, EngineBusy)


@pytest.mark.parametrize(("method", "path", "reply", "says"), [
    ("POST", "/prompt", Reply(200, {"number": 3, "node_errors": {}}), "did not return a prompt_id"),
    ("GET", r"/history/[^/]+", Reply(200, "<html>proxy error</html>", {"Content-Type": "text/html"}),
     "not JSON"),
    ("GET", "/view", Reply(200, b"\x89PNG truncated", {"Content-Type": "image/png"}), "does not decode"),
    ("GET", r"/history/[^/]+", Reply(200, {PROMPT_ID: {"prompt": [], "outputs": {}, "status": {
        "status_str": "success", "completed": True, "messages": []}}}), "output node 9 .SaveImage. holds no images"),
])
def test_malformed_replies_are_reply_errors(standin: StandIn, root: Path, tmp_path: Path, method: str,
                                            path: str, reply: Reply, says: str) -> None:
    ComfyUI(standin)
    standin.route(method, path, reply)
    with pytest.raises(EngineReplyError, match=says):
        engine(root, standin).generate(set_request(), tmp_path)
    assert not (tmp_path / "set.png").exists()


def test_titled_inputs_get_the_frames_references_and_clip_to_extend(standin: StandIn, root: Path,
                                                                    tmp_path: Path) -> None:
    """A first/last-frame graph (as Wan FLF2V or a Veo node takes them), exported in API format with its loader
    nodes titled: each gets its own file, uploaded under a name from its content."""
    graph = json.loads((root / WAN).read_text())
    titled = {"first_frame": "LoadImage", "last_frame": "LoadImage", "reference_subject": "LoadImage",
              "extend": "LoadVideo"}
    for n, (title, kind) in enumerate(titled.items(), 70):
        graph[str(n)] = {"class_type": kind, "inputs": {"file" if kind == "LoadVideo" else "image": "x"},
                         "_meta": {"title": title}}
    (root / "workflows" / "flf.json").write_text(json.dumps(graph))
    first, last, sheet = (tmp_path / f"{name}.png" for name in ("first", "last", "sheet"))
    for path, level in ((first, 10), (last, 90), (sheet, 200)):
        path.write_bytes(png(np.full((36, 64, 3), level, np.uint8)))
    earlier = tmp_path / "earlier.mp4"
    with VideoWriter(earlier, width=64, height=36, fps=24) as writer:
        for _ in range(6):
            writer.write(np.full((36, 64, 3), 50, np.uint8))

    def save_video(graph: dict[str, Any]) -> dict[str, Any]:
        comfy.files[("out.mp4", "", "output")] = earlier.read_bytes()
        return {"50": {"images": [{"filename": "out.mp4", "subfolder": "", "type": "output"}], "animated": [True]}}

    comfy = ComfyUI(standin, render=save_video)
    eng = engine(root, standin, video_workflow="workflows/flf.json")
    assert eng.honours_for(AssetKind.BACKGROUND).uses == {"first_frame", "last_frame", "references:subject",
                                                          "extend"}
    request = set_request(kind=AssetKind.BACKGROUND, width=64, height=36, duration=0.5, fps=24, first_frame=first,
                          last_frame=last, extend=earlier, references=(Reference(sheet, "subject"),))
    got = eng.generate(request, tmp_path / "take")

    (sent,) = comfy.graphs
    def uploaded(path: Path) -> str:
        return f"soundstage_{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}{path.suffix}"
    assert sent["70"]["inputs"] == {"image": uploaded(first)} and sent["71"]["inputs"] == {"image": uploaded(last)}
    assert sent["72"]["inputs"] == {"image": uploaded(sheet)} and sent["73"]["inputs"] == {"file": uploaded(earlier)}
    assert sent["70"]["_meta"] == {"title": "first_frame"}                       # the graph as exported, filled
    assert all(set(node) >= {"class_type", "inputs"} for node in sent.values())   # ComfyUI's API format
    assert {name: comfy.uploads[name] for name in comfy.uploads} == {
        uploaded(p): p.read_bytes() for p in (first, last, sheet, earlier)}
    assert got.parameters["inputs"] == {"70": "first.png", "71": "last.png", "73": "earlier.mp4", "72": "sheet.png"}
    # the plain text-to-video graph names none of them: asked for one, it refuses before sending
    with pytest.raises(EngineError, match=r"takes no first_frame"):
        engine(root, standin, video_workflow=WAN).quote(replace(request, extend=None, last_frame=None, references=()))
