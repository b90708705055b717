"""The provenance watermark on real plate pixels: the take id survives a review copy, and nothing else reads.

Small frames (640×360, downscaled to 320×180 and H.264-encoded at CRF 23, as a review copy is) keep these
fast; the full-size figures are in benchmarks/watermark.py.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from soundstage.media import read_frames
from soundstage.media.video import VideoWriter
from soundstage.provenance.watermark import MIN_CONFIDENCE, PAYLOAD_BYTES, detect, detect_reframed, embed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import watermark as bench  # noqa: E402  (the benchmark's attacks, shared with its own small-path test)

PLATES = ROOT / "examples" / "moonlit-hanok" / "plates"
KEY = 0x5EED_F11E
PAYLOAD = bytes.fromhex("a17c03e9d25b4f80")


@pytest.fixture(scope="module", params=["cliff_turn", "rooftop_blue"])
def plate(request: pytest.FixtureRequest) -> list[np.ndarray]:
    frames = itertools.islice(read_frames(PLATES / f"{request.param}.mp4"), 0, 12, 4)
    return [cv2.resize(f, (640, 360), interpolation=cv2.INTER_AREA) for f in frames]


def review_copy(frames: list[np.ndarray], folder: Path) -> list[np.ndarray]:
    """Downscale by half and re-encode at CRF 23: what a marked render looks like once shared."""
    small = [cv2.resize(f, (320, 180), interpolation=cv2.INTER_AREA) for f in frames]
    with VideoWriter(folder / "review.mp4", width=320, height=180, fps=24, crf=23) as writer:
        for frame in small:
            writer.write(frame)
    return list(read_frames(folder / "review.mp4"))


def test_payload_survives_h264_and_downscale(plate: list[np.ndarray], tmp_path: Path) -> None:
    marked = [embed(f, PAYLOAD, KEY) for f in plate]
    seen = review_copy(marked, tmp_path)
    assert len(seen) == len(plate)
    assert detect(seen, KEY).payload == PAYLOAD
    for frame in seen:                                   # each frame alone reads too
        found = detect([frame], KEY)
        assert found.payload == PAYLOAD
        assert np.array_equal(found.bits, np.unpackbits(np.frombuffer(PAYLOAD, np.uint8)))


def test_unmarked_frames_give_none(plate: list[np.ndarray], tmp_path: Path) -> None:
    for frames in (plate, review_copy(plate, tmp_path)):
        found = detect(frames, KEY)
        assert found.payload is None
        assert found.confidence < 2.0
        assert all(detect([f], KEY).payload is None for f in frames)


def test_wrong_key_gives_none(plate: list[np.ndarray], tmp_path: Path) -> None:
    seen = review_copy([embed(f, PAYLOAD, KEY) for f in plate], tmp_path)
    assert detect(seen, KEY).payload == PAYLOAD
    for other in (KEY + 1, KEY ^ 0xFFFF_0000, 7):
        assert detect(seen, other).payload is None


def test_embed_is_invisible(plate: list[np.ndarray]) -> None:
    for frame in plate:
        marked = embed(frame, PAYLOAD, KEY)
        assert marked.shape == frame.shape and marked.dtype == np.uint8
        assert cv2.PSNR(frame, marked) >= 38.0
        assert not np.array_equal(marked, frame)
        assert np.abs(marked.astype(int) - frame).max() <= 16      # no visible spikes anywhere


def test_different_payloads_read_back_as_themselves(plate: list[np.ndarray]) -> None:
    rng = np.random.default_rng(3)
    for _ in range(3):
        payload = rng.bytes(PAYLOAD_BYTES)
        assert detect([embed(plate[0], payload, KEY)], KEY).payload == payload


def test_bad_input_is_refused(plate: list[np.ndarray]) -> None:
    with pytest.raises(ValueError, match="8 bytes"):
        embed(plate[0], b"short", KEY)
    with pytest.raises(ValueError, match="RGB frame"):
        embed(plate[0][..., 0], PAYLOAD, KEY)
    with pytest.raises(ValueError, match="at least one frame"):
        detect([], KEY)


def test_benchmark_small_path_produces_its_table() -> None:
    result = bench.run(small=True, repeat=1)
    assert set(result["attacks"]) == set(bench.ATTACKS)
    assert result["attacks"]["both"]["pooled_worst"] == 1.0
    assert result["attacks"]["both"]["pooled_mean"] >= 0.95, "720p-style downscale plus CRF 23 reads"
    assert result["attacks"]["crop 5%"]["read_pooled"] == 0.0, "plain detection cannot read a crop"
    framed = result["reframed"]
    assert framed["read_8_frames"]["crop 5%"] == 1.0 and framed["read_8_frames"]["crop 8% across, 3% down"] == 1.0
    assert framed["false_positive"] == 0 and framed["trials"] == result["clips"]
    assert result["false_positive"]["single"] == 0 and result["false_positive"]["pooled"] == 0
    assert result["psnr_worst"] >= 38.0
    report = bench.report(result)
    assert "| both |" in report and "reframing search" in report and "| crop 5% |" in report


@pytest.mark.parametrize(("across", "down"), [(0.05, 0.05), (0.08, 0.02), (0.1, 0.0)])
def test_a_centre_crop_is_put_back_in_place_and_read(plate: list[np.ndarray], across: float, down: float) -> None:
    marked = [embed(f, PAYLOAD, KEY) for f in plate]
    cropped = [bench.centre_crop(f, across, down, 240) for f in marked]
    assert detect(cropped, KEY).payload is None, "as it is, the crop moved every cell"
    found, crop = detect_reframed(cropped, KEY)
    assert found.payload == PAYLOAD
    assert crop == pytest.approx((across, down), abs=0.011)


def test_no_reframing_reads_a_mark_into_an_unmarked_picture(plate: list[np.ndarray]) -> None:
    found, _ = detect_reframed(plate, KEY)
    assert found.payload is None and found.confidence < MIN_CONFIDENCE
    marked = [embed(f, PAYLOAD, KEY) for f in plate]
    assert detect_reframed([bench.centre_crop(f, 0.05, 0.05, 240) for f in marked], KEY ^ 1)[0].payload is None
