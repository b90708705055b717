"""Final Draft: the same screenplay as Fountain and as .fdx gives the same model; hostile XML is refused."""

from __future__ import annotations

from dataclasses import astuple, replace
from pathlib import Path

import pytest

from soundstage.errors import ScreenplayError
from soundstage.script import Element, Heading, Kind, Run, parse_fdx, read_screenplay

FIXTURES = Path(__file__).parent.parent / "fixtures" / "screenplays"


def without_line(element: Element) -> tuple[object, ...]:
    return astuple(replace(element, line=0))


def test_fountain_and_fdx_give_the_same_screenplay() -> None:
    fountain = read_screenplay(FIXTURES / "three_scenes.fountain")
    fdx = read_screenplay(FIXTURES / "three_scenes.fdx")
    assert [without_line(e) for e in fdx.elements] == [without_line(e) for e in fountain.elements]
    assert fdx.title_page == fountain.title_page == {
        "Title": "The Lantern Keeper", "Credit": "Written by", "Author": "Min Park"}
    # and the shared result is what the script says
    kinds = [e.kind for e in fdx.elements]
    assert kinds.count(Kind.SCENE_HEADING) == 3 and Kind.PAGE_BREAK in kinds and kinds[-1] is Kind.CENTERED
    headings = [e.heading for e in fdx.elements if e.heading]
    assert headings == [Heading("EXT", "MOUNTAIN PASS", "DAWN", "DAWN", "1"),
                        Heading("INT", "GRANDMOTHER'S HOUSE", "NIGHT", "NIGHT", "2"),
                        Heading("EXT", "HANOK ROOFTOPS", "NIGHT", "NIGHT", "3A")]
    assert [(e.character, e.extension, e.dual) for e in fdx.elements if e.kind is Kind.CHARACTER] == [
        ("MIN-JI", None, False), ("GRANDMOTHER", None, True), ("MIN-JI", None, True),
        ("GRANDMOTHER", "V.O.", False)]
    assert [e.text for e in fdx.elements if e.kind is Kind.DIALOGUE and e.dual] == ["You came back.", "I came back."]
    assert fdx.elements[4].runs == (Run("Three nights. The village has "), Run("three nights", italic=True),
                                    Run(" left."))


def test_fdx_lines_are_the_xml_lines_of_each_paragraph() -> None:
    fdx = read_screenplay(FIXTURES / "three_scenes.fdx")
    source = (FIXTURES / "three_scenes.fdx").read_text(encoding="utf-8").split("\n")
    assert [e.line for e in fdx.elements][:6] == [5, 9, 12, 15, 18, 23]
    for element in fdx.elements:
        assert source[element.line - 1].lstrip().startswith("<Paragraph"), element
    assert fdx.encoding == "utf-8"


FDX = """<?xml version="1.0" encoding="UTF-8"?>
<FinalDraft DocumentType="Script" Version="5">
<Content>
<Paragraph Type="Scene Heading"><SceneProperties Number="12A"/><Text>S#12. 한옥 지붕 위 (밤)</Text></Paragraph>
<Paragraph Type="Shot"><Text Style="AllCaps">angle on</Text>
  <Text Style="Bold+Underline+AllCaps"> the roof</Text></Paragraph>
<Paragraph Type="General"><Text>  General text  </Text></Paragraph>
<Paragraph Type="Action"><Text></Text></Paragraph>
<Paragraph Type="Lyrics"><Text>Light the lantern</Text></Paragraph>
<Paragraph Type="New Act"><Text>ACT TWO</Text></Paragraph>
<Paragraph Type="Action"><ScriptNote ID="1"><Paragraph><Text>VFX: dragon</Text></Paragraph></ScriptNote>
  <Text>A roar.</Text></Paragraph>
</Content>
<ScriptNotes><ScriptNote><Paragraph><Text>loose note</Text></Paragraph></ScriptNote></ScriptNotes>
</FinalDraft>
"""


def test_fdx_paragraph_types() -> None:
    elements = parse_fdx(FDX.encode("utf-8")).elements
    assert [(e.line, e.kind, e.text) for e in elements] == [
        (4, Kind.SCENE_HEADING, "S#12. 한옥 지붕 위 (밤)"),
        (5, Kind.ACTION, "ANGLE ON THE ROOF"),
        (7, Kind.ACTION, "General text"),
        (9, Kind.LYRICS, "Light the lantern"),
        (10, Kind.SECTION, "ACT TWO"),
        (11, Kind.ACTION, "A roar."),
    ]
    assert elements[0].heading == Heading(None, "한옥 지붕 위", "NIGHT", "밤", "12A")
    assert elements[1].runs == (Run("ANGLE ON"), Run(" THE ROOF", bold=True, underline=True))
    assert elements[4].depth == 1
    assert elements[5].notes == ("VFX: dragon",)


def test_fdx_declared_encoding_is_reported() -> None:
    data = FDX.replace('encoding="UTF-8"', 'encoding="EUC-KR"').encode("euc-kr")
    screenplay = parse_fdx(data)
    assert screenplay.encoding == "euc-kr" and screenplay.elements[0].text == "S#12. 한옥 지붕 위 (밤)"


BOMB = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        b' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
        b' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n'
        b"<FinalDraft><Content><Paragraph Type=\"Action\"><Text>&lol3;</Text></Paragraph></Content></FinalDraft>\n")
EXTERNAL = (b'<?xml version="1.0"?>\n<!DOCTYPE FinalDraft [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
            b"<FinalDraft><Content><Paragraph Type=\"Action\"><Text>&secret;</Text></Paragraph></Content>"
            b"</FinalDraft>\n")
DTD = (b'<?xml version="1.0"?>\n<!DOCTYPE FinalDraft SYSTEM "http://example.com/fd.dtd">\n'
       b"<FinalDraft><Content/></FinalDraft>\n")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bomb.fdx", BOMB, "bomb.fdx:3: refused: the XML declares entities"),
        ("external.fdx", EXTERNAL, "external.fdx:2: refused: the XML declares an external entity"),
        ("dtd.fdx", DTD, "dtd.fdx:2: refused: the XML declares a DTD"),
        ("broken.fdx", b'<?xml version="1.0"?>\n<FinalDraft>\n<Content>\n</FinalDraft>\n',
         "broken.fdx:4: is not well-formed XML (mismatched tag)"),
        ("truncated.fdx", FDX.split("<Paragraph Type=\"Lyrics\"")[0].encode("utf-8"),
         "truncated.fdx:9: is not well-formed XML (no element found)"),
        ("html.fdx", b"<html><body>not a script</body></html>",
         "html.fdx: is not a Final Draft file (its XML root is <html>, not <FinalDraft>)"),
        ("binary.fdx", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "binary.fdx:1: is not well-formed XML"),
    ],
)
def test_hostile_or_broken_fdx_is_refused_in_one_line(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ScreenplayError) as caught:
        read_screenplay(path)
    text = str(caught.value)
    assert text.startswith(f"{tmp_path}/{message}"), text
    assert "\n" not in text
    assert isinstance(caught.value, ValueError)
