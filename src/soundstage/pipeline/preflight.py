"""Preflight: every problem a render would meet with its plates and engines, found before anything is made.

A bad plate used to surface at comp time, one render at a time, after paid takes may have been generated;
an element the engine cannot make, minutes into the render. Here every plate is probed (decodable, size and
rate against ``[plates]``, length against its shot, the shot's screen found in it) and every take's engine
is asked whether it makes that kind of take and that element, all before a take is generated. ``soundstage
plan`` lists the problems; ``render``, ``comp`` and ``generate`` refuse with them (``check``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from soundstage.atomic import write_text
from soundstage.comp import ScreenColour
from soundstage.comp.keyer import Screen, screen_share
from soundstage.engines import AssetKind
from soundstage.engines.base import makes_element
from soundstage.errors import EngineError, MediaError, PreflightError, ProjectError, SoundstageError
from soundstage.media import PlateInfo, probe_plate, read_frames, read_image
from soundstage.pipeline.shot import plate_lens, plate_problems, screen_of, shot_colour, shot_frames
from soundstage.pipeline.sound import mix_of_shot
from soundstage.pipeline.takes import Generation, Order, aspect_differs
from soundstage.pipeline.track import check_mode, first_frame_problem
from soundstage.project import Project
from soundstage.script.breakdown import Shot, element_table

# The least share of a plate's first frame in the shot's screen colour for it to be keyed. The example plates
# (examples/moonlit-hanok/plates, actors on green and blue) measure 77%; a close-up leaves a third or more;
# a green sign or costume in a location plate is a few percent, which keying would wrongly cut out.
SCREEN_FOUND = 0.10
# What each plate was found to be, by file (size and modification time): a no-op render of a feature checks
# a thousand plates, and decoding each again would cost it ~40 ms a plate.
SURVEYS_FILE = "plates.json"


@dataclass(frozen=True)
class Survey:
    """A plate as probed, and how much of its first frame is each screen colour."""

    info: PlateInfo
    screens: dict[str, float]


def preflight(project: Project, shots: Sequence[Shot], generation: Generation, orders: Sequence[Order],
              ) -> list[SoundstageError]:
    """Every problem of these shots' plates and these takes' engines, each one line; empty when all is well."""
    problems: list[SoundstageError] = []
    kept = _read_surveys(project)
    known = dict(kept)
    for shot in shots:
        problems += _plate(project, shot, known)
        problems += _colour(project, shot)
        problems += _sound(project, shot, known)
        problems += _track(project, shot)
    if known != kept:
        with contextlib.suppress(OSError):      # only a saving: a full or read-only disk costs the next run time
            project.state_dir.mkdir(parents=True, exist_ok=True)
            write_text(project.state_dir / SURVEYS_FILE, json.dumps(known, indent=1, ensure_ascii=False))
    problems += _engines(generation, orders)
    return problems


def check(project: Project, shots: Sequence[Shot], generation: Generation, orders: Sequence[Order]) -> None:
    """Refuse, with every problem, before anything is generated."""
    problems = preflight(project, shots, generation, orders)
    if problems:
        raise PreflightError(problems)


def _plate(project: Project, shot: Shot, known: dict[str, Any]) -> list[SoundstageError]:
    if not shot.plate:
        return []
    path = project.inside(shot.plate, source=project.shots_file, key="plate")
    try:
        survey = _survey(path, known, _keyable(project, shot))
    except MediaError as exc:       # named as shots.toml names it, with the shot
        return [MediaError(exc.message, path=shot.plate, shot=shot.id, hint=exc.hint)]
    problems: list[SoundstageError] = list(plate_problems(project, shot, survey.info))
    try:
        plate_lens(project, shot, survey.info.width, survey.info.height)
    except ProjectError as exc:
        problems.append(exc)
    screen = _screen(shot, survey)
    return problems + ([screen] if screen else [])


def _colour(project: Project, shot: Shot) -> list[SoundstageError]:
    """The shot's colour spaces, config, CDL and LUT space, checked as the render will take them."""
    try:
        shot_colour(project, shot)
    except SoundstageError as exc:
        return [exc]
    return []


def _track(project: Project, shot: Shot) -> list[SoundstageError]:
    """A tracked camera needs a plate to track, or a track file inside the project that is there."""
    if shot.camera.track == "off":
        return []
    if not shot.plate:
        return [ProjectError("camera.track needs a plate whose camera moves", path=project.shots_file, shot=shot.id,
                             hint="give the shot a plate, or set camera.track = 'off'")]
    try:
        check_mode(shot.camera.track, project.root, shot.id)
    except SoundstageError as exc:
        return [exc]
    try:
        problem = first_frame_problem(project, shot)
    except MediaError:
        return []                   # the picture's check has said what is wrong with the plate
    return [problem] if problem else []


def _sound(project: Project, shot: Shot, known: dict[str, Any]) -> list[SoundstageError]:
    """The shot's production sound taken as the render will take it (the plate's audio decoded, a recorder's
    WAV read and synced), so a damaged stream or a WAV that cannot be synced is refused before any take. The
    verdict is kept while the files, the shot's length and the sound settings stay the same."""
    plate = project.inside(shot.plate, source=project.shots_file, key="plate") if shot.plate else None
    wav = None
    if shot.sound.wav:
        try:
            wav = project.inside(shot.sound.wav, source=project.shots_file, key="sound.wav")
        except SoundstageError as exc:
            exc.shot = shot.id
            return [exc]
        if not wav.is_file():
            return [MediaError("is not there", path=shot.sound.wav, shot=shot.id,
                               hint="put the recorder's file there, or take sound.wav out of the shot")]
    if plate is None and wav is None:
        return []
    files = [path for path in (plate, wav) if path is not None and path.is_file()]
    stamp = [[str(path), path.stat().st_size, path.stat().st_mtime_ns] for path in files] + \
        [shot.duration, project.settings.fps, project.settings.sound.retime, project.settings.sound.min_confidence]
    entry = known.get(f"sound {shot.id}")
    if entry is not None and entry.get("stamp") == stamp:
        error = entry.get("error")
        return [MediaError(error[0], path=error[1], shot=shot.id, hint=error[2])] if error else []
    problem = None
    try:
        info = probe_plate(plate) if plate is not None else None
    except MediaError:
        return []                   # the picture's check has said what is wrong with the plate
    try:
        mix_of_shot(project, shot, shot_frames(project, shot), plate=plate, info=info, takes={}, records=[])
    except MediaError as exc:
        named = shot.sound.wav if wav is not None and exc.path == wav else shot.plate
        problem = MediaError(exc.message, path=named, shot=shot.id, hint=exc.hint)
    known[f"sound {shot.id}"] = {"stamp": stamp, "error": [problem.message, str(problem.path), problem.hint]
                                 if problem else None}
    return [problem] if problem else []


def _keyable(project: Project, shot: Shot) -> tuple[str, Callable[[np.ndarray], np.ndarray]] | None:
    """How a colour-managed log plate is keyed (its video rendition), to find its screen as the key will; None
    for a plate keyed as it is (a bad colour name is ``_colour``'s to report)."""
    try:
        managed = shot_colour(project, shot)
    except SoundstageError:
        return None
    if managed is None or managed.space.is_video(managed.plate_space):
        return None
    return managed.plate_space, managed.keyable


def _survey(path: Path, known: dict[str, Any],
            keyable: tuple[str, Callable[[np.ndarray], np.ndarray]] | None = None) -> Survey:
    """The plate's survey: kept from an earlier run while the file is unchanged, else probed and kept.

    A plate that cannot be read is not kept: it is probed, and refused, every time until it is fixed."""
    stat = path.stat()
    stamp = [stat.st_size, stat.st_mtime_ns]
    name = str(path) if keyable is None else f"{path} as {keyable[0]}"
    entry = known.get(name)
    if entry is not None and entry.get("stamp") == stamp:
        try:
            fields = dict(entry["info"], path=path)
            fields["fps"] = Fraction(*fields["fps"]) if fields["fps"] else None
            return Survey(PlateInfo(**fields), dict(entry["screens"]))
        except (KeyError, TypeError, ValueError):
            pass                    # a survey an older soundstage wrote: probe again
    info = probe_plate(path)
    first = read_image(path)[..., :3] if info.still else next(read_frames(path))
    first = first if keyable is None else keyable[1](first)
    survey = Survey(info, {colour: screen_share(first, colour) for colour in ("green", "blue")})
    fields = {**asdict(info), "path": None, "fps": [info.fps.numerator, info.fps.denominator] if info.fps else None}
    known[name] = {"stamp": stamp, "info": fields, "screens": survey.screens}
    return survey


def _read_surveys(project: Project) -> dict[str, Any]:
    """The kept surveys; none when the file is missing or damaged (they are only a saving)."""
    try:
        kept = json.loads((project.state_dir / SURVEYS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return kept if isinstance(kept, dict) else {}


def _screen(shot: Shot, survey: Survey) -> MediaError | None:
    """The screen the shot names (``screen`` or ``key.screen_colour``) must cover ``SCREEN_FOUND`` of the first
    frame. With ``screen = "auto"`` a plate without one is a location plate, used as it is (the comp says so)."""
    named = screen_of(shot)
    channel = named.channel if isinstance(named, ScreenColour) else named
    if channel == "auto":
        return None
    share = survey.screens[channel]
    if share >= SCREEN_FOUND:
        return None
    other: Screen = "blue" if channel == "green" else "green"
    hint = (f"the plate is on {other}: set screen = '{other}' for the shot in shots.toml"
            if survey.screens[other] >= SCREEN_FOUND else
            "use the plate shot against the screen, or set screen = 'auto' to use a plate without one as it is")
    return MediaError(f"the shot's {channel} screen covers {share:.0%} of the plate's first frame (at least "
                      f"{SCREEN_FOUND:.0%} is needed to key it)", path=shot.plate, shot=shot.id, hint=hint)


def _engines(generation: Generation, orders: Sequence[Order]) -> list[SoundstageError]:
    problems: list[SoundstageError] = []
    unloadable: set[str] = set()
    for order in orders:
        shot = ", ".join(order.shots)
        if order.engine in unloadable:
            continue
        try:
            engine = generation.engine(order.engine)
        except SoundstageError as exc:      # not installed, or its [engines.<name>] table is wrong
            unloadable.add(order.engine)
            exc.shot = exc.shot or shot
            problems.append(exc)
            continue
        kind = order.request.kind
        if kind not in engine.kinds:
            makes = " and ".join(sorted(k.value + "s" for k in engine.kinds))
            problems.append(EngineError(f"the {order.engine} engine cannot make a {kind.value} (it makes {makes})",
                                        shot=shot, hint=_choose_engine(kind, order)))
        elif kind == AssetKind.ELEMENT and order.request.screen is None and \
                not makes_element(engine, order.request.element or ""):     # a cast member is made from its images
            known = ", ".join(_element_names(engine.elements or frozenset()))
            problems.append(EngineError(f"the {order.engine} engine cannot make the element "
                                        f"{order.request.element!r} (it makes {known})", shot=shot,
                                        hint=_choose_engine(kind, order)))
        else:
            problems += _conditioning(generation, order, shot)
    return problems


def _conditioning(generation: Generation, order: Order, shot: str) -> list[SoundstageError]:
    """The images that steer the take are images (of the take's shape, for its frames), and the engine can
    do what the take needs of it (a chain of extensions within its limit)."""
    request = order.request
    problems: list[SoundstageError] = []
    frames = [("first frame", request.first_frame), ("last frame", request.last_frame)]
    for what, path in [*frames, *((f"{r.role} reference", r.path) for r in request.references)]:
        if path is None:
            continue
        try:
            picture = read_image(path)
        except MediaError as exc:
            problems.append(MediaError(f"the {what} is not an image ({exc.message})", path=path, shot=shot,
                                       hint="give a PNG, JPEG or WebP picture"))
            continue
        if (what, path) in frames and generation.project.settings.plates.size == "refuse" and aspect_differs(
                picture.shape[1], picture.shape[0], request.width, request.height):
            problems.append(MediaError(
                f"the {what} is {picture.shape[1]}×{picture.shape[0]}, another shape than the take's "
                f"{request.width}×{request.height}", path=path, shot=shot,
                hint="set [plates] size = 'fit' or 'fill' in soundstage.toml to conform it"))
    if problems:
        return problems
    refused = generation.conditioning(order).refused
    if refused:
        problems.append(EngineError(f"the {order.engine} engine cannot take {', '.join(refused)} for "
                                    f"{order.slot}", shot=shot,
                                    hint="give the shot an engine that can in shots.toml, or ask less of it"))
    return problems


def _element_names(answers_to: frozenset[str]) -> list[str]:
    """What an engine makes, said by the names in elements.toml rather than by every word it answers to."""
    vocabulary = element_table()["element"]
    words = {word.lower() for item in vocabulary for word in (*item["words"], *item.get("names", ()))}
    named = {item["name"] for item in vocabulary if item["name"] in answers_to}
    return sorted(named | {name for name in answers_to if name.isascii() and name not in words})


def _choose_engine(kind: AssetKind, order: Order) -> str:
    if kind == AssetKind.SET:
        return "set engine in soundstage.toml to one that makes sets"
    other = "background = 'still'" if kind == AssetKind.BACKGROUND else \
        f"take {order.request.element!r} out of its elements"
    return f"give the shot an engine that makes it in shots.toml, e.g. engine = 'google'; or {other}"
