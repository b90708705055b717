"""Build the stand-in keying material: real photographs and a carefully pulled reference matte for each.

The keying benchmark reads ``fg/NAME.png`` (the subject's own colour, straight, RGB) and ``alpha/NAME.png``
(its matte, 8-bit), the same contract as the real ground-truth set that is to land in
``../shared/bench/keying/``. Until it does, this script makes the pairs from scikit-image's data photographs
(public domain or CC0, see ``README.md``). The mattes are *pulled*, not measured: they are the truth of the
plates the benchmark composites from them, but only an estimate of the photographs' real coverage.

- ``astronaut``: the matte the example plates already use (``examples/moonlit-hanok/plates/source/
  astronaut_matte.png``: GrabCut from hand hints, then closed-form matting in the hair), reused as is.
- ``chelsea`` (the cat, fur): GrabCut from hand-drawn hints, then closed-form matting (Levin et al. 2008) in
  a 6-px band around the cut, 10 px where the fur is longest; the top of the photo, cut at y = 240.
- ``coffee`` (cup, saucer and spoon on a wooden table: hard, glossy edges): GrabCut from an ellipse hint
  around the saucer and polygons for the cup and spoon, then closed-form matting in a 2-px band.
- ``rocket`` (the launch towers' lattice against a clear dusk sky: hundreds of one-pixel struts): the sky
  is fitted as a smooth cubic surface per channel, pixels that match it are certain sky, pixels far from it
  certain subject, and closed-form matting solves everything between.

The subject's colour at the soft edge is recovered by taking the photo's own backdrop out (the fitted sky,
or the backdrop spread in from nearby), as ``build_plates.py`` does, with a wider fall-back where a pixel is
too transparent for the division to be trusted. Where alpha is 0 the colour is stored as black (it is never
seen, and it keeps the PNGs small).

    .venv/bin/pip install -e '.[plates]'          # scikit-image (and scipy) for the photos and the solver
    .venv/bin/python benchmarks/keying/build_reference.py [--only NAME ...] [--preview DIR]

The same code gives the same bytes: GrabCut is seeded, everything else is deterministic.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np

from soundstage.atomic import write_bytes

HERE = Path(__file__).resolve().parent
PLATES = HERE.parents[1] / "examples" / "moonlit-hanok" / "plates"

Point = tuple[int, int]


def _plates_module() -> ModuleType:
    """The example's plate builder: its matte solver and its stored astronaut matte are reused here."""
    spec = importlib.util.spec_from_file_location("build_plates", PLATES / "build_plates.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {PLATES / 'build_plates.py'}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_plates"] = module      # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _photo(name: str) -> np.ndarray:
    try:
        from skimage import data
    except ImportError:
        raise SystemExit("the material needs scikit-image: pip install -e '.[plates]'") from None
    return np.ascontiguousarray(getattr(data, name)()[..., :3])


@dataclass(frozen=True)
class Subject:
    """One photograph, where to crop it, and the hand-drawn hints that start its matte pull."""

    name: str
    crop: tuple[int, int, int, int] | None = None        # y0, y1, x0, x1 in the photo
    sure_subject: list[list[Point]] = field(default_factory=list)   # in cropped pixels
    sure_backdrop: list[list[Point]] = field(default_factory=list)
    # Or an outline: rotated ellipses (centre, full axes, angle) and polygons whose inside (less ``margin``)
    # is certain subject and whose outside (plus ``margin``) is certain backdrop.
    outline_boxes: list[tuple[tuple[float, float], tuple[float, float], float]] = field(default_factory=list)
    outline_polygons: list[list[Point]] = field(default_factory=list)
    margin: int = 5
    scale: float = 1.0                                    # shrink the result (keeps the stored PNGs small)
    band: int = 2                                         # half-width of the matting band around the cut
    wide_band: int = 0                                    # ... and where it is widened (fur, hair)
    wide_where: list[list[Point]] = field(default_factory=list)


# Hints drawn by hand in each cropped photo's pixels (x right, y down), checked by eye on previews.
CHELSEA = Subject(
    "chelsea", crop=(0, 240, 0, 451),
    sure_subject=[[(60, 12), (200, 0), (330, 0), (345, 45), (342, 110), (335, 165), (318, 205), (300, 240),
                   (0, 240), (0, 160), (42, 112), (48, 40)],
                  [(330, 0), (392, 0), (378, 22), (362, 48), (348, 62), (338, 40)]],     # her right ear
    sure_backdrop=[[(418, 0), (451, 0), (451, 240), (348, 240), (356, 212), (366, 188), (371, 150), (372, 104),
                    (377, 78), (390, 48)],
                   [(0, 0), (24, 0), (20, 50), (16, 96), (0, 112)]],
    band=6, wide_band=10,
    wide_where=[[(300, 0), (451, 0), (451, 240), (300, 240)], [(0, 0), (80, 0), (80, 140), (0, 140)]],
)
COFFEE = Subject(
    "coffee", crop=(0, 400, 50, 500), scale=0.75,
    # The saucer and the cup's rim are ellipses fitted to edge points picked by hand; the spoon's handle,
    # which rises above the saucer, is a polygon. Inside them (less 5 px) is certain, outside (plus 5) not.
    outline_boxes=[((227.3, 222.7), (334.8, 415.7), 100.45), ((241.0, 112.0), (236.0, 188.0), 0.0)],
    outline_polygons=[[(348, 75), (362, 68), (372, 75), (365, 105), (350, 180), (335, 235), (328, 235),
                       (345, 110)]],
    band=2,
)
ROCKET = Subject("rocket", crop=(0, 330, 20, 620))
ASTRONAUT = Subject("astronaut", crop=(0, 384, 0, 512))    # her head, hair and shoulders: the helmet is cut


# ----------------------------------------------------------------------------------------------- the pulls


def _polygons(shape: tuple[int, int], polygons: list[list[Point]]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    if polygons:
        cv2.fillPoly(mask, [np.array(p, np.int32) for p in polygons], 255)
    return mask > 0


def _one_piece(mask: np.ndarray) -> np.ndarray:
    """The biggest connected piece of the mask, with its holes filled (backdrop that touches no border)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    part = (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    count, labels = cv2.connectedComponents(1 - part, connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    holes = ~np.isin(labels, border) & (part == 0)
    return part | holes.astype(np.uint8)


def pull_grabcut(photo: np.ndarray, subject: Subject, plates: ModuleType) -> np.ndarray:
    """GrabCut from the hints for the shape, closed-form matting in a band around its cut for the edge."""
    shape = photo.shape[:2]
    sure = _polygons(shape, subject.sure_subject)
    backdrop = _polygons(shape, subject.sure_backdrop)
    if subject.outline_boxes or subject.outline_polygons:
        outline = _polygons(shape, subject.outline_polygons).astype(np.uint8)
        for box in subject.outline_boxes:
            cv2.ellipse(outline, box, 1, -1)
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * subject.margin + 1,) * 2)
        sure |= cv2.erode(outline, disc) > 0
        backdrop |= cv2.dilate(outline, disc) == 0
    backdrop &= ~sure
    hints = np.full(shape, cv2.GC_PR_BGD, np.uint8)
    hints[cv2.dilate(sure.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0] = cv2.GC_PR_FGD
    hints[sure] = cv2.GC_FGD
    hints[backdrop] = cv2.GC_BGD
    cv2.setRNGSeed(2026)
    models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), hints, (0, 0, 0, 0), models[0], models[1], 10,
                cv2.GC_INIT_WITH_MASK)
    solid = _one_piece(np.isin(hints, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8))
    band = plates._band(solid, subject.band)
    if subject.wide_band:
        band |= plates._band(solid, subject.wide_band) & _polygons(shape, subject.wide_where)
    band &= ~sure | plates._band(solid, subject.band)   # certain subject stays certain, except at the cut
    alpha = plates.solve_closed_form(photo.astype(np.float64) / 255.0, solid.astype(np.float64), ~band)
    alpha[~band] = solid[~band]
    return alpha


def fit_sky(photo: np.ndarray) -> np.ndarray:
    """A smooth picture of the sky behind the subject (float32 RGB).

    A cubic surface per channel, fitted robustly, gives the broad dusk gradient; the lens's darker corners
    and the haze low down are then followed by spreading what the cubic misses on sure-sky pixels back in
    (a normalised blur, σ 12 px).
    """
    image = photo.astype(np.float32)
    height, width = image.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = xx / width, yy / height
    terms = np.stack([t.ravel() for t in (np.ones_like(u), u, v, u * u, u * v, v * v, u**3, u * u * v,
                                          u * v * v, v**3)], axis=1)
    pixels = image.reshape(-1, 3)
    chosen = image[..., 2].ravel() - image[..., 0].ravel() > 18      # blue sky, not the lit steel
    for _ in range(5):   # refit on the pixels the last fit explains: struts and stars drop out
        coef, *_ = np.linalg.lstsq(terms[chosen], pixels[chosen], rcond=None)
        chosen = np.abs(pixels - terms @ coef).max(axis=1) < 8
    sky = (terms @ coef).reshape(height, width, 3).astype(np.float32)
    for _ in range(3):
        residual = image - sky
        weight = (np.abs(residual).max(axis=-1) < 10).astype(np.float32)
        weight = cv2.erode(weight, np.ones((3, 3), np.uint8))            # not the struts' fringes
        correction, found = _spread(residual, weight, 12.0)
        sky = sky + correction * np.clip(found / 0.1, 0.0, 1.0)[..., None]
    return sky


def pull_against_sky(photo: np.ndarray, sky: np.ndarray, plates: ModuleType) -> np.ndarray:
    """The lattice's matte: certain sky where the photo matches the fitted sky, closed-form matting between."""
    distance = np.linalg.norm(photo.astype(np.float32) - sky, axis=-1)
    square = np.ones((3, 3), np.uint8)
    sky_sure = cv2.erode((distance < 7).astype(np.uint8), square) > 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats((~sky_sure).astype(np.uint8), connectivity=8)
    specks = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] < 12]   # stars, JPEG blocks
    sky_sure |= np.isin(labels, specks)
    subject_sure = cv2.erode((distance > 45).astype(np.uint8), square) > 0
    known = sky_sure | subject_sure
    return plates.solve_closed_form(photo.astype(np.float64) / 255.0, subject_sure.astype(np.float64), known)


# ----------------------------------------------------------------------------------------- the edge colour


def _spread(image: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The weighted local mean of ``image`` (and how much weight was there), by normalised Gaussian blur."""
    num = cv2.GaussianBlur(image * weight[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    return num / np.maximum(den, 1e-6)[..., None], den


def subject_colour(photo: np.ndarray, alpha: np.ndarray, backdrop: np.ndarray | None = None) -> np.ndarray:
    """The subject's own colour (H×W×3 uint8), with the photo's backdrop unmixed from its soft edge.

    An edge pixel is α·subject + (1 − α)·backdrop. The backdrop is given (a fitted sky) or spread in from
    nearby pure backdrop; dividing it out is trusted from α ≈ 0.6 up, below that the colour of the nearest
    solid subject takes over (searched ever wider: a one-pixel strut has no solid pixel next to it).
    """
    image = photo.astype(np.float32)
    if backdrop is None:
        backdrop, _ = _spread(image, (alpha <= 0.0).astype(np.float32), 6.0)
    solid = (alpha >= 0.98).astype(np.float32)
    nearby = np.zeros_like(image)
    found = np.zeros(alpha.shape, np.float32)
    for sigma in (2.0, 6.0, 18.0, 54.0):
        mean, weight = _spread(image, solid, sigma)
        take = np.clip(weight / 0.05, 0.0, 1.0) * (1.0 - found)
        nearby += take[..., None] * mean
        found += take
    safe = np.maximum(alpha, 0.05)[..., None]
    unmixed = np.clip((image - (1.0 - alpha[..., None]) * backdrop) / safe, 0.0, 255.0)
    trust = np.clip((alpha - 0.6) / 0.35, 0.0, 1.0)[..., None]
    colours = trust * unmixed + (1.0 - trust) * nearby
    colours = np.where((alpha >= 1.0)[..., None], image, colours)
    colours[alpha <= 0.0] = 0.0
    return np.clip(np.round(colours), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------------ building


def _crop(photo: np.ndarray, subject: Subject) -> np.ndarray:
    if subject.crop is None:
        return photo
    y0, y1, x0, x1 = subject.crop
    return np.ascontiguousarray(photo[y0:y1, x0:x1])


def _to8(alpha: np.ndarray) -> np.ndarray:
    return np.clip(np.round(alpha * 255.0), 0, 255).astype(np.uint8)


def build(name: str, plates: ModuleType) -> tuple[np.ndarray, np.ndarray]:
    """The pair for one subject: its colour (H×W×3 uint8 RGB) and its reference matte (H×W uint8)."""
    backdrop: np.ndarray | None = None
    subject = {"astronaut": ASTRONAUT, "chelsea": CHELSEA, "coffee": COFFEE, "rocket": ROCKET}[name]
    photo = _crop(_photo(name), subject)
    if name == "astronaut":
        matte = cv2.imread(str(plates.MATTE), cv2.IMREAD_GRAYSCALE)
        if matte is None:
            raise SystemExit(f"{plates.MATTE} is missing: run build_plates.py first")
        alpha = _crop(matte, subject).astype(np.float32) / 255.0
    elif name == "rocket":
        backdrop = fit_sky(photo)
        alpha = pull_against_sky(photo, backdrop, plates)
    else:
        alpha = pull_grabcut(photo, subject, plates)
    matte = _to8(alpha)
    fg = subject_colour(photo, matte.astype(np.float32) / 255.0, backdrop)
    if subject.scale != 1.0:   # shrink coverage and premultiplied colour by area, then unpremultiply
        size = (round(matte.shape[1] * subject.scale), round(matte.shape[0] * subject.scale))
        a = matte.astype(np.float32) / 255.0
        small_a = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
        small_fg = cv2.resize(fg.astype(np.float32) * a[..., None], size, interpolation=cv2.INTER_AREA)
        fg = np.clip(np.round(small_fg / np.maximum(small_a, 1e-6)[..., None]), 0, 255).astype(np.uint8)
        matte = _to8(small_a)
        fg[matte == 0] = 0
    return fg, matte


def _png(image: np.ndarray) -> bytes:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return encoded.tobytes()


def _preview(fg: np.ndarray, matte: np.ndarray) -> np.ndarray:
    """The subject over a checkerboard beside its matte: for checking a pull by eye."""
    height, width = matte.shape
    yy, xx = np.mgrid[0:height, 0:width]
    checker = np.where(((yy // 16 + xx // 16) % 2)[..., None] == 0, 90, 160).astype(np.float32)
    a = matte.astype(np.float32)[..., None] / 255.0
    comp = np.clip(fg * a + checker * (1 - a), 0, 255).astype(np.uint8)
    return np.concatenate([comp, np.repeat(matte[..., None], 3, axis=2)], axis=1)


NAMES = ("astronaut", "chelsea", "coffee", "rocket")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=NAMES, metavar="NAME", help="build only these subjects")
    parser.add_argument("--out", type=Path, default=HERE, help="where fg/ and alpha/ go (default: beside me)")
    parser.add_argument("--preview", type=Path, help="also write NAME_preview.png here, to check by eye")
    args = parser.parse_args(argv)
    plates = _plates_module()
    for name in args.only or NAMES:
        started = time.perf_counter()
        fg, matte = build(name, plates)
        fg_bytes, alpha_bytes = _png(fg), _png(matte)
        write_bytes(args.out / "fg" / f"{name}.png", fg_bytes)
        write_bytes(args.out / "alpha" / f"{name}.png", alpha_bytes)
        if args.preview:
            write_bytes(args.preview / f"{name}_preview.png", _png(_preview(fg, matte)))
        soft = float(((matte > 0) & (matte < 255)).mean())
        print(f"{name}: {matte.shape[1]}×{matte.shape[0]}, {100 * soft:.1f}% soft edge, "
              f"{(len(fg_bytes) + len(alpha_bytes)) / 1e3:.0f} KB, {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
