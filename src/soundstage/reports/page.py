"""The page every report is printed on: one Jinja2 environment, one stylesheet, English or Korean labels.

Templates live in ``soundstage/templates/reports``; each extends ``base.html``. Labels are written in English
in the template, as ``{{ t("Total cost") }}``; a report passes its own Korean words, read from its file in
``soundstage/words`` (``words_of``), so a missing translation shows the English rather than nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from soundstage import __version__
from soundstage.atomic import write_text
from soundstage.errors import ProjectError
from soundstage.project import Project
from soundstage.words import words_of

WORDS = words_of("page")     # English → Korean: soundstage/words/page.toml


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("soundstage", "templates/reports"),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class Money:
    """Amounts as the report's reader counts them. Prices are kept in USD; ``rate`` is one USD in ``currency``."""

    currency: str = "USD"
    rate: float = 1.0
    rate_date: str | None = None

    @classmethod
    def of(cls, project: Project) -> Money:
        """The report's currency: ``[reports]`` if set, else the budget's, with the budget's rate."""
        reports, budget = project.settings.reports, project.settings.budget
        currency = reports.currency or budget.currency
        rate = reports.usd_rate or (budget.usd_rate if budget.currency == currency else None)
        if currency != "USD" and rate is None:
            raise ProjectError(f"reports in {currency} need the exchange rate: set [reports] usd_rate (one USD in "
                               f"{currency}) and rate_date", path=project.settings_path)
        return cls(currency, 1.0 if currency == "USD" else float(rate or 1.0), reports.rate_date)

    def value(self, usd: float) -> float:
        return usd * self.rate

    def show(self, usd: float) -> str:
        value = self.value(usd)
        return f"{value:,.0f} {self.currency}" if self.currency == "KRW" else f"{value:,.2f} {self.currency}"

    def basis(self, language: str = "en") -> str:
        """How amounts were converted, for the page's footnote, in the report's language."""
        t = translator(language, WORDS)
        if self.currency == "USD":
            return t("amounts in USD")
        rate = f"1 USD = {self.rate:,.2f} {self.currency}"
        return f"{rate} " + (t("(rate of {date})").format(date=self.rate_date) if self.rate_date
                             else t("(rate date not given)"))


def translator(language: str, words: Mapping[str, str] | None) -> Callable[[str], str]:
    """``t(label)``: the label in the report's language (``words`` maps English to Korean); English if missing."""
    translations = dict(words or {}) if language == "ko" else {}
    return lambda label: translations.get(label, label)


def render_report(template: str, *, language: str = "en", words: Mapping[str, str] | None = None,
                  **context: Any) -> str:
    """The HTML of ``template`` with ``context``; ``words`` maps English labels to Korean ones."""
    return _environment().get_template(template).render(t=translator(language, words), language=language,
                                                        version=__version__, **context)


def write_report(path: Path, html: str) -> Path:
    """Write a report atomically: a reader never opens half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, html)
    return path
