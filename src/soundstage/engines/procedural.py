"""The built-in procedural engine: offline sets and VFX elements from numpy and OpenCV alone.

It is not AI. It reads the words of a prompt (English or Korean) against a small vocabulary, builds a
scene from layers (sky, terrain, architecture, weather, a film finish) and draws it deterministically from
the seed. Every new user sees its output first, and every test and demo can run without a network, so it
favours good composition (horizon near the lower third, room for an actor in the lower middle) and speed
(low-frequency fields are drawn small and upscaled).

Public: :class:`ProceduralEngine`, :func:`set_image`, :func:`element_frame`, :func:`read_scene`,
:data:`VOCABULARY`, :data:`ELEMENTS`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from soundstage import __version__
from soundstage.atomic import atomic_path
from soundstage.engines.base import AssetKind, AssetRequest, EngineOptions, Generated, Quote, SourceType
from soundstage.errors import EngineError

GENERATOR_VERSION = "1"
MODEL = "soundstage-procedural"

F32 = np.float32
Array = np.ndarray
RGB = tuple[float, float, float]

# ---------------------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------------------

#: category -> concept -> keywords. English words match whole words (plurals too); Korean words match a
#: token, the token plus a particle (산에서, 바다가), or, from two syllables up, inside a compound (한옥마을).
VOCABULARY: dict[str, dict[str, tuple[str, ...]]] = {
    "time": {
        "dawn": ("dawn", "sunrise", "daybreak", "first light", "새벽", "여명", "일출", "동틀녘", "해돋이"),
        "morning": ("morning", "아침", "오전"),
        "day": ("day", "daytime", "noon", "midday", "daylight", "sunny", "sunlit", "낮", "한낮", "대낮",
                "정오", "햇빛", "햇살"),
        "afternoon": ("afternoon", "오후"),
        "dusk": ("dusk", "sunset", "twilight", "golden hour", "sundown", "황혼", "노을", "일몰", "해질녘",
                 "석양"),
        "evening": ("evening", "저녁", "땅거미"),
        "night": ("night", "midnight", "tonight", "moon", "moonlit", "moonlight", "starry", "stars",
                  "밤", "밤하늘", "밤바다", "한밤", "한밤중", "심야", "자정", "야간", "달", "달빛", "보름달",
                  "별빛"),
    },
    "terrain": {
        "mountains": ("mountain", "mountain pass", "peak", "hill", "valley", "alps", "산", "산맥",
                      "산길", "산속", "고개", "봉우리", "언덕", "계곡", "능선"),
        "sea": ("sea", "ocean", "beach", "coast", "shore", "bay", "harbor", "harbour", "seaside", "lake",
                "바다", "밤바다", "해변", "해안", "항구", "호수", "바닷가", "포구"),
        "desert": ("desert", "dune", "sand", "wasteland", "badlands", "사막", "모래", "사구", "황무지"),
        "forest": ("forest", "woods", "woodland", "tree", "jungle", "pine", "숲", "숲속", "산림", "나무",
                   "소나무", "밀림", "대나무"),
        "cliff": ("cliff", "headland", "bluff", "crag", "promontory", "절벽", "벼랑", "낭떠러지", "해안절벽"),
        "plains": ("plain", "field", "meadow", "grassland", "farmland", "prairie", "들", "들판", "평야",
                   "초원", "논", "밭"),
    },
    "architecture": {
        "hanok": ("hanok", "korean house", "tiled roof", "giwa", "한옥", "기와", "기와집", "고택", "사랑채"),
        "rooftops": ("rooftop", "roof", "roofline", "지붕", "옥상", "처마"),
        "temple": ("temple", "monastery", "shrine", "pagoda", "절", "사찰", "사원", "탑", "암자", "산사"),
        "palace": ("palace", "royal court", "throne hall", "궁", "궁궐", "궁전", "고궁", "경복궁", "왕궁"),
        "city": ("city", "skyline", "downtown", "skyscraper", "metropolis", "street", "building", "도시",
                 "빌딩", "시내", "도심", "거리", "서울"),
        "tower": ("tower", "spire", "antenna", "타워", "첨탑", "송신탑"),
        "castle": ("castle", "fortress", "citadel", "성", "성곽", "요새", "산성"),
        "village": ("village", "hamlet", "town", "farmhouse", "cabin", "cottage", "house", "마을", "시골",
                    "농가", "집", "초가"),
        "lighthouse": ("lighthouse", "beacon", "등대"),
    },
    "weather": {
        "fog": ("fog", "foggy", "mist", "misty", "haze", "hazy", "smoke", "smoky", "murk", "murky",
                "안개", "물안개", "연무", "연기", "운무"),
        "rain": ("rain", "rainy", "raining", "downpour", "drizzle", "monsoon", "storm", "비", "빗속",
                 "빗줄기", "폭우", "장마", "소나기", "우중"),
        "snow": ("snow", "snowy", "snowing", "blizzard", "winter", "snowfall", "눈", "눈보라", "폭설",
                 "겨울", "설경", "함박눈"),
        "storm": ("storm", "stormy", "thunder", "thunderstorm", "tempest", "폭풍", "태풍", "천둥", "뇌우"),
        "overcast": ("overcast", "cloudy", "clouds", "gloomy", "grey sky", "gray sky", "흐린", "구름",
                     "먹구름", "잿빛"),
        "clear": ("clear", "cloudless", "clear sky", "맑은", "청명", "쾌청"),
    },
    "distance": {
        "far": ("far off", "far away", "distant", "in the distance", "on the horizon", "멀리", "저멀리", "아득한",
                "먼"),
    },
    "material": {
        "glass": ("glass", "crystal", "ice", "mirror", "glittering", "유리", "수정", "얼음", "거울"),
    },
    "look": {
        "teal_orange": ("teal and orange", "orange and teal", "teal orange", "blockbuster", "틸 오렌지"),
        "warm": ("warm", "golden", "amber", "sepia", "따뜻한", "따스한", "웜톤"),
        "cold": ("cold", "cool", "icy", "bleak", "차가운", "차갑", "서늘한", "쿨톤"),
        "desaturated": ("desaturated", "muted", "bleach bypass", "washed out", "horror", "탈색", "무채색",
                        "공포"),
        "monochrome": ("black and white", "monochrome", "noir", "b w", "흑백"),
        "grain": ("film grain", "grain", "grainy", "16mm", "35mm", "super 8", "analog", "celluloid",
                  "필름", "그레인"),
        "contrast": ("high contrast", "contrasty", "crushed blacks", "chiaroscuro", "고대비"),
        "soft": ("soft", "dreamy", "faded", "pastel", "vintage", "lifted blacks", "몽환", "빈티지"),
    },
}

_TOKEN = re.compile(r"[a-z0-9]+|[\uac00-\ud7a3]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Korean particles and place nouns that may follow a one-syllable keyword (산에서, 밤의, 비속에).
_PARTICLES = frozenset({
    "이", "가", "은", "는", "을", "를", "에", "에서", "에게", "의", "와", "과", "도", "로", "으로", "만", "처럼",
    "까지", "부터", "마다", "조차", "이나", "나", "랑", "이랑",
})
_PLACES = ("속", "위", "아래", "밑", "너머", "사이", "가운데", "앞", "뒤", "옆", "쪽", "들")
# Words that are figures of speech when "of" follows: "a sea of roofs" is not the sea.
_FIGURATIVE = frozenset({"sea", "ocean", "forest", "lake", "mountain"})
# Tokens that look like a keyword plus a particle but are other words (낮은 = "low", not "daytime").
_NOT_KEYWORDS = frozenset({"낮은", "낮게", "낮고", "낮아", "낮춰", "비가역", "눈물", "성은", "절대"})


def _korean_match(token: str, keyword: str) -> bool:
    if token in _NOT_KEYWORDS:
        return False
    if len(keyword) >= 2:
        return keyword in token
    if not token.startswith(keyword):
        return False
    rest = token[len(keyword):]
    if rest == "" or rest in _PARTICLES:
        return True
    place = next((p for p in _PLACES if rest.startswith(p)), None)
    return place is not None and (rest[len(place):] == "" or rest[len(place):] in _PARTICLES)


def _english_forms(token: str) -> tuple[str, ...]:
    forms = [token]
    if token.endswith("ies") and len(token) > 4:
        forms.append(token[:-3] + "y")
    if token.endswith("es") and len(token) > 3:
        forms.append(token[:-2])
    if token.endswith("s") and len(token) > 2:
        forms.append(token[:-1])
    return tuple(forms)


def _first_mention(tokens: list[str], keywords: tuple[str, ...]) -> tuple[int, str] | None:
    """The earliest token index where any keyword occurs, and which keyword, or None."""
    best: tuple[int, str] | None = None
    for kw in keywords:
        parts = kw.split()
        for i in range(len(tokens) - len(parts) + 1):
            if best is not None and i >= best[0]:
                break
            if _HANGUL.search(kw) and len(parts) == 1:
                hit = _korean_match(tokens[i], kw)
            elif len(parts) == 1:
                figurative = kw in _FIGURATIVE and tokens[i + 1 : i + 2] == ["of"]
                hit = kw in _english_forms(tokens[i]) and not figurative
            else:
                hit = tokens[i : i + len(parts)] == parts
            if hit:
                best = (i, kw)
                break
    return best


@dataclass(frozen=True, slots=True)
class Scene:
    """What the engine understood from the words: the crew sees this in the take's parameters."""

    time: str = "day"
    terrain: tuple[str, ...] = ("plains",)
    architecture: tuple[str, ...] = ()
    weather: tuple[str, ...] = ()
    material: tuple[str, ...] = ()
    far: bool = False                  # buildings named "far off" / "distant" stand small on the horizon
    look: tuple[str, ...] = ()
    matched: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def has(self, concept: str) -> bool:
        return concept in (self.time, *self.terrain, *self.architecture, *self.weather, *self.material,
                           *self.look)

    @property
    def fog(self) -> bool:
        return "fog" in self.weather

    def parameters(self) -> dict[str, Any]:
        night = self.time in ("night", "evening")
        return {
            "time": self.time,
            "terrain": list(self.terrain),
            "architecture": list(self.architecture),
            "weather": list(self.weather),
            "fog": self.fog,
            "rain": "rain" in self.weather,
            "snow": "snow" in self.weather,
            "material": list(self.material),
            "far": self.far,
            "look": list(self.look),
            "celestial": "moon" if self.time == "night" else ("afterglow" if night else "sun"),
            "matched": {k: list(v) for k, v in self.matched.items()},
        }


def _concepts(text: str) -> dict[str, dict[str, tuple[int, str]]]:
    tokens = _TOKEN.findall(text.lower())
    found: dict[str, dict[str, tuple[int, str]]] = {}
    for category, concepts in VOCABULARY.items():
        for concept, keywords in concepts.items():
            hit = _first_mention(tokens, keywords)
            if hit is not None:
                found.setdefault(category, {})[concept] = hit
    return found


def read_scene(prompt: str, look: str = "", negative: str = "") -> Scene:
    """Match the words of prompt + look against :data:`VOCABULARY`; concepts in ``negative`` are dropped.

    Where several times of day are named, the first one named wins, and the look names a time only when
    the prompt names none ("teal nights" in a style bible must not turn every day scene to night).
    """
    found = _concepts(f"{prompt} \n {look}")
    prompt_times = _concepts(prompt).get("time")
    if prompt_times:
        found["time"] = prompt_times
    for category, concepts in _concepts(negative).items():
        for concept in concepts:
            found.get(category, {}).pop(concept, None)

    def ordered(category: str) -> tuple[str, ...]:
        hits = found.get(category, {})
        return tuple(sorted(hits, key=lambda c: hits[c][0]))

    times = ordered("time")
    terrain = ordered("terrain")
    if not {"mountains", "sea", "desert", "forest", "plains"} & set(terrain):
        terrain = (*terrain, "plains")
    matched: dict[str, tuple[str, ...]] = {c: (hit[1],) for cat in found.values() for c, hit in cat.items()}
    return Scene(
        time=times[0] if times else "day",
        terrain=terrain,
        architecture=ordered("architecture"),
        weather=ordered("weather"),
        material=ordered("material"),
        far="far" in found.get("distance", {}),
        look=ordered("look"),
        matched=matched,
    )


# ---------------------------------------------------------------------------------------------------------
# Small numeric tools
# ---------------------------------------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1


def _rng(seed: int, key: str) -> np.random.Generator:
    """One independent stream per part, so adding fog to a prompt never moves a mountain."""
    return np.random.default_rng([seed & _MASK64, zlib.crc32(key.encode())])


def _hash01(seed: int, *keys: Array) -> Array:
    """Uniform [0, 1) floats from integer keys (splitmix64): random per particle and cycle, no state."""
    z = np.full(np.broadcast(*keys).shape, seed & _MASK64, dtype=np.uint64)
    for k in keys:
        z = z ^ np.asarray(k).astype(np.uint64)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _smooth(e0: float | Array, e1: float | Array, x: Array) -> Array:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _mix(a: Array | RGB, b: Array | RGB, t: Array | float) -> Array:
    a_ = np.asarray(a, dtype=F32)
    return a_ + (np.asarray(b, dtype=F32) - a_) * t


def _col(rgb: RGB | Array) -> Array:
    return np.asarray(rgb, dtype=F32).reshape(3)


def _rgb(a: Array) -> RGB:
    return (float(a[0]), float(a[1]), float(a[2]))


def _up(a: Array, w: int, h: int) -> Array:
    """Upscale a low-resolution field; smooth fields never need full-resolution arithmetic."""
    return cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)


@functools.lru_cache(maxsize=32)
def _noise_tex(seed: int, key: str, size: int = 256, slope: float = 1.4, lowcut: float = 0.0) -> Array:
    """Tileable fractal noise (zero mean, unit std): white noise shaped to a 1/f^slope spectrum.

    It wraps at its edges, so it can be scrolled forever with BORDER_WRAP and never shows a seam.
    ``lowcut`` (cycles per texture) removes the largest blobs.
    """
    white = _rng(seed, key).standard_normal((size, size))
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    amp = f ** (-slope)
    amp[0, 0] = 0.0
    amp[f > 0.35] = 0.0
    amp[f * size < lowcut] = 0.0
    out = np.fft.irfft2(np.fft.rfft2(white) * amp, s=(size, size))
    out = ((out - out.mean()) / out.std()).astype(F32)
    out.setflags(write=False)
    return out


def _noise_1d(rng: np.random.Generator, n: int, slope: float, cutoff: float = 0.5,
              lowcut: float = 0.0) -> Array:
    """A 1-D fractal line in [0, 1]: ridgelines, dune crests, shorelines.

    ``lowcut`` drops waves longer than n/lowcut samples, so a ridge has several peaks, not one hump.
    """
    size = max(n, 8)
    spec = np.fft.rfft(rng.standard_normal(size * 2))
    f = np.fft.rfftfreq(size * 2)
    f[0] = 1.0
    amp = f ** (-slope)
    amp[0] = 0.0
    amp[f > cutoff] = 0.0
    amp[f * size < lowcut] = 0.0
    line = np.fft.irfft(spec * amp, n=size * 2)[:n]
    line = (line - line.min()) / max(float(line.max() - line.min()), 1e-9)
    return line.astype(F32)


def _sample(tex: Array, u: Array, v: Array) -> Array:
    """Read a tileable texture at fractional texel coordinates (broadcast together), wrapping."""
    u, v = np.broadcast_arrays(np.asarray(u, dtype=F32), np.asarray(v, dtype=F32))
    return cv2.remap(tex, np.ascontiguousarray(u), np.ascontiguousarray(v), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_WRAP)


def _over(dst: Array, rgb: Array, alpha: Array) -> None:
    """Straight-alpha 'over' into ``dst`` in place."""
    a = alpha[..., None] if alpha.ndim == dst.ndim - 1 else alpha
    dst += (rgb - dst) * a


def _luma(img: Array) -> Array:
    return img @ np.array([0.2126, 0.7152, 0.0722], dtype=F32)


# ---------------------------------------------------------------------------------------------------------
# Light: one palette per time of day
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Light:
    zenith: RGB
    horizon: RGB
    glow: RGB          # colour of the light around the sun or moon
    elevation: float   # sun/moon height as a fraction of the sky; below 0 it has set
    glow_power: float
    ambient: RGB       # what light does to a surface's colour
    cloud_lit: RGB
    cloud_dark: RGB
    stars: float = 0.0


LIGHTS: dict[str, _Light] = {
    "dawn": _Light((0.16, 0.22, 0.42), (1.00, 0.70, 0.50), (1.00, 0.66, 0.38), 0.05, 0.9,
                   (0.62, 0.52, 0.55), (1.00, 0.70, 0.60), (0.30, 0.27, 0.40), 0.15),
    "morning": _Light((0.28, 0.48, 0.80), (0.92, 0.87, 0.80), (1.00, 0.90, 0.70), 0.32, 0.6,
                      (0.95, 0.88, 0.80), (1.00, 0.96, 0.90), (0.56, 0.60, 0.70)),
    "day": _Light((0.16, 0.38, 0.76), (0.70, 0.81, 0.92), (1.00, 0.97, 0.90), 0.88, 0.35,
                  (1.00, 0.98, 0.95), (0.93, 0.94, 0.96), (0.58, 0.63, 0.72)),
    "afternoon": _Light((0.22, 0.42, 0.76), (0.90, 0.85, 0.74), (1.00, 0.86, 0.60), 0.45, 0.6,
                        (1.00, 0.90, 0.76), (1.00, 0.94, 0.84), (0.58, 0.58, 0.64)),
    "dusk": _Light((0.12, 0.12, 0.30), (1.00, 0.50, 0.22), (1.00, 0.46, 0.14), 0.05, 1.0,
                   (0.58, 0.40, 0.32), (1.00, 0.55, 0.32), (0.24, 0.17, 0.28), 0.1),
    "evening": _Light((0.04, 0.05, 0.14), (0.58, 0.30, 0.26), (0.85, 0.36, 0.20), -0.06, 0.8,
                      (0.22, 0.18, 0.22), (0.50, 0.28, 0.27), (0.08, 0.07, 0.12), 0.5),
    "night": _Light((0.012, 0.02, 0.05), (0.12, 0.16, 0.27), (0.50, 0.60, 0.80), 0.62, 0.42,
                    (0.22, 0.26, 0.40), (0.20, 0.23, 0.31), (0.030, 0.038, 0.065), 1.0),
}

# Surface colours (before light). Emissive colours (windows, lamps) are added after light and haze.
_ALBEDO: dict[str, RGB] = {
    "rock": (0.34, 0.34, 0.33),
    "forested": (0.13, 0.19, 0.12),
    "grass": (0.30, 0.38, 0.18),
    "earth": (0.30, 0.25, 0.19),
    "sand": (0.84, 0.56, 0.33),
    "snow": (0.88, 0.90, 0.95),
    "tree": (0.06, 0.10, 0.07),
    "tile": (0.19, 0.20, 0.22),
    "ridge": (0.12, 0.12, 0.13),
    "plaster": (0.80, 0.76, 0.68),
    "wood": (0.33, 0.21, 0.14),
    "red_wood": (0.52, 0.14, 0.09),
    "stone": (0.52, 0.50, 0.47),
    "concrete": (0.42, 0.43, 0.45),
    "cliff": (0.24, 0.22, 0.21),
    "courtyard": (0.50, 0.46, 0.40),
    "white_paint": (0.88, 0.87, 0.84),
}
_WINDOW_GLOW: RGB = (1.0, 0.66, 0.32)
_WINDOW_COOL: RGB = (0.75, 0.85, 1.0)


# ---------------------------------------------------------------------------------------------------------
# The set: a canvas and its layers, back to front
# ---------------------------------------------------------------------------------------------------------

_LO = 4  # low-frequency fields are drawn at 1/_LO resolution (but never narrower than 400 pixels)


def _lo(w: int, h: int) -> tuple[int, int]:
    scale = max(1.0 / _LO, min(1.0, 400.0 / w))
    return max(round(w * scale), 8), max(round(h * scale), 4)


@dataclass
class _Canvas:
    """The image being built plus the facts every layer shares (horizon, light, haze, sun)."""

    w: int
    h: int
    seed: int
    scene: Scene
    light: _Light
    img: Array
    hz: float                   # horizon row
    sun_x: float
    sun_y: float
    air: float                  # haze reached at depth 1 (the horizon)
    haze_rgb: Array
    detail: Array               # full-resolution fractal noise, shared texture for surfaces
    surface: Array              # per column: the row where nearby ground starts (for placing buildings)

    @property
    def night(self) -> bool:
        return self.light.elevation < 0.0 or self.scene.time == "night"

    def rng(self, key: str) -> np.random.Generator:
        return _rng(self.seed, key)

    def haze(self, depth: float | Array) -> Array:
        """Atmospheric perspective: how much of the air colour covers something at ``depth`` (1 = horizon)."""
        k = -math.log(max(1.0 - self.air, 1e-3))
        return (1.0 - np.exp(-k * np.asarray(depth, dtype=F32))).astype(F32)

    def lit(self, albedo: str | RGB, light: float = 1.0) -> Array:
        base = _ALBEDO[albedo] if isinstance(albedo, str) else albedo
        return _col(base) * _col(self.light.ambient) * light

    def paint(self, y0: int, cov: Array, color: Array) -> None:
        """Cover rows y0.. with ``color`` (a colour or a per-pixel image) by coverage ``cov``."""
        y0c = max(y0, 0)
        cov = cov[y0c - y0 :]
        y1 = min(y0c + cov.shape[0], self.h)
        cov = cov[: y1 - y0c]
        if cov.size == 0:
            return
        if color.ndim == 3:
            color = color[y0c - y0 : y0c - y0 + cov.shape[0]]
        _over(self.img[y0c:y1], color, cov)

    def glow_at(self, y0: int, x0: int, mask: Array, rgb: RGB, strength: float = 1.0) -> None:
        """Add emitted light (windows, lamps): not lit by the sun, hidden by what is drawn later."""
        view = self.img[y0 : y0 + mask.shape[0], x0 : x0 + mask.shape[1]]
        view += mask[: view.shape[0], : view.shape[1], None] * (_col(rgb) * strength)


def _band(c: _Canvas, top: Array, color: Array, depth: float, *, bottom: float | None = None,
          valley: float = 0.0, shade: Array | None = None, texture: float = 0.05, trough: float = 0.0,
          fade: float = 0.06, lean: float = 0.7) -> None:
    """Fill from a per-column top line down, hazed by depth: the primitive behind ridges, dunes and trees.

    ``valley`` pools haze toward the base (mist lying in valleys); ``trough`` darkens toward the base
    instead (the hollow behind the next dune); ``shade`` brightens or darkens columns just under the
    crest (sunlit and shaded faces), slanting down-sun so a crest's shadow is not a vertical seam.
    """
    y0 = max(int(np.floor(float(top.min()))), 0)
    y_end = c.h if bottom is None else min(math.ceil(bottom) + 1, c.h)
    if y_end <= y0:
        return
    ys = np.arange(y0, y_end, dtype=F32)[:, None]
    below = ys - top[None, :]
    cov = np.clip(below + 0.5, 0.0, 1.0)
    if bottom is not None:
        cov *= np.clip(bottom - ys + 0.5, 0.0, 1.0)
    light = 1.0 + texture * c.detail[y0:y_end]
    if shade is not None:
        shift = np.clip(below, 0, None) * (-lean if c.sun_x > c.w / 2 else lean)
        idx = np.clip(np.arange(c.w)[None, :] + shift.astype(np.int32), 0, c.w - 1)
        light = light + (shade[idx] - 1.0) * np.exp(-below / (fade * c.h))
    span = max(float((bottom if bottom is not None else c.h) - top.mean()), 0.04 * c.h)
    g = np.clip(below / span, 0.0, 1.0)
    if trough:
        light = light * (1.0 - trough * g)
    # Shadowed parts take a little cool fill from the open sky instead of going flat.
    rgb = light[..., None] * color + np.clip(1.0 - light, 0.0, 1.0)[..., None] * (_col(c.light.zenith) * 0.12)
    a = c.haze(depth)
    if valley:
        a = a + (1.0 - a) * valley * g * np.sqrt(g)
        rgb = rgb + (c.haze_rgb - rgb) * a[..., None]
    else:
        rgb = rgb + (c.haze_rgb - rgb) * a
    c.paint(y0, cov, rgb)


def _slope_shade(c: _Canvas, top: Array, strength: float) -> Array:
    """Per-column light on a crest line: faces turned toward the sun are brighter."""
    slope = np.gradient(top) * (1.0 if c.sun_x > c.w / 2 else -1.0)
    return (1.0 + strength * np.tanh(slope / (float(np.std(slope)) + 1e-3))).astype(F32)


# -- sky -------------------------------------------------------------------------------------------------


def _cloud_cover(scene: Scene) -> float:
    if scene.has("storm") or scene.has("rain"):
        return 0.85
    if scene.has("overcast"):
        return 0.7
    if scene.has("clear"):
        return 0.05
    return 0.3


def _sky(c: _Canvas) -> Array:
    """Gradient, sun or moon glow and a perspective cloud deck; returns the sky above the horizon."""
    lt, w, hz = c.light, c.w, max(round(c.hz), 1)
    lw, lh = _lo(w, hz)
    ys = (np.arange(lh, dtype=F32)[:, None] + 0.5) * (hz / lh)
    xs = (np.arange(lw, dtype=F32)[None, :] + 0.5) * (w / lw)
    t = np.clip((c.hz - ys) / c.hz, 0.0, 1.0)
    sky = _mix(lt.horizon, lt.zenith, (t ** 0.55)[..., None])
    sky = np.broadcast_to(sky, (lh, lw, 3)).copy()
    # A warm band hugging the horizon, strongest on the sun's side.
    side = np.exp(-np.abs(xs - c.sun_x) / (0.7 * w))
    sky += _col(lt.glow) * (0.25 * lt.glow_power * np.exp(-t / 0.12) * side)[..., None]
    d = np.hypot(xs - c.sun_x, ys - c.sun_y) / c.h
    glow = lt.glow_power * (0.55 * np.exp(-d / 0.05) + 0.35 * np.exp(-d / 0.25))
    # Clouds: fractal noise on a plane seen in perspective, finer toward the horizon.
    cover = _cloud_cover(c.scene)
    tex = _noise_tex(c.seed, "clouds", 256, 1.45, 1.5)
    soft = _noise_tex(c.seed, "clouds-soft", 256, 2.0, 2.0)
    depth = 1.0 / (np.maximum((c.hz - ys) / c.h, 0.0) + 0.035)
    u = (xs - w * 0.5) / c.h * depth ** 0.6 * 70.0 + 40.0
    v = depth * 22.0 + 10.0
    n = _sample(tex, u, v) * 0.8 + _sample(soft, u * 0.5, v * 0.5) * 0.6
    far = _smooth(4.0, 22.0, depth)
    n = n * (1.0 - 0.6 * far)
    density = _smooth(1.2 - 2.4 * cover, 2.2 - 2.4 * cover, n) * (1.0 - far * 0.7)
    density *= 0.25 + 0.75 * _smooth(0.0, 0.15, t)
    detail = n - _sample(tex, u + 6.0, v + 3.0) * 0.8
    shade = np.clip(0.55 + 0.35 * detail + 0.25 * (1.0 - t), 0.0, 1.0)
    cloud = _mix(lt.cloud_dark, lt.cloud_lit, shade[..., None])
    cloud += _col(lt.glow) * (glow * 0.6)[..., None]
    sky += _col(lt.glow) * glow[..., None] * (1.0 - density[..., None] * 0.7)
    _over(sky, cloud, density * 0.92)
    sky_full = _up(sky.astype(F32), w, hz)
    dens_full = _up(density.astype(F32), w, hz)
    if lt.stars > 0 and cover < 0.8:
        _stars(c, sky_full, dens_full)
    _disc(c, sky_full, dens_full)
    return sky_full


def _stars(c: _Canvas, sky: Array, density: Array) -> None:
    hz = sky.shape[0]
    rng = c.rng("stars")
    n = int(c.w * hz / 900)
    x = rng.integers(0, c.w, n)
    y = (hz * rng.random(n) ** 1.3).astype(np.int64).clip(0, hz - 1)
    b = (rng.random(n) ** 5.0 * 0.9 + 0.04).astype(F32)
    layer = np.zeros((hz, c.w), F32)
    layer[y, x] = b
    layer += cv2.GaussianBlur(layer, (0, 0), 1.1) * 2.5
    fade = _smooth(0.0, 0.35, (c.hz - np.arange(hz, dtype=F32)) / c.hz)[:, None]
    moon = np.exp(-np.hypot(np.arange(c.w, dtype=F32)[None, :] - c.sun_x,
                            np.arange(hz, dtype=F32)[:, None] - c.sun_y) / (0.25 * c.h))
    layer *= c.light.stars * fade * (1.0 - density) * (1.0 - 0.8 * moon)
    sky += layer[..., None] * _col((0.95, 0.97, 1.0))


def _disc(c: _Canvas, sky: Array, density: Array) -> None:
    """The sun (overexposed, soft) or the moon (with maria), seen through thin cloud."""
    if c.light.elevation < 0:
        return
    moon = c.scene.time == "night"
    r = c.h * (0.032 if moon else 0.028)
    pad = int(r * 3)
    x0, y0 = int(c.sun_x) - pad, int(c.sun_y) - pad
    x1, y1 = x0 + 2 * pad, y0 + 2 * pad
    xa, ya = max(x0, 0), max(y0, 0)
    xb, yb = min(x1, c.w), min(y1, sky.shape[0])
    if xa >= xb or ya >= yb:
        return
    yy, xx = np.mgrid[ya:yb, xa:xb].astype(F32)
    d = np.hypot(xx - c.sun_x, yy - c.sun_y)
    body = np.clip(r - d + 0.5, 0.0, 1.0)
    see = 1.0 - 0.85 * density[ya:yb, xa:xb]
    if moon:
        tex = _noise_tex(c.seed, "moon", 64, 1.2)
        maria = _sample(tex, (xx - c.sun_x) / r * 10 + 32, (yy - c.sun_y) / r * 10 + 32)
        limb = np.sqrt(np.clip(1.0 - (d / r) ** 2, 0.0, 1.0))
        shade = (0.82 + 0.1 * np.clip(maria, -1.5, 1.5)) * (0.75 + 0.25 * limb)
        rgb = _col((0.97, 0.96, 0.90)) * shade[..., None]
    else:
        rgb = _col((1.0, 0.97, 0.88)) * 1.6 * np.ones_like(d)[..., None]
    patch = sky[ya:yb, xa:xb]
    _over(patch, rgb, body * see)


# -- terrain ---------------------------------------------------------------------------------------------


def _valley_dip(c: _Canvas, depth: float) -> Array:
    """Lower near ridges at the middle of frame: a natural V that frames the actor."""
    x = np.arange(c.w, dtype=F32) / c.w
    return (1.0 - depth * np.exp(-(((x - 0.5) / 0.2) ** 2))).astype(F32)


def _mountains(c: _Canvas, layers: int = 4, scale: float = 1.0) -> None:
    """Layered ridges, far to near; each farther layer lighter and bluer (atmospheric perspective)."""
    rng = c.rng("mountains")
    snowy = c.scene.has("snow")
    fog = c.scene.fog
    specs = [(2.6, 0.32, 1.2), (1.8, 0.25, 1.6), (1.1, 0.17, 2.0), (0.6, 0.1, 2.4)][:layers]
    for i, (depth, height, low) in enumerate(specs):
        height *= scale
        line = _noise_1d(rng, c.w, 1.9, lowcut=low)
        ridged = 1.0 - np.abs(_noise_1d(rng, c.w, 1.6, lowcut=low * 2.5) * 2.0 - 1.0)
        prof = 0.75 * line + 0.25 * ridged
        prof = (prof - prof.min()) / max(float(prof.max() - prof.min()), 1e-6)
        dip = _valley_dip(c, 0.15 + 0.15 * i)
        top = c.hz - c.h * height * (0.35 + 0.65 * prof) * dip
        if i >= 2:
            top = top + (_noise_1d(rng, c.w, 0.6, cutoff=0.5) - 0.5) * c.h * 0.006 * i
        albedo = _mix(_ALBEDO["rock"], _ALBEDO["forested"], i / 3.0)
        color = c.lit(_rgb(albedo))
        _band(c, top.astype(F32), color, depth, bottom=c.hz + 2, valley=0.75 if fog else 0.3,
              shade=_slope_shade(c, cv2.GaussianBlur(top[None, :], (0, 0), c.w / 250)[0], 0.4 if not c.night
                                 else 0.15), texture=0.08, lean=0.4)
        if snowy and i < 2:
            cap = top + c.h * (0.03 + 0.05 * _noise_1d(rng, c.w, 1.2)) * prof
            snow_top = np.where(prof > 0.45, top, c.h).astype(F32)
            _band(c, snow_top, c.lit("snow"), depth, bottom=float(cap.max()),
                  shade=_slope_shade(c, top, 0.3), texture=0.05)
            # Trim the snow back to its jagged lower edge by repainting the rock beneath it.
            rock = np.where(prof > 0.45, cap, c.h).astype(F32)
            _band(c, rock, color, depth, bottom=c.hz + 2, valley=0.75 if fog else 0.3, texture=0.08)


def _shoulders(c: _Canvas) -> None:
    """Near slopes rising at both frame edges: a pass the actor stands in, the middle left open."""
    rng = c.rng("shoulders")
    xs = np.arange(c.w, dtype=F32)
    for side in (-1.0, 1.0):
        reach = 0.2 + 0.08 * rng.random()
        dist = (xs / c.w - 0.5) * side              # > 0 on this side of frame
        ramp = _smooth(reach, 0.5 + reach * 0.2, dist + 0.03 * (_noise_1d(rng, c.w, 1.5, lowcut=3) - 0.5))
        summit = c.hz - c.h * (0.06 + 0.1 * rng.random())
        top = c.h * 1.02 - (c.h * 1.02 - summit) * ramp
        trees = _treeline(c, rng, top.astype(F32), c.h * 0.035, c.h * 0.012)
        top = top + (trees - top) * _smooth(0.0, 0.3, ramp)
        _band(c, top.astype(F32), c.lit("forested", 0.9), 0.3, texture=0.12, trough=0.2,
              shade=_slope_shade(c, top, 0.3))


def _hills(c: _Canvas, albedo: str, depths: tuple[float, ...], height: float) -> None:
    rng = c.rng("hills")
    for i, depth in enumerate(depths):
        prof = _noise_1d(rng, c.w, 2.2)
        top = c.hz - c.h * height * (0.3 + 0.7 * prof) * (1.0 - 0.3 * i)
        _band(c, top.astype(F32), c.lit(albedo, 0.9 + 0.1 * i), depth, bottom=c.hz + 2, valley=0.4,
              shade=_slope_shade(c, top, 0.25))


def _treeline(c: _Canvas, rng: np.random.Generator, base: Array, size: float, spacing: float) -> Array:
    """Conifer silhouettes along a base line: the max of jittered triangles, vectorised per column."""
    n = max(int(c.w / spacing), 1)
    xt = (np.arange(n) + rng.random(n) * 1.5) * spacing
    clumps = np.interp(xt, np.arange(c.w), _noise_1d(rng, c.w, 1.5, lowcut=3))
    ht = size * (0.3 + 0.7 * rng.random(n) ** 0.7) * (0.45 + 0.75 * clumps)
    xs = np.arange(c.w, dtype=F32)
    spikes = ht[:, None] - np.abs(xs[None, :] - xt[:, None]) * (2.2 + 1.6 * rng.random(n)[:, None])
    saw = (np.abs(xs[None, :] - xt[:, None]) % (size * 0.12)) * 0.3
    trees = np.max(spikes - saw, axis=0).clip(0.0, None)
    return (base - trees).astype(F32)


def _forest(c: _Canvas) -> None:
    rng = c.rng("forest")
    for i, depth in enumerate((1.1, 0.75, 0.45)):
        hill = c.hz - c.h * ((0.07, 0.035, 0.005)[i] + (0.07, 0.04, 0.025)[i] * _noise_1d(rng, c.w, 2.0, lowcut=1.5))
        top = _treeline(c, rng, hill, c.h * (0.04, 0.06, 0.09)[i], c.h * (0.014, 0.02, 0.03)[i])
        _band(c, top, c.lit("tree", 1.3 - 0.15 * i), depth, bottom=c.hz + 2, valley=0.2, texture=0.1)


def _forest_frame(c: _Canvas) -> None:
    """Two tall dark conifers at the frame edges: foreground depth that leaves the middle open."""
    rng = c.rng("forest-frame")
    xs = np.arange(c.w, dtype=F32)
    ys = np.arange(c.h, dtype=F32)[:, None]
    for side in (0.02, 0.98):
        cx = c.w * (side + (rng.random() - 0.5) * 0.04)
        top = c.h * (-0.05 + 0.08 * rng.random())
        half = (ys - top) * 0.3 * (1.0 + 0.18 * np.sin((ys - top) / (c.h * 0.035)) ** 2)
        jag = _noise_tex(c.seed, "needles", 128, 1.0)[np.arange(c.h) % 128][:, :1] * c.h * 0.006
        cov = np.clip(half + jag - np.abs(xs[None, :] - cx) + 0.5, 0.0, 1.0) * (ys > top)
        rgb = c.lit("tree", 1.1) * (1.0 + 0.25 * c.detail)[..., None]
        c.paint(0, cov.astype(F32), rgb)


def _ground(c: _Canvas, albedo: str, texture: float = 0.18) -> None:
    """Everything below the horizon that is not water: a textured plane, hazed toward the horizon."""
    y0 = int(c.hz)
    rows = c.h - y0
    if rows <= 0:
        return
    lw, lh = _lo(c.w, rows)
    ys = (np.arange(lh, dtype=F32)[:, None] + 0.5) * (rows / lh)
    xs = (np.arange(lw, dtype=F32)[None, :] + 0.5) * (c.w / lw)
    depth = 1.0 / (ys / c.h + 0.02)
    u = (xs - c.w / 2) / c.h * depth * 30.0
    v = depth * 30.0
    n = _sample(_noise_tex(c.seed, "ground", 256, 1.3), u, v) * (1.0 - _smooth(8.0, 40.0, depth))
    near = 1.0 - ys / rows
    shade = (1.0 + texture * n) * (0.78 + 0.22 * near)
    rgb = c.lit(albedo) * shade[..., None]
    a = c.haze(np.clip(near, 0.0, 1.0) ** 2.5)
    rgb = rgb + (c.haze_rgb - rgb) * a[..., None]
    full = _up(rgb.astype(F32), c.w, rows) * (1.0 + 0.04 * c.detail[y0:, :, None])
    c.img[y0:] = full
    c.surface[:] = c.hz


def _dunes(c: _Canvas) -> None:
    rng = c.rng("dunes")
    sand = c.lit("sand")
    rows = c.h - c.hz
    for i, (depth, base, amp, low) in enumerate(((1.0, 0.0, 0.05, 2.0), (0.7, 0.12, 0.07, 1.6),
                                                 (0.45, 0.3, 0.08, 1.3), (0.25, 0.58, 0.07, 1.0))):
        crest = 1.0 - np.abs(_noise_1d(rng, c.w, 2.0, cutoff=7.0 / c.w, lowcut=low) * 2.0 - 1.0) ** 1.3
        top = c.hz + rows * base - c.h * amp * crest * (_valley_dip(c, 0.5) if i == 3 else 1.0)
        soft = cv2.GaussianBlur(top[None, :].astype(F32), (0, 0), c.w / 300)[0]   # a crest a few pixels wide
        shade = _slope_shade(c, soft, 0.5 if not c.night else 0.2)
        _band(c, top.astype(F32), sand, depth, shade=shade, texture=0.03, trough=0.4, fade=0.06, lean=0.25)


def _sea(c: _Canvas, sky: Array) -> None:
    """Water from the horizon down: a rippled mirror of the sky, darker toward the viewer, a glitter path."""
    y0 = int(c.hz)
    rows = c.h - y0
    if rows <= 0:
        return
    lt = c.light
    lw, lh = max(c.w // 2, 8), max(rows // 2, 2)
    ys = (np.arange(lh, dtype=F32)[:, None] + 0.5) * (rows / lh)
    xs = (np.arange(lw, dtype=F32)[None, :] + 0.5) * (c.w / lw)
    depth = 1.0 / (ys / c.h + 0.012)
    tex = _noise_tex(c.seed, "waves", 256, 1.2)
    u = (xs - c.w / 2) / c.h * depth * 18.0
    v = depth * 90.0
    wave = _sample(tex, u, v) * 0.7 + _sample(tex, u * 2.3 + 50, v * 2.1) * 0.45
    wave *= 1.0 - _smooth(10.0, 70.0, depth)
    # Reflection: the sky mirrored about the horizon, rows displaced by the waves.
    src = np.clip(c.hz - ys * 1.1 - wave * ys * 0.2, 0, sky.shape[0] - 1)
    mx, my = np.broadcast_arrays(xs, src.astype(F32))
    mirror = cv2.remap(sky, np.ascontiguousarray(mx), np.ascontiguousarray(my), cv2.INTER_LINEAR)
    near = ys / rows
    fresnel = (0.78 - 0.5 * near ** 0.7)[..., None]
    deep = _col((0.02, 0.06, 0.09)) * 0.5 + _col(lt.zenith) * 0.35
    rgb = mirror * fresnel + deep * (1.0 - fresnel)
    rgb *= (1.0 + 0.18 * np.tanh(wave))[..., None]
    if lt.elevation >= 0:
        width = 0.015 * c.w + near * 0.25 * c.w
        path = np.exp(-(((xs - c.sun_x) / width) ** 2)) * (1.0 - 0.4 * near)
        sparkle = _smooth(0.35, 1.3, wave) * path
        rgb += _col(lt.glow) * (sparkle * (1.2 if c.scene.time != "night" else 0.9))[..., None]
    haze = c.haze(np.clip(1.0 - near, 0.0, 1.0) ** 3)[..., None]
    rgb = rgb + (c.haze_rgb - rgb) * haze * 0.6
    c.img[y0:] = _up(rgb.astype(F32), c.w, rows)
    c.surface[:] = c.h * 0.9


def _shore(c: _Canvas) -> None:
    """A dark foreground shore so an actor has somewhere to stand in a sea scene."""
    rng = c.rng("shore")
    top = c.h * 0.86 - c.h * 0.03 * _noise_1d(rng, c.w, 1.6) - c.h * 0.04 * (1.0 - _valley_dip(c, 1.0))
    _band(c, top.astype(F32), c.lit("sand", 0.6), 0.12, texture=0.15, shade=_slope_shade(c, top, 0.2),
          trough=0.3)
    c.surface[:] = top


def _cliff(c: _Canvas) -> float:
    """A rocky headland on the side away from the sun, stepping down to the sea, with a sea stack or two
    beyond it; returns the column of its sea edge (a lighthouse stands near it)."""
    rng = c.rng("cliff")
    left = c.sun_x > c.w / 2
    xs = np.arange(c.w, dtype=F32)
    out = xs if left else (c.w - 1 - xs)             # distance from the frame edge the cliff grows from
    edge = c.w * (0.22 + 0.06 * rng.random())
    rough = _noise_1d(rng, c.w, 1.4, lowcut=5) - 0.5
    plateau = c.hz - c.h * (0.2 + 0.04 * _noise_1d(rng, c.w, 1.8, lowcut=2)) + out / c.w * c.h * 0.06
    fall = _smooth(edge * 0.8, edge + c.w * 0.12, out + rough * c.w * 0.05)
    steps = np.floor(fall * 4.0 + rough * 1.5) / 4.0
    steps = cv2.GaussianBlur(np.clip(steps, 0, 1)[None, :].astype(F32), (0, 0), c.w / 500)[0]
    top = plateau + (0.35 * fall + 0.65 * steps) * c.h * 0.8 + rough * c.h * 0.02
    for k in range(1 + int(rng.random() < 0.6)):
        at = edge + c.w * (0.1 + 0.08 * k + 0.03 * rng.random())
        half = c.w * (0.025 + 0.015 * rng.random()) / (1 + k)
        bump = np.clip(1.0 - (np.abs(out - at) / half) ** 2, 0, 1) ** 0.6
        stack = c.hz + c.h * 0.01 - c.h * (0.06 - 0.02 * k) * bump * (1.0 + 0.6 * rough)
        _band(c, np.where(bump > 0, stack, c.h).astype(F32), c.lit("cliff"), 0.8 + 0.2 * k,
              bottom=c.hz + c.h * 0.012, texture=0.15, shade=_slope_shade(c, stack, 0.5))
    top = top.astype(F32)
    lw, lh = _lo(c.w, c.h)
    cracks = _sample(_noise_tex(c.seed, "strata", 256, 1.3), np.arange(lw, dtype=F32)[None, :] * 2.5,
                     np.arange(lh, dtype=F32)[:, None] * 0.25)
    cracks = _up(cracks, c.w, c.h)
    y0 = max(int(top.min()), 0)
    ys = np.arange(y0, c.h, dtype=F32)[:, None]
    below = ys - top[None, :]
    light = 1.0 + 0.14 * cracks[y0:] + 0.1 * c.detail[y0:]
    light = light * (1.0 - 0.3 * _smooth(c.hz, c.h, ys))
    rim = (_slope_shade(c, top, 0.6)[None, :] - 1.0) * np.exp(-np.clip(below, 0.0, None) / (0.012 * c.h))
    band = c.lit("cliff") * (light * (1.0 + rim))[..., None]
    band = _mix(band, c.lit("grass", 0.6), (_smooth(0.015 * c.h, 0.0, below) * 0.8)[..., None])
    c.paint(y0, np.clip(below + 0.5, 0.0, 1.0), band + (c.haze_rgb - band) * c.haze(0.3))
    on_top = fall < 0.05
    c.surface[on_top] = top[on_top]
    return float(edge if left else c.w - edge)


# -- architecture ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Box:
    """A local pixel grid for one object: coordinates and the slice of the image it covers."""

    x0: int
    y0: int
    xs: Array
    ys: Array

    @classmethod
    def around(cls, c: _Canvas, left: float, top: float, right: float, bottom: float) -> _Box | None:
        x0, x1 = max(int(left) - 1, 0), min(math.ceil(right) + 1, c.w)
        y0, y1 = max(int(top) - 1, 0), min(math.ceil(bottom) + 1, c.h)
        if x1 <= x0 or y1 <= y0:
            return None
        return cls(x0, y0, np.arange(x0, x1, dtype=F32)[None, :], np.arange(y0, y1, dtype=F32)[:, None])

    def put(self, c: _Canvas, cov: Array, rgb: Array, depth: float) -> None:
        cov = np.broadcast_to(cov, (self.ys.shape[0], self.xs.shape[1]))
        rgb = rgb + (c.haze_rgb - rgb) * c.haze(depth)
        view = c.img[self.y0 : self.y0 + cov.shape[0], self.x0 : self.x0 + cov.shape[1]]
        _over(view, rgb, cov)

    def light(self, c: _Canvas, cov: Array, rgb: RGB, strength: float = 1.0) -> None:
        cov = np.broadcast_to(cov, (self.ys.shape[0], self.xs.shape[1])).astype(F32)
        c.glow_at(self.y0, self.x0, cov, rgb, strength)


def _rect(box: _Box, left: float, top: float, right: float, bottom: float) -> Array:
    """Anti-aliased coverage of an axis-aligned rectangle."""
    cx = np.clip(np.minimum(box.xs - left, right - box.xs) + 0.5, 0.0, 1.0)
    cy = np.clip(np.minimum(box.ys - top, bottom - box.ys) + 0.5, 0.0, 1.0)
    return (cx * cy).astype(F32)


def _grid(box: _Box, x0: float, y0: float, px: float, py: float, fill: float) -> tuple[Array, Array, Array]:
    """Cells of a window grid: (inside-a-pane mask, column index, row index)."""
    gx = (box.xs - x0) / px
    gy = (box.ys - y0) / py
    inside = ((gx % 1.0) < fill) & ((gy % 1.0) < fill)
    return inside.astype(F32), np.floor(gx), np.floor(gy)


def _korean_roof(box: _Box, cx: float, eave_y: float, width: float, height: float) -> Array:
    """Coverage of a hipped-and-gabled giwa roof seen from the front.

    A long ridge with ends that lift, hips falling to the corners, and eaves that sweep up toward the
    corners (the curve that makes a Korean roof read as one from any distance).
    """
    au = np.abs((box.xs - cx) / (width / 2))
    eave = eave_y - width * 0.055 * np.clip(au, 0.0, 1.0) ** 3
    r = 0.5
    s = np.clip((au - r) / (1.0 - r), 0.0, 1.0)
    ridge_y = eave_y - height
    hip = ridge_y + (eave - height * 0.1 - ridge_y) * s ** 0.8
    ridge = ridge_y - height * 0.07 - height * 0.1 * np.clip((au - r + 0.06) / 0.06, 0.0, 1.0) ** 2
    top = np.where(au <= r, ridge, hip)
    cov = np.clip(box.ys - top + 0.5, 0, 1) * np.clip(eave - box.ys + 0.5, 0, 1) * np.clip((1.0 - au) * width, 0, 1)
    return cov.astype(F32)


def _korean_building(c: _Canvas, cx: float, base_y: float, width: float, depth: float,
                     kind: str = "hanok") -> None:
    """A hanok, temple hall or palace hall: stone base, timber posts, lattice paper doors lit at night,
    a giwa roof (two tiers for a palace)."""
    roof_h, body_h, base_h = width * 0.2, width * 0.2, width * 0.05
    tiers = 2 if kind == "palace" else 1
    eave_y = base_y - base_h - body_h
    total = base_h + body_h + roof_h * 1.3 + (tiers - 1) * (roof_h + body_h * 0.5)
    box = _Box.around(c, cx - width * 0.55, base_y - total, cx + width * 0.55, base_y)
    if box is None:
        return
    rng = c.rng(f"korean-{cx:.0f}-{base_y:.0f}")
    wood = c.lit("red_wood" if kind in ("palace", "temple") else "wood")
    box.put(c, _rect(box, cx - width * 0.42, base_y - base_h, cx + width * 0.42, base_y),
            c.lit("stone", 0.8) * (1.0 + 0.15 * (box.ys < base_y - base_h * 0.8))[..., None], depth)
    half = width * 0.36
    bays = 5 if kind == "hanok" else 7
    bay = 2 * half / bays
    gx = (box.xs - (cx - half)) / bay
    frac = gx % 1.0
    body = _rect(box, cx - half, eave_y - roof_h * 0.3, cx + half, base_y - base_h)
    box.put(c, body, wood * 0.55, depth)
    door_top, door_bot = eave_y + body_h * 0.17, base_y - base_h - body_h * 0.12
    door = body * (frac > 0.1) * (frac < 0.9) * (box.ys > door_top) * (box.ys < door_bot)
    step = max(bay * 0.075, 2.0)
    dy = (box.ys - door_top) / (door_bot - door_top)
    bars = (((box.xs - cx) % step) < max(step * 0.22, 1.0)) | (np.abs(dy - 0.5) < 0.03) | (dy < 0.05) | (dy > 0.95)
    lattice = bars.astype(F32) * door
    on = np.take(rng.random(bays + 2) < 0.6, np.clip(np.floor(gx), 0, bays + 1).astype(np.int64))
    box.put(c, door, c.lit("plaster", 0.85), depth)
    box.put(c, lattice * 0.8, wood * 0.8, depth)
    if c.night:
        warmth = 0.55 + 0.45 * np.clip(dy, 0, 1)   # a lamp low in the room
        box.light(c, door * on * (1.0 - 0.7 * lattice) * warmth, _WINDOW_GLOW, 0.75)
        pool = _Box.around(c, cx - width * 0.6, base_y, cx + width * 0.6, base_y + width * 0.15)
        if pool is not None:       # the doors' light spilling onto the yard
            spill = np.exp(-(((pool.xs - cx) / (width * 0.4)) ** 2) - ((pool.ys - base_y) / (width * 0.06)) ** 2)
            pool.light(c, spill * (pool.ys >= base_y), _WINDOW_GLOW, 0.12 * float(on.mean()))
    box.put(c, np.clip(1.0 - (box.ys - eave_y) / (body_h * 0.35), 0, 1) * body * 0.75, wood * 0.25, depth)
    tile = c.lit("tile")
    y, w_roof = eave_y, width
    for tier in range(tiers):
        roof = _korean_roof(box, cx, y, w_roof, roof_h)
        rows = 0.8 + 0.35 * (((box.xs - cx) % max(w_roof * 0.014, 2.0)) > max(w_roof * 0.007, 1.0))
        lift = w_roof * 0.055 * np.clip(np.abs(box.xs - cx) / (w_roof / 2), 0, 1) ** 3
        edge = np.clip(1.0 - (y - lift - box.ys) / max(roof_h * 0.07, 1.5), 0, 1)
        slope = 0.8 + 0.35 * np.clip((box.ys - (y - roof_h)) / roof_h, 0, 1)
        box.put(c, roof, tile * (rows * slope * (1.0 + 0.5 * edge))[..., None], depth)
        # Sky light catching the ridge and hips: keeps the silhouette readable against a night sky.
        k = max(int(roof_h * 0.04), 1)
        rim = np.clip(roof - np.vstack([np.zeros((k, roof.shape[1]), F32), roof[:-k]]), 0, 1)
        box.put(c, rim * 0.8, _col(c.light.horizon) * 1.2 + tile, depth)
        if tier + 1 < tiers:
            y = y - roof_h * 0.8 - body_h * 0.5
            w_roof *= 0.7
            box.put(c, _rect(box, cx - w_roof * 0.34, y, cx + w_roof * 0.34, y + body_h * 0.75), wood * 0.5, depth)


def _pagoda(c: _Canvas, cx: float, base_y: float, width: float, depth: float) -> None:
    """A stone pagoda: stacked small roofs, each narrower than the one below."""
    tiers = 5
    box = _Box.around(c, cx - width, base_y - width * 3.4, cx + width, base_y)
    if box is None:
        return
    stone = c.lit("stone", 0.85)
    box.put(c, _rect(box, cx - width * 0.5, base_y - width * 0.5, cx + width * 0.5, base_y), stone, depth)
    y = base_y - width * 0.5
    for t in range(tiers):
        wt = width * (1.0 - 0.1 * t)
        body = _rect(box, cx - wt * 0.3, y - wt * 0.32, cx + wt * 0.3, y)
        box.put(c, body, stone * 0.9, depth)
        y -= wt * 0.32
        box.put(c, _korean_roof(box, cx, y, wt * 1.3, wt * 0.22), stone * 0.75, depth)
        y -= wt * 0.22
    box.put(c, _rect(box, cx - width * 0.03, y - width * 0.5, cx + width * 0.03, y), stone * 0.7, depth)


def _lit_windows(c: _Canvas, box: _Box, cells: Array, gx: Array, gy: Array, salt: int, share: float,
                 depth: float) -> None:
    """Windows: dark glass by day; at night a random share lit, mostly warm, some cool."""
    if not c.night:
        box.put(c, cells * 0.5, c.lit("ridge", 0.8), depth)
        return
    gxi, gyi = gx.astype(np.int64), gy.astype(np.int64)
    on = _hash01(c.seed, gxi + salt * 7919, gyi) < share
    warm = _hash01(c.seed + 1, gxi, gyi + salt) < 0.7
    box.light(c, cells * on * warm, _WINDOW_GLOW, 0.8)
    box.light(c, cells * on * ~warm, _WINDOW_COOL, 0.6)


def _blocks(c: _Canvas, key: str, left: float, right: float, base_y: float, heights: tuple[float, float],
            widths: tuple[float, float], depth: float, lit_share: float = 0.3) -> None:
    """A row of towers for a skyline, each with a grid of windows."""
    rng = c.rng(key)
    x = left
    while x < right:
        bw = c.h * (widths[0] + (widths[1] - widths[0]) * rng.random())
        bh = c.h * (heights[0] + (heights[1] - heights[0]) * rng.random())
        box = _Box.around(c, x, base_y - bh, x + bw, base_y)
        if box is not None:
            body = _rect(box, x, base_y - bh, x + bw, base_y)
            box.put(c, body, c.lit("concrete", 0.75 + 0.35 * rng.random()), depth)
            pane = max(c.h * 0.006, 1.5)
            panes, gx, gy = _grid(box, x + pane, base_y - bh + pane * 1.5, pane * 2.2, pane * 3.0, 0.5)
            inner = _rect(box, x + pane * 0.8, base_y - bh + pane, x + bw - pane * 0.8, base_y - pane * 1.5)
            _lit_windows(c, box, panes * inner, gx, gy, int(x), lit_share, depth)
        x += bw * (0.85 + 0.3 * rng.random())


def _castle(c: _Canvas, cx: float, base_y: float, size: float, depth: float) -> None:
    """Curtain wall, a keep and round towers with conical roofs; crenellated; slit windows lit at night."""
    box = _Box.around(c, cx - size * 0.6, base_y - size * 1.05, cx + size * 0.6, base_y)
    if box is None:
        return
    stone, roof = c.lit("stone", 0.8), c.lit("tile", 1.2)
    merlon = max(size * 0.035, 2.0)
    battlement = ((box.xs - cx) % (2 * merlon)) < merlon
    parts = [(-0.5, 0.5, 0.22, False), (-0.17, 0.17, 0.58, False), (-0.52, -0.38, 0.4, True),
             (0.38, 0.52, 0.4, True), (-0.27, -0.16, 0.7, True), (0.16, 0.27, 0.62, True)]
    for left, right, height, cone in parts:
        x0, x1, top = cx + left * size, cx + right * size, base_y - height * size
        body = _rect(box, x0, top, x1, base_y)
        if cone:
            mid, half = (x0 + x1) / 2, (x1 - x0) * 0.62
            spire = np.clip((box.ys - (top - size * 0.2)) * half / (size * 0.2) - np.abs(box.xs - mid) + 0.5, 0, 1)
            box.put(c, spire * (box.ys <= top + 1), roof, depth)
        else:
            body = np.maximum(body, _rect(box, x0, top - merlon, x1, top) * battlement)
        shade = 1.0 - 0.25 * ((box.xs - x0) / max(x1 - x0, 1.0))
        box.put(c, body, stone * shade[..., None], depth)
        slits, gx, gy = _grid(box, x0 + (x1 - x0) * 0.4, top + size * 0.06, x1 - x0, size * 0.09, 0.2)
        inner = _rect(box, x0 + 1, top + size * 0.04, x1 - 1, base_y - size * 0.06)
        _lit_windows(c, box, slits * inner * body, gx, gy, int(x0), 0.5, depth)


def _houses(c: _Canvas, left: float, right: float, depth: float) -> None:
    """A loose cluster of small pitched-roof houses at a few depths, each with a window or two."""
    rng = c.rng("village")
    for row, (dy, scale) in enumerate(((0.0, 0.7), (0.025, 0.85), (0.055, 1.0))):
        x = left + c.h * 0.04 * rng.random()
        while x < right:
            hw = c.h * scale * (0.05 + 0.03 * rng.random())
            hh = hw * (0.55 + 0.2 * rng.random())
            base = c.hz + c.h * dy
            rh = hw * (0.45 + 0.2 * rng.random())
            box = _Box.around(c, x - hw * 0.15, base - hh - rh, x + hw * 1.15, base)
            if box is not None:
                wall = _rect(box, x, base - hh, x + hw, base)
                box.put(c, wall, c.lit("plaster", 0.7 + 0.3 * rng.random()), depth - 0.1 * row)
                mid = x + hw / 2
                gable = np.clip(box.ys - (base - hh - rh) - np.abs(box.xs - mid) * rh / (hw * 0.65) + 0.5, 0, 1)
                box.put(c, gable * (box.ys <= base - hh + 1), c.lit("tile", 1.5), depth - 0.1 * row)
                win, gx, gy = _grid(box, x + hw * 0.2, base - hh * 0.75, hw * 0.35, hh, 0.45)
                inner = _rect(box, x + hw * 0.1, base - hh * 0.8, x + hw * 0.9, base - hh * 0.3)
                _lit_windows(c, box, win * inner, gx, gy, int(x) + row, 0.6, depth)
            x += hw * (1.2 + 1.2 * rng.random())


def _spire(c: _Canvas, cx: float, base_y: float, height: float, depth: float, lighthouse: bool) -> None:
    """A slender tower (broadcast tower or lighthouse): tapering shaft, a head, a light at night."""
    w0 = height * (0.11 if lighthouse else 0.05)
    w1 = w0 * (0.65 if lighthouse else 0.5)
    box = _Box.around(c, cx - w0 * 2, base_y - height * 1.25, cx + w0 * 2, base_y)
    if box is None:
        return
    f = np.clip((base_y - box.ys) / height, 0, 1)
    half = w0 / 2 + (w1 - w0) / 2 * f
    shaft = np.clip(half - np.abs(box.xs - cx) + 0.5, 0, 1) * np.clip(box.ys - (base_y - height) + 0.5, 0, 1)
    shaft = shaft * (box.ys <= base_y)
    if lighthouse:
        band = (np.floor(f * 5) % 2 == 1)
        rgb = np.where(band[..., None], c.lit((0.62, 0.12, 0.1)), c.lit("white_paint"))
    else:
        rgb = np.broadcast_to(c.lit("concrete", 0.8), (*shaft.shape, 3))
    box.put(c, shaft, rgb, depth)
    head_y = base_y - height
    hw = w1 * (1.1 if lighthouse else 1.8)
    head = _rect(box, cx - hw, head_y - hw * (1.2 if lighthouse else 0.9), cx + hw, head_y)
    cap = np.clip(hw * 0.9 - np.abs(box.xs - cx) - (head_y - hw * 1.2 - box.ys) * 1.2 + 0.5, 0, 1)
    cap *= (box.ys < head_y - hw * 1.2) * (box.ys > head_y - hw * 2.4)
    box.put(c, np.maximum(head, cap), c.lit("ridge", 0.9), depth)
    if lighthouse:
        lamp, colour = _rect(box, cx - hw * 0.7, head_y - hw * 1.05, cx + hw * 0.7, head_y - hw * 0.2), (1.0, 0.9, 0.7)
    else:
        tip = head_y - height * 0.2
        box.put(c, _rect(box, cx - 1, tip, cx + 1, head_y), c.lit("ridge"), depth)
        lamp, colour = _rect(box, cx - 2, tip - 2, cx + 2, tip + 2), (1.0, 0.2, 0.1)   # aviation light
    if c.night or c.scene.time in ("dusk", "dawn") or c.scene.has("fog") or c.scene.has("rain"):
        box.light(c, lamp, colour, 1.5)
        if lighthouse:
            _beam(c, cx, head_y - hw * 0.6, height)


def _beam(c: _Canvas, x: float, y: float, size: float) -> None:
    """A lighthouse beam: a soft cone of light swept toward the open side of frame."""
    toward = 1.0 if x < c.w / 2 else -1.0
    box = _Box.around(c, 0, y - size, c.w, y + size)
    if box is None:
        return
    dx = (box.xs - x) * toward
    ang = np.abs(box.ys - y) / np.maximum(dx, 1.0)
    cone = _smooth(0.12, 0.0, ang) * (dx > 0) * np.exp(-dx / (c.w * 0.6))
    box.light(c, cone.astype(F32) * 0.35, (1.0, 0.92, 0.75), 1.0)


def _architecture(c: _Canvas, cliff_edge: float | None) -> None:
    """Buildings on the side away from the sun or moon, the middle of frame kept for the actor."""
    arch = c.scene.architecture
    if not arch:
        return
    rng = c.rng("architecture")
    side = -1.0 if c.sun_x > c.w / 2 else 1.0
    main_x = c.w * 0.5 + side * c.w * (0.27 + 0.04 * rng.random())
    ground = c.hz + (c.h - c.hz) * (0.03 if c.scene.far else 0.2)
    scale, near_depth = (0.4, 0.9) if c.scene.far else (1.0, 0.35)
    korean = [k for k in ("palace", "temple", "hanok") if k in arch]
    if "rooftops" in arch or (korean and "village" in arch):
        for i, frac in enumerate(np.linspace(0.02, 0.98, 7)):
            if abs(frac - 0.5) > 0.12:
                _korean_building(c, c.w * (frac + (rng.random() - 0.5) * 0.04), c.hz + c.h * 0.03 * (i % 2),
                                 c.h * (0.28 + 0.06 * rng.random()), 0.75 + 0.1 * (i % 2))
    if korean or "rooftops" in arch:
        kind = korean[0] if korean else "hanok"
        size = c.h * {"hanok": 0.75, "temple": 0.85, "palace": 0.75}[kind] * scale
        _korean_building(c, main_x, ground, size, near_depth, kind)
        if "temple" in arch:
            _pagoda(c, main_x - side * size * 0.73, ground - c.h * 0.02 * scale, size * 0.1, near_depth + 0.1)
    elif "village" in arch:
        lo, hi = (0.0, 0.4) if side < 0 else (0.6, 1.0)
        _houses(c, c.w * lo, c.w * hi, 0.7)
    if "city" in arch:
        _blocks(c, "city-far", 0, c.w, c.hz + 1, (0.06, 0.2), (0.03, 0.07), 1.1, lit_share=0.25)
        near = (0, c.w * 0.38) if side < 0 else (c.w * 0.62, c.w)
        _blocks(c, "city-near", near[0], near[1], c.hz + c.h * 0.06, (0.15, 0.42), (0.06, 0.12), 0.55)
    if "castle" in arch:
        _castle(c, main_x if not korean else c.w - main_x, c.hz + c.h * 0.03, c.h * 0.5, 0.7)
    if "tower" in arch:
        _spire(c, c.w * 0.5 - side * c.w * 0.3, c.hz + c.h * 0.01, c.h * 0.42, 0.9, lighthouse=False)
    if "lighthouse" in arch:
        if cliff_edge is not None:
            x = cliff_edge + (1.0 if cliff_edge > c.w / 2 else -1.0) * c.w * 0.06
            base = float(c.surface[int(np.clip(x, 0, c.w - 1))])
        else:
            x, base = c.w * 0.5 - side * c.w * 0.3, c.hz + c.h * 0.02
        _spire(c, x, base + 2, c.h * 0.2, 0.3, lighthouse=True)


# -- weather and finish ----------------------------------------------------------------------------------


def _fog_density(t: float, w: int, h: int, seed: int, horizon: float, reach: float = 0.12) -> Array:
    """Low-lying fog banks: drifting fractal noise, densest at the horizon, thinner above (over ``reach``
    of the frame height) and toward the viewer."""
    lw, lh = _lo(w, h)
    tex = _noise_tex(seed, "fog", 256, 1.6)
    ys = (np.arange(lh, dtype=F32)[:, None] + 0.5) / lh * h
    xs = (np.arange(lw, dtype=F32)[None, :] + 0.5) / lw * w
    u = xs / h * 90.0 + t * 6.0
    v = ys / h * 240.0
    n = _sample(tex, u, v) * 0.6 + _sample(tex, u * 0.5 - t * 3.0 + 80, v * 0.6) * 0.5
    above = np.clip((horizon - ys) / h, 0.0, None)
    below = np.clip((ys - horizon) / h, 0.0, None)
    profile = np.exp(-above / reach) * (0.8 + 0.2 * np.exp(-below / 0.12))
    return _up((np.clip(profile * (0.75 + 0.35 * n), 0.0, 1.0)).astype(F32), w, h)


def _weather(c: _Canvas) -> None:
    sc = c.scene
    if sc.fog:
        fog = _fog_density(0.0, c.w, c.h, c.seed, c.hz) * 0.8
        _over(c.img, np.broadcast_to(c.haze_rgb, c.img.shape), fog)
    level = float(np.mean(_col(c.light.ambient))) * 0.9 + 0.08
    for name, strength in (("rain", 0.8), ("snow", 1.0)):
        if sc.has(name):
            rgb, alpha = ELEMENTS[name](0.0, c.w, c.h, c.seed)
            _over(c.img, rgb * level, alpha * strength)


def _grade(img: Array, scene: Scene) -> Array:
    """Palette shifts the look asks for, then a gentle filmic curve."""
    look = set(scene.look)
    if "rain" in scene.weather or "storm" in scene.weather:
        look.add("desaturated")
    y = _luma(img)[..., None]
    if "teal_orange" in look:
        t = _smooth(0.1, 0.75, y)
        img = img * (1.0 - 0.35) + 0.35 * _mix((0.10, 0.36, 0.42), (1.05, 0.62, 0.32), t) * (y * 2.0 + 0.05)
    if "warm" in look:
        img = img * _col((1.08, 1.0, 0.86))
    if "cold" in look:
        img = img * _col((0.88, 0.98, 1.1))
    if "desaturated" in look:
        img = _mix(y, img, 0.55)
    if "monochrome" in look:
        img = np.broadcast_to(_luma(img)[..., None], img.shape) * _col((1.0, 0.99, 0.96))
    img = np.clip(img, 0.0, 1.6)
    k = 0.3 if "contrast" in look else 0.12
    curve = img * img * (3.0 - 2.0 * np.clip(img, 0, 1))
    img = img + (curve - img) * k
    if "soft" in look:
        img = img * 0.88 + 0.05
    return img.astype(F32)


def _finish(c: _Canvas) -> Array:
    """Emitted light, bloom, grade, vignette and grain, then 8 bits."""
    h, w = c.h, c.w
    img = c.img
    lw, lh = max(w // 8, 4), max(h // 8, 4)
    small = cv2.resize(img, (lw, lh), interpolation=cv2.INTER_AREA)
    bright = np.clip(small - 0.75, 0.0, None)
    bloom = cv2.GaussianBlur(bright, (0, 0), max(lw / 80, 1.0)) * 0.8 + cv2.GaussianBlur(bright, (0, 0), lw / 20) * 0.6
    yy, xx = np.mgrid[0:lh, 0:lw].astype(F32)
    r = np.hypot((xx + 0.5) / lw - 0.5, ((yy + 0.5) / lh - 0.5) * 0.85)
    vig = 1.0 - 0.42 * _smooth(0.22, 0.75, r)
    low = np.concatenate([bloom, vig[..., None]], axis=2)
    low_full = _up(low, w, h)
    img += low_full[..., :3]
    img *= low_full[..., 3:]
    img = _grade(img, c.scene)
    rng = c.rng("grain")
    grainy = "grain" in c.scene.look
    if grainy:
        g = cv2.resize(rng.standard_normal((h // 2 + 1, w // 2 + 1), dtype=F32), (w, h),
                       interpolation=cv2.INTER_LINEAR)
        img += g[..., None] * (0.028 * (1.0 - 0.5 * np.clip(img, 0, 1)))
    # Always a whisper of noise: it dithers the upscaled gradients so skies never band.
    img += rng.random((h, w, 1), dtype=F32) * (1.5 / 255) - 0.75 / 255
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _check_size(width: int, height: int) -> None:
    if width < 16 or height < 16 or width > 16384 or height > 16384:
        raise EngineError(
            f"procedural engine cannot draw {width}×{height}",
            hint="use a width and height between 16 and 16384 pixels",
        )


def _render(scene: Scene, width: int, height: int, seed: int) -> Array:
    _check_size(width, height)
    lt = LIGHTS[scene.time]
    if scene.has("rain") or scene.has("storm") or scene.has("overcast"):
        grey = float(np.mean(lt.horizon)) * 0.8      # an overcast sky: greyer, flatter, less sun
        lt = dataclasses.replace(
            lt, zenith=_rgb(_mix(lt.zenith, (grey * 0.7,) * 3, 0.6)), horizon=_rgb(_mix(lt.horizon, (grey,) * 3, 0.55)),
            glow_power=lt.glow_power * 0.4, ambient=_rgb(_col(lt.ambient) * 0.75),
            cloud_dark=_rgb(_col(lt.cloud_dark) * 0.8))
    rng = _rng(seed, "layout")
    hz = height * (0.64 + 0.03 * (rng.random() - 0.5))
    sun_side = 0.72 if rng.random() < 0.5 else 0.28
    sun_x = width * (sun_side + (rng.random() - 0.5) * 0.06)
    sun_y = hz - max(lt.elevation, -0.2) * hz * (0.9 if lt.elevation > 0.5 else 1.0)
    if scene.time == "night":
        sun_y = height * 0.2
    air = 0.68 if scene.fog else (0.6 if scene.has("rain") or scene.has("snow") else 0.42)
    haze = _col(lt.horizon) * (0.9 if lt.elevation > 0.3 and scene.time != "night" else 0.7) + _col(lt.zenith) * 0.1
    if scene.fog:
        haze = _mix(haze, _col(lt.ambient) * 0.55 + 0.1 * float(np.mean(lt.ambient)), 0.5)
    detail = _detail_field(seed, width, height)
    c = _Canvas(width, height, seed, scene, lt, np.zeros((height, width, 3), F32), hz, sun_x, sun_y, air,
                haze.astype(F32), detail, np.full(width, hz, F32))
    sky = _sky(c)
    c.img[: sky.shape[0]] = sky
    terrain = scene.terrain
    korean = {"hanok", "temple", "palace", "rooftops"} & set(scene.architecture)
    if "mountains" in terrain:
        _mountains(c)
    elif korean and "sea" not in terrain:
        _mountains(c, layers=2, scale=0.55)     # Korean towns sit in front of hills
    elif "plains" in terrain:
        _hills(c, "grass", (2.0, 1.3), 0.05)
    if "forest" in terrain:
        _forest(c)
    if "sea" in terrain:
        _sea(c, sky)
    elif "desert" in terrain:
        _ground(c, "sand", 0.1)
        _dunes(c)
    else:
        ground = "snow" if scene.has("snow") else (
            "courtyard" if korean else "concrete" if "city" in scene.architecture
            else "grass" if {"plains", "forest"} & set(terrain) else "earth")
        _ground(c, ground)
    edge = _cliff(c) if "cliff" in terrain else None
    if "mountains" in terrain and not scene.architecture and "sea" not in terrain and edge is None:
        _shoulders(c)
    _architecture(c, edge)
    if "sea" in terrain and "cliff" not in terrain:
        _shore(c)
    if "glass" in scene.material:
        _glints(c)
    if "forest" in terrain:
        _forest_frame(c)
    _weather(c)
    return _finish(c)


def _detail_field(seed: int, width: int, height: int) -> Array:
    tex = _noise_tex(seed, "detail", 256, 1.1)
    reps_x = max(1, math.ceil(width / 512))
    reps_y = max(1, math.ceil(height / 512))
    tiled = np.tile(tex, (reps_y, reps_x))
    return cv2.resize(tiled, (width, height), interpolation=cv2.INTER_LINEAR)


def _glints(c: _Canvas) -> None:
    """Sparkles on glass or ice ground: sparse points that catch the light, most toward the sun."""
    rng = c.rng("glints")
    n = int(c.w * (c.h - c.hz) / 4000)
    y = (c.hz + (c.h - c.hz) * rng.random(n) ** 1.6).astype(np.int64).clip(0, c.h - 1)
    x = rng.integers(0, c.w, n)
    toward = np.exp(-np.abs(x - c.sun_x) / (0.2 * c.w))
    b = (rng.random(n) ** 4 * 3.0 * (0.1 + toward)).astype(F32)
    layer = np.zeros((c.h, c.w), F32)
    layer[y, x] = b
    arm = max(int(c.h / 120), 2)
    cross = np.zeros((2 * arm + 1, 2 * arm + 1), F32)
    cross[arm, :] = cross[:, arm] = np.exp(-np.abs(np.arange(-arm, arm + 1)) / (arm / 2.5))
    layer = cv2.filter2D(layer, -1, cross) + cv2.GaussianBlur(layer, (0, 0), 1.2) * 2.0
    c.glow_at(0, 0, layer, c.light.glow, 1.0)
    c.img[int(c.hz):] *= _col((0.92, 0.98, 1.06))


def set_image(prompt: str, look: str, width: int, height: int, seed: int) -> Array:
    """The still behind AssetKind.SET: H×W×3 uint8 RGB, the same bytes for the same arguments."""
    return _render(read_scene(prompt, look), width, height, seed)


# ---------------------------------------------------------------------------------------------------------
# Elements: VFX layers with straight alpha, one pure function of time per element
# ---------------------------------------------------------------------------------------------------------

_FIRE_RAMP = np.array(
    [[0.0, 0.35, 0.03, 0.0], [0.3, 0.85, 0.2, 0.02], [0.55, 1.0, 0.5, 0.08], [0.8, 1.0, 0.82, 0.35],
     [1.0, 1.0, 0.97, 0.82]], dtype=F32)


def _ramp(t: Array, table: Array) -> Array:
    return np.stack([np.interp(t, table[:, 0], table[:, k]).astype(F32) for k in (1, 2, 3)], axis=-1)


def _grid_lo(w: int, h: int, scale: int) -> tuple[Array, Array, int, int]:
    lw, lh = max(w // scale, 8), max(h // scale, 8)
    xs = (np.arange(lw, dtype=F32)[None, :] + 0.5) * (w / lw)
    ys = (np.arange(lh, dtype=F32)[:, None] + 0.5) * (h / lh)
    return xs, ys, lw, lh


def _turbulence(seed: int, key: str, u: Array, v: Array) -> Array:
    tex = _noise_tex(seed, key, 256, 1.25)
    return _sample(tex, u, v) * 0.65 + _sample(tex, u * 2.1 + 37.0, v * 2.1 + 11.0) * 0.35


def _plume(t: float, w: int, h: int, seed: int, key: str, *, height: float, width: float, rise: float,
           taper: float, spread: float) -> tuple[Array, Array, Array]:
    """A rising column at 1/2 resolution: the shared body of fire and smoke.

    The column is warped by slow turbulence and textured by fast turbulence scrolling upward at ``rise``;
    ``taper`` narrows it toward the tip (flames), ``spread`` widens it with height (smoke).
    Returns (body 0..1, height above the base 0..1, fine turbulence).
    """
    xs, ys, _, _ = _grid_lo(w, h, 2)
    s = min(w, h)
    px, py = (xs - w * 0.5) / s, (h * 0.96 - ys) / s     # isotropic, so the noise is not stretched
    x, y = px / width, py * s / (height * h)
    warp = _turbulence(seed, key + "-warp", px * 90.0, py * 90.0 - t * rise * 45.0)
    n = _turbulence(seed, key, px * 260.0, py * 260.0 - t * rise * 150.0)
    xw = x + 0.45 * warp * np.clip(y, 0.0, None)
    half = (np.clip(1.0 - y, 0.0, 1.0) ** taper) * (1.0 + spread * np.clip(y, 0.0, None))
    body = np.clip(1.0 - (xw / np.maximum(half, 1e-3)) ** 2, 0.0, 1.0) * _smooth(-0.04, 0.04 + 0.15 * x * x, y)
    return body.astype(F32), y.astype(F32), n.astype(F32)


def _fire(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """Flames: a tapering plume whose fast turbulence tears the top into licks; it flickers."""
    body, y, n = _plume(t, w, h, seed, "fire", height=0.72, width=0.24, rise=1.8, taper=1.3, spread=0.1)
    flicker = 1.0 + 0.07 * math.sin(t * 13.0) + 0.05 * math.sin(t * 23.7 + 1.3)
    heat = body * (1.15 - 0.85 * y) * flicker + 0.6 * n * np.sqrt(body) * (0.2 + y) - 0.1
    heat = np.clip(heat, 0.0, 1.0)
    rgb = _ramp(heat, _FIRE_RAMP)
    alpha = _smooth(0.02, 0.4, heat)
    glow = cv2.GaussianBlur(heat, (0, 0), max(heat.shape[0] / 25, 1.0))
    alpha = np.maximum(alpha, _smooth(0.03, 0.5, glow) * 0.3)
    return _elem_out(rgb, alpha, w, h)


def _smoke(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """A slow grey column that widens and thins as it rises."""
    body, y, n = _plume(t, w, h, seed, "smoke", height=1.1, width=0.12, rise=0.35, taper=0.0, spread=2.2)
    dens = body * (0.8 + 0.6 * n) * (1.0 - _smooth(0.55, 1.0, y))
    alpha = _smooth(0.05, 0.7, dens) * 0.9
    shade = np.clip(0.42 + 0.16 * n + 0.15 * y, 0.0, 1.0)
    rgb = np.repeat(shade[..., None], 3, axis=2) * _col((0.96, 0.97, 1.0))
    return _elem_out(rgb, alpha, w, h)


def _explosion(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """A fireball that expands and cools over ~1.5 s, leaving billowing smoke that rises and holds."""
    xs, ys, _, _ = _grid_lo(w, h, 2)
    s = min(w, h)
    r = s * (0.03 + 0.3 * (1.0 - math.exp(-t / 0.2)))
    cx, cy = w * 0.5, h * 0.62 - s * 0.12 * t / (1.0 + 0.5 * t)
    d = np.hypot(xs - cx, ys - cy) / r
    u, v = (xs - cx) / s * 220.0, (ys - cy) / s * 220.0
    n = _turbulence(seed, "explosion", u + t * 15.0, v - t * 35.0)
    n2 = _turbulence(seed, "explosion-2", u * 0.45 - t * 8.0, v * 0.45 - t * 20.0)
    shape = d * (1.0 - 0.2 * n - 0.18 * n2)
    ball = _smooth(1.0, 0.65, shape)
    heat = np.clip(ball * (1.15 - 0.7 * d) * math.exp(-t / 0.45) * (1.0 + 0.35 * n), 0.0, 1.0)
    hold = 0.65 + 0.25 * math.exp(-max(t - 1.5, 0.0) / 2.0)
    smoke = _smooth(1.05, 0.55, shape / (1.0 + 0.2 * min(t, 2.5))) * min(t / 0.5, 1.0) * hold
    fire_a = _smooth(0.04, 0.35, heat)
    alpha = np.clip(fire_a + smoke * (1.0 - fire_a), 0.0, 1.0)
    grey = np.clip(0.2 + 0.09 * n + 0.05 * n2, 0.06, 0.45)[..., None] * _col((1.0, 0.96, 0.92))
    grey = grey + _ramp(np.clip(heat * 3.0, 0, 1), _FIRE_RAMP) * (0.5 * math.exp(-t / 0.8))
    rgb = _mix(grey, _ramp(heat, _FIRE_RAMP), (fire_a / np.maximum(alpha, 1e-4))[..., None])
    if t < 0.12:
        flash = (1.0 - t / 0.12) * np.exp(-d * 1.2)
        alpha = np.maximum(alpha, flash * 0.95)
        rgb = _mix(rgb, (1.0, 0.95, 0.8), flash[..., None])
    return _elem_out(rgb, alpha, w, h)


def _elem_out(rgb: Array, alpha: Array, w: int, h: int) -> tuple[Array, Array]:
    """Upscale a low-resolution element to the frame; alpha below 1/255 is zero, not a haze."""
    if rgb.shape[:2] != (h, w):
        rgb = _up(rgb.astype(F32), w, h)
        alpha = _up(alpha.astype(F32), w, h)
    alpha = np.where(alpha < 0.5 / 255, 0.0, alpha).astype(F32)
    return rgb.astype(F32), alpha


def _rain(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """Falling streaks in three depths; a streak is as long as a drop falls in a 1/48 s shutter."""
    rng = _rng(seed, "rain")
    canvas = np.zeros((h, w), np.uint8)
    wind = 0.18
    for count, speed, thick, level in ((2600, 0.8, 1, 70), (1100, 1.3, 1, 110), (200, 2.1, 2, 105)):
        n = max(int(count * w * h / (1920 * 1080)), 8)
        x0 = rng.random(n) * (w + h * wind)
        y0 = rng.random(n)
        v = speed * (0.85 + 0.3 * rng.random(n))
        length = v * h / 48.0
        span = 1.0 + length / h
        y = ((y0 + v * t) % span) * h - length
        x = (x0 - wind * (y + h)) % (w + h * wind) - h * wind * 0.5
        pts = np.stack([np.stack([x, y], 1), np.stack([x + wind * length, y + length], 1)], 1)
        cv2.polylines(canvas, list(np.round(pts * 16).astype(np.int32)), False, int(level),
                      max(round(thick * h / 1080), 1), cv2.LINE_AA, shift=4)
    alpha = canvas.astype(F32) * (1.0 / 255)
    rgb = np.broadcast_to(_col((0.82, 0.86, 0.92)), (h, w, 3))
    return rgb, alpha


def _snow(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """Flakes in three depths drifting and swaying; near flakes are bigger and out of focus."""
    rng = _rng(seed, "snow")
    alpha = np.zeros((h, w), F32)
    scale = h / 1080
    for count, speed, radius, blur in ((700, 0.06, 1.2, 0.0), (300, 0.11, 2.2, 0.8), (70, 0.2, 5.0, 3.0)):
        n = max(int(count * w * h / (1920 * 1080)), 6)
        x0, y0, ph = rng.random(n) * w, rng.random(n), rng.random(n) * 6.283
        v = speed * (0.8 + 0.4 * rng.random(n))
        y = ((y0 + v * t) % 1.08 - 0.04) * h
        x = (x0 + 0.03 * w * t + np.sin(t * 1.3 + ph) * radius * 6 * scale) % w
        layer = np.zeros((h, w), np.uint8)
        rad = max(round(radius * scale), 1)
        for xi, yi in zip(np.round(x * 4).astype(np.int32), np.round(y * 4).astype(np.int32), strict=True):
            cv2.circle(layer, (int(xi), int(yi)), rad * 4, 255, -1, cv2.LINE_AA, shift=2)
        lay: Array = layer.astype(F32) / 255
        if blur:
            lay = cv2.GaussianBlur(lay, (0, 0), blur * scale + 0.3) * 1.6
        alpha = np.maximum(alpha, np.clip(lay, 0, 1) * 0.9)
    rgb = np.broadcast_to(_col((0.95, 0.97, 1.0)), (h, w, 3))
    return rgb, alpha


def _particles(canvas: Array, x: Array, y: Array, vx: Array, vy: Array, heat: Array, shutter: float,
               thick: int) -> None:
    """Draw motion-blurred points as short streaks whose brightness is their heat."""
    for i in range(len(x)):
        p0 = (round(x[i] * 16), round(y[i] * 16))
        p1 = (round((x[i] - vx[i] * shutter) * 16), round((y[i] - vy[i] * shutter) * 16))
        cv2.line(canvas, p0, p1, float(heat[i]), thick, cv2.LINE_AA, shift=4)


def _sparks(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """Ballistic sparks from a point: each slot is reborn every lifetime with fresh random velocity."""
    s = min(w, h)
    n = 260
    k = np.arange(n)
    life = 0.6 + 1.0 * _hash01(seed, k, np.full(n, 1))
    phase = _hash01(seed, k, np.full(n, 2)) * life
    cycle = np.floor((t + phase) / life)
    age = (t + phase) - cycle * life
    r = [_hash01(seed, k, cycle.astype(np.int64), np.full(n, j)) for j in range(3)]
    ang = -math.pi / 2 + (r[0] - 0.5) * 2.2
    speed = s * (0.6 + 1.0 * r[1])
    g = s * 1.3
    vx, vy0 = np.cos(ang) * speed, np.sin(ang) * speed
    x = w * 0.5 + vx * age
    y = h * 0.72 + vy0 * age + 0.5 * g * age * age
    vy = vy0 + g * age
    heat = np.clip(1.0 - age / life, 0.0, 1.0) ** 1.5 * (0.6 + 0.4 * r[2])
    canvas = np.zeros((h, w), F32)
    _particles(canvas, x, y, vx, vy, heat, 1.0 / 48, max(round(s / 540), 1))
    glow = cv2.GaussianBlur(cv2.resize(canvas, (max(w // 4, 1), max(h // 4, 1)), interpolation=cv2.INTER_AREA),
                            (0, 0), 2.0)
    heat_full = np.maximum(canvas, _up(glow, w, h) * 2.0)
    rgb = _ramp(np.clip(canvas * 1.2 + 0.3, 0, 1), _FIRE_RAMP)
    alpha = np.clip(canvas * 1.4, 0, 1) + np.clip(heat_full - canvas, 0, 1) * 0.6
    return _elem_out(rgb, np.clip(alpha, 0, 1), w, h)


def _fog(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    alpha = _fog_density(t, w, h, seed, h * 0.7, reach=0.3) * 0.8
    rgb = np.broadcast_to(_col((0.80, 0.82, 0.86)), (h, w, 3))
    return rgb, _elem_out(rgb, alpha, w, h)[1]


def _magic(t: float, w: int, h: int, seed: int) -> tuple[Array, Array]:
    """A glowing orb with motes on slow spirals around it; the glow is the alpha."""
    s = min(w, h)
    n = 180
    k = np.arange(n)
    r0 = _hash01(seed, k, np.full(n, 1))
    ang = _hash01(seed, k, np.full(n, 2)) * 6.283 + t * (0.8 + 1.2 * (1 - r0))
    rad = s * (0.05 + 0.28 * r0) * (1.0 + 0.08 * np.sin(t * 2.0 + k))
    x = w * 0.5 + np.cos(ang) * rad
    y = h * 0.5 + np.sin(ang) * rad * 0.55 - s * 0.03 * np.sin(t + k * 0.3)
    vx, vy = -np.sin(ang) * rad * 1.5, np.cos(ang) * rad * 0.8
    twinkle = 0.5 + 0.5 * np.sin(t * 6.0 + k * 1.7)
    canvas = np.zeros((h, w), F32)
    _particles(canvas, x, y, vx, vy, 0.5 + 0.5 * twinkle, 1.0 / 24, max(round(s / 400), 1))
    lw, lh = max(w // 4, 1), max(h // 4, 1)
    small = cv2.resize(canvas, (lw, lh), interpolation=cv2.INTER_AREA)
    yy, xx = np.mgrid[0:lh, 0:lw].astype(F32)
    d = np.hypot(xx - lw / 2, yy - lh / 2) / (s / 4)
    orb = np.exp(-d / 0.05) * (0.85 + 0.15 * math.sin(t * 4.0))
    glow = cv2.GaussianBlur(small, (0, 0), 3.0) * 3.0 + orb
    full = _up(glow.astype(F32), w, h) + canvas
    alpha = np.clip(full, 0, 1)
    hue = _up(np.clip(d * 2.0, 0, 1).astype(F32), w, h)
    rgb = _mix((0.95, 1.0, 1.0), (0.35, 0.75, 1.0), _smooth(0.0, 0.3, hue)[..., None])
    rgb = _mix(rgb, (0.7, 0.35, 1.0), _smooth(0.3, 1.0, hue)[..., None])
    return _elem_out(rgb, alpha, w, h)


#: element name -> renderer(t seconds, width, height, seed) -> (straight RGB float, alpha float)
ELEMENTS: dict[str, Callable[[float, int, int, int], tuple[Array, Array]]] = {
    "fire": _fire,
    "explosion": _explosion,
    "smoke": _smoke,
    "rain": _rain,
    "snow": _snow,
    "sparks": _sparks,
    "fog": _fog,
    "magic": _magic,
}

_ELEMENT_ALIASES: dict[str, str] = {
    "flame": "fire", "flames": "fire", "불": "fire", "화염": "fire", "불길": "fire",
    "blast": "explosion", "폭발": "explosion",
    "연기": "smoke",
    "비": "rain",
    "눈": "snow",
    "spark": "sparks", "embers": "sparks", "불꽃": "sparks", "불똥": "sparks",
    "mist": "fog", "안개": "fog",
    "glow": "magic", "마법": "magic", "spell": "magic",
}


def _element_name(name: str) -> str:
    key = name.strip().lower()
    key = _ELEMENT_ALIASES.get(key, key)
    if key not in ELEMENTS:
        raise EngineError(
            f"procedural engine has no element {name!r}",
            hint=f"known elements: {', '.join(ELEMENTS)}",
        )
    return key


def element_frame(name: str, index: int, fps: float, width: int, height: int, seed: int) -> Array:
    """Frame ``index`` of an element as H×W×4 uint8 straight RGBA; a pure function, so frames can stream."""
    key = _element_name(name)
    _check_size(width, height)
    if fps <= 0 or index < 0:
        raise EngineError(f"element frame needs fps > 0 and index >= 0, got fps={fps}, index={index}")
    rgb, alpha = ELEMENTS[key](index / fps, width, height, seed)
    out = np.empty((height, width, 4), np.uint8)
    out[..., :3] = np.clip(rgb * 255.0 + 0.5, 0, 255)
    out[..., 3] = np.clip(alpha * 255.0 + 0.5, 0, 255)
    return out


# ---------------------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------------------


def _write_png(path: Path, pixels: Array) -> None:
    """RGB(A) to PNG through OpenCV (which wants BGR order), written atomically."""
    code = cv2.COLOR_RGB2BGR if pixels.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
    ok, buf = cv2.imencode(".png", cv2.cvtColor(pixels, code), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise EngineError(f"could not encode {path.name} as PNG", path=path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.tobytes())


class ProceduralEngine:
    """Sets and elements drawn by algorithm: offline, free, deterministic, labelled algorithmicMedia."""

    name: ClassVar[str] = "procedural"
    Options: ClassVar[type[EngineOptions]] = EngineOptions     # nothing to set
    kinds: ClassVar[frozenset[AssetKind]] = frozenset({AssetKind.SET, AssetKind.ELEMENT})
    elements: ClassVar[frozenset[str] | None] = frozenset(ELEMENTS) | frozenset(_ELEMENT_ALIASES)
    takes_references: ClassVar[bool] = False
    source_type: ClassVar[SourceType] = SourceType.ALGORITHMIC
    model = MODEL
    version = f"{__version__}+gen{GENERATOR_VERSION}"

    def __init__(self, options: EngineOptions | None = None, *, root: Path | None = None) -> None:
        self.options = options or EngineOptions()

    def quote(self, request: AssetRequest) -> Quote:
        """CPU-seconds from the benchmark figures (docs/benchmarks.md): ~0.4 s a 1080p still, ~0.1 s a frame."""
        self._check(request)
        megapixels = request.width * request.height / (1920 * 1080)
        seconds = 0.45 * megapixels if request.kind == AssetKind.SET else 0.1 * megapixels * _frame_count(request)
        return Quote(self.name, self.model, "cpu_second", round(seconds, 6))

    def generate(self, request: AssetRequest, out_dir: Path) -> Generated:
        self._check(request)
        start = time.perf_counter()
        out_dir = Path(out_dir)
        if request.kind == AssetKind.SET:
            scene = read_scene(request.prompt, request.look, request.negative_prompt)
            pixels = _render(scene, request.width, request.height, request.seed)
            target = out_dir / "set.png"
            _write_png(target, pixels)
            files: tuple[Path, ...] = (target,)
            params: dict[str, Any] = scene.parameters()
        else:
            files, params = self._element(request, out_dir)
        params.update(width=request.width, height=request.height, seed=request.seed,
                      generator=GENERATOR_VERSION)
        seconds = time.perf_counter() - start
        return Generated(
            files=files,
            engine=self.name,
            model=self.model,
            version=self.version,
            source_type=SourceType.ALGORITHMIC,
            parameters=params,
            unit="cpu_second",
            quantity=seconds,
            seconds=seconds,
        )

    def _check(self, request: AssetRequest) -> None:
        if request.kind not in self.kinds:
            raise EngineError(
                f"procedural engine cannot make a {request.kind.value}",
                hint="it makes sets (stills) and elements; use an AI engine for moving backgrounds",
            )
        if request.kind == AssetKind.ELEMENT:
            if not request.element:
                raise EngineError("an element request needs request.element", hint=f"one of: {', '.join(ELEMENTS)}")
            _element_name(request.element)

    @staticmethod
    def _element(request: AssetRequest, out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any]]:
        name = _element_name(request.element or "")
        fps = request.fps or 24.0
        count = _frame_count(request)
        files = []
        for i in range(count):
            path = out_dir / f"element_{i:04d}.png"
            _write_png(path, element_frame(name, i, fps, request.width, request.height, request.seed))
            files.append(path)
        params = {"element": name, "frames": count, "fps": fps, "duration": count / fps,
                  "alpha": "straight", "pattern": "element_%04d.png"}
        return tuple(files), params


def _frame_count(request: AssetRequest) -> int:
    duration = request.duration if request.duration is not None else 2.0
    return max(round(duration * (request.fps or 24.0)), 1)
