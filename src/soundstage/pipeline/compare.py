"""``soundstage comp --compare``: a shot's comp without and with its integration, side by side, from its takes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from soundstage.errors import ProjectError
from soundstage.pipeline.breakdown import breakdown_project
from soundstage.pipeline.shot import compare_shot, staged_path
from soundstage.pipeline.takes import Generation
from soundstage.project import Project
from soundstage.provenance.credentials import sign_shot
from soundstage.provenance.signer import project_signer
from soundstage.records.shot import read_shot_record


def compare_path(project: Project, shot_id: str) -> Path:
    return project.out_dir / "compare" / f"{shot_id}.mp4"


def write_compare(project: Project, shot_id: str) -> tuple[Path, list[str]]:
    """Write ``out/compare/<shot>.mp4`` from the takes the render chose for the shot (render it first, as
    ``soundstage comp`` does), signed with the shot's own credentials as the render signs the shot; returns the
    file and the comp's warnings."""
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
    signer = project_signer(project)
    record = read_shot_record(project, shot_id) if signer is not None else None
    written = staged_path(path) if record is not None else path     # signed on its way to its name, as the shot
    try:
        warnings = compare_shot(project, shot, layers, written)
        if signer is not None and record is not None:   # the shot's own credentials; its side-by-side has no mark
            plate = project.inside(shot.plate, source=project.shots_file, key="plate") if shot.plate else None
            sign_shot([(written, path)], dataclasses.replace(record, watermark=None), signer, plate=plate,
                      takes={slot: files[0] for slot, files in layers.items()})
    finally:
        if written != path:
            written.unlink(missing_ok=True)
    return path, warnings
