"""The Ray executor asks Ray for what a step needs: a GPU for a local model's step, a CPU for a comp."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from soundstage.pipeline.executors import open_executor

ray = pytest.importorskip("ray")


@pytest.fixture
def cluster_with_a_gpu() -> Iterator[None]:
    # Ray schedules by declared resources; one declared GPU is enough to see where a step is placed.
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_a_model_step_gets_a_gpu_and_a_comp_step_none(cluster_with_a_gpu: None) -> None:
    def gpus_seen(progress: Any) -> list[int]:     # nested, so Ray ships it by value to its workers
        progress(1, 1)
        return [int(i) for i in ray.get_gpu_ids()]

    reported: list[tuple[str, int, int]] = []
    executor = open_executor("ray", jobs=1, address=None, report=lambda *r: reported.append(r))
    try:
        assert executor.name == "ray (local)"
        on_gpu = executor.submit("take set/x", gpus_seen, gpus=1.0)
        on_cpu = executor.submit("shot 1-1", gpus_seen)
        assert on_gpu.result(timeout=60).value == [0]
        assert on_cpu.result(timeout=60).value == []
    finally:
        executor.close()
    assert ray.is_initialized(), "a cluster the executor did not start is left running"
