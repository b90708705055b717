"""OpenAI's image models (GPT Image, and the older DALL·E) through the official ``openai`` SDK.

- A SET is painted by ``images.generate``; when the request carries references (the location's established
  set, for continuity) it goes to ``images.edit`` with those images instead, so the new frame keeps the place.
- An ELEMENT is asked for on a transparent background (GPT Image models only), so its alpha is the model's
  own, not keyed; the one still is held for the element's length (round(duration · fps) identical frames).
- Moving BACKGROUNDs are not made here: the images API has no video.

The API offers a fixed set of sizes per model; the engine asks for the one nearest the request's shape and
then centre-crops and resizes to the exact request, recording both. **The API takes no seed**: the same
request gives another picture each time. A take records ``seed: null`` and ``deterministic: false``, and
sending it again makes a new take, never a reproduction of the old one; the pixels in the store are the only
copy.

The key comes from ``OPENAI_API_KEY`` only. The SDK's own retries are switched off (``max_retries=0``) so that
rate limits and server errors are retried by :func:`soundstage.engines.retry.with_retries`, counted once and
reported once.

Public: :class:`OpenAIEngine`, :func:`api_size`, :data:`SIZES`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import cv2
import numpy as np
import openai

from soundstage.atomic import write_bytes
from soundstage.engines.base import AssetKind, AssetRequest, EngineOptions, Generated, HTTPOptions, Quote, SourceType
from soundstage.engines.retry import with_retries
from soundstage.errors import EngineBusy, EngineError, EngineRefused, EngineReplyError, EngineTimeout
from soundstage.media import write_png

SDK_VERSION: str = openai.__version__
KEY_VARIABLE = "OPENAI_API_KEY"

#: Sizes each model family makes, (width, height). GPT Image models all make these three; the newest also
#: take free sizes, but these three are the ones every GPT Image model accepts.
SIZES: dict[str, tuple[tuple[int, int], ...]] = {
    "gpt-image": ((1024, 1024), (1536, 1024), (1024, 1536)),
    "dall-e-3": ((1024, 1024), (1792, 1024), (1024, 1792)),
    "dall-e-2": ((1024, 1024), (512, 512), (256, 256)),
}

#: Error codes with which the images API refuses a prompt (400). Sending the same words again will not help.
REFUSAL_CODES = frozenset({"content_policy_violation", "moderation_blocked"})
#: 429 codes that are not a rate limit but an empty account: waiting will not help either.
_NO_QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})

#: dall-e-3 speaks its own quality words.
_DALLE3_QUALITY = {"high": "hd", "xhigh": "hd", "max": "hd", "hd": "hd"}

DEFAULT_DURATION = 2.0   # seconds, for an element that names none (as the procedural engine does)
DEFAULT_FPS = 24.0
MAX_REFERENCES = 16      # images.edit takes at most 16 input images

Quality = Literal["low", "medium", "high", "xhigh", "max", "auto", "standard", "hd"]


def _family(model: str) -> str:
    if model.startswith("dall-e-3"):
        return "dall-e-3"
    if model.startswith("dall-e-2"):
        return "dall-e-2"
    return "gpt-image"      # gpt-image-*, chatgpt-image-*, and whatever GPT Image model comes next


def api_size(model: str, width: int, height: int) -> tuple[int, int]:
    """The size the model makes that is nearest the request's shape (log aspect ratio), largest on a tie."""
    target = math.log(width / height)
    return min(SIZES[_family(model)], key=lambda s: (abs(math.log(s[0] / s[1]) - target), -s[0] * s[1]))


# ---------------------------------------------------------------------------------------------------------
# Pixels
# ---------------------------------------------------------------------------------------------------------


def _decode(data: bytes, model: str) -> np.ndarray:
    """PNG (or any image) bytes to RGB or RGBA uint8; undecodable bytes are the service's fault."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if image is None:
        raise EngineReplyError(f"openai {model}: the reply's image does not decode ({len(data)} bytes)")
    if image.dtype != np.uint8:
        image = (image / 257).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)


def _fit(pixels: np.ndarray, width: int, height: int) -> tuple[np.ndarray, dict[str, Any] | None]:
    """Centre-crop to the request's shape, then resize to its size; RGBA is resized premultiplied.

    Returns the pixels and what was done (None when the model's size was already the request's).
    """
    src_h, src_w = pixels.shape[:2]
    if (src_w, src_h) == (width, height):
        return pixels, None
    if src_w * height > width * src_h:
        crop_w, crop_h = min(src_w, max(1, round(src_h * width / height))), src_h
    else:
        crop_w, crop_h = src_w, min(src_h, max(1, round(src_w * height / width)))
    x, y = (src_w - crop_w) // 2, (src_h - crop_h) // 2
    crop = pixels[y : y + crop_h, x : x + crop_w]
    shrinking = crop_w >= width and crop_h >= height
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    if crop.shape[2] == 4:
        # Straight colour under zero alpha is arbitrary; resizing it would bleed into the edges. Premultiply.
        alpha = crop[..., 3:].astype(np.float32) / 255.0
        pre = np.dstack([crop[..., :3].astype(np.float32) * (alpha / 255.0), alpha])
        pre = np.clip(cv2.resize(pre, (width, height), interpolation=interpolation), 0.0, 1.0)
        a = pre[..., 3:]
        rgb = np.where(a > 0, pre[..., :3] / np.maximum(a, 1e-6), 0.0)
        out: np.ndarray = np.dstack([np.clip(rgb * 255.0 + 0.5, 0, 255),
                                     np.clip(a * 255.0 + 0.5, 0, 255)]).astype(np.uint8)
    else:
        out = cv2.resize(np.ascontiguousarray(crop), (width, height), interpolation=interpolation)
    record = {"from": [src_w, src_h], "to": [width, height], "crop": [x, y, crop_w, crop_h],
              "method": "centre crop, then OpenCV resize (area down, cubic up)"}
    return out, record


def _alpha_from_light(rgb: np.ndarray) -> np.ndarray:
    """Straight RGBA from an element on black: alpha is the brightest channel, colour divided by it."""
    alpha = rgb.max(axis=2)
    safe = np.maximum(alpha, 1).astype(np.float32)[..., None]
    straight = np.clip(rgb.astype(np.float32) * (255.0 / safe) + 0.5, 0, 255).astype(np.uint8)
    straight[alpha == 0] = 0
    return np.dstack([straight, alpha])


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------


def _short(text: object, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date), if sent."""
    if headers is None:
        return None
    try:
        if headers.get("retry-after-ms"):
            return max(float(headers["retry-after-ms"]) / 1000.0, 0.0)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _said(exc: openai.APIError) -> str:
    """The service's own message, not the SDK's 'Error code: …' wrapper."""
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    return _short(message or exc.message)


def _api_error(exc: openai.APIError, model: str, timeout: float) -> EngineError:
    """One SDK exception to the soundstage error that says what to do about it."""
    where = f"openai {model}"
    if isinstance(exc, openai.APITimeoutError):
        return EngineTimeout(f"{where}: no answer within {timeout:g} s",
                             hint="raise [engines.openai] timeout, or try again later")
    if isinstance(exc, openai.APIConnectionError):
        return EngineBusy(f"{where}: could not reach the service ({_short(exc.__cause__ or exc, 160)})",
                          hint="check the network and [engines.openai] base_url")
    if isinstance(exc, openai.APIStatusError):
        status, code, said = exc.status_code, exc.code, _said(exc)
        if status == 429 and code in _NO_QUOTA_CODES:
            return EngineError(f"{where}: the account has no quota left ({said})",
                               hint="check the plan and billing at platform.openai.com")
        if status == 429:
            return EngineBusy(f"{where}: rate-limited ({said})", retry_after=_retry_after(exc.response.headers),
                              hint="wait, or raise the organisation's rate limits")
        if status >= 500 or status == 408:
            return EngineBusy(f"{where}: the service failed ({status}: {said})",
                              retry_after=_retry_after(exc.response.headers))
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
    return EngineReplyError(f"{where}: the reply is not what the API promises ({_short(exc.message)})")


# ---------------------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------------------


class OpenAIEngine:
    """GPT Image stills: sets (continuity through images.edit) and elements with the model's own alpha."""

    class Options(HTTPOptions):
        """``[engines.openai]``: which model at which quality; base_url is the SDK's (…/v1)."""

        model: str = "gpt-image-1"
        quality: Quality = "high"

    name: ClassVar[str] = "openai"
    kinds: ClassVar[frozenset[AssetKind]] = frozenset({AssetKind.SET, AssetKind.ELEMENT})
    takes_references: ClassVar[bool] = True
    source_type: ClassVar[SourceType] = SourceType.TRAINED_ALGORITHMIC

    def __init__(self, options: EngineOptions | None = None, *, root: Path | None = None) -> None:
        if isinstance(options, OpenAIEngine.Options):
            self.options = options
        else:
            self.options = OpenAIEngine.Options.model_validate(options.model_dump() if options else {})
        self.root = Path(root) if root is not None else Path.cwd()

    @property
    def model(self) -> str:
        return self.options.model

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
        if request.kind == AssetKind.ELEMENT:
            if _family(model) != "gpt-image":
                raise EngineError(f"openai {model}: only GPT Image models paint on a transparent background",
                                  hint="set [engines.openai] model to a GPT Image model for elements")
            if _duration(request) <= 0 or _fps(request) <= 0:
                raise EngineError(f"openai {model}: an element needs a positive duration and fps")

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
        model, family = self.model, _family(self.model)
        width, height = api_size(model, request.width, request.height)
        args: dict[str, Any] = {"model": model, "prompt": request.full_prompt, "n": 1, "size": f"{width}x{height}"}
        if family == "gpt-image":
            args.update(quality=self.options.quality, output_format="png")
            if request.kind == AssetKind.ELEMENT:
                args["background"] = "transparent"
        else:
            args["response_format"] = "b64_json"       # DALL·E answers with a URL unless told otherwise
            if family == "dall-e-3":
                args["quality"] = _DALLE3_QUALITY.get(self.options.quality, "standard")
        return args

    def _paint(self, client: openai.OpenAI, request: AssetRequest) -> tuple[np.ndarray, dict[str, Any]]:
        """One call (generate, or edit with the references), retried on 429/5xx; the decoded pixels back."""
        model = self.model
        args = self._arguments(request)
        params: dict[str, Any] = dict(args)
        if request.negative_prompt:
            params["negative_prompt"] = {"text": request.negative_prompt,
                                         "sent": False, "why": "the images API takes no negative prompt"}
        references = list(request.references)
        call: Callable[[], Any]
        if references and _family(model) == "gpt-image":
            used = references[:MAX_REFERENCES]
            images = [self._reference(path) for path in used]
            params["endpoint"] = "images.edit"
            params["references"] = [p.name for p in used]
            if len(references) > len(used):
                params["references_dropped"] = [p.name for p in references[len(used):]]

            def call() -> Any:
                return client.images.with_raw_response.edit(image=images, **args)
        else:
            params["endpoint"] = "images.generate"
            if references:
                params["references_ignored"] = {"files": [p.name for p in references],
                                                "why": f"{model} has no image-edit endpoint"}

            def call() -> Any:
                return client.images.with_raw_response.generate(**args)

        def once() -> Any:
            try:
                raw = call()
                return raw, raw.parse()
            except openai.APIError as exc:
                raise _api_error(exc, model, self.options.timeout) from exc
            except json.JSONDecodeError as exc:
                raise EngineReplyError(f"openai {model}: the reply is not JSON ({_short(exc, 160)})") from exc
            except ValueError as exc:      # JSON that does not fit the SDK's types
                raise EngineReplyError(f"openai {model}: the reply is not what the API promises "
                                       f"({_short(exc, 160)})") from exc

        raw, reply = with_retries(once, retries=self.options.retries, backoff=self.options.backoff)
        data = self._image_bytes(reply)
        pixels = _decode(data, model)
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
            raise EngineReplyError(f"openai {model}: the reply is not an images response ({_short(reply, 120)})")
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
            shaped["alpha_dropped"] = bool((pixels[..., 3] < 255).any())
            pixels = np.ascontiguousarray(pixels[..., :3])
        fitted, resized = _fit(pixels, request.width, request.height)
        shaped["resized"] = resized
        target = out_dir / "set.png"
        write_png(target, fitted)
        return (target,), shaped

    @staticmethod
    def _write_element(pixels: np.ndarray, request: AssetRequest,
                       out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any]]:
        if pixels.shape[2] == 4 and (pixels[..., 3] < 255).any():
            alpha = "the model's (transparent background)"
        else:
            # Asked for transparency but got an opaque picture: read it as light on black, as a compositor would.
            pixels = _alpha_from_light(np.ascontiguousarray(pixels[..., :3]))
            alpha = "luminance (the reply had no transparency): brightest channel, colour unpremultiplied"
        fitted, resized = _fit(pixels, request.width, request.height)
        ok, encoded = cv2.imencode(".png", cv2.cvtColor(fitted, cv2.COLOR_RGBA2BGRA))
        if not ok:
            raise EngineError("could not encode the element as PNG")
        fps = _fps(request)
        count = max(round(_duration(request) * fps), 1)
        files = []
        for i in range(count):
            path = out_dir / f"element_{i:04d}.png"
            write_bytes(path, encoded.tobytes())       # the same still, held: encoded once
            files.append(path)
        shaped = {"resized": resized, "alpha": alpha, "frames": count, "fps": fps, "duration": count / fps,
                  "held_still": True, "pattern": "element_%04d.png"}
        return tuple(files), shaped


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


def _duration(request: AssetRequest) -> float:
    return request.duration if request.duration is not None else DEFAULT_DURATION


def _fps(request: AssetRequest) -> float:
    return request.fps if request.fps is not None else DEFAULT_FPS
