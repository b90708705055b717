"""A take, typed once: what ``take.json`` holds (``TakeFile``) and what the take store answers (``Take``).

``take.json`` is written once beside the take's files and never changed; old projects' files read as they are
(fields added since then take their defaults). ``Take`` is that file numbered in a slot: its id and version,
and what it cost this slot (nothing when it was served from the store).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from functools import cache
from typing import Any

from soundstage.records.source import is_ai


@dataclass(frozen=True)
class TakePrice:
    """The price-table line a take was charged at, per unit."""

    engine: str = ""
    model: str = ""
    unit: str = ""
    usd: float = 0.0
    date: str = ""
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class TakeFile:
    """How a take was made, as ``take.json`` holds it (fields in the file's order; those with a default may be
    missing from an older project's file)."""

    slot: str
    key: str
    design: str
    kind: str
    engine: str
    model: str
    engine_version: str
    source_type: str
    request: dict[str, Any]          # the request as sent; references as {path, sha256}
    parameters: dict[str, Any] = field(default_factory=dict)
    files: tuple[str, ...]           # relative to the take's folder
    unit: str = ""
    quantity: float = 0.0
    cost_usd: float
    price: TakePrice | None = None
    seconds: float
    created_at: str                  # ISO 8601, UTC
    soundstage: str = ""
    colour_space: str = ""           # the OCIO space its pictures are in: what the engine says, else sRGB's display

    @property
    def prompt(self) -> str:
        return str(self.request.get("prompt", ""))

    @property
    def negative_prompt(self) -> str:
        return str(self.request.get("negative_prompt", ""))

    @property
    def seed(self) -> Any:
        return self.request.get("seed")

    @property
    def is_ai(self) -> bool:
        return is_ai(self.source_type)

    def to_dict(self) -> dict[str, Any]:
        raw = asdict(self)
        raw["files"] = list(self.files)
        return raw

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False, default=str)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TakeFile:
        """A take.json as read from disk; a key a newer soundstage added is ignored, a missing one defaulted."""
        known = _field_names(cls)
        values = {k: v for k, v in raw.items() if k in known}
        if "files" in raw:
            values["files"] = tuple(raw["files"])
        price = raw.get("price")
        price_fields = _field_names(TakePrice)
        values["price"] = TakePrice(**{k: v for k, v in price.items() if k in price_fields}) \
            if isinstance(price, dict) else None
        return cls(**values)


@cache
def _field_names(cls: type) -> frozenset[str]:
    """A dataclass's field names, read once (a review page reads thousands of take.json records)."""
    return frozenset(f.name for f in fields(cls))


@dataclass(frozen=True)
class Take:
    """One take of one slot: ``v001``, ``v002``… never overwritten. Its files live in ``folder``; how it was made
    is its take.json (``record``), which a take served into another slot shares with the slot it was made for."""

    id: int
    slot: str
    version: int
    key: str
    design: str
    folder: str                  # relative to the project's state folder
    cost_usd: float              # what this take cost this slot when it was made (0: served from the store)
    seconds: float
    created_at: datetime         # when this slot got it
    record: TakeFile

    @property
    def label(self) -> str:
        return f"v{self.version:03d}"

    @property
    def kind(self) -> str:
        return self.record.kind

    @property
    def engine(self) -> str:
        return self.record.engine

    @property
    def model(self) -> str:
        return self.record.model

    @property
    def engine_version(self) -> str:
        return self.record.engine_version

    @property
    def source_type(self) -> str:
        return self.record.source_type

    @property
    def prompt(self) -> str:
        return self.record.prompt

    @property
    def seed(self) -> Any:
        return self.record.seed

    @property
    def is_ai(self) -> bool:
        return self.record.is_ai
