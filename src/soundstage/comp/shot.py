"""One shot's comp: everything measured once per shot, then a pure function of the frame index.

The order of a frame is the order of a Nuke script for this kind of shot:

    set (camera move, defocus) → grain matched to the plate → elements behind → keyed plate (colour match,
    light wrap) over it → elements in front → the final grade (LUT) → the invisible watermark, on generated
    pixels only

Each frame also measures, from the mattes, how much of its area each layer shows: the AI/human ledger.

``ShotComp.frame`` touches no shared state, so a render comps several frames at once on a thread pool
(OpenCV releases the GIL), while decode and encode run in their own threads.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import cv2
import numpy as np

from soundstage.comp.colour import ShotColour, motion_blurred
from soundstage.comp.grade import ColourMatch, Lut3D
from soundstage.comp.grain import Grain
from soundstage.comp.keyer import ScreenColour, key, measure_chroma, measure_screen
from soundstage.comp.light import Relight, light_actor, light_wrap, motion_blur
from soundstage.comp.markers import clear_markers
from soundstage.comp.over import BlendMode, blend, over
from soundstage.comp.placement import Placed, Placement, content_box, place
from soundstage.comp.shadow import Shadow, light_position
from soundstage.errors import MediaError
from soundstage.media import ConformMode, conform_size

ElementFrame = Callable[[int], np.ndarray]   # frame index → H×W×4 straight RGBA at the shot's size


class Mark(Protocol):
    """Marks a finished frame where ``where`` (H×W bool) says its pixels are generated. The pipeline hands in
    provenance's watermark, keyed for the take: the comp knows nothing of keys, records or the database."""

    def __call__(self, frame: np.ndarray, *, where: np.ndarray) -> np.ndarray: ...


class FrameSink(Protocol):
    def write(self, frame: np.ndarray) -> None: ...


@dataclass(frozen=True)
class Element:
    """A VFX layer of the shot: its frames, how it blends, and whether it plays in front of the actors."""

    name: str
    frame: ElementFrame
    mode: BlendMode = "over"
    front: bool = False
    placement: Placement | None = None              # None: as generated, from the shot's first frame
    light: bool = False                             # a bright element (fire, magic) that lights the actors
    wrap: bool = False      # the set's light wraps its edges, as the plate's (a keyed creature, not fire's own light)
    pin: Callable[[np.ndarray, int], np.ndarray] | None = None   # pinned to the set: moves with the solved camera
    space: str | None = None        # the colour space its take recorded; None: made for the generated display


@dataclass(frozen=True)
class Look:
    """The integration settings of a shot, already checked (``CompSettings`` in shots.toml)."""

    match_colour: float = 0.0
    light_wrap: float = 0.0
    grain: bool = True
    motion_blur: float = 0.0
    lut: Lut3D | None = None
    shadow: float = 0.0                   # the actors' cast shadow on the set, 0..1
    contact: float = 0.0                  # the contact shadow under their feet, 0..1
    interactive_light: float = 0.0        # bright elements lighting them, 0..1
    relight: float = 0.0                  # graded toward the set's key and fill, 0..1
    light: tuple[float, float] | None = None   # the key light's place, frame fractions; None: the set's brightest


@dataclass(frozen=True)
class Comped:
    """What a render did: the frames written, and the share of frame area × time each layer showed."""

    frames: int
    coverage: dict[str, float]      # layer name (see ``ShotComp.layers``) → share; the shares sum to 1


@dataclass
class ShotComp:
    """A prepared shot. Build it with ``prepare`` on the first plate frame, then call ``frame`` per index."""

    width: int
    height: int
    frames: int
    background: Callable[[int], np.ndarray]          # frame index → H×W×3 set frame (camera move applied)
    elements: Sequence[Element] = ()
    look: Look = field(default_factory=Look)
    key_options: dict[str, Any] = field(default_factory=dict)
    screen: ScreenColour | None = None               # None: the plate is used as it is (no screen to key)
    grain: Grain | None = None
    colour: ColourMatch | None = None
    seed: int = 0
    plate_fit: ConformMode | None = None             # how a plate of another size is conformed; None: refused
    mark: Mark | None = None                         # watermarks the generated pixels (handed in by the pipeline)
    unkeyed: bool = False                            # a plate with no screen, used as it is over everything
    placed: tuple[Placed | None, ...] = ()           # each element's place, solved on the first frame
    shadow: Shadow | None = None
    relight: Relight | None = None
    managed: ShotColour | None = None                # set: the comp runs in the working space, float32 (OCIO)
    clean_plates: Callable[[int], np.ndarray] | None = None   # the clean plate per frame, as a moving camera sees it
    markers: bool = True                             # key out the screen's tracking markers (comp.markers)
    set_space: str | None = None      # the colour space the set's take recorded; None: made for the generated display

    @classmethod
    def prepare(cls, *, width: int, height: int, frames: int, background: Callable[[int], np.ndarray],
                elements: Sequence[Element] = (), look: Look | None = None, first_plate: np.ndarray | None = None,
                screen: ScreenColour | Literal["auto", "green", "blue"] = "auto",
                key_options: dict[str, Any] | None = None,
                seed: int = 0, plate_fit: ConformMode | None = None, mark: Mark | None = None,
                warn: Callable[[str], None] | None = None, depth: np.ndarray | None = None,
                managed: ShotColour | None = None) -> ShotComp:
        """Measure what holds for the whole shot on its first plate frame: the screen, its grain, the colours,
        where each element goes (``depth``: the set's, for elements placed in metres) and the set's light.

        A plate with no green or blue screen in it is a location plate: it is used as it is, with a warning.
        """
        look = look or Look()
        options = dict(key_options or {})
        if managed is not None and first_plate is not None:
            first_plate = managed.keyable(first_plate)
        comp = cls(width, height, frames, background, tuple(elements), look, options, seed=seed, plate_fit=plate_fit,
                   mark=mark, managed=managed)
        comp.placed = tuple(None if e.placement is None else place(e.placement, e.frame(0), frames=frames, depth=depth)
                            for e in comp.elements)
        if first_plate is None:
            return comp
        try:
            comp.screen = screen if isinstance(screen, ScreenColour) else measure_screen(first_plate, screen)
        except MediaError as exc:
            if warn is not None:
                warn(f"{exc.message}; the plate is used as it is, unkeyed")
            comp.unkeyed = True
            return comp
        # how the plate stores colour holds for the whole shot: read once, so the key cannot flip between frames
        options.setdefault("chroma", measure_chroma(first_plate))
        fg, matte = key(first_plate, comp.screen, **options)
        if matte.shape == (height, width):
            comp.placed = tuple(None if e.placement is None else
                                place(e.placement, e.frame(0), frames=frames, matte=matte, depth=depth)
                                for e in comp.elements)
        if look.shadow > 0 or look.contact > 0 or look.relight > 0:
            light = look.light or light_position(background(0))
            if look.shadow > 0 or look.contact > 0:
                comp.shadow = Shadow(light, cast=look.shadow, contact=look.contact)
            if look.relight > 0:
                comp.relight = Relight.measure(background(0), light, strength=look.relight)
        try:
            if look.grain:
                comp.grain = Grain.measure(first_plate, _open_screen(matte))
                comp.grain.add(background(0), 0, seed)   # builds its noise once, before the frames run in parallel
            if look.match_colour > 0:
                comp.colour = ColourMatch.measure(fg, matte, background(0), strength=look.match_colour)
        except MediaError as exc:   # too little open screen or solid subject on the first frame to measure
            if warn is not None:
                warn(f"{exc.message}; grain and colour are left as they are")
        return comp

    def frame(self, index: int, plate: np.ndarray | None = None, background: np.ndarray | None = None,
              previous: np.ndarray | None = None) -> np.ndarray:
        """The finished comp of frame ``index`` (H×W×3 uint8). ``background`` overrides the set (moving plates)."""
        return self.frame_and_coverage(index, plate, background, previous)[0]

    def frame_and_coverage(self, index: int, plate: np.ndarray | None = None, background: np.ndarray | None = None,
                           previous: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The finished comp of frame ``index`` and each layer's share of its area (see ``comp_frame``)."""
        picture, _, shares = self.comp_frame(index, plate, background, previous)
        return picture, shares

    def comp_frame(self, index: int, plate: np.ndarray | None = None, background: np.ndarray | None = None,
                   previous: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """The finished comp of frame ``index`` and the share of its area each layer shows (see ``layers``).

        Coverage is measured from the mattes as the layers are stacked, on every ``COVERAGE_STEP``-th pixel
        of a grid tied to the frame: a sample of some 30,000 pixels, exact to a fraction of a percent, costing
        well under a millisecond. The plate's share is its matte; a layer placed over others takes its alpha
        from each of them. ``screen`` and ``add`` elements count by their alpha like ``over`` ones. ``previous``
        is the plate of the frame before, which steadies the key (``key(previous=…)``).

        Colour-managed (``managed``), the set and elements enter the working space through the inverse view, the
        plate from its own encoding after its key, and the layers are stacked in float32; the display frame is
        the view of the graded comp, and the second value is the graded comp itself (None when not managed),
        for the EXR master.
        """
        managed = self.managed
        cover = _Coverage(self.height, self.width, len(self.layers))
        picture = given = self.background(index) if background is None else background
        if self.grain is not None:
            picture = self.grain.add(picture, index, self.seed)
        if managed is not None:
            picture = managed.space.from_take(picture, self.set_space)
        shown = self._placed_frames(index)
        picture = self._layer(picture, index, shown, front=False, cover=cover)
        if plate is not None:
            if self.screen is None:
                picture = self._fit(plate)
                if managed is not None:
                    picture = managed.plate(picture)
                cover.place(self._plate_layer, None)
            else:
                keyable = plate if managed is None else managed.keyable(plate)
                steady = previous if previous is not None and previous.shape == plate.shape else None
                if steady is not None and managed is not None:
                    steady = managed.keyable(steady)
                options = self.key_options if self.clean_plates is None else \
                    {**self.key_options, "clean_plate": self.clean_plates(index)}
                fg, matte = key(keyable, self.screen, **options, previous=steady)
                if self.markers:
                    matte = clear_markers(matte, keyable, self.screen)
                if matte.shape != (self.height, self.width):   # keyed at its own size, then conformed
                    rgba = self._fit(np.dstack([fg, matte]))
                    fg, matte = np.ascontiguousarray(rgba[..., :3]), np.ascontiguousarray(rgba[..., 3])
                fg = self._light_actor(fg, matte, shown)
                if self.shadow is not None:
                    picture = self.shadow.apply(picture, matte, in_place=picture is not given)
                if managed is not None:
                    fg = managed.keyed(fg, plate, keyable, matte)
                if self.look.light_wrap > 0:
                    fg = light_wrap(fg, matte, picture, radius=max(2, self.width // 96),
                                    strength=self.look.light_wrap, in_place=True)   # this frame's own key
                picture = blend(fg, matte, picture, out=picture) if managed is not None else over(fg, matte, picture)
                cover.place(self._plate_layer, matte)
        picture = self._layer(picture, index, shown, front=True, cover=cover)
        working = None
        if managed is not None:
            working = managed.grade(picture)
            picture = managed.display(working, self.look.lut)
        elif self.look.lut is not None:
            picture = self.look.lut.apply(picture)
        if self.mark is not None:
            marked = self.mark(picture, where=cover.generated(self._plate_layer))
            if managed is not None and working is not None:     # the EXR master carries it too
                working = managed.space.marked(working, picture, marked)
            picture = marked
        return picture, working, cover.shares()

    def render(self, writers: Sequence[FrameSink], *, plates: Iterator[np.ndarray] | None = None,
               backgrounds: Iterator[np.ndarray] | None = None, threads: int = 2,
               on_frame: Callable[[int], None] | None = None, linear: Sequence[bool] = ()) -> Comped:
        """Comp every frame of the shot into ``writers``, ``threads`` frames at once, in order.

        Plates and moving backgrounds are read in order here, comps run on the pool, finished frames go to the
        writers in order; at most ``2 × threads`` frames are in flight, so memory stays flat however long the
        shot. Returns the frames written and each layer's share of area × time. ``linear[i]`` true: writer ``i``
        (an EXR master) takes the graded scene-linear float32 comp instead of the display frame, when managed.
        """
        pending: deque[Future[tuple[np.ndarray, np.ndarray | None, np.ndarray]]] = deque()
        written = 0
        total = np.zeros(len(self.layers), np.float64)
        previous: np.ndarray | None = None        # each frame is keyed with the plate before it: no flicker
        with ThreadPoolExecutor(threads, thread_name_prefix="comp") as pool:
            try:
                for index in range(self.frames):
                    plate = next(plates) if plates is not None else None
                    backdrop = next(backgrounds) if backgrounds is not None else None
                    pending.append(pool.submit(self.comp_frame, index, plate, backdrop, previous))
                    previous = plate
                    while pending and (len(pending) > 2 * threads or index == self.frames - 1):
                        finished, working, shares = pending.popleft().result()
                        total += shares
                        for number, writer in enumerate(writers):
                            wants = working is not None and number < len(linear) and linear[number]
                            writer.write(working if wants else finished)
                        written += 1
                        if on_frame is not None:
                            on_frame(written)
            finally:
                for future in pending:
                    future.cancel()
        return Comped(written, dict(zip(self.layers, (total / max(written, 1)).tolist(), strict=True)))

    def _fit(self, picture: np.ndarray) -> np.ndarray:
        if picture.shape[:2] == (self.height, self.width):
            return picture
        if self.plate_fit is None:
            raise MediaError(f"plate is {picture.shape[1]}×{picture.shape[0]} but the shot is {self.width}×"
                             f"{self.height}", hint="conform it, or set how (fit or fill)")
        return conform_size(picture, self.width, self.height, self.plate_fit)

    def may_show(self) -> dict[str, float]:
        """Before any frame is comped: 1 for each layer (named as ``layers``) that can show, 0 for one that cannot.

        A plate used as it is covers the set and every element behind it; the rest is for the frames to say.
        """
        hidden = 0.0 if self.unkeyed else 1.0
        return {"background": hidden, **{e.name: 1.0 if e.front else hidden for e in self.elements}, "plate": 1.0}

    @property
    def layers(self) -> tuple[str, ...]:
        """The names coverage is measured for: ``background`` (the set), each element, then ``plate``."""
        return ("background", *(element.name for element in self.elements), "plate")

    @property
    def _plate_layer(self) -> int:
        return len(self.elements) + 1

    def _placed_frames(self, index: int) -> list[np.ndarray | None]:
        """Each element's frame ``index`` moved into place (motion blurred as the look says); None before it starts."""
        shown: list[np.ndarray | None] = []
        for number, element in enumerate(self.elements):
            placed = self.placed[number] if number < len(self.placed) else None
            start = placed.start if placed is not None else 0
            if index < start:
                shown.append(None)
                continue
            rgba = self._moved(element, placed, index, start)
            if self.look.motion_blur > 0 and index > start:
                before = self._moved(element, placed, index - 1, start)
                rgba = motion_blur(rgba, before, shutter=self.look.motion_blur) if self.managed is None or \
                    rgba.dtype != np.uint8 else motion_blurred(self.managed.space, rgba, before,
                                                               shutter=self.look.motion_blur, take_space=element.space)
            shown.append(rgba)
        return shown

    @staticmethod
    def _moved(element: Element, placed: Placed | None, index: int, start: int) -> np.ndarray:
        """Element frame ``index`` where it plays: placed in the frame of the plate's first frame, then moved with
        the camera if it is pinned to the set."""
        rgba = element.frame(index - start)
        if placed is not None:
            rgba = placed.apply(rgba, index)
        return element.pin(rgba, index) if element.pin is not None else rgba

    def _light_actor(self, fg: np.ndarray, matte: np.ndarray, shown: list[np.ndarray | None]) -> np.ndarray:
        """The colour match, the set's key and fill, and the bright elements' light on the actor, before he is
        laid over (on the plate's display code values, before a managed comp takes him into the working space).

        All on the matte's box, in place: ``fg`` is this frame's own key, and outside the box it never shows.
        """
        lights = [rgba for element, rgba in zip(self.elements, shown, strict=True) if element.light and
                  rgba is not None] if self.look.interactive_light > 0 else []
        if self.colour is None and self.relight is None and not lights:
            return fg
        box = content_box(matte, threshold=0)
        if box is None:
            return fg
        x, y, w, h = box
        region = fg[y:y + h, x:x + w]              # a view: each step writes into it
        if self.colour is not None:
            cv2.LUT(region, self.colour.table, dst=region)      # ``ColourMatch.apply``, in place
        light_actor(region, box, matte.shape, relight=self.relight, lights=lights, strength=self.look.interactive_light)
        return fg

    def _layer(self, picture: np.ndarray, index: int, shown: list[np.ndarray | None], *, front: bool,
               cover: _Coverage) -> np.ndarray:
        for number, (element, rgba) in enumerate(zip(self.elements, shown, strict=True), start=1):
            if element.front != front or rgba is None:
                continue
            colour, alpha = (rgba[..., :3], rgba[..., 3]) if self.managed is None else \
                _into_working(self.managed, rgba, element.space)
            if element.wrap and self.look.light_wrap > 0:
                colour = light_wrap(colour, alpha, picture, radius=max(2, self.width // 96),
                                    strength=self.look.light_wrap)
            picture = blend(colour, alpha, picture, element.mode, out=picture if self.managed is not None else None)
            cover.place(number, alpha)
        return picture


def _into_working(managed: ShotColour, rgba: np.ndarray, space: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A generated element's straight colour in the working space, through its take's ``space``, and its alpha
    (8-bit). Taken premultiplied: the inverse of a view's tone curve sends display white to a scene value of
    ~100, so the faint edge of smoke, whose straight colour is near white, would light up as a bright fringe.
    Float pixels (an engine's EXR) are converted as they are."""
    if rgba.dtype != np.uint8:
        matte = np.rint(np.clip(rgba[..., 3], 0.0, 1.0) * 255).astype(np.uint8)
        return managed.space.from_take(np.ascontiguousarray(rgba[..., :3], np.float32), space), matte
    alpha = rgba[..., 3:4].astype(np.float32) * np.float32(1 / 255)
    premultiplied = np.rint(rgba[..., :3] * alpha).astype(np.uint8)
    scene = managed.space.from_take(premultiplied, space)
    return np.divide(scene, alpha, out=np.zeros_like(scene), where=alpha > 0), rgba[..., 3]


COVERAGE_STEP = 8     # every 8th pixel each way: 32,400 samples of a 1080p frame


class _Coverage:
    """Which layer each sampled pixel of one frame shows, as weights that sum to 1 per pixel."""

    def __init__(self, height: int, width: int, layers: int) -> None:
        shape = (len(range(0, height, COVERAGE_STEP)), len(range(0, width, COVERAGE_STEP)))
        self.weights = np.zeros((layers, *shape), np.float32)
        self.weights[0] = 1.0       # the set fills the frame until something is placed over it

    def place(self, layer: int, alpha: np.ndarray | None) -> None:
        """Layer ``layer`` goes over what is there with ``alpha`` (H×W uint8 at the frame's size; None: opaque)."""
        if alpha is None:
            self.weights[:] = 0.0
            self.weights[layer] = 1.0
            return
        a = alpha[::COVERAGE_STEP, ::COVERAGE_STEP].astype(np.float32) * (1 / 255)
        self.weights *= 1.0 - a
        self.weights[layer] += a

    def shares(self) -> np.ndarray:
        return self.weights.mean(axis=(1, 2))

    def generated(self, plate_layer: int) -> np.ndarray:
        """Per sampled pixel, how much of it is generated (everything but the plate), 0…1."""
        return 1.0 - self.weights[plate_layer]


def _open_screen(matte: np.ndarray) -> np.ndarray:
    """Where the plate is open screen (matte at most 32 of 255): where its grain can be measured.

    Not matte 0 alone: on a grainy plate the grain itself lifts a few screen pixels off 0, and a plate with
    σ 6 grain kept none at exactly 0, so the grain meant to be matched went unmeasured.
    """
    return cv2.inRange(matte, 0, 32)

