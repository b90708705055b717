"""Reading screenplay files: encodings (UTF-8, BOM, CP949), suffixes, and every bad file refused in one line."""

from __future__ import annotations

from dataclasses import astuple, replace
from pathlib import Path

import pytest

from soundstage.errors import ScreenplayError
from soundstage.script import Heading, Kind, read_screenplay
from soundstage.script.text import MAX_BYTES, decode, read_bytes

FIXTURES = Path(__file__).parent.parent / "fixtures" / "screenplays"
KOREAN = FIXTURES / "korean.fountain"


def test_korean_screenplay_utf8_with_bom() -> None:
    assert KOREAN.read_bytes().startswith(b"\xef\xbb\xbf")
    screenplay = read_screenplay(KOREAN)
    assert screenplay.encoding == "utf-8-sig"
    assert screenplay.title == "달빛 한옥"
    headings = [(e.line, e.heading) for e in screenplay.elements if e.kind is Kind.SCENE_HEADING]
    assert headings == [
        (4, Heading(None, "산길", "DAWN", "새벽", "1")),
        (15, Heading("INT", "카페", "DAY", "낮", "2")),
        (19, Heading(None, "집 앞", "DUSK", "해질녘", "3")),
        (21, Heading("INT", "한옥 지붕 위", "NIGHT", "밤", "4")),
        (31, Heading(None, "바닷가 절벽", "DAWN", "동틀녘", "5")),
    ]
    cues = [(e.line, e.character, e.extension, e.dual) for e in screenplay.elements if e.kind is Kind.CHARACTER]
    assert cues == [(8, "민지", None, False), (12, "할머니", "V.O.", False),
                    (24, "민지", None, True), (27, "할머니", None, True)]
    by_line = {e.line: e for e in screenplay.elements}
    assert (by_line[9].kind, by_line[9].text) == (Kind.PARENTHETICAL, "(혼잣말로)")
    assert (by_line[10].kind, by_line[10].text) == (Kind.DIALOGUE, "사흘 밤. 마을에 남은 건 사흘 밤뿐이야.")
    assert (by_line[22].kind, by_line[22].text) == (Kind.ACTION, "민지가 용마루를 따라 달린다.")
    assert by_line[17].notes == ("VFX: 창밖의 비",)


def test_the_same_korean_screenplay_in_cp949(tmp_path: Path) -> None:
    text = KOREAN.read_bytes().decode("utf-8-sig")
    legacy = tmp_path / "korean.fountain"
    legacy.write_bytes(text.encode("cp949"))
    with pytest.raises(UnicodeDecodeError):
        legacy.read_bytes().decode("utf-8")            # so it really is not UTF-8
    original, converted = read_screenplay(KOREAN), read_screenplay(legacy)
    assert converted.encoding == "cp949"
    assert converted.elements == original.elements and converted.title_page == original.title_page


def test_plain_utf8_windows_line_ends_and_other_suffixes(tmp_path: Path) -> None:
    text = (FIXTURES / "three_scenes.fountain").read_text(encoding="utf-8")
    expected = read_screenplay(FIXTURES / "three_scenes.fountain")
    for name, data in [("a.txt", text.replace("\n", "\r\n").encode()), ("b.spmd", text.replace("\n", "\r").encode()),
                       ("C.FOUNTAIN", text.encode("utf-16"))]:
        path = tmp_path / name
        path.write_bytes(data)
        screenplay = read_screenplay(path)
        assert [astuple(e) for e in screenplay.elements] == [astuple(e) for e in expected.elements], name
        assert screenplay.source == path
    assert read_screenplay(tmp_path / "a.txt").encoding == "utf-8"
    assert read_screenplay(tmp_path / "C.FOUNTAIN").encoding == "utf-16"
    assert replace(expected, source=None).elements == expected.elements


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.write(b"INT. HOUSE - DAY\n\n")
        fh.truncate(size)               # a sparse file: no 50 MB written to the disk
    return path


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.fountain", b"", "empty.fountain: is empty"),
        ("blank.fountain", b" \n\n\t\n", "blank.fountain: is empty"),
        ("binary.fountain", bytes(range(256)) * 4, "binary.fountain: is a binary file, not a screenplay"),
        ("png.fountain", b"\x89PNG\r\n\x1a\nIHDR", "png.fountain:2: is a binary file, not a screenplay"),
        ("latin1.fountain", "Café crème\n".encode("latin-1") + b"\xff\xfe\xfd",
         "latin1.fountain: is neither UTF-8 nor Korean CP949/EUC-KR text"),
        ("film.docx", b"PK\x03\x04", "film.docx: is not a screenplay format soundstage reads ('.docx')"),
        ("film", b"INT. HOUSE - DAY\n", "film: is not a screenplay format soundstage reads ('no suffix')"),
        ("missing.fountain", None, "missing.fountain: does not exist"),
    ],
)
def test_bad_files_are_refused_in_one_line_naming_the_file(tmp_path: Path, name: str, content: bytes | None,
                                                           message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ScreenplayError) as caught:
        read_screenplay(path)
    text = str(caught.value)
    assert text.startswith(f"{tmp_path}/{message}"), text
    assert "\n" not in text


def test_huge_file_is_refused_from_its_size(tmp_path: Path) -> None:
    path = _sparse(tmp_path / "huge.fountain", 50 * 1024 * 1024)
    with pytest.raises(ScreenplayError) as caught:
        read_screenplay(path)
    assert str(caught.value).startswith(f"{path}: is 50 MB; screenplays over 10 MB are refused")
    assert "\n" not in str(caught.value)
    fdx = _sparse(tmp_path / "huge.fdx", MAX_BYTES + 1)
    with pytest.raises(ScreenplayError, match=r"huge\.fdx: is 10\.0 MB; screenplays over 10 MB are refused"):
        read_screenplay(fdx)


def test_a_file_at_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "long.fountain"
    path.write_bytes(b"x" * (MAX_BYTES - 1) + b"\n")
    assert len(read_bytes(path)) == MAX_BYTES


def test_a_folder_is_not_a_screenplay(tmp_path: Path) -> None:
    folder = tmp_path / "script.fountain"
    folder.mkdir()
    with pytest.raises(ScreenplayError, match="is a folder"):
        read_screenplay(folder)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [(b"abc", "utf-8"), (b"\xef\xbb\xbfabc", "utf-8-sig"), ("한옥".encode("cp949"), "cp949"),
     ("한옥".encode("utf-16"), "utf-16")],
)
def test_decode(data: bytes, encoding: str) -> None:
    assert decode(data)[1] == encoding
