"""Build the example's green- and blue-screen plates from a public-domain photograph.

There is no camera on this project, so the "live action" is a real photograph of a real person: NASA's
portrait of astronaut Eileen Collins, shipped with scikit-image as ``skimage.data.astronaut()`` (public
domain). The script

1. pulls her matte once, carefully (GrabCut from hand-drawn hints, then closed-form matting in a thin band
   around the edge for soft hair), and stores it in ``source/astronaut_matte.png``; later runs reuse it
   (``--repull`` pulls it again);
2. shoots each plate: the matted person over an unevenly lit green (or blue) screen, with spill on her
   edges, sensor noise and a slow camera-operator move, 1280×720 at 24 fps for 4 s, with a one-frame white
   flash at frame 2 (the slate's sync light);
3. records each plate's production sound: her lines from the screenplay spoken by espeak-ng (a formant
   synthesiser, not AI) at their moments in the shot, room tone under everything, and the slate's clap
   starting exactly on the flash frame; one plate also gets a sound recorder's BWF WAV, cleaner and at a known
   offset (see README.md);
4. encodes each plate as H.264 + AAC with a start timecode (PyAV, written atomically) and stores the true
   matte of its first frame in ``source/<plate>_alpha0.png`` for keying tests.

Run it again with ``make plates`` or ``python examples/moonlit-hanok/plates/build_plates.py``; the same code
gives the same pixels and samples (every random number comes from a fixed seed, and espeak-ng is
deterministic). Only this script needs espeak-ng; rendering the example does not.
"""

from __future__ import annotations

import argparse
import bisect
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.reformatter import Colorspace

from soundstage.atomic import atomic_path
from soundstage.script import read_screenplay
from soundstage.script.breakdown import break_down, read_shot_plan
from soundstage.script.model import Kind
from soundstage.sound.track import RATE, Sound, samples_at
from soundstage.sound.wav import read_sound, write_bwf
from soundstage.tomlfile import read_toml

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
SOURCE = HERE / "source"
MATTE = SOURCE / "astronaut_matte.png"

WIDTH, HEIGHT, FPS, SECONDS = 1280, 720, 24, 4.0
FRAMES = round(FPS * SECONDS)
CRF, PRESET, TUNE = 20, "medium", "grain"   # "grain" keeps the sensor noise instead of smearing it
FLASH_FRAME = 2          # the slate's sync light: this frame is white, and the clap starts at its start time
AAC_BITRATE = 128_000    # stereo scratch sound; ~64 kB a plate
# No perceptual noise substitution: it swaps noise-like bands for synthesised noise, and the clap is noise, so
# its attack smeared up to 1.4 ms early; without it the attack decodes within 2 samples (benchmarks/sound_sync.py).
AAC_OPTIONS = {"aac_pns": "0"}
AAC_FRAME = 1024         # samples in one AAC frame

Point = tuple[int, int]

# ---------------------------------------------------------------------------------------------------------
# Hints for the matte pull, drawn by hand in the photo's own pixels (512×512, x right, y down) and checked
# by eye on previews. GrabCut starts from them; they keep the flag, the model shuttle and its black stand
# out of the matte, and keep her held helmet in (it is a prop in her arms; cutting it out would bite a hole
# in her torso). Where the backdrop meets the neck ring they follow the ring within ~2 px: GrabCut's colour
# model cannot tell the light-grey backdrop from the ring's silver, and the photo's sharpening halo there.

# Certainly not her: the flag on the left, the backdrop above and beside her head, the shuttle on the right
# and the black stand it sits on (outside the helmet).
SURE_BACKDROP: list[list[Point]] = [
    [(0, 0), (512, 0), (512, 8), (0, 8)],
    [(0, 0), (88, 0), (90, 185), (60, 222), (38, 250), (22, 290), (8, 340), (5, 512), (0, 512)],
    [(0, 0), (145, 0), (140, 60), (122, 140), (104, 178), (90, 185), (88, 0)],
    [(282, 128), (312, 110), (322, 175), (345, 212), (332, 236), (315, 236), (307, 231), (304, 221), (300, 210),
     (292, 199), (281, 189), (268, 179), (259, 172), (260, 160), (266, 146), (268, 140)],
    [(310, 0), (512, 0), (512, 268), (374, 268), (372, 250), (364, 232), (345, 212), (322, 175), (312, 60)],
    [(372, 268), (512, 268), (512, 430), (503, 425), (497, 395), (482, 366), (455, 346), (420, 334),
     (385, 332), (370, 300)],
]
# Certainly her: face and hair core, neck, torso and arms, the helmet's fitting and shell (inside its rim).
SURE_SUBJECT: list[list[Point]] = [
    [(175, 60), (220, 30), (270, 45), (290, 90), (270, 140), (250, 165), (200, 165), (180, 130), (168, 95)],
    [(136, 166), (250, 165), (254, 178), (266, 186), (279, 196), (287, 206), (294, 216), (298, 228), (312, 243),
     (335, 255), (345, 290), (348, 340), (300, 360), (282, 420),
     (275, 512), (40, 512), (35, 400), (55, 300), (80, 250), (110, 215), (124, 185)],
    [(491, 460), (503, 456), (511, 468), (511, 511), (489, 511)],     # the helmet's metal fitting
]
HELMET_CENTRE, HELMET_AXES = (392, 453), (104, 104)   # the shell inside the white rim, certainly her prop
# Where the hair meets the backdrop: the edge band is widened here, so matting can find the soft strands.
HAIR_CENTRE, HAIR_AXES = (228, 80), (88, 74)


@dataclass(frozen=True)
class PlateSpec:
    """One plate: its screen, how unevenly that screen is lit, and the operator's move."""

    name: str
    screen: str                    # "green" or "blue"
    move: Callable[[float], tuple[float, float, float, float]]   # t (s) → dx, dy (px), angle (deg), zoom
    flip: bool = False
    gradient: tuple[float, float] = (0.82, 1.12)       # screen light at the left and right edge
    hot_spot: tuple[float, float, float] = (0.25, 0.3, 0.25)   # x, y (0..1), extra light at its centre
    vignette: float = 0.22
    spill: float = 38.0            # levels of screen colour bounced onto her brightest edges
    noise: float = 1.8             # sensor noise, in levels (σ), before H.264 takes its share
    seed: int = 0
    timecode: str = "10:00:00:00"  # the camera's start timecode (a time-of-day clock, as on set)
    recorder: bool = False         # a sound recorder ran beside the camera: plates/<name>_rec.wav


def _walk(t: float) -> tuple[float, float, float, float]:
    """Slow drift from left to right, with the faint bob of a slow walk."""
    return -80.0 + 160.0 * t / SECONDS, 2.0 * math.sin(2 * math.pi * 1.6 * t), 0.0, 1.0


def _look(t: float) -> tuple[float, float, float, float]:
    """A gentle bob and sway, as if she shifts her weight while looking out."""
    return (6.0 * math.sin(2 * math.pi * t / 3.7), 5.0 * math.sin(2 * math.pi * t / 2.4 + 0.6),
            1.4 * math.sin(2 * math.pi * t / 4.0), 1.0)


def _push_in(t: float) -> tuple[float, float, float, float]:
    """A slow push-in: the camera creeps towards her face."""
    e = t / SECONDS
    e = e * e * (3 - 2 * e)
    return 0.0, 0.0, 0.0, 1.0 + 0.12 * e


def _sway(t: float) -> tuple[float, float, float, float]:
    """A slow sway from the hips."""
    return 12.0 * math.sin(2 * math.pi * t / 4.0), 0.0, -2.0 * math.sin(2 * math.pi * t / 4.0 + 0.3), 1.0


PLATES = [
    PlateSpec("pass_walk", "green", _walk, seed=11, timecode="10:00:00:00"),
    PlateSpec("desert_look", "green", _look, gradient=(0.62, 1.2), hot_spot=(0.7, 0.2, 0.45), vignette=0.35,
              seed=12, timecode="11:00:00:00"),
    PlateSpec("rooftop_blue", "blue", _push_in, gradient=(1.08, 0.85), hot_spot=(0.3, 0.35, 0.2), seed=13,
              timecode="12:00:00:00", recorder=True),
    PlateSpec("cliff_turn", "green", _sway, flip=True, gradient=(1.1, 0.86), hot_spot=(0.75, 0.25, 0.25),
              seed=14, timecode="13:00:00:00"),
]
SCREENS = {"green": (52, 168, 78), "blue": (28, 72, 182)}

# Framing: the 512-px photo is scaled so she stands ~600 px tall in the frame, in the lower middle-right,
# cut by the frame's bottom edge like a medium shot.
PHOTO = 512
SCALE = 1.32
ANCHOR = (470.0, 96.0)   # where the photo's top-left corner lands, before the move
FACE = (225.0, 125.0)    # in the photo: the pivot of sways and push-ins


# ------------------------------------------------------------------------------------------------ the matte


def _photo() -> np.ndarray:
    try:
        from skimage import data
    except ImportError:
        raise SystemExit("the plates need scikit-image: pip install -e '.[plates]' (or run: make plates)") from None
    return np.ascontiguousarray(data.astronaut()[..., :3])


def _polygons(shape: tuple[int, int], polygons: list[list[Point]]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.array(p, np.int32) for p in polygons], 255)
    return mask > 0


def _ellipse(shape: tuple[int, int], centre: Point, axes: Point) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 255, -1)
    return mask > 0


def pull_matte(photo: np.ndarray) -> np.ndarray:
    """Her matte (H×W uint8): GrabCut for the shape, closed-form matting for the soft edge."""
    shape = photo.shape[:2]
    hints = np.full(shape, cv2.GC_PR_BGD, np.uint8)
    subject = _polygons(shape, SURE_SUBJECT) | _ellipse(shape, HELMET_CENTRE, HELMET_AXES)
    hints[cv2.dilate(subject.astype(np.uint8), np.ones((25, 25), np.uint8)) > 0] = cv2.GC_PR_FGD
    hints[subject] = cv2.GC_FGD
    hints[_polygons(shape, SURE_BACKDROP)] = cv2.GC_BGD
    bgr = cv2.cvtColor(photo, cv2.COLOR_RGB2BGR)
    cv2.setRNGSeed(2026)   # GrabCut seeds its colour models with k-means: the same seed, the same matte
    background_model = np.zeros((1, 65), np.float64)
    subject_model = np.zeros((1, 65), np.float64)
    cv2.grabCut(bgr, hints, (0, 0, 0, 0), background_model, subject_model, 10, cv2.GC_INIT_WITH_MASK)
    solid = np.isin(hints, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    solid = _largest_part(solid)

    # Trimap: a thin unknown band around the cut (wider in the hair), certain inside and outside it.
    hair = _ellipse(shape, HAIR_CENTRE, HAIR_AXES) & ~_polygons(shape, SURE_SUBJECT[:1])
    band = _band(solid, 2)
    band |= _band(solid, 7) & hair
    known = ~band
    alpha = solve_closed_form(photo.astype(np.float64) / 255.0, solid.astype(np.float64), known)
    alpha[~band] = solid[~band]
    return np.clip(np.round(alpha * 255.0), 0, 255).astype(np.uint8)


def _largest_part(mask: np.ndarray) -> np.ndarray:
    """The biggest connected piece of the mask, with its holes filled: one person, no specks."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    part = (labels == biggest).astype(np.uint8)
    holes = np.zeros((part.shape[0] + 2, part.shape[1] + 2), np.uint8)
    filled = part.copy()
    cv2.floodFill(filled, holes, (0, 0), 1)   # from the corner (backdrop); unreached zeros are holes
    return part | (filled == 0).astype(np.uint8)


def _band(mask: np.ndarray, radius: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return (cv2.dilate(mask, kernel) > 0) & ~(cv2.erode(mask, kernel) > 0)


def solve_closed_form(image: np.ndarray, prior: np.ndarray, known: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Closed-form matting (Levin, Lischinski & Weiss 2008) over the unknown pixels only.

    Inside each 3×3 window alpha is an affine function of colour; the matting Laplacian says so, and the
    known pixels (``prior`` where ``known``) fix the rest. Solving only the band keeps the system small.
    """
    from scipy import sparse  # scipy comes with scikit-image (the "plates" extra)
    from scipy.sparse import linalg as sparse_linalg

    height, width = prior.shape
    unknown = ~known
    centres = cv2.dilate(unknown.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    centres[[0, -1], :] = False
    centres[:, [0, -1]] = False
    ys, xs = np.nonzero(centres)
    index = np.arange(height * width).reshape(height, width)
    offsets = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    window = np.stack([index[ys + dy, xs + dx] for dy, dx in offsets], axis=1)         # n × 9
    colours = image.reshape(-1, 3)[window]                                              # n × 9 × 3
    mean = colours.mean(axis=1)
    covariance = np.einsum("nki,nkj->nij", colours, colours) / 9 - np.einsum("ni,nj->nij", mean, mean)
    inverse = np.linalg.inv(covariance + (eps / 9) * np.eye(3))
    centred = colours - mean[:, None, :]
    affinity = (1 + np.einsum("nki,nij,nlj->nkl", centred, inverse, centred)) / 9
    values = np.eye(9)[None] - affinity
    rows = np.repeat(window, 9, axis=1).ravel()
    cols = np.tile(window, (1, 9)).ravel()
    laplacian = sparse.csr_matrix((values.ravel(), (rows, cols)), shape=(height * width,) * 2)

    free = np.flatnonzero(unknown.ravel())
    fixed = np.flatnonzero(known.ravel())
    system = laplacian[free][:, free]
    rhs = -laplacian[free][:, fixed] @ prior.ravel()[fixed]
    solution = sparse_linalg.spsolve(system.tocsc(), rhs)
    alpha = prior.astype(np.float64).copy().ravel()
    alpha[free] = np.clip(solution, 0.0, 1.0)
    return alpha.reshape(height, width)


def load_or_pull_matte(photo: np.ndarray, repull: bool) -> np.ndarray:
    """The stored matte, or a freshly pulled one (then stored): the pull is done once, not per build."""
    if MATTE.is_file() and not repull:
        matte = cv2.imread(str(MATTE), cv2.IMREAD_GRAYSCALE)
        if matte is not None and matte.shape == photo.shape[:2]:
            return matte
        print(f"{MATTE.name} does not fit the photo; pulling it again", file=sys.stderr)
    started = time.perf_counter()
    matte = pull_matte(photo)
    _write_png(MATTE, matte)
    print(f"pulled {MATTE.relative_to(HERE)} in {time.perf_counter() - started:.1f} s")
    return matte


def subject_colours(photo: np.ndarray, matte: np.ndarray) -> np.ndarray:
    """Her own colour at every pixel (float32 RGB), with the photo's backdrop taken out of the soft edge.

    An edge pixel is α·subject + (1 − α)·backdrop; the backdrop there is estimated from nearby pure backdrop,
    then divided out. Where α is small that division is unreliable, so the colour of her nearby solid
    pixels is used instead.
    """
    image = photo.astype(np.float32)
    alpha = matte.astype(np.float32) / 255.0

    def spread(weight: np.ndarray, sigma: float) -> np.ndarray:
        num = cv2.GaussianBlur(image * weight[..., None], (0, 0), sigma)
        den = cv2.GaussianBlur(weight, (0, 0), sigma)[..., None]
        return num / np.maximum(den, 1e-4)

    backdrop = spread((alpha <= 0.0).astype(np.float32), 6.0)
    nearby = spread((alpha >= 0.98).astype(np.float32), 2.0)
    safe = np.maximum(alpha, 0.05)[..., None]
    unmixed = np.clip((image - (1 - alpha[..., None]) * backdrop) / safe, 0.0, 255.0)
    trust = np.clip((alpha - 0.6) / 0.35, 0.0, 1.0)[..., None]
    colours = trust * unmixed + (1 - trust) * nearby
    return np.where((alpha >= 1.0)[..., None], image, colours).astype(np.float32)


# ------------------------------------------------------------------------------------------------ the sound

# Who speaks how: an espeak-ng voice (language + variant) and its pitch (0-99). A line in Hangul is spoken
# by espeak-ng's Korean voice instead.
VOICES = {"MIN-JI": ("en-us+f3", 62), "GRANDMOTHER": ("en-gb+f4", 28)}
OTHER_VOICE = ("en-us+m3", 45)
KOREAN_VOICE = ("ko", 55)
HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
# How a parenthetical changes the delivery: gain (dB), pitch offset, and pace (a factor on words a minute).
MANNER = {"shouting": (6.0, 14, 1.08), "to herself": (-5.0, -4, 0.94)}
WORDS_PER_MINUTE = 150
NOT_ON_SET = {"V.O."}    # a voice-over is recorded later in a booth: the plate does not hear it
# When she speaks, in seconds of the shot: the first word after the clap and the call of "action", the room
# left at the shot's end, and the pause between two lines. Lines that would not fit are spoken faster.
SPEECH_FROM, SPEECH_TAIL, SPEECH_GAP = 0.75, 0.35, 0.3
# Levels in dBFS. The boom on the recorder is close to her; the camera's on-board mic hears her ~6 dB quieter,
# thinner, and with more of the room.
DIALOGUE_PEAK = {"recorder": -10.0, "camera": -16.0}
ROOM_TONE_RMS = {"recorder": -54.0, "camera": -48.0}
CLAP_PEAK = {"recorder": -4.0, "camera": -6.0}
RECORDER_PREROLL, RECORDER_POSTROLL = 1.5, 0.5     # seconds the recorder ran before and after the camera
SLATE = "Scene {scene}, take one."                 # the call on the recorder's pre-roll, before the camera rolls


@dataclass(frozen=True)
class Line:
    """One spoken line of the screenplay."""

    character: str
    text: str
    manner: str | None     # its parenthetical, e.g. "shouting"


@dataclass(frozen=True)
class PlayedScene:
    """What a plate's shot plays: the scene (its number), the lines spoken there, and how long the shot runs."""

    number: str
    duration: float
    lines: tuple[Line, ...]


def plate_scenes() -> dict[str, PlayedScene]:
    """Per plate (by file stem): the first shot that uses it, as the project's own breakdown reads it."""
    settings, _ = read_toml(PROJECT / "soundstage.toml")
    screenplay = read_screenplay(PROJECT / settings["screenplay"])
    breakdown = break_down(screenplay, shot_duration=float(settings.get("shot_duration", 4.0)),
                           plan=read_shot_plan(PROJECT / "shots.toml"))
    starts = sorted((scene.line, scene.id) for scene in breakdown.scenes)
    spoken: dict[str, list[Line]] = {}
    speaker, extension, manner = None, None, None
    for element in screenplay.elements:
        if element.kind is Kind.CHARACTER:
            speaker, extension, manner = element.character, element.extension, None
        elif element.kind is Kind.PARENTHETICAL:
            manner = element.text.strip("() ").lower()
        elif element.kind is Kind.DIALOGUE and speaker and extension not in NOT_ON_SET:
            number = starts[bisect.bisect_right([line for line, _ in starts], element.line) - 1][1]
            spoken.setdefault(number, []).append(Line(speaker, element.text, manner))
    scenes: dict[str, PlayedScene] = {}
    for shot in breakdown.shots:
        if shot.plate:
            played = PlayedScene(shot.scene, shot.duration, tuple(spoken.get(shot.scene, ())))
            scenes.setdefault(Path(shot.plate).stem, played)
    return scenes


def _espeak() -> str:
    found = shutil.which("espeak-ng")
    if found is None:
        raise SystemExit("the plates' lines are spoken by espeak-ng, which is not installed: "
                         "apt-get install espeak-ng (or run: make plates)")
    return found


def speak(text: str, voice: tuple[str, int], words_per_minute: int) -> np.ndarray:
    """``text`` spoken by espeak-ng, mono float32 at 48 kHz, trimmed of its silent ends, peak 1."""
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "line.wav"
        subprocess.run([_espeak(), "-v", voice[0], "-p", str(voice[1]), "-s", str(words_per_minute),
                        "-w", str(wav), text], check=True, capture_output=True)
        samples = read_sound(wav).sound.samples[:, 0]      # 22.05 kHz mono, resampled by libswresample
    loud = np.flatnonzero(np.abs(samples) > 1e-3)
    samples = samples[loud[0]:loud[-1] + 1] if loud.size else samples[:0]
    return (samples / max(float(np.abs(samples).max(initial=0.0)), 1e-9)).astype(np.float32)


def performance(scene: PlayedScene) -> list[np.ndarray]:
    """Each line of the scene as spoken, at its manner's gain; faster, all alike, if they would not fit the shot."""
    room = scene.duration - SPEECH_FROM - SPEECH_TAIL - SPEECH_GAP * max(len(scene.lines) - 1, 0)
    pace = 1.0
    for _ in range(4):
        voices = []
        for line in scene.lines:
            gain, pitch, manner_pace = MANNER.get(line.manner or "", (0.0, 0, 1.0))
            voice, base = KOREAN_VOICE if HANGUL.search(line.text) else VOICES.get(line.character, OTHER_VOICE)
            spoken = speak(line.text, (voice, base + pitch), round(WORDS_PER_MINUTE * manner_pace * pace))
            voices.append(spoken * np.float32(10 ** (gain / 20)))
        length = sum(v.size for v in voices) / RATE
        if length <= room:
            return voices
        pace *= length / room * 1.03
    raise SystemExit(f"scene {scene.number}'s lines do not fit its {scene.duration:g} s shot even when spoken fast")


def room_tone(seed: int, count: int, rms_dbfs: float) -> np.ndarray:
    """The room's hiss and rumble: band-limited noise (40 Hz to 2 kHz), independent per channel, at ``rms_dbfs``."""
    from scipy import signal

    noise = np.random.default_rng(seed).standard_normal((count + RATE, 2))     # a second for the filter to settle
    tone = signal.sosfilt(signal.butter(2, [40, 2000], btype="bandpass", fs=RATE, output="sos"), noise, axis=0)
    tone = tone[RATE:]
    return (tone * (10 ** (rms_dbfs / 20) / np.sqrt(np.mean(tone**2)))).astype(np.float32)


def clap(seed: int) -> np.ndarray:
    """The slate's sticks meeting: the loudest sample first, then 120 ms of noise dying away (τ 15 ms)."""
    t = np.arange(round(0.12 * RATE)) / RATE
    burst = np.random.default_rng(seed).standard_normal(t.size) * np.exp(-t / 0.015)
    burst /= np.abs(burst).max()
    burst[0] = 1.0
    return (burst * 0.95).astype(np.float32)


def on_camera_mic(samples: np.ndarray) -> np.ndarray:
    """A small mic on the camera, far from her: thin (150 Hz to 6 kHz) with an early wall reflection."""
    from scipy import signal

    thin = signal.sosfilt(signal.butter(2, [150, 6000], btype="bandpass", fs=RATE, output="sos"), samples)
    echo = samples_at(0.011)
    thin[echo:] += 0.3 * thin[:-echo]
    return thin.astype(np.float32)


def production_sound(spec: PlateSpec, scene: PlayedScene) -> tuple[Sound, Sound | None]:
    """The camera's scratch track for the plate's span, and (if ``spec.recorder``) the recorder's cleaner track,
    which starts :data:`RECORDER_PREROLL` s before the camera. Both hear the clap on the flash frame's start."""
    count = samples_at(FRAMES / FPS)
    pre, post = samples_at(RECORDER_PREROLL), samples_at(RECORDER_POSTROLL)
    speech = np.zeros(pre + count + post, np.float32)        # the performance, on the recorder's clock
    at = pre + samples_at(SPEECH_FROM)
    for voice in performance(scene):
        speech[at:at + voice.size] += voice
        at += voice.size + samples_at(SPEECH_GAP)
    bang = np.zeros_like(speech)
    sticks = clap(spec.seed)
    hit = pre + samples_at(FLASH_FRAME / FPS)
    bang[hit:hit + sticks.size] = sticks

    def level(db: float) -> np.float32:
        return np.float32(10 ** (db / 20))

    camera = on_camera_mic(speech) * level(DIALOGUE_PEAK["camera"]) + bang * level(CLAP_PEAK["camera"])
    camera_track = camera[pre:pre + count, None] + room_tone(spec.seed * 10 + 1, count, ROOM_TONE_RMS["camera"])
    if not spec.recorder:
        return Sound(np.ascontiguousarray(camera_track, np.float32)), None
    start = samples_at(0.15)
    slate = speak(SLATE.format(scene=scene.number), OTHER_VOICE, 240)[:pre - samples_at(0.3) - start]
    speech[start:start + slate.size] += slate * np.float32(0.5)
    boom = speech * level(DIALOGUE_PEAK["recorder"]) + bang * level(CLAP_PEAK["recorder"])
    recorder = boom[:, None] + room_tone(spec.seed * 10 + 2, boom.size, ROOM_TONE_RMS["recorder"])
    return (Sound(np.ascontiguousarray(camera_track, np.float32)),
            Sound(np.ascontiguousarray(recorder, np.float32)))


def timecode_samples(timecode: str) -> int:
    """``HH:MM:SS:FF`` at the plates' rate as a count of 48 kHz samples since midnight (BWF's time reference)."""
    hours, minutes, seconds, frames = (int(part) for part in timecode.split(":"))
    return ((hours * 60 + minutes) * 60 + seconds) * RATE + frames * RATE // FPS


# ----------------------------------------------------------------------------------------------- the plates


def _screen_light(spec: PlateSpec, size: tuple[int, int] = (WIDTH, HEIGHT), origin: Point = (0, 0)) -> np.ndarray:
    """The screen's brightness across the frame (H×W float32): a broad gradient, a hot spot, a vignette. ``size``
    and ``origin`` (where the frame's top-left sits) light a larger stretch of the same screen."""
    yy, xx = np.mgrid[0:size[1], 0:size[0]].astype(np.float32)
    u, v = (xx - origin[0]) / WIDTH, (yy - origin[1]) / HEIGHT
    left, right = spec.gradient
    light = left + (right - left) * u
    hx, hy, gain = spec.hot_spot
    light *= 1.0 + gain * np.exp(-((u - hx) ** 2 * (16 / 9) + (v - hy) ** 2) / (2 * 0.18**2))
    light *= 1.0 - spec.vignette * ((u - 0.5) ** 2 * (16 / 9) + (v - 0.5) ** 2) * 1.4
    return light.astype(np.float32)


def _subject_layers(photo: np.ndarray, matte: np.ndarray, spec: PlateSpec) -> tuple[np.ndarray, np.ndarray]:
    """Her premultiplied colour, with the screen's spill on her edges, and her matte, at the shooting scale."""
    colours = subject_colours(photo, matte)
    if spec.screen == "blue":
        colours = _dress_for_blue(colours)
    alpha = matte.astype(np.float32) / 255.0
    if spec.flip:
        colours, alpha = colours[:, ::-1], alpha[:, ::-1]
    size = (round(photo.shape[1] * SCALE), round(photo.shape[0] * SCALE))
    colours = np.clip(cv2.resize(colours, size, interpolation=cv2.INTER_CUBIC), 0, 255)
    alpha = np.clip(cv2.resize(np.ascontiguousarray(alpha), size, interpolation=cv2.INTER_CUBIC), 0, 1)

    # Spill: screen light bounced onto her, strongest within ~10 px of her outline and on bright surfaces.
    screen = np.array(SCREENS[spec.screen], np.float32)
    excess = (screen - screen.min()) / (screen.max() - screen.min())
    near_edge = cv2.GaussianBlur((alpha < 0.99).astype(np.float32), (0, 0), 7.0)
    brightness = colours.mean(axis=-1, keepdims=True) / 128.0
    colours = np.clip(colours + (spec.spill * near_edge)[..., None] * brightness * excess, 0, 255)
    return colours * alpha[..., None], alpha


def _dress_for_blue(colours: np.ndarray) -> np.ndarray:
    """Wardrobe's rule: nothing screen-coloured on the actor. Her navy mission patch and name tag would key
    out on a blue screen, so for the blue plate their blue is held to 6 levels above red and green."""
    toned = colours.copy()
    toned[..., 2] = np.minimum(toned[..., 2], np.maximum(toned[..., 0], toned[..., 1]) + 6.0)
    return toned


def _frame_matrix(spec: PlateSpec, t: float) -> np.ndarray:
    """Where the scaled photo lands in frame ``t`` (seconds): the framing plus the operator's move."""
    dx, dy, angle, zoom = spec.move(t)
    face_x = PHOTO - FACE[0] if spec.flip else FACE[0]
    pivot = (ANCHOR[0] + face_x * SCALE, ANCHOR[1] + FACE[1] * SCALE)
    move = cv2.getRotationMatrix2D(pivot, angle, zoom)
    move[:, 2] += np.array([dx, dy])
    place = np.array([[1, 0, ANCHOR[0]], [0, 1, ANCHOR[1]], [0, 0, 1]], np.float64)
    return move @ place


def shoot_plate(spec: PlateSpec, photo: np.ndarray, matte: np.ndarray, sound: Sound,
                out: Path, encode: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[int, np.ndarray]:
    """Render and encode one plate with its sound; return its size in bytes and the true matte of its first frame.
    ``encode`` turns each finished video frame into what the camera records (a log curve), if given."""
    recorded = encode or (lambda rgb: rgb)
    premult, alpha = _subject_layers(photo, matte, spec)
    backing = _screen_light(spec)[..., None] * np.array(SCREENS[spec.screen], np.float32)
    first_alpha = np.zeros((HEIGHT, WIDTH), np.uint8)
    with _camera_file(out, spec.timecode, sound) as write:
        for index in range(FRAMES):
            if index == FLASH_FRAME:       # the slate's sync light fills the frame, for exactly one frame
                write(recorded(np.full((HEIGHT, WIDTH, 3), 255, np.uint8)))
                continue
            matrix = _frame_matrix(spec, index / FPS)
            a = cv2.warpAffine(alpha, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            fg = cv2.warpAffine(premult, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            picture = fg + (1.0 - a)[..., None] * backing
            rng = np.random.default_rng([spec.seed, index])
            grain = rng.normal(0.0, spec.noise, (HEIGHT, WIDTH, 1)).astype(np.float32)      # luma noise
            grain = grain + rng.normal(0.0, spec.noise * 0.5, (HEIGHT, WIDTH, 3)).astype(np.float32)
            write(recorded(np.clip(picture + grain + 0.5, 0, 255).astype(np.uint8)))
            if index == 0:
                first_alpha = np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out.stat().st_size, first_alpha


# ------------------------------------------------------------------------------------------ the handheld plate
# A pick-up shot of her look-out, shot handheld: the operator pans slowly right, the camera shakes in the hand
# (a few pixels, a fraction of a degree of roll) and zooms in slowly; the lens has a little barrel distortion,
# and the screen carries tracking markers (dark-green dots and light crosses) under uneven light. The camera's
# true path is written next to the plate, so a track of it can be checked against the truth.

HANDHELD = PlateSpec("handheld_look", "green", _look, gradient=(0.7, 1.16), hot_spot=(0.62, 0.28, 0.4),
                     vignette=0.3, seed=15, timecode="11:00:20:00")
HANDHELD_SECONDS = 2.5
HANDHELD_LENS = {"k1": -0.06, "k2": 0.01}      # Brown–Conrady, intrinsics from the frame (soundstage's default)
HANDHELD_SHUTTER = 180.0                        # degrees: the plate's motion blur
HANDHELD_SAMPLES = 5                            # sub-frame renders averaged over the open shutter
MARGIN = 240                                    # px of screen beyond frame 0's edges that the move can reveal
MARKER_STEP = 150                               # px between tracking markers on the screen


def handheld_camera(t: float) -> np.ndarray:
    """The true camera at ``t`` s: frame 0's straight (undistorted) pixels → this moment's. A pan to the right
    (the screen slides left), hand shake as a few incommensurate sines, a slow zoom in, a little roll."""
    def shake(t: float) -> tuple[float, float, float]:
        x = 2.2 * math.sin(2 * math.pi * 3.1 * t) + 1.1 * math.sin(2 * math.pi * 7.3 * t + 1.0)
        y = 1.8 * math.sin(2 * math.pi * 2.3 * t + 0.5) + 0.9 * math.sin(2 * math.pi * 6.1 * t + 2.0)
        roll = 0.25 * math.sin(2 * math.pi * 1.7 * t + 0.3)
        return x, y, roll

    x, y, roll = (now - then for now, then in zip(shake(t), shake(0.0), strict=True))   # frame 0 is the identity
    pan = -34.0 * t                                # px/s
    zoom = 1.0 + 0.035 * t / HANDHELD_SECONDS
    centre = ((WIDTH - 1) / 2, (HEIGHT - 1) / 2)
    turn = cv2.getRotationMatrix2D(centre, roll, zoom)
    turn[:, 2] += (pan + x, y)
    return np.vstack([turn, [0, 0, 1]])


def _marked_backing(spec: PlateSpec) -> np.ndarray:
    """The screen behind her over the whole stretch the move can see: lit unevenly, with tracking markers."""
    size = (WIDTH + 2 * MARGIN, HEIGHT + 2 * MARGIN)
    backing = _screen_light(spec, size, (MARGIN, MARGIN))[..., None] * np.array(SCREENS[spec.screen], np.float32)
    dark = tuple(float(c) * 0.45 for c in SCREENS[spec.screen])
    for row, y in enumerate(range(MARKER_STEP // 2, size[1], MARKER_STEP)):
        for column, x in enumerate(range(MARKER_STEP // 2 + (row % 2) * MARKER_STEP // 2, size[0], MARKER_STEP)):
            if (row + column) % 2:
                cv2.circle(backing, (x, y), 7, dark, -1, cv2.LINE_AA)
            else:
                cv2.line(backing, (x - 10, y), (x + 10, y), (205, 210, 205), 3, cv2.LINE_AA)
                cv2.line(backing, (x, y - 10), (x, y + 10), (205, 210, 205), 3, cv2.LINE_AA)
    return backing


def shoot_handheld(photo: np.ndarray, matte: np.ndarray, out: Path, truth: Path) -> int:
    """Render and encode the handheld plate (room tone only: a pick-up without a slate) and write its true camera
    as ``frame,h00..h22,confidence`` (the track CSV's columns); return the plate's size in bytes."""
    from soundstage.comp.lens import Lens

    spec = HANDHELD
    frames = round(FPS * HANDHELD_SECONDS)
    premult, alpha = _subject_layers(photo, matte, spec)
    backing = _marked_backing(spec)
    world = (WIDTH + 2 * MARGIN, HEIGHT + 2 * MARGIN)
    lens = Lens.for_frame(WIDTH, HEIGHT, **HANDHELD_LENS)
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH]
    straight = lens.undistort_points(np.stack([xs.ravel(), ys.ravel()], axis=1)).T     # each lensed pixel, straight
    points = np.vstack([straight, np.ones(straight.shape[1])])
    offset = np.array([[1, 0, MARGIN], [0, 1, MARGIN], [0, 0, 1]], np.float64)
    sound = Sound(np.ascontiguousarray(room_tone(spec.seed * 10 + 1, samples_at(frames / FPS),
                                                 ROOM_TONE_RMS["camera"]), np.float32))
    rows = []
    with _camera_file(out, spec.timecode, sound) as write:
        for index in range(frames):
            picture = np.zeros((HEIGHT, WIDTH, 3), np.float32)
            for sample in range(HANDHELD_SAMPLES):
                t = (index + (sample / (HANDHELD_SAMPLES - 1) - 0.5) * HANDHELD_SHUTTER / 360) / FPS
                place = (offset @ np.vstack([_frame_matrix(spec, max(t, 0.0)), [0, 0, 1]]))[:2]
                a = cv2.warpAffine(alpha, place, world, flags=cv2.INTER_LINEAR, borderValue=0)
                fg = cv2.warpAffine(premult, place, world, flags=cv2.INTER_LINEAR, borderValue=0)
                scene = fg + (1.0 - a)[..., None] * backing
                seen = (offset @ np.linalg.inv(handheld_camera(t))) @ points
                map_x = (seen[0] / seen[2]).reshape(HEIGHT, WIDTH).astype(np.float32)
                map_y = (seen[1] / seen[2]).reshape(HEIGHT, WIDTH).astype(np.float32)
                picture += cv2.remap(scene, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            picture /= HANDHELD_SAMPLES
            rng = np.random.default_rng([spec.seed, index])
            grain = rng.normal(0.0, spec.noise, (HEIGHT, WIDTH, 1)).astype(np.float32)
            grain = grain + rng.normal(0.0, spec.noise * 0.5, (HEIGHT, WIDTH, 3)).astype(np.float32)
            write(np.clip(picture + grain + 0.5, 0, 255).astype(np.uint8))
            h = handheld_camera(index / FPS)
            rows.append(",".join([str(index), *(f"{v:.9g}" for v in (h / h[2, 2]).ravel()), "1"]))
    with atomic_path(truth) as tmp:
        tmp.write_text("frame,h00,h01,h02,h10,h11,h12,h20,h21,h22,confidence\n" + "\n".join(rows) + "\n")
    return out.stat().st_size


# ------------------------------------------------------------------------------------------ the standing plate
# A wide of her standing still, head to boots, so her feet are in frame: the comp casts her shadow on the set's
# ground and darkens the ground under her boots. The photo stops at her chest; wardrobe finishes the costume
# below it, drawn: the flight suit's hips and legs, black boots, and the lower half of the helmet she holds.
# She shifts her weight a little, turning about her boots, which stay planted.

STANDING = PlateSpec("pass_stand", "green", _look, gradient=(0.9, 1.08), hot_spot=(0.4, 0.3, 0.2), vignette=0.25,
                     seed=16, timecode="10:00:20:00")
STANDING_SECONDS = 2.0
FIGURE = 1290             # the finished figure's height in photo pixels: 512 of photo, the rest drawn
STANDING_SCALE = 0.44     # she stands ~570 px tall in the 720-px frame
STANDING_AT = (610.0, 88.0)   # where the figure's top-left corner lands
BOOTS = (190.0, 1290.0)   # in the figure: between her boots, the pivot of her sway
SUPERSAMPLE = 4           # drawn parts are drawn this much larger, then shrunk: soft, anti-aliased edges
# The drawn parts (figure pixels: x right, y down), each with its colour's share of the suit's orange (None:
# the boots' black) and whether it is shaded as a cylinder across its width.
COSTUME: list[tuple[list[Point], float | None]] = [
    ([(40, 492), (292, 492), (288, 600), (280, 730), (76, 730), (60, 600)], 1.0),            # waist and hips
    ([(70, 715), (182, 715), (174, 1215), (108, 1215)], 0.96),                                # her right leg
    ([(186, 715), (292, 715), (276, 1215), (208, 1215)], 0.9),                                # her left leg
    ([(102, 1205), (180, 1205), (184, 1290), (64, 1290), (70, 1262)], None),                  # boots
    ([(204, 1205), (282, 1205), (304, 1262), (312, 1290), (198, 1290)], None),
]
BELT = (0.62, 0.64, 0.7)  # the suit's grey webbing belt, a share of white, across her hips at y 690–712


def standing_figure(photo: np.ndarray, matte: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Her colour (float32 RGB) and alpha (float32 0..1) from head to boots, FIGURE × PHOTO photo pixels: the
    photo (its soft edge unmixed) over the drawn costume, faded into it over its last 24 rows."""
    colours = np.zeros((FIGURE, PHOTO, 3), np.float32)
    alpha = np.zeros((FIGURE, PHOTO), np.float32)
    near = photo[440:512, 30:260].reshape(-1, 3).astype(np.float32)      # the suit above the cut: its orange
    orange = (near[:, 0] > 140) & (near[:, 1] > 50) & (near[:, 1] < 130) & (near[:, 2] < 90)
    suit = np.median(near[orange], axis=0)
    big = (PHOTO * SUPERSAMPLE, FIGURE * SUPERSAMPLE)
    folds = cv2.resize(np.random.default_rng(16).normal(0.0, 0.05, (FIGURE // 40, PHOTO // 40)).astype(np.float32),
                       (PHOTO, FIGURE), interpolation=cv2.INTER_CUBIC)
    xs = np.arange(PHOTO, dtype=np.float32)[None, :]

    def lay(mask: np.ndarray, colour: np.ndarray) -> None:
        """One drawn part (its soft mask at the figure's size) over what is drawn so far."""
        colours[:] = colour * mask[..., None] + colours * (1.0 - mask[..., None])
        alpha[:] = mask + alpha * (1.0 - mask)

    for polygon, share in COSTUME:
        layer = np.zeros(big[::-1], np.uint8)
        cv2.fillPoly(layer, [np.array(polygon, np.int32) * SUPERSAMPLE], 255, cv2.LINE_AA)
        mask = cv2.resize(layer, (PHOTO, FIGURE), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        left = min(x for x, _ in polygon)
        right = max(x for x, _ in polygon)
        across = np.clip((xs - left) / max(right - left, 1), 0.0, 1.0)
        shade = 0.7 + 0.3 * np.sin(np.pi * across)                       # round: darker at its sides
        if share is None:
            colour = np.full((FIGURE, PHOTO, 3), 22.0, np.float32) * (0.6 + 0.8 * shade)[..., None]
        else:
            colour = suit * share * (shade * (1.0 + folds))[..., None]
        lay(mask, colour)
    belt = np.zeros((FIGURE, PHOTO), np.float32)
    belt[690:712] = alpha[690:712]
    lay(belt, np.array(BELT, np.float32) * 255.0 * (0.75 + 0.25 * np.sin(np.pi * np.clip((xs - 50) / 260, 0, 1)))
        [..., None])
    helmet = np.zeros(big[::-1], np.uint8)                              # the rest of the helmet's dark shell
    cv2.circle(helmet, (HELMET_CENTRE[0] * SUPERSAMPLE, HELMET_CENTRE[1] * SUPERSAMPLE),
               (HELMET_AXES[0] + 4) * SUPERSAMPLE, 255, -1, cv2.LINE_AA)
    lay(cv2.resize(helmet, (PHOTO, FIGURE), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0 *
        (np.arange(FIGURE) >= 480)[:, None], np.array([18.0, 20.0, 26.0], np.float32))
    fade = np.clip((PHOTO - 1 - np.arange(PHOTO, dtype=np.float32)) / 24.0, 0.0, 1.0)[:, None]
    top = matte.astype(np.float32) / 255.0 * np.where(alpha[:PHOTO] > 0.99, fade, 1.0)
    colours[:PHOTO] = subject_colours(photo, matte) * top[..., None] + colours[:PHOTO] * (1.0 - top[..., None])
    alpha[:PHOTO] = top + alpha[:PHOTO] * (1.0 - top)
    return colours, alpha


def _stand(t: float) -> float:
    """Her sway, in degrees about her boots: a slow shift of weight."""
    return 0.8 * math.sin(2 * math.pi * t / 2.6)


def shoot_standing(photo: np.ndarray, matte: np.ndarray, out: Path) -> int:
    """Render and encode the standing plate (room tone only: a pick-up without a slate); return its size."""
    spec = STANDING
    frames = round(FPS * STANDING_SECONDS)
    colours, alpha = standing_figure(photo, matte)
    size = (round(PHOTO * STANDING_SCALE), round(FIGURE * STANDING_SCALE))
    # the same spill on her edges as the other plates (``_subject_layers``), at the shooting scale
    colours = np.clip(cv2.resize(colours, size, interpolation=cv2.INTER_AREA), 0, 255)
    alpha = np.clip(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA), 0, 1)
    screen = np.array(SCREENS[spec.screen], np.float32)
    excess = (screen - screen.min()) / (screen.max() - screen.min())
    near_edge = cv2.GaussianBlur((alpha < 0.99).astype(np.float32), (0, 0), 3.0)
    colours = np.clip(colours + (spec.spill * near_edge)[..., None] * (colours.mean(-1, keepdims=True) / 128.0)
                      * excess, 0, 255)
    premult = colours * alpha[..., None]
    backing = _screen_light(spec)[..., None] * screen
    pivot = (STANDING_AT[0] + BOOTS[0] * STANDING_SCALE, STANDING_AT[1] + BOOTS[1] * STANDING_SCALE)
    sound = Sound(np.ascontiguousarray(room_tone(spec.seed * 10 + 1, samples_at(frames / FPS),
                                                 ROOM_TONE_RMS["camera"]), np.float32))
    with _camera_file(out, spec.timecode, sound) as write:
        for index in range(frames):
            matrix = cv2.getRotationMatrix2D(pivot, _stand(index / FPS), 1.0)
            matrix[:, 2] += matrix[:, :2] @ np.array(STANDING_AT)
            a = cv2.warpAffine(alpha, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderValue=0)
            fg = cv2.warpAffine(premult, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderValue=0)
            rng = np.random.default_rng([spec.seed, index])
            grain = rng.normal(0.0, spec.noise, (HEIGHT, WIDTH, 1)).astype(np.float32)
            grain = grain + rng.normal(0.0, spec.noise * 0.5, (HEIGHT, WIDTH, 3)).astype(np.float32)
            write(np.clip(fg + (1.0 - a)[..., None] * backing + grain + 0.5, 0, 255).astype(np.uint8))
    return out.stat().st_size


@contextmanager
def _camera_file(path: Path, timecode: str, sound: Sound) -> Iterator[Callable[[np.ndarray], None]]:
    """H.264 (PyAV, libx264, yuv420p) plus the camera's sound as AAC, with a start timecode (MP4 ``tmcd``); the
    file appears only once every frame and sample is in."""
    with atomic_path(path) as tmp, av.open(str(tmp), mode="w", options={"movflags": "+faststart"}) as container:
        container.metadata["timecode"] = timecode          # FFmpeg writes it as the MP4's timecode track
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": str(CRF), "preset": PRESET, "tune": TUNE}
        # the frames go to Y'CbCr by FFmpeg's default matrix, BT.601: said in the stream, so no decoder guesses
        stream.codec_context.colorspace = Colorspace.ITU601
        audio = container.add_stream("aac", rate=RATE, layout="stereo")
        audio.bit_rate, audio.options = AAC_BITRATE, AAC_OPTIONS

        def write(rgb: np.ndarray) -> None:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))

        yield write
        container.mux(stream.encode(None))
        planar = np.ascontiguousarray(sound.samples.T)
        for start in range(0, sound.count, AAC_FRAME):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planar[:, start:start + AAC_FRAME]),
                                               format="fltp", layout="stereo")
            frame.rate, frame.pts = RATE, start
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))


# The same take recorded in a camera log, for the colour-managed comp: plate name → (the take, its encoding).
LOG_PLATES = {"desert_look_logc4": ("desert_look", "ARRI LogC4")}


def log_encoder(space: str) -> Callable[[np.ndarray], np.ndarray]:
    """Video frames (taken as the camera's Rec.709 out) → 8-bit code of the camera's log ``space``, by OCIO."""
    from soundstage.comp.colour import comp_space

    colour = comp_space()

    def encode(rgb: np.ndarray) -> np.ndarray:
        log = colour.convert(rgb.astype(np.float32) / 255.0, "Camera Rec.709", space)
        return np.rint(np.clip(log, 0.0, 1.0) * 255.0).astype(np.uint8)

    return encode


def shoot_log_plate(name: str, photo: np.ndarray, matte: np.ndarray, scenes: dict[str, PlayedScene]) -> None:
    """One of ``LOG_PLATES``: its take shot again, frame for frame and sample for sample, recorded in log."""
    take, space = LOG_PLATES[name]
    spec = next(spec for spec in PLATES if spec.name == take)
    started = time.perf_counter()
    camera, _ = production_sound(spec, scenes[take])
    size, _ = shoot_plate(spec, photo, matte, camera, HERE / f"{name}.mp4", encode=log_encoder(space))
    print(f"{name}.mp4: {size / 1e6:.2f} MB, {FRAMES} frames, {take} in {space}, {time.perf_counter() - started:.1f} s")


def _write_png(path: Path, image: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise RuntimeError(f"could not encode {path.name}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.tobytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repull", action="store_true", help="pull the matte again instead of reusing it")
    parser.add_argument("--only", nargs="*", metavar="PLATE", help="build only these plates (by name)")
    args = parser.parse_args(argv)

    photo = _photo()
    matte = load_or_pull_matte(photo, args.repull)
    if not args.only or HANDHELD.name in args.only:
        started = time.perf_counter()
        size = shoot_handheld(photo, matte, HERE / f"{HANDHELD.name}.mp4", HERE / f"{HANDHELD.name}_camera.csv")
        print(f"{HANDHELD.name}.mp4: {size / 1e6:.2f} MB, {round(FPS * HANDHELD_SECONDS)} frames, handheld, true "
              f"camera in {HANDHELD.name}_camera.csv, {time.perf_counter() - started:.1f} s")
        if args.only == [HANDHELD.name]:
            return 0
    if not args.only or STANDING.name in args.only:
        started = time.perf_counter()
        size = shoot_standing(photo, matte, HERE / f"{STANDING.name}.mp4")
        print(f"{STANDING.name}.mp4: {size / 1e6:.2f} MB, {round(FPS * STANDING_SECONDS)} frames, standing, "
              f"{time.perf_counter() - started:.1f} s")
        if set(args.only or ()) <= {HANDHELD.name, STANDING.name} and args.only:
            return 0
    scenes = plate_scenes()
    for name in LOG_PLATES:
        if not args.only or name in args.only:
            shoot_log_plate(name, photo, matte, scenes)
    for spec in PLATES:
        if args.only and spec.name not in args.only:
            continue
        started = time.perf_counter()
        camera, recorder = production_sound(spec, scenes[spec.name])
        size, first_alpha = shoot_plate(spec, photo, matte, camera, HERE / f"{spec.name}.mp4")
        _write_png(SOURCE / f"{spec.name}_alpha0.png", first_alpha)
        print(f"{spec.name}.mp4: {size / 1e6:.2f} MB, {FRAMES} frames, {spec.screen} screen, "
              f"timecode {spec.timecode}, {time.perf_counter() - started:.1f} s")
        if recorder is not None:
            wav = HERE / f"{spec.name}_rec.wav"
            reference = timecode_samples(spec.timecode) - samples_at(RECORDER_PREROLL)
            write_bwf(wav, recorder, time_reference=reference,
                      description=f"Moonlit Hanok, scene {scenes[spec.name].number}, take 1: boom")
            print(f"{wav.name}: {wav.stat().st_size / 1e6:.2f} MB, {recorder.seconds:g} s, starts "
                  f"{RECORDER_PREROLL:g} s before the camera (time reference {reference})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
