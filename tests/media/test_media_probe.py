"""probe_plate: what a plate is (still or clip, size, rate, length), from its content, one frame decoded at most."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import zlib
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from clips import H, W, half_written_mp4, write_clip

from soundstage.errors import MediaError
from soundstage.media.probe import MAX_PIXELS, PlateInfo, probe_plate


def _png(path: Path, channels: int = 3) -> Path:
    picture = np.zeros((36, 64, channels), np.uint8)
    picture[..., 1] = 200
    cv2.imwrite(str(path), picture)
    return path


def _claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` (a decoder would allocate that much first)."""
    ok, encoded = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    assert ok
    data = bytearray(encoded.tobytes())
    struct.pack_into(">II", data, 16, width, height)                    # IHDR's width and height
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))   # and its CRC, so the header is valid
    return bytes(data)


def test_still(tmp_path: Path) -> None:
    info = probe_plate(_png(tmp_path / "actor.png"))
    assert info == PlateInfo(tmp_path / "actor.png", 64, 36, None, 1, None, True, False)


def test_still_with_alpha_and_jpeg(tmp_path: Path) -> None:
    assert probe_plate(_png(tmp_path / "cutout.png", 4)).alpha
    jpeg = probe_plate(_png(tmp_path / "actor.jpg"))
    assert (jpeg.still, jpeg.width, jpeg.height, jpeg.fps, jpeg.alpha) == (True, 64, 36, None, False)


def test_clip(tmp_path: Path) -> None:
    info = probe_plate(write_clip(tmp_path / "take.mp4", 12))
    assert (info.width, info.height, info.fps, info.frames, info.still, info.alpha) == (W, H, Fraction(24), 12,
                                                                                        False, False)
    assert info.duration == pytest.approx(12 / 24, abs=0.05)


def test_png_renamed_mp4_is_found_out(tmp_path: Path) -> None:
    path = tmp_path / "plate.mp4"
    shutil.copy(_png(tmp_path / "actor.png"), path)
    info = probe_plate(path)
    assert info.still and info.fps is None and (info.width, info.height) == (64, 36)


def test_truncated_mp4_with_its_index_is_refused(tmp_path: Path) -> None:
    whole = write_clip(tmp_path / "whole.mp4", 24).read_bytes()   # faststart: the index comes first
    path = tmp_path / "cut short.mp4"
    path.write_bytes(whole[: len(whole) * 3 // 10])
    with pytest.raises(MediaError, match=r"cut short\.mp4: .*truncated"):
        probe_plate(path)


def test_truncated_mp4_without_its_index_is_refused(tmp_path: Path) -> None:
    path = half_written_mp4(tmp_path)
    with pytest.raises(MediaError, match=r"half\.mp4: not a readable video"):
        probe_plate(path)


@pytest.mark.parametrize("content", [b"", b"\x00\x01junk" * 500, b"INT. HANOK - NIGHT\n" * 40,
                                     _claiming(64, 36)[:60]])
def test_not_a_picture_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "plate.mp4"
    path.write_bytes(content)
    with pytest.raises(MediaError, match=r"plate\.mp4: "):
        probe_plate(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"nope\.png: no such file"):
        probe_plate(tmp_path / "nope.png")


def test_a_smaller_cap_refuses_an_ordinary_plate(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="over 1,000 pixels"):
        probe_plate(_png(tmp_path / "actor.png"), max_pixels=1000)


def _mp4_claiming(path: Path, width: int, height: int) -> Path:
    """An MP4 holding one PNG frame whose headers (the track's and the PNG's) claim ``width``×``height``."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("png", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb24"
        packet = av.Packet(_claiming(width, height))
        packet.pts = packet.dts = 0
        packet.stream = stream
        packet.time_base = Fraction(1, 24)
        container.mux(packet)
    return path


@pytest.mark.parametrize("name", ["huge.png", "huge.mp4"])
def test_oversize_header_is_refused_before_decoding(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".png"):
        path.write_bytes(_claiming(16000, 16000))
    else:
        _mp4_claiming(path, 16000, 16000)
    assert path.stat().st_size < 2000 and MAX_PIXELS < 16000 * 16000
    # In a fresh process, so its peak memory is this probe's alone: decoding the frame would take 768 MB.
    # VmHWM is the new process's own high-water mark; ru_maxrss would carry over the forking pytest's peak.
    code = ("import sys\nfrom soundstage.media.probe import probe_plate\n"
            "try:\n    probe_plate(sys.argv[1])\nexcept Exception as exc:\n    print(type(exc).__name__, exc)\n"
            "print(next(int(line.split()[1]) for line in open('/proc/self/status')\n"
            "           if line.startswith('VmHWM')) // 1024)")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    message, peak_mb = done.stdout.splitlines()
    assert message.startswith("MediaError ") and name in message and f"{MAX_PIXELS:,} pixels" in message
    assert int(peak_mb) < 300, f"peak {peak_mb} MB"
