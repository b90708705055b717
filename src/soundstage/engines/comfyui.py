"""Any ComfyUI workflow, run on a ComfyUI server through its HTTP API.

The crew builds the look in ComfyUI, exports the graph in **API format** (Workflow → Export (API): a JSON of
node id → ``{"class_type", "inputs"}``), saves it in the project, and names it in ``[engines.comfyui]``.
soundstage then fills in only what a shot decides, and leaves every other choice of the graph alone:

- the prompt: the ``text`` of the text encoder wired (through any conditioning nodes) to a sampler's
  ``positive`` input; the negative prompt: the one wired to ``negative`` (left as the workflow has it when
  the request has none);
- the seed: every ``seed`` / ``noise_seed`` of the graph;
- the size: width and height of the ``Empty…Latent…`` node, rounded to multiples of 8 (batch size 1 for
  stills);
- for continuity, the location's set: uploaded with ``POST /upload/image`` and named in the ``LoadImage``
  node(s), in node-id order;
- conditioning, by the node's title (``_meta.title``, as ComfyUI exports it): a ``LoadImage`` titled
  ``first_frame`` or ``last_frame`` gets the take's first or last frame; one titled ``reference_subject``,
  ``reference_style`` or ``reference_set`` a reference of that role (several nodes of a title take several
  references, in node-id order); a ``LoadVideo`` / ``VHS_LoadVideo`` titled ``extend`` the clip to extend.
  Untitled ``LoadImage`` nodes take set references, as before. What a workflow's titles name is what the
  engine honours for the kinds that workflow makes (:meth:`ComfyUIEngine.honours_for`).

Where the graph is ambiguous (two prompts feed samplers from different roles, several latent sizes, several
save nodes) the engine stops and says which option names the node: ``prompt_node``, ``negative_node``,
``seed_node``, ``size_node``, ``output_node``. They apply to whichever workflow a request uses.

The job is queued with ``POST /prompt``, followed by polling ``GET /history/{prompt_id}`` (and ``GET /queue``
for its place in line) every ``poll_interval`` until it finishes or ``timeout`` passes, and its outputs are
fetched with ``GET /view``. SETs come from ``workflow``; BACKGROUNDs from ``video_workflow``; ELEMENTs from
``video_workflow`` when there is one, else from ``workflow`` as a held still; SOUND (an element's, or a shot's
ambience bed) from ``audio_workflow`` (Stable Audio Open, MMAudio…: a graph whose save node writes audio,
listed as ``audio`` in the history's outputs), its length filled into every ``seconds`` / ``seconds_total`` /
``duration`` input, and its file written as the take's 48 kHz WAV, as long as the shot. An element keeps the workflow's
own alpha when its output has one (an RGBA PNG that is not fully opaque); otherwise alpha is pulled from
luminance as for an element shot on black. Which one was used is recorded.

A take records the workflow's sha256 and the whole graph as sent, the values filled in and where, the
``prompt_id``, and ComfyUI's version from ``GET /system_stats``. Same graph, same seed, same machine: same
pixels. Quotes are in GPU-seconds, estimated from the samplers' steps (see :data:`SECONDS_PER_STEP`); the
take records the seconds ComfyUI reports it spent.

Public: :class:`ComfyUIEngine`, :func:`read_workflow`, :func:`plan_workflow`, :class:`Plan`.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import httpx
import numpy as np
from pydantic import Field, PrivateAttr, computed_field

from soundstage.engines.base import (
    AssetKind,
    AssetRequest,
    EngineOptions,
    Generated,
    Honours,
    HTTPOptions,
    Quote,
    SourceType,
    dropped,
)
from soundstage.engines.frames import (
    ELEMENT_PATTERN,
    decode_image,
    element_pixels,
    fit_sound,
    fit_to_frame,
    frame_count,
    has_alpha,
    hold_still,
    one_line,
    resize_record,
    retime,
    retry_after,
    shot_duration,
    shot_fps,
)
from soundstage.engines.retry import with_retries
from soundstage.errors import EngineBusy, EngineError, EngineReplyError, EngineTimeout, MediaError
from soundstage.media import VideoWriter, probe, read_frames, write_png

DEFAULT_URL = "http://127.0.0.1:8188"
CALL_TIMEOUT = 60.0          # seconds without a byte on one HTTP call (the job itself may take longer)

#: The quote's estimate, in GPU-seconds per sampling step: an SDXL-class still at about a megapixel on a
#: current consumer GPU runs ~4 steps a second; a Wan/Hunyuan-class video at 480p takes several seconds a
#: step. Rough on purpose: the take records what ComfyUI really spent.
SECONDS_PER_STEP = 0.25
VIDEO_SECONDS_PER_STEP = 8.0
DEFAULT_STEPS = 20           # when no node of the graph states its steps

TEXT_INPUTS = ("text", "text_g", "text_l")
SEED_INPUTS = ("seed", "noise_seed")
#: Inputs that pass conditioning through on the way from a text encoder to a sampler (ControlNet, areas…).
_PASS_THROUGH = ("conditioning", "conditioning_to", "conditioning_1", "cond")
#: Nodes that end a conditioning chain on purpose: a zeroed-out negative is not a prompt to fill.
_STOPS = frozenset({"ConditioningZeroOut"})
#: Nodes that save results (as opposed to previews), for choosing the output before anything is spent.
SAVERS = frozenset({"SaveImage", "SaveAnimatedWEBP", "SaveAnimatedPNG", "SaveVideo", "SaveWEBM",
                    "VHS_VideoCombine", "SaveImageWebsocket", "SaveAudio", "SaveAudioMP3", "SaveAudioOpus"})
MEDIA_KEYS = ("images", "gifs", "videos", "audio")
VIDEO_SUFFIXES = frozenset({".mp4", ".webm", ".mov", ".mkv", ".avi", ".m4v", ".gif"})
AUDIO_SUFFIXES = frozenset({".flac", ".wav", ".mp3", ".opus", ".ogg", ".m4a", ".aac"})
#: Inputs of an audio graph that say how long the sound is (Stable Audio's latent and conditioning, MMAudio).
LENGTH_INPUTS = ("seconds", "seconds_total", "duration")
AUDIO_SECONDS_PER_STEP = 0.1   # Stable Audio Open: ~100 steps for ~10 s of sound on a current GPU
#: What an audio model is asked for: an element's sound or a setting's bed, never music (the score is not ours).
SOUND_PROMPT = "{prompt}, sound effect, no music"
AMBIENCE_PROMPT = "{prompt}, ambience, background atmosphere, no music"
MODEL_INPUTS = ("ckpt_name", "unet_name", "model_name")
_SEED_MASK = (1 << 64) - 1   # ComfyUI seeds are unsigned 64-bit

Workflow = dict[str, dict[str, Any]]

_LUMINANCE = "luminance: brightest channel, colour unpremultiplied"


# ---------------------------------------------------------------------------------------------------------
# Workflows
# ---------------------------------------------------------------------------------------------------------


def inside(root: Path, value: str, key: str) -> Path:
    """``value`` resolved against the project root; a path that leaves the project is refused."""
    root = root.resolve()
    path = (root / value).resolve()
    if not path.is_relative_to(root):
        raise EngineError(f"[engines.comfyui] {key} = {value!r} is outside the project folder {root}",
                          hint="keep the exported API workflow inside the project, e.g. workflows/set.json")
    return path


def read_workflow(path: Path) -> tuple[Workflow, str]:
    """An API-format workflow and the sha256 of its file; the UI format and other JSON are refused."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EngineError(f"comfyui: cannot read the workflow ({exc.strerror})", path=path) from None
    try:
        workflow = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EngineError(f"comfyui: the workflow is not JSON ({exc})", path=path) from None
    if isinstance(workflow, dict) and "nodes" in workflow and "links" in workflow:
        raise EngineError("comfyui: this is the UI format of a workflow, not the API format", path=path,
                          hint="in ComfyUI use Workflow → Export (API) and save that file")
    if not isinstance(workflow, dict) or not workflow or not all(
            isinstance(n, dict) and isinstance(n.get("class_type"), str) and isinstance(n.get("inputs"), dict)
            for n in workflow.values()):
        raise EngineError("comfyui: not an API-format workflow (node id → {class_type, inputs})", path=path,
                          hint="in ComfyUI use Workflow → Export (API)")
    return workflow, hashlib.sha256(data).hexdigest()


def _link(value: object) -> str | None:
    """The upstream node id of an input wired to another node (``[node_id, slot]``), else None."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str | int) and isinstance(value[1], int):
        return str(value[0])
    return None


def _ordered(ids: Iterable[str]) -> list[str]:
    """Node ids in ComfyUI's order: numeric ids numerically ("9" before "10"), then the rest."""
    return sorted(ids, key=lambda i: (0, int(i), "") if i.isdigit() else (1, 0, i))


@dataclass(frozen=True)
class Plan:
    """Where a request's values go in one workflow, found before anything is sent."""

    positive: tuple[str, ...]
    negative: tuple[str, ...]
    seeds: tuple[tuple[str, str], ...]        # (node id, input name)
    size: str | None
    loads: tuple[str, ...]                    # untitled LoadImage nodes, for set references
    output: str | None                        # the save node, when known before running
    steps: int
    model: str
    models: dict[str, dict[str, str]] = field(default_factory=dict)
    named: dict[str, tuple[str, ...]] = field(default_factory=dict)   # NAMED_INPUTS title → its nodes

    def honours(self) -> Honours:
        """What this workflow can be steered by: what its titled inputs name, and set references where it
        has untitled LoadImage nodes."""
        uses = {name for name in ("first_frame", "last_frame", "extend") if self.named.get(name)}
        uses |= {f"references:{role}" for role in ("subject", "style", "set") if self.named.get(f"reference_{role}")}
        if self.loads:
            uses.add("references:set")
        count = len(self.loads) + sum(len(self.named.get(f"reference_{r}", ())) for r in ("subject", "style", "set"))
        return Honours(frozenset(uses), max_references=count,
                       extend_seconds=EXTEND_SECONDS if "extend" in uses else 0.0,
                       max_seconds=EXTEND_SECONDS if "extend" in uses else 0.0)


#: The titles (``_meta.title``) that make a loader node a named input, and the node types each may be.
NAMED_INPUTS = {
    "first_frame": ("LoadImage",), "last_frame": ("LoadImage",),
    "reference_subject": ("LoadImage",), "reference_style": ("LoadImage",), "reference_set": ("LoadImage",),
    "extend": ("LoadVideo", "VHS_LoadVideo"),
}
EXTEND_SECONDS = 600.0       # a workflow that extends is trusted with any length; the graph decides


def _text_node(workflow: Workflow, start: str, role: str) -> str | None:
    """Follow a sampler's positive/negative link upstream to the node whose text it is, or None."""
    seen: set[str] = set()
    node_id: str | None = start
    while node_id is not None and node_id not in seen and node_id in workflow:
        seen.add(node_id)
        node = workflow[node_id]
        if node["class_type"] in _STOPS:
            return None
        inputs = node["inputs"]
        if any(isinstance(inputs.get(name), str) for name in TEXT_INPUTS):
            return node_id
        node_id = next((_link(inputs.get(name)) for name in (role, *_PASS_THROUGH)
                        if _link(inputs.get(name)) is not None), None)
    return None


def _bound(workflow: Workflow, node_id: str | None, option: str, label: str) -> str | None:
    if node_id is not None and node_id not in workflow:
        raise EngineError(f"comfyui: [engines.comfyui] {option} = {node_id!r} is not a node of the {label}",
                          hint=f"its nodes are {', '.join(_ordered(workflow))}")
    return node_id


def plan_workflow(workflow: Workflow, *, label: str = "workflow", prompt_node: str | None = None,
                  negative_node: str | None = None, seed_node: str | None = None, size_node: str | None = None,
                  output_node: str | None = None) -> Plan:
    """Find the nodes a request fills in; explicit node ids win, and ambiguity is an error naming the option."""
    ids = _ordered(workflow)
    samplers = [i for i in ids if _link(workflow[i]["inputs"].get("model")) is not None
                and (_link(workflow[i]["inputs"].get("positive")) is not None
                     or _link(workflow[i]["inputs"].get("conditioning")) is not None)]

    # Prompts.
    positive: list[str] = []
    negative: list[str] = []
    bound = _bound(workflow, prompt_node, "prompt_node", label)
    if bound is not None:
        positive = [bound]
    else:
        if not samplers:
            raise EngineError(f"comfyui: cannot tell which node holds the prompt in the {label}: no sampler "
                              "(a node with model and positive inputs) was found",
                              hint="set [engines.comfyui] prompt_node to the text encoder's node id")
        for sampler in samplers:
            inputs = workflow[sampler]["inputs"]
            start = _link(inputs.get("positive")) or _link(inputs.get("conditioning"))
            found = _text_node(workflow, start, "positive") if start else None
            if found is None:
                raise EngineError(f"comfyui: cannot tell which node holds the prompt in the {label}: sampler "
                                  f"{sampler} ({workflow[sampler]['class_type']}) is not fed by a text encoder",
                                  hint="set [engines.comfyui] prompt_node to the text encoder's node id")
            if found not in positive:
                positive.append(found)
    bound = _bound(workflow, negative_node, "negative_node", label)
    if bound is not None:
        negative = [bound]
    else:
        for sampler in samplers:
            start = _link(workflow[sampler]["inputs"].get("negative"))
            found = _text_node(workflow, start, "negative") if start else None
            if found is not None and found not in negative:
                negative.append(found)
    both = set(positive) & set(negative)
    if both and negative_node is None and prompt_node is None:
        raise EngineError(f"comfyui: cannot tell the prompt from the negative prompt in the {label}: node "
                          f"{', '.join(_ordered(both))} feeds both",
                          hint="set [engines.comfyui] prompt_node and negative_node")
    for node_id in (*positive, *negative):
        if not any(isinstance(workflow[node_id]["inputs"].get(n), str) for n in TEXT_INPUTS):
            raise EngineError(f"comfyui: node {node_id} ({workflow[node_id]['class_type']}) of the {label} has no "
                              f"text input to fill ({', '.join(TEXT_INPUTS)})")

    # Seeds.
    bound = _bound(workflow, seed_node, "seed_node", label)
    seed_nodes = [bound] if bound is not None else ids
    seeds = tuple((i, name) for i in seed_nodes for name in SEED_INPUTS
                  if isinstance(workflow[i]["inputs"].get(name), int)
                  and not isinstance(workflow[i]["inputs"].get(name), bool))
    if bound is not None and not seeds:
        raise EngineError(f"comfyui: node {bound} of the {label} has no seed or noise_seed input to fill")

    # Size.
    size = _bound(workflow, size_node, "size_node", label)
    if size is None:
        latents = [i for i in ids if workflow[i]["class_type"].startswith("Empty")
                   and "Latent" in workflow[i]["class_type"]
                   and all(isinstance(workflow[i]["inputs"].get(k), int) for k in ("width", "height"))]
        if len(latents) > 1:
            wired = {_link(workflow[s]["inputs"].get("latent_image")) for s in samplers}
            latents = [i for i in latents if i in wired] or latents
        if len(latents) > 1:
            raise EngineError(f"comfyui: the {label} has several latent sizes (nodes {', '.join(latents)})",
                              hint="set [engines.comfyui] size_node to the one that sets the picture's size")
        size = latents[0] if latents else None
    elif not all(isinstance(workflow[size]["inputs"].get(k), int) for k in ("width", "height")):
        raise EngineError(f"comfyui: node {size} of the {label} has no width and height inputs to fill")

    # Output.
    output = _bound(workflow, output_node, "output_node", label)
    if output is None:
        savers = [i for i in ids if workflow[i]["class_type"] in SAVERS]
        if len(savers) > 1:
            raise EngineError(f"comfyui: the {label} saves in several nodes ({', '.join(savers)})",
                              hint="set [engines.comfyui] output_node to the one whose pictures to use")
        output = savers[0] if savers else None

    # What it costs and which model it is.
    steps = sum(v for i in ids for k, v in workflow[i]["inputs"].items()
                if k == "steps" and isinstance(v, int) and not isinstance(v, bool))
    models = {i: {k: v for k, v in workflow[i]["inputs"].items() if k.endswith("_name") and isinstance(v, str)
                  and k not in ("sampler_name", "scheduler_name")} for i in ids}
    models = {i: m for i, m in models.items() if m}
    model = next((v for i in ids for k, v in workflow[i]["inputs"].items()
                  if k in MODEL_INPUTS and isinstance(v, str)), "")
    named: dict[str, tuple[str, ...]] = {}
    for i in ids:
        title = _title(workflow[i])
        if title in NAMED_INPUTS and workflow[i]["class_type"] in NAMED_INPUTS[title]:
            named[title] = (*named.get(title, ()), i)
    taken = {i for nodes in named.values() for i in nodes}
    loads = tuple(i for i in ids if workflow[i]["class_type"] == "LoadImage" and i not in taken)
    return Plan(tuple(positive), tuple(negative), seeds, size, loads, output, steps or DEFAULT_STEPS, model, models,
                named)


def _title(node: dict[str, Any]) -> str:
    meta = node.get("_meta")
    title = meta.get("title") if isinstance(meta, dict) else None
    return title.strip().lower() if isinstance(title, str) else ""


def placements(plan: Plan, request: AssetRequest) -> list[tuple[str, Path]]:
    """(node id, file) for every file the request sends: its frames, the clip it extends and its references
    by role (set references into untitled loaders too), in node-id order, as many as there are nodes."""
    placed: list[tuple[str, Path]] = []
    for name in ("first_frame", "last_frame", "extend"):
        path = getattr(request, name)
        if path is not None and plan.named.get(name):
            placed.append((plan.named[name][0], Path(path)))
    for role in ("subject", "style", "set"):
        nodes = list(plan.named.get(f"reference_{role}", ())) + (list(plan.loads) if role == "set" else [])
        files = [Path(r.path) for r in request.references if r.role == role]
        placed += list(zip(nodes, files, strict=False))
    return placed


def _prompt(request: AssetRequest) -> str:
    """What the graph's prompt node is given: the shot's words, and for sound what kind of sound."""
    if request.kind != AssetKind.SOUND:
        return request.full_prompt
    return (SOUND_PROMPT if request.element else AMBIENCE_PROMPT).format(prompt=request.full_prompt)


def fill(workflow: Workflow, plan: Plan, request: AssetRequest, uploaded: list[str],
         *, still: bool, sound: bool = False) -> tuple[Workflow, dict[str, dict[str, Any]]]:
    """A copy of the workflow with the request's values in place, and {node: {input: value}} of what changed.

    ``sound``: an audio graph, whose length inputs (:data:`LENGTH_INPUTS`) are set to the request's seconds.
    """
    graph = copy.deepcopy(workflow)
    changed: dict[str, dict[str, Any]] = {}

    def put(node_id: str, name: str, value: Any) -> None:
        graph[node_id]["inputs"][name] = value
        changed.setdefault(node_id, {})[name] = value

    for node_id in plan.positive:
        for name in TEXT_INPUTS:
            if isinstance(graph[node_id]["inputs"].get(name), str):
                put(node_id, name, _prompt(request))
    if request.negative_prompt:
        for node_id in plan.negative:
            for name in TEXT_INPUTS:
                if isinstance(graph[node_id]["inputs"].get(name), str):
                    put(node_id, name, request.negative_prompt)
    for node_id, name in plan.seeds:
        put(node_id, name, request.seed & _SEED_MASK)
    if plan.size is not None:
        put(plan.size, "width", _multiple_of_8(request.width))
        put(plan.size, "height", _multiple_of_8(request.height))
        if still and isinstance(graph[plan.size]["inputs"].get("batch_size"), int):
            put(plan.size, "batch_size", 1)
    for (node_id, _), name in zip(placements(plan, request), uploaded, strict=True):
        inputs = graph[node_id]["inputs"]
        put(node_id, next((k for k in ("video", "file") if k in inputs), "image")
            if graph[node_id]["class_type"] != "LoadImage" else "image", name)
    if sound:
        for node_id in _ordered(graph):
            for name in LENGTH_INPUTS:
                value = graph[node_id]["inputs"].get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    put(node_id, name, round(shot_duration(request), 3))
    return graph, changed


def _multiple_of_8(value: int) -> int:
    """The nearest multiple of 8, halves up (latents are 1/8 of the picture): 180 → 184, then cropped."""
    return max(8, (value + 4) // 8 * 8)


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _node_errors(node_errors: object, workflow: Workflow) -> str:
    """``{"4": {"errors": [{message, details}], "class_type"}}`` as one line naming each node."""
    if not isinstance(node_errors, dict):
        return ""
    parts = []
    for node_id, found in node_errors.items():
        found = found if isinstance(found, dict) else {}
        kind = found.get("class_type") or workflow.get(str(node_id), {}).get("class_type", "?")
        reasons = []
        for error in found.get("errors") or []:
            if isinstance(error, dict):
                message, details = error.get("message", ""), error.get("details", "")
                reasons.append(f"{message}: {details}" if details else str(message))
        parts.append(f"node {node_id} ({kind}): {'; '.join(reasons) or 'invalid'}")
    return "; ".join(parts)


def _execution_error(entry: Mapping[str, Any], prompt_id: str) -> EngineError:
    """A history entry whose status is "error", as the node's own exception message."""
    for message in _list(_dict(entry.get("status")).get("messages")):
        if isinstance(message, list | tuple) and len(message) == 2 and isinstance(message[1], dict):
            event, data = message
            if event == "execution_error":
                return EngineError(
                    f"comfyui: prompt {prompt_id} failed at node {data.get('node_id')} ({data.get('node_type')}): "
                    f"{data.get('exception_type', 'error')}: {one_line(data.get('exception_message', ''))}",
                    hint="open the workflow in ComfyUI and run it there to see the node's full error")
            if event == "execution_interrupted":
                return EngineError(f"comfyui: prompt {prompt_id} was interrupted at node {data.get('node_id')} "
                                   f"({data.get('node_type')})")
    return EngineError(f"comfyui: prompt {prompt_id} ended in an error, with no message from ComfyUI")


def _run_seconds(entry: Mapping[str, Any]) -> float | None:
    """Seconds from execution_start to execution_success, by ComfyUI's own timestamps (milliseconds)."""
    stamps: dict[str, float] = {}
    for message in _list(_dict(entry.get("status")).get("messages")):
        if isinstance(message, list | tuple) and len(message) == 2 and isinstance(message[1], dict):
            stamp = message[1].get("timestamp")
            if isinstance(stamp, int | float):
                stamps[str(message[0])] = float(stamp)
    if "execution_start" in stamps and "execution_success" in stamps:
        return max(stamps["execution_success"] - stamps["execution_start"], 0.0) / 1000.0
    return None


# ---------------------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------------------


class ComfyUIEngine:
    """A crew's own ComfyUI graph as a soundstage engine: sets, and with a video graph, backgrounds and elements."""

    class Options(HTTPOptions):
        """``[engines.comfyui]``: where ComfyUI runs, which exported API workflows, and optional node bindings.

        ``timeout`` is the longest wait for one job, from queueing to its outputs; one HTTP call waits at most
        ``min(timeout, 60)`` seconds for the server. The workflows' sha256 are part of the options' record
        (``workflow_sha256``, ``video_workflow_sha256``), so editing a workflow file makes new takes.
        """

        base_url: str | None = DEFAULT_URL
        timeout: float = Field(1800.0, gt=0, le=7200)
        poll_interval: float = Field(1.0, gt=0, le=600)
        workflow: str
        video_workflow: str | None = None
        audio_workflow: str | None = None     # sound: an element's, and each shot's ambience bed
        prompt_node: str | None = None
        negative_node: str | None = None
        seed_node: str | None = None
        size_node: str | None = None
        output_node: str | None = None
        _root: Path | None = PrivateAttr(default=None)

        @computed_field  # type: ignore[prop-decorator]
        @property
        def workflow_sha256(self) -> str | None:
            return self._digest(self.workflow)

        @computed_field  # type: ignore[prop-decorator]
        @property
        def video_workflow_sha256(self) -> str | None:
            return self._digest(self.video_workflow)

        @computed_field  # type: ignore[prop-decorator]
        @property
        def audio_workflow_sha256(self) -> str | None:
            return self._digest(self.audio_workflow)

        def _digest(self, value: str | None) -> str | None:
            if value is None or self._root is None:
                return None
            try:
                return hashlib.sha256((self._root / value).read_bytes()).hexdigest()
            except OSError:
                return None

    name: ClassVar[str] = "comfyui"
    kinds: ClassVar[frozenset[AssetKind]] = frozenset({AssetKind.SET, AssetKind.BACKGROUND, AssetKind.ELEMENT,
                                                       AssetKind.SOUND})
    elements: ClassVar[frozenset[str] | None] = None    # any: the prompt says what
    sounds: frozenset[str] | None = frozenset()         # any, once an audio workflow is named (see __init__)
    takes_references: ClassVar[bool] = True
    source_type: ClassVar[SourceType] = SourceType.TRAINED_ALGORITHMIC

    def __init__(self, options: EngineOptions | None = None, *, root: Path | None = None) -> None:
        self.options = ComfyUIEngine.Options.checked(options)
        self.root = (Path(root) if root is not None else Path.cwd()).resolve()
        self.options._root = self.root
        self.workflow_path = inside(self.root, self.options.workflow, "workflow")
        self.video_workflow_path = (inside(self.root, self.options.video_workflow, "video_workflow")
                                    if self.options.video_workflow else None)
        self.audio_workflow_path = (inside(self.root, self.options.audio_workflow, "audio_workflow")
                                    if self.options.audio_workflow else None)
        self.sounds = None if self.audio_workflow_path is not None else frozenset()
        self.url = (self.options.base_url or DEFAULT_URL).rstrip("/")
        self._call_timeout = min(self.options.timeout, CALL_TIMEOUT)

    # -- what a request costs ------------------------------------------------------------------------------

    def _graph(self, request: AssetRequest) -> tuple[str, Path]:
        """Which workflow makes this request: ("workflow" | "video_workflow" | "audio_workflow", its path)."""
        if request.kind not in self.kinds:
            raise EngineError(f"comfyui engine cannot make a {request.kind}")
        if request.kind == AssetKind.SOUND:
            if self.audio_workflow_path is None:
                raise EngineError("comfyui: sound needs an audio workflow",
                                  hint="export an audio graph (Stable Audio Open, MMAudio) in API format and set "
                                       "[engines.comfyui] audio_workflow")
            if shot_duration(request) <= 0:
                raise EngineError("comfyui: a sound request needs a positive duration")
            return "audio_workflow", self.audio_workflow_path
        if request.width <= 0 or request.height <= 0:
            raise EngineError(f"comfyui: a {request.width}×{request.height} frame has no pixels")
        if request.kind != AssetKind.SET and (shot_duration(request) <= 0 or shot_fps(request) <= 0):
            raise EngineError("comfyui: a moving request needs a positive duration and fps")
        if request.kind == AssetKind.SET:
            return "workflow", self.workflow_path
        if self.video_workflow_path is not None:
            return "video_workflow", self.video_workflow_path
        if request.kind == AssetKind.ELEMENT:
            return "workflow", self.workflow_path
        raise EngineError("comfyui: a moving background needs a video workflow",
                          hint="export a video graph in API format and set [engines.comfyui] video_workflow")

    def _plan(self, workflow: Workflow, label: str, path: Path) -> Plan:
        o = self.options
        plan = plan_workflow(workflow, label=label, prompt_node=o.prompt_node, negative_node=o.negative_node,
                             seed_node=o.seed_node, size_node=o.size_node, output_node=o.output_node)
        # A graph that names no checkpoint (custom loaders) is known by its file.
        return plan if plan.model else replace(plan, model=f"comfyui workflow {path.name}")

    def honours_for(self, kind: AssetKind) -> Honours:
        """What the workflow that makes ``kind`` names among its inputs (none for sound, or a graph that cannot
        be read: quoting says why)."""
        if kind == AssetKind.SOUND:
            return Honours()
        try:
            label, path = self._graph(AssetRequest(kind=kind, prompt="", width=8, height=8, seed=0, duration=1.0,
                                                   fps=1.0))
            return self._plan(read_workflow(path)[0], label, path).honours()
        except EngineError:
            return Honours()

    def quote(self, request: AssetRequest) -> Quote:
        """GPU-seconds: the graph's sampling steps × SECONDS_PER_STEP (VIDEO_… or AUDIO_SECONDS_PER_STEP for
        video and audio graphs)."""
        label, path = self._graph(request)
        workflow, _ = read_workflow(path)
        plan = self._plan(workflow, label, path)
        refused, _ = dropped(request, plan.honours())
        if refused:
            raise EngineError(f"comfyui: the {label} takes no {', '.join(refused)}", path=path,
                              hint="add a LoadImage (LoadVideo to extend) titled as the input, e.g. first_frame, "
                                   "reference_subject or extend, and export the workflow again")
        per_step = {"video_workflow": VIDEO_SECONDS_PER_STEP, "audio_workflow": AUDIO_SECONDS_PER_STEP}.get(
            label, SECONDS_PER_STEP)
        return Quote(self.name, plan.model, "gpu_second", round(plan.steps * per_step, 3))

    # -- making it -----------------------------------------------------------------------------------------

    def generate(self, request: AssetRequest, out_dir: Path) -> Generated:
        label, path = self._graph(request)
        workflow, digest = read_workflow(path)
        plan = self._plan(workflow, label, path)
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        client_id = uuid.uuid4().hex
        with httpx.Client(base_url=self.url, timeout=self._call_timeout) as client:
            stats = self._system_stats(client)
            uploaded = self._upload(client, [path for _, path in placements(plan, request)])
            graph, changed = fill(workflow, plan, request, uploaded, still=label == "workflow",
                                  sound=label == "audio_workflow")
            prompt_id, number, warnings = self._queue(client, graph, workflow, client_id)
            queued = time.perf_counter()
            entry, polls = self._wait(client, prompt_id)
            waited = time.perf_counter() - queued
            node, items = self._outputs(entry, plan, workflow, prompt_id)
            with tempfile.TemporaryDirectory(prefix=".comfyui-", dir=out_dir) as scratch:
                media = [self._fetch(client, item, Path(scratch), i) for i, item in enumerate(items)]
                files, shaped = self._write(request, media, out_dir, label)
        run_seconds = _run_seconds(entry)
        system = _dict(stats.get("system"))
        devices = _list(stats.get("devices"))
        version = str(system.get("comfyui_version") or "unknown")
        params: dict[str, Any] = {
            "workflow_file": path.relative_to(self.root).as_posix(),
            "workflow_role": label,
            "workflow_sha256": digest,
            "filled": changed,
            "nodes": {"prompt": list(plan.positive), "negative": list(plan.negative),
                      "seed": [f"{n}.{i}" for n, i in plan.seeds], "size": plan.size,
                      "load_image": list(plan.loads), "output": node},
            "prompt": _prompt(request),
            "negative_prompt": request.negative_prompt or None,
            "seed": request.seed & _SEED_MASK if plan.seeds else None,
            "deterministic": bool(plan.seeds),
            "models": plan.models,
            "references": [Path(r.path).name for r in request.references[: len(plan.loads)]],
            "inputs": {node: path.name for node, path in placements(plan, request)},
            "prompt_id": prompt_id,
            "client_id": client_id,
            "queue_number": number,
            "history_polls": polls,
            "comfyui_version": version,
            "pytorch_version": system.get("pytorch_version"),
            "device": devices[0].get("name") if devices and isinstance(devices[0], dict) else None,
            "gpu_seconds_from": "ComfyUI's execution timestamps" if run_seconds is not None
                                else "wall clock from queueing (includes time in the queue)",
            "workflow": graph,
        }
        if len(request.references) > len(plan.loads):
            params["references_ignored"] = {"files": [Path(r.path).name for r in request.references[len(plan.loads):]],
                                            "why": f"the {label} has {len(plan.loads)} LoadImage node(s)"}
        if request.negative_prompt and not plan.negative:
            params["negative_prompt_sent"] = False
        if warnings:
            params["node_warnings"] = warnings
        params.update(shaped)
        params.update(width=request.width, height=request.height)
        return Generated(
            files=files,
            engine=self.name,
            model=plan.model,
            version=f"ComfyUI {version}",
            source_type=self.source_type,
            parameters=params,
            unit="gpu_second",
            quantity=run_seconds if run_seconds is not None else waited,
            seconds=time.perf_counter() - start,
        )

    # -- the wire ------------------------------------------------------------------------------------------

    def _send(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call, retried on 429 and 5xx; a refused connection says where ComfyUI was looked for."""

        def once() -> httpx.Response:
            try:
                response = client.request(method, path, **kwargs)
            except httpx.ConnectError as exc:
                raise EngineError(f"comfyui: could not connect to {self.url} ({one_line(exc, 120)})",
                                  hint=f"is ComfyUI running at {self.url}?") from exc
            except httpx.TimeoutException as exc:
                raise EngineTimeout(f"comfyui: {method} {path} got no answer within {self._call_timeout:g} s",
                                    hint=f"is ComfyUI at {self.url} overloaded or stuck?") from exc
            except httpx.TransportError as exc:
                raise EngineBusy(f"comfyui: {method} {path} failed in transit ({one_line(exc, 160)})") from exc
            if response.status_code == 429 or response.status_code >= 500:
                raise EngineBusy(f"comfyui: {method} {path} answered {response.status_code} "
                                 f"({one_line(response.text, 160)})", retry_after=retry_after(response.headers))
            return response

        return with_retries(once, retries=self.options.retries, backoff=self.options.backoff)

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise EngineReplyError(f"comfyui: {what} answered with something that is not JSON "
                                   f"({one_line(response.text, 120)})") from None

    def _system_stats(self, client: httpx.Client) -> dict[str, Any]:
        """ComfyUI's version and device, if it says; also the first sign of whether it is there at all."""
        response = self._send(client, "GET", "/system_stats")
        if response.status_code != 200:
            return {}
        try:
            stats = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}
        return stats if isinstance(stats, dict) else {}

    def _upload(self, client: httpx.Client, references: Iterable[Path]) -> list[str]:
        """Each reference into ComfyUI's input folder under a name from its content; the names to load."""
        names = []
        for path in references:
            path = Path(path)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise EngineError(f"comfyui: cannot read the reference image ({exc.strerror})", path=path) from None
            name = f"soundstage_{hashlib.sha256(data).hexdigest()[:16]}{path.suffix.lower() or '.png'}"
            mime = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".mp4": "video/mp4",
                    ".mov": "video/quicktime"}.get(path.suffix.lower(), "image/png")
            response = self._send(client, "POST", "/upload/image", files={"image": (name, data, mime)},
                                  data={"type": "input", "overwrite": "true"})
            if response.status_code != 200:
                raise EngineError(f"comfyui: uploading {path.name} failed ({response.status_code} "
                                  f"{one_line(response.text, 160)})")
            reply = self._json(response, "POST /upload/image")
            if not isinstance(reply, dict) or not isinstance(reply.get("name"), str):
                raise EngineReplyError(f"comfyui: POST /upload/image did not say the file's name ({one_line(reply)})")
            subfolder = reply.get("subfolder") or ""
            names.append(f"{subfolder}/{reply['name']}" if subfolder else reply["name"])
        return names

    def _queue(self, client: httpx.Client, graph: Workflow, original: Workflow,
               client_id: str) -> tuple[str, Any, str]:
        response = self._send(client, "POST", "/prompt", json={"prompt": graph, "client_id": client_id})
        reply = self._json(response, "POST /prompt")
        if response.status_code == 400:
            error = reply.get("error") if isinstance(reply, dict) else reply
            said = (error.get("message") or error.get("type")) if isinstance(error, dict) else error
            nodes = _node_errors(reply.get("node_errors") if isinstance(reply, dict) else None, original)
            raise EngineError(f"comfyui refused the workflow: {one_line(said or 'invalid prompt', 120)}"
                              + (f"; {one_line(nodes, 400)}" if nodes else ""),
                              hint="open the workflow in ComfyUI: a missing model file or custom node is usual")
        if response.status_code != 200:
            raise EngineError(f"comfyui: POST /prompt answered {response.status_code} ({one_line(response.text, 160)})")
        if not isinstance(reply, dict) or not isinstance(reply.get("prompt_id"), str):
            raise EngineReplyError(f"comfyui: POST /prompt did not return a prompt_id ({one_line(reply, 160)})")
        return reply["prompt_id"], reply.get("number"), _node_errors(reply.get("node_errors"), original)

    def _wait(self, client: httpx.Client, prompt_id: str) -> tuple[dict[str, Any], int]:
        """Poll the history until the prompt's entry appears; its place in the queue is asked between polls."""
        deadline = time.monotonic() + self.options.timeout
        polls = 0
        while True:
            polls += 1
            response = self._send(client, "GET", f"/history/{prompt_id}")
            history = self._json(response, f"GET /history/{prompt_id}")
            if response.status_code != 200 or not isinstance(history, dict):
                raise EngineReplyError(f"comfyui: GET /history/{prompt_id} answered {response.status_code} "
                                       f"({one_line(history, 160)})")
            entry = history.get(prompt_id)
            if isinstance(entry, dict):
                if _dict(entry.get("status")).get("status_str") == "error":
                    raise _execution_error(entry, prompt_id)
                return entry, polls
            where = self._place(client, prompt_id)
            left = deadline - time.monotonic()
            if left <= 0:
                self._cancel(client, prompt_id)
                raise EngineTimeout(
                    f"comfyui: prompt {prompt_id} did not finish within {self.options.timeout:g} s ({where})",
                    hint="raise [engines.comfyui] timeout; a running job may still finish in ComfyUI")
            time.sleep(min(self.options.poll_interval, left))

    def _place(self, client: httpx.Client, prompt_id: str) -> str:
        response = self._send(client, "GET", "/queue")
        try:
            queue = response.json() if response.status_code == 200 else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            queue = {}
        if not isinstance(queue, dict):
            return "its place in the queue is unknown"

        def ids(key: str) -> list[tuple[Any, str]]:
            return [(item[0], str(item[1])) for item in _list(queue.get(key))
                    if isinstance(item, list) and len(item) > 1]

        if any(pid == prompt_id for _, pid in ids("queue_running")):
            return "still running"
        pending = sorted(ids("queue_pending"), key=lambda item: float(item[0]) if isinstance(item[0], int | float)
                         else 0.0)
        for place, (_, pid) in enumerate(pending):
            if pid == prompt_id:
                return f"still queued, {place} ahead of it" if place else "still queued, next in line"
        return "not in ComfyUI's queue"

    def _cancel(self, client: httpx.Client, prompt_id: str) -> None:
        """Take a job that timed out off the queue, if it is still waiting (a running one is left alone)."""
        with contextlib.suppress(httpx.HTTPError):
            client.post("/queue", json={"delete": [prompt_id]})

    def _outputs(self, entry: Mapping[str, Any], plan: Plan, workflow: Workflow,
                 prompt_id: str) -> tuple[str, list[dict[str, Any]]]:
        """The output node and its files ({filename, subfolder, type, …}) from a finished history entry."""
        outputs = _dict(entry.get("outputs"))

        def media(node_id: str) -> list[dict[str, Any]]:
            found = _dict(outputs.get(node_id))
            animated = any(_list(found.get("animated")))
            return [dict(item, _animated=animated, _key=key) for key in MEDIA_KEYS for item in _list(found.get(key))
                    if isinstance(item, dict) and isinstance(item.get("filename"), str)]

        if plan.output is not None:
            node = plan.output
        else:
            with_media = [n for n in _ordered(outputs) if media(n)]
            saved = [n for n in with_media if any(i.get("type") == "output" for i in media(n))] or with_media
            if len(saved) > 1:
                raise EngineError(f"comfyui: prompt {prompt_id} has outputs in several nodes ({', '.join(saved)})",
                                  hint="set [engines.comfyui] output_node to the one whose pictures to use")
            if not saved:
                raise EngineReplyError(f"comfyui: prompt {prompt_id} finished without any output images",
                                       hint="the workflow needs a SaveImage (or video save) node")
            node = saved[0]
        items = media(node)
        if not items:
            kind = workflow.get(node, {}).get("class_type", "?")
            raise EngineReplyError(f"comfyui: prompt {prompt_id} finished, but output node {node} ({kind}) "
                                   "holds no images")
        return node, items

    def _fetch(self, client: httpx.Client, item: dict[str, Any], scratch: Path,
               index: int) -> tuple[str, Any, dict[str, Any]]:
        """One output file: ("image", pixels, item) or ("video", path to a local copy, item)."""
        query = {"filename": item["filename"], "subfolder": item.get("subfolder") or "",
                 "type": item.get("type") or "output"}
        response = self._send(client, "GET", "/view", params=query)
        if response.status_code != 200:
            raise EngineReplyError(f"comfyui: GET /view for {item['filename']} answered {response.status_code}")
        suffix = Path(item["filename"]).suffix.lower()
        if suffix in AUDIO_SUFFIXES or item["_key"] == "audio":
            local = scratch / f"output_{index:04d}{suffix}"
            local.write_bytes(response.content)
            return "audio", local, item
        if suffix in VIDEO_SUFFIXES or (item["_animated"] and suffix in (".webp", ".png")):
            local = scratch / f"output_{index:04d}{suffix}"
            local.write_bytes(response.content)
            return "video", local, item
        return "image", decode_image(response.content, f"comfyui: output {item['filename']}"), item

    # -- files ---------------------------------------------------------------------------------------------

    def _write(self, request: AssetRequest, media: list[tuple[str, Any, dict[str, Any]]], out_dir: Path,
               label: str) -> tuple[tuple[Path, ...], dict[str, Any]]:
        outputs = [item["filename"] for _, _, item in media]
        if request.kind == AssetKind.SOUND:
            heard = [m for m in media if m[0] in ("audio", "video")]
            if not heard:
                raise EngineReplyError(f"comfyui: the {label}'s output {outputs[0]} is a picture, not sound")
            _, path, item = heard[0]
            target = out_dir / "sound.wav"
            record = fit_sound(path, target, shot_duration(request), f"comfyui output {item['filename']}")
            return (target,), {"outputs": outputs, "used_output": item["filename"], "sound": record}
        if request.kind == AssetKind.SET:
            kind, pixels, _ = media[0]
            if kind != "image":
                raise EngineReplyError(f"comfyui: the set workflow's output {outputs[0]} is a video, not a still")
            src_h, src_w = pixels.shape[:2]
            target = out_dir / "set.png"
            write_png(target, fit_to_frame(np.ascontiguousarray(pixels[..., :3]), request.width, request.height))
            shaped: dict[str, Any] = {"outputs": outputs, "used_output": outputs[0],
                                      "resized": resize_record(src_w, src_h, request.width, request.height)}
            if pixels.shape[2] == 4:
                shaped["alpha_dropped"] = has_alpha(pixels)
            return (target,), shaped
        if label == "workflow":              # an element from a still graph: one picture, held
            return self._held_element(request, media, out_dir)
        frames, source_fps, source = self._frames(media)
        if not frames:
            raise EngineReplyError(f"comfyui: the {label}'s output {outputs[0]} holds no frames")
        fps, count = shot_fps(request), frame_count(request)
        indices, timing = retime(len(frames), source_fps or fps, count, fps)
        if source_fps is None:
            timing["source_fps"] = None
            timing["assumed_source_fps"] = fps
        src_h, src_w = frames[0].shape[:2]
        shaped = {"outputs": outputs, "source": source, "timing": timing,
                  "resized": resize_record(src_w, src_h, request.width, request.height)}
        if request.kind == AssetKind.BACKGROUND:
            target = out_dir / "background.mp4"
            with VideoWriter(target, width=request.width, height=request.height, fps=fps) as writer:
                for j in indices:
                    writer.write(fit_to_frame(np.ascontiguousarray(frames[j][..., :3]), request.width,
                                              request.height))
            return (target,), shaped
        own_alpha = all(has_alpha(f) for f in frames) and request.screen is None
        shaped["alpha"] = ("the workflow's (RGBA output)" if own_alpha
                           else element_pixels(frames[0], request, _LUMINANCE)[1])
        files = []
        for i, j in enumerate(indices):
            frame = frames[j] if own_alpha else element_pixels(frames[j], request, _LUMINANCE)[0]
            path = out_dir / (ELEMENT_PATTERN % i)
            write_png(path, fit_to_frame(frame, request.width, request.height))
            files.append(path)
        shaped.update(frames=count, fps=fps, duration=count / fps, pattern=ELEMENT_PATTERN)
        return tuple(files), shaped

    @staticmethod
    def _held_element(request: AssetRequest, media: list[tuple[str, Any, dict[str, Any]]],
                      out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any]]:
        kind, pixels, item = media[0]
        if kind != "image":
            raise EngineReplyError(f"comfyui: the still workflow's output {item['filename']} is a video")
        if has_alpha(pixels) and request.screen is None:
            alpha = "the workflow's (RGBA output)"
        else:
            pixels, alpha = element_pixels(pixels, request, _LUMINANCE)
        src_h, src_w = pixels.shape[:2]
        fps, count = shot_fps(request), frame_count(request)
        files = hold_still(fit_to_frame(pixels, request.width, request.height), out_dir, count)
        return files, {"outputs": [m[2]["filename"] for m in media], "used_output": item["filename"],
                       "resized": resize_record(src_w, src_h, request.width, request.height),
                       "alpha": alpha, "frames": count, "fps": fps, "duration": count / fps,
                       "held_still": True, "pattern": ELEMENT_PATTERN}

    @staticmethod
    def _frames(media: list[tuple[str, Any, dict[str, Any]]]) -> tuple[list[np.ndarray], float | None, str]:
        """All frames of a video output (its rate from the file or the node), or of a run of images (rate unknown)."""
        videos = [m for m in media if m[0] == "video"]
        if videos:
            _, path, item = videos[0]
            try:
                frames = list(read_frames(path))
                rate = float(probe(path).fps)
            except MediaError as exc:
                raise EngineReplyError(f"comfyui: output {item['filename']} is not a readable video "
                                       f"({exc.message})") from None
            stated = item.get("frame_rate")
            if isinstance(stated, int | float) and stated > 0:
                rate = float(stated)
            return frames, rate, f"video {item['filename']}"
        stills = [m[1] for m in media]
        return stills, None, f"{len(stills)} image(s)"
