"""Local open models through Hugging Face diffusers: sets, moving backgrounds and VFX elements, offline.

The weights must already be on the machine: a folder written by ``save_pretrained`` or a repo in the local
Hugging Face cache. Everything is loaded with ``local_files_only=True``, so a missing model is a clear error
that says where we looked, never a multi-gigabyte download in the middle of a shoot.

A text-to-image model draws best near the size and shape it was trained on, so a set is drawn there and then
brought to the frame: a frame wider (or taller) than the model can draw is *extended* by inpainting its
margins, never stretched. A set is drawn image-to-image from one picture: the location's set (or, with no
IP-Adapter, a style image), or a ``first_frame``. A first frame with alpha is *inpainted*: its transparent
pixels are painted and its opaque ones laid back exactly (a plate with a hole cut where the set goes). Where
``ip_adapter`` names an IP-Adapter folder and the pipeline takes one, subject and style references steer the
drawing through it (a cast member's sheet for a set or a still element); without one, a subject reference is
refused before anything is spent. Elements have no alpha from a diffusion model, so they are drawn on black
and the matte is pulled from luminance, which is right for light-emitting elements (fire, sparks, magic). The crop
and resize to the frame, the matte and the retiming of a video model's frames are the ones every AI engine
uses, from :mod:`soundstage.engines.frames`.

Public: :class:`DiffusersEngine`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from pathlib import Path
from typing import Any, ClassVar, Literal

import cv2
import diffusers
import numpy as np
import torch
from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting, DiffusionPipeline
from huggingface_hub import constants as hub_constants
from huggingface_hub import try_to_load_from_cache
from PIL import Image
from pydantic import Field

from soundstage.engines.base import (
    AssetKind,
    AssetRequest,
    EngineOptions,
    Generated,
    Honours,
    Quote,
    SourceType,
    Unit,
    dropped,
    kept_references,
)
from soundstage.engines.frames import (
    ELEMENT_PATTERN,
    SCREEN_ALPHA,
    element_pixels,
    fit_to_frame,
    frame_count,
    hold_still,
    resize_record,
    retime,
    shot_duration,
    shot_fps,
)
from soundstage.errors import EngineError, EngineRefused, MediaError
from soundstage.media import VideoWriter, read_image, write_png

Array = np.ndarray

#: Seconds one denoising step takes per megapixel drawn (UNet or transformer, classifier-free guidance on).
#: GPU: SD 1.5 at 512² does ~20 steps/s in fp16 on a current card (0.26 MP → ~0.2 s per step-megapixel),
#: SDXL at 1024² ~8 steps/s (~0.12); we take the slower figure so the budget errs high.
#: CPU: SD 1.5 at 512² takes ~4 s a step on an 8-core desktop (~15 s per step-megapixel).
GPU_SECONDS_PER_STEP_MEGAPIXEL = 0.2
CPU_SECONDS_PER_STEP_MEGAPIXEL = 15.0
#: A diffusion model starts duplicating its subject beyond about 2:1 of the shape it was trained on; wider
#: frames are drawn at 2:1 and extended by inpainting.
MAX_ASPECT = 2.0
#: Aspect differences below this are cropped away rather than inpainted (a few pixels are not worth a pass).
ASPECT_TOLERANCE = 0.02
BLACK_BACKGROUND = "on a pure black background"
#: Subject and style pictures one IP-Adapter call is given together (it embeds each and attends to them all);
#: a set may take one more picture, its set reference, to be drawn from.
MAX_STEERING = 3
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_GET_IT = ("soundstage never downloads weights: on a machine with internet run `hf download {model}` (or "
           "`pipeline.save_pretrained(folder)`) and copy the folder or the Hugging Face cache here")


class DiffusersOptions(EngineOptions):
    """``[engines.diffusers]``: which local model, on which device, and how hard to denoise."""

    model: str                                           # a save_pretrained folder, or a repo id in the HF cache
    video_model: str | None = None                       # a text-to-video pipeline, for backgrounds (and elements)
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    steps: int = Field(30, ge=1, le=1000)
    guidance: float = Field(7.0, ge=0, le=50)
    strength: float = Field(0.55, gt=0, le=1)            # image-to-image strength when references are given
    native_size: int | None = Field(None, ge=8, le=8192)  # the model's trained size; None: from its config
    video_frames: int | None = Field(None, ge=1, le=1000)  # frames asked of the video model; None: its default
    video_fps: float = Field(8.0, gt=0, le=240)          # the rate the video model's frames are meant to play at
    ip_adapter: str | None = None                        # an IP-Adapter folder: its weights and image_encoder/
    ip_adapter_weight_name: str = "ip-adapter_sd15.safetensors"   # the weights file in that folder
    ip_adapter_scale: float = Field(0.6, ge=0, le=2)     # how hard subject and style references steer


class DiffusersEngine:
    """Sets, backgrounds and elements from local diffusion models; labelled trainedAlgorithmicMedia."""

    name: ClassVar[str] = "diffusers"
    Options: ClassVar[type[EngineOptions]] = DiffusersOptions
    kinds: ClassVar[frozenset[AssetKind]] = frozenset({AssetKind.SET, AssetKind.BACKGROUND, AssetKind.ELEMENT})
    elements: ClassVar[frozenset[str] | None] = None    # any: the prompt says what
    sounds: frozenset[str] | None = frozenset()   # no sound of its own (AssetKind.SOUND)
    takes_references: ClassVar[bool] = True
    source_type: ClassVar[SourceType] = SourceType.TRAINED_ALGORITHMIC

    def __init__(self, options: DiffusersOptions, *, root: Path | None = None) -> None:
        self.options = options
        self.root = Path(root or Path.cwd()).resolve()
        self._pipes: dict[str, Any] = {}          # loaded once per engine: "image", "video", "img2img", "inpaint"
        self._load_seconds = 0.0

    @property
    def wants_gpu(self) -> bool:
        """Asked by a cluster executor: place this engine's steps on a GPU worker unless it is told the CPU."""
        return self.options.device in ("auto", "cuda")

    # -- the protocol ----------------------------------------------------------------------------------------

    def quote(self, request: AssetRequest) -> Quote:
        """Seconds estimated as steps × megapixels drawn × a per-device constant; reads configs, loads nothing."""
        self._check(request)
        device = self._device()
        use_video = request.kind == AssetKind.BACKGROUND or (
            request.kind == AssetKind.ELEMENT and self.options.video_model is not None)
        folder = self._locate(self.options.video_model if use_video and self.options.video_model
                              else self.options.model)
        native, scale = _native_from_config(folder)
        native = self.options.native_size or native
        step = 8 * scale
        gw, gh = _drawn_size(request.width, request.height, native, step)
        megapixels = gw * gh / 1e6
        if use_video:
            megapixels *= self.options.video_frames or 16
        elif request.kind == AssetKind.SET:
            canvas = _canvas_size(request.width, request.height, gw, gh, step)
            if self._mode(request) == "inpaint":       # painted whole at the frame's shape
                megapixels = canvas[0] * canvas[1] / 1e6
            elif canvas != (gw, gh):
                megapixels += canvas[0] * canvas[1] / 1e6
        rate = CPU_SECONDS_PER_STEP_MEGAPIXEL if device == "cpu" else GPU_SECONDS_PER_STEP_MEGAPIXEL
        seconds = self.options.steps * megapixels * rate
        if self._mode(request) == "image-to-image":
            seconds *= self.options.strength
        return Quote(self.name, self.options.model, _unit(device), round(seconds, 3))

    def generate(self, request: AssetRequest, out_dir: Path) -> Generated:
        self._check(request)
        start = time.perf_counter()
        out_dir = Path(out_dir)
        loaded_before = self._load_seconds
        if request.kind == AssetKind.SET:
            files, params = self._set(request, out_dir)
        elif request.kind == AssetKind.BACKGROUND:
            files, params = self._background(request, out_dir)
        else:
            files, params = self._element(request, out_dir)
        seconds = time.perf_counter() - start
        device = self._device()
        params.update(
            seed=request.seed, steps=self.options.steps, guidance=self.options.guidance, device=device,
            dtype=str(self._dtype(device)).removeprefix("torch."), final_size=[request.width, request.height],
            diffusers=diffusers.__version__, torch=torch.__version__,
            load_seconds=round(self._load_seconds - loaded_before, 3),
        )
        return Generated(
            files=files,
            engine=self.name,
            model=self.options.model,
            version=f"diffusers {diffusers.__version__}, torch {torch.__version__}",
            source_type=self.source_type,
            parameters=params,
            unit=_unit(device),
            quantity=seconds,
            seconds=seconds,
        )

    # -- kinds -----------------------------------------------------------------------------------------------

    def _set(self, request: AssetRequest, out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any]]:
        pipe = self._pipe("image")
        step = 8 * _scale_factor(pipe)
        gw, gh = _drawn_size(request.width, request.height, self._native(pipe), step)
        mode = self._mode(request)
        if mode == "inpaint":   # the first frame already has the frame's shape: painted whole, never extended
            gw, gh = _canvas_size(request.width, request.height, gw, gh, step)
        prompt, negative = request.full_prompt, request.negative_prompt
        params: dict[str, Any] = {**self._identity("image"), "prompt": prompt, "negative_prompt": negative,
                                  "generated_size": [gw, gh]}
        start, steer = self._sources(request)
        images = [_read_picture(path) for path in steer]
        params["ip_adapter"] = self._adapter_record(steer)
        if mode == "inpaint":
            assert start is not None
            picture = fit_to_frame(_read_picture(start, keep_alpha=True), gw, gh)
            rgb, keep = picture[..., :3], picture[..., 3:]
            inpaint = self._derived("inpaint", AutoPipelineForInpainting)
            mask = Image.fromarray(_to_uint8(1.0 - keep[..., 0]))
            painted = fit_to_frame(self._run(inpaint, prompt, negative, request.seed, steer=images,
                                             image=_pil(rgb), mask_image=mask, width=gw, height=gh,
                                             strength=1.0), gw, gh)
            drawn = (painted * (1.0 - keep) + rgb * keep).astype(np.float32)   # what was kept stays exact
            params.update(mode="inpaint", reference=str(start), strength=1.0, pipeline=type(inpaint).__name__,
                          painted=round(float((keep < 0.5).mean()), 4))
        elif mode == "image-to-image":
            assert start is not None
            if int(self.options.steps * self.options.strength) < 1:
                raise EngineError(
                    f"diffusers engine: {self.options.steps} steps at strength {self.options.strength} leave no "
                    "image-to-image step to run", hint="raise steps or strength so that steps × strength ≥ 1")
            picture = fit_to_frame(_read_picture(start), gw, gh)
            img2img = self._derived("img2img", AutoPipelineForImage2Image)
            drawn = self._run(img2img, prompt, negative, request.seed, steer=images, image=_pil(picture),
                              strength=self.options.strength)
            params.update(mode="image-to-image", reference=str(start), strength=self.options.strength,
                          pipeline=type(img2img).__name__)
        else:
            drawn = self._run(pipe, prompt, negative, request.seed, steer=images, width=gw, height=gh)
            params.update(mode="text-to-image", strength=None)
        drawn = fit_to_frame(drawn, gw, gh)
        canvas_w, canvas_h = _canvas_size(request.width, request.height, gw, gh, step)
        if (canvas_w, canvas_h) != (gw, gh):
            drawn, params["extension"] = self._extend(drawn, canvas_w, canvas_h, prompt, negative, request.seed)
        else:
            params["extension"] = None
        params["resized"] = resize_record(drawn.shape[1], drawn.shape[0], request.width, request.height)
        target = out_dir / "set.png"
        write_png(target, _to_uint8(fit_to_frame(drawn, request.width, request.height)))
        return (target,), params

    def _extend(self, drawn: Array, width: int, height: int, prompt: str, negative: str,
                seed: int) -> tuple[Array, dict[str, Any]]:
        """Put the drawn frame in the middle of a wider (taller) canvas and inpaint the margins around it.

        The mask reaches ``overlap`` pixels into the drawn frame so the model repaints the seam; the drawn
        pixels are then laid back over the result with a ramp across that band, so the middle stays exact.
        """
        gh, gw = drawn.shape[:2]
        x0, y0 = ((width - gw) // 2) // 8 * 8, ((height - gh) // 2) // 8 * 8
        info: dict[str, Any] = {"canvas_size": [width, height], "placed_at": [x0, y0]}
        try:
            inpaint = self._derived("inpaint", AutoPipelineForInpainting)
        except EngineError as exc:
            info.update(method="crop", reason=exc.message)  # no inpainting pipeline: the frame is cropped instead
            return drawn, info
        overlap = max(min(gw, gh) // 16, 4)
        canvas = cv2.copyMakeBorder(drawn, y0, height - gh - y0, x0, width - gw - x0, cv2.BORDER_REPLICATE)
        keep = np.zeros((height, width), np.uint8)
        keep[y0 : y0 + gh, x0 : x0 + gw] = 1
        mask = cv2.dilate((1 - keep) * 255, np.ones((2 * overlap + 1, 2 * overlap + 1), np.uint8))
        painted = self._run(inpaint, prompt, negative, seed, image=_pil(canvas),
                            mask_image=Image.fromarray(mask), width=width, height=height, strength=1.0)
        painted = fit_to_frame(painted, width, height)
        # A ramp from 0 at the margin to 1 one overlap inside: distance to the nearest inpainted pixel.
        inside = cv2.distanceTransform(keep, cv2.DIST_L2, 3)
        ramp = np.clip(inside / overlap, 0.0, 1.0)[..., None]
        out = painted * (1.0 - ramp) + canvas * ramp
        info.update(method="inpaint", pipeline=type(inpaint).__name__, strength=1.0, overlap=overlap,
                    margins=[x0, y0, width - gw - x0, height - gh - y0])
        return out.astype(np.float32), info

    def _element(self, request: AssetRequest, out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any]]:
        fps, count = shot_fps(request), frame_count(request)
        width, height = request.width, request.height
        words = ", ".join(part for part in (request.element, request.prompt) if part)
        # a cast member's prompt asks for its chroma screen itself
        prompt = words if request.screen is not None else f"{words}, {BLACK_BACKGROUND}"
        negative = request.negative_prompt
        params: dict[str, Any] = {"element": request.element, "prompt": prompt, "negative_prompt": negative,
                                  "alpha": SCREEN_ALPHA.format(screen=request.screen) if request.screen
                                  else "luminance", "frames": count, "fps": fps, "duration": count / fps,
                                  "pattern": ELEMENT_PATTERN}
        if self.options.video_model:
            drawn_frames, info = self._video_frames(prompt, negative, request, fps, count)
            params.update(self._identity("video"), **info, animated=True)
        else:
            pipe = self._pipe("image")
            gw, gh = _drawn_size(request.width, request.height, self._native(pipe), 8 * _scale_factor(pipe))
            _, steer = self._sources(request)
            images = [_read_picture(path) for path in steer]
            still = fit_to_frame(self._run(pipe, prompt, negative, request.seed, steer=images, width=gw, height=gh),
                                 gw, gh)
            drawn_frames = [still]
            params.update(self._identity("image"), generated_size=[gw, gh], animated=False,
                          repeated="one still, repeated for every frame", ip_adapter=self._adapter_record(steer))
        # Drawn on black, so the margins a wider frame needs are black too: alpha 0 there, nothing to inpaint.
        padded = _pad_black(drawn_frames[0], width, height)
        params["extension"] = ({"method": "black", "canvas_size": [padded.shape[1], padded.shape[0]]}
                               if padded.shape != drawn_frames[0].shape else None)
        params["resized"] = resize_record(padded.shape[1], padded.shape[0], width, height)

        def matte(frame: Array) -> Array:
            return element_pixels(fit_to_frame(_pad_black(frame, width, height), width, height), request, "")[0]

        if len(drawn_frames) == 1:
            return hold_still(matte(drawn_frames[0]), out_dir, count), params
        files: list[Path] = []
        last: tuple[int, Array] | None = None            # a held source frame is matted once
        for i, frame in enumerate(drawn_frames):
            if last is None or last[0] != id(frame):
                last = (id(frame), matte(frame))
            path = out_dir / (ELEMENT_PATTERN % i)
            write_png(path, last[1])
            files.append(path)
        return tuple(files), params

    def _background(self, request: AssetRequest, out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any]]:
        fps, count = shot_fps(request), frame_count(request)
        prompt, negative = request.full_prompt, request.negative_prompt
        frames, info = self._video_frames(prompt, negative, request, fps, count)
        params: dict[str, Any] = {**self._identity("video"), "prompt": prompt, "negative_prompt": negative,
                                  **info, "frames": count, "fps": fps, "duration": count / fps,
                                  "resized": resize_record(frames[0].shape[1], frames[0].shape[0], request.width,
                                                           request.height)}
        target = out_dir / "background.mp4"
        with VideoWriter(target, width=request.width, height=request.height, fps=fps) as writer:
            for frame in frames:
                writer.write(_to_uint8(fit_to_frame(frame, request.width, request.height)))
        return (target,), params

    def _video_frames(self, prompt: str, negative: str, request: AssetRequest, fps: float,
                      count: int) -> tuple[list[Array], dict[str, Any]]:
        """Run the video model once, then pick by time the model's frame each of the shot's frames shows."""
        pipe = self._pipe("video")
        gw, gh = _drawn_size(request.width, request.height, self._native(pipe), 8 * _scale_factor(pipe))
        extra = {"num_frames": self.options.video_frames} if self.options.video_frames else {}
        result = self._call(pipe, prompt=prompt, negative_prompt=negative or None, width=gw, height=gh,
                            num_inference_steps=self.options.steps, guidance_scale=self.options.guidance,
                            generator=self._generator(request.seed), output_type="np", **extra)
        source = [fit_to_frame(_as_float(frame), gw, gh) for frame in result.frames[0]]
        if not source:
            raise EngineError(f"diffusers video model {self.options.video_model!r} returned no frames")
        indices, timing = retime(len(source), self.options.video_fps, count, fps)
        info = {"generated_size": [gw, gh], "source_frames": len(source), "source_fps": self.options.video_fps,
                "timing": timing}
        return [source[j] for j in indices], info

    # -- models ----------------------------------------------------------------------------------------------

    def _check(self, request: AssetRequest) -> None:
        if request.kind not in self.kinds:
            raise EngineError(f"diffusers engine cannot make a {request.kind.value}")
        if request.kind == AssetKind.BACKGROUND and not self.options.video_model:
            raise EngineError(
                f"diffusers engine with model {self.options.model!r} cannot make a moving background",
                hint="set engines.diffusers.video_model to a text-to-video pipeline folder, or use another engine",
            )
        if request.kind == AssetKind.ELEMENT and not request.element:
            raise EngineError("an element request needs request.element (fire, sparks, smoke, ...)")
        if request.width < 8 or request.height < 8:
            raise EngineError(f"diffusers engine cannot make a {request.width}×{request.height} frame")
        if request.kind != AssetKind.SET and (shot_duration(request) <= 0 or shot_fps(request) <= 0):
            raise EngineError("diffusers engine: a moving request needs a positive duration and fps")
        refused, _ = dropped(request, self.honours_for(request.kind))
        if refused:
            hint = ("use the google engine for moving frames and extension" if self._takes_adapter() else
                    "set engines.diffusers.ip_adapter to an IP-Adapter folder for subject references, or use the "
                    "google engine for moving frames and extension")
            raise EngineError(f"diffusers engine cannot take {', '.join(refused)} for a {request.kind.value}",
                              hint=hint)
        self._sources(request)

    def honours_for(self, kind: AssetKind) -> Honours:
        """A set is drawn from one picture (a first frame, else the location's set or, with no IP-Adapter, a
        style image); with an IP-Adapter, subject and style references steer a set or a still element. The
        moving pipelines here are text-to-video: they take no frame and no IP-Adapter."""
        adapter = self._takes_adapter()
        steer = {"references:subject", "references:style"} if adapter else set()
        if kind == AssetKind.SET:
            uses = {"first_frame", "references:set", "references:style", *steer}
            return Honours(frozenset(uses), max_references=MAX_STEERING + 1 if adapter else 1)
        if kind == AssetKind.ELEMENT and adapter and not self.options.video_model:
            return Honours(frozenset(steer), max_references=MAX_STEERING)
        return Honours()

    def _sources(self, request: AssetRequest) -> tuple[Path | None, tuple[Path, ...]]:
        """(the picture a set is drawn from, or None: from words; the pictures that steer through the
        IP-Adapter). The first frame, else the first set reference (a style one too with no IP-Adapter), is
        drawn from; every other kept reference steers."""
        kept = list(kept_references(request, self.honours_for(request.kind)))
        start = request.first_frame if request.kind == AssetKind.SET else None
        adapter = self._takes_adapter()
        if start is None and request.kind == AssetKind.SET:
            first = next((r for r in kept if r.role == "set" or (r.role == "style" and not adapter)), None)
            if first is not None:
                kept.remove(first)
                start = Path(first.path)
        if kept and not adapter:
            raise EngineError(f"diffusers engine draws a {request.kind.value} from one picture: the first frame "
                              f"{request.first_frame} and the reference {kept[0].path} were both given",
                              hint="set engines.diffusers.ip_adapter to steer by the reference too, or leave one out")
        return start, tuple(Path(r.path) for r in kept)

    def _mode(self, request: AssetRequest) -> Literal["text-to-image", "image-to-image", "inpaint"]:
        """How a set is drawn: a first frame with transparent pixels is inpainted there, any other picture is
        drawn from image-to-image; elements and backgrounds are drawn from words."""
        start, _ = self._sources(request)
        if start is None or request.kind != AssetKind.SET:
            return "text-to-image"
        if start == request.first_frame and _read_picture(start, keep_alpha=True)[..., 3].min() < 1.0:
            return "inpaint"
        return "image-to-image"

    def _takes_adapter(self) -> bool:
        """Whether subject and style references can steer: an IP-Adapter is set and the image pipeline's class
        loads one (read from ``model_index.json``, nothing loaded)."""
        if not self.options.ip_adapter:
            return False
        try:
            folder = self._locate(self.options.model)
        except EngineError:
            return True         # the missing model is said where it is quoted
        name = _read_json(folder / "model_index.json").get("_class_name")
        return hasattr(getattr(diffusers, str(name), None), "load_ip_adapter")

    def _adapter_record(self, steer: tuple[Path, ...]) -> dict[str, Any] | None:
        """What a take records of the IP-Adapter: which weights, how hard, and the pictures it was given."""
        if not steer:
            return None
        return {"path": str(self._inside(self.options.ip_adapter or "")),
                "weight_name": self.options.ip_adapter_weight_name, "scale": self.options.ip_adapter_scale,
                "images": [str(path) for path in steer]}

    def _device(self) -> str:
        wanted = self.options.device
        if wanted == "auto":
            if torch.cuda.is_available():
                return "cuda"
            return "mps" if torch.backends.mps.is_available() else "cpu"
        if wanted == "cuda" and not torch.cuda.is_available():
            raise EngineError("diffusers engine: device 'cuda' asked for, but torch sees no CUDA GPU",
                              hint=f"torch {torch.__version__} is installed; use device = 'auto' or 'cpu'")
        if wanted == "mps" and not torch.backends.mps.is_available():
            raise EngineError("diffusers engine: device 'mps' asked for, but torch sees no Apple GPU",
                              hint="use device = 'auto' or 'cpu'")
        return wanted

    def _dtype(self, device: str) -> torch.dtype:
        if self.options.dtype == "auto":
            return torch.float16 if device == "cuda" else torch.float32
        dtype: torch.dtype = getattr(torch, self.options.dtype)
        return dtype

    def _locate(self, model: str) -> Path:
        """The pipeline folder for ``model``: a folder under the project (or absolute), or an HF cache snapshot."""
        folder = Path(model).expanduser()
        if not folder.is_absolute():
            folder = self.root / folder
        if folder.is_dir():
            if not (folder / "model_index.json").is_file():
                raise EngineError(f"diffusers model folder {folder} has no model_index.json",
                                  hint="save the pipeline with pipeline.save_pretrained(folder)")
            return folder
        if _REPO_ID.match(model):
            cached = try_to_load_from_cache(model, "model_index.json")
            if isinstance(cached, str):
                return Path(cached).parent
        raise EngineError(
            f"diffusers model {model!r} is not on this machine (not downloaded): looked for the folder {folder} "
            f"and in the Hugging Face cache {hub_constants.HF_HUB_CACHE}",
            hint=_GET_IT.format(model=model),
        )

    def _pipe(self, role: Literal["image", "video"]) -> Any:
        if role in self._pipes:
            return self._pipes[role]
        model = self.options.model if role == "image" else self.options.video_model
        assert model is not None
        folder = self._locate(model)
        device = self._device()
        start = time.perf_counter()
        try:
            pipe = DiffusionPipeline.from_pretrained(folder, local_files_only=True, dtype=self._dtype(device))
        except (OSError, ValueError, KeyError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineError(f"diffusers model {model!r} could not be loaded from {folder}: {reason}",
                              hint=_GET_IT.format(model=model)) from None
        pipe = pipe.to(device)
        pipe.set_progress_bar_config(disable=True)
        if role == "image" and self._takes_adapter():
            self._load_adapter(pipe)           # before any image-to-image or inpainting form shares the UNet
        self._load_seconds += time.perf_counter() - start
        self._pipes[role] = pipe
        self._pipes[f"{role}:identity"] = _identity(model, folder, pipe)
        return pipe

    def _inside(self, path: str) -> Path:
        folder = Path(path).expanduser()
        return folder if folder.is_absolute() else self.root / folder

    def _load_adapter(self, pipe: Any) -> None:
        """Load the IP-Adapter named by the options into ``pipe``, from its folder only (never a download)."""
        folder = self._inside(self.options.ip_adapter or "")
        weights = folder / self.options.ip_adapter_weight_name
        if not weights.is_file():
            raise EngineError(f"diffusers IP-Adapter weights are not on this machine: looked for {weights}",
                              path=weights, hint=_GET_IT.format(model="h94/IP-Adapter"))
        try:
            pipe.load_ip_adapter(str(folder), subfolder="", weight_name=self.options.ip_adapter_weight_name,
                                 local_files_only=True)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineError(f"diffusers IP-Adapter {weights} could not be loaded into {type(pipe).__name__}: "
                              f"{reason}", path=weights,
                              hint="the IP-Adapter must be made for this model, with its image_encoder/ beside it"
                              ) from None

    def _steering(self, pipe: Any, images: list[Array]) -> dict[str, Any]:
        """The IP-Adapter's arguments for one call: the pictures at the options' scale, or, with none, a black
        picture at scale 0, which the adapter's attention skips (a loaded adapter must be given something, and a
        picture suits every kind of adapter, where an empty embedding has each kind's own shape)."""
        if getattr(getattr(pipe, "unet", None), "encoder_hid_proj", None) is None:
            return {}
        pipe.set_ip_adapter_scale(self.options.ip_adapter_scale if images else 0.0)
        pictures = images or [np.zeros((64, 64, 3), np.float32)]
        return {"ip_adapter_image": [[_pil(image) for image in pictures]]}

    def _derived(self, role: str, auto: Any) -> Any:
        """The image-to-image or inpainting form of the loaded model: the same weights, no second load."""
        if role not in self._pipes:
            base = self._pipe("image")
            try:
                derived = auto.from_pipe(base)
            except ValueError as exc:
                raise EngineError(f"diffusers model {self.options.model!r} has no {role} form ({exc})") from None
            derived.set_progress_bar_config(disable=True)
            self._pipes[role] = derived
        return self._pipes[role]

    def _identity(self, role: str) -> dict[str, Any]:
        return dict(self._pipes[f"{role}:identity"])

    def _native(self, pipe: Any) -> int:
        if self.options.native_size:
            return self.options.native_size
        denoiser = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
        size = _first_int(getattr(getattr(denoiser, "config", None), "sample_size", None))
        if size is None:
            size = _first_int(getattr(pipe, "default_sample_size", None))
        return size * _scale_factor(pipe) if size else 512

    def _generator(self, seed: int) -> torch.Generator:
        return torch.Generator(device=self._device()).manual_seed(seed)

    def _run(self, pipe: Any, prompt: str, negative: str, seed: int, steer: list[Array] | None = None,
             **kwargs: Any) -> Array:
        """One still from ``pipe`` as float RGB in [0, 1], steered by ``steer`` through the IP-Adapter where one
        is loaded; a safety checker's veto is a refusal."""
        result = self._call(pipe, prompt=prompt, negative_prompt=negative or None,
                            num_inference_steps=self.options.steps, guidance_scale=self.options.guidance,
                            generator=self._generator(seed), output_type="np", **self._steering(pipe, steer or []),
                            **kwargs)
        flagged = getattr(result, "nsfw_content_detected", None)
        if flagged and any(flagged):
            raise EngineRefused(f"diffusers model {self.options.model!r}: its safety checker blanked the image",
                                hint="reword the prompt")
        return _as_float(result.images[0])

    def _call(self, pipe: Any, **kwargs: Any) -> Any:
        """Call a pipeline; running out of accelerator memory is an EngineError with what to change."""
        try:
            return pipe(**kwargs)
        except torch.OutOfMemoryError:
            raise EngineError(
                f"diffusers engine ran out of {self._device()} memory running {type(pipe).__name__}",
                hint="set a smaller native_size, dtype = 'float16', or fewer video_frames",
            ) from None


# -- sizes ---------------------------------------------------------------------------------------------------


def _drawn_size(width: int, height: int, native: int, step: int) -> tuple[int, int]:
    """The size to draw at: about native² pixels, the request's shape up to MAX_ASPECT, sides a multiple of step."""
    aspect = min(max(width / height, 1 / MAX_ASPECT), MAX_ASPECT)
    gw = max(step, round(native * math.sqrt(aspect) / step) * step)
    gh = max(step, round(native / math.sqrt(aspect) / step) * step)
    return gw, gh


def _canvas_size(width: int, height: int, gw: int, gh: int, step: int) -> tuple[int, int]:
    """The drawn size, widened (or heightened) in steps when the request is noticeably wider (taller)."""
    want, have = width / height, gw / gh
    if want > have * (1 + ASPECT_TOLERANCE):
        return math.ceil(gh * want / step) * step, gh
    if want < have / (1 + ASPECT_TOLERANCE):
        return gw, math.ceil(gw / want / step) * step
    return gw, gh


def _pad_black(image: Array, width: int, height: int) -> Array:
    """Pad with black to the request's aspect (to within a pixel), keeping the drawing in the middle."""
    h, w = image.shape[:2]
    want = width / height
    pw, ph = (round(h * want), h) if want > w / h else (w, round(w / want))
    if pw - w < 1 and ph - h < 1:
        return image
    x0, y0 = (pw - w) // 2, (ph - h) // 2
    return cv2.copyMakeBorder(image, y0, ph - h - y0, x0, pw - w - x0, cv2.BORDER_CONSTANT, value=(0, 0, 0))


# -- small helpers -------------------------------------------------------------------------------------------


def _unit(device: str) -> Unit:
    return "cpu_second" if device == "cpu" else "gpu_second"


def _scale_factor(pipe: Any) -> int:
    for attribute in ("vae_scale_factor", "vae_scale_factor_spatial"):
        value = getattr(pipe, attribute, None)
        if isinstance(value, int) and value > 0:
            return value
    return 8


def _first_int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, list | tuple) and value and isinstance(value[0], int):
        return max(value)
    return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _native_from_config(folder: Path) -> tuple[int, int]:
    """(native size in pixels, VAE scale factor) from the folder's JSON configs, without loading weights."""
    vae = _read_json(folder / "vae" / "config.json")
    channels = vae.get("block_out_channels")
    scale = 2 ** (len(channels) - 1) if isinstance(channels, list) and channels else 8
    for part in ("unet", "transformer"):
        size = _first_int(_read_json(folder / part / "config.json").get("sample_size"))
        if size:
            return size * scale, scale
    return 512, scale


def _identity(model: str, folder: Path, pipe: Any) -> dict[str, Any]:
    """What names these weights: the folder or repo, the HF snapshot (a commit), and a hash of every config."""
    digest = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in files:
        relative = path.relative_to(folder).as_posix()
        if path.suffix in (".json", ".txt"):
            digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
        else:   # weights: their names and sizes (hashing gigabytes on every load would cost seconds)
            digest.update(f"{relative}\0{path.stat().st_size}\0".encode())
    revision = folder.name if folder.parent.name == "snapshots" else None
    scheduler = getattr(pipe, "scheduler", None)
    return {"model": model, "model_path": str(folder), "model_revision": revision,
            "name_or_path": str(getattr(pipe, "name_or_path", None) or ""),
            "config_hash": digest.hexdigest()[:16], "pipeline": type(pipe).__name__,
            "scheduler": type(scheduler).__name__ if scheduler is not None else None}


def _read_picture(path: Path, *, keep_alpha: bool = False) -> Array:
    """A reference or first frame as float in [0, 1]: RGB, or with ``keep_alpha`` RGBA (opaque where it has no
    alpha)."""
    try:
        image = read_image(path)
    except MediaError as exc:
        raise EngineError(f"diffusers engine cannot use the reference image: {exc.message}", path=path) from None
    picture = image.astype(np.float32) / 255.0
    if not keep_alpha:
        return picture[..., :3]
    if picture.shape[2] == 4:
        return picture
    return np.dstack([picture[..., :3], np.ones(picture.shape[:2], np.float32)])


def _as_float(image: Any) -> Array:
    """A pipeline's picture (float array in [0, 1], or a PIL image / uint8 array) as float32 RGB in [0, 1]."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array[..., :3].astype(np.float32) / 255.0
    return array[..., :3].astype(np.float32)


def _pil(image: Array) -> Image.Image:
    return Image.fromarray(_to_uint8(image))


def _to_uint8(image: Array) -> Array:
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
