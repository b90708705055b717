"""Lettering: text set in installed fonts, each character in the first font whose own charmap has it.

The text's script chooses the font (a Korean name on an English card is set in a Hangul face), read from each
font file's cmap through fontTools, with fontconfig asked for a font that has a character none of ours has. On
the media floor so that both the engines (placeholder labels) and the edit (the AI label, burn-ins) set text
the same way.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from fontTools.ttLib import TTFont, TTLibError
from PIL import Image, ImageDraw, ImageFont

# Fonts soundstage looks for, best first. Hangul ones come from Debian's fonts-nanum or fonts-noto-cjk.
LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
)
HANGUL_FONTS = (
    "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansKR-Bold.ttf",
    "/usr/share/fonts/truetype/unfonts-core/UnDotumBold.ttf",
)


@dataclass(frozen=True)
class Typeface:
    """The fonts text is set in, best first: each character is drawn in the first that has it.

    So the text's own script chooses the font, never the labels' language: a Korean set name on an English
    card is set in the Hangul face, the English words round it in the Latin one. ``()``: Pillow's own face.
    """

    paths: tuple[Path, ...] = ()

    @property
    def hangul(self) -> bool:
        """Whether it can set Korean (the label's own words in Korean need it)."""
        return self.has("가")

    def has(self, char: str) -> bool:
        return _drawable(char) or any(ord(char) in charmap for charmap in self._charmaps)

    def missing(self, texts: Iterable[str]) -> list[str]:
        """The characters of ``texts`` that none of its fonts has, in order of first use."""
        return list(dict.fromkeys(char for text in texts for char in text if not self.has(char)))

    def covering(self, texts: Iterable[str]) -> tuple[Typeface, list[str]]:
        """This face with an installed font added for each character of ``texts`` it lacks, and the characters
        that no installed font has (they would show as boxes)."""
        paths, lost = list(self.paths), []
        for char in self.missing(texts):
            found = next((path for path in paths[len(self.paths):] if ord(char) in _charmap(str(path))), None) \
                or _installed_font_with(char)
            if found is None:
                lost.append(char)
            elif found not in paths:
                paths.append(found)
        return Typeface(tuple(paths)), lost

    @property
    def key(self) -> list[object]:
        """Enough to tell fonts apart in a ledger key without hashing megabytes of font."""
        return [[path.name, path.stat().st_size] for path in self.paths] or ["pillow-default"]

    def at(self, size: int) -> Lettering:
        size = max(6, size)
        if not self.paths:
            return Lettering([(_font(None, size), _PILLOW_CHARS)])
        return Lettering([(_font(str(path), size), _charmap(str(path))) for path in self.paths])

    @property
    def _charmaps(self) -> list[frozenset[int]]:
        return [_charmap(str(path)) for path in self.paths] if self.paths else [_PILLOW_CHARS]


Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
_PILLOW_CHARS = frozenset(range(0x20, 0x100))    # Pillow's own face: Latin-1, and no further that we know of


class Lettering:
    """A typeface at one size: text measured and drawn in runs, each run in the first font that has its characters.

    Positions are of the first font's baseline, so runs in several fonts sit on one line.
    """

    def __init__(self, fonts: list[tuple[Font, frozenset[int]]]) -> None:
        self.fonts = fonts

    def runs(self, text: str) -> list[tuple[Font, str]]:
        runs: list[tuple[Font, str]] = []
        for char in text:
            font = self.fonts[0][0] if not runs else runs[-1][0]
            if not _drawable(char):
                font = next((f for f, charmap in self.fonts if ord(char) in charmap), font)
            if runs and runs[-1][0] is font:
                runs[-1] = (font, runs[-1][1] + char)
            else:
                runs.append((font, char))
        return runs

    def getlength(self, text: str) -> float:
        return sum(font.getlength(run) for font, run in self.runs(text))

    def getbbox(self, text: str) -> tuple[float, float, float, float]:
        """The inked box of ``text`` drawn from (0, 0) on the baseline: left, top, right, bottom."""
        x, boxes = 0.0, []
        for font, run in self.runs(text):
            left, top, right, bottom = font.getbbox(run, anchor="ls")
            boxes.append((x + left, top, x + right, bottom))
            x += font.getlength(run)
        if not boxes:
            return 0, 0, 0, 0
        return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)

    def draw(self, draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, fill: tuple[int, ...],
             *, centred: bool = False) -> None:
        """Draw ``text`` with its baseline starting at ``xy``; ``centred``: centred on ``xy`` both ways."""
        x, y = xy
        if centred:
            first = self.fonts[0][0]
            ascent, descent = first.getmetrics() if isinstance(first, ImageFont.FreeTypeFont) else (0, 0)
            x, y = x - self.getlength(text) / 2, y + (ascent - descent) / 2
        for font, run in self.runs(text):
            draw.text((x, y), run, font=font, fill=fill, anchor="ls")
            x += font.getlength(run)


def _drawable(char: str) -> bool:
    """Spaces and format characters need no glyph: any font sets them."""
    return unicodedata.category(char) in ("Zs", "Zl", "Zp", "Cc", "Cf")


@cache
def _font(path: str | None, size: int) -> Font:
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


@cache
def _charmap(path: str) -> frozenset[int]:
    """The characters a font file (.ttf, .otf, or a .ttc's first face) has glyphs for, from its cmap table."""
    try:
        with TTFont(path, fontNumber=0, lazy=True) as font:
            return frozenset(font.getBestCmap() or ())
    except (OSError, TTLibError, AssertionError, KeyError):   # not a font file, or a damaged one
        return frozenset()


@cache
def _installed_font_with(char: str) -> Path | None:
    """An installed font that has ``char`` (fontconfig's index, checked against the font's own cmap)."""
    if shutil.which("fc-list"):
        try:
            found = subprocess.run(["fc-list", f":charset={ord(char):x}", "file"], capture_output=True, text=True,
                                   timeout=10, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            found = ""
        files = sorted(line.split(":")[0].strip() for line in found.splitlines() if line.strip())
    else:
        files = sorted(str(path) for path in Path("/usr/share/fonts").rglob("*") if path.suffix.lower() in
                       (".ttf", ".otf", ".ttc"))
    return next((Path(file) for file in files if ord(char) in _charmap(file)), None)


@cache
def _system_hangul_font() -> str | None:
    for candidate in HANGUL_FONTS:
        if Path(candidate).is_file():
            return candidate
    if shutil.which("fc-list"):
        try:
            found = subprocess.run(["fc-list", ":lang=ko", "file"], capture_output=True, text=True, timeout=10,
                                   check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        files = sorted(line.split(":")[0].strip() for line in found.splitlines() if line.strip())
        return files[0] if files else None
    return None


def installed_face() -> Typeface:
    """A Latin face, then a Hangul one: whichever of them is installed."""
    latin = next((Path(p) for p in LATIN_FONTS if Path(p).is_file()), None)
    hangul = _system_hangul_font()
    return Typeface(tuple(path for path in (latin, Path(hangul) if hangul else None) if path is not None))


def face_for(text: str) -> Typeface:
    """An installed face that can set ``text`` (for labels drawn outside a project, such as placeholders)."""
    return installed_face().covering([text])[0]


def text_patch(text: str, face: Typeface, height: int, *, pad: float = 0.35, opacity: float = 1.0,
               colour: tuple[int, int, int] = (255, 255, 255), box: tuple[int, int, int, int] = (0, 0, 0, 150)
               ) -> np.ndarray:
    """``text`` in white on a translucent dark box, as straight RGBA: readable on any shot."""
    lettering = face.at(height)
    left, top, right, bottom = (round(edge) for edge in lettering.getbbox(text))
    margin = max(2, round(height * pad))
    width, tall = right - left + 2 * margin, bottom - top + 2 * margin
    image = Image.new("RGBA", (int(width + width % 2), int(tall + tall % 2)), box)
    lettering.draw(ImageDraw.Draw(image), (margin - left, margin - top), text, (*colour, 255))
    rgba = np.asarray(image).copy()
    rgba[..., 3] = (rgba[..., 3].astype(np.float32) * opacity).round().astype(np.uint8)
    return rgba
