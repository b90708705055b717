"""The job graph: breakdown → sets → shots → cut, each step keyed by its inputs and never redone needlessly."""

from soundstage.pipeline.breakdown import breakdown_project
from soundstage.pipeline.render import RenderReport, StepResult, render_project

__all__ = ["RenderReport", "StepResult", "breakdown_project", "render_project"]
