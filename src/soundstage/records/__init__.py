"""The film's nouns, declared once: slots, source types, takes, and the layer/shot/cut records.

The ground floor: it imports nothing of soundstage's stages (no database, no project, no pipeline), so every
stage can name these nouns without pulling in another.
"""

from soundstage.records.slot import Slot, shot_subject, subject_shot
from soundstage.records.source import AssetKind, SourceType, is_ai

__all__ = ["AssetKind", "Slot", "SourceType", "is_ai", "shot_subject", "subject_shot"]
