"""Steps on this machine: one at a time in this process, or ``--jobs N`` at a time in worker processes.

Workers are spawned, not forked: the rendering process holds database connections and threads that a fork
would copy half-way. Each worker dies with the rendering process (``PR_SET_PDEATHSIG``), so a killed render
leaves no orphan still writing files that the next run is about to write.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import queue
import signal
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from typing import Any

from soundstage.pipeline.executors import Done, Report, timed


class InlineExecutor:
    """``--jobs 1``: each step runs as it is submitted, in this process, reporting progress directly."""

    name = "local"

    def __init__(self, report: Report) -> None:
        self._report = report

    def submit(self, step: str, work: Callable[..., Any], *args: Any, gpus: float = 0.0) -> Future[Done]:
        future: Future[Done] = Future()
        try:
            future.set_result(timed(work, args, partial(self._report, step)))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def poll(self) -> None:
        return None

    def close(self) -> None:
        return None


class ProcessExecutor:
    """``--jobs N``: N worker processes; their progress comes back on a queue, drained by ``poll``."""

    def __init__(self, jobs: int, report: Report) -> None:
        self.name = f"local ×{jobs}"
        self._report = report
        context = multiprocessing.get_context("spawn")
        self._progress: multiprocessing.Queue[tuple[str, int, int]] = context.Queue()
        self._pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                                         initargs=(self._progress, os.getpid()))

    def submit(self, step: str, work: Callable[..., Any], *args: Any, gpus: float = 0.0) -> Future[Done]:
        return self._pool.submit(_run, step, work, args)

    def poll(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self._report(*self._progress.get_nowait())

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.poll()
        self._progress.close()


_queue: Any = None


def _start_worker(progress: Any, parent: int) -> None:
    global _queue
    _queue = progress
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    if os.getppid() != parent:   # the render died before the line above took effect
        os._exit(1)


def _run(step: str, work: Callable[..., Any], args: tuple[Any, ...]) -> Done:
    last = [-1]

    def progress(done: int, total: int) -> None:
        if done != last[0]:
            last[0] = done
            _queue.put((step, done, total))

    return timed(work, args, progress)
