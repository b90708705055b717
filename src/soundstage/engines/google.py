"""Google's generative media through the official ``google-genai`` SDK: Imagen, Gemini image and Veo.

One engine, three models, picked by what the request asks for:

- **Imagen** (``image_model``) paints a SET from words alone (``generate_images``, ``:predict``);
- **Gemini image** (``edit_model``, "Nano Banana") paints a SET that must match reference images, the
  location's established set, for continuity (``generate_content`` with image output);
- **Veo** (``video_model``) shoots moving BACKGROUNDs and animated ELEMENTs (``generate_videos``, a long-running
  job polled with ``operations.get``). Elements are asked for on pure black, and their alpha is pulled from
  luminance (alpha = the largest channel, colour unpremultiplied), as a compositor would key a black-screen
  element. Veo 3 makes a background's sound with it (``generate_audio``, on unless ``audio = false``): the
  take keeps it as ``background.wav`` beside ``background.mp4``, as long as the picture. Elements are asked
  for silently (the sound of a thing on black is not its sound in the shot).

Conditioning (:meth:`GoogleEngine.honours_for`): Veo starts from a first frame (``GenerateVideosSource.image``);
Veo 2 and 3.1 end on a last frame (``GenerateVideosConfig.last_frame``) and extend an earlier Veo clip
(``GenerateVideosSource.video``: the reply is the clip with 7 s more); Veo 3.1 takes up to three asset
reference images (``reference_images``, the set or a cast member) and Veo 2's experimental model style ones. A
camera hint is said in the prompt. Gemini image takes up to three references of any role, each named in the
prompt by its place and role. What a model cannot take and the take needs is refused at quote time.

Credentials come from the environment only. ``vertex = true`` (the default) with no ``project`` is Vertex AI
express mode: the key is ``GOOGLE_API_KEY`` (or ``GEMINI_API_KEY``). With a ``project`` the SDK uses Application
Default Credentials, as ``gcloud auth application-default login`` or ``GOOGLE_APPLICATION_CREDENTIALS`` set them.
``vertex = false`` is the Gemini Developer API, where the SDK (3.x) offers neither Imagen nor Veo: SETs go to
Gemini image and moving pictures are refused at quote time.

Retries are ours (:func:`soundstage.engines.retry.with_retries`); the SDK's own retries are switched off so a
rate limit is counted once and reported once. Every pixel that leaves here is brought to the request by a
centre crop and a resize, and Veo's frames to its frame rate, by :mod:`soundstage.engines.frames`; the
parameters say what was done.

Public: :class:`GoogleEngine`, :func:`nearest_aspect`, :func:`veo_duration`.
"""

from __future__ import annotations

import functools
import hashlib
import math
import mimetypes
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import cv2
import google.auth.exceptions
import httpx
import numpy as np
import requests
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from soundstage.engines.base import (
    AssetKind,
    AssetRequest,
    EngineOptions,
    Generated,
    Honours,
    HTTPOptions,
    Quote,
    Reference,
    SourceType,
    dropped,
    kept_references,
)
from soundstage.engines.frames import (
    ELEMENT_PATTERN,
    decode_image,
    element_pixels,
    fit_sound,
    fit_to_frame,
    frame_count,
    has_alpha,
    has_sound,
    one_line,
    reference_words,
    resize_record,
    retime,
    retry_after,
    shot_duration,
    shot_fps,
)
from soundstage.engines.retry import with_retries
from soundstage.errors import EngineBusy, EngineError, EngineRefused, EngineReplyError, EngineTimeout, MediaError
from soundstage.media import VideoWriter, probe, read_frames, write_png

try:  # google-genai 3.x sends through httpx2 when it is installed, else through httpx
    import httpx2
except ImportError:  # pragma: no cover - depends on the SDK version and extras
    httpx2 = None  # type: ignore[assignment]

T = TypeVar("T")

SDK_VERSION: str = genai.__version__
KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")

#: Aspect ratios each model family accepts.
IMAGEN_ASPECTS = ("1:1", "3:4", "4:3", "9:16", "16:9")
GEMINI_ASPECTS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
VEO_ASPECTS = ("16:9", "9:16")

#: Clip lengths Veo bills and makes (seconds). Veo 2 takes any whole second from 5 to 8; Veo 3 takes 4, 6 or 8.
VEO2_DURATIONS = (5, 6, 7, 8)
VEO3_DURATIONS = (4, 6, 8)

#: Imagen models that still take a negative prompt (Imagen 3.0-generate-002 and Imagen 4 refuse it).
_NEGATIVE_PROMPT_IMAGEN = ("imagegeneration@", "imagen-3.0-generate-001", "imagen-3.0-fast-generate-001")

#: Gemini finish and block reasons that mean "the safety system said no".
_REFUSAL_REASONS = frozenset({
    "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT",
    "RECITATION", "IMAGE_RECITATION", "JAILBREAK", "MODEL_ARMOR",
})

#: Words in a 4xx message that mean a content-policy refusal (Imagen and Veo answer 400 INVALID_ARGUMENT).
_POLICY_WORDS = re.compile(r"responsible ai|safety|usage guidelines|content polic|prohibit|sensitive|violat|"
                           r"harmful|celebrity|minors", re.IGNORECASE)

#: Operation error codes (google.rpc.Code) worth sending again later: RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE.
_BUSY_RPC_CODES = frozenset({8, 13, 14})

_ELEMENT_SUFFIX = ("Isolated on a pure black background, nothing else in frame: no ground, no scenery, no text. "
                   "Locked-off camera.")
_ELEMENT_NEGATIVE = "background, scenery, ground, floor, sky, text, watermark"
_CONTINUITY = ("Match the reference image{s}: this is the same location, so keep its architecture, layout, light "
               "and palette.")

MAX_REFERENCES = 3       # Gemini image models take at most three input images; Veo at most three references
#: Veo extension: each job adds 7 s to a Veo clip, and a clip may be extended to 148 s (20 extensions).
VEO_EXTEND_SECONDS = 7
VEO_MAX_SECONDS = 148
#: How Veo takes a reference image of each role (VideoGenerationReferenceType): the set and a cast member are
#: assets that must appear; a style image sets the look.
_VEO_REFERENCE_TYPE = {"subject": "ASSET", "set": "ASSET", "style": "STYLE"}
_MAX_SEED = 2**31 - 1


def _exception_types(*candidates: object) -> tuple[type[BaseException], ...]:
    return tuple(c for c in candidates if isinstance(c, type) and issubclass(c, BaseException))


_TIMEOUTS = _exception_types(httpx.TimeoutException, getattr(httpx2, "TimeoutException", None),
                             requests.Timeout)
_UNREACHABLE = _exception_types(httpx.TransportError, getattr(httpx2, "TransportError", None),
                                requests.ConnectionError)


# ---------------------------------------------------------------------------------------------------------
# Shapes, seeds and clip lengths
# ---------------------------------------------------------------------------------------------------------


def nearest_aspect(width: int, height: int, choices: Sequence[str]) -> str:
    """The ``"w:h"`` in ``choices`` closest to width/height on a log scale (so 2:1 and 1:2 are equally far)."""
    target = math.log(width / height)

    def distance(choice: str) -> float:
        w, h = (float(x) for x in choice.split(":"))
        return abs(math.log(w / h) - target)

    return min(choices, key=distance)


def _seed(seed: int) -> int:
    """Imagen, Gemini and Veo take seeds in 1…2³¹−1; keep the user's seed where it fits, fold it where not."""
    return seed if 0 < seed <= _MAX_SEED else seed % _MAX_SEED + 1


def veo_duration(model: str, seconds: float) -> int:
    """The clip length Veo is asked for (and bills): the shortest it makes that covers ``seconds``.

    Longer than 8 s is refused rather than looped: a looped background shows its seam on screen. With a model
    that extends (Veo 2, 3.1) the pipeline makes a long shot as a chain of extensions instead.
    """
    allowed = VEO2_DURATIONS if "veo-2" in model else VEO3_DURATIONS
    for choice in allowed:
        if seconds <= choice + 1e-6:
            return choice
    raise EngineError(
        f"google {model}: a {seconds:g} s clip is longer than Veo makes (at most {allowed[-1]} s)",
        hint="split the shot, shorten it, use a Veo model that extends (veo-3.1-…) in [engines.google] "
             "video_model, or use a still set with a camera move",
    )


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------


def _api_error(exc: genai_errors.APIError, model: str) -> EngineError:
    """One SDK error to the soundstage error that says what to do about it."""
    code = exc.code
    said = one_line(f"{code} {exc.status or ''}: {exc.message or exc.details}".replace(" :", ":"))
    where = f"google {model}"
    wait = retry_after(getattr(exc.response, "headers", None))
    if code == 429:
        return EngineBusy(f"{where}: rate-limited ({said})", retry_after=wait,
                          hint="wait, or raise the Vertex AI quota for this model")
    if code >= 500 or code == 408:
        return EngineBusy(f"{where}: the service failed ({said})", retry_after=wait)
    if _POLICY_WORDS.search(str(exc.message or exc.details)):
        return EngineRefused(f"{where}: refused the prompt ({said})", hint="reword the prompt; resending will not help")
    if code in (401, 403):
        return EngineError(f"{where}: not allowed ({said})",
                           hint="check the API key or Application Default Credentials, and that Vertex AI is "
                                "enabled for the project")
    if code == 404:
        return EngineError(f"{where}: not found ({said})", hint="check the model names in [engines.google]")
    return EngineError(f"{where}: the request was rejected ({said})")


# ---------------------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------------------


class GoogleEngine:
    """Imagen for sets, Gemini image for sets that must match a reference, Veo for moving pictures."""

    class Options(HTTPOptions):
        """``[engines.google]``: which models, and which Google endpoint (Vertex AI or the Developer API)."""

        image_model: str = "imagen-4.0-fast-generate-001"
        edit_model: str = "gemini-2.5-flash-image"
        video_model: str = "veo-3.0-fast-generate-001"
        vertex: bool = True                 # Vertex AI (express mode with a key, or a project with ADC)
        audio: bool = True                  # Veo 3 makes a moving background's sound too (background.wav)
        project: str | None = None          # Vertex project: use Application Default Credentials
        location: str = "us-central1"       # Vertex region, with a project

    name: ClassVar[str] = "google"
    kinds: ClassVar[frozenset[AssetKind]] = frozenset({AssetKind.SET, AssetKind.BACKGROUND, AssetKind.ELEMENT})
    elements: ClassVar[frozenset[str] | None] = None    # any: the prompt says what
    sounds: frozenset[str] | None = frozenset()   # Veo's sound comes with a background, not alone
    takes_references: ClassVar[bool] = True
    source_type: ClassVar[SourceType] = SourceType.TRAINED_ALGORITHMIC

    def __init__(self, options: EngineOptions | None = None, *, root: Path | None = None) -> None:
        self.options = GoogleEngine.Options.checked(options)
        self.root = Path(root) if root is not None else Path.cwd()

    # -- what a request costs ------------------------------------------------------------------------------

    def _via_gemini(self, request: AssetRequest) -> bool:
        """Sets with references go to Gemini image; so do all sets on the Developer API, which has no Imagen."""
        return request.kind == AssetKind.SET and (bool(request.references) or not self.options.vertex)

    def _model(self, request: AssetRequest) -> str:
        opts = self.options
        if request.kind == AssetKind.SET:
            return opts.edit_model if self._via_gemini(request) else opts.image_model
        return opts.video_model

    def honours_for(self, kind: AssetKind) -> Honours:
        """Sets: Gemini image takes up to three references of any role. Veo, by model (Vertex AI model pages):
        every Veo starts from a first frame; Veo 2 and 3.1 end on a last frame and extend a clip; Veo 3.1
        takes asset references (the set, a cast member), Veo 2's experimental model style ones too."""
        if kind == AssetKind.SET:
            return Honours(frozenset({"references:subject", "references:style", "references:set"}),
                           max_references=MAX_REFERENCES)
        if kind not in self.kinds:
            return Honours()
        model = self.options.video_model
        uses = {"first_frame", "camera_hint"}
        if "veo-2" in model or "veo-3.1" in model:
            uses |= {"last_frame", "extend"}
        if "veo-3.1" in model or "veo-2.0-generate-exp" in model:
            uses |= {"references:subject", "references:set"}
        if "veo-2.0-generate-exp" in model:
            uses.add("references:style")
        if kind == AssetKind.ELEMENT:
            uses.discard("references:set")      # an element is made on black: the set must not appear in it
        extends = "extend" in uses
        longest = (VEO2_DURATIONS if "veo-2" in model else VEO3_DURATIONS)[-1]
        return Honours(frozenset(uses), max_references=MAX_REFERENCES,
                       extend_seconds=VEO_EXTEND_SECONDS if extends else 0.0,
                       max_seconds=VEO_MAX_SECONDS if extends else 0.0, max_clip=longest)

    def quote(self, request: AssetRequest) -> Quote:
        """Images: one image. Veo: the seconds of clip it is asked for, the request rounded up (veo_duration);
        an extension, the seconds it adds."""
        model = self._check(request)
        if request.kind == AssetKind.SET:
            return Quote(self.name, model, "image", 1.0)
        if request.extend is not None:
            return Quote(self.name, model, "video_second", float(VEO_EXTEND_SECONDS))
        return Quote(self.name, model, "video_second", float(veo_duration(model, shot_duration(request))))

    def _check(self, request: AssetRequest) -> str:
        if request.kind not in self.kinds:
            raise EngineError(f"google engine cannot make a {request.kind}")
        if request.width <= 0 or request.height <= 0:
            raise EngineError(f"google engine: a {request.width}×{request.height} frame has no pixels")
        model = self._model(request)
        if request.kind != AssetKind.SET:
            if not self.options.vertex:
                raise EngineError(
                    f"google {model}: Veo is offered only through Vertex AI in google-genai {SDK_VERSION}",
                    hint="set [engines.google] vertex = true (express mode with GOOGLE_API_KEY, or a project)",
                )
            if shot_duration(request) <= 0 or shot_fps(request) <= 0:
                raise EngineError(f"google {model}: a moving request needs a positive duration and fps")
            if request.extend is None:
                veo_duration(model, shot_duration(request))
            elif shot_duration(request) > VEO_MAX_SECONDS + 1e-6:
                raise EngineError(f"google {model}: a {shot_duration(request):g} s clip is longer than Veo extends "
                                  f"(at most {VEO_MAX_SECONDS} s)", hint="split the shot, or shorten it")
        refused, _ = dropped(request, self.honours_for(request.kind))
        if refused:
            raise EngineError(f"google {model} cannot take {', '.join(refused)} for a {request.kind.value}",
                              hint="choose a model that does in [engines.google], or another engine")
        return model

    # -- making it -----------------------------------------------------------------------------------------

    def generate(self, request: AssetRequest, out_dir: Path) -> Generated:
        model = self._check(request)
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        client, auth = self._client(model)
        try:
            if self._via_gemini(request):
                files, params, version = self._gemini_set(client, model, request, out_dir)
            elif request.kind == AssetKind.SET:
                files, params, version = self._imagen_set(client, model, request, out_dir)
            else:
                files, params, version = self._veo(client, model, request, out_dir)
        finally:
            client.close()
        params.update(auth=auth, endpoint=self.options.base_url or "google default", vertex=self.options.vertex,
                      sdk=f"google-genai {SDK_VERSION}", width=request.width, height=request.height,
                      seed=request.seed, seed_sent=_seed(request.seed))
        quantity = float(params.get("billed_seconds", 1.0))
        seconds = time.perf_counter() - start
        return Generated(
            files=files,
            engine=self.name,
            model=model,
            version=f"{version or model} (google-genai {SDK_VERSION})",
            source_type=self.source_type,
            parameters=params,
            unit="image" if request.kind == AssetKind.SET else "video_second",
            quantity=quantity,
            seconds=seconds,
        )

    def _client(self, model: str) -> tuple[genai.Client, str]:
        """A client for this call: Vertex express mode, Vertex with ADC, or the Developer API."""
        opts = self.options
        http = types.HttpOptions(
            base_url=opts.base_url,
            timeout=max(1, round(opts.timeout * 1000)),                  # the SDK counts milliseconds
            retry_options=types.HttpRetryOptions(attempts=1),            # retries are ours, and counted
        )
        if opts.vertex and opts.project:
            client = genai.Client(vertexai=True, project=opts.project, location=opts.location, http_options=http)
            return client, f"vertex project {opts.project} ({opts.location}), application default credentials"
        found = next(((name, os.environ[name].strip()) for name in KEY_VARIABLES
                      if os.environ.get(name, "").strip()), None)
        if found is None:
            mode = "Vertex AI express mode" if opts.vertex else "the Gemini Developer API"
            raise EngineError(
                f"google {model}: GOOGLE_API_KEY is not set (nor GEMINI_API_KEY), and {mode} needs an API key",
                hint="export GOOGLE_API_KEY=…, or set [engines.google] project to use Application Default "
                     "Credentials",
            )
        variable, key = found
        client = genai.Client(vertexai=opts.vertex, api_key=key, http_options=http)
        mode = "vertex express mode" if opts.vertex else "gemini developer api"
        return client, f"{mode}, key from {variable}"

    def _call(self, model: str, call: Callable[[], T]) -> T:
        """One SDK call under our retries, its failures turned into soundstage errors."""

        def once() -> T:
            try:
                with warnings.catch_warnings():
                    # generate_images is deprecated in favour of generate_content, with removal not before 2027.
                    warnings.filterwarnings("ignore", message="The generate_images method is deprecated")
                    return call()
            except genai_errors.APIError as exc:
                raise _api_error(exc, model) from exc
            except _TIMEOUTS as exc:
                raise EngineTimeout(f"google {model}: no answer within {self.options.timeout:g} s",
                                    hint="raise [engines.google] timeout, or try again later") from exc
            except _UNREACHABLE as exc:
                raise EngineBusy(f"google {model}: could not reach the service ({one_line(exc, 160)})",
                                 hint="check the network and [engines.google] base_url") from exc
            except google.auth.exceptions.DefaultCredentialsError as exc:
                raise EngineError(
                    f"google {model}: no Application Default Credentials for project {self.options.project} "
                    f"({one_line(exc, 160)})",
                    hint="run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS; "
                         "or drop [engines.google] project and use GOOGLE_API_KEY (express mode)",
                ) from exc
            except google.auth.exceptions.TransportError as exc:
                raise EngineBusy(f"google {model}: could not reach Google to refresh credentials "
                                 f"({one_line(exc, 160)})") from exc
            except google.auth.exceptions.GoogleAuthError as exc:
                raise EngineError(f"google {model}: credentials were refused ({one_line(exc, 160)})",
                                  hint="run `gcloud auth application-default login` again") from exc
            except ValueError as exc:   # JSON that does not parse, or does not fit the SDK's types
                raise EngineReplyError(
                    f"google {model}: the reply is not what the API promises ({one_line(exc)})") from exc

        return with_retries(once, retries=self.options.retries, backoff=self.options.backoff)

    # -- Imagen ----------------------------------------------------------------------------------------------

    def _imagen_set(self, client: genai.Client, model: str, request: AssetRequest,
                    out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any], str | None]:
        aspect = nearest_aspect(request.width, request.height, IMAGEN_ASPECTS)
        negative = request.negative_prompt or None
        takes_negative = model.startswith(_NEGATIVE_PROMPT_IMAGEN)
        config = types.GenerateImagesConfig(
            number_of_images=1,
            aspect_ratio=aspect,
            seed=_seed(request.seed),
            negative_prompt=negative if takes_negative else None,
            output_mime_type="image/png",
            add_watermark=False,            # Imagen ignores the seed while it watermarks
            include_rai_reason=True,        # so a filtered image says why
        )
        reply = self._call(model, lambda: client.models.generate_images(model=model, prompt=request.full_prompt,
                                                                         config=config))
        images = reply.generated_images or []
        if not images:
            raise EngineReplyError(f"google {model}: the reply holds no image",
                                   hint="Imagen sends nothing when its safety filter drops every image; reword")
        first = images[0]
        data = first.image.image_bytes if first.image is not None else None
        if not data:
            if first.rai_filtered_reason:
                raise EngineRefused(f"google {model}: refused the prompt ({one_line(first.rai_filtered_reason)})",
                                    hint="reword the prompt; resending will not help")
            raise EngineReplyError(f"google {model}: the reply holds an image entry with no bytes")
        pixels = decode_image(data, f"google {model}: the returned picture")
        params: dict[str, Any] = {
            "model_family": "imagen",
            "prompt": request.full_prompt,
            "negative_prompt": request.negative_prompt if takes_negative else None,
            "negative_prompt_dropped": bool(negative) and not takes_negative,
            "aspect_ratio": aspect,
            "number_of_images": 1,
            "add_watermark": False,
            "output_mime_type": "image/png",
            "enhanced_prompt": first.enhanced_prompt,
        }
        return self._write_set(pixels, request, out_dir, params, data), params, None

    # -- Gemini image ----------------------------------------------------------------------------------------

    def _gemini_set(self, client: genai.Client, model: str, request: AssetRequest,
                    out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any], str | None]:
        chosen = kept_references(request, self.honours_for(request.kind))
        references = [self._reference(r.path, model) for r in chosen]
        prompt = request.full_prompt
        if references and all(r.role == "set" for r in chosen):
            prompt += "\n" + _CONTINUITY.format(s="s" if len(references) > 1 else "")
        elif references:   # several roles: each image is named by its place and said what it is for
            prompt += "\n" + reference_words(chosen)
        if request.negative_prompt:
            prompt += f"\nAvoid: {request.negative_prompt}"
        aspect = nearest_aspect(request.width, request.height, GEMINI_ASPECTS)
        contents: list[Any] = [prompt, *(types.Part.from_bytes(data=data, mime_type=mime)
                                         for _, data, mime in references)]
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            seed=_seed(request.seed),
            image_config=types.ImageConfig(aspect_ratio=aspect),
        )
        reply = self._call(model, lambda: client.models.generate_content(model=model, contents=contents,
                                                                          config=config))
        data = _gemini_image(reply, model)
        pixels = decode_image(data, f"google {model}: the returned picture")
        params: dict[str, Any] = {
            "model_family": "gemini-image",
            "prompt": prompt,
            "negative_prompt": request.negative_prompt or None,
            "aspect_ratio": aspect,
            "response_modalities": ["IMAGE"],
            "references": [
                {"path": str(path), "sha256": hashlib.sha256(data).hexdigest(), "mime_type": mime, "role": r.role}
                for (path, data, mime), r in zip(references, chosen, strict=True)
            ],
            "references_dropped": [str(r.path) for r in request.references if r not in chosen],
            "model_version": reply.model_version,
            "response_id": reply.response_id,
        }
        return self._write_set(pixels, request, out_dir, params, data), params, reply.model_version

    def _reference(self, path: Path, model: str) -> tuple[Path, bytes, str]:
        full = path if path.is_absolute() else self.root / path
        try:
            data = full.read_bytes()
        except OSError as exc:
            raise EngineError(f"google {model}: cannot read reference image ({exc.strerror})", path=full) from None
        mime = mimetypes.guess_type(full.name)[0]
        if mime not in ("image/png", "image/jpeg", "image/webp"):
            ok, encoded = cv2.imencode(".png", cv2.cvtColor(_decode_reference(data, full), cv2.COLOR_RGB2BGR))
            if not ok:
                raise EngineError(f"google {model}: cannot re-encode reference image as PNG", path=full)
            data, mime = encoded.tobytes(), "image/png"
        return full, data, mime

    def _image(self, path: Path, model: str) -> types.Image:
        """A frame or reference as Veo takes it: its bytes inline, PNG/JPEG/WebP as they are."""
        _, data, mime = self._reference(path, model)
        return types.Image(image_bytes=data, mime_type=mime)

    def _video(self, path: Path, model: str) -> types.Video:
        """The clip to extend, its bytes inline."""
        full = path if path.is_absolute() else self.root / path
        try:
            return types.Video(video_bytes=full.read_bytes(), mime_type="video/mp4")
        except OSError as exc:
            raise EngineError(f"google {model}: cannot read the clip to extend ({exc.strerror})", path=full) from None

    def _sent(self, request: AssetRequest, chosen: tuple[Reference, ...]) -> dict[str, Any]:
        """What steered the job, by file and digest, for the take's record."""
        def digest(path: Path | None) -> dict[str, str] | None:
            if path is None:
                return None
            full = path if path.is_absolute() else self.root / path
            return {"path": str(full), "sha256": hashlib.sha256(full.read_bytes()).hexdigest()}

        return {"first_frame": digest(request.first_frame), "last_frame": digest(request.last_frame),
                "extend": digest(request.extend), "camera_hint": request.camera_hint,
                "references": [{**(digest(r.path) or {}), "role": r.role,
                                "reference_type": _VEO_REFERENCE_TYPE[r.role]} for r in chosen]}

    # -- stills out ------------------------------------------------------------------------------------------

    @staticmethod
    def _write_set(pixels: np.ndarray, request: AssetRequest, out_dir: Path, params: dict[str, Any],
                   source: bytes) -> tuple[Path, ...]:
        if pixels.shape[2] == 4:
            params["alpha_dropped"] = has_alpha(pixels)
            pixels = np.ascontiguousarray(pixels[..., :3])
        src_h, src_w = pixels.shape[:2]
        target = out_dir / "set.png"
        write_png(target, fit_to_frame(pixels, request.width, request.height))
        params.update(source_size=[src_w, src_h], source_sha256=hashlib.sha256(source).hexdigest(),
                      resized=resize_record(src_w, src_h, request.width, request.height))
        return (target,)

    # -- Veo -------------------------------------------------------------------------------------------------

    def _veo(self, client: genai.Client, model: str, request: AssetRequest,
             out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any], str | None]:
        opts = self.options
        seconds = VEO_EXTEND_SECONDS if request.extend else veo_duration(model, shot_duration(request))
        aspect = nearest_aspect(request.width, request.height, VEO_ASPECTS)
        veo3 = "veo-2" not in model
        resolution = ("1080p" if max(request.width, request.height) > 1280 else "720p") if veo3 else None
        element = request.kind == AssetKind.ELEMENT
        # A background's sound comes with it (the place as the camera hears it); an element's would be the
        # sound of a thing on black, so elements stay silent and get their sound from a sound engine.
        audio = (opts.audio and not element) if veo3 else None
        if element:
            prompt = f"{request.element} element: {request.prompt}. " if request.element else f"{request.prompt}. "
            if request.screen is None:      # a cast member's prompt asks for its chroma screen itself
                prompt += _ELEMENT_SUFFIX
            negative = ", ".join(filter(None, [request.negative_prompt,
                                               _ELEMENT_NEGATIVE if request.screen is None else ""]))
        else:
            prompt, negative = request.full_prompt, request.negative_prompt
        if request.camera_hint:
            prompt += f" Camera: {request.camera_hint}."
        chosen = kept_references(request, self.honours_for(request.kind))
        config = types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=seconds,
            aspect_ratio=aspect,
            seed=_seed(request.seed),
            negative_prompt=negative or None,
            resolution=resolution,
            generate_audio=audio,
            last_frame=self._image(request.last_frame, model) if request.last_frame else None,
            reference_images=[types.VideoGenerationReferenceImage(
                image=self._image(r.path, model), reference_type=_VEO_REFERENCE_TYPE[r.role])
                for r in chosen] or None,
        )
        source = types.GenerateVideosSource(
            prompt=prompt,
            image=self._image(request.first_frame, model) if request.first_frame else None,
            video=self._video(request.extend, model) if request.extend else None,
        )
        operation = self._call(model, lambda: client.models.generate_videos(model=model, source=source,
                                                                             config=config))
        name = operation.name
        if not name:
            raise EngineReplyError(f"google {model}: the reply started no operation (no operation name)")
        deadline = time.monotonic() + opts.timeout
        polls = 0
        while not operation.done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EngineTimeout(
                    f"google {model}: video job {name} did not finish within {opts.timeout:g} s "
                    f"({polls} polls)",
                    hint="it may still finish and be billed: look it up by that name "
                         "(client.operations.get), or raise [engines.google] timeout",
                )
            time.sleep(min(opts.poll_interval, remaining))
            operation = self._call(model, functools.partial(client.operations.get, operation))
            polls += 1
        data = _veo_video(operation, model, name)
        params: dict[str, Any] = {
            "model_family": "veo",
            "prompt": prompt,
            "negative_prompt": negative or None,
            "aspect_ratio": aspect,
            "resolution": resolution,
            "duration_seconds": seconds,
            "billed_seconds": seconds,
            "generate_audio": audio,
            "number_of_videos": 1,
            "operation": name,
            "polls": polls,
            "source_sha256": hashlib.sha256(data).hexdigest(),
            "conditioning": self._sent(request, chosen),
        }
        files = self._write_moving(data, request, out_dir, params, model)
        return files, params, None

    def _write_moving(self, data: bytes, request: AssetRequest, out_dir: Path, params: dict[str, Any],
                      model: str) -> tuple[Path, ...]:
        """Veo's mp4 to the request: resampled to its fps, trimmed to its length, cropped to its frame."""
        fps, count = shot_fps(request), frame_count(request)
        fd, name = tempfile.mkstemp(prefix=".veo-", suffix=".mp4", dir=out_dir)
        source = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            try:
                info = probe(source)
            except MediaError as exc:
                raise EngineReplyError(
                    f"google {model}: the video in the reply does not decode ({exc.message})") from None
            src_fps = float(info.fps)
            total = info.frames or _count_frames(source, model)
            if total < 1 or src_fps <= 0:
                raise EngineReplyError(f"google {model}: the video in the reply has no frames or no frame rate")
            indices, timing = retime(total, src_fps, count, fps)
            params.update(
                frames=count, fps=fps, duration=count / fps,
                source_size=[info.width, info.height], source_fps=src_fps, source_frames=total, timing=timing,
                resized=resize_record(info.width, info.height, request.width, request.height),
            )
            frames = (fit_to_frame(f, request.width, request.height) for f in _pick_frames(source, indices, model))
            if request.kind == AssetKind.BACKGROUND:
                target = out_dir / "background.mp4"
                with VideoWriter(target, width=request.width, height=request.height, fps=fps) as writer:
                    for frame in frames:
                        writer.write(frame)
                if not params.get("generate_audio"):
                    return (target,)
                if not has_sound(source):
                    params["sound"] = None          # asked for, not sent: the take says so, the shot is silent
                    return (target,)
                sound = out_dir / "background.wav"
                params["sound"] = fit_sound(source, sound, count / fps, f"google {model}")
                return target, sound
            files = []
            alpha = "luminance"
            for i, frame in enumerate(frames):
                path = out_dir / (ELEMENT_PATTERN % i)
                pixels, alpha = element_pixels(frame, request, "luminance")
                write_png(path, pixels)
                files.append(path)
            params.update(alpha=alpha, pattern=ELEMENT_PATTERN, element=request.element)
            if request.screen is None:
                params.update(alpha_rule="alpha = max(R, G, B); colour unpremultiplied")
            return tuple(files)
        finally:
            source.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------------------
# Replies
# ---------------------------------------------------------------------------------------------------------


def _gemini_image(reply: types.GenerateContentResponse, model: str) -> bytes:
    """The first inline image in a Gemini reply; a safety stop is a refusal, anything else a bad reply."""
    feedback = reply.prompt_feedback
    block = getattr(feedback, "block_reason", None) if feedback is not None else None
    if block is not None and _reason(block) != "BLOCKED_REASON_UNSPECIFIED":
        said = getattr(feedback, "block_reason_message", None) or _reason(block)
        raise EngineRefused(f"google {model}: refused the prompt ({one_line(said)})",
                            hint="reword the prompt; resending will not help")
    texts: list[str] = []
    reasons: list[str] = []
    for candidate in reply.candidates or []:
        parts = candidate.content.parts if candidate.content is not None else None
        for part in parts or []:
            blob = part.inline_data
            if blob is not None and blob.data and (blob.mime_type or "image/").startswith("image/"):
                return blob.data
            if part.text:
                texts.append(part.text)
        if candidate.finish_reason is not None:
            reasons.append(_reason(candidate.finish_reason))
    refused = [r for r in reasons if r in _REFUSAL_REASONS]
    if refused:
        said = "; ".join(refused + texts)
        raise EngineRefused(f"google {model}: refused to draw it ({one_line(said)})",
                            hint="reword the prompt or change the reference; resending will not help")
    detail = "; ".join([*(f"finish reason {r}" for r in reasons), *texts]) or "no candidates"
    raise EngineReplyError(f"google {model}: the reply holds no image ({one_line(detail)})")


def _veo_video(operation: types.GenerateVideosOperation, model: str, name: str) -> bytes:
    """The mp4 bytes of a finished Veo job, or the error that says why there are none."""
    if operation.error:
        code = operation.error.get("code")
        message = one_line(operation.error.get("message") or operation.error)
        if _POLICY_WORDS.search(message):
            raise EngineRefused(f"google {model}: video job {name} was refused ({message})",
                                hint="reword the prompt; resending will not help")
        if code in _BUSY_RPC_CODES:
            raise EngineBusy(f"google {model}: video job {name} failed ({code}: {message})")
        raise EngineError(f"google {model}: video job {name} failed ({code}: {message})")
    result = operation.result or operation.response
    if result is None:
        raise EngineReplyError(f"google {model}: video job {name} finished with neither a video nor an error")
    videos = [v.video for v in result.generated_videos or [] if v.video is not None]
    if not videos:
        if result.rai_media_filtered_count:
            reasons = "; ".join(result.rai_media_filtered_reasons or []) or "no reason given"
            raise EngineRefused(f"google {model}: video job {name} was filtered ({one_line(reasons)})",
                                hint="reword the prompt; resending will not help")
        raise EngineReplyError(f"google {model}: video job {name} finished with no video")
    video = videos[0]
    if not video.video_bytes:
        where = f" (only a storage URI: {video.uri})" if video.uri else ""
        raise EngineReplyError(f"google {model}: video job {name} returned no video bytes{where}")
    return video.video_bytes


def _reason(value: object) -> str:
    return str(getattr(value, "value", value))


# ---------------------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------------------


def _decode_reference(data: bytes, path: Path) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise EngineError("reference is not a readable image", path=path)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _count_frames(path: Path, model: str) -> int:
    """Frames in a video whose container does not say: decode and count."""
    try:
        return sum(1 for _ in read_frames(path))
    except MediaError as exc:
        raise EngineReplyError(f"google {model}: the video in the reply does not decode ({exc.message})") from None


def _pick_frames(path: Path, indices: Sequence[int], model: str) -> Iterator[np.ndarray]:
    """The source frames at ``indices`` (ascending, except where a loop wraps), one decoding pass per loop, so
    memory holds one frame whatever the clip's length."""
    frames: Iterator[np.ndarray] = iter(())
    position = 0            # index of the next frame ``frames`` will give
    current: np.ndarray | None = None
    try:
        for want in indices:
            if current is None or want < position - 1:
                close = getattr(frames, "close", None)
                if close is not None:
                    close()
                frames, position = read_frames(path), 0
            while position <= want:
                nxt = next(frames, None)
                if nxt is None:     # the container promised more frames than it holds: hold the last one
                    break
                current, position = nxt, position + 1
            if current is None:
                raise EngineReplyError(f"google {model}: the video in the reply holds no frames")
            yield current
    except MediaError as exc:
        raise EngineReplyError(f"google {model}: the video in the reply does not decode ({exc.message})") from None
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()
