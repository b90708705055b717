"""Work the review app runs in the background: a new take of a slot, a render of a shot or of the film.

One worker thread runs the jobs in turn, as the CLI would run them one after another; each job keeps a list
of progress events that the page follows live (server-sent events). The work itself is the pipeline's:
``Generation.make`` for a take (which refuses, before anything is sent, a take that would cross the budget),
``render_project`` for the comp.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from soundstage.errors import BudgetError, ProjectError, SoundstageError
from soundstage.pipeline import Generation, StepResult, breakdown_project, render_project
from soundstage.project import Project
from soundstage.records.take import Take

State = Literal["queued", "running", "done", "refused", "failed"]
MAX_WAITING = 20          # more queued jobs than this are refused: a stuck button must not queue hours of work


class Busy(ProjectError):
    """The same job is already queued or running, or too many jobs are waiting."""


@dataclass
class ReviewJob:
    id: int
    kind: Literal["regenerate", "render"]
    shot: str | None           # None: the whole film
    slot: str | None
    by: str
    state: State = "queued"
    message: str = "waiting for the jobs ahead"
    take_id: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "refused", "failed")

    def tell(self, **event: Any) -> None:
        """Add a progress event (the page shows the newest one)."""
        if "state" in event:
            self.state = event["state"]
        if "message" in event:
            self.message = event["message"]
        self.events.append({"state": self.state, "message": self.message} | event)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "shot": self.shot, "slot": self.slot, "by": self.by,
                "state": self.state, "message": self.message, "take_id": self.take_id,
                "finished": self.finished, "events": len(self.events)}


class _Watcher:
    """The render's progress, as job events: frames done of each step."""

    def __init__(self, job: ReviewJob) -> None:
        self.job = job
        self.totals: dict[str, int] = {}

    def planned(self, step: str, total: int) -> None:
        self.totals[step] = total
        self.job.tell(message=f"rendering {step}", step=step, done=0, total=total)

    def advanced(self, step: str, done: int) -> None:
        self.job.tell(message=f"rendering {step}", step=step, done=done, total=self.totals.get(step, done))

    def finished(self, result: StepResult) -> None:
        self.job.tell(message=f"{result.step}: {result.status}", step=result.step, status=result.status)


class JobBoard:
    """The queue of background jobs for one project, and their progress."""

    def __init__(self, project: Project, sessions: sessionmaker[Session] | None = None) -> None:
        self.project = project
        self.sessions = sessions
        self._jobs: dict[int, ReviewJob] = {}
        self.take_ready: Callable[[ReviewJob, Take], None] | None = None    # told of each new take made
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[ReviewJob, Callable[[ReviewJob], None]] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="soundstage-review-jobs", daemon=True)
        self._worker.start()

    def get(self, job_id: int) -> ReviewJob | None:
        return self._jobs.get(job_id)

    def recent(self, count: int = 20) -> list[ReviewJob]:
        return sorted(self._jobs.values(), key=lambda j: j.id, reverse=True)[:count]

    def regenerate(self, shot: str, slot: str, *, prompt: str | None, seed: int | None, by: str) -> ReviewJob:
        """A new take of ``slot`` (one of ``shot``'s), with another prompt or seed, then the shot re-rendered."""

        def work(job: ReviewJob) -> None:
            generation = Generation(self.project, database=self.sessions)
            orders = {o.slot: o for o in generation.orders(breakdown_project(self.project), [shot])}
            if slot not in orders:
                raise ProjectError(f"shot {shot} has no slot {slot}")
            order = orders[slot]
            request = replace(order.request, prompt=prompt if prompt else order.request.prompt,
                              seed=order.request.seed if seed is None else seed)
            job.tell(message=f"generating {slot} with {order.engine}", step=f"take {slot}", done=0, total=1)
            take, made = generation.make(replace(order, request=request))
            job.take_id = take.id
            if made and self.take_ready is not None:
                self.take_ready(job, take)
            said = (f"made {take.label}" if made else f"{take.label} was already in the store") + \
                f" ({take.engine} · {take.model}, {self.project.settings.budget.show(take.cost_usd if made else 0)})"
            job.tell(message=said, step=f"take {slot}", done=1, total=1, take=take.label)
            used = generation.chosen(slot, order.design)
            if used is None or used.id != take.id:
                job.tell(state="done", message=f"{said}; approve it to use it in the shot")
                return
            self._render(job, [shot])
            job.tell(state="done", message=f"{said}; shot {shot} rendered with it")

        return self._submit(ReviewJob(0, "regenerate", shot, slot, by), work)

    def render(self, shot: str | None, *, by: str) -> ReviewJob:
        def work(job: ReviewJob) -> None:
            self._render(job, None if shot is None else [shot])
            job.tell(state="done", message=f"shot {shot} rendered" if shot else "the film is rendered")

        return self._submit(ReviewJob(0, "render", shot, None, by), work)

    def close(self) -> None:
        self._queue.put(None)

    # ------------------------------------------------------------------------------------------ inside

    def _render(self, job: ReviewJob, shots: list[str] | None) -> None:
        report = render_project(self.project, shots=shots, progress=_Watcher(job), wait=True)
        if report.failed:
            first = report.failed[0]
            raise ProjectError(f"{first.step} failed: {first.reason}")

    def _submit(self, job: ReviewJob, work: Callable[[ReviewJob], None]) -> ReviewJob:
        with self._lock:
            active = [j for j in self._jobs.values() if not j.finished]
            if any((j.kind, j.shot, j.slot) == (job.kind, job.shot, job.slot) for j in active):
                raise Busy("the same job is already queued or running; wait for it to finish")
            if len(active) >= MAX_WAITING:
                raise Busy(f"{len(active)} jobs are already waiting; try again when some have finished")
            job.id = next(self._ids)
            self._jobs[job.id] = job
            job.tell(state="queued")
        self._queue.put((job, work))
        return job

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            job, work = item
            job.tell(state="running", message="starting")
            try:
                work(job)
            except BudgetError as exc:
                job.tell(state="refused", message=f"refused: {exc}")
            except SoundstageError as exc:
                job.tell(state="failed", message=f"failed: {exc}")
            except Exception as exc:      # a bug in one job must not stop the ones behind it
                job.tell(state="failed", message=f"failed: {type(exc).__name__}: {exc}")
