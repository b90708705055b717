"""The words shown to people live in soundstage/words/*.toml, English and Korean side by side, not in code."""

from __future__ import annotations

import io
import re
import tokenize
import tomllib
from pathlib import Path

import pytest

from soundstage.edit import labels
from soundstage.errors import SoundstageError
from soundstage.words import LANGUAGES, placeholders, read_words, words_of

SRC = Path(__file__).parents[1] / "src" / "soundstage"
FILES = sorted((SRC / "words").glob("*.toml"))
TEMPLATES = SRC / "templates" / "reports"
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
# Each report page's template and module, and the words file its translator reads.
PAGES = {"cost": [TEMPLATES / "cost.html", TEMPLATES / "base.html", SRC / "reports" / "cost.py"],
         "disclosure": [TEMPLATES / "disclosure.html", TEMPLATES / "base.html", SRC / "reports" / "disclosure.py"],
         "breakdown": [TEMPLATES / "breakdown.html", TEMPLATES / "shotlist.html", SRC / "reports" / "breakdown.py"]}


def test_the_words_files_are_the_ones_the_code_reads() -> None:
    assert [f.stem for f in FILES] == ["breakdown", "cost", "disclosure", "labels", "page", "review"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_word_is_in_english_and_korean(path: Path) -> None:
    entries = tomllib.loads(path.read_text("utf-8"))["word"]
    assert entries
    for entry in entries:
        assert set(entry) <= {"name", *LANGUAGES}, entry
        for language in LANGUAGES:
            assert isinstance(entry.get(language), str) and entry[language].strip(), (path.name, entry)
        assert placeholders(entry["en"]) == placeholders(entry["ko"]), (path.name, entry)
    english = [entry["en"] for entry in entries]
    assert len(set(english)) == len(english), path.name
    assert len(words_of(path.stem)) == len(entries)


@pytest.mark.parametrize("report", PAGES)
def test_every_label_a_report_page_writes_has_korean_words(report: str) -> None:
    labels_used: set[str] = set()
    for path in PAGES[report]:
        text = path.read_text("utf-8")
        labels_used |= set(re.findall(r'\bt\("([^"]+)"\)', text)) | set(re.findall(r"\bt\('([^']+)'\)", text))
    assert labels_used and sorted(labels_used - set(words_of(report))) == []


def test_every_label_the_review_app_writes_has_korean_words() -> None:
    folder = SRC / "review" / "templates"
    used: set[str] = set()
    for path in sorted(folder.glob("*.html")):
        text = path.read_text("utf-8")
        used |= set(re.findall(r'\bt\("([^"]+)"\)', text)) | set(re.findall(r"\bt\('([^']+)'\)", text))
    assert used and sorted(used - set(words_of("review"))) == []
    from soundstage.review.app import SAID

    assert sorted(set(SAID.values()) - set(words_of("review"))) == []
    # Written through t() from a variable: a shot's state, a slot's role, the take facts' sources.
    from soundstage.records.source import AssetKind

    told = {"not rendered", "needs a render", "approved", "sheet", *(kind.value for kind in AssetKind)}
    assert sorted(told - set(words_of("review"))) == []
    # The language switch names each language in its own words, and the money's forms are named too.
    assert {f"language {code}" for code in LANGUAGES} | {"money USD", "money KRW"} <= set(
        words_of("review").by_name("ko"))


# What a review page may show outside t(): the product's name, AI, and commands in <code>.
UNTRANSLATED = {"soundstage", "review", "AI"}


@pytest.mark.parametrize("path", sorted((SRC / "review" / "templates").glob("*.html")), ids=lambda p: p.name)
def test_a_review_page_writes_no_english_outside_t(path: Path) -> None:
    """Every word a review template shows (text, a title, a label read aloud) goes through t() or word(), so the
    Korean interface is Korean throughout: the take facts, the slot lines, the tables, every page."""
    text = re.sub(r"\{#.*?#\}|<code>.*?</code>", " ", path.read_text("utf-8"), flags=re.S)
    text = re.sub(r"\{%.*?%\}|\{\{.*?\}\}", " ", text, flags=re.S)
    shown = re.findall(r'\b(?:title|aria-label|placeholder|alt)="([^"]*)"', text)
    shown += re.sub(r"<[^>]*>", "\n", re.sub(r"<script.*?</script>", " ", text, flags=re.S)).split("\n")
    english = sorted({word for line in shown for word in re.findall(r"[A-Za-z][A-Za-z']+", line)} - UNTRANSLATED)
    assert english == []


def test_no_report_module_holds_words() -> None:
    """Hangul in a report's code is a word table that belongs in soundstage/words."""
    modules = sorted((SRC / "reports").glob("*.py"))
    assert modules
    for module in modules:
        assert not HANGUL.search(module.read_text("utf-8")), module.name


def test_the_labels_hold_no_words_in_code() -> None:
    """The cut's mark and card read their words by name; the one Hangul literal left (in the lettering the labels
    are set with) asks a font for a glyph."""
    literals = {}
    for path in (SRC / "edit" / "labels.py", SRC / "media" / "lettering.py"):
        source = path.read_text("utf-8")
        literals[path.name] = {token.string for token in tokenize.generate_tokens(io.StringIO(source).readline)
                               if token.type == tokenize.STRING and HANGUL.search(token.string)}
    assert literals == {"labels.py": set(), "lettering.py": {'"가"'}}
    assert labels.TEXT["ko"]["mark ai"] == "AI 생성" and labels.TEXT["en"]["mark ai"] == "AI-generated"
    assert labels.TEXT["en"].keys() == labels.TEXT["ko"].keys()


@pytest.mark.parametrize(("entry", "said"), [
    ('en = "Shot"', "word 2 ('Shot'): needs both en and ko, as text"),
    ('en = "{n} shots"\nko = "샷 {count}개"', "word 2 ('{n} shots'): en and ko must keep the same {names}: ['n'] "
                                            "against ['count']"),
    ('en = "a { brace"\nko = "중괄호 {"', "word 2 ('a { brace'): "),
    ('name = "take"\nen = "Take"\nko = "테이크"', "word 2 ('take'): is in the file twice"),
])
def test_a_words_file_a_translator_broke_is_refused_in_one_line(tmp_path: Path, entry: str, said: str) -> None:
    path = tmp_path / "cost.toml"
    path.write_text(f'[[word]]\nname = "take"\nen = "Take"\nko = "테이크"\n\n[[word]]\n{entry}\n', "utf-8")
    with pytest.raises(SoundstageError) as caught:
        read_words(path)
    assert str(caught.value).startswith(f"{path}: {said}")
    assert "\n" not in str(caught.value)


def test_a_words_file_that_is_no_toml_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cost.toml"
    path.write_text('[[word]]\nen = "Take\nko = "테이크"\n', "utf-8")
    with pytest.raises(SoundstageError, match=r"cost.toml: not valid TOML"):
        read_words(path)


def test_a_named_sentence_is_read_in_either_language(tmp_path: Path) -> None:
    path = tmp_path / "page.toml"
    path.write_text('[[word]]\nname = "rate"\nen = "(rate of {date})"\nko = "({date} 기준 환율)"\n', "utf-8")
    words = read_words(path)
    assert words.text("rate") == "(rate of {date})" and words.text("rate", "ko") == "({date} 기준 환율)"
    assert dict(words) == {"(rate of {date})": "({date} 기준 환율)"}
