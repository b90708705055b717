"""Scene headings (English and Korean) and character cues, as both parsers read them."""

from __future__ import annotations

import pytest

from soundstage.script import Heading
from soundstage.script.heading import is_cue, is_heading, normalise_time, parse_heading, split_cue


@pytest.mark.parametrize(
    ("written", "heading"),
    [
        ("INT. HOUSE - NIGHT", Heading("INT", "HOUSE", "NIGHT", "NIGHT", None)),
        ("EXT. BRICK'S POOL - DAY", Heading("EXT", "BRICK'S POOL", "DAY", "DAY", None)),
        ("ext. brick's pool - day", Heading("EXT", "brick's pool", "DAY", "day", None)),
        ("INT./EXT. CAR - MOVING", Heading("INT/EXT", "CAR", "MOVING", "MOVING", None)),
        ("INT/EXT CAR - Night", Heading("INT/EXT", "CAR", "NIGHT", "Night", None)),
        ("I/E CAR - SUNRISE", Heading("INT/EXT", "CAR", "DAWN", "SUNRISE", None)),
        ("EST. SEOUL SKYLINE - SUNSET", Heading("EXT", "SEOUL SKYLINE", "DUSK", "SUNSET", None)),
        ("INT HOUSE - MOMENTS LATER", Heading("INT", "HOUSE", "MOMENTS LATER", "MOMENTS LATER", None)),
        ("INT. HOUSE - KITCHEN - CONTINUOUS", Heading("INT", "HOUSE - KITCHEN", "CONTINUOUS", "CONTINUOUS", None)),
        ("INT. HOUSE -- SAME", Heading("INT", "HOUSE", "SAME", "SAME", None)),
        ("INT. HOUSE - DAY #1#", Heading("INT", "HOUSE", "DAY", "DAY", "1")),
        ("INT. HOUSE - DAY #12A#", Heading("INT", "HOUSE", "DAY", "DAY", "12A")),
        ("INT. HOUSE - DAY #I-1-A#", Heading("INT", "HOUSE", "DAY", "DAY", "I-1-A")),
        ("EXT. ROAD - FLASHBACK (1944) #110A#",
         Heading("EXT", "ROAD", "FLASHBACK (1944)", "FLASHBACK (1944)", "110A")),
        ("EXT. CAR (MOVING) - DAY", Heading("EXT", "CAR (MOVING)", "DAY", "DAY", None)),
        ("INT. HOUSE (NIGHT)", Heading("INT", "HOUSE", "NIGHT", "NIGHT", None)),
        ("INT. HOUSE", Heading("INT", "HOUSE", None, None, None)),
        ("SNIPER SCOPE POV", Heading(None, "SNIPER SCOPE POV", None, None, None)),
        # Korean convention
        ("S#12. 한옥 지붕 위 (밤)", Heading(None, "한옥 지붕 위", "NIGHT", "밤", "12")),
        ("S#3 집 앞 / 낮", Heading(None, "집 앞", "DAY", "낮", "3")),
        ("S#4. 거실 - 낮", Heading(None, "거실", "DAY", "낮", "4")),
        ("S#12A. 거실 - 새벽", Heading(None, "거실", "DAWN", "새벽", "12A")),
        ("s#7.거실 (아침)", Heading(None, "거실", "MORNING", "아침", "7")),
        ("S#5. 실내 - 카페 (낮)", Heading("INT", "카페", "DAY", "낮", "5")),
        ("S#5. 카페 (실내, 낮)", Heading("INT", "카페", "DAY", "낮", "5")),
        ("S#6. 운동장 (외부, 저녁)", Heading("EXT", "운동장", "EVENING", "저녁", "6")),
        ("S#6. 야외 - 운동장 - 황혼", Heading("EXT", "운동장", "DUSK", "황혼", "6")),
        ("S#8. 실내 수영장 (오후)", Heading(None, "실내 수영장", "AFTERNOON", "오후", "8")),  # indoor pool: a name
        ("S#9. 학교 옥상 (밤, 회상)", Heading(None, "학교 옥상 (회상)", "NIGHT", "밤", "9")),
        ("S#10. 학교 옥상 (회상)", Heading(None, "학교 옥상 (회상)", None, None, "10")),
        ("S#11. 바다 - 해질녘", Heading(None, "바다", "DUSK", "해질녘", "11")),
        ("S#13. 바다 (노을)", Heading(None, "바다", "DUSK", "노을", "13")),
        ("S#14. 골목 (한밤)", Heading(None, "골목", "NIGHT", "한밤", "14")),
        ("S#15. 산 (동틀녘)", Heading(None, "산", "DAWN", "동틀녘", "15")),
        ("S#16. 부엌 - 계속", Heading(None, "부엌", "CONTINUOUS", "계속", "16")),
        ("S#17. INT. 카페 - 낮", Heading("INT", "카페", "DAY", "낮", "17")),
        ("S#18. 카페, 밤", Heading(None, "카페", "NIGHT", "밤", "18")),
        ("S#19. 부엌 - 밤 (실내)", Heading("INT", "부엌", "NIGHT", "밤", "19")),
    ],
)
def test_parse_heading(written: str, heading: Heading) -> None:
    assert parse_heading(written) == heading


def test_number_given_by_the_file_wins_over_none() -> None:
    assert parse_heading("INT. HOUSE - DAY", "7B").number == "7B"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("INT. HOUSE", True), ("int house", True), ("EST. CITY", True), ("I/E CAR", True),
        ("INT./EXT. CAR", True), ("S#12. 거실", True), ("S#3 집", True),
        ("INTERIOR DESIGN", False), ("EXTRA! EXTRA!", False), ("# ACT ONE", False), ("#12. 거실", False),
        ("Insects swarm.", False),
    ],
)
def test_is_heading(line: str, expected: bool) -> None:
    assert is_heading(line) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("MIN-JI", True), ("MIN-JI (V.O.)", True), ("MIN-JI (cont'd)", True), ("R2D2", True), ("STEEL ^", True),
        ("민지", True), ("민지 (V.O.)", True), ("형사 2", True), ("MIN-JI 민지", True), ("할머니 ^", True),
        ("Min-ji", False), ("23", False), ("CUT TO:", False), ("INT. HOUSE - DAY", False), ("S#1. 거실", False),
        ("민지가 달린다.", False), ("이 줄은 스무 글자를 훨씬 넘는 아주 긴 지문입니다", False), ("(beat)", False),
    ],
)
def test_is_cue(line: str, expected: bool) -> None:
    assert is_cue(line) is expected


@pytest.mark.parametrize(
    ("cue", "split"),
    [
        ("MIN-JI", ("MIN-JI", None)),
        ("MIN-JI (V.O.)", ("MIN-JI", "V.O.")),
        ("MIN-JI (O.S.) (CONT'D)", ("MIN-JI", "O.S., CONT'D")),
        ("할머니 (E)", ("할머니", "E")),
    ],
)
def test_split_cue(cue: str, split: tuple[str, str | None]) -> None:
    assert split_cue(cue) == split


@pytest.mark.parametrize(
    ("written", "time"),
    [("night", "NIGHT"), ("Sunset", "DUSK"), ("MOMENTS  LATER", "MOMENTS LATER"), ("DAY.", "DAY"),
     ("새벽", "DAWN"), ("황혼", "DUSK"), ("오후", "AFTERNOON"), ("magic hour", "MAGIC HOUR")],
)
def test_times_of_day(written: str, time: str) -> None:
    assert normalise_time(written) == time
