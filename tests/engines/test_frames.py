"""The picture plumbing every AI engine shares (soundstage.engines.frames), on small arrays with known answers."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from soundstage.engines.base import AssetKind, AssetRequest
from soundstage.engines.frames import (
    RESIZE_METHOD,
    RETIME_METHOD,
    cover_box,
    decode_image,
    fit_to_frame,
    frame_count,
    has_alpha,
    hold_still,
    luminance_alpha,
    one_line,
    resize_record,
    retime,
    retry_after,
    shot_duration,
    shot_fps,
)
from soundstage.errors import EngineReplyError
from soundstage.media import read_image

ORANGE, CYAN = (255, 128, 0), (0, 255, 255)


def encoded(pixels: np.ndarray) -> bytes:
    """PNG bytes of an RGB(A) or grey array, as a service would send them (OpenCV wants BGR order)."""
    if pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGBA2BGRA if pixels.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", pixels)
    assert ok
    return data.tobytes()


# -- a moving request's length --------------------------------------------------------------------------------


def test_a_moving_request_lasts_its_own_length_or_two_seconds_at_24_fps() -> None:
    def element(**kw: float | None) -> AssetRequest:
        return AssetRequest(kind=AssetKind.ELEMENT, prompt="sparks", width=64, height=36, seed=1, **kw)

    assert (shot_duration(element()), shot_fps(element()), frame_count(element())) == (2.0, 24.0, 48)
    assert (shot_duration(element(duration=0.25, fps=12)), frame_count(element(duration=0.25, fps=12))) == (0.25, 3)
    assert frame_count(element(duration=1.0, fps=23.976)) == 24          # round(23.976)
    assert frame_count(element(duration=0.01, fps=24)) == 1              # never an empty take


# -- pixels in ------------------------------------------------------------------------------------------------


def test_decode_gives_rgb_or_rgba_in_rgb_order() -> None:
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[0, 0] = ORANGE
    assert np.array_equal(decode_image(encoded(rgb), "test"), rgb)
    rgba = np.dstack([rgb, np.full((2, 3), 255, np.uint8)])
    rgba[1, 2, 3] = 0
    out = decode_image(encoded(rgba), "test")
    assert out.shape == (2, 3, 4) and np.array_equal(out, rgba)
    grey = np.array([[0, 77, 255]], np.uint8)
    assert decode_image(encoded(grey), "test").tolist() == [[[0, 0, 0], [77, 77, 77], [255, 255, 255]]]


def test_sixteen_bit_pictures_are_rounded_to_eight_bits() -> None:
    deep = np.array([[[0, 25900, 65535]]], np.uint16)          # 25900 / 257 = 100.8: rounds to 101, not 100
    assert decode_image(encoded(deep), "test").tolist() == [[[0, 101, 255]]]


@pytest.mark.parametrize("data", [b"", b"\x89PNG truncated", b"GIF? no"])
def test_bytes_that_do_not_decode_are_a_reply_error_naming_whose(data: bytes) -> None:
    with pytest.raises(EngineReplyError, match=rf"^openai m: the returned picture does not decode as an image "
                                               rf"\({len(data)} bytes\)$"):
        decode_image(data, "openai m: the returned picture")


def test_has_alpha_means_some_pixel_is_not_opaque() -> None:
    opaque = np.full((2, 2, 4), 255, np.uint8)
    assert not has_alpha(opaque) and not has_alpha(opaque[..., :3])
    opaque[1, 1, 3] = 254
    assert has_alpha(opaque)


# -- size -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "frame", "box"), [
    ((1536, 1024), (320, 180), (0, 80, 1536, 864)),     # 3:2 to 16:9: rows cut top and bottom
    ((1376, 768), (320, 180), (5, 0, 1365, 768)),       # a hair wider than 16:9: columns cut at the sides
    ((128, 72), (36, 36), (28, 0, 72, 72)),             # square from the middle
    ((64, 64), (64, 48), (0, 8, 64, 48)),
    ((1024, 1536), (270, 480), (80, 0, 864, 1536)),     # portrait
    ((100, 50), (200, 100), (0, 0, 100, 50)),           # same shape: nothing cut
])
def test_cover_box_is_the_centred_crop_of_the_frames_shape(source: tuple[int, int], frame: tuple[int, int],
                                                            box: tuple[int, int, int, int]) -> None:
    assert cover_box(*source, *frame) == box


def test_fit_crops_the_centre_and_resizes_to_exactly_the_frame() -> None:
    picture = np.zeros((1024, 1536, 3), np.uint8)
    picture[:, :768], picture[:, 768:] = (255, 0, 0), (0, 0, 255)
    picture[:80], picture[-80:] = (0, 255, 0), (0, 255, 0)       # bands the crop removes
    out = fit_to_frame(picture, 320, 180)
    assert out.shape == (180, 320, 3) and out.dtype == np.uint8
    assert not (out[..., 1] > 0).any()
    assert (out[:, :159] == (255, 0, 0)).all() and (out[:, 161:] == (0, 0, 255)).all()

    assert fit_to_frame(picture, 1536, 1024) is picture                      # already the frame: untouched
    cropped = fit_to_frame(picture, 1536, 864)                               # a crop alone is not resampled
    assert np.array_equal(cropped, picture[80:944]) and cropped.flags["C_CONTIGUOUS"]


def test_fit_keeps_float_pictures_float_and_within_zero_to_one() -> None:
    edge = np.zeros((8, 8, 3), np.float32)
    edge[:, 4:] = 1.0
    out = fit_to_frame(edge, 40, 20)                    # cubic up-scaling rings past a hard edge; clipped
    assert out.dtype == np.float32 and out.shape == (20, 40, 3)
    assert out.min() >= 0.0 and out.max() <= 1.0 and out[:, :10].max() < 0.05 and out[:, -10:].min() > 0.95


def test_rgba_is_resized_premultiplied_so_hidden_colour_never_bleeds() -> None:
    # An opaque orange block on full transparency whose colour is junk cyan, as models leave it.
    rgba = np.zeros((90, 90, 4), np.uint8)
    rgba[..., :3] = CYAN
    rgba[30:60, 30:60] = (*ORANGE, 255)
    out = fit_to_frame(rgba, 37, 37)                   # a non-integer shrink: every edge pixel is a blend
    soft = out[(out[..., 3] > 0) & (out[..., 3] < 255)]
    assert len(soft) > 0
    assert (soft[:, 0] >= 254).all() and (np.abs(soft[:, 1].astype(int) - 128) <= 2).all() and (soft[:, 2] <= 1).all()
    assert (out[out[..., 3] == 0][:, :3] == 0).all()                     # clear is colourless
    naive = cv2.resize(rgba, (37, 37), interpolation=cv2.INTER_AREA)    # what a straight resize would do
    assert (naive[(naive[..., 3] > 0) & (naive[..., 3] < 255)][:, 2] > 40).any()

    floating = fit_to_frame(rgba.astype(np.float32) / 255.0, 37, 37)
    assert floating.dtype == np.float32 and np.abs(floating * 255.0 - out).max() <= 1.0


def test_the_resize_record_says_what_fit_did() -> None:
    assert resize_record(320, 180, 320, 180) is None
    assert resize_record(1376, 768, 320, 180) == {"from": [1376, 768], "to": [320, 180], "crop": [5, 0, 1365, 768],
                                                  "scale": 0.2344, "filter": "area", "method": RESIZE_METHOD}
    assert resize_record(128, 64, 96, 64) == {"from": [128, 64], "to": [96, 64], "crop": [16, 0, 96, 64],
                                              "scale": 1.0, "filter": "none (crop only)", "method": RESIZE_METHOD}
    up = resize_record(64, 36, 1920, 1080)
    assert up is not None and up["filter"] == "cubic" and up["scale"] == 30.0


# -- alpha ----------------------------------------------------------------------------------------------------


def test_luminance_alpha_is_the_brightest_channel_with_colour_unpremultiplied() -> None:
    on_black = np.array([[[0, 0, 0], [128, 64, 0], [255, 255, 255], [0, 20, 40]]], np.uint8)
    rgba = luminance_alpha(on_black)
    assert rgba.dtype == np.uint8
    assert rgba[0, :, 3].tolist() == [0, 128, 255, 40]
    assert rgba[0, :, :3].tolist() == [[0, 0, 0], [255, 128, 0], [255, 255, 255], [0, 128, 255]]
    over_black = rgba[..., :3].astype(np.float32) * rgba[..., 3:] / 255.0
    assert np.abs(over_black - on_black).max() <= 1                      # over black, it is the drawing again


def test_luminance_alpha_of_a_float_drawing_divides_before_rounding() -> None:
    drawn = np.array([[[0.0, 0.0, 0.0], [0.5, 0.25, 0.0], [1.0, 1.0, 1.0], [0.0, 0.1, 0.2], [0.004, 0.002, 0.0]]],
                     np.float32)
    rgba = luminance_alpha(drawn)
    assert rgba[0, :, 3].tolist() == [0, 128, 255, 51, 1]
    assert rgba[0, :, :3].tolist() == [[0, 0, 0], [255, 128, 0], [255, 255, 255], [0, 128, 255], [255, 128, 0]]
    assert luminance_alpha(np.full((1, 1, 3), 0.001, np.float32)).tolist() == [[[0, 0, 0, 0]]]   # rounds to clear


# -- time -----------------------------------------------------------------------------------------------------


def test_16_fps_to_24_holds_every_other_source_frame_for_two() -> None:
    indices, record = retime(17, 16.0, 24, 24.0)
    assert indices == [0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9, 10, 10, 11, 12, 12, 13, 14, 14, 15]
    assert record == {"source_frames": 17, "source_fps": 16.0, "frames": 24, "fps": 24.0, "method": RETIME_METHOD,
                      "looped": False, "trimmed": True, "retimed": True}


def test_half_the_rate_holds_each_frame_exactly_twice() -> None:
    # Round-half-to-even picked 0,0,1,2,2,2,3,4,4,4: a judder. The frame on screen at each time does not.
    assert retime(10, 12.0, 20, 24.0)[0] == [j for j in range(10) for _ in range(2)]


def test_a_short_source_loops_and_a_long_one_is_trimmed() -> None:
    indices, record = retime(4, 8.0, 8, 8.0)
    assert indices == [0, 1, 2, 3, 0, 1, 2, 3]
    assert (record["looped"], record["trimmed"], record["retimed"]) == (True, False, False)
    assert retime(1, 24.0, 3, 24.0)[0] == [0, 0, 0]                       # a still is held
    down, record = retime(96, 24.0, 12, 12.0)                             # 4 s at 24 fps into 1 s at 12
    assert down == list(range(0, 24, 2)) and record["trimmed"] and not record["looped"]
    # The whole source at half the rate skips frames but trims nothing.
    assert retime(48, 24.0, 24, 12.0)[1]["trimmed"] is False


def test_retime_refuses_a_source_with_no_frames() -> None:
    with pytest.raises(ValueError, match="cannot retime 0 frames"):
        retime(0, 24.0, 10, 24.0)


def test_a_held_still_is_encoded_once_and_written_as_every_frame(tmp_path: Path) -> None:
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[1:3, 2:4] = (*ORANGE, 200)
    files = hold_still(rgba, tmp_path, 3)
    assert [f.name for f in files] == ["element_0000.png", "element_0001.png", "element_0002.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f.name for f in files]       # no temporaries left
    assert len({f.read_bytes() for f in files}) == 1
    assert np.array_equal(read_image(files[2]), rgba)


# -- a service's words ----------------------------------------------------------------------------------------


def test_one_line_folds_a_message_and_cuts_it_at_the_limit() -> None:
    assert one_line("Invalid size.\n  Use one of:\t1024x1024") == "Invalid size. Use one of: 1024x1024"
    cut = one_line("x" * 400)
    assert len(cut) == 300 and cut.endswith("…")
    assert one_line(ValueError("bad\nreply"), 160) == "bad reply"


def test_retry_after_reads_seconds_milliseconds_and_dates() -> None:
    now = 1_790_000_000.0
    later = format_datetime(datetime.fromtimestamp(now + 30, UTC), usegmt=True)
    assert retry_after({"Retry-After": "3"}) == 3.0                           # any case
    assert retry_after(httpx.Headers({"retry-after": "1.5"})) == 1.5
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25  # the finer one wins
    assert retry_after({"retry-after-ms": "soon", "retry-after": "9"}) == 9.0
    assert retry_after({"Retry-After": later}, now=now) == pytest.approx(30.0)
    assert retry_after({"Retry-After": later}, now=now + 60) == 0.0           # a date gone by: no wait
    assert retry_after({"retry-after": "-4"}) == 0.0


@pytest.mark.parametrize("headers", [None, {}, {"x-request-id": "req_1"}, {"retry-after": ""},
                                     {"retry-after": "whenever"}, {"retry-after": "nan"}, {"retry-after-ms": "inf"}])
def test_retry_after_is_none_when_no_time_is_said(headers: dict[str, str] | None) -> None:
    assert retry_after(headers) is None
