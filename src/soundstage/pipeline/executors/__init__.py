"""Where a render's steps run: in this process, in a pool of local processes (``--jobs N``), or on Ray.

The render plans the job graph and decides what is cached; an executor only runs the steps that must be
built, and hands back futures. Each step is a plain function of picklable arguments (``pipeline.work``), so
the same graph runs in any of them. Outputs are written where every worker can reach them: the project
folder, which on a cluster is a shared path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from soundstage.errors import ProjectError

Report = Callable[[str, int, int], None]      # (step, done, total), called in the rendering process


@dataclass(frozen=True)
class Done:
    """What a step returned, and how long it ran where it ran (not counting its wait for a worker)."""

    value: Any
    seconds: float


def timed(work: Callable[..., Any], args: tuple[Any, ...], progress: Callable[[int, int], None]) -> Done:
    started = time.perf_counter()
    value = work(*args, progress=progress)
    return Done(value, time.perf_counter() - started)


class Executor(Protocol):
    name: str          # as the job log shows it: "local", "local ×2", "ray (local)"

    def submit(self, step: str, work: Callable[..., Any], *args: Any, gpus: float = 0.0) -> Future[Done]:
        """Run ``work(*args, progress=…)`` for ``step``; ``gpus`` is what the step needs of a GPU (Ray asks)."""
        ...

    def poll(self) -> None:
        """Deliver the progress workers have reported since the last call."""
        ...

    def close(self) -> None: ...


def open_executor(kind: str, *, jobs: int, address: str | None, report: Report) -> Executor:
    if kind == "ray":
        from soundstage.pipeline.executors.ray import RayExecutor

        return RayExecutor(address)    # Ray has no progress channel back; steps report when they finish
    if kind != "local":
        raise ProjectError(f"no executor {kind!r}; use local or ray")
    from soundstage.pipeline.executors.local import InlineExecutor, ProcessExecutor

    return InlineExecutor(report) if jobs == 1 else ProcessExecutor(jobs, report)


__all__ = ["Done", "Executor", "Report", "open_executor", "timed"]
