"""What a tracked shot adds to the comp: the set on a solved camera, its shutter blur and lens, markers out of the key.

Per frame, on one OpenCV thread (the render comps two frames at once on a 2-thread pool), at 1080p: the still
set framed by a made-up pan (what an untracked shot pays) against the same set on a solved handheld camera
(a similarity track: pan + shake; and a homography track: the same with a slow zoom and roll), then with the
shutter's blur (180°) and a lens (k1 −0.06, k2 0.01); ``clear_markers`` on the keyed plate; and the whole
``ShotComp.frame`` (key, grain, colour match, light wrap, markers) over each background. The tracker's own
cost is ``benchmarks/track_speed.py``'s. Medians of ``repeat`` calls after one warm-up call.

    .venv/bin/python benchmarks/follow_cost.py [--small] [--repeat N]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from soundstage.comp import key, measure_screen
from soundstage.comp.camera import CameraMove, overscan_size
from soundstage.comp.follow import tracked_background
from soundstage.comp.lens import Lens
from soundstage.comp.markers import clear_markers
from soundstage.comp.shot import Look, ShotComp
from soundstage.media import read_frames

sys.path.insert(0, str(Path(__file__).resolve().parent))
from comp_speed import make_plate, make_set, median_ms  # sibling scripts, not a package

FRAMES = 48


def handheld(frames: int, width: int, *, zoom: bool) -> np.ndarray:
    """A solved handheld camera: a pan of width/40 px a frame, a few px of shake; with ``zoom`` also a slow zoom
    and a little roll (a homography track)."""
    moves = []
    for i in range(frames):
        c = np.array([[1, 0, width / 2], [0, 1, width * 9 / 32], [0, 0, 1]])
        angle, scale = (np.deg2rad(0.02 * i), 1 + 0.0008 * i) if zoom else (0.0, 1.0)
        turn = np.array([[scale * np.cos(angle), -scale * np.sin(angle), 0],
                         [scale * np.sin(angle), scale * np.cos(angle), 0], [0, 0, 1]])
        shift = np.array([[1, 0, -width / 40 * i + 3 * np.sin(1.3 * i)], [0, 1, 2 * np.sin(0.7 * i)], [0, 0, 1]])
        moves.append(shift @ c @ turn @ np.linalg.inv(c))
    return np.array(moves)


def markers(plate: np.ndarray) -> np.ndarray:
    """The plate with tracking markers taped on its open screen: dark dots and light crosses every 1/12 width."""
    marked = plate.copy()
    height, width = plate.shape[:2]
    step = width // 12
    for row, y in enumerate(range(step // 2, height, step)):
        for x in range(step // 2, width, step):
            if row % 2:
                cv2.circle(marked, (x, y), step // 20, (20, 80, 30), -1)
            else:
                cv2.line(marked, (x - step // 12, y), (x + step // 12, y), (210, 215, 210), max(2, step // 50))
                cv2.line(marked, (x, y - step // 12), (x, y + step // 12), (210, 215, 210), max(2, step // 50))
    return marked


def run(*, small: bool = False, repeat: int | None = None) -> list[tuple[str, float]]:
    cv2.setNumThreads(1)
    width, height = (480, 270) if small else (1920, 1080)
    repeat = repeat or (3 if small else 15)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plate.mp4"
        make_plate(path, width, height, 2)
        plate = next(iter(read_frames(path)))
    still = make_set(*overscan_size(width, height))
    matted = markers(plate)
    # keep the actor over her markers: markers only where the plain plate is screen
    screen = measure_screen(plate, "green")
    _, matte = key(plate, screen)
    matted = np.where((matte > 0)[..., None], plate, matted)
    lens = Lens.for_frame(width, height, k1=-0.06, k2=0.01)
    similarity, homography = handheld(FRAMES, width, zoom=False), handheld(FRAMES, width, zoom=True)
    backgrounds = {
        "made-up pan (flat rig)": CameraMove("pan-right").prepare(still, width, height, frames=FRAMES),
        "tracked, similarity (pan + shake)": tracked_background(still, similarity, width, height, shutter=0),
        "tracked, similarity + 180° shutter": tracked_background(still, similarity, width, height),
        "tracked, homography (+ zoom, roll)": tracked_background(still, homography, width, height, shutter=0),
        "tracked, homography + 180° shutter": tracked_background(still, homography, width, height),
        "tracked, homography + 180° shutter + lens": tracked_background(still, homography, width, height,
                                                                        lens=lens),
    }
    rows = []
    for label, background in backgrounds.items():
        frame = itertools.count(1)
        rows.append((label, median_ms(lambda b=background, f=frame: b(next(f) % FRAMES), repeat)))
    _, marked_matte = key(matted, screen)
    rows.append(("clear_markers (keyed plate with markers)",
                 median_ms(lambda: clear_markers(marked_matte, matted, screen), repeat)))
    look = Look(match_colour=0.5, light_wrap=0.35, grain=True)
    for label in ("made-up pan (flat rig)", "tracked, homography + 180° shutter + lens"):
        comp = ShotComp.prepare(width=width, height=height, frames=FRAMES, background=backgrounds[label], look=look,
                                first_plate=matted)
        frame = itertools.count(1)
        rows.append((f"ShotComp.frame over {label}",
                     median_ms(lambda c=comp, f=frame: c.frame(next(f) % FRAMES, matted), repeat)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="480×270, 3 repeats: a smoke run")
    parser.add_argument("--repeat", type=int, help="calls per median")
    args = parser.parse_args(argv)
    for label, ms in run(small=args.small, repeat=args.repeat):
        print(f"{label:<60} {ms:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
