"""Write ``moonlit.cube``, the example film's final grade: a gentle filmic S-curve, shadows cooled toward teal
and highlights warmed toward amber (the look bible's "teal nights and amber lantern light").

A colourist would make this in Resolve; it is generated here so that its numbers are reviewable.

    .venv/bin/python examples/moonlit-hanok/grade/make_lut.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from soundstage.comp.grade import Lut3D, write_cube

SIZE = 17


def grade(rgb: np.ndarray) -> np.ndarray:
    luma = rgb @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    curve = 0.5 + 0.5 * np.tanh(2.2 * (luma - 0.5)) / np.tanh(1.1)     # S-curve through mid-grey
    lift = np.where(luma > 1e-4, curve / np.maximum(luma, 1e-4), 1.0)[..., None]
    toned = rgb * (0.35 + 0.65 * lift)                                # contrast, mostly in luma
    shadows = (1.0 - luma)[..., None] ** 2
    highlights = luma[..., None] ** 2
    toned += 0.035 * shadows * np.array([-1.0, 0.25, 0.6], np.float32)   # teal in the shadows
    toned += 0.03 * highlights * np.array([0.8, 0.3, -0.7], np.float32)  # amber in the highlights
    return np.clip(toned, 0.0, 1.0).astype(np.float32)


def main() -> None:
    identity = Lut3D.identity(SIZE)
    assert identity.cube is not None
    lut = Lut3D(grade(identity.cube), title="Moonlit Hanok final grade")
    write_cube(Path(__file__).with_name("moonlit.cube"), lut)


if __name__ == "__main__":
    main()
