"""The render as the crew watches it: a Rich bar per stage (takes, shots, cut) and one overall, with ETAs.

Why per stage: a take from a paid service and a shot's frames are not the same unit, so each stage counts
its own (takes, frames), and the overall bar counts the steps that must be built (cached ones finish at
once and would make the ETA lie).
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from soundstage.pipeline.render import StepResult

STAGES = {"take": "takes", "shot": "shots", "cut": "cut"}
UNITS = {"takes": "takes", "shots": "frames", "cut": "frames", "overall": "steps"}


class RenderBars:
    """A ``RenderProgress`` drawing on ``console``; shows nothing when the console is not a terminal."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self._bars = Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
                              TextColumn("{task.fields[unit]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                              console=console, transient=True, disable=not enabled)
        # Every bar is made now, hidden, so they stand in stage order whichever shows first.
        self._tasks: dict[str, TaskID] = {
            stage: self._bars.add_task(stage, total=0, unit=UNITS[stage], visible=False) for stage in UNITS}
        self._done: dict[str, int] = {}         # step → units done
        self._total: dict[str, int] = {}        # step → units planned

    def __enter__(self) -> RenderBars:
        self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bars.stop()

    def planned(self, step: str, total: int) -> None:
        self._total[step] = total
        self._done.setdefault(step, 0)
        self._grow(_stage(step), total)
        self._grow("overall", 1)

    def advanced(self, step: str, done: int) -> None:
        if step not in self._total:
            return
        done = min(done, self._total[step])
        self._bars.advance(self._tasks[_stage(step)], done - self._done[step])
        self._done[step] = done

    def finished(self, result: StepResult) -> None:
        step = result.step
        if step not in self._total:
            return       # cached or skipped without being planned: nothing was drawn for it
        self.advanced(step, self._total[step])
        self._bars.advance(self._tasks["overall"], 1)

    def _grow(self, stage: str, units: int) -> None:
        task = self._tasks[stage]
        self._bars.update(task, total=(self._bars.tasks[task].total or 0) + units, visible=True)


def _stage(step: str) -> str:
    return STAGES[step.split(" ", 1)[0]]
