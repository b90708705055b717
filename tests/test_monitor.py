"""The render's progress bars: each stage counts its own units, the overall bar the steps to build."""

from __future__ import annotations

import io

from rich.console import Console

from soundstage.monitor import RenderBars
from soundstage.pipeline import StepResult


def bars_state(bars: RenderBars) -> dict[str, tuple[float, float | None, bool]]:
    return {task.description: (task.completed, task.total, task.visible) for task in bars._bars.tasks}


def test_stages_count_takes_and_frames_and_the_overall_bar_counts_steps() -> None:
    screen = io.StringIO()
    with RenderBars(Console(file=screen, force_terminal=True, width=100), enabled=True) as bars:
        bars.finished(StepResult("take set/cached", "cached"))          # never planned: draws nothing
        assert not any(visible for *_, visible in bars_state(bars).values())
        bars.planned("take set/roofs", 1)
        bars.planned("shot 1-1", 24)
        bars.planned("shot 2-1", 12)
        bars.advanced("shot 1-1", 10)
        bars.advanced("shot 2-1", 4)
        bars.advanced("shot 1-1", 30)                                   # never past the step's own total
        state = bars_state(bars)
        assert state["shots"] == (28, 36, True) and state["takes"] == (0, 1, True)
        assert state["overall"] == (0, 3, True) and state["cut"][2] is False
        bars.finished(StepResult("take set/roofs", "built"))
        bars.finished(StepResult("shot 2-1", "failed", reason="plate damaged"))
        state = bars_state(bars)
        assert state["takes"][:2] == (1, 1) and state["shots"][:2] == (36, 36)
        assert state["overall"][:2] == (2, 3)
    assert "shots" in screen.getvalue() and "frames" in screen.getvalue()


def test_disabled_bars_draw_nothing() -> None:
    screen = io.StringIO()
    with RenderBars(Console(file=screen, force_terminal=True), enabled=False) as bars:
        bars.planned("shot 1-1", 24)
        bars.advanced("shot 1-1", 24)
    assert screen.getvalue() == ""
