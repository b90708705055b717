"""The Google engine (Imagen, Gemini image, Veo) through the real google-genai SDK against a local stand-in.

The set-up is what a user writes: ``[engines.google]`` with a ``base_url`` (here the stand-in), Vertex AI
express mode with ``GOOGLE_API_KEY`` in the environment (or a project with Application Default Credentials).
The stand-in speaks Vertex's JSON: base64 PNGs from OpenCV, base64 MP4s from PyAV. Every test reads what
reached the wire (paths, bodies, headers, call counts) and what came out (decoded pixels, sizes, errors).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from google.genai import types
from standin import Reply, Request, StandIn

from soundstage.engines import load_engine
from soundstage.engines.base import AssetKind, AssetRequest, Engine, Reference, SourceType
from soundstage.engines.google import (
    GEMINI_ASPECTS,
    IMAGEN_ASPECTS,
    GoogleEngine,
    nearest_aspect,
    veo_duration,
)
from soundstage.errors import EngineBusy, EngineError, EngineRefused, EngineReplyError, EngineTimeout
from soundstage.media import probe, read_frames, read_image
from soundstage.sound import read_sound

KEY = "AQ.express-test-key"
IMAGEN = r"/v1beta1/publishers/google/models/imagen-4\.0-fast-generate-001:predict"
GEMINI = r"/v1beta1/publishers/google/models/gemini-2\.5-flash-image:generateContent"
VEO_START = r"/v1beta1/publishers/google/models/veo-3\.0-fast-generate-001:predictLongRunning"
OPERATION = ("projects/film-proj/locations/us-central1/publishers/google/models/veo-3.0-fast-generate-001/"
             "operations/0d6a1f2e-7c41-4b1e-9d55-3f8a7c2b9e10")
VEO_POLL = (r"/v1beta1/projects/film-proj/locations/us-central1/publishers/google/models/"
            r"veo-3\.0-fast-generate-001:fetchPredictOperation")
RAI_400 = ("Image generation failed with the following error: The prompt could not be submitted. This prompt "
           "contains sensitive words that violate Google's Responsible AI practices. Try rephrasing the prompt. "
           "If you think this was an error, send feedback. Support codes: 42876398")

ENV = ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION",
       "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_GENAI_API_VERSION",
       "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_GENAI_HTTP_CLIENT")


@pytest.fixture(autouse=True)
def express_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean Google environment holding only an express-mode key, as a user's shell would."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)


def engine(standin: StandIn, root: Path, **options: Any) -> Engine:
    table = {"base_url": standin.url, "timeout": 5, "retries": 2, "backoff": 0, "poll_interval": 0.01, **options}
    return load_engine("google", table, root=root)


def request(kind: AssetKind = AssetKind.SET, width: int = 64, height: int = 36, seed: int = 7,
            **kw: Any) -> AssetRequest:
    kw.setdefault("prompt", "a rain-soaked hanok courtyard at night")
    return AssetRequest(kind=kind, width=width, height=height, seed=seed, **kw)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def png(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def halves(width: int, height: int) -> np.ndarray:
    """Left half red, right half blue: where the crop falls is visible in the pixels."""
    img = np.zeros((height, width, 3), np.uint8)
    img[:, : width // 2] = (220, 30, 30)
    img[:, width // 2 :] = (30, 30, 220)
    return img


def mp4(frames: list[np.ndarray], fps: int = 24) -> bytes:
    """An H.264 MP4 as Veo sends it, near-lossless so frame values survive."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"qp": "0", "preset": "ultrafast"}
        for rgb in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode(None))
    return buf.getvalue()


def with_tone(video: bytes, hz: float = 440.0, seconds: float = 4.0, rate: int = 44100) -> bytes:
    """Veo's MP4 as it comes with sound: the same picture, and a mono AAC tone at ``hz`` beside it."""
    buf = io.BytesIO()
    with av.open(io.BytesIO(video)) as source, av.open(buf, mode="w", format="mp4") as out:
        picture = out.add_stream_from_template(source.streams.video[0])
        sound = out.add_stream("aac", rate=rate, layout="mono")
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = picture
                out.mux(packet)
        t = np.arange(int(seconds * rate)) / rate
        tone = (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
        for start in range(0, tone.size, 1024):
            frame = av.AudioFrame.from_ndarray(tone[None, start:start + 1024], format="fltp", layout="mono")
            frame.rate, frame.pts = rate, start
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
    return buf.getvalue()


def imagen_reply(rgb: np.ndarray) -> Reply:
    return Reply(200, {"predictions": [{"bytesBase64Encoded": b64(png(rgb)), "mimeType": "image/png"}]})


def gemini_reply(rgb: np.ndarray) -> Reply:
    return Reply(200, {
        "candidates": [{"content": {"role": "model", "parts": [
            {"inlineData": {"mimeType": "image/png", "data": b64(png(rgb))}}]}, "finishReason": "STOP"}],
        "modelVersion": "gemini-2.5-flash-image-preview-0925",
        "responseId": "r-123",
        "usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 1290},
    })


def api_error(code: int, status: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(code, {"error": {"code": code, "message": message, "status": status}}, headers=headers or {})


def veo_done(video: bytes) -> Reply:
    return Reply(200, {"name": OPERATION, "done": True, "response": {
        "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
        "videos": [{"bytesBase64Encoded": b64(video), "mimeType": "video/mp4"}]}})


NOT_DONE = Reply(200, {"name": OPERATION})


def gray_clip(count: int = 96, width: int = 64, height: int = 36) -> bytes:
    """Frame i is flat grey 20 + 2i: the frame a resampler picked can be read back from its value."""
    return mp4([np.full((height, width, 3), 20 + 2 * i, np.uint8) for i in range(count)])


# -- the engine as the pipeline sees it -------------------------------------------------------------------


def test_engine_is_found_by_name_and_labelled_ai(standin: StandIn, tmp_path: Path) -> None:
    eng = engine(standin, tmp_path)
    assert isinstance(eng, GoogleEngine) and isinstance(eng, Engine)
    assert eng.kinds == {AssetKind.SET, AssetKind.BACKGROUND, AssetKind.ELEMENT} and eng.takes_references
    assert eng.source_type is SourceType.TRAINED_ALGORITHMIC


def test_quote_names_the_model_and_unit_and_sends_nothing(standin: StandIn, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY")                 # plan works before a key exists
    eng = engine(standin, tmp_path)
    q = eng.quote(request())
    assert (q.engine, q.model, q.unit, q.quantity) == ("google", "imagen-4.0-fast-generate-001", "image", 1.0)
    q = eng.quote(request(references=(Reference(Path("sets/kitchen.png")),)))
    assert (q.model, q.unit, q.quantity) == ("gemini-2.5-flash-image", "image", 1.0)
    # Veo 3 makes 4, 6 or 8 s; a request is billed at the next length up.
    for seconds, billed in ((1.0, 4), (4.0, 4), (4.5, 6), (6.0, 6), (7.9, 8), (8.0, 8)):
        q = eng.quote(request(AssetKind.BACKGROUND, duration=seconds, fps=24))
        assert (q.model, q.unit, q.quantity) == ("veo-3.0-fast-generate-001", "video_second", billed)
    assert eng.quote(request(AssetKind.ELEMENT, duration=2, fps=24, element="fire")).quantity == 4
    assert veo_duration("veo-2.0-generate-001", 4.2) == 5 and veo_duration("veo-2.0-generate-001", 7) == 7
    with pytest.raises(EngineError, match=r"8\.5 s clip is longer than Veo makes \(at most 8 s\)") as err:
        eng.quote(request(AssetKind.BACKGROUND, duration=8.5, fps=24))
    assert "split the shot" in str(err.value)
    assert standin.requests == []


@pytest.mark.parametrize(("size", "imagen", "gemini"), [
    ((1920, 1080), "16:9", "16:9"), ((1080, 1920), "9:16", "9:16"), ((512, 512), "1:1", "1:1"),
    ((1440, 1080), "4:3", "4:3"), ((1080, 1350), "3:4", "4:5"), ((2048, 858), "16:9", "21:9"),
])
def test_aspect_ratio_is_the_nearest_the_model_accepts(size: tuple[int, int], imagen: str, gemini: str) -> None:
    assert nearest_aspect(*size, IMAGEN_ASPECTS) == imagen
    assert nearest_aspect(*size, GEMINI_ASPECTS) == gemini


# -- Imagen: sets from words ------------------------------------------------------------------------------


def test_imagen_set_sends_vertex_predict_and_writes_the_requested_frame(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", IMAGEN, imagen_reply(halves(128, 72)))
    req = request(width=36, height=36, look="teal and orange, 35mm grain", negative_prompt="people")
    got = engine(standin, tmp_path).generate(req, tmp_path)

    [call] = standin.calls("POST", IMAGEN)
    assert call.headers["x-goog-api-key"] == KEY and "authorization" not in call.headers
    body = call.json()
    assert body["instances"] == [{"prompt": "a rain-soaked hanok courtyard at night. teal and orange, 35mm grain"}]
    p = body["parameters"]
    assert p["sampleCount"] == 1 and p["seed"] == 7 and p["aspectRatio"] == "1:1"
    assert p["addWatermark"] is False and p["outputOptions"] == {"mimeType": "image/png"}
    assert p["includeRaiReason"] is True
    assert "negativePrompt" not in p                       # Imagen 4 takes none, so it is not sent...
    assert got.parameters["negative_prompt_dropped"] is True  # ...and the take says so

    assert got.files == (tmp_path / "set.png",) and [f.name for f in tmp_path.iterdir()] == ["set.png"]
    out = read_image(got.files[0])
    assert out.shape == (36, 36, 3)
    # the 128×72 reply was centre-cropped to its middle 72×72 and scaled: red left, blue right.
    assert out[:, :14].mean(axis=(0, 1)).round().tolist() == [220, 30, 30]
    assert out[:, -14:].mean(axis=(0, 1)).round().tolist() == [30, 30, 220]
    assert got.parameters["resized"]["from"] == [128, 72] and got.parameters["resized"]["crop"] == [28, 0, 72, 72]
    assert (got.engine, got.model, got.unit, got.quantity) == ("google", "imagen-4.0-fast-generate-001", "image", 1)
    assert got.source_type is SourceType.TRAINED_ALGORITHMIC
    assert "google-genai 3." in got.version and got.parameters["seed"] == 7
    assert got.parameters["auth"] == "vertex express mode, key from GOOGLE_API_KEY"


def test_imagen_seed_is_sent_so_a_take_can_be_made_again(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", IMAGEN, imagen_reply(halves(64, 36)))
    eng = engine(standin, tmp_path)
    first = eng.generate(request(seed=7), tmp_path / "a")
    again = eng.generate(request(seed=7), tmp_path / "b")
    other = eng.generate(request(seed=8), tmp_path / "c")
    folded = eng.generate(request(seed=2**40), tmp_path / "d")
    bodies = [c.json() for c in standin.calls("POST", IMAGEN)]
    assert bodies[0] == bodies[1]
    assert [b["parameters"]["seed"] for b in bodies[1:3]] == [7, 8]
    assert 1 <= bodies[3]["parameters"]["seed"] < 2**31     # folded into the range Imagen takes, and recorded
    assert folded.parameters["seed"] == 2**40 and folded.parameters["seed_sent"] == bodies[3]["parameters"]["seed"]
    assert first.files[0].read_bytes() == again.files[0].read_bytes()
    assert first.parameters["resized"] is None and other.parameters["seed"] == 8


def test_imagen_3_gets_the_negative_prompt(standin: StandIn, tmp_path: Path) -> None:
    route = r"/v1beta1/publishers/google/models/imagen-3\.0-generate-001:predict"
    standin.route("POST", route, imagen_reply(halves(64, 36)))
    eng = engine(standin, tmp_path, image_model="imagen-3.0-generate-001")
    got = eng.generate(request(negative_prompt="people, cars"), tmp_path)
    assert standin.calls("POST", route)[0].json()["parameters"]["negativePrompt"] == "people, cars"
    assert got.model == "imagen-3.0-generate-001" and got.parameters["negative_prompt"] == "people, cars"


def test_imagen_rate_limit_is_retried_by_us_then_succeeds(standin: StandIn, tmp_path: Path) -> None:
    limited = api_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com/online_prediction")
    standin.route("POST", IMAGEN, [limited, limited, imagen_reply(halves(64, 36))])
    got = engine(standin, tmp_path, retries=2).generate(request(), tmp_path)
    assert len(standin.calls("POST", IMAGEN)) == 3          # ours: the SDK's own retries are off
    assert read_image(got.files[0]).shape == (36, 64, 3)


def test_imagen_rate_limit_gives_up_as_busy(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", IMAGEN, api_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded"))
    with pytest.raises(EngineBusy, match=r"rate-limited \(429 RESOURCE_EXHAUSTED: Quota exceeded\).*3 tries"):
        engine(standin, tmp_path, retries=2).generate(request(), tmp_path)
    assert len(standin.calls("POST", IMAGEN)) == 3
    assert not list(tmp_path.iterdir())


def test_retry_after_is_read_from_the_reply(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", IMAGEN, api_error(429, "RESOURCE_EXHAUSTED", "slow down", {"Retry-After": "7"}))
    with pytest.raises(EngineBusy) as err:
        engine(standin, tmp_path, retries=0).generate(request(), tmp_path)
    assert err.value.retry_after == 7.0 and len(standin.calls("POST", IMAGEN)) == 1


def test_imagen_server_error_is_busy(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", IMAGEN, api_error(503, "UNAVAILABLE", "The service is currently unavailable."))
    with pytest.raises(EngineBusy, match=r"imagen-4\.0-fast-generate-001: the service failed .*unavailable"):
        engine(standin, tmp_path, retries=1).generate(request(), tmp_path)
    assert len(standin.calls("POST", IMAGEN)) == 2


def test_imagen_timeout(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", IMAGEN, Reply(200, {"predictions": []}, delay=1.0))
    started = time.monotonic()
    with pytest.raises(EngineTimeout, match=r"no answer within 0\.3 s"):
        engine(standin, tmp_path, timeout=0.3).generate(request(), tmp_path)
    assert time.monotonic() - started < 0.9
    assert len(standin.calls("POST", IMAGEN)) == 1
    assert standin.calls("POST", IMAGEN)[0].headers["x-server-timeout"] == "1"   # 300 ms, as the SDK words it


def test_imagen_policy_refusal_is_not_retried(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", IMAGEN, api_error(400, "INVALID_ARGUMENT", RAI_400))
    with pytest.raises(EngineRefused, match=r"refused the prompt .*Responsible AI") as err:
        engine(standin, tmp_path).generate(request(), tmp_path)
    assert "\n" not in str(err.value) and "reword" in str(err.value)
    assert len(standin.calls("POST", IMAGEN)) == 1


def test_imagen_filtered_image_is_a_refusal(standin: StandIn, tmp_path: Path) -> None:
    reason = ("Unable to show generated images. All images were filtered out because they violated Vertex AI's "
              "usage guidelines. Support codes: 58061214")
    standin.route("POST", IMAGEN, Reply(200, {"predictions": [{"raiFilteredReason": reason}]}))
    with pytest.raises(EngineRefused, match="58061214"):
        engine(standin, tmp_path).generate(request(), tmp_path)
    assert len(standin.calls("POST", IMAGEN)) == 1


def test_imagen_bad_request_is_an_error_with_the_services_words(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", IMAGEN, api_error(400, "INVALID_ARGUMENT", "Unsupported sample count: 9"))
    with pytest.raises(EngineError, match=r"rejected .*Unsupported sample count: 9") as err:
        engine(standin, tmp_path).generate(request(), tmp_path)
    assert not isinstance(err.value, EngineRefused | EngineBusy)
    assert len(standin.calls("POST", IMAGEN)) == 1


@pytest.mark.parametrize("reply", [
    Reply(200, "<html>upstream connect error</html>", headers={"Content-Type": "text/html"}),
    Reply(200, {"predictions": [{"bytesBase64Encoded": b64(b"not a png"), "mimeType": "image/png"}]}),
    Reply(200, {}),
], ids=["not-json", "not-an-image", "empty"])
def test_imagen_malformed_reply(standin: StandIn, tmp_path: Path, reply: Reply) -> None:
    standin.route("POST", IMAGEN, reply)
    with pytest.raises(EngineReplyError, match=r"imagen-4\.0-fast-generate-001"):
        engine(standin, tmp_path).generate(request(), tmp_path)
    assert len(standin.calls("POST", IMAGEN)) == 1 and not list(tmp_path.iterdir())


def test_missing_key_names_the_variable_and_sends_nothing(standin: StandIn, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY")
    with pytest.raises(EngineError, match="GOOGLE_API_KEY is not set") as err:
        engine(standin, tmp_path).generate(request(), tmp_path)
    assert "project" in str(err.value)                    # the hint names the other way in
    assert standin.requests == []


def test_gemini_api_key_is_the_fallback(standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY")
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key")
    standin.route("POST", IMAGEN, imagen_reply(halves(64, 36)))
    got = engine(standin, tmp_path).generate(request(), tmp_path)
    assert standin.calls("POST", IMAGEN)[0].headers["x-goog-api-key"] == "gemini-key"
    assert got.parameters["auth"].endswith("key from GEMINI_API_KEY") and "gemini-key" not in str(got.parameters)


def test_vertex_project_uses_application_default_credentials(standin: StandIn, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A project in the table: the SDK signs in with ADC (here a service-account file whose token URI is the
    stand-in) and calls the regional, project-scoped path with a bearer token, not the key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    adc = tmp_path / "adc.json"
    adc.write_text(json.dumps({
        "type": "service_account", "project_id": "film-proj", "private_key_id": "k1", "private_key": pem,
        "client_email": "soundstage@film-proj.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": f"{standin.url}/token"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    standin.route("POST", "/token", Reply(200, {"access_token": "ya29.stand-in", "expires_in": 3600,
                                                "token_type": "Bearer"}))
    route = (r"/v1beta1/projects/film-proj/locations/europe-west4/publishers/google/models/"
             r"imagen-4\.0-fast-generate-001:predict")
    standin.route("POST", route, imagen_reply(halves(64, 36)))
    out = tmp_path / "take"
    got = engine(standin, tmp_path, project="film-proj", location="europe-west4").generate(request(), out)
    [call] = standin.calls("POST", route)
    assert call.headers["authorization"] == "Bearer ya29.stand-in" and "x-goog-api-key" not in call.headers
    assert len(standin.calls("POST", "/token")) == 1
    assert got.parameters["auth"].startswith("vertex project film-proj (europe-west4)")
    assert read_image(got.files[0]).shape == (36, 64, 3)


def test_missing_application_default_credentials_is_a_clear_error(standin: StandIn, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "nowhere.json"))
    with pytest.raises(EngineError, match="no Application Default Credentials for project film-proj") as err:
        engine(standin, tmp_path, project="film-proj").generate(request(), tmp_path)
    assert "gcloud auth application-default login" in str(err.value)
    assert standin.requests == []


def test_developer_api_makes_sets_with_gemini_and_refuses_video(standin: StandIn, tmp_path: Path) -> None:
    route = r"/v1[a-z0-9]*/models/gemini-2\.5-flash-image:generateContent"
    standin.route("POST", route, gemini_reply(halves(64, 36)))
    eng = engine(standin, tmp_path, vertex=False)
    got = eng.generate(request(), tmp_path)
    [call] = standin.calls("POST", route)
    assert "/publishers/" not in call.path and call.headers["x-goog-api-key"] == KEY
    assert got.model == "gemini-2.5-flash-image" and got.parameters["auth"].startswith("gemini developer api")
    with pytest.raises(EngineError, match="Veo is offered only through Vertex AI"):
        eng.quote(request(AssetKind.BACKGROUND, duration=4, fps=24))


# -- Gemini image: sets that keep continuity with a reference ---------------------------------------------


def test_gemini_set_sends_the_reference_inline_and_matches_its_frame(standin: StandIn, tmp_path: Path) -> None:
    reference = tmp_path / "sets" / "int_kitchen.png"
    reference.parent.mkdir()
    reference.write_bytes(png(halves(32, 18)))
    standin.route("POST", GEMINI, gemini_reply(halves(96, 54)))
    req = request(width=64, height=36, seed=11, negative_prompt="people",
                  references=(Reference(Path("sets/int_kitchen.png")),))     # relative to the project root
    out = tmp_path / "take"
    got = engine(standin, tmp_path).generate(req, out)

    [call] = standin.calls("POST", GEMINI)
    body = call.json()
    parts = body["contents"][0]["parts"]
    assert parts[0]["text"].startswith("a rain-soaked hanok courtyard at night\nMatch the reference image: ")
    assert parts[0]["text"].endswith("\nAvoid: people")
    inline = parts[1]["inlineData"]
    assert base64.b64decode(inline["data"]) == reference.read_bytes()
    assert (inline.get("mimeType") or inline.get("mime_type")) == "image/png"
    config = body["generationConfig"]
    assert config["responseModalities"] == ["IMAGE"] and config["seed"] == 11
    assert config["imageConfig"] == {"aspectRatio": "16:9"}

    out_pixels = read_image(out / "set.png")
    assert out_pixels.shape == (36, 64, 3)
    assert out_pixels[:, :20].mean(axis=(0, 1)).round().tolist() == [220, 30, 30]
    assert got.model == "gemini-2.5-flash-image" and got.unit == "image" and got.quantity == 1
    assert got.version.startswith("gemini-2.5-flash-image-preview-0925 (google-genai")
    assert got.parameters["references"][0]["path"] == str(reference)
    assert got.parameters["resized"]["from"] == [96, 54]


@pytest.mark.parametrize("reply", [
    Reply(200, {"candidates": [{"finishReason": "IMAGE_SAFETY",
                                "finishMessage": "Unable to show the generated image."}]}),
    Reply(200, {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}),
], ids=["image-safety", "prompt-blocked"])
def test_gemini_refusal_is_not_retried(standin: StandIn, tmp_path: Path, reply: Reply) -> None:
    reference = tmp_path / "ref.png"
    reference.write_bytes(png(halves(32, 18)))
    standin.route("POST", GEMINI, reply)
    with pytest.raises(EngineRefused, match=r"gemini-2\.5-flash-image: refused"):
        engine(standin, tmp_path).generate(request(references=(Reference(reference),)), tmp_path / "take")
    assert len(standin.calls("POST", GEMINI)) == 1


def test_gemini_reply_without_an_image_is_malformed(standin: StandIn, tmp_path: Path) -> None:
    reference = tmp_path / "ref.png"
    reference.write_bytes(png(halves(32, 18)))
    standin.route("POST", GEMINI, Reply(200, {"candidates": [{"content": {"role": "model", "parts": [
        {"text": "Here is your courtyard."}]}, "finishReason": "STOP"}]}))
    with pytest.raises(EngineReplyError, match=r"no image .*finish reason STOP; Here is your courtyard"):
        engine(standin, tmp_path).generate(request(references=(Reference(reference),)), tmp_path / "take")
    assert len(standin.calls("POST", GEMINI)) == 1


def test_gemini_retries_busy_and_times_out(standin: StandIn, tmp_path: Path) -> None:
    reference = tmp_path / "ref.png"
    reference.write_bytes(png(halves(32, 18)))
    req = request(references=(Reference(reference),))
    standin.route("POST", GEMINI, [api_error(429, "RESOURCE_EXHAUSTED", "Resource exhausted."),
                                   gemini_reply(halves(64, 36))])
    engine(standin, tmp_path).generate(req, tmp_path / "a")
    assert len(standin.calls("POST", GEMINI)) == 2

    standin.route("POST", GEMINI, api_error(500, "INTERNAL", "Internal error encountered."))
    with pytest.raises(EngineBusy, match=r"Internal error encountered\..*2 tries"):
        engine(standin, tmp_path, retries=1).generate(req, tmp_path / "b")
    assert len(standin.calls("POST", GEMINI)) == 4

    standin.route("POST", GEMINI, Reply(200, {}, delay=1.0))
    with pytest.raises(EngineTimeout, match=r"gemini-2\.5-flash-image: no answer within 0\.3 s"):
        engine(standin, tmp_path, timeout=0.3).generate(req, tmp_path / "c")
    assert len(standin.calls("POST", GEMINI)) == 5


def test_missing_reference_is_named(standin: StandIn, tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="cannot read reference image") as err:
        engine(standin, tmp_path).generate(request(references=(Reference(Path("sets/gone.png")),)), tmp_path / "take")
    assert str(tmp_path / "sets" / "gone.png") in str(err.value) and standin.requests == []


# -- Veo: moving backgrounds and elements -----------------------------------------------------------------


def test_veo_background_polls_until_done_and_resamples_to_the_request(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", VEO_START, Reply(200, {"name": OPERATION}))
    standin.route("POST", VEO_POLL, [NOT_DONE, NOT_DONE, veo_done(gray_clip())])
    req = request(AssetKind.BACKGROUND, width=32, height=32, duration=1.0, fps=12, negative_prompt="people",
                  look="anamorphic")
    got = engine(standin, tmp_path).generate(req, tmp_path)

    [start] = standin.calls("POST", VEO_START)
    body = start.json()
    assert body["instances"] == [{"prompt": "a rain-soaked hanok courtyard at night. anamorphic"}]
    assert body["parameters"] == {"sampleCount": 1, "durationSeconds": 4, "seed": 7, "aspectRatio": "16:9",
                                  "resolution": "720p", "negativePrompt": "people", "generateAudio": True}
    polls = standin.calls("POST", VEO_POLL)
    assert len(polls) == 3 and got.parameters["polls"] == 3
    assert all(p.json() == {"operationName": OPERATION} for p in polls)

    assert got.files == (tmp_path / "background.mp4",) and [f.name for f in tmp_path.iterdir()] == ["background.mp4"]
    info = probe(got.files[0])
    assert (info.width, info.height, float(info.fps)) == (32, 32, 12.0)
    levels = [round(float(f.mean())) for f in read_frames(got.files[0])]
    assert len(levels) == 12
    # 24 → 12 fps keeps every other source frame: 20, 24, 28, ...
    assert all(abs(level - (20 + 4 * i)) <= 2 for i, level in enumerate(levels)), levels
    p = got.parameters
    assert (got.unit, got.quantity, p["billed_seconds"]) == ("video_second", 4.0, 4)
    assert p["source_fps"] == 24.0 and p["source_frames"] == 96
    assert p["timing"]["retimed"] and p["timing"]["trimmed"] and not p["timing"]["looped"]
    assert p["resized"]["crop"] == [14, 0, 36, 36] and p["operation"] == OPERATION


def test_veo_background_keeps_its_sound_as_long_as_the_picture(standin: StandIn, tmp_path: Path) -> None:
    """Veo 3 is asked for sound with a moving background; its AAC track becomes the take's 48 kHz WAV."""
    standin.route("POST", VEO_START, Reply(200, {"name": OPERATION}))
    standin.route("POST", VEO_POLL, veo_done(with_tone(gray_clip())))
    req = request(AssetKind.BACKGROUND, width=32, height=32, duration=1.5, fps=12)
    got = engine(standin, tmp_path).generate(req, tmp_path)

    [start] = standin.calls("POST", VEO_START)
    assert start.json()["parameters"]["generateAudio"] is True
    assert [f.name for f in got.files] == ["background.mp4", "background.wav"]
    heard = read_sound(got.files[1])
    assert heard.rate == 48000 and heard.codec == "pcm_s24le" and heard.sound.count == 72000   # 1.5 s
    left = heard.sound.samples[4800:, 0]                      # past the AAC encoder's priming
    spectrum = np.abs(np.fft.rfft(left * np.hanning(left.size)))
    assert abs(np.argmax(spectrum) * 48000 / left.size - 440.0) < 2.0      # the tone survived
    assert got.parameters["sound"]["source_rate"] == 44100 and got.parameters["sound"]["trimmed"]
    assert "44.1 kHz resampled to 48 kHz" in got.parameters["sound"]["converted"]


def test_veo_background_without_sound_when_asked_not_to_or_not_sent(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", VEO_START, Reply(200, {"name": OPERATION}))
    standin.route("POST", VEO_POLL, veo_done(with_tone(gray_clip())))
    req = request(AssetKind.BACKGROUND, width=32, height=32, duration=1.0, fps=12)
    silent = engine(standin, tmp_path, audio=False).generate(req, tmp_path / "a")
    assert standin.calls("POST", VEO_START)[0].json()["parameters"]["generateAudio"] is False
    assert [f.name for f in silent.files] == ["background.mp4"] and silent.parameters["generate_audio"] is False

    standin.route("POST", VEO_POLL, veo_done(gray_clip()))          # asked for sound, sent none
    unsent = engine(standin, tmp_path).generate(req, tmp_path / "b")
    assert [f.name for f in unsent.files] == ["background.mp4"] and unsent.parameters["sound"] is None


def test_veo_element_pulls_straight_alpha_from_black(standin: StandIn, tmp_path: Path) -> None:
    frame = np.zeros((36, 64, 3), np.uint8)
    frame[8:24, 16:32] = (120, 60, 20)                     # an ember at half strength, on black
    standin.route("POST", VEO_START, Reply(200, {"name": OPERATION}))
    standin.route("POST", VEO_POLL, veo_done(mp4([frame] * 48)))
    req = request(AssetKind.ELEMENT, duration=0.5, fps=24, element="sparks", prompt="embers drifting up",
                  look="teal and orange")
    got = engine(standin, tmp_path).generate(req, tmp_path)

    prompt = standin.calls("POST", VEO_START)[0].json()["instances"][0]["prompt"]
    assert prompt.startswith("sparks element: embers drifting up. Isolated on a pure black background")
    assert "teal" not in prompt                          # a grade would lift the black the key is pulled from
    assert standin.calls("POST", VEO_START)[0].json()["parameters"]["generateAudio"] is False   # no sound on black
    assert [f.name for f in got.files] == [f"element_{i:04d}.png" for i in range(12)]
    rgba = read_image(got.files[0])
    assert rgba.shape == (36, 64, 4)
    assert abs(int(rgba[16, 24, 3]) - 120) <= 4           # alpha from the brightest channel
    assert np.abs(rgba[16, 24, :3].astype(int) - [255, 127, 42]).max() <= 8   # colour unpremultiplied
    assert rgba[2, 2].tolist() == [0, 0, 0, 0]
    assert got.parameters["alpha"] == "luminance" and got.parameters["resized"] is None


def test_veo_rate_limits_on_start_and_poll_are_retried(standin: StandIn, tmp_path: Path) -> None:
    limited = api_error(429, "RESOURCE_EXHAUSTED", "Resource exhausted.")
    standin.route("POST", VEO_START, [limited, Reply(200, {"name": OPERATION})])
    standin.route("POST", VEO_POLL, [NOT_DONE, api_error(503, "UNAVAILABLE", "try later"),
                                     veo_done(gray_clip(24))])
    got = engine(standin, tmp_path).generate(request(AssetKind.BACKGROUND, duration=0.5, fps=24), tmp_path)
    assert len(standin.calls("POST", VEO_START)) == 2 and len(standin.calls("POST", VEO_POLL)) == 3
    assert got.parameters["polls"] == 2 and probe(got.files[0]).frames == 12


def test_veo_start_server_error_gives_up_busy(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", VEO_START, api_error(500, "INTERNAL", "Internal error."))
    with pytest.raises(EngineBusy, match=r"veo-3\.0-fast-generate-001: the service failed"):
        engine(standin, tmp_path, retries=1).generate(request(AssetKind.BACKGROUND, duration=4, fps=24), tmp_path)
    assert len(standin.calls("POST", VEO_START)) == 2 and standin.calls("POST", VEO_POLL) == []


def test_veo_job_that_never_finishes_times_out_naming_the_operation(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", VEO_START, Reply(200, {"name": OPERATION}))
    standin.route("POST", VEO_POLL, NOT_DONE)
    started = time.monotonic()
    with pytest.raises(EngineTimeout, match=r"did not finish within 0\.3 s") as err:
        engine(standin, tmp_path, timeout=0.3, poll_interval=0.05).generate(
            request(AssetKind.BACKGROUND, duration=4, fps=24), tmp_path)
    assert OPERATION in str(err.value) and "look it up" in str(err.value)
    assert 0.3 <= time.monotonic() - started < 1.5
    assert 2 <= len(standin.calls("POST", VEO_POLL)) <= 8


@pytest.mark.parametrize("reply", [
    Reply(200, {"name": OPERATION, "done": True, "response": {
        "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
        "raiMediaFilteredCount": 1,
        "raiMediaFilteredReasons": ["Unable to generate videos because they violate Vertex AI's usage guidelines "
                                    "(code 17301594)."]}}),
    Reply(200, {"name": OPERATION, "done": True, "error": {"code": 3, "message": (
        "The prompt could not be submitted. This prompt contains words that violate Vertex AI's usage "
        "guidelines. Support codes: 29310472")}}),
], ids=["rai-filtered", "operation-error"])
def test_veo_refusal_is_not_retried(standin: StandIn, tmp_path: Path, reply: Reply) -> None:
    standin.route("POST", VEO_START, Reply(200, {"name": OPERATION}))
    standin.route("POST", VEO_POLL, reply)
    with pytest.raises(EngineRefused, match=f"video job {OPERATION} was"):
        engine(standin, tmp_path).generate(request(AssetKind.BACKGROUND, duration=4, fps=24), tmp_path)
    assert len(standin.calls("POST", VEO_START)) == 1 and len(standin.calls("POST", VEO_POLL)) == 1


def test_veo_start_refusal(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", VEO_START, api_error(400, "INVALID_ARGUMENT", (
        "The prompt could not be submitted. This prompt contains words that violate Vertex AI's usage guidelines.")))
    with pytest.raises(EngineRefused, match="usage guidelines"):
        engine(standin, tmp_path).generate(request(AssetKind.BACKGROUND, duration=4, fps=24), tmp_path)
    assert len(standin.calls("POST", VEO_START)) == 1


def _failed(request_: Request) -> Reply:
    return Reply(200, {"name": OPERATION, "done": True, "error": {"code": 9, "message": "Model busy rebuild."}})


@pytest.mark.parametrize(("start", "poll", "error"), [
    (Reply(200, {}), None, EngineReplyError),
    (Reply(200, {"name": OPERATION}), Reply(200, {"name": OPERATION, "done": True, "response": {"videos": []}}),
     EngineReplyError),
    (Reply(200, {"name": OPERATION}), veo_done(b"\x00\x00\x00\x18ftypmp42 not really"), EngineReplyError),
    (Reply(200, {"name": OPERATION}), _failed, EngineError),
], ids=["no-operation-name", "no-videos", "undecodable-mp4", "job-failed"])
def test_veo_malformed_or_failed_job(standin: StandIn, tmp_path: Path, start: Reply, poll: Any,
                                     error: type[Exception]) -> None:
    standin.route("POST", VEO_START, start)
    if poll is not None:
        standin.route("POST", VEO_POLL, poll)
    with pytest.raises(error, match=r"veo-3\.0-fast-generate-001") as err:
        engine(standin, tmp_path).generate(request(AssetKind.BACKGROUND, duration=1, fps=24), tmp_path)
    assert type(err.value) is error
    assert len(standin.calls("POST", VEO_START)) == 1 and len(standin.calls("POST", VEO_POLL)) <= 1
    assert not list(tmp_path.iterdir())                   # no stray source file, no half-made background


def test_veo_refuses_longer_than_eight_seconds_before_sending(standin: StandIn, tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="longer than Veo makes"):
        engine(standin, tmp_path).generate(request(AssetKind.BACKGROUND, duration=12, fps=24), tmp_path)
    assert standin.requests == []


# -- Veo and Gemini under conditioning: first and last frames, references by role, extension -----------------

VEO31 = "veo-3.1-generate-001"
VEO31_START = r"/v1beta1/publishers/google/models/veo-3\.1-generate-001:predictLongRunning"
VEO31_POLL = VEO_POLL     # the operation name says which model polls it


def _still(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png(rgb))
    return path


def _sent_image(value: dict[str, Any]) -> bytes:
    """The bytes of an image as Vertex's JSON carries it, read back through google-genai's own type."""
    image = types.Image.model_validate({"image_bytes": base64.b64decode(value["bytesBase64Encoded"]),
                                        "mime_type": value["mimeType"]})
    return image.image_bytes or b""


def test_veo_starts_from_the_first_frame_ends_on_the_last_and_takes_references(standin: StandIn,
                                                                               tmp_path: Path) -> None:
    first = _still(tmp_path / "sets" / "first.png", halves(64, 36))
    last = _still(tmp_path / "sets" / "last.png", np.full((36, 64, 3), 90, np.uint8))
    dragon = _still(tmp_path / "cast" / "dragon" / "sheet.png", np.full((36, 64, 3), 200, np.uint8))
    standin.route("POST", VEO31_START, Reply(200, {"name": OPERATION}))
    standin.route("POST", VEO31_POLL, veo_done(gray_clip(48)))
    req = request(AssetKind.BACKGROUND, duration=1.0, fps=12, first_frame=first, last_frame=Path("sets/last.png"),
                  references=(Reference(dragon, "subject"), Reference(first, "set")), camera_hint="slow push-in")
    got = engine(standin, tmp_path, video_model=VEO31).generate(req, tmp_path / "take")

    [start] = standin.calls("POST", VEO31_START)
    [instance] = start.json()["instances"]
    assert instance["prompt"] == "a rain-soaked hanok courtyard at night Camera: slow push-in."
    assert _sent_image(instance["image"]) == first.read_bytes() and instance["image"]["mimeType"] == "image/png"
    assert _sent_image(instance["lastFrame"]) == last.read_bytes()
    refs = instance["referenceImages"]
    assert [r["referenceType"] for r in refs] == ["ASSET", "ASSET"]          # as google-genai sends it
    assert [_sent_image(r["image"]) for r in refs] == [dragon.read_bytes(), first.read_bytes()]   # subject first
    # What was sent, as the SDK's own types read it back.
    source = types.GenerateVideosSource(prompt=instance["prompt"],
                                        image=types.Image(image_bytes=_sent_image(instance["image"])))
    assert source.image is not None and source.image.image_bytes == first.read_bytes()
    sent = got.parameters["conditioning"]
    assert sent["first_frame"]["sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    assert [r["role"] for r in sent["references"]] == ["subject", "set"]


def test_veo_extends_a_clip_by_sending_its_video(standin: StandIn, tmp_path: Path) -> None:
    earlier = tmp_path / "takes" / "v001" / "background.mp4"
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(gray_clip(96))
    standin.route("POST", VEO31_START, Reply(200, {"name": OPERATION}))
    extended = mp4([np.full((36, 64, 3), 20 + i // 3, np.uint8) for i in range(24 * 11)])
    standin.route("POST", VEO31_POLL, veo_done(extended))                 # Veo sends the clip with its extension
    eng = engine(standin, tmp_path, video_model=VEO31)
    req = request(AssetKind.BACKGROUND, duration=11.0, fps=12, extend=earlier)
    assert eng.quote(req).quantity == 7                                      # an extension bills its 7 s
    got = eng.generate(req, tmp_path / "take")
    [start] = standin.calls("POST", VEO31_START)
    body = start.json()
    video = body["instances"][0]["video"]
    assert base64.b64decode(video["bytesBase64Encoded"]) == earlier.read_bytes()
    assert video["mimeType"] == "video/mp4" and body["parameters"]["durationSeconds"] == 7
    assert probe(got.files[0]).frames == 132                                 # 11 s at 12 fps
    with pytest.raises(EngineError, match=r"150 s clip is longer than Veo extends \(at most 148 s\)"):
        eng.quote(request(AssetKind.BACKGROUND, duration=150.0, fps=12, extend=earlier))


def test_veo_that_cannot_take_a_last_frame_is_refused_before_sending(standin: StandIn, tmp_path: Path) -> None:
    last = _still(tmp_path / "last.png", halves(64, 36))
    eng = engine(standin, tmp_path)                                   # veo-3.0-fast: first frame only
    assert eng.honours_for(AssetKind.BACKGROUND).uses == {"first_frame", "camera_hint"}
    veo31 = engine(standin, tmp_path, video_model=VEO31)
    assert "references:set" in veo31.honours_for(AssetKind.BACKGROUND).uses
    assert "references:set" not in veo31.honours_for(AssetKind.ELEMENT).uses       # an element is made on black
    with pytest.raises(EngineError, match=r"veo-3\.0-fast-generate-001 cannot take last_frame for a background"):
        eng.quote(request(AssetKind.BACKGROUND, duration=2.0, fps=12, last_frame=last))
    with pytest.raises(EngineError, match=r"cannot take references:subject"):
        eng.quote(request(AssetKind.BACKGROUND, duration=2.0, fps=12, references=(Reference(last, "subject"),)))
    assert standin.requests == []


def test_gemini_set_names_each_reference_by_its_role(standin: StandIn, tmp_path: Path) -> None:
    dragon = _still(tmp_path / "cast" / "dragon.png", np.full((18, 32, 3), 200, np.uint8))
    ink = _still(tmp_path / "refs" / "ink.png", np.full((18, 32, 3), 10, np.uint8))
    kitchen = _still(tmp_path / "sets" / "kitchen.png", halves(32, 18))
    extra = _still(tmp_path / "sets" / "extra.png", halves(32, 18))
    standin.route("POST", GEMINI, gemini_reply(halves(64, 36)))
    req = request(references=(Reference(extra, "set"), Reference(kitchen, "set"), Reference(ink, "style"),
                              Reference(dragon, "subject")))
    got = engine(standin, tmp_path).generate(req, tmp_path / "take")
    parts = standin.calls("POST", GEMINI)[0].json()["contents"][0]["parts"]
    text = parts[0]["text"]
    assert "Reference image 1: the subject." in text and "Reference image 2: the style." in text
    assert "Reference image 3: the location." in text
    sent = [types.Blob.model_validate(p["inlineData"]).data for p in parts[1:]]   # as the SDK reads its own
    assert sent == [dragon.read_bytes(), ink.read_bytes(), extra.read_bytes()]   # three at most, subject first
    assert [r["role"] for r in got.parameters["references"]] == ["subject", "style", "set"]
    assert got.parameters["references_dropped"] == [str(kitchen)]
