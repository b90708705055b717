"""The OpenAI engine, through the real openai SDK, against a stand-in that speaks the images API's wire format.

``POST /v1/images/generations`` takes JSON; ``POST /v1/images/edits`` takes multipart with ``image[]`` files;
both answer ``{"created", "data": [{"b64_json"}], "usage"}``, and errors are ``{"error": {message, type, code}}``.
Every test decodes real pixels or reads what the stand-in received.
"""

from __future__ import annotations

import base64
import math
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from standin import Reply, StandIn

from soundstage.engines import load_engine
from soundstage.engines.base import AssetKind, AssetRequest, Engine, Reference, SourceType
from soundstage.engines.frames import RESIZE_METHOD
from soundstage.engines.openai import DEFAULT_MODEL, FREE_SIZE_MODELS, MIN_PIXELS, OpenAIEngine, api_size
from soundstage.errors import EngineBusy, EngineError, EngineRefused, EngineReplyError, EngineTimeout
from soundstage.media import read_image

GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"
RED, BLUE, GREEN, ORANGE = (255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 128, 0)


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-standin")
    for name in ("OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


def engine(standin: StandIn, tmp_path: Path, **options: Any) -> OpenAIEngine:
    settings: dict[str, Any] = {"base_url": f"{standin.url}/v1", "retries": 2, "backoff": 0.0, "timeout": 5.0}
    settings.update(options)
    return OpenAIEngine(OpenAIEngine.Options(**settings), root=tmp_path)


def png(pixels: np.ndarray) -> bytes:
    order = cv2.COLOR_RGBA2BGRA if pixels.shape[2] == 4 else cv2.COLOR_RGB2BGR
    ok, data = cv2.imencode(".png", cv2.cvtColor(pixels, order))
    assert ok
    return data.tobytes()


def image_reply(pixels: np.ndarray, **extra: Any) -> Reply:
    body = {"created": 1_790_000_000, "data": [{"b64_json": base64.b64encode(png(pixels)).decode()}],
            "usage": {"input_tokens": 40, "output_tokens": 6240, "total_tokens": 6280,
                      "input_tokens_details": {"image_tokens": 0, "text_tokens": 40}}, **extra}
    return Reply(200, body, headers={"x-request-id": "req_standin_1"})


def error_reply(status: int, message: str, type_: str, code: str | None, **headers: str) -> Reply:
    return Reply(status, {"error": {"message": message, "type": type_, "param": None, "code": code}},
                 headers=headers)


def landscape() -> np.ndarray:
    """1536×1024: green bands top and bottom (80 rows each), red left half, blue right half between."""
    img = np.zeros((1024, 1536, 3), np.uint8)
    img[:, :768] = RED
    img[:, 768:] = BLUE
    img[:80] = GREEN
    img[-80:] = GREEN
    return img


def wide_16_9() -> np.ndarray:
    """1376×768, what GPT Image 2.5 makes for a 16:9 frame: red left, blue right, 5 green columns each side."""
    img = np.zeros((768, 1376, 3), np.uint8)
    img[:, :688] = RED
    img[:, 688:] = BLUE
    img[:, :5] = GREEN
    img[:, -6:] = GREEN
    return img


def orange_disc() -> np.ndarray:
    """1024² RGBA: an opaque orange disc on full transparency (whose colour is junk, as models leave it)."""
    img = np.zeros((1024, 1024, 4), np.uint8)
    img[..., :3] = (0, 255, 255)
    cv2.circle(img, (512, 512), 300, (*ORANGE, 255), -1)
    return img


def set_request(**kw: Any) -> AssetRequest:
    fields: dict[str, Any] = {"kind": AssetKind.SET, "prompt": "a hanok courtyard at night", "width": 320,
                              "height": 180, "seed": 7, "look": "teal and orange"}
    fields.update(kw)
    return AssetRequest(**fields)


# -- success ------------------------------------------------------------------------------------------------


def test_set_sends_the_documented_body_and_writes_the_request_size(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", GENERATIONS, image_reply(wide_16_9(), size="1376x768", quality="high"))
    got = engine(standin, tmp_path).generate(set_request(negative_prompt="people"), tmp_path)

    (call,) = standin.calls("POST", GENERATIONS)
    # The default is GPT Image 2.5 Sunburst, asked for the frame's own shape: 16:9 at a megapixel, sides ÷ 16.
    assert call.json() == {"model": "gpt-image-2.5-sunburst", "prompt": "a hanok courtyard at night. teal and orange",
                           "n": 1, "size": "1376x768", "quality": "high", "output_format": "png"}
    assert call.headers["authorization"] == "Bearer sk-test-standin"
    assert call.headers["x-stainless-retry-count"] == "0"          # the SDK does not retry behind our back

    assert got.files == (tmp_path / "set.png",)
    pixels = read_image(got.files[0])
    assert pixels.shape == (180, 320, 3)
    # Only the 5-pixel rounding margins are cropped away (no green left); red left, blue right.
    assert not (pixels[..., 1] > 60).any()
    assert (pixels[:, :150] == RED).all() and (pixels[:, 170:] == BLUE).all()

    p = got.parameters
    assert p["resized"] == {"from": [1376, 768], "to": [320, 180], "crop": [5, 0, 1365, 768], "scale": 0.2344,
                            "filter": "area", "method": RESIZE_METHOD}
    assert p["seed"] is None and p["deterministic"] is False
    assert p["size"] == "1376x768" and p["quality"] == "high" and p["endpoint"] == "images.generate"
    assert p["negative_prompt"]["sent"] is False
    assert p["request_id"] == "req_standin_1" and p["usage"]["output_tokens"] == 6240
    assert p["reply_size"] == "1376x768" and p["returned_size"] == [1376, 768]
    assert (got.engine, got.model, got.unit, got.quantity) == ("openai", DEFAULT_MODEL, "image", 1.0)
    assert got.source_type == SourceType.TRAINED_ALGORITHMIC
    assert "openai-python" in got.version


def test_free_size_models_are_asked_for_the_frames_own_shape() -> None:
    sunburst = "gpt-image-2.5-sunburst"
    assert api_size(sunburst, 1920, 1080) == (1920, 1088)        # its own size, sides rounded up to ÷ 16
    assert api_size(sunburst, 1080, 1920) == (1088, 1920)
    assert api_size(sunburst, 320, 180) == (1376, 768)           # small frames: asked at a megapixel
    assert api_size(sunburst, 3840, 2160) == (2560, 1440)        # above 2560×1440 is experimental: resized up
    assert api_size(sunburst, 4000, 1000) == (2560, 864)         # 4:1 is asked at about 3:1, then cropped
    for model in FREE_SIZE_MODELS:
        for width, height in [(64, 36), (1000, 1000), (2048, 858), (720, 1280), (4096, 1716), (100, 900),
                              (2560, 1440), (1998, 1080), (7680, 4320)]:
            w, h = api_size(model, width, height)
            assert w % 16 == 0 and h % 16 == 0, (model, width, height)
            assert 1 / 3 <= w / h <= 3 and w * h >= MIN_PIXELS
            assert max(w, h) <= 2560 and min(w, h) <= 1440
            # the asked shape is the request's wherever 1:3 to 3:1 allows, within the rounding to 16
            want = min(max(width / height, 1 / 3), 3)
            assert abs(math.log(w / h / want)) < 0.02, (width, height, w, h)


def test_other_models_are_asked_for_the_nearest_standard_size(standin: StandIn, tmp_path: Path) -> None:
    for model in ("gpt-image-1.5", "gpt-image-1-mini", "gpt-image-2.6-sunburst", "chatgpt-image-latest"):
        assert model not in FREE_SIZE_MODELS
        assert api_size(model, 1920, 1080) == (1536, 1024)
        assert api_size(model, 1080, 1920) == (1024, 1536)
        assert api_size(model, 1000, 1000) == (1024, 1024)

    standin.route("POST", GENERATIONS, image_reply(landscape()))
    got = engine(standin, tmp_path, model="gpt-image-1.5").generate(set_request(), tmp_path)
    assert standin.calls("POST", GENERATIONS)[0].json()["size"] == "1536x1024"
    pixels = read_image(got.files[0])
    # The 16:9 frame is the centre of the 3:2 picture: the green bands are cropped away, red left, blue right.
    assert pixels.shape == (180, 320, 3) and not (pixels[..., 1] > 60).any()
    assert (pixels[:, :150] == RED).all() and (pixels[:, 170:] == BLUE).all()
    assert got.parameters["resized"]["crop"] == [0, 80, 1536, 864]


@pytest.mark.parametrize(("model", "says"), [
    ("gpt-image-1", "was shut down on 2026-10-23; use gpt-image-2.5-sunburst"),
    ("dall-e-3", "was retired on 2026-05-12; use a GPT Image model such as gpt-image-2.5-sunburst"),
    ("dall-e-2", "was retired on 2026-05-12"),
])
def test_retired_models_are_refused_before_sending(standin: StandIn, tmp_path: Path, model: str, says: str) -> None:
    with pytest.raises(EngineError, match=f"openai {model}: the model {says}") as caught:
        engine(standin, tmp_path, model=model).quote(set_request())
    assert "[engines.openai] model" in str(caught.value)
    with pytest.raises(EngineError, match=r"retired|shut down"):
        engine(standin, tmp_path, model=model).generate(set_request(), tmp_path)
    assert standin.requests == [] and not (tmp_path / "set.png").exists()


def test_references_go_to_images_edit_as_multipart(standin: StandIn, tmp_path: Path) -> None:
    reference = tmp_path / "set_v001.png"
    reference.write_bytes(png(np.full((64, 64, 3), 33, np.uint8)))
    standin.route("POST", EDITS, image_reply(wide_16_9()))
    out = tmp_path / "take"
    got = engine(standin, tmp_path).generate(set_request(references=(Reference(reference),)), out)

    assert standin.calls("POST", GENERATIONS) == []
    (call,) = standin.calls("POST", EDITS)
    assert call.headers["content-type"].startswith("multipart/form-data")
    fields = call.form()
    assert fields["image[]"] == [("set_v001.png", reference.read_bytes())]
    assert fields["model"] == [(None, b"gpt-image-2.5-sunburst")]
    assert fields["prompt"] == [(None, b"a hanok courtyard at night. teal and orange")]
    assert fields["size"] == [(None, b"1376x768")] and fields["n"] == [(None, b"1")]
    assert got.parameters["endpoint"] == "images.edit" and got.parameters["references"] == ["set_v001.png"]
    assert read_image(got.files[0]).shape == (180, 320, 3)


def test_an_edit_sends_every_reference_named_by_its_role(standin: StandIn, tmp_path: Path) -> None:
    """images.edit takes several images (image[]); the prompt says which is the subject, the style, the set.
    The body is read back as openai-python's own ImageEditParams."""
    from typing import get_type_hints

    from openai.types.image_edit_params import ImageEditParamsNonStreaming

    sheet = tmp_path / "cast" / "dragon" / "sheet.png"
    sheet.parent.mkdir(parents=True)
    sheet.write_bytes(png(np.full((64, 64, 3), 200, np.uint8)))
    ink = tmp_path / "ink.png"
    ink.write_bytes(png(np.full((64, 64, 3), 10, np.uint8)))
    kitchen = tmp_path / "set_v001.png"
    kitchen.write_bytes(png(np.full((64, 64, 3), 33, np.uint8)))
    standin.route("POST", EDITS, image_reply(wide_16_9()))
    request = set_request(references=(Reference(kitchen), Reference(ink, "style"), Reference(sheet, "subject")))
    got = engine(standin, tmp_path).generate(request, tmp_path / "take")

    fields = standin.calls("POST", EDITS)[0].form()
    assert fields["image[]"] == [("sheet.png", sheet.read_bytes()), ("ink.png", ink.read_bytes()),
                                 ("set_v001.png", kitchen.read_bytes())]
    prompt = fields["prompt"][0][1].decode()
    assert prompt.startswith("a hanok courtyard at night. teal and orange\nReference image 1: the subject.")
    assert "Reference image 2: the style." in prompt and "Reference image 3: the location." in prompt
    assert {name.removesuffix("[]") for name in fields} <= set(get_type_hints(ImageEditParamsNonStreaming))
    assert got.parameters["reference_roles"] == ["subject", "style", "set"]
    with pytest.raises(EngineError, match="cannot take first_frame"):
        engine(standin, tmp_path).quote(set_request(first_frame=kitchen))


def test_element_is_the_models_alpha_held_for_its_length(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", GENERATIONS, image_reply(orange_disc(), background="transparent"))
    request = AssetRequest(kind=AssetKind.ELEMENT, prompt="a fireball", width=256, height=256, seed=1,
                           duration=0.5, fps=24, element="fire")
    got = engine(standin, tmp_path).generate(request, tmp_path)

    body = standin.calls("POST", GENERATIONS)[0].json()
    assert body["background"] == "transparent" and body["output_format"] == "png" and body["size"] == "1024x1024"
    assert [p.name for p in got.files] == [f"element_{i:04d}.png" for i in range(12)]
    assert len({p.read_bytes() for p in got.files}) == 1                 # one still, held
    frame = read_image(got.files[5])
    assert frame.shape == (256, 256, 4)
    assert frame[128, 128, 3] == 255 and tuple(frame[128, 128, :3]) == ORANGE
    assert frame[2, 2, 3] == 0
    # Resized premultiplied: the disc's soft edge keeps its orange, the junk cyan under alpha 0 never bleeds in.
    edge = frame[(frame[..., 3] > 20) & (frame[..., 3] < 235)]
    assert len(edge) > 0 and (edge[:, 2] < 20).all() and (edge[:, 0] > 235).all()
    p = got.parameters
    assert p["frames"] == 12 and p["fps"] == 24 and p["held_still"] is True
    assert p["alpha"].startswith("the model's")
    assert engine(standin, tmp_path).quote(request).quantity == 1.0


def test_background_is_refused_with_a_hint_before_sending(standin: StandIn, tmp_path: Path) -> None:
    request = AssetRequest(kind=AssetKind.BACKGROUND, prompt="waves", width=320, height=180, seed=1,
                           duration=2, fps=24)
    with pytest.raises(EngineError, match="not a moving background") as caught:
        engine(standin, tmp_path).quote(request)
    assert "google" in str(caught.value) and "diffusers" in str(caught.value)
    with pytest.raises(EngineError):
        engine(standin, tmp_path).generate(request, tmp_path)
    assert standin.requests == []


def test_quote_is_one_image_and_needs_neither_key_nor_network(standin: StandIn, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    quote = engine(standin, tmp_path, model="gpt-image-1.5").quote(set_request())
    assert (quote.engine, quote.model, quote.unit, quote.quantity) == ("openai", "gpt-image-1.5", "image", 1.0)
    assert standin.requests == []


def test_load_engine_builds_it_from_a_table(standin: StandIn, tmp_path: Path) -> None:
    loaded = load_engine("openai", {"model": "gpt-image-1-mini", "quality": "low"}, root=tmp_path)
    assert isinstance(loaded, OpenAIEngine) and isinstance(loaded, Engine)
    assert loaded.quote(set_request()).model == "gpt-image-1-mini"


# -- failures -----------------------------------------------------------------------------------------------


def test_missing_key_names_the_variable_and_sends_nothing(standin: StandIn, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(EngineError, match="OPENAI_API_KEY is not set"):
        engine(standin, tmp_path).generate(set_request(), tmp_path)
    assert standin.requests == []
    assert not (tmp_path / "set.png").exists()


def test_rate_limit_is_retried_then_succeeds(standin: StandIn, tmp_path: Path) -> None:
    limited = error_reply(429, "Rate limit reached for images per minute", "requests", "rate_limit_exceeded",
                          **{"Retry-After": "0"})
    standin.route("POST", GENERATIONS, [limited, image_reply(landscape())])
    got = engine(standin, tmp_path).generate(set_request(), tmp_path)
    assert len(standin.calls("POST", GENERATIONS)) == 2
    assert read_image(got.files[0]).shape == (180, 320, 3)


def test_rate_limit_gives_up_after_the_retries(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", GENERATIONS, error_reply(429, "Rate limit reached", "requests", "rate_limit_exceeded",
                                                   **{"retry-after-ms": "5"}))
    with pytest.raises(EngineBusy, match=r"rate-limited \(Rate limit reached\); gave up after 3 tries") as caught:
        engine(standin, tmp_path, retries=2).generate(set_request(), tmp_path)
    assert caught.value.retry_after == pytest.approx(0.005)
    assert len(standin.calls("POST", GENERATIONS)) == 3
    assert not (tmp_path / "set.png").exists()


def test_server_errors_are_busy_and_retried(standin: StandIn, tmp_path: Path) -> None:
    failed = error_reply(500, "The server had an error processing your request.", "server_error", None)
    standin.route("POST", GENERATIONS, [failed, failed, image_reply(landscape())])
    engine(standin, tmp_path, retries=2).generate(set_request(), tmp_path / "a")
    assert len(standin.calls("POST", GENERATIONS)) == 3

    standin.route("POST", GENERATIONS, error_reply(503, "Service Unavailable", "server_error", None))
    with pytest.raises(EngineBusy, match=r"the service failed \(503: Service Unavailable\)"):
        engine(standin, tmp_path, retries=1).generate(set_request(), tmp_path / "b")
    assert len(standin.calls("POST", GENERATIONS)) == 5


def test_slow_service_times_out(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", GENERATIONS, Reply(200, {"created": 1, "data": []}, delay=1.0))
    start = time.perf_counter()
    with pytest.raises(EngineTimeout, match=r"no answer within 0.3 s"):
        engine(standin, tmp_path, timeout=0.3).generate(set_request(), tmp_path)
    assert time.perf_counter() - start < 0.9
    assert len(standin.calls("POST", GENERATIONS)) == 1


@pytest.mark.parametrize(("code", "message"), [
    ("content_policy_violation", "Your request was rejected as a result of our safety system."),
    ("moderation_blocked", "Your request was rejected by the safety system."),
])
def test_content_policy_refusal_is_not_retried(standin: StandIn, tmp_path: Path, code: str, message: str) -> None:
    standin.route("POST", GENERATIONS, error_reply(400, message, "image_generation_user_error", code))
    with pytest.raises(EngineRefused, match=f"refused the prompt .{code}: {message}") as caught:
        engine(standin, tmp_path, retries=4).generate(set_request(), tmp_path)
    assert "reword the prompt" in str(caught.value)
    assert len(standin.calls("POST", GENERATIONS)) == 1


def test_other_api_errors_carry_the_services_message(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", GENERATIONS, error_reply(400, "Invalid size '7x7'.", "invalid_request_error",
                                                   "invalid_value"))
    with pytest.raises(EngineError, match=r"rejected \(400 invalid_value: Invalid size '7x7'.\)") as caught:
        engine(standin, tmp_path).generate(set_request(), tmp_path)
    assert type(caught.value) is EngineError
    assert len(standin.calls("POST", GENERATIONS)) == 1

    standin.route("POST", GENERATIONS, error_reply(401, "Incorrect API key provided.", "invalid_request_error",
                                                   "invalid_api_key"))
    with pytest.raises(EngineError, match=r"not allowed \(401: Incorrect API key provided\.\)") as caught:
        engine(standin, tmp_path).generate(set_request(), tmp_path)
    assert "OPENAI_API_KEY" in str(caught.value)


def test_an_empty_account_is_not_retried(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", GENERATIONS, error_reply(429, "You exceeded your current quota.", "insufficient_quota",
                                                   "insufficient_quota"))
    with pytest.raises(EngineError, match="no quota left") as caught:
        engine(standin, tmp_path, retries=3).generate(set_request(), tmp_path)
    assert not isinstance(caught.value, EngineBusy)
    assert len(standin.calls("POST", GENERATIONS)) == 1


@pytest.mark.parametrize(("reply", "says"), [
    (Reply(200, {"created": 1, "data": [{"url": "https://example.invalid/a.png"}]}), "no b64_json image"),
    (Reply(200, {"created": 1, "data": []}), "holds no image"),
    (Reply(200, {"created": 1, "data": [{"b64_json": "%%% not base64 %%%"}]}), "not base64"),
    (Reply(200, {"created": 1, "data": [{"b64_json": base64.b64encode(b"GIF? no").decode()}]}), "does not decode"),
    (Reply(200, "<html>gateway</html>", {"Content-Type": "text/html"}), "not an images response"),
    (Reply(200, "{truncated", {"Content-Type": "application/json"}), "not JSON"),
])
def test_malformed_replies_are_reply_errors(standin: StandIn, tmp_path: Path, reply: Reply, says: str) -> None:
    standin.route("POST", GENERATIONS, reply)
    with pytest.raises(EngineReplyError, match=says):
        engine(standin, tmp_path, retries=3).generate(set_request(), tmp_path)
    assert len(standin.calls("POST", GENERATIONS)) == 1
    assert not (tmp_path / "set.png").exists()
