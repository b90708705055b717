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

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from soundstage.engines import Quote, Unit
from soundstage.errors import ProjectError

PRICES_FILE = "prices.toml"


class PriceLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    engine: str
    model: str
    unit: Unit
    usd: float = Field(ge=0)
    date: str = ""
    source: str = ""


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
        lines = _parse(builtin, Path(PRICES_FILE))
        own = project_root / PRICES_FILE if project_root else None
        if own is not None and own.is_file():
            lines = _parse(own.read_text("utf-8"), own) + lines
        return cls(lines)

    def price(self, quote: Quote) -> Price:
        for line in self.lines:
            if (line.unit == quote.unit and fnmatchcase(quote.engine, line.engine)
                    and fnmatchcase(quote.model, line.model)):
                return Price(line.usd * quote.quantity, line)
        raise ProjectError(f"no price for {quote.engine} model {quote.model!r} per {quote.unit}",
                           path=PRICES_FILE, hint="add a [[price]] line to the project's prices.toml")


def _parse(text: str, source: Path) -> list[PriceLine]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"not valid TOML: {exc}", path=source) from None
    lines = []
    for index, item in enumerate(raw.get("price", [])):
        try:
            lines.append(PriceLine.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise ProjectError(f"[[price]] #{index + 1} {key}: {first['msg']}", path=source) from None
    return lines
