"""The cost and schedule report: what each shot's AI takes really cost and took, against a traditional bid.

The AI side is measured: every take in the project database (rejected and unused ones too, since they were
paid for), its engine units, the price-table line it was charged at (with that line's source and date), its
cost and engine time, and each shot's render time from the render ledger. The traditional side is an estimate
from the rate card (``ratecard.py``). The report keeps the two apart on the page, and tests the field's
claims ("10 times faster, half the cost", "production time -50%") against this project's figures.

A location's set is one take shared by every shot there: its cost and time are split evenly between them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from soundstage.db import Job, RenderRecord, open_database
from soundstage.errors import ProjectError
from soundstage.project import Project
from soundstage.records.take import TakePrice
from soundstage.reports.charts import Series, bar_chart, cumulative_chart
from soundstage.reports.page import Money, render_report, translator, write_report
from soundstage.reports.ratecard import RATECARD_FILE, RateCard, ShotClass, classify, load_ratecard
from soundstage.script.breakdown import Breakdown
from soundstage.words import words_of

UNITS = {"image": "images", "video_second": "s of video", "gpu_second": "GPU-s", "cpu_second": "CPU-s"}
AI_COLOUR, TRADITIONAL_COLOUR = "#d0572b", "#2f6fbf"

WORDS = words_of("cost")     # English → Korean, and the named sentences: soundstage/words/cost.toml
NOT_TESTED = WORDS.text("not_tested")
NO_AI = WORDS.text("no_ai")
ESTIMATES = WORDS.text("estimates")
CAVEAT = WORDS.text("caveat")
FREE = WORDS.text("free")
ONLY_VFX = WORDS.text("only_vfx")
SPLIT_NOTE = WORDS.text("split_note")
MEASURED_TEXT = WORDS.text("measured_text")
ESTIMATED_TEXT = WORDS.text("estimated_text")


# ---------------------------------------------------------------------------------------------- the figures


@dataclass(frozen=True)
class TakeCost:
    """One take as the books hold it."""

    slot: str
    label: str
    shots: tuple[str, ...]        # the shots that use its slot (a set's: every shot at the location)
    status: str                   # approved, used, not used, not in the shot plan
    engine: str
    model: str
    unit: str
    quantity: float
    cost_usd: float               # measured: charged when made (0 when served from the store)
    seconds: float                # measured: engine wall time
    price_usd: float              # the price-table line it was charged at, per unit
    price_model: str
    price_date: str
    price_source: str
    made: datetime
    ai: bool = False              # made by generative AI (records.is_ai), not a procedural placeholder

    @property
    def price(self) -> str:
        return f"{self.price_usd:g} USD / {self.unit}"


@dataclass(frozen=True)
class ShotCost:
    shot: str
    scene: str
    kind: ShotClass
    takes: int                    # takes of its own slots and of its set's
    shared_takes: int             # of those, the set's (shared with other shots)
    units: dict[str, float]       # its share of each unit
    prices: tuple[str, ...]       # the price lines its takes were charged at
    ai_usd: float                 # measured (its share of the set's)
    engine_seconds: float         # measured (its share of the set's)
    render_seconds: float         # measured, from the ledger
    crew_hours: float             # estimate
    crew_usd: float               # estimate
    artist_hours: float           # estimate
    traditional_usd: float        # estimate, with supervision and contingency

    @property
    def wall_seconds(self) -> float:
        return self.engine_seconds + self.render_seconds

    @property
    def ai_hours(self) -> float:
        return self.wall_seconds / 3600 + self.crew_hours


@dataclass(frozen=True)
class Claim:
    who: str
    said: str
    figure: str                   # what the project says, in words
    verdict: str                  # borne out, not borne out, cannot be tested, not tested (no AI takes)
    caveat: str


@dataclass(frozen=True)
class CostReport:
    title: str
    shots: list[ShotCost]
    takes: list[TakeCost]
    cut_seconds: float
    runs: int
    run_seconds: float
    budget_usd: float | None
    card: RateCard
    card_source: str
    hour_rate_usd: float

    # -- totals (over every take, so sets and takes outside the shot plan count once) -------------------

    @property
    def ai_usd(self) -> float:
        return sum(t.cost_usd for t in self.takes)

    @property
    def engine_seconds(self) -> float:
        return sum(t.seconds for t in self.takes)

    @property
    def render_seconds(self) -> float:
        return sum(s.render_seconds for s in self.shots) + self.cut_seconds

    @property
    def wall_seconds(self) -> float:
        return self.engine_seconds + self.render_seconds

    @property
    def crew_hours(self) -> float:
        return len(self.takes) * self.card.ai.crew_minutes_per_take / 60

    @property
    def crew_usd(self) -> float:
        return self.crew_hours * self.hour_rate_usd

    @property
    def ai_hours(self) -> float:
        return self.wall_seconds / 3600 + self.crew_hours

    @property
    def artist_hours(self) -> float:
        return sum(s.artist_hours for s in self.shots)

    @property
    def traditional_usd(self) -> float:
        return sum(s.traditional_usd for s in self.shots)

    @property
    def cost_ratio(self) -> float | None:
        """AI (engines and crew time) over the traditional bid; None when the card prices nothing."""
        return (self.ai_usd + self.crew_usd) / self.traditional_usd if self.traditional_usd > 0 else None

    @property
    def speed(self) -> float | None:
        """How many times faster than the traditional artist-hours; None when either side is zero."""
        return self.artist_hours / self.ai_hours if self.artist_hours > 0 and self.ai_hours > 0 else None

    @property
    def machine_speed(self) -> float | None:
        hours = self.wall_seconds / 3600
        return self.artist_hours / hours if self.artist_hours > 0 and hours > 0 else None

    @property
    def ai_in_cut(self) -> bool:
        """Whether the cut uses any AI take: only then do its figures test a claim about AI."""
        return any(t.ai and t.status in ("approved", "used") for t in self.takes)

    @property
    def prices(self) -> list[TakeCost]:
        """One take per distinct price line, to print each line's source and date once."""
        seen: dict[tuple[str, str, str, float, str], TakeCost] = {}
        for take in self.takes:
            seen.setdefault((take.engine, take.price_model, take.unit, take.price_usd, take.price_date), take)
        return list(seen.values())

    def claims(self, t: Callable[[str], str] = str) -> list[Claim]:
        """The field's claims, set against this project's figures. The traditional side is always an estimate."""
        estimate = t(CAVEAT).format(minutes=f"{self.card.ai.crew_minutes_per_take:g}")
        run_to_the_west = t("Freewillusion, Run to the West")
        claims = []
        speed, ratio = self.speed, self.cost_ratio
        if speed is None:
            claims.append(Claim(run_to_the_west, t("10 times faster than CGI"), t("no takes or no traditional hours"),
                                "cannot be tested", estimate))
        else:
            figure = t("{speed}× faster ({ai} against {artists})").format(
                speed=f"{speed:,.1f}", ai=_hours(self.ai_hours), artists=_hours(self.artist_hours))
            if self.machine_speed:
                figure += "; " + t("machine time alone {speed}×").format(speed=f"{self.machine_speed:,.0f}")
            claims.append(Claim(run_to_the_west, t("10 times faster than CGI"), figure,
                                "borne out" if speed >= 10 else "not borne out", estimate))
        if ratio is None:
            claims.append(Claim(run_to_the_west, t("half the cost"), t("the rate card prices nothing"),
                                "cannot be tested", estimate))
        else:
            free = " " + t(FREE) if self.ai_usd == 0 and self.takes else ""
            figure = t("{ratio} of the traditional cost (engines {engines} USD measured + crew time {crew} USD "
                       "estimated)").format(ratio=f"{ratio:.1%}", engines=f"{self.ai_usd:,.2f}",
                                            crew=f"{self.crew_usd:,.2f}")
            claims.append(Claim(run_to_the_west, t("half the cost"), figure,
                                "borne out" if ratio <= 0.5 else "not borne out", estimate + free))
        if speed is None:
            claims.append(Claim(t("Director Baek"), t("production time -50%"), t("no takes or no traditional hours"),
                                "cannot be tested", estimate))
        else:
            saved = 1 - 1 / speed
            claims.append(Claim(t("Director Baek"), t("production time -50%"),
                                t("VFX time {change}").format(change=f"{-saved:+.0%}"),
                                "borne out" if saved >= 0.5 else "not borne out", estimate + " " + t(ONLY_VFX)))
        if not self.ai_in_cut:      # placeholders against an estimate test nothing about AI
            claims = [replace(c, verdict=NOT_TESTED) if c.verdict != "cannot be tested" else c for c in claims]
        return claims


def cost_report(project: Project, breakdown: Breakdown | None = None) -> CostReport:
    """The figures, from the project's take store, render ledger and rate card, for the shots of ``breakdown``
    (the caller's, else the project's, read here)."""
    from soundstage.pipeline import Generation, breakdown_project

    card, card_source = load_ratecard(project.root)
    if breakdown is None:
        breakdown = breakdown_project(project, lock=False)   # a report reads the project, never writes it
    sessions = open_database(project.database)
    generation = Generation(project, database=sessions)    # loads the price table: a bad prices.toml stops here
    store = generation.store
    approved = store.approved()
    chosen: dict[str, int] = {}
    users: dict[str, tuple[str, ...]] = {}
    for order in generation.orders(breakdown):
        users[order.slot] = order.shots
        take = store.chosen(order.slot, order.design)
        if take is not None:
            chosen[order.slot] = take.id
    takes = []
    for take in sorted(store.takes(), key=lambda t: (t.created_at, t.id)):
        price = take.record.price or TakePrice()
        status = ("approved" if approved.get(take.slot) == take.id else "used" if chosen.get(take.slot) == take.id
                  else "not used" if take.slot in users else "not in the shot plan")
        takes.append(TakeCost(
            slot=take.slot, label=take.label, shots=users.get(take.slot, ()), status=status, engine=take.engine,
            model=take.model, unit=take.record.unit or price.unit,
            quantity=float(take.record.quantity), cost_usd=float(take.cost_usd),
            seconds=float(take.seconds), price_usd=float(price.usd),
            price_model=price.model, price_date=price.date,
            price_source=price.source, made=take.created_at, ai=take.is_ai))

    with sessions() as session:
        renders = {row.output: row.seconds for row in session.scalars(select(RenderRecord))}
        jobs = [j for j in session.scalars(select(Job)) if j.status != "running"]
    rate = _card_rate(project, card)
    hour_usd = card.hour_rate / rate
    shots = []
    for shot in breakdown.shots:
        kind = classify(shot, card)
        mine = [t for t in takes if shot.id in t.shots]
        share = {id(t): 1 / len(t.shots) for t in mine}
        units: dict[str, float] = {}
        for t in mine:
            units[t.unit] = units.get(t.unit, 0.0) + t.quantity * share[id(t)]
        hours = card.type[kind.name].hours
        crew = sum(share.values()) * card.ai.crew_minutes_per_take / 60      # a shared set's takes, split too
        shots.append(ShotCost(
            shot=shot.id, scene=shot.scene, kind=kind, takes=len(mine),
            shared_takes=sum(1 for t in mine if len(t.shots) > 1), units=units,
            prices=tuple(dict.fromkeys(f"{t.price} ({t.price_date or 'no date'})" for t in mine)),
            ai_usd=sum(t.cost_usd * share[id(t)] for t in mine),
            engine_seconds=sum(t.seconds * share[id(t)] for t in mine),
            render_seconds=float(renders.get(f"out/shots/{shot.id}.mp4", 0.0)),
            crew_hours=crew, crew_usd=crew * hour_usd, artist_hours=hours,
            traditional_usd=hours * hour_usd * card.markup))
    budget = project.settings.budget
    budget_usd = None
    if budget.limit > 0:
        budget_usd = budget.limit if budget.currency == "USD" else budget.limit / (budget.usd_rate or 1.0)
    return CostReport(breakdown.title, shots, takes, float(renders.get("out/cut.mp4", 0.0)), len(jobs),
                      sum(j.seconds for j in jobs), budget_usd, card, card_source, hour_usd)


def _card_rate(project: Project, card: RateCard) -> float:
    """One USD in the rate card's currency."""
    if card.currency == "USD":
        return 1.0
    reports, budget = project.settings.reports, project.settings.budget
    rate = reports.usd_rate or (budget.usd_rate if budget.currency == card.currency else None)
    if rate is None:
        raise ProjectError(f"the rate card is in {card.currency}: set [reports] usd_rate (one USD in "
                           f"{card.currency}) in soundstage.toml", path=project.root / RATECARD_FILE)
    return float(rate)


# ---------------------------------------------------------------------------------------------- the page


def _short(value: float) -> str:
    """1.25, 22.5, 5: as many decimals as the figure has, at most two."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _hours(hours: float) -> str:
    if hours >= 1 or hours == 0:
        return f"{_short(hours)} h"
    minutes = hours * 60
    return f"{_short(minutes)} min" if minutes >= 1 else f"{_short(hours * 3600)} s"


def _seconds(seconds: float) -> str:
    return _hours(seconds / 3600)


def _amount(money: Money) -> Callable[[float], str]:
    """An amount already in the report's currency, as the page writes it."""
    def show(value: float) -> str:
        return f"{value:,.0f} {money.currency}" if money.currency == "KRW" else f"{value:,.2f} {money.currency}"
    return show


def _units(units: dict[str, float], t: Callable[[str], str]) -> str:
    def name(unit: str, quantity: float) -> str:
        return t("image") if unit == "image" and quantity == 1 else t(UNITS.get(unit) or unit)
    return " · ".join(f"{q:,.4g} {name(u, q)}" for u, q in units.items()) or "—"


def charts(report: CostReport, money: Money, t: Callable[[str], str]) -> dict[str, object]:
    labels = [f"{s.shot} ({t(s.kind.name)})" for s in report.shots]
    show = _amount(money)
    cost = bar_chart(labels, [Series(t("AI with crew time"), AI_COLOUR), Series(t("Traditional estimate"),
                                                                                  TRADITIONAL_COLOUR)],
                     [[money.value(s.ai_usd + s.crew_usd), money.value(s.traditional_usd)] for s in report.shots],
                     show=show, title=t("Cost per shot"))
    time = bar_chart(labels, [Series(t("AI time"), AI_COLOUR), Series(t("Traditional artist time"),
                                                                      TRADITIONAL_COLOUR)],
                     [[s.ai_hours, s.artist_hours] for s in report.shots], show=_hours, title=t("Time per shot"))
    made = [take.made for take in report.takes]
    spend = cumulative_chart(
        [money.value(take.cost_usd) for take in report.takes],
        limit=money.value(report.budget_usd) if report.budget_usd else None,
        line=Series(t("Cumulative AI spend"), AI_COLOUR), limit_name=t("Budget"), show=show,
        first=f"{made[0]:%Y-%m-%d %H:%M}" if made else "", last=f"{made[-1]:%Y-%m-%d %H:%M}" if made else "",
        title=t("Spend against the budget"), empty=t("no takes yet"),
        flat=t("nothing spent: every take so far cost 0"))
    return {"cost": cost, "time": time, "spend": spend}


def write_cost_report(project: Project, out: Path | None = None, *, breakdown: Breakdown | None = None) -> list[Path]:
    """Write ``cost.html``, ``cost.csv`` (a row per shot and the total), ``cost-takes.csv`` (every take) and
    ``cost-claims.csv`` (the field's claims and their verdicts)."""
    report = cost_report(project, breakdown)
    money = Money.of(project)
    language = project.settings.reports.language
    t = translator(language, WORDS)

    html = render_report(
        "cost.html", language=language, words=WORDS, title=f"{report.title}: {t('Cost and schedule')}",
        report=report, money=money, show=money.show, hours=_hours, short=_short, seconds=_seconds,
        units=lambda u: _units(u, t), unit_name=lambda u: t(UNITS.get(u) or u), charts=charts(report, money, t),
        claims=report.claims(t), summary=[t(line) for line in ([] if report.ai_in_cut else [NO_AI]) + [ESTIMATES]],
        measured_text=MEASURED_TEXT, estimated_text=ESTIMATED_TEXT,
        split_note=t(SPLIT_NOTE).format(cut=_seconds(report.cut_seconds), runs=report.runs,
                                        elapsed=_seconds(report.run_seconds)),
        written_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    folder = out or project.out_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    # utf-8-sig: a production office's spreadsheet reads Hangul only with the BOM.
    return [write_report(folder / "cost.html", html),
            write_report(folder / "cost.csv", "\ufeff" + shots_csv(report, money)),
            write_report(folder / "cost-takes.csv", "\ufeff" + takes_csv(report, money)),
            write_report(folder / "cost-claims.csv", "\ufeff" + claims_csv(report))]


def _round(value: float, currency: str) -> float | int:
    return round(value) if currency == "KRW" else round(value, 2)


def shots_csv(report: CostReport, money: Money) -> str:
    cur = money.currency.lower()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["shot", "scene", "type", "type_from", "takes", "units", "price_used", "ai_cost_usd",
                     f"ai_cost_{cur}", "engine_seconds", "render_seconds", "wall_seconds", "crew_hours_estimate",
                     f"crew_cost_{cur}_estimate", "artist_hours_estimate", f"traditional_cost_{cur}_estimate",
                     "traditional_cost_usd_estimate"])
    for s in report.shots:
        writer.writerow([s.shot, s.scene, s.kind.name, s.kind.reason, s.takes, _units(s.units, str),
                         "; ".join(s.prices), round(s.ai_usd, 6), _round(money.value(s.ai_usd), money.currency),
                         round(s.engine_seconds, 3), round(s.render_seconds, 3), round(s.wall_seconds, 3),
                         round(s.crew_hours, 3), _round(money.value(s.crew_usd), money.currency),
                         round(s.artist_hours, 3), _round(money.value(s.traditional_usd), money.currency),
                         round(s.traditional_usd, 2)])
    writer.writerow(["total", "", "", "", len(report.takes), "", "", round(report.ai_usd, 6),
                     _round(money.value(report.ai_usd), money.currency), round(report.engine_seconds, 3),
                     round(report.render_seconds, 3), round(report.wall_seconds, 3), round(report.crew_hours, 3),
                     _round(money.value(report.crew_usd), money.currency), round(report.artist_hours, 3),
                     _round(money.value(report.traditional_usd), money.currency), round(report.traditional_usd, 2)])
    return buffer.getvalue()


def claims_csv(report: CostReport) -> str:
    """The claims and their verdicts, in English, for whoever quotes them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["claim", "who", "figure_estimate", "verdict", "notes"])
    for claim in report.claims():
        writer.writerow([claim.said, claim.who, claim.figure, claim.verdict, claim.caveat])
    return buffer.getvalue()


def takes_csv(report: CostReport, money: Money) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["slot", "take", "status", "shots", "engine", "model", "unit", "quantity", "price_usd_per_unit",
                     "price_model", "price_date", "price_source", "cost_usd", f"cost_{money.currency.lower()}",
                     "engine_seconds", "made_at"])
    for take in report.takes:
        writer.writerow([take.slot, take.label, take.status, " ".join(take.shots), take.engine, take.model,
                         take.unit, round(take.quantity, 6), take.price_usd, take.price_model, take.price_date,
                         take.price_source, round(take.cost_usd, 6), _round(money.value(take.cost_usd),
                                                                              money.currency),
                         round(take.seconds, 3), take.made.isoformat(timespec="seconds")])
    return buffer.getvalue()


__all__ = ["Claim", "CostReport", "ShotCost", "TakeCost", "claims_csv", "cost_report", "write_cost_report"]

