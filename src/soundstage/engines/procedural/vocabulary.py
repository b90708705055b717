"""Reading a set prompt: its words (English or Korean) against the vocabulary in ``vocabulary.toml``.

The words live in data so that the crew can add one without a code change; the rules of how a word is found
(plurals, Korean particles and compounds, figures of speech) live here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

_FILE = tomllib.loads(resources.files("soundstage.engines.procedural").joinpath("vocabulary.toml").read_text("utf-8"))

#: category -> concept -> keywords. English words match whole words (plurals too); Korean words match a
#: token, the token plus a particle (산에서, 바다가), or, from two syllables up, inside a compound (한옥마을).
VOCABULARY: dict[str, dict[str, tuple[str, ...]]] = {
    category: {concept: tuple(words) for concept, words in concepts.items()}
    for category, concepts in _FILE.items() if isinstance(concepts, dict)
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
_FIGURATIVE = frozenset(_FILE["figurative"])
# Words that start like a keyword but are other words (낮은 = "low", not "daytime"; 연기자 = "actor", not
# smoke); a token that starts with one (연기자들) is not the keyword either.
_NOT_KEYWORDS = tuple(_FILE["lookalikes"])


def _korean_match(token: str, keyword: str) -> bool:
    if token.startswith(_NOT_KEYWORDS):
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
