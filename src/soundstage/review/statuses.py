"""A shot's review status, as a coordinator moves it along (waiting, WIP, pending review, retake, approved,
final): its names in the crew's language or as the project renames them, and who may set which."""

from __future__ import annotations

from soundstage.errors import ProjectError
from soundstage.project import Project
from soundstage.records.settings import SHOT_STATUSES
from soundstage.words import words_of

# Saying a shot is done is a decision of those who approve takes; the rest is the crew's daily bookkeeping.
DECIDED = frozenset({"approved", "final"})


def status_names(project: Project, language: str = "en") -> dict[str, str]:
    """Each status → the name shown: the project's own ([review] statuses), else the words file's."""
    words = words_of("review")
    renamed = project.settings.review.statuses
    return {status: renamed.get(status) or words.text(status, language) for status in SHOT_STATUSES}


def checked_status(status: str) -> str:
    if status not in SHOT_STATUSES:
        raise ProjectError(f"{status!r} is not a status; the statuses are {', '.join(SHOT_STATUSES)}")
    return status


def action_for(status: str) -> str:
    """The role's action needed to set ``status`` (see review.auth.ROLES)."""
    return "approve" if status in DECIDED else "note"


__all__ = ["DECIDED", "action_for", "checked_status", "status_names"]
