"""One shot: its key (what it is made from), and its render (key, comp and encode of every frame).

``render_shot`` runs wherever the executor puts it (this process, a local worker, a Ray worker); it only
reads the project and the takes it is given, and writes the shot's files atomically. Whether a shot needs
rendering, and the ledger, are the rendering process's business (``pipeline.render``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import json
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from soundstage import __version__
from soundstage.atomic import PARTIAL
from soundstage.comp import ScreenColour, key, measure_chroma, measure_screen
from soundstage.comp.camera import CameraMove
from soundstage.comp.colour import ShotColour, comp_space, defocused, plate_tag_warning
from soundstage.comp.depth import estimate_depth
from soundstage.comp.follow import followed, pinned, tracked_background
from soundstage.comp.grade import Cdl, Lut3D
from soundstage.comp.lens import Lens
from soundstage.comp.light import defocus
from soundstage.comp.matte import Roto
from soundstage.comp.placement import Placement
from soundstage.comp.shot import Element, Look, ShotComp
from soundstage.comp.track import Track
from soundstage.edit.labels import shot_label_key, with_mark
from soundstage.errors import ColourError, MediaError, ProjectError
from soundstage.keys import content_key, file_digest
from soundstage.media import (
    STILL_SUFFIXES,
    Background,
    FrameWriter,
    PlateInfo,
    conform_rate,
    conform_size,
    open_writer,
    probe_plate,
    read_frames,
    read_image,
)
from soundstage.media.exr import ExrSpace
from soundstage.media.probe import file_colour
from soundstage.media.video import assumed_matrix
from soundstage.pipeline.sound import mix_of_shot, write_shot_stems
from soundstage.pipeline.storage import publish
from soundstage.pipeline.track import keeps_frames, shot_track, track_file
from soundstage.project import Project
from soundstage.provenance.credentials import sign_shot, sign_shot_stems
from soundstage.provenance.record import mark_key, mark_payload
from soundstage.provenance.signer import project_signer
from soundstage.provenance.watermark import embed
from soundstage.records.settings import STEMS, ElementPlacement
from soundstage.records.shot import (
    LayerRecord,
    ShotRecord,
    measured,
    record_path,
    shot_stem_path,
    write_shot_record,
)
from soundstage.records.source import AssetKind
from soundstage.records.take import TakeFile
from soundstage.script.breakdown import Shot
from soundstage.takes import background_slot, element_slot, set_slot
from soundstage.takes.store import GENERATED_SPACE, TAKE_FILE

# Bump when a change to the render code changes its pixels, so old renders are not reused.
RENDER_CODE = f"{__version__}/render-9"   # 9: takes through their own colour space; untagged HD plates BT.709;
#                                             markers touching the actor; markers only where tracked

# Elements that fall between the camera and the actors; everything else plays behind them (unless placed).
FRONT_ELEMENTS = frozenset({"rain", "snow", "fog", "sparks"})
# Elements that fill the frame, left where they were generated; the rest keep off the actor's face.
FILL_ELEMENTS = frozenset({"rain", "snow", "fog"})
# Elements bright enough to light the actors near them.
LIGHT_ELEMENTS = frozenset({"fire", "explosion", "magic", "sparks", "lantern", "wisp"})


def shot_frames(project: Project, shot: Shot) -> int:
    return max(1, round(shot.duration * project.settings.fps))


def shot_key(project: Project, shot: Shot, take_keys: dict[str, str]) -> str:
    """Everything the shot's pixels depend on: its settings, its takes, the project's format and the contents
    of its plate, clean plate and LUT. Not its prompt or engine: those reach it through its takes' keys."""
    settings = project.settings
    width, height = settings.resolution
    files = [_shot_file(project, relative, key) for relative, key in
             ((shot.plate, "plate"), (shot.key.clean_plate, "key.clean_plate"), (shot.comp.lut, "comp.lut"),
              (shot.sound.wav, "sound.wav"), (shot.comp.cdl, "comp.cdl"),
              (track_file(shot.camera.track), "camera.track"))]
    colour = settings.colour.model_dump() if settings.colour is not None else None
    return content_key(RENDER_CODE, "shot", shot.model_dump(exclude={"prompt", "seed", "engine", "lines"}),
                       shot.seed if shot.comp.grain == "match" else None, sorted(take_keys.items()),
                       settings.fps, width, height, settings.plates.model_dump(),
                       settings.sound.model_dump(include={"retime", "min_confidence", "gain"}),
                       [file_digest(path) if path else None for path in files], shot_label_key(project),
                       *([colour, settings.plates.space] if colour is not None else []))


def shot_outputs(project: Project, shot: Shot) -> list[Path]:
    """The files a finished shot has: the review movie first, then each finishing master as published, then
    its record (what made its pixels: ``records.shot``)."""
    masters = [_published(master_path(project.out_dir, shot.id, kind)) for kind in project.settings.render.deliver]
    stems = [shot_stem_path(project, shot.id, stem) for stem in STEMS]
    return [project.out_dir / "shots" / f"{shot.id}.mp4", *masters, *stems, record_path(project, shot.id)]


def render_shot(project: Project, shot: Shot, layers: dict[str, list[Path]], takes: list[LayerRecord], key: str,
                progress: Callable[[int, int], None], *, track: Track | None = None) -> list[str]:
    """Key, comp and encode the shot from its takes' files (``layers``: slot → files); returns its warnings.

    ``takes`` are the layers' takes as the record names them and ``key`` the shot's render key, from which its
    watermark is made. Every output is written to a temporary beside it and renamed into place when
    complete, then signed; the record is written last, so a shot with a record is a finished one.

    With the plate's ``track`` (its solved camera; when not given and ``camera.track`` asks for one, it comes from
    the shot's track take, solved and stored there the first time) the set, the elements behind the actors and the
    clean plate follow the camera, the set blurred by the shot's shutter; the shot's lens bends the set and those
    elements like the plate.
    """
    started = time.perf_counter()
    settings = project.settings
    width, height = settings.resolution
    frames = shot_frames(project, shot)
    plate = _shot_file(project, shot.plate, "plate")
    clean_plate = _shot_file(project, shot.key.clean_plate, "key.clean_plate")
    lut = _shot_file(project, shot.comp.lut, "comp.lut")
    outputs = [project.out_dir / "shots" / f"{shot.id}.mp4",
               *(master_path(project.out_dir, shot.id, kind) for kind in settings.render.deliver)]
    signer = project_signer(project)
    written = [staged_path(path) if signer is not None else path for path in outputs]   # signed on the way out
    warnings: list[str] = []

    plates = None
    info = None
    bend = None                 # the plate's lens, on its own frame
    if plate is not None:
        info = probe_plate(plate)
        for problem in plate_problems(project, shot, info):
            raise problem
        guessed = None if info.still else assumed_matrix(plate)
        warnings += [f"plate {shot.plate}: {guessed}"] if guessed else []
        if (info.width, info.height) != (width, height):   # conformed, as [plates] size allows: said once
            warnings.append(f"plate {shot.plate} is {info.width}×{info.height}; scaled to {settings.plates.size} the "
                            f"{width}×{height} frame, aspect kept ([plates] size = '{settings.plates.size}')")
        bend = plate_lens(project, shot, info.width, info.height)
        decoded: list[np.ndarray] = []      # a first solve's decode, handed to the comp: the plate is read once
        if track is None:       # the set follows it (camera.track); None: not tracked, or locked off
            track = shot_track(project, shot, warn=warnings.append,    # solved in undistorted pixels
                               undistort=bend.undistort_points if bend is not None else None,
                               keep=decoded if keeps_frames(info) else None)
        plates = _plate_frames(plate, info, frames, settings.fps, shot, decoded=decoded)
    sound = mix_of_shot(project, shot, frames, plate=plate, info=info, takes=layers, records=takes)
    warnings += sound.warnings
    mix = sound.mix.samples
    takes = [layer for layer in takes if layer.role != AssetKind.SOUND]    # the picture's layers
    first = next(plates) if plates is not None else None
    payload = mark_payload(key) if settings.provenance.watermark else None
    mark = functools.partial(embed, payload=payload, key=mark_key(project)) if payload is not None else None
    managed = shot_colour(project, shot)
    if managed is not None and plate is not None:
        said = plate_tag_warning(managed.space, managed.plate_space, file_colour(plate))
        warnings += [f"plate {shot.plate}: {said}"] if said else []
    follow, lens = _on_frame(project, info, bend, track)
    comp = _shot_comp(project, shot, layers, first, _look(shot, lut), clean_plate, warnings.append, mark=mark,
                      managed=managed, follow=follow, lens=lens)
    _follow_clean_plate(comp, track, bend)
    moving = layers.get(background_slot(shot.id))
    backgrounds = _moving_frames(moving[0], frames, width, height) if moving else None
    pictures = itertools.chain([first], plates) if plates is not None and first is not None else None
    with contextlib.ExitStack() as stack:
        def opened(path: Path) -> FrameWriter:
            writer = open_writer(path, width=width, height=height, fps=settings.fps, alpha=False, sound=mix,
                                 exr_space=master_space(managed))
            # The review movie, which the timelines link, carries the AI label; the finishing masters stay clean.
            showing = [layer for layer in measured(takes, comp.may_show())[0] if layer.share > 0]
            return with_mark(writer, project, shot.id, showing) if path == written[0] else writer

        # Each writer encodes in its own thread; comped frames are never changed after, so none is copied.
        writers = [stack.enter_context(Background(opened(path), copy=False)) for path in written]
        comped = comp.render(writers, plates=pictures, backgrounds=backgrounds, threads=settings.render.threads,
                             on_frame=lambda done: progress(done, frames),
                             linear=[False, *(kind == "exr" for kind in settings.render.deliver)])
    stems = [shot_stem_path(project, shot.id, stem) for stem in STEMS]
    try:
        write_shot_stems(project, shot.id, sound)
        placed, shares = measured(takes, comped.coverage)
        record = ShotRecord(shot.id, shot.scene, frames, settings.fps, width, height, shot.plate, layers=placed,
                            watermark=payload.hex() if payload is not None else None, key=key,
                            render_seconds=round(time.perf_counter() - started, 3),
                            rendered_at=datetime.now(UTC).isoformat(timespec="seconds"), sound=tuple(sound.records),
                            track_unsolved=track.unsolved if track else (), track_jumps=track.jumps if track else (),
                            **shares)
        if signer is not None:
            sign_shot([(_published(w), _published(path)) for w, path in zip(written, outputs, strict=True)],
                      record, signer, plate=plate, takes={slot: files[0] for slot, files in layers.items()})
            sign_shot_stems(project, record, signer, takes={slot: files[0] for slot, files in layers.items()})
    except BaseException:
        for stem in stems:      # a shot that did not finish leaves no unsigned stem (a re-run makes them)
            stem.unlink(missing_ok=True)
        raise
    finally:
        for leftover in map(_published, written) if signer is not None else ():   # what did not make it out
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
    write_shot_record(project, record)
    publish(settings.render.storage, project.root, shot_outputs(project, shot))   # from the worker that made it
    return warnings


def _on_frame(project: Project, info: PlateInfo | None, bend: Lens | None, track: Track | None,
              ) -> tuple[np.ndarray | None, Lens | None]:
    """The plate's solved camera and lens on the project's frame (as ``conform_size`` places the plate): the
    homographies in frame px (None: not tracked) and the lens (None: none given)."""
    if bend is None and track is None:
        return None, None
    width, height = project.settings.resolution
    plate_size = (info.width, info.height) if info is not None else (width, height)
    to_frame = _plate_to_frame(plate_size, (width, height), project.settings.plates.size)
    lens = bend.moved(to_frame, width, height) if bend is not None else None
    follow = to_frame @ np.asarray(track.homographies, np.float64) @ np.linalg.inv(to_frame) \
        if track is not None else None
    return follow, lens


def _follow_clean_plate(comp: ShotComp, track: Track | None, bend: Lens | None) -> None:
    """The shot's clean plate moved by the camera, frame by frame (keyed at the plate's own size)."""
    if track is not None and "clean_plate" in comp.key_options:
        comp.clean_plates = followed(comp.key_options["clean_plate"], track.homographies, lens=bend)


def _shot_comp(project: Project, shot: Shot, layers: dict[str, list[Path]], first: np.ndarray | None, look: Look,
               clean_plate: Path | None, warn: Callable[[str], None], mark: Any = None,
               managed: ShotColour | None = None, follow: np.ndarray | None = None,
               lens: Lens | None = None) -> ShotComp:
    """The shot's comp, prepared on its first plate frame with ``look``: on the plate's solved camera
    (``follow``: homographies in frame px) and bent by its ``lens``, where it has them."""
    settings = project.settings
    width, height = settings.resolution
    frames = shot_frames(project, shot)
    elements = _elements(layers, shot, width, height, settings.fps)
    if follow is not None or lens is not None:   # what plays behind the actors is in the set; rain falls in front
        pin = pinned(follow if follow is not None else np.repeat(np.eye(3)[None], frames, axis=0), lens=lens)
        elements = [e if e.front else dataclasses.replace(e, pin=pin) for e in elements]
    set_space = still_space = None
    if managed is not None:     # each take enters the working space through the space it recorded
        colour = managed.space

        def checked(files: list[Path]) -> str | None:
            space = take_space(files)
            try:
                return None if space is None else colour.name(space, "take colour space")
            except ColourError as exc:
                raise ColourError(exc.message, path=files[0], shot=shot.id, hint="the take's take.json says it") \
                    from None

        still_space = checked(layers[set_slot(shot.set)])
        moving = layers.get(background_slot(shot.id))      # a moving background plays in place of the still
        set_space = checked(moving) if moving else still_space
        elements = [dataclasses.replace(e, space=checked(layers[element_slot(shot.id, e.name)])) for e in elements]
    comp = ShotComp.prepare(
        width=width, height=height, frames=frames, seed=shot.seed, warn=warn,
        background=_background(layers, shot, frames, width, height, follow=follow, lens=lens, managed=managed,
                               space=still_space),
        elements=elements, look=look, depth=_placement_depth(layers, shot),
        first_plate=first, screen=screen_of(shot), plate_fit=None if settings.plates.size == "refuse" else
        settings.plates.size, key_options=_key_options(shot, first, clean_plate), mark=mark, managed=managed)
    comp.markers = clears_markers(shot)
    comp.set_space = set_space
    return comp


def clears_markers(shot: Shot) -> bool:
    """Whether the shot's plate is cleared of tracking markers: as ``key.markers`` says, else where its camera is
    tracked. A locked-off screen has none, and a small dark patch at the actor's rim (a headset's edge) can pass
    for one, so an untracked shot keeps every speck of its matte."""
    return shot.key.markers if shot.key.markers is not None else shot.camera.track != "off"


def take_space(files: list[Path]) -> str | None:
    """The colour space a take recorded in the take.json beside its files; None where it is the generated
    default (an engine that said nothing: the project's ``[colour] generated`` display holds) or unrecorded."""
    for folder in files[0].parents[:3]:
        record = folder / TAKE_FILE
        if record.is_file():
            said = TakeFile.from_dict(json.loads(record.read_text("utf-8"))).colour_space
            return None if said in ("", GENERATED_SPACE) else said
    return None


def compare_shot(project: Project, shot: Shot, layers: dict[str, list[Path]], path: Path) -> list[str]:
    """Write ``path``: the shot's comp without its integration (left) beside it with (right), each at half size,
    so a crew sees what the colour match, light wrap, shadows, interactive light and relight buy. Elements
    are placed alike in both; the grade and grain are kept; both follow the plate's camera and lens as the render
    does (its track take). Returns the comp's warnings.
    """
    settings = project.settings
    width, height = settings.resolution
    frames = shot_frames(project, shot)
    plate = _shot_file(project, shot.plate, "plate")
    clean_plate = _shot_file(project, shot.key.clean_plate, "key.clean_plate")
    lut = _shot_file(project, shot.comp.lut, "comp.lut")
    warnings: list[str] = []
    info = probe_plate(plate) if plate is not None else None
    bend = plate_lens(project, shot, info.width, info.height) if info is not None else None
    track = shot_track(project, shot, warn=warnings.append,    # on the plate's camera, as the render is
                       undistort=bend.undistort_points if bend is not None else None) if plate is not None else None
    follow, lens = _on_frame(project, info, bend, track)
    plates = _plate_frames(plate, info, frames, settings.fps, shot) if plate is not None and info is not None else None
    first = next(plates) if plates is not None else None
    look = _look(shot, lut)
    plain = dataclasses.replace(look, match_colour=0.0, light_wrap=0.0, shadow=0.0, contact=0.0,
                                interactive_light=0.0, relight=0.0)
    managed = shot_colour(project, shot)
    sides = [_shot_comp(project, shot, layers, first, chosen, clean_plate, warnings.append, managed=managed,
                        follow=follow, lens=lens) for chosen in (plain, look)]
    for side in sides:
        _follow_clean_plate(side, track, bend)
    half = (width // 4 * 2, height // 4 * 2)
    moving = layers.get(background_slot(shot.id))
    backgrounds = _moving_frames(moving[0], frames, width, height) if moving else None
    pictures = itertools.chain([first], plates) if plates is not None and first is not None else None
    with open_writer(path, width=2 * half[0], height=half[1], fps=settings.fps, alpha=False) as writer:
        for index in range(frames):
            picture = next(pictures) if pictures is not None else None
            backdrop = next(backgrounds) if backgrounds is not None else None
            writer.write(np.hstack([cv2.resize(side.frame(index, picture, backdrop), half,
                                               interpolation=cv2.INTER_AREA) for side in sides]))
    return warnings


def master_path(out_dir: Path, shot_id: str, kind: str) -> Path:
    """Where a shot's finishing master goes: ProRes 4444 ``.mov``, or a folder of numbered PNG / EXR frames."""
    if kind == "prores":
        return out_dir / "masters" / f"{shot_id}.mov"
    return out_dir / "masters" / f"{shot_id}_{kind}" / f"{shot_id}.%04d.{kind}"


def staged_path(path: Path) -> Path:
    """Where an output is written before it is signed into place: a partial beside it (a killed run's is swept).
    Signed on its way to its final name, a file there is never an unsigned one."""
    folder = _published(path)
    staged = folder.with_name(f".{folder.stem}.signing{PARTIAL}{folder.suffix}")
    return staged / path.name if folder != path else staged


def _published(path: Path) -> Path:
    """What appears when a writer finishes: the file, or for a numbered sequence its folder."""
    return path.parent if "%" in path.name else path


def shot_colour(project: Project, shot: Shot) -> ShotColour | None:
    """The shot's colour as ``[colour]`` and shots.toml declare it, every name checked; None without ``[colour]``."""
    colour = project.settings.colour
    if colour is None:
        return None
    config = colour.config if colour.config.startswith("ocio://") else \
        str(project.inside(colour.config, source=project.settings_path, key="colour.config"))
    try:
        space = comp_space(config, colour.working, colour.display, colour.view, colour.generated)
    except ColourError as exc:      # a name in [colour]: said of soundstage.toml (a broken .ocio names itself)
        raise ColourError(exc.message, path=exc.path or project.settings_path, hint=exc.hint) from None
    cdl = _shot_file(project, shot.comp.cdl, "comp.cdl")
    try:
        return ShotColour.open(space, plate_space=shot.plate_space or project.settings.plates.space,
                               cdl=Cdl.read(cdl) if cdl else None, cdl_space=shot.comp.cdl_space,
                               lut_space=shot.comp.lut_space)
    except ColourError as exc:
        raise ColourError(exc.message, path=project.shots_file, shot=shot.id, hint=exc.hint) from None


def master_space(managed: ShotColour | None) -> ExrSpace | None:
    """What a colour-managed shot's EXR master holds: its working space, by name, interop id and primaries."""
    if managed is None:
        return None
    space = managed.space
    return ExrSpace(space.working, space.interop_id(), space.chromaticities())


def _shot_file(project: Project, relative: str | None, key: str) -> Path | None:
    return project.inside(relative, source=project.shots_file, key=key) if relative else None


def screen_of(shot: Shot) -> ScreenColour | Literal["auto", "green", "blue"]:
    """The shot's screen: the colour the crew gave, else measured (of the channel they named, or either)."""
    if shot.key.screen_colour is None:
        return shot.screen
    rgb = tuple(c / 255.0 for c in shot.key.screen_colour)
    channel = shot.screen if shot.screen != "auto" else ("green" if rgb[1] >= rgb[2] else "blue")
    return ScreenColour(rgb=(rgb[0], rgb[1], rgb[2]), channel=channel)


def _key_options(shot: Shot, plate: np.ndarray | None, clean_plate: Path | None) -> dict[str, Any]:
    """The shot's key settings as ``key()`` takes them, with roto and clean plate at the plate's own size."""
    k = shot.key
    options = k.keyer_arguments()
    if plate is None:
        return options
    height, width = plate.shape[:2]
    if k.keep or k.garbage or k.core:
        options["roto"] = Roto.build(width, height, keep=k.keep, garbage=k.garbage, core=k.core, feather=k.feather)
    if clean_plate is not None:
        picture = read_image(clean_plate)[..., :3] if clean_plate.suffix.lower() in STILL_SUFFIXES else \
            next(iter(read_frames(clean_plate)))
        if picture.shape != plate.shape:
            raise MediaError(f"clean plate is {picture.shape[1]}×{picture.shape[0]} but the plate is "
                             f"{width}×{height}", path=clean_plate, shot=shot.id,
                             hint="shoot the clean plate with the same camera set-up")
        options["clean_plate"] = picture
    return options


def _look(shot: Shot, lut: Path | None) -> Look:
    c = shot.comp
    return Look(match_colour=c.match_colour, light_wrap=c.light_wrap, grain=c.grain == "match",
                motion_blur=c.motion_blur, lut=Lut3D.read(lut) if lut else None, shadow=c.shadow,
                contact=c.contact, interactive_light=c.interactive_light, relight=c.relight, light=c.light)


def _placement_depth(layers: dict[str, list[Path]], shot: Shot) -> np.ndarray | None:
    """The set's depth, where an element is placed in metres against it; None where none is."""
    if not any(p.depth is not None for p in shot.placements):
        return None
    return estimate_depth(read_image(layers[set_slot(shot.set)][0])[..., :3])


def _background(layers: dict[str, list[Path]], shot: Shot, frames: int, width: int, height: int, *,
                follow: np.ndarray | None = None, lens: Lens | None = None, managed: ShotColour | None = None,
                space: str | None = None) -> Callable[[int], np.ndarray]:
    """The set as the camera sees it, frame by frame (defocused and moved as the shot asks): on the plate's
    solved camera (``follow``: homographies in frame px) if it was tracked, bent by the plate's ``lens``.
    Colour-managed, the defocus runs in scene-linear light (the set's take in its recorded ``space``)."""
    still = read_image(layers[set_slot(shot.set)][0])[..., :3]
    camera = CameraMove(shot.camera.move, shot.camera.amount, shot.camera.parallax)
    depth = estimate_depth(still) if shot.camera.parallax > 0 or shot.comp.defocus > 0 else None
    if depth is not None and shot.comp.defocus > 0:
        still = defocus(still, depth, focus=shot.comp.focus, amount=shot.comp.defocus) if managed is None else \
            defocused(managed.space, still, depth, focus=shot.comp.focus, amount=shot.comp.defocus, take_space=space)
    if follow is not None:
        return tracked_background(still, follow, width, height, depth=depth, parallax=shot.camera.parallax,
                                  lens=lens, shutter=shot.camera.shutter)
    rig = camera.prepare(still, width, height, depth=depth if shot.camera.parallax > 0 else None,
                         frames=frames, shutter=shot.comp.motion_blur)
    return rig if lens is None or lens.straight else lambda index: lens.distort(rig(index))


def plate_lens(project: Project, shot: Shot, width: int, height: int) -> Lens | None:
    """The shot's lens on its plate's own ``width`` × ``height`` frame (intrinsics default from that size);
    one that cannot be inverted is refused naming shots.toml and the shot."""
    if shot.camera.lens is None:
        return None
    try:
        return Lens.for_frame(width, height, **shot.camera.lens.model_dump())
    except ProjectError as exc:
        raise ProjectError(exc.message, path=project.shots_file, shot=shot.id, hint=exc.hint) from None


def _plate_to_frame(plate: tuple[int, int], frame: tuple[int, int], mode: str) -> np.ndarray:
    """Plate px → frame px as ``conform_size`` places a plate of another size (fit: scaled in; fill: cropped)."""
    (pw, ph), (width, height) = plate, frame
    if (pw, ph) == (width, height):
        return np.eye(3)
    if mode == "fit":
        scale = min(width / pw, height / ph)
        new_w, new_h = min(width, max(1, round(pw * scale))), min(height, max(1, round(ph * scale)))
        sx, sy, left, top = new_w / pw, new_h / ph, float((width - new_w) // 2), float((height - new_h) // 2)
    else:
        scale = max(width / pw, height / ph)
        crop_w, crop_h = min(pw, max(1, round(width / scale))), min(ph, max(1, round(height / scale)))
        sx, sy = width / crop_w, height / crop_h
        left, top = -((pw - crop_w) // 2) * sx, -((ph - crop_h) // 2) * sy
    # pixel centres: x' + ½ = (x + ½)·sx + left
    return np.array([[sx, 0, left + 0.5 * sx - 0.5], [0, sy, top + 0.5 * sy - 0.5], [0, 0, 1]], np.float64)


def _elements(layers: dict[str, list[Path]], shot: Shot, width: int, height: int, fps: float) -> list[Element]:
    """The shot's elements as placed: in front or behind as shots.toml or the script says, else by kind."""
    found = []
    for placed in shot.placements or [ElementPlacement(name=name) for name in shot.elements]:
        name = placed.name
        files = layers[element_slot(shot.id, name)]
        front = placed.order == "front" if placed.order is not None else name in FRONT_ELEMENTS
        placement = Placement(at=placed.at, scale=placed.scale, to=placed.to, start=round(placed.start * fps),
                              anchor=placed.anchor, depth=placed.depth, fill=name in FILL_ELEMENTS)
        frames = _element_frames(files, width, height)
        cast = name in shot.cast
        found.append(Element(name, _keyed(frames, files[0], shot.id) if cast else frames,
                             shot.comp.blend.get(name, "over"), front=front, placement=placement,
                             light=name in LIGHT_ELEMENTS, wrap=cast))
    return found


def _keyed(frames: Callable[[int], np.ndarray], first_file: Path, shot: str) -> Callable[[int], np.ndarray]:
    """A cast member's frames keyed from the chroma screen it was made on, by the keyer that keys the plates;
    the screen measured once, on its first frame, so the key holds still. Frames that came with an alpha of
    their own (an engine that cuts its subject out) are used as they are."""
    first = frames(0)
    if (first[..., 3] < 255).any():
        return frames
    try:
        screen, chroma = measure_screen(first[..., :3], "auto"), measure_chroma(first[..., :3])
    except MediaError as exc:
        raise MediaError(f"the cast member's take has no screen to key it from ({exc.message})", path=first_file,
                         shot=shot, hint="make the take again, or approve one made on its green or blue screen") \
            from None

    @functools.lru_cache(maxsize=6)
    def at(index: int) -> np.ndarray:
        fg, matte = key(np.ascontiguousarray(frames(index)[..., :3]), screen, chroma=chroma)
        return np.dstack([fg, matte])

    return at


def _element_frames(files: list[Path], width: int, height: int) -> Callable[[int], np.ndarray]:
    """An element's frames, looped if shorter than the shot; a few kept decoded (motion blur reads two)."""
    @functools.lru_cache(maxsize=6)
    def at(index: int) -> np.ndarray:
        rgba = read_image(files[index % len(files)])
        if rgba.shape[:2] != (height, width):
            raise MediaError(f"element frame is {rgba.shape[1]}×{rgba.shape[0]}, the project is {width}×{height}",
                             path=files[index % len(files)])
        return rgba if rgba.shape[2] == 4 else np.dstack([rgba, np.full(rgba.shape[:2], 255, np.uint8)])

    return at


def _moving_frames(video: Path, frames: int, width: int, height: int) -> Iterator[np.ndarray]:
    """A moving background's frames at the project's size; a short one holds its last frame."""
    last = None
    count = 0
    for picture in read_frames(video, prefetch=4):
        if count == frames:
            return
        last = picture if picture.shape[:2] == (height, width) else conform_size(picture, width, height, "fill")
        count += 1
        yield last
    if last is None:
        raise MediaError("the moving background has no frames", path=video)
    for _ in range(frames - count):
        yield last


def _handed_over(frames: list[np.ndarray]) -> Iterator[np.ndarray]:
    """``frames`` in order, each let go of as it is taken (a shot's decoded plate is ~6 MB a 1080p frame)."""
    frames.reverse()
    while frames:
        yield frames.pop()


def plate_problems(project: Project, shot: Shot, info: PlateInfo) -> list[MediaError]:
    """Everything that keeps the plate from filling the shot under ``[plates]``, each naming the plate (as
    shots.toml writes it) and the shot and saying what to do. A still has no rate: it is held for the shot."""
    settings = project.settings
    width, height = settings.resolution
    fps, policy = settings.fps, settings.plates
    where: dict[str, Any] = {"path": shot.plate, "shot": shot.id}
    problems = []
    if (info.width, info.height) != (width, height) and policy.size == "refuse":
        problems.append(MediaError(f"plate is {info.width}×{info.height} but the project is {width}×{height}",
                                   hint="set [plates] size = 'fit' or 'fill' in soundstage.toml to conform it",
                                   **where))
    if info.fps is None:
        return problems
    rate = float(info.fps)
    retimed = abs(rate - fps) > 0.01
    if retimed and policy.rate == "refuse":
        problems.append(MediaError(f"plate runs at {rate:g} fps but the project is {fps:g} fps",
                                   hint="conform the plate, or set [plates] rate = 'retime' in soundstage.toml",
                                   **where))
    available = info.frames or int((info.duration or 0.0) * rate + 0.5)
    available = int(available * fps / rate) if retimed else available
    frames = shot_frames(project, shot)
    if available and available < frames:
        problems.append(MediaError(f"plate has {available} frames but the shot needs {frames} ({shot.duration:g} s)",
                                   hint=f"shorten the shot's duration in shots.toml to {available / fps:g} s",
                                   **where))
    return problems


def _plate_frames(plate: Path, info: PlateInfo, frames: int, fps: float, shot: Shot,
                  decoded: list[np.ndarray] | None = None) -> Iterator[np.ndarray]:
    """The plate's frames at the project's rate, at their own size (the comp conforms them after the key, so
    letterbox bars are transparent); a still is held for the whole shot. ``plate_problems`` is asked first.
    ``decoded``: the plate's frames already decoded (by its solve), taken from there as they go, not read again."""
    if info.still:
        picture = read_image(plate)[..., :3]
        for _ in range(frames):
            yield picture.copy()      # each frame its own, as a clip's are
        return
    rate = float(info.fps or fps)
    pictures: Iterator[np.ndarray] = _handed_over(decoded) if decoded else read_frames(plate, prefetch=4)
    if abs(rate - fps) > 0.01:
        pictures = conform_rate(pictures, rate, fps)
    count = 0
    for picture in pictures:
        if count == frames:
            return
        count += 1
        yield picture
    if count < frames:
        raise MediaError(f"plate ended after {count} frames; the shot needs {frames}", path=plate, shot=shot.id)
