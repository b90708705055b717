"""OpenAI's GPT Image models through the official ``openai`` SDK.

- A SET is painted by ``images.generate``; when the request carries references (the location's established
  set, for continuity) it goes to ``images.edit`` with those images instead, so the new frame keeps the place.
- An ELEMENT is asked for on a transparent background, so its alpha is the model's own, not keyed; the one
  still is held for the element's length (round(duration · fps) identical frames).
- Moving BACKGROUNDs are not made here: the images API has no video.

The default model is ``gpt-image-2.5-sunburst``. openai-python 3.57 documents that ``gpt-image-1`` was shut
down on 2026-10-23 (and DALL·E 2 and 3 retired on 2026-05-12), naming Sunburst first of its two replacements;
Sunburst is also the line the SDK's own image-generation tool defaults to (``gpt-image-2.6-sunburst``, for which
the images API documents neither free sizes nor the top qualities yet). ``gpt-image-2.5-flare`` is the other
replacement. A project that still names a retired model is told what to use before anything is sent.

GPT Image 2 and 2.5 take any size (sides multiples of 16, shape 1:3 to 3:1): the engine asks for the request's
own shape, so the picture needs a crop of a few pixels at most, and a resize only for frames under a megapixel
or over 2560×1440. Other GPT Image models make three fixed sizes, and the engine asks for the one nearest the
request's shape. Either way the picture is then centre-cropped and
resized to the exact request (:mod:`soundstage.engines.frames`), and the take records both sizes.

**The API takes no seed**: the same request gives another picture each time. A take records ``seed: null`` and
``deterministic: false``, and sending it again makes a new take, never a reproduction of the old one; the pixels
in the store are the only copy.

The key comes from ``OPENAI_API_KEY`` only. The SDK's own retries are switched off (``max_retries=0``) so that
rate limits and server errors are retried by :func:`soundstage.engines.retry.with_retries`, counted once and
reported once.

Public: :class:`OpenAIEngine`, :func:`api_size`, :func:`retirement`, :data:`SIZES`, :data:`FREE_SIZE_MODELS`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import openai

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
    kept_references,
)
from soundstage.engines.frames import (
    ELEMENT_PATTERN,
    decode_image,
    element_pixels,
    fit_to_frame,
    frame_count,
    has_alpha,
    hold_still,
    one_line,
    reference_words,
    resize_record,
    retry_after,
    shot_duration,
    shot_fps,
)
from soundstage.engines.retry import with_retries
from soundstage.errors import EngineBusy, EngineError, EngineRefused, EngineReplyError, EngineTimeout
from soundstage.media import write_png

SDK_VERSION: str = openai.__version__
KEY_VARIABLE = "OPENAI_API_KEY"
DEFAULT_MODEL = "gpt-image-2.5-sunburst"

#: Models the service no longer runs, as openai-python 3.57 documents them, and what to use instead.
RETIRED: dict[str, str] = {
    "gpt-image-1": f"was shut down on 2026-10-23; use {DEFAULT_MODEL} (or gpt-image-2.5-flare)",
    "dall-e-3": f"was retired on 2026-05-12; use a GPT Image model such as {DEFAULT_MODEL}",
    "dall-e-2": f"was retired on 2026-05-12; use a GPT Image model such as {DEFAULT_MODEL}",
}

#: The sizes every GPT Image model makes, (width, height).
SIZES: tuple[tuple[int, int], ...] = ((1024, 1024), (1536, 1024), (1024, 1536))
#: Models that take any ``WIDTHxHEIGHT`` (the SDK's list), within the limits below.
FREE_SIZE_MODELS = frozenset({
    "gpt-image-2", "gpt-image-2-2026-04-21",
    "gpt-image-2.5-sunburst", "gpt-image-2.5-sunburst-2026-09-08",
    "gpt-image-2.5-flare", "gpt-image-2.5-flare-2026-09-08",
})
SIZE_STEP = 16                 # both sides divisible by 16
MAX_ASPECT = 3.0               # between 1:3 and 3:1
MAX_SIZE = (2560, 1440)        # larger is experimental (up to 3840×2160): ask for this and resize up
MIN_PIXELS = 1024 * 1024       # the smallest standard size; the SDK states no lower limit, so never ask for less

#: Error codes with which the images API refuses a prompt (400). Sending the same words again will not help.
REFUSAL_CODES = frozenset({"content_policy_violation", "moderation_blocked"})
#: 429 codes that are not a rate limit but an empty account: waiting will not help either.
_NO_QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})

MAX_REFERENCES = 16      # images.edit takes at most 16 input images

#: "xhigh" and "max" are offered by GPT Image 2.5 (Sunburst and Flare); the other models stop at "high".
Quality = Literal["low", "medium", "high", "xhigh", "max", "auto"]


def retirement(model: str) -> str | None:
    """Why the service no longer runs ``model`` and what to use instead, or None while it does."""
    return RETIRED.get(model) or (RETIRED.get(model[:8]) if model.startswith("dall-e-") else None)


def api_size(model: str, width: int, height: int) -> tuple[int, int]:
    """The size to ask ``model`` for, to be centre-cropped and resized to width × height afterwards.

    Free-size models (:data:`FREE_SIZE_MODELS`): the request's own shape (held within 1:3 to 3:1), at its own
    size when that lies between MIN_PIXELS and MAX_SIZE, else scaled into them; sides rounded up to
    multiples of 16, or down where up would leave MAX_SIZE. Other GPT Image models: the standard size
    nearest the request's shape on a log scale, the larger on a tie.
    """
    if model not in FREE_SIZE_MODELS:
        target = math.log(width / height)
        return min(SIZES, key=lambda s: (abs(math.log(s[0] / s[1]) - target), -s[0] * s[1]))
    aspect = min(max(width / height, 1 / MAX_ASPECT), MAX_ASPECT)
    w, h = math.sqrt(width * height * aspect), math.sqrt(width * height / aspect)
    long_cap, short_cap = MAX_SIZE
    within = min(long_cap / max(w, h), short_cap / min(w, h))
    scale = within if within < 1 else max(1.0, math.sqrt(MIN_PIXELS / (w * h)))
    w, h = w * scale, h * scale
    caps = (long_cap, short_cap) if w >= h else (short_cap, long_cap)
    return _step(w, caps[0]), _step(h, caps[1])


def _step(side: float, cap: int) -> int:
    up = math.ceil(side / SIZE_STEP - 1e-9) * SIZE_STEP
    return up if up <= cap else math.floor(side / SIZE_STEP + 1e-9) * SIZE_STEP


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------


def _said(exc: openai.APIError) -> str:
    """The service's own message, not the SDK's 'Error code: …' wrapper."""
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    return one_line(message or exc.message)


def _api_error(exc: openai.APIError, model: str, timeout: float) -> EngineError:
    """One SDK exception to the soundstage error that says what to do about it."""
    where = f"openai {model}"
    if isinstance(exc, openai.APITimeoutError):
        return EngineTimeout(f"{where}: no answer within {timeout:g} s",
                             hint="raise [engines.openai] timeout, or try again later")
    if isinstance(exc, openai.APIConnectionError):
        return EngineBusy(f"{where}: could not reach the service ({one_line(exc.__cause__ or exc, 160)})",
                          hint="check the network and [engines.openai] base_url")
    if isinstance(exc, openai.APIStatusError):
        status, code, said = exc.status_code, exc.code, _said(exc)
        if status == 429 and code in _NO_QUOTA_CODES:
            return EngineError(f"{where}: the account has no quota left ({said})",
                               hint="check the plan and billing at platform.openai.com")
        if status == 429:
            return EngineBusy(f"{where}: rate-limited ({said})", retry_after=retry_after(exc.response.headers),
                              hint="wait, or raise the organisation's rate limits")
        if status >= 500 or status == 408:
            return EngineBusy(f"{where}: the service failed ({status}: {said})",
                              retry_after=retry_after(exc.response.headers))
        if code in REFUSAL_CODES:
            return EngineRefused(f"{where}: refused the prompt ({code}: {said})",
                                 hint="reword the prompt; sending it again will not help")
        if status in (401, 403):
            return EngineError(f"{where}: not allowed ({status}: {said})",
                               hint=f"check {KEY_VARIABLE}, and that the organisation may use this model")
        if status == 404:
            return EngineError(f"{where}: not found ({said})", hint="check [engines.openai] model")
        return EngineError(f"{where}: the request was rejected ({status}{f' {code}' if code else ''}: {said})")
    # APIResponseValidationError and other APIErrors: the reply did not fit the API's own types.
    return EngineReplyError(f"{where}: the reply is not what the API promises ({one_line(exc.message)})")


# ---------------------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------------------


class OpenAIEngine:
    """GPT Image stills: sets (continuity through images.edit) and elements with the model's own alpha."""

    class Options(HTTPOptions):
        """``[engines.openai]``: which model at which quality; base_url is the SDK's (…/v1)."""

        model: str = DEFAULT_MODEL
        quality: Quality = "high"

    name: ClassVar[str] = "openai"
    kinds: ClassVar[frozenset[AssetKind]] = frozenset({AssetKind.SET, AssetKind.ELEMENT})
    elements: ClassVar[frozenset[str] | None] = None    # any: the prompt says what
    sounds: frozenset[str] | None = frozenset()   # no sound of its own (AssetKind.SOUND)
    takes_references: ClassVar[bool] = True
    source_type: ClassVar[SourceType] = SourceType.TRAINED_ALGORITHMIC

    def __init__(self, options: EngineOptions | None = None, *, root: Path | None = None) -> None:
        self.options = OpenAIEngine.Options.checked(options)
        self.root = Path(root) if root is not None else Path.cwd()

    @property
    def model(self) -> str:
        return self.options.model

    def honours_for(self, kind: AssetKind) -> Honours:
        """Stills only: references of every role through images.edit (up to 16); no frames, no extension."""
        if kind not in self.kinds:
            return Honours()
        return Honours(frozenset({"references:subject", "references:style", "references:set"}),
                       max_references=MAX_REFERENCES)

    # -- what a request costs ------------------------------------------------------------------------------

    def quote(self, request: AssetRequest) -> Quote:
        """One image, whatever the kind: an element's frames are the same still, held."""
        self._check(request)
        return Quote(self.name, self.model, "image", 1.0)

    def _check(self, request: AssetRequest) -> None:
        model = self.model
        if request.kind == AssetKind.BACKGROUND:
            raise EngineError(f"openai {model}: the images API makes stills, not a moving background",
                              hint="use the google engine (Veo) or diffusers for backgrounds, or a still set")
        if request.kind not in self.kinds:
            raise EngineError(f"openai engine cannot make a {request.kind}")
        if request.width <= 0 or request.height <= 0:
            raise EngineError(f"openai {model}: a {request.width}×{request.height} frame has no pixels")
        retired = retirement(model)
        if retired:
            raise EngineError(f"openai {model}: the model {retired}",
                              hint="set [engines.openai] model, or remove it to use the default")
        if request.kind == AssetKind.ELEMENT and (shot_duration(request) <= 0 or shot_fps(request) <= 0):
            raise EngineError(f"openai {model}: an element needs a positive duration and fps")
        refused, _ = dropped(request, self.honours_for(request.kind))
        if refused:
            raise EngineError(f"openai {model} cannot take {', '.join(refused)}",
                              hint="the images API paints stills from words and references; use the google engine")

    # -- making it -----------------------------------------------------------------------------------------

    def generate(self, request: AssetRequest, out_dir: Path) -> Generated:
        self._check(request)
        out_dir = Path(out_dir)
        start = time.perf_counter()
        client = self._client()
        try:
            pixels, params = self._paint(client, request)
        finally:
            client.close()
        if request.kind == AssetKind.SET:
            files, shaped = self._write_set(pixels, request, out_dir)
        else:
            files, shaped = self._write_element(pixels, request, out_dir)
        params.update(shaped)
        params.update(width=request.width, height=request.height, seed=None, deterministic=False,
                      sdk=f"openai-python {SDK_VERSION}")
        return Generated(
            files=files,
            engine=self.name,
            model=self.model,
            version=f"{self.model} (openai-python {SDK_VERSION})",
            source_type=self.source_type,
            parameters=params,
            unit="image",
            quantity=1.0,
            seconds=time.perf_counter() - start,
        )

    def _client(self) -> openai.OpenAI:
        key = os.environ.get(KEY_VARIABLE, "").strip()
        if not key:
            raise EngineError(f"openai {self.model}: {KEY_VARIABLE} is not set",
                              hint=f"export {KEY_VARIABLE}=…; soundstage reads keys from the environment only")
        opts = self.options
        extra: dict[str, Any] = {"base_url": opts.base_url} if opts.base_url else {}
        return openai.OpenAI(api_key=key, timeout=opts.timeout, max_retries=0, **extra)

    def _arguments(self, request: AssetRequest) -> dict[str, Any]:
        """What is sent, besides the images: the same for generate and edit."""
        width, height = api_size(self.model, request.width, request.height)
        args: dict[str, Any] = {"model": self.model, "prompt": request.full_prompt, "n": 1,
                                "size": f"{width}x{height}", "quality": self.options.quality, "output_format": "png"}
        if request.kind == AssetKind.ELEMENT and request.screen is None:   # a cast member stays on its screen
            args["background"] = "transparent"
        return args

    def _paint(self, client: openai.OpenAI, request: AssetRequest) -> tuple[np.ndarray, dict[str, Any]]:
        """One call (generate, or edit with the references), retried on 429/5xx; the decoded pixels back."""
        model = self.model
        args = self._arguments(request)
        params: dict[str, Any] = dict(args)
        if request.negative_prompt:
            params["negative_prompt"] = {"text": request.negative_prompt,
                                         "sent": False, "why": "the images API takes no negative prompt"}
        used = kept_references(request, self.honours_for(request.kind))
        call: Callable[[], Any]
        if used:
            images = [self._reference(r.path) for r in used]
            if any(r.role != "set" for r in used):      # say what each image is for, in the order they go
                args = {**args, "prompt": f"{args['prompt']}\n{reference_words(used)}"}
                params["prompt"] = args["prompt"]
            params["endpoint"] = "images.edit"
            params["references"] = [Path(r.path).name for r in used]
            params["reference_roles"] = [r.role for r in used]
            if len(request.references) > len(used):
                params["references_dropped"] = [Path(r.path).name for r in request.references if r not in used]

            def call() -> Any:
                return client.images.with_raw_response.edit(image=images, **args)
        else:
            params["endpoint"] = "images.generate"

            def call() -> Any:
                return client.images.with_raw_response.generate(**args)

        def once() -> Any:
            try:
                raw = call()
                return raw, raw.parse()
            except openai.APIError as exc:
                raise _api_error(exc, model, self.options.timeout) from exc
            except json.JSONDecodeError as exc:
                raise EngineReplyError(f"openai {model}: the reply is not JSON ({one_line(exc, 160)})") from exc
            except ValueError as exc:      # JSON that does not fit the SDK's types
                raise EngineReplyError(f"openai {model}: the reply is not what the API promises "
                                       f"({one_line(exc, 160)})") from exc

        raw, reply = with_retries(once, retries=self.options.retries, backoff=self.options.backoff)
        data = self._image_bytes(reply)
        pixels = decode_image(data, f"openai {model}: the returned picture")
        params.update(_reply_facts(reply))
        params["request_id"] = raw.headers.get("x-request-id")
        params["returned_size"] = [int(pixels.shape[1]), int(pixels.shape[0])]
        return pixels, params

    def _reference(self, path: Path) -> tuple[str, bytes, str]:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise EngineError(f"openai {self.model}: cannot read the reference image ({exc.strerror})",
                              path=path) from None
        suffix = path.suffix.lower()
        mime = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}.get(suffix, "image/png")
        return path.name, data, mime

    def _image_bytes(self, reply: object) -> bytes:
        model = self.model
        if not isinstance(reply, openai.types.ImagesResponse):
            raise EngineReplyError(f"openai {model}: the reply is not an images response ({one_line(reply, 120)})")
        if not reply.data:
            raise EngineReplyError(f"openai {model}: the reply holds no image")
        b64 = reply.data[0].b64_json
        if not b64:
            what = "a URL" if reply.data[0].url else "nothing"
            raise EngineReplyError(f"openai {model}: the reply has no b64_json image (it has {what})")
        try:
            return base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise EngineReplyError(f"openai {model}: the reply's b64_json is not base64 ({exc})") from None

    # -- files ---------------------------------------------------------------------------------------------

    @staticmethod
    def _write_set(pixels: np.ndarray, request: AssetRequest,
                   out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any]]:
        shaped: dict[str, Any] = {}
        if pixels.shape[2] == 4:
            shaped["alpha_dropped"] = has_alpha(pixels)
            pixels = np.ascontiguousarray(pixels[..., :3])
        src_h, src_w = pixels.shape[:2]
        shaped["resized"] = resize_record(src_w, src_h, request.width, request.height)
        target = out_dir / "set.png"
        write_png(target, fit_to_frame(pixels, request.width, request.height))
        return (target,), shaped

    @staticmethod
    def _write_element(pixels: np.ndarray, request: AssetRequest,
                       out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any]]:
        if has_alpha(pixels) and request.screen is None:
            alpha = "the model's (transparent background)"
        else:
            # Asked for transparency but got an opaque picture: read it as light on black, as a compositor would;
            # a cast member on its chroma screen stays opaque, for soundstage's keyer.
            pixels, alpha = element_pixels(pixels, request, "luminance (the reply had no transparency): brightest "
                                                            "channel, colour unpremultiplied")
        src_h, src_w = pixels.shape[:2]
        fps, count = shot_fps(request), frame_count(request)
        files = hold_still(fit_to_frame(pixels, request.width, request.height), out_dir, count)
        shaped = {"resized": resize_record(src_w, src_h, request.width, request.height), "alpha": alpha,
                  "frames": count, "fps": fps, "duration": count / fps, "held_still": True,
                  "pattern": ELEMENT_PATTERN}
        return files, shaped


def _reply_facts(reply: openai.types.ImagesResponse) -> dict[str, Any]:
    """What the service says it did: the size, quality and background it used, the tokens it billed."""
    facts: dict[str, Any] = {"created": reply.created}
    for name in ("size", "quality", "background", "output_format"):
        value = getattr(reply, name, None)
        if value is not None:
            facts[f"reply_{name}"] = value
    if reply.usage is not None:
        facts["usage"] = reply.usage.model_dump(mode="json", exclude_none=True)
    revised = reply.data[0].revised_prompt if reply.data else None
    if revised:
        facts["revised_prompt"] = revised
    return facts
