"""The cut's subtitles: lines wrapped by the language's rules, timed to the speech found in each shot's sound (or
by reading speed without it), warned where they break a rule, written as SRT and WebVTT and read back."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pysubs2
import pytest
from pydantic import ValidationError

from soundstage.edit.subtitles import (
    ShotDialogue,
    dialogue_language,
    rules_for,
    seen,
    subtitle_cut,
    width,
    wrap,
    write_subtitles,
)
from soundstage.project import Project
from soundstage.records.settings import Settings
from soundstage.reports.breakdown import write_breakdown_report
from soundstage.script import parse_fountain
from soundstage.script.breakdown import Line, break_down
from soundstage.sound import RATE, Sound
from voices import bursts

KO, EN = rules_for("ko"), rules_for("en")
FPS = 24.0
EOJEOL = ["사흘", "밤.", "마을에", "남은", "건", "밤뿐이야.", "등불이", "밝히지", "않는", "곳에서", "용이", "잠든다,",
          "늙은", "용아.", "조용히", "들어오너라", "할머니가", "기다리고", "있었다", "DNA", "CD를", "어디", "갔어?"]


def say(text: str, number: int = 1, who: str = "민지", extension: str | None = None) -> Line:
    return Line(character=who, text=text, line=number, extension=extension)


def test_korean_rules_come_from_the_data_file_with_their_source() -> None:
    assert (KO.line_length, KO.lines, KO.reading_speed, KO.half_width) == (16, 2, 12, 0.5)
    assert "Netflix Korean Timed Text Style Guide" in KO.source
    assert (EN.line_length, EN.reading_speed, EN.half_width) == (42, 20, 1.0)
    assert round(KO.min_seconds * 24) == 20 and KO.max_seconds == 7 and KO.gap_frames == 2


def test_characters_are_counted_as_a_viewer_sees_them() -> None:
    assert len(seen("\u1112\u1161\u11ab\u1100\u116e\u11a8")) == 2          # 한국 as conjoining jamo
    assert len(seen("e\u0301te\u0301")) == 3                               # été with combining accents
    assert len(seen("👩\u200d👩\u200d👧")) == 1
    assert width("한국 CD!", KO) == 2 + 0.5 * 4                             # Latin, space, punctuation: half
    assert width("Hello!", EN) == 6


def test_korean_wrapping_never_breaks_the_rule_nor_a_word() -> None:
    pick = random.Random(3)
    for _ in range(400):
        text = " ".join(pick.choice(EOJEOL) for _ in range(pick.randint(1, 14)))
        events, long = wrap(text, KO)
        assert long == []
        assert [word for rows in events for row in rows for word in row.split()] == text.split()  # no word cut
        for rows in events:
            assert 1 <= len(rows) <= 2
            assert all(width(row, KO) <= 16 for row in rows), rows
            if width(" ".join(rows), KO) <= 16:
                assert len(rows) == 1          # one row while it fits


def test_a_word_wider_than_a_line_stands_alone_and_is_warned() -> None:
    word = "가나다라마바사아자차카타파하가나다"      # 17 syllables, one word
    events, long = wrap(f"짧은 {word} 말", KO)
    assert long == [word]
    assert any(word in rows for rows in events)
    subtitles = subtitle_cut([ShotDialogue("1-1", 0, 96, [say(f"짧은 {word} 말", 9)])], FPS, KO)
    assert any("shot 1-1, line 9" in w and "wider than a line (16)" in w for w in subtitles.warnings)


def test_without_sound_lines_are_timed_by_reading_speed_within_the_shot() -> None:
    lines = [say("사흘 밤. 마을에 남은 건 사흘 밤뿐이야.", 10), say("조용히.", 12, "할머니", "V.O.")]
    subtitles = subtitle_cut([ShotDialogue("1-1", 48, 120, lines)], FPS, KO)
    first, second = subtitles.events
    assert 48 <= first.first < first.end < second.first < second.end <= 48 + 120
    assert second.first - first.end >= 2                                     # the gap between events
    assert (first.end - first.first) / FPS >= 18.5 / 12 - 1 / FPS           # 18.5 characters at 12 a second
    assert first.rows == ("사흘 밤. 마을에 남은", "건 사흘 밤뿐이야.") and second.italic
    assert subtitles.warnings == []


def test_a_line_too_fast_to_read_is_warned() -> None:
    text = "등불이 밝히지 않는 곳에서 용이 잠든다, 늙은 용아."
    subtitles = subtitle_cut([ShotDialogue("2-1", 0, 24, [say(text, 30)])], FPS, KO)
    assert subtitles.events and subtitles.events[-1].end <= 24
    assert any("shot 2-1, line 30" in w and "faster than 12" in w for w in subtitles.warnings)


def test_lines_are_timed_to_the_speech_in_the_shots_sound() -> None:
    spoken = [(0.5, 1.7), (2.6, 3.4), (4.3, 6.0)]
    sound = bursts(spoken, 7.0)
    lines = [say("사흘 밤.", 1), say("마을에 남은 건 사흘 밤뿐이야.", 2), say("조용히.", 3)]
    subtitles = subtitle_cut([ShotDialogue("1-1", 240, 168, lines, sound)], FPS, KO)
    assert [cue.line for cue in subtitles.events] == [1, 2, 3]
    for (start, _), cue in zip(spoken, subtitles.events, strict=True):
        assert abs((cue.first - 240) / FPS - start) <= 0.05 + 0.5 / FPS       # starts as the line is spoken
    assert subtitles.events[0].end <= subtitles.events[1].first - 2
    assert subtitles.warnings == []


def test_fewer_stretches_of_speech_than_lines_falls_back_to_reading_speed() -> None:
    sound = bursts([(0.5, 1.5)], 4.0)
    subtitles = subtitle_cut([ShotDialogue("3-1", 0, 96, [say("하나.", 1), say("둘.", 2)], sound)], FPS, KO)
    assert len(subtitles.events) == 2
    assert any("shot 3-1 has 2 lines spoken on set and speech in 1 places" in w for w in subtitles.warnings)


def test_a_voice_over_takes_no_stretch_of_the_plates_speech_and_a_clap_is_not_a_line() -> None:
    """The example's shot 1-1: a slate's clap, Min-ji's line on set, then Grandmother's voice-over, which was
    recorded after the shoot and so is not in the plate. Before, the clap took Min-ji's line and Min-ji's
    speech the voice-over's."""
    sound = bursts([(0.9, 3.3)], 4.0)
    clap = np.zeros((round(0.05 * RATE), 2), np.float32)
    clap[:200] = np.random.default_rng(3).normal(0, 0.5, (200, 2))
    samples = sound.samples.copy()
    samples[round(0.083 * RATE):round(0.083 * RATE) + clap.shape[0]] += clap
    lines = [say("Three nights.", 1, "MIN-JI"), say("Follow the lantern.", 2, "GRANDMOTHER", "V.O.")]
    subtitles = subtitle_cut([ShotDialogue("1-1", 0, 96, lines, Sound(samples))], FPS, rules_for("en"))
    first, second = subtitles.events
    assert abs(first.first / FPS - 0.9) <= 0.05 + 0.5 / FPS      # Min-ji's line starts as she speaks
    assert second.first >= first.end                              # the voice-over follows it, by reading speed
    assert second.italic


def test_srt_and_vtt_read_back(tmp_path: Path) -> None:
    script = parse_fountain("INT. ROOM - NIGHT\n\nMIN-JI\n(quietly)\nIs anyone there?\n\n"
                            "할머니 (V.O.)\n여기 있다, 얘야.\n")
    scene = break_down(script).scenes[0]
    assert dialogue_language(line.text for line in scene.lines) == "en"    # 8 Hangul letters to 13 Latin
    subtitles = subtitle_cut([ShotDialogue("1-1", 24, 96, scene.lines)], FPS, EN)
    written = write_subtitles(subtitles, tmp_path / "out")
    assert [path.name for path in written] == ["cut.srt", "cut.vtt"]
    assert (tmp_path / "out" / "cut.vtt").read_text("utf-8").startswith("WEBVTT")
    for path in written:
        back = pysubs2.load(str(path))
        assert [event.plaintext for event in back] == ["Is anyone there?", "여기 있다, 얘야."]
        for event, cue in zip(back, subtitles.events, strict=True):
            assert abs(event.start - cue.first / FPS * 1000) <= 1 and abs(event.end - cue.end / FPS * 1000) <= 1
        assert back[0].start >= 1000                                            # the shot starts 1 s into the cut
    assert "<i>여기 있다, 얘야.</i>" in (tmp_path / "out" / "cut.srt").read_text("utf-8")    # heard off screen
    times = [path.stat().st_mtime_ns for path in written]
    write_subtitles(subtitles, tmp_path / "out")
    assert [path.stat().st_mtime_ns for path in written] == times        # the same again: not rewritten


def test_subtitle_language_setting() -> None:
    assert Settings(title="T", screenplay="s.fountain").subtitles.language == "auto"
    assert Settings(title="T", screenplay="s.fountain", subtitles={"language": "ko"}).subtitles.language == "ko"
    with pytest.raises(ValidationError):
        Settings(title="T", screenplay="s.fountain", subtitles={"language": "fr"})


def test_the_breakdown_report_lists_lines_that_will_not_fit_their_shots(tmp_path: Path) -> None:
    (tmp_path / "soundstage.toml").write_text('title = "T"\nscreenplay = "s.fountain"\n', encoding="utf-8")
    line = "등불이 밝히지 않는 곳에서 용이 잠든다, 늙은 용아."       # 28 characters: 2.3 s to read
    (tmp_path / "s.fountain").write_text(f"S#1. 한옥 지붕 위 (밤)\n\n민지\n{line}\n", encoding="utf-8")
    (tmp_path / "shots.toml").write_text('[[shot]]\nid = "1-1"\nscene = "1"\nduration = 1\n', encoding="utf-8")
    html = write_breakdown_report(Project.load(tmp_path))[0].read_text("utf-8")
    assert "subtitles: shot 1-1, line 4 (민지)" in html and "faster than 12" in html


def test_a_line_given_its_reading_time_is_not_warned_for_a_frame_lost_to_rounding() -> None:
    line = say("It was here. It was always here.", 33, "MIN-JI")       # 32 characters: 1.6 s, 38.4 frames
    subtitles = subtitle_cut([ShotDialogue("2-1", 96, 96, [line])], FPS, EN)
    assert subtitles.events[0].end - subtitles.events[0].first == 39
    assert subtitles.warnings == []
