"""A project's TOML files that are not UTF-8 (a Korean Windows editor saves CP949): one line, never a traceback.

Issue 15: a shots.toml or prices.toml in another encoding gave a UnicodeDecodeError traceback. Every TOML file
of a project is read by one function (soundstage.tomlfile.read_toml), which names the file, the line and
the byte where the text stops being UTF-8.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from soundstage.errors import ProjectError
from soundstage.reports.ratecard import load_ratecard
from soundstage.takes.prices import PriceTable
from test_cli import soundstage

KOREAN = "# 촬영 계획\n".encode("cp949")   # 3rd line of each file below; its first byte is not UTF-8


@pytest.fixture
def film(tmp_path: Path) -> Path:
    folder = tmp_path / "film"
    assert soundstage("new", folder).returncode == 0
    return folder


@pytest.mark.parametrize("name", ["shots.toml", "soundstage.toml"])
def test_cli_names_the_file_line_and_byte(film: Path, name: str) -> None:
    path = film / name
    data = path.read_bytes().split(b"\n", 2)
    path.write_bytes(data[0] + b"\n" + data[1] + b"\n" + KOREAN + data[2])
    offset = len(data[0]) + len(data[1]) + 2 + 2          # "# " before the first Hangul letter
    result = soundstage("breakdown", film)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{name}:3: is not UTF-8 text (byte {offset})" in lines[0]
    assert "save it as UTF-8" in lines[0]


def test_prices_and_ratecard(tmp_path: Path) -> None:
    (tmp_path / "prices.toml").write_bytes(b"[[price]]\n" + KOREAN)
    with pytest.raises(ProjectError, match=r"prices.toml:2: is not UTF-8 text \(byte 12\)"):
        PriceTable.load(tmp_path)
    (tmp_path / "ratecard.toml").write_bytes(KOREAN)
    with pytest.raises(ProjectError, match=r"ratecard.toml:1: is not UTF-8 text \(byte 2\)"):
        load_ratecard(tmp_path)
