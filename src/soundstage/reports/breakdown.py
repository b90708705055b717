"""Breakdown sheets and the shot list: what an assistant director schedules from and a crew shoots from.

One sheet per scene, in the colours production offices have underlined scripts with for decades (cast red,
stunts orange, extras yellow and green, special effects blue, props purple, vehicles and animals pink), so a
sheet reads at a glance. Every box is filled only from what the breakdown really found: speaking and named
characters are the cast, the script's element words fill their categories, the elements the shots generate
are visual effects. Categories the screenplay parser cannot see (wardrobe, make-up, sound…) are printed
empty, as on a paper sheet, for the AD to fill, never guessed.

The shot list adds what each shot has become: its camera move, plate, engine and the take the render uses.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from soundstage.edit.subtitles import cut_dialogue, cut_rules, subtitle_cut
from soundstage.errors import ProjectError
from soundstage.project import Project, find_key_line
from soundstage.reports.page import render_report, write_report
from soundstage.script.breakdown import Breakdown, Scene, Shot, ShotPlan, element_table, read_shot_plan
from soundstage.words import words_of

# ---------------------------------------------------------------------------------------------- categories


@dataclass(frozen=True)
class Category:
    key: str          # as in elements.toml and [reports.breakdown.colours]
    label: str        # English; Korean in WORDS
    colour: str       # the industry's colour, where it has one


CATEGORIES: tuple[Category, ...] = (
    Category("cast", "Cast", "#d32f2f"),
    Category("stunts", "Stunts", "#f57c00"),
    Category("silent_bits", "Extras: silent bits", "#fbc02d"),
    Category("extras", "Extras: atmosphere", "#43a047"),
    Category("effects", "Special effects", "#1e88e5"),
    Category("props", "Props", "#8e24aa"),
    Category("vehicles", "Vehicles", "#ec407a"),
    Category("animals", "Animals", "#f48fb1"),
    Category("vfx", "Visual effects", "#00897b"),
    Category("sound", "Sound effects / music", "#8d6e63"),
    Category("wardrobe", "Wardrobe", "#90a4ae"),
    Category("makeup", "Make-up / hair", "#90a4ae"),
    Category("set_dressing", "Set dressing", "#90a4ae"),
    Category("equipment", "Special equipment", "#90a4ae"),
    Category("notes", "Production notes", "#546e7a"),
)
_BY_KEY = {c.key: c for c in CATEGORIES}

COLUMNS = ("scene", "shot", "description", "camera", "duration", "set", "plate", "elements", "engine",
           "take_status", "takes")
APPROVED, NEWEST, NOT_MADE = "approved", "newest", "not made"

WORDS = words_of("breakdown")     # English → Korean: soundstage/words/breakdown.toml


def sheet_colours(project: Project) -> dict[str, str]:
    """Every category's colour: the industry's, with ``[reports.breakdown.colours]`` on top.

    A key that is no category is refused (a typo must not silently leave the industry colour in place).
    """
    chosen = project.settings.reports.breakdown.colours
    for key in chosen:
        if key not in _BY_KEY:
            text = project.settings_path.read_text("utf-8") if project.settings_path.is_file() else ""
            raise ProjectError(f"reports.breakdown.colours.{key}: is not a breakdown category; categories: "
                               f"{', '.join(_BY_KEY)}", path=project.settings_path, line=find_key_line(text, key))
    return {c.key: chosen.get(c.key, c.colour) for c in CATEGORIES}


def ink_on(colour: str) -> str:
    """Black or white text, whichever reads on ``colour`` (yellow needs black, purple white)."""
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(ch * 2 for ch in hex_digits)
    r, g, b = (int(hex_digits[i:i + 2], 16) / 255 for i in (0, 2, 4))
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#1d232b" if luminance > 0.3 else "#ffffff"


# ---------------------------------------------------------------------------------------------- the sheets


@dataclass(frozen=True)
class Item:
    """One entry of a box: a name, and an English note the page translates ("non-speaking", "generated")."""

    name: str
    note: str = ""
    detail: str = ""      # not translated: shot ids, a plate's path
    number: str = ""      # a cast member's number, the same on every sheet


@dataclass
class Box:
    key: str
    label: str
    colour: str
    items: list[Item] = field(default_factory=list)
    fillable: bool = True         # False: the parser never looks for this category; the AD fills it in

    @property
    def ink(self) -> str:
        return ink_on(self.colour)


@dataclass
class Sheet:
    scene: Scene
    pages: str            # "1 2/8"
    synopsis: str
    shots: list[Shot]
    boxes: list[Box]

    @property
    def screen_time(self) -> float:
        return sum(s.duration for s in self.shots)


@dataclass(frozen=True)
class ShotLine:
    """One row of the shot list, as written to the CSV."""

    scene: str
    shot: str
    description: str
    camera: str
    duration: float
    set: str
    plate: str
    elements: tuple[str, ...]
    engine: str
    take_status: str      # approved, newest or not made
    takes: str            # per slot: "set/hanok-rooftops-night v002 approved; element fire v001 newest"
    screen: str = "auto"

    def row(self) -> dict[str, str]:
        return {"scene": self.scene, "shot": self.shot, "description": self.description, "camera": self.camera,
                "duration": f"{self.duration:g}", "set": self.set, "plate": self.plate,
                "elements": "; ".join(self.elements), "engine": self.engine, "take_status": self.take_status,
                "takes": self.takes}


@dataclass
class BreakdownReport:
    title: str
    sheets: list[Sheet]
    shots: list[ShotLine]
    colours: dict[str, str]
    omitted: list[str]
    warnings: list[str]
    categories: dict[str, str] = field(default_factory=dict)   # element name → its category, for chips


_PARSER_FILLS = {"cast", "stunts", "effects", "props", "vehicles", "animals", "vfx", "notes"}


def pages_of(eighths: int) -> str:
    """Page count the way a breakdown writes it: ``1 2/8``, ``3/8``."""
    whole, part = divmod(eighths, 8)
    if not part:
        return str(whole)
    return f"{whole} {part}/8" if whole else f"{part}/8"


def _synopsis(action: str, limit: int = 240) -> str:
    """The scene's opening action, whole sentences up to ``limit`` characters (at least one, cut if it must be)."""
    flat = " ".join(action.split())
    if len(flat) <= limit:
        return flat
    sentences = re.split(r"(?<=[.!?。])\s+", flat)
    text = ""
    for sentence in sentences:
        if text and len(text) + len(sentence) + 1 > limit:
            break
        text = f"{text} {sentence}".strip()
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def make_sheets(breakdown: Breakdown, colours: Mapping[str, str]) -> list[Sheet]:
    """One sheet per scene: the header a first AD reads, then one coloured box per category."""
    # Cast numbers in order of first appearance, as a production office numbers its cast list.
    cast_numbers: dict[str, str] = {}
    for scene in breakdown.scenes:
        for name in [*scene.characters, *scene.non_speaking, *scene.cast]:
            cast_numbers.setdefault(name, str(len(cast_numbers) + 1))
    sheets = []
    for scene in breakdown.scenes:
        shots = [s for s in breakdown.shots if s.scene == scene.id]
        items: dict[str, list[Item]] = {c.key: [] for c in CATEGORIES}
        items["cast"] = [Item(name, number=cast_numbers[name]) for name in scene.characters]
        items["cast"] += [Item(name, "non-speaking", number=cast_numbers[name]) for name in scene.non_speaking]
        items["cast"] += [Item(name, "from cast/, with its references", number=cast_numbers[name])
                          for name in scene.cast]
        extra: dict[str, list[Item]] = {}
        for ref in scene.elements:
            bucket = (items if ref.category in items else extra).setdefault(ref.category, [])
            if all(item.name != ref.name for item in bucket):
                bucket.append(Item(ref.name))
        # In this pipeline the set and every element a shot asks for are generated: visual effects.
        generated: dict[str, list[str]] = {}
        for shot in shots:
            for name in shot.elements:
                generated.setdefault(name, []).append(shot.id)
        vfx = [item for item in items["vfx"] if item.name not in generated]
        vfx += [Item(name, "generated for", ", ".join(ids)) for name, ids in generated.items()]
        items["vfx"] = [Item(scene.set, "a generated set"), *vfx]
        for shot in shots:
            if shot.plate:
                screen = "" if shot.screen == "auto" else f" ({shot.screen} screen)"
                items["notes"].append(Item(f"{shot.id}", "shoot plate", f"{shot.plate}{screen}"))
        boxes = [Box(c.key, c.label, colours[c.key], items[c.key], c.key in _PARSER_FILLS) for c in CATEGORIES]
        # Categories a user added to elements.toml that no sheet box has: a box of their own, after the rest.
        boxes += [Box(key, key.replace("_", " ").capitalize(), "#90a4ae", names) for key, names in extra.items()]
        sheets.append(Sheet(scene, pages_of(scene.eighths), _synopsis(scene.action), shots, boxes))
    return sheets


# ---------------------------------------------------------------------------------------------- the shot list


def _camera(shot: Shot) -> str:
    move = shot.camera
    if move.move == "static":
        return "static" + (f", parallax {move.parallax:g}" if move.parallax else "")
    return f"{move.move} {move.amount:.0%}" + (f", parallax {move.parallax:g}" if move.parallax else "")


def _description(shot: Shot, scene: Scene, plan: ShotPlan) -> str:
    """What happens in the shot: the crew's own words from shots.toml, else the scene's first action."""
    entry = next((e for e in plan.entries if e.id == shot.id), None)
    if entry is not None and entry.prompt:
        return entry.prompt
    return _synopsis(scene.action, 160)


def take_statuses(project: Project, breakdown: Breakdown) -> dict[str, tuple[str, str]]:
    """shot → (status, per-slot detail), from the take store. No database yet: nothing has been made."""
    database = project.database
    if isinstance(database, Path) and not database.is_file():
        return {}
    from soundstage.pipeline import Generation

    generation = Generation(project)
    approved = generation.store.approved()
    result = {}
    for shot in breakdown.shots:
        parts, states = [], []
        for order in generation.orders(breakdown, [shot.id]):
            take = generation.store.chosen(order.slot, order.design)
            if take is None:
                state, label = NOT_MADE, "-"
            else:
                state = APPROVED if approved.get(order.slot) == take.id else NEWEST
                label = take.label
            states.append(state)
            parts.append(f"{order.slot} {label} {state}")
        worst = NOT_MADE if NOT_MADE in states else NEWEST if NEWEST in states else APPROVED
        result[shot.id] = (worst, "; ".join(parts))
    return result


def make_shot_list(project: Project, breakdown: Breakdown) -> list[ShotLine]:
    plan = read_shot_plan(project.shots_file)
    statuses = take_statuses(project, breakdown)
    scenes = {s.id: s for s in breakdown.scenes}
    lines = []
    for shot in breakdown.shots:
        status, takes = statuses.get(shot.id, (NOT_MADE, ""))
        lines.append(ShotLine(
            scene=shot.scene, shot=shot.id, description=_description(shot, scenes[shot.scene], plan),
            camera=_camera(shot), duration=shot.duration, set=shot.set, plate=shot.plate or "",
            elements=tuple(shot.elements), engine=shot.engine or project.settings.engine, take_status=status,
            takes=takes, screen=shot.screen,
        ))
    return lines


def shot_list_csv(lines: Sequence[ShotLine]) -> str:
    """The shot list for spreadsheets and scheduling tools: stable English column names, whatever the language."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for line in lines:
        writer.writerow(line.row())
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- the report


def breakdown_report(project: Project) -> BreakdownReport:
    """The sheets and shot list of a project, from the same breakdown every other command uses."""
    from soundstage.pipeline import breakdown_project

    colours = sheet_colours(project)
    breakdown = breakdown_project(project)
    categories = {item["name"]: item["category"] for item in element_table()["element"]}
    categories.update({ref.name: ref.category for scene in breakdown.scenes for ref in scene.elements})
    # Lines that will not fit their shots as planned (timed by reading speed; the render times them to speech).
    fps = project.settings.fps
    subtitles = subtitle_cut(cut_dialogue(breakdown.scenes, breakdown.shots,
                                          [round(shot.duration * fps) for shot in breakdown.shots]),
                             fps, cut_rules(project.settings.subtitles, breakdown.scenes))
    return BreakdownReport(breakdown.title, make_sheets(breakdown, colours), make_shot_list(project, breakdown),
                           colours, list(breakdown.omitted), [*breakdown.warnings, *subtitles.warnings], categories)


def write_breakdown_report(project: Project, out: Path | None = None) -> list[Path]:
    """Write ``breakdown.html``, ``shotlist.html`` and ``shotlist.csv`` under ``out/reports``."""
    report = breakdown_report(project)
    folder = out or project.out_dir / "reports"
    language = project.settings.reports.language
    written_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    common = {"report": report, "written_at": written_at, "ink_on": ink_on, "categories": report.categories}
    sheets = render_report("breakdown.html", language=language, words=WORDS, title=report.title, **common)
    shots = render_report("shotlist.html", language=language, words=WORDS, title=report.title, **common)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [write_report(folder / "breakdown.html", sheets), write_report(folder / "shotlist.html", shots)]
    # utf-8-sig: Excel (a production office's spreadsheet) reads Hangul locations only with the BOM.
    csv_path = folder / "shotlist.csv"
    write_report(csv_path, "\ufeff" + shot_list_csv(report.shots))
    return [*paths, csv_path]
