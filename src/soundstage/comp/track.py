"""The plate's camera, solved per frame from the plate itself: what a generated set must follow.

Features (the screen's tracking markers, texture in the screen and the stage) are found with OpenCV's
``goodFeaturesToTrack`` away from the actor (the shot's own matte, dilated) and followed with pyramidal
Lucas–Kanade, each point checked forward and backward. Every frame is matched against a *keyframe*, not only
the frame before: the keyframe is warped by the camera solved so far and the points are followed from that
warp into the frame, so errors do not add up frame after frame (no drift). A new keyframe is taken only when
too few of its points are left (covered by the actor, or out of the frame); it is then seeded afresh.

The model (translation, similarity, homography) is fitted robustly (MAGSAC), then refitted on its inliers. With
``model="auto"`` the simplest model whose fit is not clearly worse wins, by the Bayesian information criterion
summed over the shot (residuals against parameters), and :attr:`Track.reason` says so in one line.

Nothing is smoothed: the set must shake exactly as the plate does. Each frame gets a confidence (inliers and
residual); frames that cannot be solved are named and hold the last solved camera; frames where the camera
leaps far beyond the shot's own pace are flagged as jumps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from soundstage.errors import MediaError

MODELS = ("translation", "similarity", "homography")
_PARAMETERS = {"translation": 2, "similarity": 4, "homography": 8}

# Lucas–Kanade: a 21-px window on 4 pyramid levels follows ~100 px of motion between the keyframe's warp and
# the frame; the forward-backward check drops a point that does not come back within _BACK px.
_LK = {"winSize": (21, 21), "maxLevel": 3,
       "criteria": (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 40, 0.003)}
_REFINE = {"winSize": (15, 15), "maxLevel": 1,
           "criteria": (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 40, 0.001)}
_BACK = 0.4               # px: forward-backward error above this drops the point
_RANSAC = 1.0             # px: MAGSAC's inlier threshold
_COARSE = 120            # points followed in the coarse pass (enough for a homography to warp by)
_CONTRAST = 30.0          # a corner must be this many times the frame's median corner strength (its grain)
_MIN_POINTS = 12          # fewer inliers than this: the frame is unsolved
_REKEY = 0.5              # a new keyframe when fewer than this share of its points is still usable
_NOISE = 0.15             # px: the residual floor assumed for the BIC (sub-pixel LK noise on a clean plate)
_SOLVE_WIDTH = 960        # px: a wider plate is solved on frames shrunk by 2 (4 at 4K): LK, the warps and the
                          # corners cost a quarter, and LK's sub-pixel fit still meets 0.3 px RMS at full size


@dataclass(frozen=True)
class Track:
    """A solved camera: per frame, the homography from the first frame's plate pixels to that frame's."""

    homographies: np.ndarray   # (frames, 3, 3) float64: plate px of frame 0 -> plate px of frame i
    confidence: np.ndarray     # (frames,) float 0..1
    model: str                 # "translation" | "similarity" | "homography"
    reason: str                # why `auto` chose the model, one line
    unsolved: tuple[int, ...]  # frames that could not be solved (their homography is held)
    jumps: tuple[int, ...]     # frames where the track jumps

    @property
    def frames(self) -> int:
        return len(self.homographies)

    def apply(self, frame: int, points: np.ndarray) -> np.ndarray:
        """Where points of the first frame (N×2 plate px) are in ``frame``."""
        return project(self.homographies[frame], points)


def project(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (N×2) through a 3×3 homography."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    out = pts @ h[:2, :2].T + h[:2, 2]
    w = pts @ h[2, :2] + h[2, 2]
    return out / w[:, None]


@dataclass
class _Frame:
    """What one frame's match left: keyframe points and where they are in this frame (inliers only)."""

    key: int                          # the keyframe matched against
    ref: np.ndarray                   # N×2, keyframe px
    seen: np.ndarray                  # N×2, this frame's px
    solved: bool = True


@dataclass
class _Keyframe:
    index: int
    gray: np.ndarray
    points: np.ndarray                # N×2 keyframe px, away from the actor
    to_first: np.ndarray              # 3×3: this keyframe's homography (frame 0 -> keyframe)


@dataclass
class _Solver:
    model_fit: str
    mask_grow: int                    # px of the solve's frames
    max_points: int
    undistort: Callable[[np.ndarray], np.ndarray] | None
    step: int = 1                     # the solve's frames are the plate's shrunk by this
    frames: list[_Frame] = field(default_factory=list)

    def detect(self, gray: np.ndarray, actor: np.ndarray | None) -> np.ndarray:
        """Corners away from the actor (and away from the edge, where LK's window would fall off)."""
        h, w = gray.shape
        mask = np.zeros_like(gray)
        edge = 12
        mask[edge:h - edge, edge:w - edge] = 255
        if actor is not None:
            mask[actor] = 0
        spacing = max(6, round(min(h, w) / 60))
        found = cv2.goodFeaturesToTrack(gray, self.max_points, 0.01, spacing, mask=mask, blockSize=7)
        if found is None:
            return np.empty((0, 2), np.float32)
        # a corner must stand well above the screen's own grain: the median corner strength of the frame is its
        # noise (most of a screen is flat), and corners of sensor noise reach ~4× that; LK cannot hold them
        strength = cv2.cornerMinEigenVal(gray, 7, 3)
        floor = _CONTRAST * float(np.median(strength[mask > 0])) if (mask > 0).any() else 0.0
        found = found.reshape(-1, 2)
        found = found[strength[found[:, 1].astype(int), found[:, 0].astype(int)] > floor]
        if len(found) == 0:
            return np.empty((0, 2), np.float32)
        found = cv2.cornerSubPix(gray, found.reshape(-1, 1, 2).astype(np.float32), (5, 5), (-1, -1),
                                 (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 0.01))
        return found.reshape(-1, 2)

    def grown(self, matte: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """The actor, grown by ``mask_grow`` px, at the solve's ``size`` (h, w): a boolean mask of where no feature
        may be. Grown by a distance transform on a 4×-coarser grid (any actor in a cell makes it actor): an
        elliptical 39-px dilation costs ~130 ms at 1080p, this a few."""
        actor = (np.asarray(matte) > (127 if matte.dtype == np.uint8 else 0.5)).astype(np.uint8)
        h, w = size
        if actor.shape != size:     # the plate's matte on the solve's shrunk frames: any actor in a block is actor
            actor = (cv2.resize(actor * 255, (w, h), interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
        if self.mask_grow <= 0:
            return actor.astype(bool)
        step = 4 if self.mask_grow >= 8 and min(h, w) >= 64 else 1
        coarse = cv2.resize(actor * 255, (-(-w // step), -(-h // step)), interpolation=cv2.INTER_AREA) if step > 1 \
            else actor
        far = cv2.distanceTransform((coarse == 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
        near = ((far <= self.mask_grow / step + 1) * np.uint8(1))
        return cv2.resize(near, (w, h), interpolation=cv2.INTER_NEAREST).astype(bool) if step > 1 else near.astype(bool)

    def follow(self, key: _Keyframe, gray: np.ndarray, guess: np.ndarray, actor: np.ndarray | None,
               params: dict, back_limit: float | None, most: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The keyframe's points in ``gray``, followed from the keyframe warped by ``guess`` (keyframe -> frame):
        at most ``most`` of them, spread over the keyframe's list; checked backward when ``back_limit`` is given."""
        h, w = gray.shape
        warped = cv2.warpPerspective(key.gray, guess, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        points = key.points if most is None else key.points[::max(1, -(-len(key.points) // most))]
        start = project(guess, points).astype(np.float32)
        inside = _inside(start, w, h, 12)
        ref, start = points[inside], start[inside]
        if len(start) == 0:
            return ref, start
        ahead, ok, _ = cv2.calcOpticalFlowPyrLK(warped, gray, start.reshape(-1, 1, 2), None, **params)
        ahead = ahead.reshape(-1, 2)
        good = ok.ravel() == 1
        if back_limit is not None:
            back, ok_back, _ = cv2.calcOpticalFlowPyrLK(gray, warped, ahead.reshape(-1, 1, 2),
                                                        start.reshape(-1, 1, 2).copy(),
                                                        flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **params)
            good &= (ok_back.ravel() == 1) & (np.linalg.norm(back.reshape(-1, 2) - start, axis=1) < back_limit)
        good &= _inside(ahead, w, h, 4)
        if actor is not None and good.any():
            xs = np.clip(np.round(ahead[:, 0]).astype(int), 0, w - 1)
            ys = np.clip(np.round(ahead[:, 1]).astype(int), 0, h - 1)
            good &= ~actor[ys, xs]
        return ref[good], ahead[good]

    def straight(self, points: np.ndarray) -> np.ndarray:
        """Points of the solve's frames in the plate's own px, with the lens undone (when a lens model is given):
        the plane is flat only there. A pixel of a frame shrunk by ``step`` is centred on its block's centre."""
        points = np.asarray(points, np.float64) * self.step + (self.step - 1) / 2
        return np.asarray(self.undistort(points), np.float64) if self.undistort is not None else points

    def shrunk(self, gray: np.ndarray) -> np.ndarray:
        """The frame the solve runs on: ``gray`` shrunk by ``step`` (whole blocks averaged)."""
        if self.step == 1:
            return gray
        h, w = gray.shape[0] // self.step, gray.shape[1] // self.step
        return cv2.resize(gray[:h * self.step, :w * self.step], (w, h), interpolation=cv2.INTER_AREA)


def solve_step(width: int) -> int:
    """How much a plate ``width`` px wide is shrunk for the solve: by 2 from 1920, by 4 from 3840 (see
    ``_SOLVE_WIDTH``)."""
    step = 1
    while width // (2 * step) >= _SOLVE_WIDTH:
        step *= 2
    return step


def track_plate(frames: Iterable[np.ndarray], *, model: str = "auto",
                mattes: Iterable[np.ndarray | None] | Callable[[int, np.ndarray], np.ndarray | None] | None = None,
                undistort: Callable[[np.ndarray], np.ndarray] | None = None,
                mask_grow: int | None = None, max_points: int = 400, step: int | None = None) -> Track:
    """Solve the plate's camera per frame; ``h`` maps plate px of frame 0 to plate px of frame i.

    - ``frames``: the plate (H×W×3 or H×W, uint8), read once, in order; only the keyframe is kept.
    - ``mattes``: the actor's matte per frame (H×W, uint8 0..255 or float 0..1; 255 = actor; or H/n×W/n, a rough
      key on a proxy), or a callable ``(index, frame) -> matte`` (e.g. the shot's key); grown by ``mask_grow`` px
      (default 1% of the width, at least LK's half window, so no window sees the actor).
    - ``model``: "auto", "translation", "similarity" or "homography".
    - ``undistort``: maps plate points (N×2) to the lens's undistorted pixels; the homographies then live there.
    - ``step``: the solve runs on frames shrunk by this (default :func:`solve_step`: about 960 px wide); the
      homographies are in the plate's own pixels whatever it is.
    """
    if model != "auto" and model not in MODELS:
        raise ValueError(f"unknown track model {model!r}: use auto, {', '.join(MODELS)}")
    solver: _Solver | None = None
    key: _Keyframe | None = None
    solved: list[np.ndarray] = []     # per frame, frame 0 -> i in the plate's own (distorted) px: to predict
    size: tuple[int, int] | None = None
    kept = 0                          # inliers of the last frame matched to this keyframe
    for index, (frame, matte) in enumerate(zip(frames, _mattes(mattes), strict=False)):
        gray = _gray(frame, index)
        if size is None:
            size = gray.shape
            solver = _solver(gray.shape[1], model if model != "auto" else "homography", max_points, undistort,
                             step, mask_grow)
        elif gray.shape != size:
            raise MediaError(f"frame {index} is {gray.shape[1]}x{gray.shape[0]}, the plate's first is "
                             f"{size[1]}x{size[0]}")
        if callable(mattes):
            matte = mattes(index, frame)
        if matte is not None:
            matte = np.asarray(matte)
            if matte.shape[:2] != size and matte.shape[:2] != _fraction(size, matte.shape[1]):
                raise MediaError(f"the matte of frame {index} is {matte.shape[1]}x{matte.shape[0]}, the plate is "
                                 f"{size[1]}x{size[0]} (a matte is that, or a whole fraction of it)")
        assert solver is not None
        gray = solver.shrunk(gray)
        if matte is not None:
            matte = solver.grown(matte[..., 0] if matte.ndim == 3 else matte, gray.shape)
        if key is None:
            points = solver.detect(gray, matte)
            if index == 0 and len(points) >= _MIN_POINTS:
                key, kept = _Keyframe(0, gray, points, np.eye(3)), 0
                solver.frames.append(_Frame(0, solver.straight(points), solver.straight(points)))
            else:
                solver.frames.append(_Frame(0, np.empty((0, 2)), np.empty((0, 2)), solved=False))
            solved.append(np.eye(3))
            continue
        last = solved[-1]
        still = last @ np.linalg.inv(key.to_first)
        guesses = [still]
        if len(solved) >= 2 and solver.frames[-1].solved and solver.frames[-2].solved:
            guesses.insert(0, last @ np.linalg.inv(solved[-2]) @ still)   # the camera keeps its pace; or it stops
        # a small plate first gets fewer pyramid levels (a window on a tiny level sees half the frame, actor and
        # all), then the full pyramid; the first match that keeps most of what the last frame had is taken
        small = max(1, min(_LK["maxLevel"], int(math.log2(min(gray.shape) / 45))))
        levels = sorted({small, _LK["maxLevel"]})
        fit, ref, seen = None, np.empty((0, 2)), np.empty((0, 2))
        for guess in guesses:
            for level in levels:
                tried = _match(solver, key, gray, guess, matte, level)
                if tried[0] is not None and (fit is None or tried[0][1].sum() > fit[1].sum()):
                    fit, ref, seen = tried
                if fit is not None and fit[1].sum() >= 0.7 * (kept or len(key.points)):
                    break
            if fit is not None and fit[1].sum() >= 0.7 * (kept or len(key.points)):
                break
        if fit is None:
            solver.frames.append(_Frame(key.index, np.empty((0, 2)), np.empty((0, 2)), solved=False))
            solved.append(last)
            continue
        h_key, inliers = fit
        kept = int(inliers.sum())
        solver.frames.append(_Frame(key.index, solver.straight(ref[inliers]), solver.straight(seen[inliers])))
        here = h_key @ key.to_first
        solved.append(here / here[2, 2])
        if inliers.sum() < max(_MIN_POINTS * 2, _REKEY * len(key.points)):
            fresh = solver.detect(gray, matte)
            if len(fresh) >= _MIN_POINTS:
                key, kept = _Keyframe(index, gray, fresh, solved[-1]), 0
    if solver is None:
        raise MediaError("the plate has no frames")
    return _finish(solver, model, size)


def trackable(frame: np.ndarray, matte: np.ndarray | None = None) -> bool:
    """Whether a plate's first frame has enough corners off the actor for :func:`track_plate` to start: a plate
    whose first frame has none cannot be tracked at all (every frame is matched back to it)."""
    gray = _gray(frame, 0)
    solver = _solver(gray.shape[1], "homography", 400, None)
    gray = solver.shrunk(gray)
    actor = None if matte is None else solver.grown(matte[..., 0] if matte.ndim == 3 else matte, gray.shape)
    return len(solver.detect(gray, actor)) >= _MIN_POINTS


def _solver(width: int, model: str, max_points: int, undistort: Callable[[np.ndarray], np.ndarray] | None,
            step: int | None = None, mask_grow: int | None = None) -> _Solver:
    """A solver for a plate ``width`` px wide: on frames shrunk by ``step``, the actor grown by ``mask_grow``
    plate px (default :func:`_grow` of the solve's width)."""
    step = solve_step(width) if step is None else max(1, int(step))
    grow = _grow(width // step) if mask_grow is None else round(mask_grow / step)
    return _Solver(model, grow, max_points, undistort, step)


def _match(solver: _Solver, key: _Keyframe, gray: np.ndarray, guess: np.ndarray, matte: np.ndarray | None,
           level: int) -> tuple[tuple[np.ndarray, np.ndarray] | None, np.ndarray, np.ndarray]:
    """The keyframe matched into ``gray`` from ``guess``: coarse, the keyframe warped by the guess and some of its
    points followed with LK's pyramid (MAGSAC sorts them, loosely); fine, warped again by this frame's own fit, so
    LK only has sub-pixel residuals left to find, free of the bias of a window that is rotated or scaled against
    the frame, every point checked forward and backward."""
    fit, ref, seen = None, np.empty((0, 2)), np.empty((0, 2))
    for params, back, threshold, most in ((_LK, None, 3 * _RANSAC, _COARSE), (_REFINE, _BACK, _RANSAC, None)):
        params = {**params, "maxLevel": level} if params is _LK else params
        found = solver.follow(key, gray, guess if fit is None else fit[0], matte, params, back, most)
        better = _fit_homography(*found, threshold) if len(found[0]) >= _MIN_POINTS else None
        if better is None:
            break
        fit, (ref, seen) = better, found
    return fit, ref, seen


def _fit_homography(ref: np.ndarray, seen: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray] | None:
    h, mask = cv2.findHomography(ref.astype(np.float64), seen.astype(np.float64), cv2.USAC_MAGSAC, threshold,
                                 maxIters=2000, confidence=0.999)
    if h is None or mask is None or int(mask.sum()) < _MIN_POINTS:
        return None
    inliers = mask.ravel().astype(bool)
    h, _ = cv2.findHomography(ref[inliers].astype(np.float64), seen[inliers].astype(np.float64), 0)
    if h is None or not np.isfinite(h).all():
        return None
    return h / h[2, 2], inliers


def fit_model(model: str, ref: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """The least-squares ``model`` (3×3) that maps ``ref`` onto ``seen`` (inliers: no outliers left)."""
    ref, seen = np.asarray(ref, np.float64), np.asarray(seen, np.float64)
    if model == "translation":
        h = np.eye(3)
        h[:2, 2] = (seen - ref).mean(axis=0)
        return h
    if model == "similarity":
        a, _ = cv2.estimateAffinePartial2D(ref, seen, method=cv2.LMEDS, refineIters=20)
        if a is None:
            raise ValueError("no similarity fits")
        # least squares on all points (inliers already): LMEDS seeds, this settles
        a = _similarity(ref, seen) if len(ref) >= 2 else a
        return np.vstack([a, [0.0, 0.0, 1.0]])
    h, _ = cv2.findHomography(ref, seen, 0)
    if h is None:
        raise ValueError("no homography fits")
    return h / h[2, 2]


def _similarity(ref: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Closed-form least-squares similarity (Umeyama, no reflection) as a 2×3 matrix."""
    mr, ms = ref.mean(axis=0), seen.mean(axis=0)
    r, s = ref - mr, seen - ms
    a = (r * s).sum()
    b = (r[:, 0] * s[:, 1] - r[:, 1] * s[:, 0]).sum()
    scale = math.hypot(a, b) / max((r * r).sum(), 1e-12)
    angle = math.atan2(b, a)
    c, si = scale * math.cos(angle), scale * math.sin(angle)
    rot = np.array([[c, -si], [si, c]])
    t = ms - rot @ mr
    return np.hstack([rot, t[:, None]])


def _finish(solver: _Solver, model: str, size: tuple[int, int]) -> Track:
    frames = solver.frames
    count = len(frames)
    if model == "auto":
        model, reason = _choose(frames)
    else:
        reason = f"{model} asked for"
    homographies = np.repeat(np.eye(3)[None], count, axis=0)
    confidence = np.zeros(count)
    unsolved: list[int] = []
    for i, f in enumerate(frames):
        if i == 0 and f.solved:
            confidence[0] = 1.0
            continue
        if not f.solved:
            unsolved.append(i)
            homographies[i] = homographies[i - 1] if i else np.eye(3)
            continue
        ref, seen = f.ref, f.seen
        h_key = fit_model(model, ref, seen)
        homographies[i] = h_key @ homographies[f.key]
        homographies[i] /= homographies[i][2, 2]
        residual = np.linalg.norm(project(h_key, ref) - seen, axis=1)
        rms = float(np.sqrt(np.mean(residual**2)))
        confidence[i] = min(1.0, len(ref) / 60) / (1.0 + (rms / 0.5) ** 2)
    return Track(homographies, confidence, model, reason, tuple(unsolved), find_jumps(homographies, unsolved, size))


def _choose(frames: list[_Frame]) -> tuple[str, str]:
    """The simplest model the shot needs: lowest BIC summed over its frames (residual against parameters)."""
    bic = dict.fromkeys(MODELS, 0.0)
    rms = dict.fromkeys(MODELS, 0.0)
    total = 0
    for f in frames[1:]:
        if not f.solved:
            continue
        n = 2 * len(f.ref)
        total += len(f.ref)
        for name in MODELS:
            try:
                h = fit_model(name, f.ref, f.seen)
            except ValueError:
                continue
            sq = float(np.sum((project(h, f.ref) - f.seen) ** 2))
            rms[name] += sq
            bic[name] += n * math.log(max(sq / n, _NOISE**2)) + _PARAMETERS[name] * math.log(n)
    if total == 0:
        return "translation", "nothing was tracked: translation, the simplest"
    best = min(MODELS, key=lambda name: bic[name])
    said = ", ".join(f"{name} {math.sqrt(rms[name] / total):.2f} px" for name in MODELS)
    return best, f"{best}: lowest BIC over {total} point matches (RMS residual {said})"


def find_jumps(homographies: np.ndarray, unsolved: Iterable[int], size: tuple[int, int]) -> tuple[int, ...]:
    """Frames whose camera leaps far beyond the shot's own pace: corner motion over 4× its median and over the
    median plus 3% of the width."""
    if len(homographies) < 3:
        return ()
    h, w = size
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64)
    where = np.stack([project(m, corners) for m in homographies])
    step = np.abs(np.diff(where, axis=0)).max(axis=(1, 2))
    lost = set(unsolved)
    moving = [s for i, s in enumerate(step, start=1) if i not in lost]
    pace = float(np.median(moving)) if moving else 0.0
    return tuple(i for i, s in enumerate(step, start=1) if i not in lost and s > max(4 * pace, pace + 0.03 * w))


def _mattes(mattes: object) -> Iterator[np.ndarray | None]:
    if mattes is None or callable(mattes):
        while True:
            yield None
    yield from mattes  # type: ignore[misc]
    while True:        # a shorter list of mattes: the rest of the plate has none
        yield None


def _gray(frame: np.ndarray, index: int) -> np.ndarray:
    picture = np.asarray(frame)
    if picture.ndim == 3 and picture.shape[2] >= 3:
        picture = cv2.cvtColor(np.ascontiguousarray(picture[..., :3]), cv2.COLOR_RGB2GRAY)
    elif picture.ndim == 3 and picture.shape[2] == 1:
        picture = picture[..., 0]
    if picture.ndim != 2 or picture.shape[0] < 16 or picture.shape[1] < 16:
        raise MediaError(f"frame {index} is not a picture (shape {np.asarray(frame).shape})")
    if picture.dtype != np.uint8:
        top = 65535.0 if picture.dtype == np.uint16 else 1.0
        picture = np.clip(picture.astype(np.float32) / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(picture)


def _fraction(size: tuple[int, int], width: int) -> tuple[int, int]:
    """``size`` (h, w) shrunk by the whole factor that makes it about ``width`` wide."""
    step = max(1, round(size[1] / max(1, width)))
    return size[0] // step, size[1] // step


def _grow(width: int) -> int:
    """How far the actor's matte is grown: 1% of the width, at least LK's half window (no window sees the actor)."""
    return max(_LK["winSize"][0] // 2 + 2, round(width / 100))


def _inside(points: np.ndarray, w: int, h: int, edge: int) -> np.ndarray:
    return ((points[:, 0] >= edge) & (points[:, 0] < w - edge) & (points[:, 1] >= edge) & (points[:, 1] < h - edge))
