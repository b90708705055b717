"""Sound by algorithm: elements' effects and settings' ambience beds, from seeded noise, resonators and tones.

Not AI and not samples: each sound is built from the seed (same seed, same samples) out of a few plain
parts, so it reads as the thing and not as white noise:

- coloured noise (white, pink, brown) shaped by band filters: air, roar, surf, wind, hiss;
- impulses at random times rung through two-pole resonators: crackle, droplets, sparks, hooves, twinkles;
- slow random envelopes (gusts, swells, flicker) so nothing sounds like a steady hum;
- tones for what has a pitch: a creature's growl (a rough sawtooth through formant bands), magic's shimmer.

An element's sound starts with the element's picture (the explosion's boom at 0 s, as its fireball). The
words that call for each ambience layer live in ``vocabulary.toml`` (the set's words, and ``[place]``); the
recipes live here. Elements with no sound of their own (snow, a lantern, a sword, a stunt) are left to the
plate's production sound: :data:`SOUNDS` does not name them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import signal

from soundstage.engines.procedural.noise import Array, _rng
from soundstage.engines.procedural.vocabulary import read_scene
from soundstage.sound import RATE, Sound

Recipe = Callable[[int, int], Array]      # (sample count, seed) → (count, 2) float32

EFFECT_RMS_DB = -22.0     # an effect's level before the mix (dBFS RMS); the mix sets the real gain
AMBIENCE_RMS_DB = -32.0   # a bed sits well under the dialogue
PEAK = 0.89               # -1 dBFS: headroom for the mix


# ---------------------------------------------------------------------------------------------- parts


def _noise(rng: np.random.Generator, n: int, slope: float = 0.0) -> Array:
    """Unit-RMS noise whose power falls as 1/f**slope (0 white, 1 pink, 2 brown), shaped in one FFT; nothing
    under 20 Hz (brown noise would spend its power, and the speakers' travel, on rumble no one hears)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / RATE)
    spectrum *= np.where(f >= 20.0, np.maximum(f, 20.0) ** (-slope / 2.0), 0.0)
    x = np.fft.irfft(spectrum, n)
    return x / max(float(np.sqrt(np.mean(x * x))), 1e-12)


def _filter(x: Array, kind: str, hz: float | tuple[float, float], order: int = 2) -> Array:
    return signal.sosfilt(signal.butter(order, hz, kind, fs=RATE, output="sos"), x)


def _band(x: Array, lo: float, hi: float, order: int = 2) -> Array:
    return _filter(x, "bandpass", (lo, min(hi, RATE * 0.45)), order)


def _drift(rng: np.random.Generator, n: int, rate_hz: float) -> Array:
    """A smooth random curve in [-1, 1] that changes ``rate_hz`` times a second: gusts, swells, flicker."""
    points = max(int(n / RATE * rate_hz) + 4, 4)
    knots = rng.uniform(-1.0, 1.0, points)
    t = np.linspace(0.0, points - 3.0, n)
    i = np.floor(t).astype(np.int64)
    u = t - i
    u = u * u * (3.0 - 2.0 * u)                  # smoothstep between knots: no corners
    return knots[i + 1] * (1.0 - u) + knots[i + 2] * u


def _impulses(rng: np.random.Generator, n: int, per_second: float, *, spread: float = 1.0) -> Array:
    """Impulses at Poisson times with heavy-tailed (Pareto) sizes: a few loud pops among many small ones."""
    count = int(rng.poisson(per_second * n / RATE))
    out = np.zeros(n)
    at = rng.integers(0, n, count)
    np.add.at(out, at, rng.pareto(2.5, count) * spread * rng.choice((-1.0, 1.0), count))
    return out


def _ring(x: Array, hz: float, decay_s: float) -> Array:
    """``x`` through a two-pole resonator at ``hz`` that rings down by 1/e in ``decay_s``."""
    r = np.exp(-1.0 / (decay_s * RATE))
    w = 2.0 * np.pi * hz / RATE
    return signal.lfilter([1.0 - r], [1.0, -2.0 * r * np.cos(w), r * r], x)


def _rings(rng: np.random.Generator, n: int, per_second: float, bands: tuple[float, ...], decay_s: float) -> Array:
    """Impulses shared among resonators at ``bands`` (each ±15%): crackle, droplets, ticks."""
    out = np.zeros(n)
    for hz in bands:
        out += _ring(_impulses(rng, n, per_second / len(bands)), hz * rng.uniform(0.85, 1.15), decay_s)
    return out


def _decay(n: int, seconds: float, start: int = 0) -> Array:
    t = np.arange(n) - start
    return np.where(t >= 0, np.exp(-np.maximum(t, 0) / (seconds * RATE)), 0.0)


def _pair(rng: np.random.Generator, make: Callable[[np.random.Generator], Array], width: float) -> Array:
    """Stereo from a mono source: ``width`` 0 is a point in the middle, 1 two unrelated sides (a bed)."""
    middle = make(rng)
    if width <= 0:
        return np.stack([middle, middle], axis=1)
    left, right = make(rng), make(rng)
    return np.stack([middle * (1 - width) + left * width, middle * (1 - width) + right * width], axis=1)


def _level(x: Array, rms_db: float) -> Array:
    """To ``rms_db`` dBFS RMS, peaks held under :data:`PEAK` (soft-clipped, not cut)."""
    rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
    if rms <= 1e-12:
        return x.astype(np.float32)
    y = x * (10.0 ** (rms_db / 20.0) / rms)
    peak = float(np.max(np.abs(y)))
    if peak > PEAK:
        y = PEAK * np.tanh(y / PEAK)
    return y.astype(np.float32)


def _phrases(rng: np.random.Generator, n: int, length: tuple[float, float], gap: tuple[float, float]) -> Array:
    """An envelope of sounded phrases with gaps between them (a growl, a breath), smooth at each end."""
    env = np.zeros(n)
    at = int(rng.uniform(0.0, 0.25) * RATE)
    while at < n:
        size = int(rng.uniform(*length) * RATE)
        span = np.arange(min(size, n - at))
        env[at:at + span.size] = np.sin(np.pi * span / max(size, 1)) ** 0.6 * rng.uniform(0.7, 1.0)
        at += size + int(rng.uniform(*gap) * RATE)
    return env


def _voice(rng: np.random.Generator, n: int, f0: float, formants: tuple[float, ...], rough_hz: float) -> Array:
    """A throat: a wandering sawtooth with a rough flutter, through formant bands, and breath."""
    pitch = f0 * (1.0 + 0.12 * _drift(rng, n, 3.0) + 0.03 * _drift(rng, n, 17.0))
    saw = signal.sawtooth(np.cumsum(2.0 * np.pi * pitch / RATE))
    rough = 1.0 + 0.7 * np.sin(np.cumsum(2.0 * np.pi * rough_hz * (1 + 0.2 * _drift(rng, n, 4.0)) / RATE))
    source = saw * rough + 0.35 * _noise(rng, n, 1.0)
    return sum((_band(source, hz * 0.8, hz * 1.25) * (1.0 / (k + 1)) for k, hz in enumerate(formants)),
               np.zeros(n))


# ---------------------------------------------------------------------------------------------- effects


def _fire(n: int, seed: int) -> Array:
    """A roar (60-500 Hz, flickering) and crackle (pops rung at 1.5-5 kHz), with a little hiss."""
    rng = _rng(seed, "sound-fire")
    roar = _pair(rng, lambda r: _band(_noise(r, n, 1.5), 60.0, 500.0) * (1 + 0.35 * _drift(r, n, 3.0)), 0.3)
    crackle = _pair(rng, lambda r: _rings(r, n, 28.0, (1500.0, 2400.0, 3500.0, 5000.0), 0.004), 0.6)
    hiss = _pair(rng, lambda r: _band(_noise(r, n), 2000.0, 6000.0) * (0.6 + 0.4 * _drift(r, n, 6.0)), 0.8)
    return _level(0.7 * _norm(roar) + _norm(crackle) + 0.12 * _norm(hiss), EFFECT_RMS_DB)


def _explosion(n: int, seed: int) -> Array:
    """At 0 s, as the picture's fireball: a crack, a boom sweeping 70 → 28 Hz, a rumble, then debris."""
    rng = _rng(seed, "sound-explosion")
    t = np.arange(n) / RATE
    crack = _filter(_noise(rng, n), "highpass", 900.0) * _decay(n, 0.03)
    sweep = np.sin(2.0 * np.pi * np.cumsum(28.0 + 42.0 * np.exp(-t / 0.35)) / RATE) * _decay(n, 0.9)
    rumble = _pair(rng, lambda r: _filter(_noise(r, n, 2.0), "lowpass", 220.0) * _decay(n, 1.8), 0.5)
    debris = _pair(rng, lambda r: _rings(r, n, 18.0, (700.0, 1400.0, 2600.0), 0.01) * _decay(n, 1.2, RATE // 5), 0.8)
    boom = np.tanh(2.5 * (0.5 * crack + 1.6 * sweep))[:, None] + 1.2 * _norm(rumble) * _decay(n, 2.5)[:, None] \
        + 0.25 * _norm(debris)
    return _level(boom, EFFECT_RMS_DB + 4.0)


def _rain(n: int, seed: int) -> Array:
    """A wash (pink-ish 0.8-9 kHz) with droplets rung at 1.5-5 kHz and a few heavier drips."""
    rng = _rng(seed, "sound-rain")
    wash = _pair(rng, lambda r: _band(_noise(r, n, 0.6), 800.0, 9000.0) * (1 + 0.15 * _drift(r, n, 0.5)), 1.0)
    drops = _pair(rng, lambda r: _rings(r, n, 500.0, (1500.0, 2200.0, 3200.0, 4700.0), 0.003), 1.0)
    drips = _pair(rng, lambda r: _rings(r, n, 10.0, (650.0, 950.0), 0.012), 1.0)
    return _level(_norm(wash) + 0.8 * _norm(drops) + 0.3 * _norm(drips), EFFECT_RMS_DB)


def _sparks(n: int, seed: int) -> Array:
    """Showers of ticks rung at 4-9 kHz, in bursts, over a fluttering sizzle."""
    rng = _rng(seed, "sound-sparks")
    bursts = np.clip(_drift(rng, n, 5.0), 0.0, 1.0) ** 2
    ticks = _pair(rng, lambda r: _rings(r, n, 900.0, (4200.0, 6000.0, 8500.0), 0.0012), 0.7) * bursts[:, None]
    sizzle = _pair(rng, lambda r: _band(_noise(r, n), 5000.0, 12000.0) * (0.5 + 0.5 * _drift(r, n, 12.0)), 0.8)
    return _level(_norm(ticks) + 0.35 * _norm(sizzle) * (0.3 + bursts)[:, None], EFFECT_RMS_DB - 2.0)


def _air(key: str, cutoff: float, rate_hz: float) -> Recipe:
    """A low air bed (smoke, fog): pink-to-brown noise from 40 Hz to ``cutoff`` that swells slowly."""
    def make(n: int, seed: int) -> Array:
        rng = _rng(seed, key)
        return _level(_pair(rng, lambda r: _band(_noise(r, n, 1.5), 40.0, cutoff)
                            * (1 + 0.4 * _drift(r, n, rate_hz)), 0.9), EFFECT_RMS_DB - 8.0)
    return make


def _shimmer(key: str, partials: tuple[float, ...], twinkles: float, air: tuple[float, float]) -> Recipe:
    """A shimmering tone (magic, a will-o'-the-wisp): partials that swell and beat apart, with twinkles."""
    def make(n: int, seed: int) -> Array:
        rng = _rng(seed, key)
        t = np.arange(n) / RATE
        out = np.zeros((n, 2))
        vibrato = 1.0 + 0.004 * np.sin(2 * np.pi * 5.2 * t)
        for k, hz in enumerate(partials):
            tone = np.sin(2 * np.pi * np.cumsum(hz * vibrato * rng.uniform(0.998, 1.002)) / RATE + rng.uniform(0, 6))
            swell = (0.55 + 0.45 * _drift(rng, n, rng.uniform(0.6, 2.5))) / (1 + 0.4 * k)
            pan = 0.5 + (0.35 if k % 2 else -0.35)
            out += (tone * swell)[:, None] * np.array([1 - pan, pan])
        out += 0.6 * _pair(rng, lambda r: _rings(r, n, twinkles, tuple(p * 4 for p in partials[:3]), 0.08), 0.9)
        out += 0.08 * _pair(rng, lambda r: _band(_noise(r, n), *air), 1.0)
        return _level(out * (0.7 + 0.3 * _drift(rng, n, 0.4))[:, None], EFFECT_RMS_DB - 2.0)
    return make


def _growl(key: str, f0: float, formants: tuple[float, ...], rough_hz: float, length: tuple[float, float]) -> Recipe:
    """A creature's growl or a dragon's roar: a voice in phrases, with breath between."""
    def make(n: int, seed: int) -> Array:
        rng = _rng(seed, key)
        phrases = _phrases(rng, n, length, (0.3, 0.7))
        voice = _voice(rng, n, f0, formants, rough_hz) * phrases
        breath = _band(_noise(rng, n, 1.0), 300.0, 2500.0) * (0.15 + 0.2 * (1 - phrases))
        mono = _norm(voice) + 0.25 * breath
        return _level(np.stack([mono, 0.92 * mono + 0.08 * _noise(rng, n, 1.0) * phrases], axis=1), EFFECT_RMS_DB)
    return make


def _horse(n: int, seed: int) -> Array:
    """A canter: hooves in threes, each a thud rung at ~180 Hz and a scuff at 0.5-2.5 kHz."""
    rng = _rng(seed, "sound-horse")
    hits = np.zeros(n)
    stride = rng.uniform(0.55, 0.65)
    for cycle in range(int(n / RATE / stride) + 1):
        for beat in (0.0, 0.11, 0.23):
            at = int((cycle * stride + beat + rng.normal(0, 0.008)) * RATE)
            if 0 <= at < n:
                hits[at] += rng.uniform(0.6, 1.0)
    thud = _ring(hits, 180.0, 0.03)
    scuff = _band(signal.lfilter([1.0], [1.0, -0.995], hits * rng.standard_normal(n)) + 0.3 * hits, 500.0, 2500.0)
    mono = _norm(thud) + 0.5 * _norm(_ring(scuff, 900.0, 0.01))
    return _level(np.stack([mono, mono], axis=1), EFFECT_RMS_DB)


def _car(n: int, seed: int) -> Array:
    """An engine: a firing rate of ~35 Hz that wanders, its harmonics under 800 Hz, over road noise."""
    rng = _rng(seed, "sound-car")
    rate = 35.0 * (1.0 + 0.08 * _drift(rng, n, 0.7))
    phase = 2 * np.pi * np.cumsum(rate) / RATE
    engine = sum((np.sin(k * phase + rng.uniform(0, 6)) / k for k in range(1, 13)), np.zeros(n))
    engine = _filter(engine * (1 + 0.2 * np.sin(phase / 2)), "lowpass", 800.0)
    road = _filter(_noise(rng, n, 1.5), "lowpass", 600.0)
    mono = _norm(engine) + 0.5 * road
    return _level(np.stack([mono, mono], axis=1), EFFECT_RMS_DB)


def _norm(x: Array) -> Array:
    rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
    return x / rms if rms > 1e-12 else x


#: element (as named in script/elements.toml) → its sound. Not here: snow, lantern, sword, fall (no sound of
#: their own: the plate's production sound carries the prop and the stunt; snow falls silently).
SOUNDS: dict[str, Recipe] = {
    "fire": _fire,
    "explosion": _explosion,
    "rain": _rain,
    "sparks": _sparks,
    "smoke": _air("sound-smoke", 300.0, 0.3),
    "fog": _air("sound-fog", 220.0, 0.15),
    "magic": _shimmer("sound-magic", (523.25, 659.25, 783.99, 1046.5, 1318.5, 1568.0), 6.0, (3000.0, 8000.0)),
    "wisp": _shimmer("sound-wisp", (220.0, 330.4, 440.6, 554.0), 2.0, (500.0, 2000.0)),
    "creature": _growl("sound-creature", 85.0, (350.0, 850.0, 2400.0), 28.0, (0.8, 1.6)),
    "dragon": _growl("sound-dragon", 48.0, (220.0, 600.0, 1500.0), 22.0, (1.4, 2.4)),
    "horse": _horse,
    "car": _car,
}


# ---------------------------------------------------------------------------------------------- ambience


def _crickets(n: int, rng: np.random.Generator) -> Array:
    """A few crickets, each chirping its own pitch (4-5 kHz) and rhythm, placed left to right."""
    t = np.arange(n) / RATE
    out = np.zeros((n, 2))
    for _ in range(3):
        hz, rate, pulses = rng.uniform(4000, 5200), rng.uniform(1.5, 2.6), rng.uniform(28, 36)
        chirp = (np.sin(2 * np.pi * (rate * t + rng.uniform(0, 1))) > 0.6) * (np.sin(2 * np.pi * pulses * t) > 0)
        tone = np.sin(2 * np.pi * hz * t) * _filter(chirp.astype(float), "lowpass", 300.0)
        pan = rng.uniform(0.15, 0.85)
        out += tone[:, None] * np.array([1 - pan, pan]) * rng.uniform(0.4, 1.0)
    return out


def _birds(n: int, rng: np.random.Generator) -> Array:
    """Distant birds: short rising and falling whistles (2-5 kHz), now and then."""
    out = np.zeros((n, 2))
    count = int(rng.poisson(2.5 * n / RATE))
    for at in rng.integers(0, max(n - RATE // 4, 1), count):
        size = int(rng.uniform(0.06, 0.18) * RATE)
        s = np.arange(size) / RATE
        hz = rng.uniform(2200, 4500) * (1 + rng.uniform(-0.3, 0.3) * s / s[-1])
        tweet = np.sin(2 * np.pi * np.cumsum(hz) / RATE) * np.sin(np.pi * s / s[-1]) ** 2
        pan = rng.uniform(0.1, 0.9)
        out[at:at + size] += tweet[:, None] * np.array([1 - pan, pan]) * rng.uniform(0.3, 1.0)
    return out


def _wind(lo: float, hi: float, gust_hz: float) -> Callable[[int, np.random.Generator], Array]:
    def make(n: int, rng: np.random.Generator) -> Array:
        return _pair(rng, lambda r: _band(_noise(r, n, 1.0), lo, hi) * (0.6 + 0.4 * _drift(r, n, gust_hz)) ** 2,
                     0.8)
    return make


def _surf(n: int, rng: np.random.Generator) -> Array:
    """Waves: brown-to-pink noise swelling every 6-10 s, brighter as each breaks."""
    swell = np.clip(0.5 + 0.5 * np.sin(2 * np.pi * np.arange(n) / RATE / rng.uniform(6, 10) + rng.uniform(0, 6)),
                    0, 1) ** 1.5
    body = _pair(rng, lambda r: _filter(_noise(r, n, 1.6), "lowpass", 1200.0), 0.9)
    wash = _pair(rng, lambda r: _band(_noise(r, n, 0.8), 1500.0, 8000.0), 0.9)
    return _norm(body) * (0.25 + swell)[:, None] + 0.4 * _norm(wash) * swell[:, None] ** 2


def _leaves(n: int, rng: np.random.Generator) -> Array:
    return _pair(rng, lambda r: _band(_noise(r, n), 2000.0, 7000.0) * np.clip(_drift(r, n, 1.5), 0, 1) ** 2, 1.0)


def _traffic(n: int, rng: np.random.Generator) -> Array:
    return _pair(rng, lambda r: _band(_noise(r, n, 1.5), 50.0, 700.0) * (0.7 + 0.3 * _drift(r, n, 0.2)), 0.7)


def _room(n: int, rng: np.random.Generator) -> Array:
    """Room tone: still air and a faint mains hum (60 Hz and its harmonics)."""
    t = np.arange(n) / RATE
    hum = sum((np.sin(2 * np.pi * 60.0 * k * t) / k for k in (1, 2, 3)), np.zeros(n))
    return _pair(rng, lambda r: _filter(_noise(r, n, 1.2), "lowpass", 900.0), 0.9) + 0.15 * hum[:, None]


def _rain_bed(n: int, rng: np.random.Generator) -> Array:
    return SOUNDS["rain"](n, int(rng.integers(1 << 31)))


def _thunder(n: int, rng: np.random.Generator) -> Array:
    at = int(rng.uniform(0.1, 0.6) * n)
    rumble = _pair(rng, lambda r: _filter(_noise(r, n, 2.0), "lowpass", 180.0), 0.6)
    return _norm(rumble) * (_decay(n, 1.6, at) * (1 - _decay(n, 0.08, at)))[:, None] * 2.0


#: scene concept (vocabulary.toml: time, terrain, architecture, weather, place) → a layer of the bed and its
#: weight. Concepts with no layer (a palace, a tower) add nothing: the bed is what they stand in.
BEDS: dict[str, tuple[Callable[[int, np.random.Generator], Array], float]] = {
    "night": (_crickets, 0.35),
    "courtyard": (_leaves, 0.4),
    "forest": (_leaves, 0.7),
    "desert": (_wind(400.0, 3000.0, 0.6), 0.9),
    "mountains": (_wind(150.0, 1200.0, 0.35), 0.9),
    "cliff": (_wind(200.0, 1500.0, 0.5), 0.8),
    "sea": (_surf, 1.0),
    "city": (_traffic, 0.8),
    "interior": (_room, 0.6),
    "rain": (_rain_bed, 0.9),
    "storm": (_thunder, 0.8),
}
_BIRDS = frozenset({"courtyard", "forest", "village", "plains", "temple", "hanok"})   # by day
_DAY = frozenset({"dawn", "morning", "day", "afternoon"})


def ambience(prompt: str, count: int, seed: int) -> tuple[Sound, list[str]]:
    """The bed for a setting's words (English or Korean), ``count`` samples long, and the layers in it."""
    scene = read_scene(prompt)
    concepts = [scene.time, *scene.terrain, *scene.architecture, *scene.weather, *scene.matched]
    layers = list(dict.fromkeys(c for c in concepts if c in BEDS))
    if scene.time in _DAY and _BIRDS & set(concepts):
        layers.append("birds")
    rng = _rng(seed, "sound-ambience")
    bed = _norm(_wind(80.0, 600.0, 0.2)(count, rng)) * 0.3     # outside air under everything
    for name in layers:
        make, weight = (_birds, 0.25) if name == "birds" else BEDS[name]
        bed = bed + weight * _norm(make(count, _rng(seed, f"sound-ambience-{name}")))
    return Sound(_level(bed, AMBIENCE_RMS_DB)), ["air", *layers]


def effect(element: str, count: int, seed: int) -> Sound:
    """The element's sound (``element`` a name of :data:`SOUNDS`), ``count`` samples long."""
    return Sound(np.ascontiguousarray(SOUNDS[element](count, seed), dtype=np.float32))
