"""The procedural engine: sets and elements drawn, and their sound made, by algorithm: offline, free and
deterministic."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import cv2

from soundstage import __version__
from soundstage.atomic import atomic_path
from soundstage.engines.base import AssetKind, AssetRequest, EngineOptions, Generated, Quote, SourceType
from soundstage.engines.procedural.creatures import creature_frame, figure_of, subject_of
from soundstage.engines.procedural.elements import _ELEMENT_NAMES, ELEMENTS, _element_name, element_frame
from soundstage.engines.procedural.noise import Array
from soundstage.engines.procedural.placeholders import PLACEHOLDERS, Language, placeholder_label
from soundstage.engines.procedural.sets import _render
from soundstage.engines.procedural.sounds import SOUNDS, ambience, effect
from soundstage.engines.procedural.vocabulary import read_scene
from soundstage.errors import EngineError
from soundstage.records.slot import AMBIENCE
from soundstage.sound import RATE, write_bwf

GENERATOR_VERSION = "1"
MODEL = "soundstage-procedural"


def _write_png(path: Path, pixels: Array) -> None:
    """RGB(A) to PNG through OpenCV (which wants BGR order), written atomically."""
    code = cv2.COLOR_RGB2BGR if pixels.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
    ok, buf = cv2.imencode(".png", cv2.cvtColor(pixels, code), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise EngineError(f"could not encode {path.name} as PNG", path=path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.tobytes())


class ProceduralOptions(EngineOptions):
    """``[engines.procedural]``: the language of the labels on placeholders."""

    language: Language = "en"


class ProceduralEngine:
    """Sets, elements and sound made by algorithm: offline, free, deterministic, labelled algorithmicMedia.

    It makes every element of ``script/elements.toml``: the ones in :data:`PLACEHOLDERS` as labelled previs
    silhouettes, recorded as such (model ``placeholder-<name>``). It makes the sound of the elements in
    ``sounds.SOUNDS`` and every shot's ambience bed, as ``sound.wav``.
    """

    name: ClassVar[str] = "procedural"
    Options: ClassVar[type[ProceduralOptions]] = ProceduralOptions
    kinds: ClassVar[frozenset[AssetKind]] = frozenset({AssetKind.SET, AssetKind.ELEMENT, AssetKind.SOUND})
    elements: ClassVar[frozenset[str] | None] = frozenset(_ELEMENT_NAMES)   # names and words
    sounds: frozenset[str] | None = frozenset(
        {word for word, name in _ELEMENT_NAMES.items() if name in SOUNDS} | {AMBIENCE})
    takes_references: ClassVar[bool] = False
    source_type: ClassVar[SourceType] = SourceType.ALGORITHMIC
    model = MODEL
    version = f"{__version__}+gen{GENERATOR_VERSION}"

    def __init__(self, options: EngineOptions | None = None, *, root: Path | None = None) -> None:
        self.options = ProceduralOptions.checked(options)

    def quote(self, request: AssetRequest) -> Quote:
        """CPU-seconds from the benchmark figures (docs/benchmarks.md): ~0.4 s a 1080p still, ~0.1 s a frame,
        ~0.02 s a second of sound."""
        self._check(request)
        if request.kind == AssetKind.SOUND:
            return Quote(self.name, self.model, "cpu_second", round(0.02 * _seconds(request), 6))
        megapixels = request.width * request.height / (1920 * 1080)
        seconds = 0.45 * megapixels if request.kind == AssetKind.SET else 0.1 * megapixels * _frame_count(request)
        return Quote(self.name, self._model(request), "cpu_second", round(seconds, 6))

    def _model(self, request: AssetRequest) -> str:
        """``placeholder-creature`` for a stand-in, so the take, the credits and the reports can tell."""
        if request.kind == AssetKind.ELEMENT and request.element and request.screen is None:
            name = _element_name(request.element)
            if name in PLACEHOLDERS:
                return f"placeholder-{name}"
        return self.model

    def generate(self, request: AssetRequest, out_dir: Path) -> Generated:
        self._check(request)
        start = time.perf_counter()
        out_dir = Path(out_dir)
        if request.screen is not None:
            files, params = self._creature(request, out_dir)
        elif request.kind == AssetKind.SET:
            scene = read_scene(request.prompt, request.look, request.negative_prompt)
            pixels = _render(scene, request.width, request.height, request.seed)
            target = out_dir / "set.png"
            _write_png(target, pixels)
            files: tuple[Path, ...] = (target,)
            params: dict[str, Any] = scene.parameters()
        elif request.kind == AssetKind.SOUND:
            files, params = self._sound(request, out_dir)
        else:
            files, params = self._element(request, out_dir)
        if request.kind != AssetKind.SOUND:
            params.update(width=request.width, height=request.height)
        params.update(seed=request.seed, generator=GENERATOR_VERSION)
        seconds = time.perf_counter() - start
        return Generated(
            files=files,
            engine=self.name,
            model=self._model(request),
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
                hint="it makes sets (stills), elements and sound; use an AI engine for moving backgrounds",
            )
        if request.kind == AssetKind.SOUND:
            if _seconds(request) <= 0:
                raise EngineError("procedural engine: a sound request needs a positive duration (seconds)")
            if request.element and _element_name(request.element) not in SOUNDS:
                raise EngineError(f"procedural engine makes no sound for the element {request.element!r}",
                                  hint=f"it makes the sound of: {', '.join(SOUNDS)}; and ambience")
            return
        if request.kind == AssetKind.ELEMENT and request.screen is None:
            if not request.element:
                raise EngineError("an element request needs request.element", hint=f"one of: {', '.join(ELEMENTS)}")
            _element_name(request.element)

    def _element(self, request: AssetRequest, out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any]]:
        name = _element_name(request.element or "")
        fps = request.fps or 24.0
        count = _frame_count(request)
        language = self.options.language
        files = []
        for i in range(count):
            path = out_dir / f"element_{i:04d}.png"
            _write_png(path, element_frame(name, i, fps, request.width, request.height, request.seed, language))
            files.append(path)
        params: dict[str, Any] = {"element": name, "frames": count, "fps": fps, "duration": count / fps,
                                  "alpha": "straight", "pattern": "element_%04d.png"}
        if name in PLACEHOLDERS:
            params.update(placeholder=True, label=placeholder_label(name, language))
        return tuple(files), params


    def _creature(self, request: AssetRequest, out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any]]:
        """A cast member on its chroma screen, from its first subject reference: a still (``set.png``) for a
        model sheet, else element frames without alpha, which soundstage keys as it keys a plate."""
        screen = request.screen or "green"
        reference = next((getattr(r, "path", r) for r in request.references if getattr(r, "role", "set") == "subject"),
                         None)
        subject = subject_of(reference)
        params: dict[str, Any] = {"screen": screen, "reference": reference.name if reference else None,
                                  "subject": "cut from the reference by its difference from the reference's ground",
                                  "alpha": f"none: opaque on a {screen} screen, keyed by soundstage's keyer"}
        if request.kind == AssetKind.SET:
            target = out_dir / "set.png"
            figure = figure_of(subject, request.width, request.height, still=True)
            _write_png(target, creature_frame(figure, 0, 24.0, request.width, request.height, request.seed, screen))
            return (target,), params
        fps = request.fps or 24.0
        count = _frame_count(request)
        files = []
        figure = figure_of(subject, request.width, request.height)
        for i in range(count):
            path = out_dir / f"element_{i:04d}.png"
            _write_png(path, creature_frame(figure, i, fps, request.width, request.height, request.seed, screen))
            files.append(path)
        params.update(element=request.element, frames=count, fps=fps, duration=count / fps,
                      pattern="element_%04d.png")
        return tuple(files), params

    def _sound(self, request: AssetRequest, out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any]]:
        """``sound.wav``: the element's sound, or (no element) the ambience bed of the setting's words."""
        count = max(round(_seconds(request) * RATE), 1)
        params: dict[str, Any] = {"rate": RATE, "channels": 2, "bits": 24, "samples": count, "duration": count / RATE}
        if request.element:
            name = _element_name(request.element)
            sound = effect(name, count, request.seed)
            params.update(element=name, stem="effects")
        else:
            sound, layers = ambience(request.prompt, count, request.seed)
            params.update(element=None, stem="ambience", layers=layers)
        target = out_dir / "sound.wav"
        write_bwf(target, sound, description=f"soundstage procedural {params['stem']}: {request.prompt}")
        return (target,), params


def _seconds(request: AssetRequest) -> float:
    return float(request.duration) if request.duration is not None else 0.0


def _frame_count(request: AssetRequest) -> int:
    duration = request.duration if request.duration is not None else 2.0
    return max(round(duration * (request.fps or 24.0)), 1)
