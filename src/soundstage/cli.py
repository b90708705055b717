"""The ``soundstage`` command. Thin: it parses arguments, calls the services and prints; it holds no logic."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sized
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from soundstage import __version__
from soundstage.atomic import write_text
from soundstage.errors import ProjectError, SoundstageError
from soundstage.project import Project
from soundstage.script.breakdown import Breakdown, break_down

app = typer.Typer(help="soundstage: from screenplay to finished, labelled cut.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
out = Console(soft_wrap=True)      # one message, one line: scripts grep them
err = Console(stderr=True, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Bad input ends in one red line and exit code 2, never a traceback; Ctrl-C says how to resume."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SoundstageError as exc:
            err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
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
    if folder.exists() and any(folder.iterdir()):
        raise ProjectError("already exists and is not empty; nothing was written", path=folder)
    name = title or folder.resolve().name.replace("-", " ").replace("_", " ").title()
    templates = resources.files("soundstage.templates")
    for template, target in (("soundstage.toml", "soundstage.toml"), ("screenplay.fountain", "screenplay.fountain"),
                             ("shots.toml", "shots.toml"), ("gitignore", ".gitignore")):
        text = templates.joinpath(template).read_text("utf-8").replace("{title}", name.replace('"', "'"))
        write_text(folder / target, text)
    for sub in ("plates", "refs"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    out.print(f"Created [bold]{folder}[/]: edit screenplay.fountain, then run [bold]soundstage render {folder}[/]")


@app.command()
@reports_errors
def breakdown(
    target: Annotated[Path, typer.Argument(help="A project folder, or a bare .fountain / .fdx file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole breakdown as JSON.")] = False,
) -> None:
    """Scenes, shots, elements and prompts of a screenplay."""
    from soundstage.pipeline import breakdown_project
    from soundstage.script import read_screenplay

    result = breakdown_project(Project.load(target)) if target.is_dir() else break_down(read_screenplay(target))
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        _print_breakdown(result)


def _print_breakdown(result: Breakdown) -> None:
    scenes = Table(title=f"{result.title}: {_count(result.scenes, 'scene')}", title_justify="left")
    for column in ("scene", "heading", "line", "8ths", "characters", "elements"):
        scenes.add_column(column)
    for scene in result.scenes:
        heading = " ".join(filter(None, (scene.int_ext, scene.location, "-", scene.time_original or "")))
        scenes.add_row(scene.id, heading, str(scene.line), str(scene.eighths),
                       ", ".join(scene.characters + [f"({n})" for n in scene.non_speaking]),
                       ", ".join(f"{e.name} [dim]{e.category}[/]" for e in scene.elements))
    out.print(scenes)
    shots = Table(title=_count(result.shots, "shot"), title_justify="left")
    for column in ("shot", "plate", "sec", "camera", "prompt"):
        shots.add_column(column, overflow="fold")
    for shot in result.shots:
        shots.add_row(shot.id, shot.plate or "[dim]none[/]", f"{shot.duration:g}", shot.camera.move, shot.prompt)
    out.print(shots)
    for scene_id in result.omitted:
        out.print(f"[yellow]OMITTED[/] scene {scene_id}: gone from the screenplay; its number stays reserved")
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/] {warning}")


@app.command()
@reports_errors
def render(
    project_dir: Annotated[Path, typer.Argument(metavar="PROJECT", help="The project folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print each step's status as JSON.")] = False,
) -> None:
    """Generate sets, key and comp the plates, encode the shots and cut the film. Re-runs only what changed."""
    from soundstage.pipeline import render_project

    project = Project.load(project_dir)
    with Progress(TextColumn("{task.description:<14}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True,
                  disable=as_json or not err.is_terminal) as bars:
        tasks: dict[str, TaskID] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bars.add_task(step, total=total)
            bars.update(tasks[step], completed=done)

        report = render_project(project, progress=progress)

    if as_json:
        steps = [{"step": s.step, "status": s.status, "output": str(s.output) if s.output else None,
                  "reason": s.reason, "seconds": round(s.seconds, 3)} for s in report.steps]
        sys.stdout.write(json.dumps({"steps": steps, "warnings": report.warnings}, indent=2) + "\n")
    else:
        for step in report.steps:
            if step.status in ("failed", "skipped"):
                err.print(f"[red]{step.status}[/] {step.step}: {step.reason}", highlight=False)
        for warning in report.warnings:
            err.print(f"[yellow]warning:[/] {warning}", highlight=False)
        seconds = sum(s.seconds for s in report.steps)
        cut = project.out_dir / "cut.mp4"
        shown = cut.relative_to(Path.cwd()) if cut.is_relative_to(Path.cwd()) else cut
        out.print(f"built {report.count('built')}, cached {report.count('cached')}, failed {len(report.failed)}, "
                  f"skipped {report.count('skipped')} in {seconds:.1f} s"
                  + (f" → {shown}" if not report.failed and cut.is_file() else ""), highlight=False)
    if report.failed:
        raise typer.Exit(1)


def _count(items: Sized, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"
