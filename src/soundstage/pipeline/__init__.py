"""The job graph: breakdown → takes → shots → cut, each step keyed by its inputs and never redone needlessly.

Its names are loaded when first asked for, so a command that needs the breakdown or the take store does not
import the render (and the comp, the edit and provenance with it).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from soundstage.pipeline.breakdown import ProjectBreakdown, breakdown_project, read_breakdown
    from soundstage.pipeline.render import RenderReport, StepResult, render_project
    from soundstage.pipeline.takes import Generation, Order, Outcome, Planned

_HOME = {"breakdown_project": "breakdown", "ProjectBreakdown": "breakdown", "read_breakdown": "breakdown",
         "RenderReport": "render", "StepResult": "render",
         "render_project": "render", "Generation": "takes", "Order": "takes", "Outcome": "takes", "Planned": "takes"}

__all__ = ["Generation", "Order", "Outcome", "Planned", "ProjectBreakdown", "RenderReport", "StepResult",
           "breakdown_project", "read_breakdown", "render_project"]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
