"""The ColorChecker the colour tests share: colour-science's reference values, as XYZ (D65) and CIE Lab."""

from __future__ import annotations

import colour
import numpy as np

D65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]


def chart_xyz() -> np.ndarray:
    """The 24 patches' XYZ under D65 (24×3), from the ColorChecker 2005 reference (D50, Bradford-adapted)."""
    checker = colour.CCS_COLOURCHECKERS["ColorChecker 2005"]
    xyy = np.array(list(checker.data.values()))
    return colour.adaptation.chromatic_adaptation_VonKries(colour.xyY_to_XYZ(xyy), colour.xy_to_XYZ(checker.illuminant),
                                                           colour.xy_to_XYZ(D65), transform="Bradford")


def lab(xyz: np.ndarray) -> np.ndarray:
    return colour.XYZ_to_Lab(xyz, D65)


def delta_e(xyz_a: np.ndarray, xyz_b: np.ndarray) -> np.ndarray:
    return colour.delta_E(lab(xyz_a), lab(xyz_b), method="CIE 2000")


def srgb_code_to_xyz(code: np.ndarray) -> np.ndarray:
    """Display sRGB code values 0..1 → XYZ, as a viewer sees them."""
    return colour.RGB_to_XYZ(code, colour.RGB_COLOURSPACES["sRGB"], apply_cctf_decoding=True)


def patches(values: np.ndarray, size: int = 16) -> np.ndarray:
    """24 values (24×3) laid out as the chart's 6×4 patches of ``size`` px: a (4·size)×(6·size)×3 picture."""
    return np.repeat(np.repeat(values.reshape(4, 6, 3), size, axis=0), size, axis=1)


def read_patches(picture: np.ndarray, size: int = 16) -> np.ndarray:
    """The mean of each patch's inner half (away from chroma-subsampled edges), 24×3."""
    inner = slice(size // 4, size - size // 4)
    cells = picture.reshape(4, size, 6, size, 3)[:, inner, :, inner]
    return cells.mean(axis=(1, 3)).reshape(24, 3)
