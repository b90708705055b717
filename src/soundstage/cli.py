"""The ``soundstage`` command. Thin: it parses arguments, calls the services and prints; it holds no logic."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence, Sized
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.cells import cell_len

from soundstage import __version__
from soundstage.atomic import write_text
from soundstage.errors import MediaError, PreflightError, ProjectError, SoundstageError, install_hint
from soundstage.project import Project
from soundstage.records import shot_subject, subject_shot
from soundstage.script.breakdown import Breakdown, break_down

if TYPE_CHECKING:     # Text is imported where it is used, so ruff flags a use that forgot to (F821)
    from rich.console import Console

app = typer.Typer(help="soundstage: from screenplay to finished, labelled cut.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
# One message, one line: scripts grep them. Markup is off: every string printed, table cells included, is shown
# as written, so a heading, prompt or path with brackets in it can never be taken for styling (or crash Rich).
# Soundstage's own colours are given as styles, never as markup: Text.assemble(("warning:", "yellow"), " ", ...).


class _Console:
    """A Rich console made at its first use: Rich is ~30 ms of imports that a piped breakdown never needs."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr

    @functools.cached_property
    def console(self) -> Console:
        from rich.console import Console

        return Console(stderr=self._stderr, soft_wrap=True, markup=False, emoji=False, highlight=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


out = _Console()
err = _Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Bad input ends in one red line and exit code 2, never a traceback; Ctrl-C says how to resume."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PreflightError as exc:    # every problem on its own line, then what it means
            from rich.text import Text

            for line in [*map(str, exc.problems), exc.summary()]:
                err.print(Text.assemble(("error:", "bold red"), f" {line}"))
            raise typer.Exit(2) from None
        except SoundstageError as exc:
            from rich.text import Text

            err.print(Text.assemble(("error:", "bold red"), f" {exc}"))
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("interrupted: finished work is kept; run the same command again to resume")
            raise typer.Exit(130) from None

    return run  # type: ignore[return-value]


@app.callback(invoke_without_command=True)
def main(version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False) -> None:
    if version:
        out.print(__version__)
        raise typer.Exit()


@app.command()
@reports_errors
def new(folder: Annotated[Path, typer.Argument(help="The project folder to create.")],
        title: Annotated[str | None, typer.Option(help="The film's title (default: from the folder).")] = None,
        ) -> None:
    """Create a project folder with settings, a screenplay, a shot plan and empty plates/ and refs/."""
    from rich.text import Text

    if folder.exists() and any(folder.iterdir()):
        raise ProjectError("already exists and is not empty; nothing was written", path=folder)
    name = title or folder.resolve().name.replace("-", " ").replace("_", " ").title()
    templates = resources.files("soundstage.templates")
    for template, target in (("soundstage.toml", "soundstage.toml"), ("screenplay.fountain", "screenplay.fountain"),
                             ("shots.toml", "shots.toml"), ("ratecard.toml", "ratecard.toml"),
                             ("gitignore", ".gitignore")):
        text = templates.joinpath(template).read_text("utf-8").replace("{title}", name.replace('"', "'"))
        write_text(folder / target, text)
    for sub in ("plates", "refs"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    out.print(Text.assemble("Created ", (str(folder), "bold"), ": edit screenplay.fountain, then run ",
                            (f"soundstage render {folder}", "bold")))


@app.command()
@reports_errors
def breakdown(
    target: Annotated[Path, typer.Argument(help="A project folder, or a bare .fountain / .fdx file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole breakdown as JSON.")] = False,
) -> None:
    """Scenes, shots, elements and prompts of a screenplay."""
    if target.is_dir():     # a bare file needs no pipeline: its render stages are ~1.3 s of imports
        from soundstage.pipeline import breakdown_project

        result = breakdown_project(Project.load(target))
    else:
        from soundstage.script import read_screenplay

        result = break_down(read_screenplay(target))
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        terminal = _at_terminal()
        _print_breakdown(_clipped(result) if terminal else result, terminal)


def _at_terminal() -> bool:
    """Whether stdout is a terminal as Rich decides it (TTY_COMPATIBLE and FORCE_COLOR can say yes to a pipe),
    asked of Rich only where it may say yes: piped, the breakdown never imports Rich."""
    try:
        maybe = sys.stdout.isatty() or "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ
    except (AttributeError, ValueError):    # no stdout, or a closed one: Rich says no too
        return False
    return maybe and bool(out.is_terminal)


TABLE_ROWS = 1000     # Rich lays a table out at ~0.6 ms a row: 50,000 scenes took a minute to print


def _clipped(result: Breakdown) -> Breakdown:
    """The breakdown as its tables show it: at most TABLE_ROWS scenes and shots, saying so."""
    if max(len(result.scenes), len(result.shots)) <= TABLE_ROWS:
        return result
    note = (f"the tables show the first {TABLE_ROWS:,} of {len(result.scenes):,} scenes and of "
            f"{len(result.shots):,} shots; --json has them all")
    return result.model_copy(update={"scenes": result.scenes[:TABLE_ROWS], "shots": result.shots[:TABLE_ROWS],
                                     "warnings": [*result.warnings, note]})


def _print_breakdown(result: Breakdown, terminal: bool) -> None:
    """Rich tables at a ``terminal``; elsewhere plain lines, their dim words written plain, and no Rich."""
    if terminal:
        from rich.text import Text

        def dim(word: str) -> Any:
            return Text(word, "dim")

        def listed(items: list[tuple[str, str]]) -> Any:
            return Text(", ").join(Text.assemble(f"{name} ", (category, "dim")) for name, category in items)
    else:
        def dim(word: str) -> Any:
            return word

        def listed(items: list[tuple[str, str]]) -> Any:
            return ", ".join(f"{name} {category}" for name, category in items)

    scenes = [(scene.id, " ".join(filter(None, (scene.int_ext, scene.location, "-", scene.time_original or ""))),
               str(scene.line), str(scene.eighths),
               ", ".join(scene.characters + [f"({n})" for n in scene.non_speaking]),
               listed([(e.name, e.category) for e in scene.elements]))
              for scene in result.scenes]
    _print_table(f"{result.title}: {_count(result.scenes, 'scene')}",
                 ("scene", "heading", "line", "8ths", "characters", "elements"), scenes, terminal)
    shots = [(shot.id, shot.plate or dim("none"), f"{shot.duration:g}", shot.camera.move, shot.prompt)
             for shot in result.shots]
    _print_table(_count(result.shots, "shot"), ("shot", "plate", "sec", "camera", "prompt"), shots, terminal,
                 overflow="fold")
    if not result.omitted and not result.warnings:
        return
    from rich.text import Text

    for scene_id in result.omitted:
        out.print(Text.assemble(("OMITTED", "yellow"), f" scene {scene_id}: gone from the screenplay; its number stays "
                                 "reserved"))
    for warning in result.warnings:
        out.print(Text.assemble(("warning:", "yellow"), f" {warning}"))


def _print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], terminal: bool,
                 **column: Any) -> None:
    """A Rich table at a ``terminal``; elsewhere (a pipe, a file) one line a row in aligned columns, which grep
    and cut can read and which costs nothing to lay out (Rich takes ~0.6 ms a row: 0.25 s for a feature)."""
    if terminal:
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for name in columns:
            table.add_column(name, **column)
        for row in rows:
            table.add_row(*row)
        out.print(table)
        return
    lines = [[" ".join(str(cell).splitlines()) for cell in row] for row in [columns, *rows]]
    widths = [max(cell_len(line[at]) for line in lines) for at in range(len(columns) - 1)]
    text = [title]
    for *first, last in lines:
        padded = (cell + " " * (width - cell_len(cell)) for cell, width in zip(first, widths, strict=True))
        text.append("  ".join([*padded, last]))
    sys.stdout.write("\n".join(text) + "\n")


Jobs = Annotated[int | None, typer.Option("--jobs", "-j", min=1, max=256,
                                          help="Shots rendered at once on this machine (default: [render] jobs).")]
ExecutorName = Annotated[str | None, typer.Option("--executor", help="local or ray (default: [render] executor).")]
Address = Annotated[str | None, typer.Option("--address", help="The Ray cluster to join, e.g. ray://head:10001.")]
Wait = Annotated[bool, typer.Option("--wait", help="If another render of the project runs, wait for it.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print each step's status as JSON.")]


@app.command()
@reports_errors
def render(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    as_json: AsJson = False, wait: Wait = False, jobs: Jobs = None, executor: ExecutorName = None,
    address: Address = None,
    burn_in: Annotated[bool, typer.Option("--burn-in", help="Also write out/cut_review.mp4 with shot, take and "
                                                            "timecode burnt in (\\[review] burn_in).")] = False,
) -> None:
    """Generate sets, key and comp the plates, encode the shots and cut the film. Re-runs only what changed."""
    from soundstage.edit.burnin import with_burn_in

    project = Project.load(project_dir)
    _render(with_burn_in(project) if burn_in else project, None, as_json, wait, jobs, executor, address)


@app.command()
@reports_errors
def comp(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    shot: Annotated[list[str], typer.Option("--shot", help="The shot to render, e.g. 3-1 (repeatable).")],
    as_json: AsJson = False, wait: Wait = False, jobs: Jobs = None, executor: ExecutorName = None,
    address: Address = None,
    compare: Annotated[bool, typer.Option("--compare", help="Also write out/compare/<shot>.mp4: the comp without "
                                                            "its integration (left) and with it (right).")] = False,
) -> None:
    """Render one shot: its takes (made if missing), its key and comp, out/shots/<shot>.mp4. The cut is left alone."""
    project = Project.load(project_dir)
    _render(project, shot, as_json, wait, jobs, executor, address)
    if compare:
        from soundstage.pipeline.compare import write_compare

        for shot_id in shot:
            made, _ = write_compare(project, shot_id)
            shown = made.relative_to(Path.cwd()) if made.is_relative_to(Path.cwd()) else made
            (err if as_json else out).print(f"without | with integration → {shown}", highlight=False)


def _render(project: Project, shots: list[str] | None, as_json: bool, wait: bool, jobs: int | None,
            executor: str | None, address: str | None) -> None:
    from rich.text import Text

    from soundstage.monitor import RenderBars
    from soundstage.pipeline import render_project

    try:
        with RenderBars(err.console, enabled=not as_json and err.is_terminal) as bars:
            report = render_project(project, shots=shots, progress=bars, wait=wait, jobs=jobs, executor=executor,
                                    address=address)
    except PreflightError as exc:
        if not as_json:
            raise
        sys.stdout.write(json.dumps({"steps": [], "problems": _problem_rows(exc.problems)}, indent=2) + "\n")
        raise typer.Exit(2) from None

    budget = project.settings.budget
    if as_json:
        steps = [{"step": s.step, "status": s.status, "output": str(s.output) if s.output else None,
                  "reason": s.reason, "seconds": round(s.seconds, 3)} for s in report.steps]
        sys.stdout.write(json.dumps({"steps": steps, "warnings": report.warnings, "job": report.job,
                                     "cost_usd": round(report.cost_usd, 6), "seconds": round(report.seconds, 3)},
                                    indent=2) + "\n")
    else:
        for step in report.steps:
            if step.status in ("failed", "skipped"):
                err.print(Text.assemble((step.status, "red"), f" {step.step}: {step.reason}"))
        for warning in report.warnings:
            err.print(Text.assemble(("warning:", "yellow"), f" {warning}"))
        made = project.out_dir / "cut.mp4" if shots is None else project.out_dir / "shots" / f"{shots[-1]}.mp4"
        shown = made.relative_to(Path.cwd()) if made.is_relative_to(Path.cwd()) else made
        out.print(f"built {report.count('built')}, cached {report.count('cached')}, failed {len(report.failed)}, "
                  f"skipped {report.count('skipped')}; spent {budget.show(report.cost_usd)}; "
                  f"{_duration(report.seconds)}"
                  + (f" → {shown}" if not report.failed and made.is_file() else ""), highlight=False)
        if shots is None and not report.failed:
            _print_ledger(project)
    if report.failed:
        raise typer.Exit(1)


def _problem_rows(problems: Sequence[SoundstageError]) -> list[dict[str, str | None]]:
    """The preflight's problems for ``--json``: the shot and file each names, and the line a person reads."""
    return [{"shot": p.shot, "plate": str(p.path) if p.path else None, "problem": str(p)} for p in problems]


def _print_ledger(project: Project) -> None:
    """The cut's AI/human ledger in one line, measured from the comps' mattes."""
    from soundstage.pipeline import breakdown_project
    from soundstage.records.shot import read_cut_record

    record = read_cut_record(project, [shot.id for shot in breakdown_project(project).shots])
    if record is not None:
        out.print(f"the cut's picture: AI {record.ai_share:.1%} · generated {record.generated_share:.1%} · "
                  f"live-action plate {record.plate_share:.1%} (area × time; soundstage report disclosure)",
                  highlight=False)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s" if minutes else f"{rest:.1f} s"


@app.command()
@reports_errors
def cut(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    timeline_format: Annotated[str, typer.Option("--format", help="otio (the lossless master, with what made each "
                                                 "shot), edl (CMX 3600) or fcpxml (Final Cut Pro 7 XML).")] = "otio",
    out_path: Annotated[Path | None, typer.Option("--out", metavar="PATH",
                                                  help="Where to write it (default: out/cut.otio, .edl or .xml).")
                        ] = None,
) -> None:
    """Hand the cut to an editor: a timeline of the rendered shots from the start timecode, each linked to its movie."""
    from soundstage.edit import export_cut
    from soundstage.pipeline import breakdown_project

    project = Project.load(project_dir)
    cut = [shot.id for shot in breakdown_project(project, lock=False).shots]     # the order the render joins them
    made = export_cut(project, timeline_format, out_path, shot_ids=cut)
    card = " and the AI label card" if made.card else ""
    out.print(f"{_count(range(made.shots), 'shot')}{card}, {made.start}–{made.end} → {made.path}", highlight=False)


@app.command("key")
@reports_errors
def key_command(
    source: Annotated[Path, typer.Argument(metavar="INPUT", help="A green/blue-screen still or clip.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG for a still; .mov (ProRes 4444) or "
                                         "name.%04d.png / .exr for a clip.")],
    screen: Annotated[str, typer.Option(help="auto, green or blue.")] = "auto",
    despill: Annotated[str, typer.Option(help="edge (average near the edge, limit inside), average, limit or "
                                         "none.")] = "edge",
    refine: Annotated[int, typer.Option(help="Guided edge refit radius in px (0: off).")] = 2,
    project_dir: Annotated[Path | None, typer.Option("--project", help="Sign the result as this project "
                                                     "(default: the project the input is in, if any).")] = None,
) -> None:
    """Key a still or a clip to straight (unpremultiplied) RGBA, alpha kept, for finishing.

    Inside a project (or with --project) the result is signed with its content credentials: the plate
    opened and keyed, nothing generated.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from soundstage.pipeline.keying import key_file
    from soundstage.records.settings import KeySettings, ShotEntry, bounds, choices

    # The flags are shots.toml's settings: their words and bounds are the model's, and so is what key() gets.
    for flag, value, words in (("screen", screen, choices(ShotEntry, "screen")),
                               ("despill", despill, choices(KeySettings, "despill"))):
        if value not in words:
            raise ProjectError(f"--{flag} must be {', '.join(words[:-1])} or {words[-1]}, not {value!r}")
    low, high = bounds(KeySettings, "refine")
    if not low <= refine <= high:
        raise ProjectError(f"--refine must be between {low} and {high} px, not {refine}")
    options = KeySettings(despill=despill, refine=refine).keyer_arguments()   # type: ignore[arg-type]
    with Progress(TextColumn("keying"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=err.console, transient=True, disable=not err.is_terminal) as bars:
        task = bars.add_task("key", total=None)
        count = key_file(source, output, screen=screen, options=options,  # type: ignore[arg-type]
                         progress=lambda done, total: bars.update(task, completed=done, total=total or None),
                         warn=lambda line: out.print(line, highlight=False))
    out.print(f"keyed {_count(range(count), 'frame')} → {output}", highlight=False)
    folder = project_dir or next((f for f in source.resolve().parents if (f / "soundstage.toml").is_file()), None)
    if folder is not None:
        from soundstage.provenance.credentials import prepare_signing, sign_key

        signer = prepare_signing(Project.load(folder))
        published = output.parent if "%" in output.name else output
        if signer is not None and (signed := sign_key(published, source, signer)):
            out.print(f"signed {_count(range(signed), 'file')} as {folder.name}", highlight=False)


@app.command("track")
@reports_errors
def track_command(
    source: Annotated[Path, typer.Argument(metavar="PLATE", help="A clip whose camera moves.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="track.csv (one homography per frame) or "
                                         "track.chan (Nuke's camera).")],
    model: Annotated[str, typer.Option(help="auto, translation, similarity or homography.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Also print the rows, model, reason, unsolved frames and "
                                          "jumps as JSON.")] = False,
) -> None:
    """Solve the plate's camera per frame (the actor keyed out), for the set to follow or to finish elsewhere."""
    from rich.text import Text

    from soundstage.pipeline.track import TRACK_MODES, export, jump_warning, track_json, track_source, unsolved_warning

    if model not in TRACK_MODES[1:]:
        raise ProjectError(f"--model must be {', '.join(TRACK_MODES[1:-1])} or {TRACK_MODES[-1]}, not {model!r}")
    if output.suffix.lower() not in (".csv", ".chan"):
        raise MediaError("a track is written as .csv or .chan", path=output,
                         hint=f"e.g. -o {output.with_suffix('.csv').name}")
    track, info = track_source(source, model=model)
    export(track, output, info)
    for line in (unsolved_warning(track, source), jump_warning(track, source)):
        if line:
            err.print(Text.assemble(("warning:", "yellow"), f" {line}"))
    if as_json:
        out.print(json.dumps(track_json(track)), highlight=False)
    else:
        out.print(f"tracked {_count(range(track.frames), 'frame')} → {output} ({track.reason})", highlight=False)


@app.command()
@reports_errors
def plan(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    shot: Annotated[list[str] | None, typer.Option("--shot", help="Only this shot (repeatable).")] = None,
    engine: Annotated[str | None, typer.Option(help="Quote another engine than the project's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """What a render would generate and what it would cost, before anything is spent."""
    from rich.table import Table
    from rich.text import Text

    from soundstage.pipeline import Generation, breakdown_project
    from soundstage.pipeline.preflight import preflight
    from soundstage.pipeline.track import plan_lines, shot_track_take

    project = Project.load(project_dir)
    generation = Generation(project, engine_override=engine)
    breakdown = breakdown_project(project)
    orders = generation.orders(breakdown, shot or None)
    problems = preflight(project, [s for s in breakdown.shots if not shot or s.id in shot], generation, orders)
    planned = generation.plan([] if problems else orders)
    tracks = [] if problems else [t for s in breakdown.shots if not shot or s.id in shot
                                  if (t := shot_track_take(project, s)) is not None]
    budget = project.settings.budget
    spent = generation.store.spent_usd()
    new_usd = sum(p.estimate.price.usd for p in planned if p.estimate and not p.estimate.cached)
    if as_json:
        rows = [{"slot": p.order.slot, "shots": list(p.order.shots), "engine": p.order.engine,
                 "model": p.estimate.quote.model if p.estimate else None,
                 "unit": p.estimate.quote.unit if p.estimate else None,
                 "quantity": p.estimate.quote.quantity if p.estimate else None,
                 "usd": 0.0 if not p.estimate or p.estimate.cached else p.estimate.price.usd,
                 "status": "error" if p.error else "in store" if p.estimate and p.estimate.cached else "new",
                 "error": p.error or None,
                 "conditioning": p.conditioning.as_json() if p.conditioning else None} for p in planned]
        sys.stdout.write(json.dumps({"takes": rows, "new_usd": new_usd, "spent_usd": spent,
                                     "budget": {"limit": budget.limit, "currency": budget.currency},
                                     "problems": _problem_rows(problems),
                                     "tracks": [{"shot": t.shot, "track": t.mode, "cached": t.cached}
                                                for t in tracks]}, indent=2) + "\n")
        if problems:
            raise typer.Exit(2)
        return
    if problems:
        raise PreflightError(problems)
    table = Table(title=f"{project.settings.title}: {_count(planned, 'take')}", title_justify="left")
    for column in ("slot", "shots", "model", "units", "cost", "status"):
        table.add_column(column, overflow="fold")
    for p in planned:
        if p.estimate is None:
            table.add_row(p.order.slot, " ".join(p.order.shots), p.order.engine, "", "", Text(p.error, "red"))
            continue
        quote, cached = p.estimate.quote, p.estimate.cached
        table.add_row(p.order.slot, " ".join(p.order.shots), quote.model,
                      f"{quote.quantity:g} {quote.unit}", "—" if cached else budget.show(p.estimate.price.usd),
                      Text("in store", "dim") if cached else "new")
    out.print(table)
    _say_conditioning(planned)
    for line in plan_lines(tracks):
        out.print(line, highlight=False)
    _say_shared(generation, planned)
    left = budget.limit - budget.to_currency(spent)
    line = (f"would spend {budget.show(new_usd)}; spent so far {budget.show(spent)}; "
            f"budget {budget.show(budget.limit, converted=True)}, {budget.show(left, converted=True)} left")
    over = budget.to_currency(spent + new_usd) > budget.limit + 1e-9
    out.print(Text(f"{line}: over budget; the takes that would cross it will be refused", "red") if over else line)
    for p in planned:
        if p.estimate:
            priced = p.estimate.price.line
            if priced.usd and not p.estimate.cached:
                out.print(Text(f"{priced.engine} {priced.model} per {priced.unit}: {priced.usd:g} USD "
                               f"({priced.date}, {priced.source})", "dim"))


def _shots(ids: Sequence[str]) -> str:
    return ("shot " if len(ids) == 1 else "shots ") + ", ".join(ids)


def _say_conditioning(planned: Sequence[Any]) -> None:
    """Per take that is steered: what its engine will use, and what it will drop."""
    for p in planned:
        c = p.conditioning
        if c is None:
            continue
        used = [f"{name} {value}" for name, value in (("first frame", c.first_frame), ("last frame", c.last_frame),
                                                      ("extends", c.extend)) if value]
        used += [f"{role} reference {path}" for path, role in c.references]
        used += [f"{c.parts} clips, each extending the last"] if c.parts > 1 else []
        if used or c.dropped:
            line = f"{p.order.slot}: uses {'; '.join(used) or 'words only'}"
            out.print(line + (f"; drops {', '.join(c.dropped)}" if c.dropped else ""), highlight=False)


def _say_shared(generation: Any, planned: Sequence[Any]) -> None:
    """Before a new take of a shared slot (a set) is made: which other shots it will change."""
    for p in planned:
        others = generation.affected(p.order) if p.estimate and not p.estimate.cached else ()
        if others:
            out.print(f"{p.order.slot} is shared with {_shots(others)}: a new take changes "
                      f"{'it' if len(others) == 1 else 'them'} too (soundstage approve PROJECT "
                      f"{p.order.slot} vNNN holds the take they use)", highlight=False)


@app.command()
@reports_errors
def generate(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    shot: Annotated[list[str] | None, typer.Option("--shot", help="Only this shot (repeatable).")] = None,
    engine: Annotated[str | None, typer.Option(help="Use another engine than the project's.")] = None,
    seed: Annotated[int | None, typer.Option(help="Another seed: a new take of the same design.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print each take as JSON.")] = False,
    by: Annotated[str, typer.Option(help="Who makes them (named in the notices).")] = "",
) -> None:
    """Generate the sets, backgrounds and elements a render needs, as takes. Takes already made are reused.
    Tells [review.notify] of each take made."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.text import Text

    from soundstage.pipeline import Generation, breakdown_project
    from soundstage.pipeline.preflight import check
    from soundstage.review.notify import told

    project = Project.load(project_dir)
    generation = Generation(project, engine_override=engine, seed_override=seed)
    breakdown = breakdown_project(project)
    orders = generation.orders(breakdown, shot or None)
    check(project, [s for s in breakdown.shots if not shot or s.id in shot], generation, orders)
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=err.console, transient=True,
                  disable=as_json or not err.is_terminal) as bars:
        task = bars.add_task("generating", total=len(orders))

        def progress(order: Any, index: int, total: int) -> None:
            bars.update(task, completed=index, description=order.slot)

        if not as_json:
            _say_shared(generation, generation.plan([o for o in orders if generation.affected(o)]))
        with told(project.settings.review.notify, project.settings.title) as notifier:
            outcomes = generation.generate(orders, progress)
            for o in outcomes:
                if o.made and o.take:
                    notifier.take_ready(by.strip(), o.order.slot, o.take.label, shot=subject_shot(o.order.slot))
    for line in generation.warnings:
        err.print(Text.assemble(("warning", "yellow"), f" {line}"))
    budget = project.settings.budget
    if as_json:
        rows = [{"slot": o.order.slot, "take": o.take.label if o.take else None,
                 "status": "failed" if o.error else "made" if o.made else "in store",
                 "engine": o.take.engine if o.take else o.order.engine, "model": o.take.model if o.take else None,
                 "cost_usd": o.take.cost_usd if o.take and o.made else 0.0,
                 "files": [str(p) for p in generation.store.files(o.take)] if o.take else [],
                 "error": o.error or None,
                 "changes_shots": list(generation.affected(o.order)) if o.made else []} for o in outcomes]
        sys.stdout.write(json.dumps({"takes": rows}, indent=2) + "\n")
    else:
        for o in outcomes:
            if o.error:
                err.print(Text.assemble(("failed", "red"), f" {o.order.slot}: {o.error}"))
            elif o.take:
                status = Text("made") if o.made else Text("in store", "dim")
                out.print(Text.assemble(status, f" {o.order.slot} {o.take.label} ({o.take.engine} · {o.take.model})"))
                if o.made and (others := generation.affected(o.order)):
                    out.print(f"  {_shots(others)} now {'uses' if len(others) == 1 else 'use'} "
                              f"{o.order.slot} {o.take.label} too", highlight=False)
        made = [o for o in outcomes if o.made and o.take]
        spent = sum(o.take.cost_usd for o in made if o.take)
        out.print(f"made {len(made)}, in store {sum(1 for o in outcomes if o.take and not o.made)}, "
                  f"failed {sum(1 for o in outcomes if o.error)}; spent {budget.show(spent)}", highlight=False)
    if any(o.error for o in outcomes):
        raise typer.Exit(1)


@app.command()
@reports_errors
def takes(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    shot: Annotated[str, typer.Argument(help="The shot, e.g. 3-1.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the takes as JSON.")] = False,
) -> None:
    """Every take of a shot's slots (its set, background and elements): which is approved, which the render uses."""
    from rich.table import Table
    from rich.text import Text

    from soundstage.pipeline import Generation, breakdown_project

    project = Project.load(project_dir)
    generation = Generation(project)
    result = breakdown_project(project)
    if shot not in {s.id for s in result.shots}:
        raise ProjectError(f"no shot {shot!r}; shots: {', '.join(s.id for s in result.shots)}",
                           path=project.shots_file)
    approved = generation.store.approved()
    budget = project.settings.budget
    rows: list[dict[str, Any]] = []
    for order in generation.orders(result, [shot]):
        used = generation.chosen(order.slot, order.design)
        for take in generation.store.takes(order.slot):
            rows.append({"slot": take.slot, "take": take.label, "engine": take.engine, "model": take.model,
                         "seed": take.seed, "cost_usd": take.cost_usd, "seconds": round(take.seconds, 2),
                         "made": take.created_at.isoformat(timespec="seconds"),
                         "approved": approved.get(take.slot) == take.id,
                         "used": used is not None and used.id == take.id,
                         "file": str(generation.store.files(take)[0].relative_to(project.root))})
    if as_json:
        sys.stdout.write(json.dumps({"shot": shot, "takes": rows}, indent=2) + "\n")
        return
    table = Table(title=f"shot {shot}: {_count(rows, 'take')}", title_justify="left")
    for column in ("slot", "take", "model", "seed", "cost", "made", "", "file"):
        table.add_column(column, overflow="fold")
    for row in rows:
        mark = Text(" ").join([*([Text("approved", "green")] if row["approved"] else []),
                               *([Text("▶ used", "bold")] if row["used"] else [])])
        table.add_row(row["slot"], row["take"], row["model"], str(row["seed"]), budget.show(row["cost_usd"]),
                      row["made"][:16].replace("T", " "), mark, row["file"])
    out.print(table)
    if not rows:
        out.print(Text.assemble("no takes yet: run ", (f"soundstage generate {project_dir} --shot {shot}", "bold")))


@app.command()
@reports_errors
def approve(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    slot: Annotated[str, typer.Argument(help="The slot, as `soundstage takes` lists it, e.g. set/sea-cliff-dusk.")],
    take: Annotated[str, typer.Argument(help="The take: v002 or 2.")],
    by: Annotated[str, typer.Option(help="Who approves it (kept in the history and the disclosure report).")] = "",
) -> None:
    """Approve one take of a slot: renders use it from now on, whatever is generated later. Tells [review.notify]."""
    from soundstage.pipeline import Generation
    from soundstage.review.notify import told

    project = Project.load(project_dir)
    with told(project.settings.review.notify, project.settings.title) as notifier:
        approved = Generation(project).store.approve(slot, _take_number(take), by=by.strip())
        out.print(f"approved {slot} {approved.label} ({approved.engine} · {approved.model})"
                  + (f" by {by.strip()}" if by.strip() else ""), highlight=False)
        notifier.approved(by.strip(), slot, approved.label, shot=subject_shot(slot))


@app.command()
@reports_errors
def status(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    shot: Annotated[str, typer.Argument(help="The shot, e.g. 3-1.")],
    to: Annotated[str, typer.Argument(metavar="STATUS", help="waiting, wip, review, retake, approved or final.")],
    by: Annotated[str, typer.Option(help="Who says so (kept in the shot's history).")] = "",
) -> None:
    """Move a shot to a review status, kept in its history with who and when. Tells [review.notify] of an
    approval or a retake."""
    from soundstage.pipeline import Generation, breakdown_project
    from soundstage.review.notes import check_subject
    from soundstage.review.notify import told
    from soundstage.review.statuses import checked_status

    project = Project.load(project_dir)
    generation = Generation(project)
    check_subject(generation, breakdown_project(project), shot_subject(shot))
    with told(project.settings.review.notify, project.settings.title) as notifier:
        generation.store.set_status(shot_subject(shot), checked_status(to), by=by.strip())
        out.print(f"shot {shot} is {to}" + (f" ({by.strip()})" if by.strip() else ""), highlight=False)
        notifier.status(by.strip(), shot, to)


@app.command()
@reports_errors
def note(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    subject: Annotated[str, typer.Argument(help="A shot (3-1) or a slot as `soundstage takes` lists it.")],
    text: Annotated[str, typer.Argument(help="The note.")],
    take: Annotated[str | None, typer.Option(help="On one take of the slot: v002.")] = None,
    by: Annotated[str, typer.Option(help="Who says so.")] = "",
    frame: Annotated[int | None, typer.Option(help="On this frame of the shot, numbered from [review] "
                                                   "first_frame.")] = None,
    tc: Annotated[str | None, typer.Option(help="On the frame at this record timecode of the cut: "
                                                "01:00:06:13.")] = None,
) -> None:
    """Leave a note on a shot, a slot or one take, on a frame if given. Notes are kept; `soundstage notes` lists
    them. A crew member @mentioned is told ([review.notify])."""
    from soundstage.db import open_database
    from soundstage.pipeline import Generation, breakdown_project
    from soundstage.review.notes import note_frame, write_note
    from soundstage.review.notify import crew_names, told

    project = Project.load(project_dir)
    version = None if take is None else _take_number(take)
    with told(project.settings.review.notify, project.settings.title) as notifier:
        written, clock = write_note(Generation(project), breakdown_project(project), _subject(subject), text, by=by,
                                    version=version, frame=frame, tc=tc)
        number, label = note_frame(written, {clock.shot: clock} if clock else {},
                                   project.settings.review.first_frame)
        at = "" if number is None else f" at frame {number}" + (f" ({label})" if label else "")
        out.print(f"noted on {written.subject}" + (f" {take}" if take else "") + at, highlight=False)
        if "@" in written.body:
            notifier.mention(by, subject_shot(written.subject) or written.subject, written.body, written.id,
                             crew_names(open_database(project.database)))


@app.command()
@reports_errors
def notes(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    subject: Annotated[str, typer.Argument(help="A shot or slot (default: every note).")] = "",
    as_json: AsJson = False,
) -> None:
    """The notes on a shot or slot (and on everything under it), oldest first."""
    from soundstage.pipeline import Generation, breakdown_project
    from soundstage.review.notes import note_frame, shot_clocks

    project = Project.load(project_dir)
    store = Generation(project).store
    found = store.notes(_subject(subject) if subject else "")
    labels = {take.id: take.label for take in store.takes()} if found else {}
    clocks = shot_clocks(project, breakdown_project(project)) if any(n.frame is not None for n in found) else {}
    rows: list[dict[str, Any]] = [
        {"subject": n.subject, "take": labels.get(n.take_id) if n.take_id else None, "by": n.author,
         "at": n.created_at.isoformat(timespec="seconds"), "note": n.body,
         **dict(zip(("frame", "timecode"), note_frame(n, clocks, project.settings.review.first_frame),
                    strict=True))} for n in found]
    if as_json:
        sys.stdout.write(json.dumps({"notes": rows}, indent=2, ensure_ascii=False) + "\n")
        return
    for row in rows:
        where = row["subject"] + (f" {row['take']}" if row["take"] else "") + \
            (f" @{row['frame']}" + (f" {row['timecode']}" if row["timecode"] else "") if row["frame"] is not None
             else "")
        who = f" ({row['by']})" if row["by"] else ""
        out.print(f"{row['at'][:16].replace('T', ' ')}  {where}{who}: {row['note']}",
                  highlight=False)
    if not rows:
        out.print("no notes")


@app.command()
@reports_errors
def jobs(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    last: Annotated[int, typer.Option(help="How many of the latest runs.", min=1)] = 10,
    as_json: AsJson = False,
) -> None:
    """The latest render runs: when, how, what they built and cost, and how they ended."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from soundstage.db import open_database
    from soundstage.pipeline.ledger import Ledger

    project = Project.load(project_dir)
    runs = Ledger(open_database(project.database), project.root).jobs(last)
    rows: list[dict[str, Any]] = [
        {"job": j.id, "command": j.command, "executor": j.executor, "host": j.host, "status": j.status,
         "started": j.started_at.isoformat(timespec="seconds"), "built": j.built, "cached": j.cached,
         "failed": j.failed, "cost_usd": j.cost_usd, "seconds": round(j.seconds, 1)} for j in runs]
    if as_json:
        sys.stdout.write(json.dumps({"jobs": rows}, indent=2) + "\n")
        return
    table = Table(title=f"{project.settings.title}: {_count(rows, 'run')}", title_justify="left", box=box.SIMPLE_HEAD,
                  caption="b/c/f: steps built, cached, failed", caption_justify="left")
    for column in ("job", "started", "run", "status", "b/c/f", "spent", "time"):
        table.add_column(column, no_wrap=True)
    colour = {"finished": "green", "failed": "red", "killed": "red", "interrupted": "yellow"}
    for row in rows:
        table.add_row(str(row["job"]), row["started"][5:16].replace("T", " "),
                      f"{row['command']} ({row['executor']})", Text(row["status"], colour.get(row["status"], "white")),
                      f"{row['built']}/{row['cached']}/{row['failed']}", project.settings.budget.show(row["cost_usd"]),
                      _duration(row["seconds"]))
    out.print(table)


report_app = typer.Typer(help="Reports for the crew and the producer: HTML to read, CSV to count.",
                         no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("breakdown")
@reports_errors
def report_breakdown(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
) -> None:
    """Breakdown sheets per scene in the industry's colours, and the shot list (HTML and CSV), in out/reports."""
    from soundstage.reports.breakdown import write_breakdown_report

    for path in write_breakdown_report(Project.load(project_dir)):
        out.print(f"wrote {path}", highlight=False)


@report_app.command("cost")
@reports_errors
def report_cost(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
) -> None:
    """What each shot's AI takes cost and took (measured) against a traditional bid from the rate card (estimated),
    with the field's claims tested: out/reports/cost.html, cost.csv, cost-takes.csv and cost-claims.csv."""
    from soundstage.pipeline import breakdown_project
    from soundstage.reports.cost import write_cost_report

    project = Project.load(project_dir)
    for path in write_cost_report(project, breakdown=breakdown_project(project, lock=False)):
        out.print(f"wrote {path}", highlight=False)


@report_app.command("disclosure")
@reports_errors
def report_disclosure(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
) -> None:
    """What is AI-generated and what is human, per shot and for the cut, measured from the comp mattes, with the
    fields copyright registration asks for: out/reports/disclosure.html and disclosure.json."""
    from soundstage.pipeline import read_breakdown
    from soundstage.reports.disclosure import write_disclosure_report

    project = Project.load(project_dir)
    for path in write_disclosure_report(project, read=read_breakdown(project, lock=False)):
        out.print(f"wrote {path}", highlight=False)


lens_app = typer.Typer(help="The camera's lens: its distortion, solved from a checkerboard.", no_args_is_help=True)
app.add_typer(lens_app, name="lens")


@lens_app.command("calibrate")
@reports_errors
def lens_calibrate(
    plate: Annotated[Path, typer.Argument(metavar="PLATE", help="A clip (or still) of a checkerboard.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Also write the lens to this TOML file "
                                                "(never over an existing one).")] = None,
    board: Annotated[str, typer.Option(help="The board's inner corners, columns x rows.")] = "9x6",
) -> None:
    """Solve the lens's k1 k2 p1 p2 (and the intrinsics they go with) from a checkerboard plate, and print them
    as a shot's camera lens in shots.toml takes them."""
    from soundstage.comp.lens import calibrate_plate

    size = board.lower().split("x")
    if len(size) != 2 or not all(part.isdigit() and int(part) > 2 for part in size):
        raise ProjectError(f"--board must be columns x rows of inner corners, like 9x6, not {board!r}")
    if output is not None and output.exists():
        raise ProjectError("already exists; the lens is never written over a file", path=output,
                           hint="remove it or give another -o")
    found = calibrate_plate(plate, (int(size[0]), int(size[1])))
    summary = (f"{board} board on {len(found.found)} of {len(found.tried)} frames of {plate.name}; "
               f"RMS reprojection error {found.rms:.3f} px")
    out.print(f"# {summary}", highlight=False)
    out.print(found.toml(), highlight=False)
    if output is not None:
        table = "".join(f"{name} = {value!r}\n" for name, value in found.settings.items())
        write_text(output, f"# soundstage lens calibrate: {summary}\n# in shots.toml: camera = {{ {found.toml()} }}\n"
                           f"[lens]\n{table}")
        out.print(f"wrote {output}", highlight=False)


keys_app = typer.Typer(help="The project's signing identity for C2PA manifests.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("init")
@reports_errors
def keys_init(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    force: Annotated[bool, typer.Option("--force", help="Replace existing keys.")] = False,
) -> None:
    """Make the project's root CA, intermediate and signing key, in .soundstage/keys/ (never in out/)."""
    from soundstage.provenance import init_keys

    project = Project.load(project_dir)
    identity = init_keys(project.root, force=force, title=project.settings.title)
    out.print(f"signing key {identity.key} (private, mode 0600)", highlight=False)
    out.print(f"certificate chain {identity.chain}", highlight=False)
    out.print(f"root certificate {identity.root}: give it to whoever checks your files "
              f"(soundstage verify FILE --trust {identity.root.name if identity.root else 'root.pem'})",
              highlight=False)


@keys_app.command("show")
@reports_errors
def keys_show(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print it as JSON.")] = False,
) -> None:
    """Say which identity will sign this project's files ([provenance] in soundstage.toml); never the key."""
    from datetime import UTC, datetime

    from soundstage.provenance.signer import describe, project_signer

    identity = project_signer(Project.load(project_dir))
    card = describe(identity) if identity is not None else None
    if as_json:
        sys.stdout.write(json.dumps(card.to_dict() if card else {"source": None}, indent=2) + "\n")
        return
    if card is None:
        out.print("signing is off ([provenance] sign = false): files are written without C2PA manifests",
                  highlight=False)
        return
    days = (card.not_after - datetime.now(UTC)).days
    rows = [("signs with", card.source + (f" {card.signer}" if card.signer else "")), ("subject", card.subject),
            ("issuer", card.issuer), ("expires", f"{card.not_after:%Y-%m-%d %H:%M} UTC (in {days} days)"),
            ("algorithm", card.algorithm), ("fingerprint", f"SHA-256 {card.fingerprint}"), ("chain", str(card.chain)),
            ("key", str(card.key) if card.key else "held by the signer, not by soundstage"),
            ("trust anchor", str(card.root) if card.root else "none given"),
            ("timestamps", card.tsa_url or "none (offline)")]
    for label, value in rows:
        out.print(f"{label:>12}: {value}")


@app.command()
@reports_errors
def probe(file: Annotated[Path, typer.Argument(metavar="FILE", help="A movie, still or EXR.")]) -> None:
    """Print what a file says of its colour: a movie's primaries, transfer, matrix and range; an EXR's space."""
    from soundstage.media.probe import file_colour

    for key, value in file_colour(file).items():
        out.print(f"{file}: {key}: {value}", highlight=False)


@app.command()
@reports_errors
def verify(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A PNG, JPEG, MP4 or MOV.")],
    trust: Annotated[Path | None, typer.Option("--trust", metavar="ROOT.pem",
                                               help="A root certificate to trust (a project's root.pem).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
    watermark: Annotated[bool, typer.Option("--watermark", help="Read the invisible watermark instead (for a file "
                                            "that lost its manifest) and trace it to its shots and takes.")] = False,
    project: Annotated[Path | None, typer.Option("--project", help="The project whose watermark key to use "
                                                 "(default: the project the file is in, else here).")] = None,
) -> None:
    """Check a file's C2PA manifest: who signed it, how it was made, what went into it. Exit 0 only if it holds."""
    from soundstage.provenance import verify_file

    if watermark:
        _trace(file, project, as_json)
        return
    verdict = verify_file(file, trust=trust)
    if as_json:
        sys.stdout.write(json.dumps(verdict.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        _print_verdict(verdict, trusted_with=trust)
    if not verdict.ok:
        raise typer.Exit(1)


def _trace(file: Path, project_folder: Path | None, as_json: bool) -> None:
    """``verify --watermark``: exit 0 when a mark of this project's is found, 1 when none is."""
    from soundstage.provenance.trace import read_watermark

    if not file.is_file():
        raise MediaError("no such file", path=file)
    if project_folder is None:
        project_folder = next((folder for folder in (*file.resolve().parents, Path.cwd())
                               if (folder / "soundstage.toml").is_file()), None)
        if project_folder is None:
            raise ProjectError("is in no project, and none is here: give --project PROJECT, the project whose "
                               "watermark key to read it with", path=file)
    reading = read_watermark(Project.load(project_folder), file)
    traces = reading.traces
    if as_json:
        sys.stdout.write(json.dumps({"path": str(file), "frames_read": reading.frames, "complete": reading.complete,
                                     "damage": reading.damage, "found": [t.to_dict() for t in traces]}, indent=2,
                                    ensure_ascii=False) + "\n")
    elif not reading.complete:
        out.print(f"{file}: read {reading.frames} frames, up to where it breaks off ({reading.damage})",
                  highlight=False)
    if not as_json and not traces:
        out.print(f"{file}: no watermark of this project's found", highlight=False)
    for trace in [] if as_json else traces:
        span = f"frames {trace.first}–{trace.last}" if trace.last > trace.first else f"frame {trace.first}"
        if trace.shot is None:
            out.print(f"{file}: {span}: mark {trace.payload.hex()} (confidence {trace.confidence:.1f}) "
                      "is this project's key but no render of it is on record", highlight=False)
            continue
        out.print(f"{file}: {span}: shot {trace.shot.shot}, rendered {trace.shot.rendered_at} "
                  f"(mark {trace.payload.hex()}, confidence {trace.confidence:.1f})", highlight=False)
        for layer in trace.shot.layers:
            out.print(f"  {layer.slot} take {layer.version} (id {layer.take_id}): {layer.engine} {layer.model} "
                      f"{layer.engine_version}, {layer.source_type}, {layer.share:.0%} of the frame")
    if not traces or all(trace.shot is None for trace in traces):
        raise typer.Exit(1)


def _print_verdict(verdict: Any, trusted_with: Path | None) -> None:
    from rich.text import Text

    if verdict.state == "none":
        out.print(f"{verdict.path}: no C2PA manifest (re-encoded? try --watermark)", highlight=False)
        return
    colour = {"Trusted": "green", "Valid": "yellow"}.get(verdict.state, "red")
    said = Text.assemble((verdict.state, colour), (" tampered", "red") if verdict.tampered else "")
    said += f", signed by {verdict.signer}" if verdict.signer else ""
    if verdict.state == "Valid" and trusted_with is None:
        said += " (the signature holds; give --trust ROOT.pem to check the signer)"
    elif verdict.untrusted:
        said += Text.assemble((f" not trusted by {trusted_with}", "red"), " (signed under another root)")
    out.print(Text.assemble(f"{verdict.path}: ", said))
    for action in verdict.actions:
        out.print(f"  {_action_line(action)}", highlight=False)
    made = verdict.records.get("org.soundstage.shot") or verdict.records.get("org.soundstage.cut")
    if made:
        out.print(f"  AI {made['ai_share']:.1%} · generated {made['generated_share']:.1%} · live-action plate "
                  f"{made['plate_share']:.1%} of the frame area × time", highlight=False)
    take = verdict.records.get("org.soundstage.take")
    if take:
        out.print(f"  take of {take['slot']}: {take['engine']} {take['model']} {take['engine_version']}, "
                  f"seed {take['seed']}, {take['cost_usd']:.2f} USD, {take['seconds']:.1f} s")

    def chain(ingredients: Any, depth: int) -> None:
        for item in ingredients:
            state = (f" {item.state or 'unsigned'}", "red" if item.state == "Invalid" else "dim")
            out.print(Text.assemble(f"{'  ' * depth}└ {item.relationship} {item.title}", state))
            for action in item.actions:
                out.print(f"{'  ' * (depth + 1)}  {_action_line(action)}", highlight=False)
            chain(item.ingredients, depth + 1)

    chain(verdict.ingredients, 1)
    for error in verdict.errors:
        out.print(Text(f"  {error}", "red"))


def _action_line(action: Any) -> str:
    source = action.digital_source_type.rsplit("/", 1)[-1] if action.digital_source_type else ""
    agent = f" by {action.software_agent}" if action.software_agent else ""
    return f"{action.action} {source}".strip() + agent


# ---------------------------------------------------------------------------------------------- the review app

def _review_needed() -> None:
    try:
        import argon2  # noqa: F401
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ProjectError(f"the review app needs {exc.name}", hint=install_hint("review")) from None


@app.command()
@reports_errors
def serve(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    host: Annotated[str, typer.Option(help="The address to listen on (0.0.0.0: every network).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.", min=1, max=65535)] = 8000,
    max_upload_mb: Annotated[float, typer.Option(help="The largest plate upload, in MB.", min=1)] = 512.0,
    secure_cookies: Annotated[bool, typer.Option("--secure-cookies", help="Behind HTTPS: cookies only over it.")]
    = False,
) -> None:
    """The review app: the crew browses, compares, approves and regenerates takes in a browser."""
    from rich.text import Text

    _review_needed()
    import uvicorn

    from soundstage.review.app import make_app, settle

    project = Project.load(project_dir)
    review = make_app(project, max_upload_mb=max_upload_mb, secure_cookies=secure_cookies)
    if not any(True for _ in review.state.crew.members()):
        err.print(Text.assemble(("warning:", "yellow"), f" nobody can sign in yet: soundstage user add {project_dir} "
                                "NAME --role director"))
    if host not in ("127.0.0.1", "localhost", "::1") and not secure_cookies:
        err.print(Text.assemble(("warning:", "yellow"), " passwords and cookies cross the network in the clear: "
                                "serve it behind HTTPS and pass --secure-cookies"))
    out.print(f"reviewing {project.settings.title} at http://{host}:{port}/", highlight=False)
    settle()
    uvicorn.run(review, host=host, port=port, log_level="warning")


user_app = typer.Typer(help="The people who may sign in to the review app.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
@reports_errors
def user_add(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    name: Annotated[str, typer.Argument(help="The sign-in name.")],
    role: Annotated[str, typer.Option(help="director, producer, artist or viewer.")] = "viewer",
) -> None:
    """Add a crew member. The password is asked for (or read from one line of standard input) and kept hashed."""
    _review_needed()
    from soundstage.db import open_database
    from soundstage.review.auth import Crew

    project = Project.load(project_dir)
    if sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    Crew(open_database(project.database)).add(name, role, password)
    out.print(f"added {name} ({role})", highlight=False)


@user_app.command("list")
@reports_errors
def user_list(project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")]) -> None:
    """The crew members and their roles."""
    _review_needed()
    from soundstage.db import open_database
    from soundstage.review.auth import Crew

    members = Crew(open_database(Project.load(project_dir).database)).members()
    for member in members:
        out.print(f"{member.name}  {member.role}", highlight=False)
    if not members:
        out.print("nobody yet")


@user_app.command("remove")
@reports_errors
def user_remove(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    name: Annotated[str, typer.Argument(help="The sign-in name.")],
) -> None:
    """Remove a crew member; their sessions end at once."""
    _review_needed()
    from soundstage.db import open_database
    from soundstage.review.auth import Crew

    Crew(open_database(Project.load(project_dir).database)).remove(name)
    out.print(f"removed {name}", highlight=False)


db_app = typer.Typer(help="The project database: rebuild it when it is damaged.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("rebuild")
@reports_errors
def db_rebuild(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    force: Annotated[bool, typer.Option("--force", help="Rebuild a database that is not damaged.")] = False,
) -> None:
    """Move a damaged project database aside and rebuild it: takes from the take folders; approvals, notes,
    drawings, statuses and their history, the crew, playlists, plate uploads and jobs from the journal."""
    from rich.text import Text

    from soundstage.recovery import rebuild_database

    rebuilt = rebuild_database(Project.load(project_dir), force=force)
    if rebuilt.damaged is not None:
        out.print(f"moved the damaged database to {rebuilt.damaged} (kept, not deleted)", markup=False,
                  highlight=False)
    for problem in rebuilt.problems:
        err.print(Text.assemble(("warning:", "yellow"), f" {problem}"))
    out.print(f"rebuilt {_count(range(rebuilt.takes), 'take')}, {_count(range(rebuilt.approvals), 'approval')}, "
              f"{_count(range(rebuilt.notes), 'note')}, {_count(range(rebuilt.jobs), 'job')}, "
              f"{_count(range(rebuilt.history), 'change')} of approval or status, "
              f"{_count(range(rebuilt.crew), 'crew member')}, {_count(range(rebuilt.playlists), 'playlist')}, "
              f"{_count(range(rebuilt.plate_changes), 'plate change')}"
              + (f"; {rebuilt.skipped} unreadable entries skipped" if rebuilt.skipped else ""), markup=False,
              highlight=False)
    out.print("not rebuilt: the render ledger (the next render re-renders once) and review sign-in sessions "
              "(the crew signs in again)", markup=False, highlight=False)


def _subject(name: str) -> str:
    """A bare shot id (3-1) means the shot; anything with a slash is a slot as given."""
    return name if "/" in name else shot_subject(name)


def _take_number(take: str) -> int:
    version = take.lower().removeprefix("v")
    if not version.isdigit():
        raise ProjectError(f"take {take!r} is not a take number like v002")
    return int(version)


def _count(items: Sized, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"
