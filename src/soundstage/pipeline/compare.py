"""``soundstage comp --compare``: a shot's comp without and with its integration, side by side, from its takes."""

from __future__ import annotations

from pathlib import Path

from soundstage.errors import ProjectError
from soundstage.pipeline.breakdown import breakdown_project
from soundstage.pipeline.shot import compare_shot
from soundstage.pipeline.takes import Generation
from soundstage.project import Project


def compare_path(project: Project, shot_id: str) -> Path:
    return project.out_dir / "compare" / f"{shot_id}.mp4"


def write_compare(project: Project, shot_id: str) -> tuple[Path, list[str]]:
    """Write ``out/compare/<shot>.mp4`` from the takes the render chose for the shot (render it first, as
    ``soundstage comp`` does); returns the file and the comp's warnings."""
    breakdown = breakdown_project(project, lock=False)
    shot = next((s for s in breakdown.shots if s.id == shot_id), None)
    if shot is None:
        raise ProjectError(f"no shot {shot_id!r}; shots: {', '.join(s.id for s in breakdown.shots)}",
                           path=project.shots_file)
    generation = Generation(project)
    layers: dict[str, list[Path]] = {}
    for order in generation.orders(breakdown, [shot_id]):
        take = generation.chosen(order.slot, order.design)
        if take is None:
            raise ProjectError(f"shot {shot_id} has no take for {order.slot} yet", shot=shot_id,
                               hint=f"render it first: soundstage comp {project.root} --shot {shot_id}")
        layers[order.slot] = generation.store.files(take)
    path = compare_path(project, shot_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, compare_shot(project, shot, layers, path)
