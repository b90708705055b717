"""Steps as Ray tasks (``--executor ray``): on a local Ray, or on a cluster with ``--address``.

Why Ray: it already schedules tasks by CPU and GPU across machines and restarts lost workers; soundstage
only says what each step needs. Engine steps that run a local model ask for a GPU; comps run on CPU workers.
Every worker must reach the project folder at the same path (a shared file system): takes, plates and
outputs are read and written there, and published atomically as everywhere else.

Ray is an optional extra: ``pip install 'soundstage[ray]'``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from soundstage.errors import ProjectError, install_hint
from soundstage.pipeline.executors import Done, timed


class RayExecutor:
    def __init__(self, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise ProjectError("the ray executor needs Ray", hint=install_hint("ray")) from None
        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            try:
                ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING,
                         log_to_driver=False, configure_logging=True)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ProjectError(f"cannot reach the Ray cluster at {address}: {exc}".splitlines()[0],
                                   hint="start it with 'ray start --head', or leave out --address for a local "
                                        "Ray") from None
        self.name = f"ray {address}" if address else "ray (local)"
        self._gpus = ray.cluster_resources().get("GPU", 0) > 0
        self._task = ray.remote(_run)

    def submit(self, step: str, work: Callable[..., Any], *args: Any, gpus: float = 0.0) -> Future[Done]:
        # A model step asks for a GPU only where the cluster has one; without, it runs on a CPU worker.
        options = {"num_gpus": gpus, "num_cpus": 1} if gpus and self._gpus else {"num_cpus": 1}
        # Ray has no per-frame channel back here: the step's bar moves when the render sees it finish.
        future: Future[Done] = self._task.options(**options).remote(work, args).future()
        return future

    def poll(self) -> None:
        return None

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()


def _run(work: Callable[..., Any], args: tuple[Any, ...]) -> Done:
    return timed(work, args, lambda done, total: None)
