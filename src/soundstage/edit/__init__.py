"""The edit: the assembled cut, and the cut as a timeline for editors (OTIO, EDL, FCP XML)."""

from soundstage.edit.cut import assemble_cut
from soundstage.edit.timeline import FORMATS, CutExport, cut_timeline, export_cut

__all__ = ["FORMATS", "CutExport", "assemble_cut", "cut_timeline", "export_cut"]
