"""The job graph: breakdown → takes → shots → cut, each step keyed by its inputs and never redone needlessly."""

from soundstage.pipeline.breakdown import breakdown_project
from soundstage.pipeline.render import RenderReport, StepResult, render_project
from soundstage.pipeline.takes import Generation, Order, Outcome, Planned

__all__ = ["Generation", "Order", "Outcome", "Planned", "RenderReport", "StepResult", "breakdown_project",
           "render_project"]
