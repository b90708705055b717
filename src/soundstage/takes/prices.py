"""The price table: what one unit of one engine's model costs, with the date and source of the figure.

Prices are data, not code: the defaults ship in ``prices.toml`` beside this file, and a project's own
``prices.toml`` overrides them. Every figure carries its date and source, because the cost report must print
them: prices change monthly.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from soundstage.engines import Quote, Unit
from soundstage.errors import ProjectError
from soundstage.project import find_key_line
from soundstage.tomlfile import read_toml

PRICES_FILE = "prices.toml"


class PriceLine(BaseModel):
    # Strict: a price written as a string ("0.04") is a typo, not a number; inf and nan are never a price.
    model_config = ConfigDict(extra="forbid", strict=True)

    engine: str = Field(min_length=1)
    model: str = Field(min_length=1)
    unit: Unit
    usd: float = Field(ge=0, allow_inf_nan=False)
    date: str = ""
    source: str = ""


class PriceFile(BaseModel):
    """A whole ``prices.toml``: only ``[[price]]`` lines, so a misspelt ``[[prices]]`` is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    price: list[dict[str, Any]] = []


@dataclass(frozen=True)
class Price:
    usd: float          # for the whole quote
    line: PriceLine


class PriceTable:
    def __init__(self, lines: list[PriceLine]) -> None:
        self.lines = lines

    @classmethod
    def load(cls, project_root: Path | None = None) -> PriceTable:
        """The built-in table, with the project's ``prices.toml`` lines in front of it."""
        builtin = resources.files("soundstage.takes").joinpath(PRICES_FILE).read_text("utf-8")
        lines = _parse(tomllib.loads(builtin), builtin, Path(PRICES_FILE))
        own = project_root / PRICES_FILE if project_root else None
        if own is not None and own.is_file():
            lines = _parse(*read_toml(own), own) + lines
        return cls(lines)

    def price(self, quote: Quote) -> Price:
        for line in self.lines:
            if (line.unit == quote.unit and fnmatchcase(quote.engine, line.engine)
                    and fnmatchcase(quote.model, line.model)):
                return Price(line.usd * quote.quantity, line)
        raise ProjectError(f"no price for {quote.engine} model {quote.model!r} per {quote.unit}",
                           path=PRICES_FILE, hint="add a [[price]] line to the project's prices.toml")


def _parse(raw: dict[str, Any], text: str, source: Path) -> list[PriceLine]:
    try:
        items = PriceFile.model_validate(raw).price
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        message = "is not a known key (the file holds [[price]] lines)" if first["type"] == "extra_forbidden" \
            else "must be a list of [[price]] tables" if key.startswith("price") else first["msg"]
        top = key.split(".")[0]
        line = find_key_line(text, top) or next((n for n, row in enumerate(text.splitlines(), 1)
                                                  if row.strip().startswith(f"[[{top}]]")), None)
        raise ProjectError(f"{top}: {message}", path=source, line=line) from None
    lines = []
    for index, item in enumerate(items):
        try:
            lines.append(PriceLine.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            message = "is missing" if first["type"] == "missing" else first["msg"]
            raise ProjectError(f"[[price]] #{index + 1} {key}: {message}", path=source,
                               line=_line_of(text, index, key)) from None
    return lines


def _line_of(text: str, index: int, key: str) -> int | None:
    """The line of ``key`` inside the ``index``-th ``[[price]]`` table (or the table's own line)."""
    starts = [n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith("[[price]]")]
    if index >= len(starts):
        return None
    end = starts[index + 1] if index + 1 < len(starts) else len(text.splitlines()) + 1
    block = "\n".join(text.splitlines()[starts[index] - 1:end - 1])
    found = find_key_line(block, key) if key else None
    return starts[index] + found - 1 if found else starts[index]
