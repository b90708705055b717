"""The diffusers engine, run for real on tiny randomly initialised pipelines saved to disk and loaded back.

Nothing is downloaded: the pipelines are built here from configs (a byte-level CLIP tokenizer written by
hand, a 2-block UNet, a 4-block VAE) and saved with ``save_pretrained``, then loaded through the engine
exactly as a user's folder would be. Their pixels are noise-like, so the tests assert on structure (sizes,
determinism, which pipeline ran, where pixels came from), not on what the picture shows.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch
from diffusers import (
    AutoencoderKL,
    DDIMScheduler,
    StableDiffusionPipeline,
    TextToVideoSDPipeline,
    UNet2DConditionModel,
    UNet3DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from soundstage.engines import load_engine
from soundstage.engines.base import AssetKind, AssetRequest, Engine, Reference, SourceType
from soundstage.engines.diffusers import DiffusersEngine, DiffusersOptions
from soundstage.engines.frames import RETIME_METHOD
from soundstage.errors import EngineError, ProjectError
from soundstage.media import probe, read_frames, read_image, write_png

PROMPT = "a hanok courtyard at dusk"

# -- the tiny models -----------------------------------------------------------------------------------------


def _byte_symbols() -> list[str]:
    """GPT-2's printable stand-in for each of the 256 bytes (transformers 5 no longer exports the table)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    codes, extra = dict(zip(printable, printable, strict=True)), 0
    for byte in range(256):
        if byte not in codes:
            codes[byte] = 256 + extra
            extra += 1
    return [chr(codes[byte]) for byte in range(256)]


def _tokenizer(folder: Path) -> CLIPTokenizer:
    folder.mkdir(parents=True)
    symbols = _byte_symbols()
    vocab = {token: i for i, token in enumerate([*symbols, *(s + "</w>" for s in symbols),
                                                 "<|startoftext|>", "<|endoftext|>"])}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)


def _parts(scratch: Path) -> dict[str, Any]:
    torch.manual_seed(0)
    tokenizer = _tokenizer(scratch / "tokenizer")
    size = len(tokenizer.get_vocab())
    text = CLIPTextModel(CLIPTextConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, vocab_size=size,
        bos_token_id=size - 2, eos_token_id=size - 1, pad_token_id=size - 1, max_position_embeddings=77,
        projection_dim=32))
    vae = AutoencoderKL(
        block_out_channels=(8, 8, 8, 8), layers_per_block=1, norm_num_groups=8, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, sample_size=64)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    return {"text_encoder": text, "tokenizer": tokenizer, "vae": vae, "scheduler": scheduler}


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A tiny text-to-image and a tiny text-to-video pipeline, saved as a user would save them."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HF_HUB_OFFLINE", "1")
        root = tmp_path_factory.mktemp("diffusers")
        parts = _parts(root / "scratch")
        unet = UNet2DConditionModel(
            block_out_channels=(32, 64), layers_per_block=1, sample_size=8, cross_attention_dim=32,
            attention_head_dim=8, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"))
        StableDiffusionPipeline(unet=unet, safety_checker=None, feature_extractor=None,
                                requires_safety_checker=False, **parts).save_pretrained(root / "tiny-sd")
        unet3d = UNet3DConditionModel(
            block_out_channels=(32, 64), layers_per_block=1, sample_size=8, cross_attention_dim=32,
            attention_head_dim=4, down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
            up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"))
        TextToVideoSDPipeline(unet=unet3d, **parts).save_pretrained(root / "tiny-video")
        yield {"root": root, "image": root / "tiny-sd", "video": root / "tiny-video"}


@pytest.fixture(scope="session")
def engine(models: dict[str, Path]) -> DiffusersEngine:
    """One engine for the session, as a project would hold it: the pipeline loads once."""
    options = DiffusersOptions(model="tiny-sd", video_model="tiny-video", device="cpu", steps=2,
                               video_frames=4, video_fps=8.0)
    return DiffusersEngine(options, root=models["root"])


def request(kind: AssetKind = AssetKind.SET, width: int = 64, height: int = 64, seed: int = 1,
            **kw: Any) -> AssetRequest:
    return AssetRequest(kind=kind, prompt=PROMPT, width=width, height=height, seed=seed, **kw)


def pixels(engine: DiffusersEngine, req: AssetRequest, out: Path) -> np.ndarray:
    got = engine.generate(req, out)
    return read_image(got.files[0])


# -- watching the network ------------------------------------------------------------------------------------

_connections: list[tuple[str, tuple[Any, ...]]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _connections is not None and event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname"):
        _connections.append((event, args))


sys.addaudithook(_audit)


@pytest.fixture
def network() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Every socket connect or name lookup this process makes while the test runs (Python audit events)."""
    global _connections
    _connections = []
    try:
        yield _connections
    finally:
        _connections = None


# -- sets ----------------------------------------------------------------------------------------------------


def test_set_is_an_rgb_png_at_the_requested_size_and_records_how_it_was_made(
        engine: DiffusersEngine, tmp_path: Path) -> None:
    assert isinstance(engine, Engine)
    got = engine.generate(request(width=64, height=64, negative_prompt="blurry", look="teal"), tmp_path)
    assert got.files == (tmp_path / "set.png",)
    image = read_image(got.files[0])
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert image.std() > 1.0                       # a drawing, not a blank
    assert got.source_type is SourceType.TRAINED_ALGORITHMIC
    assert got.engine == "diffusers" and got.model == "tiny-sd"
    assert got.unit == "cpu_second" and got.quantity == got.seconds > 0
    p = got.parameters
    assert p["mode"] == "text-to-image" and p["strength"] is None
    assert p["prompt"] == f"{PROMPT}. teal" and p["negative_prompt"] == "blurry"
    assert p["pipeline"] == "StableDiffusionPipeline" and p["scheduler"] == "DDIMScheduler"
    assert p["model_path"] == str(engine.root / "tiny-sd") and len(p["config_hash"]) == 16
    assert p["steps"] == 2 and p["guidance"] == 7.0 and p["seed"] == 1
    assert p["device"] == "cpu" and p["dtype"] == "float32"
    assert p["generated_size"] == [64, 64] and p["final_size"] == [64, 64]
    assert p["extension"] is None and p["resized"] is None
    import diffusers
    assert p["diffusers"] == diffusers.__version__ and p["torch"] == torch.__version__
    json.dumps(p)                                  # the take store keeps it as JSON


def test_same_seed_gives_byte_identical_png_and_another_seed_does_not(
        engine: DiffusersEngine, models: dict[str, Path], tmp_path: Path) -> None:
    first = engine.generate(request(seed=7), tmp_path / "a").files[0].read_bytes()
    again = engine.generate(request(seed=7), tmp_path / "b").files[0].read_bytes()
    other = pixels(engine, request(seed=8), tmp_path / "c")
    assert first == again
    fresh = load_engine("diffusers", {"model": str(models["image"]), "device": "cpu", "steps": 2})
    assert fresh.generate(request(seed=7), tmp_path / "d").files[0].read_bytes() == first
    assert np.abs(read_image(tmp_path / "a" / "set.png").astype(int) - other).mean() > 2


def test_the_pipeline_loads_once_per_engine(models: dict[str, Path], tmp_path: Path) -> None:
    engine = DiffusersEngine(DiffusersOptions(model=str(models["image"]), device="cpu", steps=2), root=tmp_path)
    first = engine.generate(request(), tmp_path / "a")
    second = engine.generate(request(seed=2), tmp_path / "b")
    assert first.parameters["load_seconds"] > 0
    assert second.parameters["load_seconds"] == 0


def test_a_reference_set_steers_the_drawing_through_image_to_image(
        engine: DiffusersEngine, tmp_path: Path) -> None:
    red, blue = tmp_path / "red.png", tmp_path / "blue.png"
    write_png(red, np.full((80, 120, 3), (200, 30, 20), np.uint8))
    write_png(blue, np.full((80, 120, 3), (20, 40, 210), np.uint8))
    plain = pixels(engine, request(seed=3), tmp_path / "plain")
    got = engine.generate(request(seed=3, references=(Reference(red),)), tmp_path / "red")
    p = got.parameters
    assert p["mode"] == "image-to-image" and p["pipeline"] == "StableDiffusionImg2ImgPipeline"
    assert p["reference"] == str(red) and p["strength"] == 0.55
    from_red = read_image(got.files[0])
    from_blue = pixels(engine, request(seed=3, references=(Reference(blue),)), tmp_path / "blue")
    assert from_red.shape == (64, 64, 3)
    assert np.abs(from_red.astype(int) - plain).mean() > 2
    assert np.abs(from_red.astype(int) - from_blue).mean() > 2      # the reference, not the seed, made it differ


def test_a_missing_reference_is_an_engine_error_naming_it(engine: DiffusersEngine, tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="reference") as caught:
        engine.generate(request(references=(Reference(tmp_path / "gone.png"),)), tmp_path / "out")
    assert caught.value.path == tmp_path / "gone.png"
    one_step = DiffusersEngine(DiffusersOptions(model="tiny-sd", device="cpu", steps=1), root=engine.root)
    with pytest.raises(EngineError, match="steps × strength"):
        one_step.generate(request(references=(Reference(tmp_path / "gone.png"),)), tmp_path / "out")


def test_a_wider_frame_is_extended_by_inpainting_its_margins_not_stretched(
        engine: DiffusersEngine, tmp_path: Path) -> None:
    square = pixels(engine, request(width=64, height=64, seed=5), tmp_path / "square").astype(int)
    got = engine.generate(request(width=96, height=64, seed=5), tmp_path / "wide")
    wide = read_image(got.files[0]).astype(int)
    assert wide.shape == (64, 96, 3)
    p = got.parameters
    assert p["generated_size"] == [64, 64] and p["final_size"] == [96, 64]
    ext = p["extension"]
    assert ext["method"] == "inpaint" and ext["pipeline"] == "StableDiffusionInpaintPipeline"
    assert ext["canvas_size"] == [128, 64] and ext["placed_at"] == [32, 0] and ext["margins"] == [32, 0, 32, 0]
    assert p["resized"]["crop"] == [16, 0, 96, 64] and p["resized"]["scale"] == 1.0
    # The drawn frame sits in the middle untouched, away from the seam the inpainting blends.
    seam = ext["overlap"]
    middle = wide[:, 16 + seam : 80 - seam]
    assert np.abs(middle - square[:, seam : 64 - seam]).max() <= 1
    # The margins are new pixels: neither the drawn frame stretched nor its edge smeared outwards.
    stretched = cv2.resize(square.astype(np.uint8), (96, 64), interpolation=cv2.INTER_LINEAR).astype(int)
    assert np.abs(wide - stretched).mean() > 2
    assert np.abs(wide[:, :8] - square[:, :1]).mean() > 2


def test_a_taller_frame_is_extended_at_top_and_bottom(engine: DiffusersEngine, tmp_path: Path) -> None:
    got = engine.generate(request(width=64, height=112, seed=5), tmp_path)
    assert read_image(got.files[0]).shape == (112, 64, 3)
    ext = got.parameters["extension"]
    assert ext["method"] == "inpaint" and ext["canvas_size"] == [64, 128] and ext["placed_at"] == [0, 32]


# -- elements ------------------------------------------------------------------------------------------------


def test_an_element_is_straight_rgba_with_alpha_from_luminance(
        models: dict[str, Path], tmp_path: Path) -> None:
    engine = DiffusersEngine(DiffusersOptions(model="tiny-sd", device="cpu", steps=2), root=models["root"])
    got = engine.generate(request(AssetKind.ELEMENT, width=96, height=64, element="fire", duration=0.25, fps=12),
                          tmp_path)
    assert [f.name for f in got.files] == ["element_0000.png", "element_0001.png", "element_0002.png"]
    frames = [read_image(f) for f in got.files]
    assert all(f.shape == (64, 96, 4) for f in frames)
    assert all(np.array_equal(frames[0], f) for f in frames[1:])          # one still, repeated
    rgba = frames[0].astype(int)
    alpha, colour = rgba[..., 3], rgba[..., :3]
    # The drawing was padded with black to the wider frame: black is fully transparent and colourless.
    assert (alpha[:, :16] == 0).all() and (alpha[:, -16:] == 0).all() and (colour[alpha == 0] == 0).all()
    drawn = alpha[:, 16:80]
    assert drawn.min() < drawn.max() and drawn.mean() > 10
    # Straight colour: wherever there is alpha, the brightest channel is full (colour = rgb / alpha).
    assert (colour.max(axis=2)[alpha > 8] >= 250).all()
    p = got.parameters
    assert p["alpha"] == "luminance" and p["animated"] is False and "repeated" in p
    assert p["frames"] == 3 and p["fps"] == 12 and p["element"] == "fire"
    assert p["prompt"] == f"fire, {PROMPT}, on a pure black background"
    assert p["extension"]["method"] == "black" and p["generated_size"] == [64, 64]


def test_an_element_with_a_video_model_is_animated(engine: DiffusersEngine, tmp_path: Path) -> None:
    got = engine.generate(request(AssetKind.ELEMENT, element="sparks", duration=0.5, fps=8), tmp_path)
    frames = [read_image(f) for f in got.files]
    assert len(frames) == 4 and all(f.shape == (64, 64, 4) for f in frames)
    assert not np.array_equal(frames[0], frames[1])
    assert got.parameters["animated"] is True and got.parameters["pipeline"] == "TextToVideoSDPipeline"


# -- backgrounds ---------------------------------------------------------------------------------------------


def test_a_background_comes_from_the_video_model_retimed_to_the_request(
        engine: DiffusersEngine, tmp_path: Path) -> None:
    got = engine.generate(request(AssetKind.BACKGROUND, width=64, height=48, duration=1.0, fps=8), tmp_path)
    assert got.files == (tmp_path / "background.mp4",)
    info = probe(got.files[0])
    assert (info.width, info.height, info.fps) == (64, 48, 8)
    frames = list(read_frames(got.files[0]))
    assert len(frames) == 8
    p = got.parameters
    assert p["pipeline"] == "TextToVideoSDPipeline" and p["source_frames"] == 4 and p["frames"] == 8
    assert p["timing"] == {"source_frames": 4, "source_fps": 8.0, "frames": 8, "fps": 8, "method": RETIME_METHOD,
                           "looped": True, "trimmed": False, "retimed": False}
    assert p["resized"]["from"] == [64, 64] and p["resized"]["crop"] == [0, 8, 64, 48]
    # Source frames 0-3 play twice: the loop shows the same picture again (within H.264's loss).
    assert np.abs(frames[0].astype(int) - frames[4]).mean() < np.abs(frames[0].astype(int) - frames[2]).mean()


def test_a_background_without_a_video_model_says_how_to_get_one(
        models: dict[str, Path], tmp_path: Path) -> None:
    engine = DiffusersEngine(DiffusersOptions(model="tiny-sd", device="cpu"), root=models["root"])
    wanted = request(AssetKind.BACKGROUND, duration=1.0, fps=8)
    for attempt in (lambda: engine.quote(wanted), lambda: engine.generate(wanted, tmp_path)):
        with pytest.raises(EngineError, match="moving background") as caught:
            attempt()
        assert "video_model" in str(caught.value)


def test_a_moving_request_needs_a_positive_duration_and_fps(engine: DiffusersEngine, tmp_path: Path) -> None:
    for wanted in (request(AssetKind.BACKGROUND, duration=1.0, fps=0),
                   request(AssetKind.ELEMENT, element="fire", duration=0.0, fps=24)):
        with pytest.raises(EngineError, match="needs a positive duration and fps"):
            engine.quote(wanted)
        with pytest.raises(EngineError, match="needs a positive duration and fps"):
            engine.generate(wanted, tmp_path)
    assert list(tmp_path.iterdir()) == []


# -- missing models, options, quotes -------------------------------------------------------------------------


def test_a_missing_model_says_where_it_looked_and_never_downloads(
        tmp_path: Path, network: list[tuple[str, tuple[Any, ...]]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = DiffusersEngine(DiffusersOptions(model="models/sdxl", device="cpu"), root=tmp_path)
    with pytest.raises(EngineError) as caught:
        folder.generate(request(), tmp_path / "out")
    message = str(caught.value)
    assert str(tmp_path / "models" / "sdxl") in message and "not downloaded" in message
    assert "hf download" in message and "never downloads" in message
    with pytest.raises(EngineError, match="not downloaded"):
        folder.quote(request())
    repo = DiffusersEngine(DiffusersOptions(model="nobody/not-in-cache", device="cpu"), root=tmp_path)
    with pytest.raises(EngineError, match="Hugging Face cache") as caught:
        repo.generate(request(), tmp_path / "out")
    assert "nobody/not-in-cache" in str(caught.value)
    assert network == []
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_folder_with_configs_but_no_weights_quotes_but_cannot_load(
        models: dict[str, Path], tmp_path: Path, network: list[tuple[str, tuple[Any, ...]]]) -> None:
    bare = tmp_path / "bare"
    for config in models["image"].rglob("*.json"):
        target = bare / config.relative_to(models["image"])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(config, target)
    engine = DiffusersEngine(DiffusersOptions(model="bare", device="cpu", steps=2), root=tmp_path)
    assert engine.quote(request()).quantity > 0              # quoting reads configs only
    with pytest.raises(EngineError, match="could not be loaded") as caught:
        engine.generate(request(), tmp_path / "out")
    assert str(bare) in str(caught.value)
    assert network == []


def test_a_folder_that_is_not_a_pipeline_is_refused(tmp_path: Path) -> None:
    (tmp_path / "weights").mkdir()
    engine = DiffusersEngine(DiffusersOptions(model="weights", device="cpu"), root=tmp_path)
    with pytest.raises(EngineError, match=r"model_index\.json"):
        engine.quote(request())


def test_quote_names_the_model_and_prices_cpu_seconds_by_steps_and_size(models: dict[str, Path]) -> None:
    def quote(steps: int, width: int = 64, **kw: Any) -> Any:
        engine = DiffusersEngine(DiffusersOptions(model="tiny-sd", device="cpu", steps=steps), root=models["root"])
        return engine.quote(request(width=width, **kw))

    two = quote(2)
    assert (two.engine, two.model, two.unit) == ("diffusers", "tiny-sd", "cpu_second")
    # 2 steps × 64² pixels × 15 s per step-megapixel
    assert two.quantity == pytest.approx(2 * 64 * 64 / 1e6 * 15, abs=1e-3)
    assert quote(4).quantity == pytest.approx(2 * two.quantity, abs=1e-3)
    assert quote(2, width=96).quantity > two.quantity                     # the inpainting pass is priced too
    assert quote(2, references=(Reference(Path("set.png")),)).quantity < two.quantity  # img2img: strength × steps


def test_load_engine_builds_it_from_the_project_table_and_refuses_unknown_keys(
        models: dict[str, Path], tmp_path: Path) -> None:
    engine = load_engine("diffusers", {"model": "tiny-sd", "device": "cpu", "steps": 2}, root=models["root"])
    assert isinstance(engine, DiffusersEngine) and engine.takes_references
    assert engine.kinds == {AssetKind.SET, AssetKind.BACKGROUND, AssetKind.ELEMENT}
    got = engine.generate(request(), tmp_path)
    assert read_image(got.files[0]).shape == (64, 64, 3)
    with pytest.raises(ProjectError, match=r"engines\.diffusers\.stepz"):
        load_engine("diffusers", {"model": "tiny-sd", "stepz": 2}, root=models["root"])
    with pytest.raises(ProjectError, match=r"engines\.diffusers\.device"):
        load_engine("diffusers", {"model": "tiny-sd", "device": "tpu"}, root=models["root"])
    with pytest.raises(ProjectError, match=r"engines\.diffusers\.model"):
        load_engine("diffusers", {}, root=models["root"])


# -- IP-Adapter and inpainting -------------------------------------------------------------------------------


def _ip_adapter(folder: Path, unet: UNet2DConditionModel) -> None:
    """A random IP-Adapter for ``unet`` in the layout ``load_ip_adapter`` reads: the weights (``image_proj.*``,
    ``ip_adapter.<n>.to_k_ip/to_v_ip``, numbered 1, 3, 5... over the cross-attention layers) and a CLIP image
    encoder in ``image_encoder/``."""
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(1)
    CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, image_size=32,
        patch_size=4, projection_dim=32)).save_pretrained(folder / "image_encoder")
    cross, channels = unet.config.cross_attention_dim, unet.config.block_out_channels
    weights = {"image_proj.proj.weight": torch.randn(4 * cross, 32) * 0.3,
               "image_proj.proj.bias": torch.zeros(4 * cross),
               "image_proj.norm.weight": torch.ones(cross), "image_proj.norm.bias": torch.zeros(cross)}
    key = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        block = int(name.split(".")[1]) if not name.startswith("mid_block") else -1
        hidden = (channels[-1] if block < 0 else
                  list(reversed(channels))[block] if name.startswith("up_blocks") else channels[block])
        for part in ("to_k_ip", "to_v_ip"):
            weights[f"ip_adapter.{key}.{part}.weight"] = torch.randn(hidden, cross) * 0.5
        key += 2
    save_file(weights, folder / "ip-adapter.safetensors")


@pytest.fixture(scope="session")
def steered(models: dict[str, Path]) -> DiffusersEngine:
    """The tiny text-to-image model with a random IP-Adapter beside it, as a project would configure it."""
    folder = models["root"] / "adapters" / "ip"
    if not folder.is_dir():
        _ip_adapter(folder, UNet2DConditionModel.from_pretrained(models["image"], subfolder="unet"))
    options = DiffusersOptions(model="tiny-sd", device="cpu", steps=2, ip_adapter="adapters/ip",
                               ip_adapter_weight_name="ip-adapter.safetensors", ip_adapter_scale=1.0)
    return DiffusersEngine(options, root=models["root"])


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every text-to-image pipeline call (the real call still runs)."""
    seen: list[dict[str, Any]] = []
    real = StableDiffusionPipeline.__call__

    def recorded(pipe: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return real(pipe, *args, **kwargs)

    monkeypatch.setattr(StableDiffusionPipeline, "__call__", recorded)
    return seen


def _flat(folder: Path, name: str, colour: tuple[int, int, int]) -> tuple[Path, np.ndarray]:
    pixels = np.zeros((48, 48, 3), np.uint8)
    pixels[:] = colour
    pixels[12:36, 12:36] = 255 - np.array(colour, np.uint8)     # a shape, for the image encoder to see
    write_png(folder / name, pixels)
    return folder / name, pixels


def test_a_subject_reference_is_sent_to_the_ip_adapter_and_steers_the_pixels(
        steered: DiffusersEngine, calls: list[dict[str, Any]], tmp_path: Path) -> None:
    red, red_pixels = _flat(tmp_path, "red.png", (200, 30, 20))
    blue, _ = _flat(tmp_path, "blue.png", (20, 40, 210))
    got = steered.generate(request(seed=4, references=(Reference(red, "subject"),)), tmp_path / "red")
    (sent,) = calls
    (images,) = sent["ip_adapter_image"]                      # one adapter, one picture
    assert len(images) == 1 and np.array_equal(np.asarray(images[0]), red_pixels)
    p = got.parameters
    assert p["mode"] == "text-to-image"
    assert p["ip_adapter"] == {"path": str(steered.root / "adapters" / "ip"), "scale": 1.0,
                               "weight_name": "ip-adapter.safetensors", "images": [str(red)]}
    from_red = read_image(got.files[0]).astype(int)
    from_blue = pixels(steered, request(seed=4, references=(Reference(blue, "subject"),)), tmp_path / "blue")
    again = pixels(steered, request(seed=4, references=(Reference(red, "subject"),)), tmp_path / "again")
    assert np.abs(from_red - from_blue).mean() > 2              # the reference, not the seed, made it differ
    assert np.array_equal(from_red, again)


def test_without_a_reference_the_loaded_ip_adapter_stays_out_of_the_picture(
        steered: DiffusersEngine, engine: DiffusersEngine, calls: list[dict[str, Any]], tmp_path: Path) -> None:
    plain = pixels(engine, request(seed=6), tmp_path / "plain").astype(int)
    got = steered.generate(request(seed=6), tmp_path / "steered")
    ((blank,),) = calls[-1]["ip_adapter_image"]               # a loaded adapter is given black, at scale 0
    assert np.asarray(blank).max() == 0 and got.parameters["ip_adapter"] is None
    assert np.abs(read_image(got.files[0]).astype(int) - plain).max() <= 1


def test_a_set_reference_is_drawn_from_while_subject_and_style_steer_through_the_ip_adapter(
        steered: DiffusersEngine, tmp_path: Path) -> None:
    subject, _ = _flat(tmp_path, "subject.png", (200, 30, 20))
    style, _ = _flat(tmp_path, "style.png", (30, 200, 20))
    location, _ = _flat(tmp_path, "set.png", (90, 90, 90))
    refs = (Reference(location, "set"), Reference(style, "style"), Reference(subject, "subject"))
    got = steered.generate(request(seed=2, width=96, references=refs), tmp_path / "out")
    p = got.parameters
    assert p["mode"] == "image-to-image" and p["reference"] == str(location)
    assert p["ip_adapter"]["images"] == [str(subject), str(style)]
    assert p["extension"]["method"] == "inpaint"     # the margins are painted with the adapter loaded, unsteered
    assert read_image(got.files[0]).shape == (64, 96, 3)


def test_a_still_element_takes_its_cast_member_through_the_ip_adapter(
        steered: DiffusersEngine, tmp_path: Path) -> None:
    red, _ = _flat(tmp_path, "red.png", (200, 30, 20))
    blue, _ = _flat(tmp_path, "blue.png", (20, 40, 210))

    def creature(sheet: Path, out: str) -> Any:
        return steered.generate(request(AssetKind.ELEMENT, element="ghost", duration=0.125, fps=8,
                                        seed=3, references=(Reference(sheet, "subject"),)), tmp_path / out)

    got = creature(red, "red")
    assert got.parameters["ip_adapter"]["images"] == [str(red)]
    first = read_image(got.files[0]).astype(int)
    assert np.abs(first - read_image(creature(blue, "blue").files[0])).mean() > 1


def test_subject_references_are_refused_before_anything_is_spent_without_an_ip_adapter(
        engine: DiffusersEngine, steered: DiffusersEngine, tmp_path: Path) -> None:
    sheet, _ = _flat(tmp_path, "sheet.png", (200, 30, 20))
    for kind, extra in ((AssetKind.SET, {}), (AssetKind.ELEMENT, {"element": "dragon", "duration": 0.5, "fps": 8})):
        assert "references:subject" not in engine.honours_for(kind).uses
        with pytest.raises(EngineError, match="cannot take references:subject") as caught:
            engine.quote(request(kind, references=(Reference(sheet, "subject"),), **extra))
        assert "ip_adapter" in str(caught.value)
    assert {"references:subject", "references:style", "first_frame"} <= steered.honours_for(AssetKind.SET).uses
    assert "references:subject" in steered.honours_for(AssetKind.ELEMENT).uses
    # A video model makes the element, and it takes no IP-Adapter; nor does a moving background.
    moving = DiffusersEngine(steered.options.model_copy(update={"video_model": "tiny-video"}), root=steered.root)
    assert moving.honours_for(AssetKind.ELEMENT).uses == frozenset()
    assert moving.honours_for(AssetKind.BACKGROUND).uses == frozenset()


def test_missing_ip_adapter_weights_say_where_they_were_looked_for(models: dict[str, Path], tmp_path: Path) -> None:
    options = DiffusersOptions(model="tiny-sd", device="cpu", steps=2, ip_adapter="adapters/nowhere")
    engine = DiffusersEngine(options, root=models["root"])
    with pytest.raises(EngineError, match="IP-Adapter weights are not on this machine") as caught:
        engine.generate(request(), tmp_path)
    assert caught.value.path == models["root"] / "adapters" / "nowhere" / "ip-adapter_sd15.safetensors"


def test_an_ip_adapter_made_for_another_model_is_one_clear_error(
        models: dict[str, Path], steered: DiffusersEngine, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    wrong = tmp_path / "wrong"
    shutil.copytree(steered.root / "adapters" / "ip", wrong)
    found = load_file(wrong / "ip-adapter.safetensors")
    weights = {k: v[:, :16].contiguous() if "to_k_ip" in k else v for k, v in found.items()}
    save_file(weights, wrong / "ip-adapter.safetensors")       # keys of another cross-attention width
    options = steered.options.model_copy(update={"ip_adapter": str(wrong)})
    with pytest.raises(EngineError, match="could not be loaded into StableDiffusionPipeline") as caught:
        DiffusersEngine(options, root=models["root"]).generate(request(), tmp_path / "out")
    assert caught.value.path == wrong / "ip-adapter.safetensors"


def test_a_first_frame_with_alpha_is_inpainted_where_transparent_and_kept_where_opaque(
        engine: DiffusersEngine, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    plate = np.dstack([rng.integers(60, 200, (64, 64, 3)), np.full((64, 64), 255)]).astype(np.uint8)
    plate[:, 32:, 3] = 0                                        # the right half is cut out, to be painted
    plate[:, 32:, :3] = 0
    write_png(tmp_path / "plate.png", plate)
    got = engine.generate(request(seed=9, first_frame=tmp_path / "plate.png"), tmp_path / "out")
    p = got.parameters
    assert p["mode"] == "inpaint" and p["pipeline"] == "StableDiffusionInpaintPipeline"
    assert p["reference"] == str(tmp_path / "plate.png") and p["painted"] == 0.5
    out = read_image(got.files[0]).astype(int)
    assert np.abs(out[:, :32] - plate[:, :32, :3]).max() <= 1    # kept exactly
    assert np.abs(out[:, 32:] - plate[:, 32:, :3]).mean() > 20   # painted: not the black that was cut out
    assert out[:, 32:].std() > 1.0
    # A wider first frame is painted whole at its own shape, never cropped to the model's and extended.
    wide = np.dstack([rng.integers(60, 200, (64, 128, 3)), np.full((64, 128), 255)]).astype(np.uint8)
    wide[20:44, 50:80, 3] = 0
    write_png(tmp_path / "wide.png", wide)
    wanted = request(width=128, height=64, seed=9, first_frame=tmp_path / "wide.png")
    # priced as one pass over the whole frame: 2 steps × 128×64 pixels × 15 s per step-megapixel
    assert engine.quote(wanted).quantity == pytest.approx(2 * 128 * 64 / 1e6 * 15, abs=1e-3)
    got = engine.generate(wanted, tmp_path / "w")
    assert got.parameters["generated_size"] == [128, 64] and got.parameters["extension"] is None
    out = read_image(got.files[0]).astype(int)
    kept = wide[..., 3] == 255
    assert np.abs(out[kept] - wide[..., :3][kept]).max() <= 1
    assert np.abs(out[~kept] - wide[..., :3][~kept]).mean() > 10


def test_an_opaque_first_frame_is_drawn_from_image_to_image(engine: DiffusersEngine, tmp_path: Path) -> None:
    start, _ = _flat(tmp_path, "start.png", (200, 30, 20))
    got = engine.generate(request(seed=3, first_frame=start), tmp_path / "out")
    assert got.parameters["mode"] == "image-to-image" and got.parameters["reference"] == str(start)
    location, _ = _flat(tmp_path, "set.png", (90, 90, 90))
    with pytest.raises(EngineError, match="from one picture"):        # no IP-Adapter to take the set
        engine.quote(request(first_frame=start, references=(Reference(location, "set"),)))
