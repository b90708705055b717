"""Track files: a solved camera out to a compositor (CSV, Nuke ``.chan``), and a camera in from elsewhere.

- CSV, one row per frame: ``frame,h00,h01,h02,h10,h11,h12,h20,h21,h22,confidence``; ``h`` maps a pixel of the
  plate's first frame to that frame, in the plate's own pixels (for a plate at infinity). Frames count from 0.
- A 2D track as CSV: a ``frame`` column, then an ``x`` and a ``y`` column per point (any names, in pairs; an
  empty cell is a point not seen in that frame). Each frame's camera is solved from the points it shares with
  the first row: one point gives a translation, two or three a similarity, four or more a homography.
- Nuke ``.chan``: ``frame tx ty tz rx ry rz vfov`` per line (frames from 1, rotations in degrees, Nuke's
  default ZXY order, the vertical field of view in degrees, as Nuke's Camera and Blender's chan add-on write
  it). A homography is read as a *nodal* camera: ``h = K_i · R_i · K_0⁻¹`` with the principal point in the
  middle of the plate and square pixels. Written, the first frame's focal is an assumption (a 35 mm lens on a
  Super 35 filmback, 24.89 mm wide, unless told); read, a file without the ``vfov`` column takes the same.
  What a homography holds beyond a rotation and a zoom (shear, keystone from a dolly) does not survive a
  ``.chan``; translation in a ``.chan`` is ignored (the set is at infinity).

A malformed file is refused in one line, ``path:line: what``.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from soundstage.atomic import write_text
from soundstage.comp.track import Track, find_jumps, fit_model
from soundstage.errors import MediaError

HEADER = ("frame", "h00", "h01", "h02", "h10", "h11", "h12", "h20", "h21", "h22", "confidence")
FOCAL_MM = 35.0
FILMBACK_MM = 24.89        # Super 35, horizontal


def write_track(path: str | Path, track: Track, *, width: int | None = None, height: int | None = None,
                focal_mm: float = FOCAL_MM, filmback_mm: float = FILMBACK_MM) -> None:
    """Write ``track`` as CSV or, by the suffix ``.chan``, as a Nuke camera (which needs the plate's size)."""
    path = Path(path)
    if path.suffix.lower() == ".chan":
        if width is None or height is None:
            raise ValueError("a .chan needs the plate's width and height")
        write_text(path, chan_text(track, width, height, focal_mm=focal_mm, filmback_mm=filmback_mm))
    else:
        write_text(path, csv_text(track))


def csv_text(track: Track) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for i, (h, c) in enumerate(zip(track.homographies, track.confidence, strict=True)):
        writer.writerow([i, *(repr(float(v)) for v in (h / h[2, 2]).ravel()), f"{float(c):.4f}"])
    return out.getvalue()


def rows(track: Track) -> list[dict[str, float | int]]:
    """The CSV's rows as dictionaries (what ``soundstage track --json`` prints)."""
    return [{"frame": i, **{name: float(v) for name, v in zip(HEADER[1:10], (h / h[2, 2]).ravel(), strict=True)},
             "confidence": round(float(c), 4)}
            for i, (h, c) in enumerate(zip(track.homographies, track.confidence, strict=True))]


def read_track(path: str | Path, *, width: int | None = None, height: int | None = None) -> Track:
    """A camera from a file: the homography CSV, a 2D point track CSV, or a Nuke ``.chan`` (plate size needed)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MediaError("no such track file", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MediaError(f"cannot be read as a track file: {getattr(exc, 'strerror', None) or exc}",
                         path=path) from None
    if path.suffix.lower() == ".chan":
        if width is None or height is None:
            raise ValueError("reading a .chan needs the plate's width and height")
        return _read_chan(path, text, width, height)
    if path.suffix.lower() != ".csv":
        raise MediaError("is not a track file: use .csv or .chan", path=path)
    lines = list(csv.reader(io.StringIO(text)))
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise MediaError("is empty: a header line is expected", path=path, line=1)
    header = [cell.strip().lower() for cell in lines[0]]
    if tuple(header) == HEADER:
        return _read_homographies(path, lines, (height, width) if width and height else None)
    if header[0] != "frame" or len(header) < 3 or len(header) % 2 != 1:
        raise MediaError(f"the header must be {','.join(HEADER)} or frame then x,y per point", path=path, line=1)
    return _read_points(path, lines)


def _number(path: Path, line: int, cell: str, what: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise MediaError(f"{what} is not a number: {cell.strip()!r}", path=path, line=line) from None
    if not math.isfinite(value):
        raise MediaError(f"{what} is not finite: {cell.strip()!r}", path=path, line=line)
    return value


def _frame(path: Path, line: int, cell: str, last: int | None) -> int:
    value = _number(path, line, cell, "frame")
    if value != int(value):
        raise MediaError(f"frame is not a whole number: {cell.strip()!r}", path=path, line=line)
    if last is not None and int(value) <= last:
        raise MediaError(f"frame {int(value)} does not follow frame {last}", path=path, line=line)
    return int(value)


def _body(lines: list[list[str]]) -> list[tuple[int, list[str]]]:
    return [(n, cells) for n, cells in enumerate(lines[1:], start=2) if any(c.strip() for c in cells)]


def _read_homographies(path: Path, lines: list[list[str]], size: tuple[int, int] | None) -> Track:
    """The CSV as written: a frame of confidence 0 was not solved; jumps are found again (given the plate size)."""
    frames, confidence, last = [], [], None
    for n, cells in _body(lines):
        if len(cells) != len(HEADER):
            raise MediaError(f"{len(cells)} fields, {len(HEADER)} expected", path=path, line=n)
        last = _frame(path, n, cells[0], last)
        if last != len(frames):
            raise MediaError(f"frame {last} where frame {len(frames)} was expected", path=path, line=n)
        h = np.array([_number(path, n, c, name) for c, name in zip(cells[1:10], HEADER[1:10], strict=True)])
        h = h.reshape(3, 3)
        if abs(np.linalg.det(h)) < 1e-12:
            raise MediaError("the homography is singular", path=path, line=n)
        frames.append(h / h[2, 2])
        c = _number(path, n, cells[10], "confidence")
        if not 0 <= c <= 1:
            raise MediaError(f"confidence {c} is outside 0..1", path=path, line=n)
        confidence.append(c)
    if not frames:
        raise MediaError("has no frames", path=path, line=2)
    unsolved = tuple(i for i, c in enumerate(confidence) if c == 0)
    homographies = np.array(frames)
    jumps = find_jumps(homographies, unsolved, size) if size else ()
    return Track(homographies, np.array(confidence), "homography", f"read from {path.name}", unsolved, jumps)


def _read_points(path: Path, lines: list[list[str]]) -> Track:
    width = len(lines[0])
    table: dict[int, np.ndarray] = {}
    last = None
    for n, cells in _body(lines):
        if len(cells) != width:
            raise MediaError(f"{len(cells)} fields, {width} expected", path=path, line=n)
        last = _frame(path, n, cells[0], last)
        xy = np.full(((width - 1) // 2, 2), np.nan)
        for k, (cx, cy) in enumerate(zip(cells[1::2], cells[2::2], strict=True)):
            if not cx.strip() and not cy.strip():
                continue
            if not cx.strip() or not cy.strip():
                raise MediaError(f"point {k + 1} has only one of x and y", path=path, line=n)
            xy[k] = (_number(path, n, cx, f"x of point {k + 1}"), _number(path, n, cy, f"y of point {k + 1}"))
        table[last] = xy
    if not table:
        raise MediaError("has no frames", path=path, line=2)
    first, end = min(table), max(table)
    start = table[first]
    homographies, confidence, unsolved, models = [], [], [], set()
    for frame in range(first, end + 1):
        xy = table.get(frame)
        both = ~np.isnan(start).any(axis=1) & (~np.isnan(xy).any(axis=1) if xy is not None else False)
        count = int(np.sum(both))
        if count == 0:
            unsolved.append(frame - first)
            homographies.append(homographies[-1] if homographies else np.eye(3))
            confidence.append(0.0)
            continue
        model = "translation" if count == 1 else "similarity" if count < 4 else "homography"
        models.add(model)
        homographies.append(fit_model(model, start[both], xy[both]))
        confidence.append(min(1.0, count / 4))
    model = max(models, key=("translation", "similarity", "homography").index) if models else "translation"
    reason = f"read from {path.name}: {(width - 1) // 2} points, the model each frame's points allow"
    return Track(np.array(homographies), np.array(confidence), model, reason, tuple(unsolved), ())


# --- Nuke .chan: a nodal camera --------------------------------------------------------------------------------

_FLIP = np.diag([1.0, -1.0, -1.0])     # OpenCV's camera (x right, y down, looking +z) <-> Nuke's (y up, looking -z)


def _k(focal: float, width: int, height: int) -> np.ndarray:
    return np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1.0]])


def _rotation_zxy(rx: float, ry: float, rz: float) -> np.ndarray:
    """Nuke's default rotation order ZXY: z applied first, then x, then y (degrees)."""
    a, b, c = (math.radians(v) for v in (rx, ry, rz))
    x = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    y = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
    z = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return y @ x @ z


def _angles_zxy(m: np.ndarray) -> tuple[float, float, float]:
    rx = math.asin(max(-1.0, min(1.0, -m[1, 2])))
    ry = math.atan2(m[0, 2], m[2, 2])
    rz = math.atan2(m[1, 0], m[1, 1])
    return math.degrees(rx), math.degrees(ry), math.degrees(rz)


def nodal_camera(h: np.ndarray, focal0: float, width: int, height: int) -> tuple[np.ndarray, float]:
    """The rotation (Nuke's camera-to-world, frame 0's camera as the world) and focal (px) nearest to ``h``."""
    k0 = _k(focal0, width, height)
    centre = np.array([[1, 0, width / 2], [0, 1, height / 2], [0, 0, 1.0]])
    a = np.linalg.inv(centre) @ h @ k0                 # = diag(f_i, f_i, 1) · R, up to scale
    a = a / np.linalg.norm(a[2]) * np.sign(a[2, 2] or 1.0)
    focal = float((np.linalg.norm(a[0]) + np.linalg.norm(a[1])) / 2)
    r = np.diag([1 / focal, 1 / focal, 1.0]) @ a
    u, _, vt = np.linalg.svd(r)
    r = u @ vt
    if np.linalg.det(r) < 0:
        r = u @ np.diag([1, 1, -1.0]) @ vt
    return _FLIP @ r.T @ _FLIP, focal


def homography_of(camera: np.ndarray, focal: float, focal0: float, width: int, height: int) -> np.ndarray:
    """The plate homography of a nodal camera (Nuke's camera-to-world ``camera``) against frame 0's."""
    r = (_FLIP @ camera @ _FLIP).T
    h = _k(focal, width, height) @ r @ np.linalg.inv(_k(focal0, width, height))
    return h / h[2, 2]


def chan_text(track: Track, width: int, height: int, *, focal_mm: float = FOCAL_MM,
              filmback_mm: float = FILMBACK_MM, first_frame: int = 1) -> str:
    focal0 = focal_mm / filmback_mm * width
    out = []
    for i, h in enumerate(track.homographies):
        camera, focal = nodal_camera(h, focal0, width, height)
        rx, ry, rz = _angles_zxy(camera)
        vfov = math.degrees(2 * math.atan(height / 2 / focal))
        out.append(f"{i + first_frame}\t0\t0\t0\t{rx:.8f}\t{ry:.8f}\t{rz:.8f}\t{vfov:.8f}")
    return "\n".join(out) + "\n"


def _read_chan(path: Path, text: str, width: int, height: int) -> Track:
    cameras: list[tuple[np.ndarray, float]] = []
    last = None
    default = FOCAL_MM / FILMBACK_MM * width
    for n, line in enumerate(text.splitlines(), start=1):
        cells = line.split()
        if not cells or cells[0].startswith("#"):
            continue
        if len(cells) not in (7, 8):
            raise MediaError(f"{len(cells)} fields: frame tx ty tz rx ry rz [vfov] expected", path=path, line=n)
        last = _frame(path, n, cells[0], last)
        names = ("tx", "ty", "tz", "rx", "ry", "rz", "vfov")
        values = [_number(path, n, c, name) for c, name in zip(cells[1:], names, strict=False)]
        if len(values) == 7 and not 0 < values[6] < 180:
            raise MediaError(f"vfov {values[6]} is not an angle between 0 and 180 degrees", path=path, line=n)
        focal = height / 2 / math.tan(math.radians(values[6]) / 2) if len(values) == 7 else default
        cameras.append((_rotation_zxy(*values[3:6]), focal))
    if not cameras:
        raise MediaError("has no frames", path=path, line=1)
    first, focal0 = cameras[0]
    homographies = [homography_of(first.T @ camera, focal, focal0, width, height) for camera, focal in cameras]
    return Track(np.array(homographies), np.ones(len(cameras)), "homography",
                 f"read from {path.name}: a nodal camera", (), ())
