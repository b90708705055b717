"""The procedural engine: sets, moving backgrounds and elements drawn, and their sound made, by algorithm:
offline, free and deterministic."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import cv2
from pydantic import Field

from soundstage import __version__
from soundstage.atomic import atomic_path
from soundstage.engines.base import (
    AssetKind,
    AssetRequest,
    EngineOptions,
    Generated,
    Honours,
    Quote,
    SourceType,
    dropped,
    kept_references,
)
from soundstage.engines.frames import fit_to_frame
from soundstage.engines.procedural.creatures import creature_frame, figure_of, subject_of
from soundstage.engines.procedural.elements import _ELEMENT_NAMES, ELEMENTS, _element_name, element_frame
from soundstage.engines.procedural.moving import Move, moving_frames
from soundstage.engines.procedural.noise import Array
from soundstage.engines.procedural.placeholders import PLACEHOLDERS, Language, placeholder_label
from soundstage.engines.procedural.sets import _render
from soundstage.engines.procedural.sounds import SOUNDS, ambience, effect
from soundstage.engines.procedural.vocabulary import read_scene
from soundstage.errors import EngineError, MediaError
from soundstage.media import VideoWriter, probe, read_frames, read_image
from soundstage.records.slot import AMBIENCE
from soundstage.sound import RATE, write_bwf

GENERATOR_VERSION = "1"
MODEL = "soundstage-procedural"
#: The longest clip it grows by extension (seconds): past it a chain of extensions is refused, as Veo's is.
MAX_EXTENDED_SECONDS = 120.0


def _write_png(path: Path, pixels: Array) -> None:
    """RGB(A) to PNG through OpenCV (which wants BGR order), written atomically."""
    code = cv2.COLOR_RGB2BGR if pixels.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
    ok, buf = cv2.imencode(".png", cv2.cvtColor(pixels, code), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise EngineError(f"could not encode {path.name} as PNG", path=path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.tobytes())


class ProceduralOptions(EngineOptions):
    """``[engines.procedural]``: the language of the labels on placeholders, and the longest moving clip it
    makes at once (0: any length), so that offline a long shot takes the same path of extensions as on Veo."""

    language: Language = "en"
    clip: float = Field(0.0, ge=0, le=MAX_EXTENDED_SECONDS)


class ProceduralEngine:
    """Sets, elements and sound made by algorithm: offline, free, deterministic, labelled algorithmicMedia.

    It makes every element of ``script/elements.toml``: the ones in :data:`PLACEHOLDERS` as labelled previs
    silhouettes, recorded as such (model ``placeholder-<name>``). It makes the sound of the elements in
    ``sounds.SOUNDS`` and every shot's ambience bed, as ``sound.wav``.
    """

    name: ClassVar[str] = "procedural"
    Options: ClassVar[type[ProceduralOptions]] = ProceduralOptions
    kinds: ClassVar[frozenset[AssetKind]] = frozenset({AssetKind.SET, AssetKind.BACKGROUND, AssetKind.ELEMENT,
                                                       AssetKind.SOUND})
    elements: ClassVar[frozenset[str] | None] = frozenset(_ELEMENT_NAMES)   # names and words
    sounds: frozenset[str] | None = frozenset(
        {word for word, name in _ELEMENT_NAMES.items() if name in SOUNDS} | {AMBIENCE})
    takes_references: ClassVar[bool] = False
    source_type: ClassVar[SourceType] = SourceType.ALGORITHMIC
    model = MODEL
    version = f"{__version__}+gen{GENERATOR_VERSION}"

    def __init__(self, options: EngineOptions | None = None, *, root: Path | None = None) -> None:
        self.options = ProceduralOptions.checked(options)

    def honours_for(self, kind: AssetKind) -> Honours:
        """A moving background starts from a first frame (or the set it is given as a reference), ends on a last
        frame, extends a clip, and moves as the camera hint says. A cast member's still or element is drawn from its
        subject references (its first one); other stills and elements take no conditioning."""
        if kind in (AssetKind.SET, AssetKind.ELEMENT):
            return Honours(frozenset({"references:subject"}), max_references=1)
        if kind != AssetKind.BACKGROUND:
            return Honours()
        clip = self.options.clip
        return Honours(frozenset({"first_frame", "last_frame", "extend", "camera_hint", "references:set"}),
                       max_references=1, extend_seconds=clip or MAX_EXTENDED_SECONDS,
                       max_seconds=MAX_EXTENDED_SECONDS, max_clip=clip)

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
        elif request.kind == AssetKind.BACKGROUND:
            files, params = self._background(request, out_dir)
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
                hint="it makes sets, moving backgrounds, elements and sound",
            )
        if request.kind == AssetKind.SOUND:
            if _seconds(request) <= 0:
                raise EngineError("procedural engine: a sound request needs a positive duration (seconds)")
            if request.element and _element_name(request.element) not in SOUNDS:
                raise EngineError(f"procedural engine makes no sound for the element {request.element!r}",
                                  hint=f"it makes the sound of: {', '.join(SOUNDS)}; and ambience")
            return
        refused, _ = dropped(request, self.honours_for(request.kind))
        if refused:
            raise EngineError(f"procedural engine cannot take {', '.join(refused)} for a {request.kind.value}",
                              hint="it takes a first frame, a last frame and an extension for moving backgrounds")
        clip = self.options.clip
        if request.kind == AssetKind.BACKGROUND and request.extend is None and clip and _seconds(request) > clip:
            raise EngineError(f"procedural engine: a {_seconds(request):g} s clip is longer than it makes at once "
                              f"({clip:g} s, [engines.procedural] clip)", hint="extend a shorter clip")
        if request.kind == AssetKind.BACKGROUND and request.extend is not None \
                and _seconds(request) > MAX_EXTENDED_SECONDS + 1e-6:
            raise EngineError(f"procedural engine: a {_seconds(request):g} s clip is longer than it extends "
                              f"(at most {MAX_EXTENDED_SECONDS:g} s)", hint="split the shot, or shorten it")
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


    def _background(self, request: AssetRequest, out_dir: Path) -> tuple[tuple[Path, ...], dict[str, Any]]:
        """``background.mp4``: the move over the first frame (the set reference, else the set drawn from the
        prompt), into the last frame; or the clip to extend, then the move on from its last frame."""
        fps = request.fps or 24.0
        count = _frame_count(request)
        width, height = request.width, request.height
        move = Move.of(request.camera_hint)
        params: dict[str, Any] = {"frames": count, "fps": fps, "duration": count / fps, "move": move.name,
                                  "camera_hint": request.camera_hint}
        kept: list[Any] = []
        start = 0.0
        if request.extend is not None:
            kept = [fit_to_frame(f, width, height) for f in _clip(request.extend)]
            if len(kept) >= count:
                raise EngineError(f"procedural engine: the clip to extend already has {len(kept)} frames, and the "
                                  f"request asks for {count}", path=request.extend,
                                  hint="an extension asks for the whole clip's length, longer than the clip")
            first, source = kept[-1], "extend"
            start = 1.0 / fps                  # the move goes on: the first new frame is one step past the last
        elif request.first_frame is not None:
            first, source = _picture(request.first_frame, width, height), "first_frame"
        elif (chosen := kept_references(request, self.honours_for(request.kind))):
            first, source = _picture(chosen[0].path, width, height), "references:set"
        else:
            scene = read_scene(request.prompt, request.look, request.negative_prompt)
            first, source = _render(scene, width, height, request.seed), "prompt"
            params.update(scene.parameters())
        last = _picture(request.last_frame, width, height) if request.last_frame is not None else None
        target = out_dir / "background.mp4"
        with VideoWriter(target, width=width, height=height, fps=fps) as writer:
            for frame in kept:
                writer.write(frame)
            for frame in moving_frames(first, count - len(kept), fps, move, last, start):
                writer.write(frame)
        params.update(starts_from=source, extended_frames=len(kept) or None, ends_on_last_frame=last is not None)
        return (target,), params

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


def _picture(path: Path, width: int, height: int) -> Array:
    """A frame or reference as the clip's RGB picture, centre-cropped to the frame (the pipeline has conformed
    another aspect ratio per [plates] before it gets here)."""
    try:
        return fit_to_frame(read_image(path)[..., :3], width, height)
    except MediaError as exc:
        raise EngineError(f"procedural engine: {exc.message}", path=path) from None


def _clip(path: Path) -> list[Array]:
    try:
        probe(path)
        return list(read_frames(path))
    except MediaError as exc:
        raise EngineError(f"procedural engine: the clip to extend does not decode ({exc.message})", path=path) from None
