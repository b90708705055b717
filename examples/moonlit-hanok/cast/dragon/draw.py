"""Draw the example's reference image of its dragon (용), ``reference.png``, by rule: no person drew it.

The example has no concept artist, so its cast member's reference is drawn here, procedurally: a red serpent
dragon with a dark belly and dark scales, golden spines and pale horns, on an even green ground, as a creature
sheet is often painted for a chroma shoot. ``cast.toml`` says so (``made = "procedural"``), and the disclosure
report therefore does not list it as human work. A studio puts its artist's drawing here instead and sets
``made = "drawing"``.

Run it again with ``python examples/moonlit-hanok/cast/dragon/draw.py``; the same code gives the same pixels.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT = 640, 400
GROUND = (34, 177, 76)          # RGB: the green the procedural engine's screen is lit to
BODY = (176, 36, 28)
SCALE = (112, 20, 22)
BELLY = (38, 24, 30)            # dark parts of its own: a luminance key would make them holes
SPINE = (232, 178, 58)
HORN = (236, 226, 204)


def spine_points(count: int = 90) -> list[tuple[float, float, float]]:
    """(x, y, half thickness) along the body, tail (left) to neck (right): an S that thickens to the head."""
    points = []
    for i in range(count):
        t = i / (count - 1)
        x = 40 + t * 420
        y = HEIGHT * 0.58 + math.sin(t * 2.6 * math.pi) * 70 * (1 - 0.45 * t) - t * 60
        points.append((x, y, 5 + 27 * math.sin(min(t * 1.3, 1.0) * math.pi / 2)))
    return points


def draw() -> np.ndarray:
    """The reference, RGB uint8."""
    picture = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    picture[:] = GROUND
    points = spine_points()
    for x, y, r in points:                                  # spines first, so the body covers their roots
        cv2.fillConvexPoly(picture, np.array([[x - r * 0.4, y - r * 0.8], [x + r * 0.4, y - r * 0.8],
                                              [x, y - r * 1.45]], np.int32), SPINE, cv2.LINE_AA)
    for x, y, r in points:
        cv2.circle(picture, (round(x), round(y)), round(r), BODY, -1, cv2.LINE_AA)
    for x, y, r in points[::3]:                             # scales: dark arcs down its back
        cv2.ellipse(picture, (round(x), round(y - r * 0.3)), (round(r * 0.5), round(r * 0.35)), 0, 0, 180, SCALE, 2,
                    cv2.LINE_AA)
    for x, y, r in points:                                  # the belly: a dark band along its underside
        cv2.circle(picture, (round(x), round(y + r * 0.55)), round(r * 0.42), BELLY, -1, cv2.LINE_AA)
    x, y, r = points[-1]
    head = (round(x + 38), round(y - 18))
    cv2.ellipse(picture, head, (58, 34), -12, 0, 360, BODY, -1, cv2.LINE_AA)
    cv2.ellipse(picture, (head[0] + 34, head[1] + 14), (34, 12), -8, 0, 360, BELLY, -1, cv2.LINE_AA)   # the jaw
    for dx, lean in ((-22, -0.9), (2, -0.6)):                                                          # the horns
        base = (head[0] + dx, head[1] - 16)
        tip = (round(base[0] + 46 * math.sin(lean)), round(base[1] - 46 * math.cos(lean)))
        cv2.line(picture, base, tip, HORN, 7, cv2.LINE_AA)
    cv2.circle(picture, (head[0] + 18, head[1] - 8), 7, SPINE, -1, cv2.LINE_AA)                       # the eye
    cv2.circle(picture, (head[0] + 19, head[1] - 8), 3, BELLY, -1, cv2.LINE_AA)
    for side in (-1, 1):                                                                               # whiskers
        cv2.line(picture, (head[0] + 52, head[1] + 2), (head[0] + 86, head[1] + 2 + side * 24), SPINE, 3,
                 cv2.LINE_AA)
    return picture


def main() -> None:
    target = Path(__file__).with_name("reference.png")
    ok, data = cv2.imencode(".png", cv2.cvtColor(draw(), cv2.COLOR_RGB2BGR))
    if not ok:
        raise SystemExit("could not encode the reference as PNG")
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data.tobytes())
    partial.replace(target)            # atomic: a killed run leaves the old reference whole
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
