"""A shot's lens: OpenCV's Brown–Conrady model (k1, k2 radial; p1, p2 tangential), so the set bends like the plate.

Points are in pixels. The model works on normalised coordinates ``((x − cx) / fx, (y − cy) / fy)``; when the
crew gives only k1, k2, p1, p2 the intrinsics default from the frame: ``fx = fy = max(width, height)`` (about a
53° horizontal view on a wide frame) and the centre ``((width − 1) / 2, (height − 1) / 2)``. The k's only mean
the same bend when they are used with the same intrinsics, so ``soundstage lens calibrate`` prints all of them.

``distort`` bends a straight (pinhole) picture as the lens would; ``undistort`` straightens a plate. Both are one
``cv2.remap`` with maps built once per shot (:meth:`Lens.maps`). A lens whose radial curve folds back inside the
frame cannot be inverted (two points of the scene would land on one pixel) and is refused.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from soundstage.comp.camera import _Grid
from soundstage.errors import ProjectError

_ITERATIONS = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 60, 1e-10)   # undistortPoints iterated: ≪ 0.01 px


@dataclass(frozen=True)
class Lens:
    """A Brown–Conrady lens for one frame size. Build with :meth:`for_frame`, which checks it can be inverted."""

    k1: float
    k2: float
    p1: float
    p2: float
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def for_frame(cls, width: int, height: int, *, k1: float = 0.0, k2: float = 0.0, p1: float = 0.0,
                  p2: float = 0.0, fx: float | None = None, fy: float | None = None, cx: float | None = None,
                  cy: float | None = None) -> Lens:
        """The lens on a ``width`` × ``height`` frame; missing intrinsics default from the frame (see module)."""
        focal = float(max(width, height))
        lens = cls(float(k1), float(k2), float(p1), float(p2), float(fx or focal), float(fy or fx or focal),
                   (width - 1) / 2 if cx is None else float(cx), (height - 1) / 2 if cy is None else float(cy),
                   width, height)
        lens.check()
        return lens

    def moved(self, to_frame: np.ndarray, width: int, height: int) -> Lens:
        """This lens on a picture scaled and shifted by ``to_frame`` (3×3, no rotation) to ``width`` × ``height``:
        a plate conformed to the project's frame keeps its bend."""
        sx, sy = float(to_frame[0, 0]), float(to_frame[1, 1])
        return Lens(self.k1, self.k2, self.p1, self.p2, self.fx * sx, self.fy * sy,
                    sx * self.cx + float(to_frame[0, 2]), sy * self.cy + float(to_frame[1, 2]), width, height)

    @property
    def matrix(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1]], np.float64)

    @property
    def coefficients(self) -> np.ndarray:
        return np.array([self.k1, self.k2, self.p1, self.p2], np.float64)

    @property
    def straight(self) -> bool:
        return not any((self.k1, self.k2, self.p1, self.p2))

    def check(self) -> None:
        """Refuse a lens that cannot be inverted over the frame: its radial curve r·(1 + k1·r² + k2·r⁴) must keep
        rising until it has reached the frame's farthest corner (tangential terms are small and not checked)."""
        corners = np.array([[0, 0], [self.width - 1, 0], [0, self.height - 1], [self.width - 1, self.height - 1]],
                           np.float64)
        corner = float(np.max(np.hypot((corners[:, 0] - self.cx) / self.fx, (corners[:, 1] - self.cy) / self.fy)))
        r = np.linspace(0.0, 3.0 * corner, 6001)
        slope = 1 + 3 * self.k1 * r**2 + 5 * self.k2 * r**4
        bent = r * (1 + self.k1 * r**2 + self.k2 * r**4)
        folds = np.flatnonzero(slope <= 0)
        reach = r[folds[0]] if folds.size else r[-1]
        if bent[r <= reach].max() < corner:
            raise ProjectError(f"lens k1 = {self.k1:g}, k2 = {self.k2:g} cannot be inverted over the "
                               f"{self.width}×{self.height} frame: its distortion folds back before the corners",
                               hint="check the signs and size of k1 and k2, or calibrate with `soundstage lens "
                                    "calibrate`")

    def distort_points(self, points: np.ndarray) -> np.ndarray:
        """Where straight (pinhole) pixel positions (N×2) land on the lensed frame: the model itself."""
        p = np.asarray(points, np.float64).reshape(-1, 2)
        x, y = (p[:, 0] - self.cx) / self.fx, (p[:, 1] - self.cy) / self.fy
        r2 = x * x + y * y
        radial = 1 + self.k1 * r2 + self.k2 * r2 * r2
        xd = x * radial + 2 * self.p1 * x * y + self.p2 * (r2 + 2 * x * x)
        yd = y * radial + self.p1 * (r2 + 2 * y * y) + 2 * self.p2 * x * y
        return np.stack([xd * self.fx + self.cx, yd * self.fy + self.cy], axis=1)

    def undistort_points(self, points: np.ndarray) -> np.ndarray:
        """Where lensed pixel positions (N×2) would be through a straight lens (iterated to ≪ 0.01 px)."""
        p = np.asarray(points, np.float64).reshape(-1, 1, 2)
        if self.straight:
            return p.reshape(-1, 2).copy()
        return cv2.undistortPoints(p, self.matrix, self.coefficients, None, None, self.matrix,
                                   _ITERATIONS).reshape(-1, 2)

    @functools.cached_property
    def maps(self) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """The two remap tables of this frame, built once: (to distort, to undistort), each fixed-point."""
        size = (self.width, self.height)
        straighten = cv2.initUndistortRectifyMap(self.matrix, self.coefficients, None, self.matrix, size,
                                                 cv2.CV_16SC2)
        # Bending needs the inverse: for each lensed pixel, its straight position. Solved on a 4×-coarser grid
        # (the field is smooth) and upsampled; exact at the grid's samples, well under 0.01 px between them.
        grid = _Grid(4, self.width, self.height)
        gx, gy = np.meshgrid(grid.xs(), grid.ys())
        straight = self.undistort_points(np.stack([gx.ravel(), gy.ravel()], axis=1)).astype(np.float32)
        fine = grid.upsample(straight.reshape(*grid.shape, 2))
        bend = cv2.convertMaps(np.ascontiguousarray(fine), None, cv2.CV_16SC2)  # type: ignore[call-overload]
        return (bend[0], bend[1]), (straighten[0], straighten[1])

    def distort(self, image: np.ndarray, *, border: int = cv2.BORDER_REFLECT) -> np.ndarray:
        """A straight picture of this frame's size bent as the lens bends the plate."""
        if self.straight:
            return image
        map1, map2 = self.maps[0]
        return cv2.remap(image, map1, map2, cv2.INTER_LINEAR, borderMode=border)

    def undistort(self, image: np.ndarray, *, border: int = cv2.BORDER_REFLECT) -> np.ndarray:
        """A lensed picture (a plate) straightened to a pinhole's."""
        if self.straight:
            return image
        map1, map2 = self.maps[1]
        return cv2.remap(image, map1, map2, cv2.INTER_LINEAR, borderMode=border)


@dataclass(frozen=True)
class Calibration:
    """What ``calibrate`` found: the lens, its RMS reprojection error (px), and the frames the board was found on."""

    lens: Lens
    rms: float
    found: tuple[int, ...]
    tried: tuple[int, ...]

    @property
    def settings(self) -> dict[str, float]:
        """The lens as shots.toml's ``camera.lens`` takes it, rounded to what matters."""
        lens = self.lens
        return {"k1": round(lens.k1, 6), "k2": round(lens.k2, 6), "p1": round(lens.p1, 6), "p2": round(lens.p2, 6),
                "fx": round(lens.fx, 2), "fy": round(lens.fy, 2), "cx": round(lens.cx, 2), "cy": round(lens.cy, 2)}

    def toml(self) -> str:
        """One line that pastes into a shot's ``camera = { … }`` in shots.toml."""
        return "lens = { " + ", ".join(f"{name} = {value!r}" for name, value in self.settings.items()) + " }"


def calibrate(frames: Iterable[tuple[int, np.ndarray]], board: tuple[int, int] = (9, 6), *,
              source: str = "the plate") -> Calibration:
    """Solve the lens from views of a checkerboard with ``board`` inner corners (columns × rows).

    Each frame (number, RGB picture) is searched with ``cv2.findChessboardCorners`` and refined to a tenth of a
    pixel with ``cv2.cornerSubPix``; ``cv2.calibrateCamera`` then solves k1, k2, p1, p2 (k3 held at 0, as the
    shot's lens has no k3) and the intrinsics they belong to. Refused, naming the frames tried, when fewer than
    three views show the whole board.
    """
    columns, rows = board
    grid = np.zeros((columns * rows, 3), np.float32)
    grid[:, :2] = np.mgrid[0:columns, 0:rows].T.reshape(-1, 2)
    seen, found, tried = [], [], []
    size = None
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE | cv2.CALIB_CB_FAST_CHECK
    for number, picture in frames:
        tried.append(number)
        grey = cv2.cvtColor(picture[..., :3], cv2.COLOR_RGB2GRAY) if picture.ndim == 3 else picture
        size = (grey.shape[1], grey.shape[0])
        ok, corners = cv2.findChessboardCorners(grey, board, flags=flags)
        if not ok:
            continue
        spacing = float(np.median(np.hypot(*np.diff(corners.reshape(rows, columns, 2), axis=1).reshape(-1, 2).T)))
        half = int(np.clip(spacing / 4, 2, 11))
        corners = cv2.cornerSubPix(grey, corners, (half, half), (-1, -1),
                                   (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 40, 0.001))
        seen.append(corners)
        found.append(number)
    if len(seen) < 3 or size is None:
        listed = ", ".join(map(str, tried)) or "none"
        raise ProjectError(f"no {columns}×{rows} checkerboard found in {source} on enough frames "
                           f"({len(seen)} of {len(tried)}; tried frames {listed})",
                           hint="give --board as the board's inner corners, columns x rows, and show the whole "
                                "board in at least three frames")
    rms, matrix, coefficients, _, _ = cv2.calibrateCamera([grid] * len(seen), seen, size, None, None,
                                                          flags=cv2.CALIB_FIX_K3)
    k1, k2, p1, p2 = (float(c) for c in coefficients.ravel()[:4])
    lens = Lens.for_frame(size[0], size[1], k1=k1, k2=k2, p1=p1, p2=p2, fx=float(matrix[0, 0]),
                          fy=float(matrix[1, 1]), cx=float(matrix[0, 2]), cy=float(matrix[1, 2]))
    return Calibration(lens, float(rms), tuple(found), tuple(tried))


def calibrate_plate(path: Path, board: tuple[int, int] = (9, 6), *, samples: int = 24) -> Calibration:
    """``calibrate`` on up to ``samples`` frames spread evenly over a checkerboard plate (a clip or a still)."""
    from soundstage.media import STILL_SUFFIXES, probe_plate, read_frames, read_image

    info = probe_plate(path)
    if info.still or path.suffix.lower() in STILL_SUFFIXES:
        return calibrate([(0, read_image(path)[..., :3])], board, source=str(path))
    count = info.frames or samples
    wanted = set(np.linspace(0, count - 1, min(samples, count)).round().astype(int).tolist())
    picked = ((number, picture) for number, picture in enumerate(read_frames(path)) if number in wanted)
    return calibrate(picked, board, source=str(path))
