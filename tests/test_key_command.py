"""`soundstage key` with hostile input and outputs: one line each, nothing decoded or created that should not be.

Issue 15: a 20000×20000 PNG ran OpenCV out of memory after 5.3 GB; `-o` into an unwritable place gave a
traceback; `-o /nonexistent/x.png` created folders at the root. The oversize picture here is a 64×36 PNG
whose header says 20000×20000 (with a correct CRC), so nothing large is ever made.
"""

from __future__ import annotations

import inspect
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from soundstage.comp.keyer import key
from soundstage.errors import MediaError
from soundstage.media import MAX_PIXELS, read_image
from soundstage.records.settings import KeySettings
from test_cli import soundstage


def green_still(path: Path) -> Path:
    picture = np.zeros((36, 64, 3), np.uint8)
    picture[:] = (40, 200, 60)
    picture[10:26, 24:40] = (200, 80, 60)
    cv2.imwrite(str(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    return path


def claims_size(path: Path, width: int, height: int) -> Path:
    """Rewrite a PNG's IHDR to claim another size, with the chunk's CRC made right again."""
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def one_line(result: object) -> str:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.returncode == 2, (result.returncode, stderr)  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_png_claiming_20000_squared_is_refused_before_decoding(tmp_path: Path) -> None:
    bomb = claims_size(green_still(tmp_path / "bomb.png"), 20000, 20000)
    assert bomb.stat().st_size < 1000
    line = one_line(soundstage("key", bomb, "-o", tmp_path / "keyed.png"))
    # FFmpeg's own cap stops it reading the size: the probe says "unreadable or over", read_image says 20000×20000
    assert "bomb.png" in line and f"over {MAX_PIXELS:,} pixels" in line and "refused before decoding" in line
    assert not (tmp_path / "keyed.png").exists()


def test_read_image_refuses_the_header_before_opencv_decodes(tmp_path: Path) -> None:
    bomb = claims_size(green_still(tmp_path / "bomb.png"), 20000, 20000)
    with pytest.raises(MediaError, match=r"bomb.png: is 20000×20000, over"):
        read_image(bomb)
    assert read_image(green_still(tmp_path / "fine.png")).shape == (36, 64, 3)


def test_output_in_a_folder_that_does_not_exist_is_refused_and_not_made(tmp_path: Path) -> None:
    still = green_still(tmp_path / "still.png")
    missing = tmp_path / "no" / "such" / "folder"
    line = one_line(soundstage("key", still, "-o", missing / "x.png"))
    assert str(missing) in line and "does not exist" in line
    assert not (tmp_path / "no").exists()
    line = one_line(soundstage("key", still, "-o", missing / "seq" / "x.%04d.png"))   # a sequence's own folder
    assert str(missing) in line and "does not exist" in line                          # only, not its parents
    assert not (tmp_path / "no").exists()


def test_output_where_nothing_may_be_written_is_one_line(tmp_path: Path) -> None:
    still = green_still(tmp_path / "still.png")
    line = one_line(soundstage("key", still, "-o", still / "x.png"))         # under a file
    assert "is not a folder" in line
    if Path("/sys").is_dir():                                                 # not writable, even by root
        line = one_line(soundstage("key", still, "-o", "/sys/soundstage-key.png"))
        assert "/sys/soundstage-key.png: cannot be written: Permission denied" in line


def test_a_still_is_still_keyed(tmp_path: Path) -> None:
    still = green_still(tmp_path / "still.png")
    result = soundstage("key", still, "-o", tmp_path / "keyed.png")
    assert result.returncode == 0, result.stderr
    keyed = cv2.imread(str(tmp_path / "keyed.png"), cv2.IMREAD_UNCHANGED)
    assert keyed.shape == (36, 64, 4)
    assert keyed[2, 2, 3] < 30 and keyed[18, 32, 3] > 220          # the screen is gone, the subject kept


def test_the_keyer_and_shots_toml_have_one_set_of_defaults() -> None:
    """shots.toml's key settings are what key() is given: every argument it takes from them, and the defaults
    agree, so a shot with no ``key = {…}`` keys as key() does with none."""
    given = KeySettings().keyer_arguments()
    parameters = inspect.signature(key).parameters
    assert set(given) <= set(parameters)
    assert {name: parameters[name].default for name in given} == given


def test_the_key_flags_are_checked_against_the_settings_schema(tmp_path: Path) -> None:
    """--screen, --despill and --refine refuse what shots.toml refuses, in one line each."""
    source = tmp_path / "green.png"
    cv2.imwrite(str(source), np.full((36, 64, 3), (40, 190, 50), np.uint8))
    bad = soundstage("key", str(source), "-o", str(tmp_path / "k.png"), "--screen", "red")
    assert bad.returncode == 2 and "--screen must be auto, green or blue, not 'red'" in bad.stderr
    bad = soundstage("key", str(source), "-o", str(tmp_path / "k.png"), "--despill", "blur")
    assert bad.returncode == 2 and "--despill must be edge, average, limit or none, not 'blur'" in bad.stderr
    bad = soundstage("key", str(source), "-o", str(tmp_path / "k.png"), "--refine", "9")
    assert bad.returncode == 2 and "--refine must be between 0 and 8 px, not 9" in bad.stderr
