"""Track a plate's camera: the ``soundstage track`` command, and a shot's track take, cached like a key.

The actor is kept out of the solve with the plate's own key (the screen measured once, on the first frame), so
a moving actor never drags the camera. A shot's track is stored as a CSV (the same file ``soundstage track``
writes) under ``.soundstage/tracks/``, named by the plate's content key and the track settings: a re-render
reads it back instead of solving again, and ``soundstage plan`` says which shots have one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from soundstage.comp.track import Track, track_plate, trackable
from soundstage.comp.trackfile import read_track, rows, write_track
from soundstage.errors import MediaError, ProjectError
from soundstage.keys import content_key, file_digest
from soundstage.media import PlateInfo, ahead, probe_plate, read_frames, read_proxies
from soundstage.project import Project
from soundstage.records.settings import TRACK_MODES
from soundstage.script.breakdown import Shot

TRACK_FILES = (".csv", ".chan")
TRACK_CODE = "track-2"     # bump when the solver's output changes, so old track takes are not reused (2: half size)


class NothingToTrack(MediaError):
    """A plate with no markers or texture to follow in any frame: its camera cannot be solved."""


def frame_list(frames: Sequence[int]) -> str:
    """Frames as a crew reads them: ``0-3, 7, 9-10``."""
    spans: list[list[int]] = []
    for f in sorted(frames):
        if spans and f == spans[-1][1] + 1:
            spans[-1][1] = f
        else:
            spans.append([f, f])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def actor_only(matte: np.ndarray) -> np.ndarray:
    """The key's matte without its specks: the screen's tracking markers are not screen-coloured, so the key
    holds them, but they are what the tracker must see. Blobs smaller than (width / 50)² go; the actor stays."""
    solid = (matte > 127).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    keep = np.zeros(count, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= (matte.shape[1] / 50) ** 2
    return np.where(keep[labels], np.uint8(255), np.uint8(0))


PROXY_WIDTH = 320     # px: the rough key that keeps the actor out of the solve is pulled about this wide
KEEP_BYTES = 1 << 30  # a plate whose decoded frames fit in this is decoded once for its track and comp


def keeps_frames(info: PlateInfo) -> bool:
    """Whether a plate's decoded frames (RGB) are small enough to be kept from its solve for its comp: a first
    render then decodes it once (~11 ms a 1080p frame). 1 GiB: ~170 frames of 1080p, ~40 of 4K."""
    return not info.still and bool(info.frames) and info.frames * info.width * info.height * 3 <= KEEP_BYTES


def actor_mattes(screen: str = "auto") -> Callable[[int, np.ndarray], np.ndarray | None]:
    """The plate's own key, as the tracker's actor mattes (markers left out, see :func:`actor_only`): the screen
    measured once, on the first frame. A plate with no backing screen has no matte (all of it is tracked)."""
    rough = proxy_mattes(screen)

    def matte(index: int, frame: np.ndarray) -> np.ndarray | None:
        # keyed on a proxy PROXY_WIDTH px wide: the tracker only needs to know where the actor is (it grows the matte)
        height, width = frame.shape[:2]
        step = max(1, width // PROXY_WIDTH)
        small = cv2.resize(frame[..., :3], (width // step, height // step), interpolation=cv2.INTER_AREA)
        actor = rough(small)
        return cv2.resize(actor, (width, height), interpolation=cv2.INTER_LINEAR) if step > 1 and actor is not None \
            else actor

    return matte


def proxy_mattes(screen: str = "auto") -> Callable[[np.ndarray], np.ndarray | None]:
    """The actor's matte from a small proxy of each frame (H×W×3), at the proxy's size: a rough key, the screen
    measured once on the first proxy, specks dropped (:func:`actor_only`); None for a plate with no screen."""
    from soundstage.comp import key, measure_chroma, measure_screen

    measured: dict[str, object] = {}

    def matte(small: np.ndarray) -> np.ndarray | None:
        if not measured:
            try:
                measured["screen"] = measure_screen(small, screen)  # type: ignore[arg-type]
                measured["chroma"] = measure_chroma(small)
            except MediaError:
                measured["screen"] = None
        if measured["screen"] is None:
            return None
        _, alpha = key(small, measured["screen"], despill=None, refine=0,  # type: ignore[arg-type]
                       chroma=measured["chroma"])  # type: ignore[arg-type]
        return actor_only(alpha)       # on the small matte: a full-size labelling costs ~20 ms a 1080p frame

    return matte


def track_source(source: Path, *, model: str = "auto", screen: str = "auto",
                 undistort: Callable[[np.ndarray], np.ndarray] | None = None,
                 keep: list[np.ndarray] | None = None) -> tuple[Track, PlateInfo]:
    """Solve a plate file's camera (the actor keyed out). Refuses a still, and a plate with nothing to track.
    ``keep``: every decoded frame (RGB, as ``read_frames`` gives it) is appended there, for the comp to reuse."""
    info = probe_plate(source)
    if info.still:
        raise MediaError("is a still: a camera move needs a clip", path=source)
    keyed: dict[int, np.ndarray | None] = {}

    def keyed_frames() -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        # the solve needs only the luma, and its rough key a proxy: no full-size RGB frame is made
        matte = proxy_mattes(screen)
        for luma, proxy in read_proxies(source, PROXY_WIDTH, keep=keep):
            yield luma, matte(proxy)

    def frames() -> Iterator[np.ndarray]:
        # decoded and keyed in a thread of their own, a few frames ahead, while the solve works on the last
        with contextlib.closing(ahead(keyed_frames, 4)) as pairs:
            for index, (frame, matte) in enumerate(pairs):
                keyed[index] = matte
                yield frame

    track = track_plate(frames(), model=model, mattes=lambda index, _: keyed.pop(index), undistort=undistort)
    if len(track.unsolved) == track.frames:
        raise NothingToTrack(f"nothing to track in frames {frame_list(track.unsolved)}: no markers or texture on "
                             "the screen", path=source,
                             hint="put tracking markers on the screen, or lock the camera off")
    return track, info


def unsolved_warning(track: Track, source: Path) -> str | None:
    """The line that names the frames that could not be solved (they hold the last solved camera)."""
    if not track.unsolved:
        return None
    return (f"{source}: nothing to track in frames {frame_list(track.unsolved)}; "
            "they hold the last solved camera")


def jump_warning(track: Track, source: Path) -> str | None:
    if not track.jumps:
        return None
    return f"{source}: the track jumps at frames {frame_list(track.jumps)}; check them"


def export(track: Track, target: Path, info: PlateInfo) -> None:
    """Write the track as CSV or Nuke ``.chan``, by ``target``'s suffix; no folder is made."""
    if target.suffix.lower() not in TRACK_FILES:
        raise MediaError("a track is written as .csv or .chan", path=target,
                         hint=f"e.g. -o {target.with_suffix('.csv').name}")
    if not target.parent.is_dir():
        raise MediaError("is not a folder that exists; soundstage track makes no folders", path=target.parent)
    try:
        write_track(target, track, width=info.width, height=info.height)
    except OSError as exc:
        raise MediaError(f"cannot be written: {exc.strerror or exc}", path=target) from None


def track_json(track: Track) -> dict[str, object]:
    """What ``soundstage track --json`` prints: the CSV's rows, and the model, why, unsolved and jumps."""
    return {"model": track.model, "reason": track.reason, "unsolved": list(track.unsolved),
            "jumps": list(track.jumps), "frames": rows(track)}


# --- a shot's track take ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrackTake:
    """Where a shot's solved camera is cached, and whether it is there yet."""

    shot: str
    path: Path          # .soundstage/tracks/<plate key>-<settings>.csv, or the project's own track file
    mode: str           # camera.track: auto, a model, or a file

    @property
    def cached(self) -> bool:
        return self.path.is_file()


def track_file(mode: str) -> str | None:
    """``camera.track`` when it names a file (for the shot's key: the file's content is what it depends on)."""
    return None if mode in TRACK_MODES else mode


def check_mode(mode: str, project_root: Path, shot: str | None = None) -> str:
    """``camera.track`` as given: a mode, or a .csv/.chan inside the project that exists."""
    if mode in TRACK_MODES:
        return mode
    path = Path(mode)
    if path.suffix.lower() not in TRACK_FILES:
        raise ProjectError(f"camera.track must be {', '.join(TRACK_MODES)} or a .csv/.chan file, not {mode!r}",
                           shot=shot)
    full = (project_root / path).resolve()
    if not full.is_relative_to(project_root.resolve()):
        raise ProjectError(f"camera.track {mode!r} is outside the project", shot=shot)
    if not full.is_file():
        raise ProjectError(f"camera.track {mode!r} does not exist", shot=shot, path=full)
    return mode


def track_take(cache: Path, shot: str, plate: Path, mode: str, project_root: Path, lens: object = None,
               ) -> TrackTake | None:
    """The track take of a shot's plate (None when its camera is not tracked), keyed by the plate's content, the
    mode and the lens model the plate is undistorted with (``lens``: anything JSON-able, e.g. its settings)."""
    if mode == "off":
        return None
    if mode not in TRACK_MODES:
        return TrackTake(shot, (project_root / mode).resolve(), mode)
    name = content_key(TRACK_CODE, file_digest(plate), mode, lens)[:24]
    return TrackTake(shot, cache / "tracks" / f"{name}-{mode}.csv", mode)


def load_or_solve(take: TrackTake, plate: Path, *, locked: bool = False,
                  warn: Callable[[str], None] | None = None,
                  undistort: Callable[[np.ndarray], np.ndarray] | None = None,
                  keep: list[np.ndarray] | None = None) -> Track | None:
    """The shot's track: read from its take, or solved once and stored there. A plate with nothing to track is
    refused unless the shot is locked off (``camera.locked = true``): then it is rendered as locked-off (None).
    ``keep``: when solved, the plate's decoded frames are appended there (see :func:`track_source`)."""
    info = probe_plate(plate)
    if take.cached:
        return read_track(take.path, width=info.width, height=info.height)
    try:
        track, info = track_source(plate, model=take.mode, undistort=undistort, keep=keep)
    except NothingToTrack as exc:
        if not locked:
            raise NothingToTrack(exc.message, path=plate, shot=take.shot,
                                 hint="set camera.locked = true in shots.toml to render it locked-off") from None
        if warn is not None:
            warn(f"shot {take.shot}: {exc.message}; rendered locked-off (camera.locked)")
        return None
    for line in (unsolved_warning(track, plate), jump_warning(track, plate)):
        if line and warn is not None:
            warn(f"shot {take.shot}: {line}")
    write_track(take.path, track)
    return track


def plan_lines(takes: Sequence[TrackTake]) -> Iterator[str]:
    """One line per tracked shot for ``soundstage plan``: its camera cached, or to solve."""
    for take in takes:
        state = "cached" if take.cached else "to solve"
        yield f"track {take.shot}: {take.mode}, {state}"


def shot_track_take(project: Project, shot: Shot) -> TrackTake | None:
    """The track take of a shot whose camera is tracked (``camera.track``), else None."""
    if shot.camera.track == "off" or not shot.plate:
        return None
    plate = project.inside(shot.plate, source=project.shots_file, key="plate")
    mode = check_mode(shot.camera.track, project.root, shot.id)
    if not plate.is_file():
        return None
    lens = shot.camera.lens.model_dump() if shot.camera.lens is not None else None
    return track_take(project.state_dir, shot.id, plate, mode, project.root, lens)


def first_frame_problem(project: Project, shot: Shot) -> NothingToTrack | None:
    """Before a render: a tracked shot (not locked off, not yet solved) whose plate's first frame has nothing
    to track can never be tracked, since every frame is matched back to it."""
    take = shot_track_take(project, shot)
    if take is None or take.cached or take.mode not in TRACK_MODES or shot.camera.locked:
        return None
    plate = project.inside(shot.plate or "", source=project.shots_file, key="plate")
    frames = read_frames(plate)
    try:
        first = next(frames)
    finally:
        frames.close()
    if trackable(first, actor_mattes()(0, first)):
        return None
    return NothingToTrack("nothing to track in frame 0 (every frame is matched back to it): no markers or texture "
                          "on the screen", path=shot.plate, shot=shot.id,
                          hint="set camera.locked = true in shots.toml to render it locked-off")


def shot_track(project: Project, shot: Shot, warn: Callable[[str], None] | None = None,
               undistort: Callable[[np.ndarray], np.ndarray] | None = None,
               keep: list[np.ndarray] | None = None) -> Track | None:
    """The shot's solved camera, from its take (solved and stored the first time), or None when it is not
    tracked or is locked off for want of anything to track. With ``undistort`` (the shot's lens model, plate
    points to undistorted points) the homographies live in undistorted pixels. ``keep``: when it is solved now,
    the plate's decoded frames are appended there, so the comp that follows reads them instead of the file."""
    take = shot_track_take(project, shot)
    if take is None:
        return None
    plate = project.inside(shot.plate or "", source=project.shots_file, key="plate")
    return load_or_solve(take, plate, locked=shot.camera.locked, warn=warn, undistort=undistort, keep=keep)
