"""The edit: the assembled cut (and, later, OTIO timelines for editors)."""

from soundstage.edit.cut import assemble_cut

__all__ = ["assemble_cut"]
