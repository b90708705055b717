"""The generation step: what a project needs generated, as orders for the take store.

Each location's set is one order, shared by every shot there; each shot adds its elements and, if it asks
for one, a moving background; and where its engine makes sound, each element's sound and the shot's ambience
bed (from its location's words). Continuity: a location seen at several times of day is generated once from
the script and the later sets take the first as a reference, and a shot's background and elements take the
set as a reference, wherever the engine accepts references. A moving background starts from its location's
set still (image-to-video) where the engine takes a first frame, so every shot of the location shares it; a
shot longer than the engine's clip is made as a chain of extensions of one take, each a take of the same
slot, where the engine extends (and refused where the chain would pass its limit). Each join is measured
(:func:`soundstage.pipeline.joins.measure_join`) and a visible one is warned about.

What the crew asks for (a first or last frame, a cast member's references, an extension) is required: an
engine that cannot honour it refuses the take before anything is spent. What soundstage adds for continuity
(the set still as first frame or reference, a style reference, a camera hint) is optional: an engine that
cannot honour it drops it, and ``plan`` lists it as dropped.

A cast member in a shot is one of its elements,
made on its chroma screen from its reference images (``Reference`` role ``subject``), or from its model sheet
(``cast/<name>/sheet``, one order per member) once a take of that is approved.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from soundstage.comp.camera import overscan_size
from soundstage.engines import AssetKind, AssetRequest, Engine, load_engine
from soundstage.engines.base import Honours, Reference, dropped, honours, makes_sound
from soundstage.errors import EngineError, SoundstageError
from soundstage.keys import file_digest
from soundstage.media import conform_size, read_image, write_png
from soundstage.pipeline.cast import read_cast
from soundstage.pipeline.joins import Join, measure_join
from soundstage.project import Project
from soundstage.provenance.credentials import prepare_signing
from soundstage.records.cast import CastMember, sheet_slot
from soundstage.records.take import Take
from soundstage.script.breakdown import Breakdown, SetDesign, Shot
from soundstage.takes import (
    Estimate,
    PriceTable,
    TakeStore,
    background_slot,
    design_key,
    element_slot,
    set_slot,
    sound_slot,
)


@dataclass(frozen=True)
class Order:
    """One take to be had: which slot, from which engine, asked how, and whose take is its reference."""

    slot: str
    engine: str
    request: AssetRequest
    shots: tuple[str, ...]            # the shots that use it
    reference: str | None = None      # the slot whose chosen take steers this one, for continuity
    others: tuple[str, ...] = ()      # shots left out of this run that use it too (a set's other shots)
    chain: tuple[float, ...] = ()     # a long clip made by extension: each part's length, the last the whole

    @cached_property
    def design(self) -> str:
        """Worked out once an order: a page of 500 shots asks for it per slot."""
        return design_key(self.engine, self.request)


@dataclass(frozen=True)
class Conditioning:
    """What steers one order's take, as ``plan`` shows it: the files (or, before they are made, the slots
    they come from), what the engine will drop, and what it cannot do that the take needs (refused)."""

    first_frame: str | None = None
    last_frame: str | None = None
    references: tuple[tuple[str, str], ...] = ()     # (path, role)
    extend: str | None = None                        # the take (or slot) extended
    parts: int = 1                                   # the clips of an extension chain
    dropped: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {"first_frame": self.first_frame, "last_frame": self.last_frame,
                "references": [{"path": path, "role": role} for path, role in self.references],
                "extend": self.extend, "parts": self.parts, "dropped": list(self.dropped)}


@dataclass
class Planned:
    order: Order
    estimate: Estimate | None = None
    error: str = ""
    conditioning: Conditioning | None = None


@dataclass
class Outcome:
    """What ``generate`` did for one order."""

    order: Order
    take: Take | None = None
    made: bool = False          # generated now; False: served from the store
    error: str = ""


@dataclass
class Generation:
    """Orders for a project, and the store and engines that fill them."""

    project: Project
    engine_override: str | None = None
    seed_override: int | None = None
    database: sessionmaker[Session] | None = None    # sessions already open on the project's database
    store: TakeStore = field(init=False)
    warnings: list[str] = field(default_factory=list, init=False)   # joins that show, as they are made
    _engines: dict[str, Engine] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        settings = self.project.settings
        self.store = TakeStore(self.project.state_dir, prices=PriceTable.load(self.project.root),
                               budget=settings.budget, database=self.database or self.project.database,
                               signer=prepare_signing(self.project))

    @cached_property
    def cast(self) -> dict[str, CastMember]:
        """The project's cast members by name, read once."""
        return {member.name: member for member in read_cast(self.project)}

    def engine(self, name: str) -> Engine:
        if name not in self._engines:
            settings = self.project.settings
            self._engines[name] = load_engine(name, settings.engines.get(name), root=self.project.root,
                                              source=self.project.settings_path)
        return self._engines[name]

    # ------------------------------------------------------------------------------------------ orders

    def orders(self, breakdown: Breakdown, shots: Iterable[str] | None = None) -> list[Order]:
        """Sets first (the order they appear in), then each shot's own takes."""
        chosen = None if shots is None else set(shots)
        wanted = [s for s in breakdown.shots if chosen is None or s.id in chosen]
        wanted_ids = {s.id for s in wanted}     # by id: comparing shots (pydantic models) per shot is quadratic
        designs = {d.id: d for d in breakdown.sets}
        settings = self.project.settings
        width, height = overscan_size(*settings.resolution)
        orders: list[Order] = []
        first_at: dict[str, str] = {}           # location → the slot of its first set
        for set_id in dict.fromkeys(s.set for s in wanted):
            design = designs[set_id]
            reference = first_at.setdefault(design.location, set_slot(set_id))
            orders.append(Order(
                slot=set_slot(set_id), engine=self.engine_override or settings.engine,
                request=AssetRequest(kind=AssetKind.SET, prompt=design.prompt, width=width, height=height,
                                     seed=self._seed(settings.seed)),
                shots=tuple(s.id for s in wanted if s.set == set_id),
                reference=None if reference == set_slot(set_id) else reference,
                others=tuple(s.id for s in breakdown.shots if s.set == set_id and s.id not in wanted_ids),
            ))
        orders += self._sheet_orders(wanted)
        sheets = self._approved_sheets()
        for shot in wanted:
            orders += self._shot_orders(shot, sheets)
            orders += self._sound_orders(shot, designs[shot.set])
        return orders

    def _shot_orders(self, shot: Shot, sheets: dict[str, tuple[Reference, ...]] | None = None) -> list[Order]:
        settings = self.project.settings
        width, height = settings.resolution
        engine = self.engine_override or shot.engine or settings.engine
        duration = max(1, round(shot.duration * settings.fps)) / settings.fps   # whole frames
        seed = self._seed(shot.seed)
        orders = []
        if shot.background == "moving":
            frames = {key: self.project.inside(value, source=self.project.shots_file, key=key)
                      for key in ("first_frame", "last_frame") if (value := getattr(shot, key))}
            move = shot.camera.move
            orders.append(Order(background_slot(shot.id), engine, AssetRequest(
                kind=AssetKind.BACKGROUND, prompt=shot.prompt, width=width, height=height, seed=seed,
                duration=duration, fps=settings.fps, camera_hint=None if move == "static" else move.replace("-", " "),
                **frames,
            ), (shot.id,), reference=set_slot(shot.set), chain=self._chain(engine, duration)))
        for name in shot.elements:
            member = self.cast.get(name) if name in shot.cast else None
            if member is not None and member.generated:     # from its approved sheet, else its own references
                references = (sheets or {}).get(name) or subject_references(member.references)
                orders.append(Order(element_slot(shot.id, name), engine, AssetRequest(
                    kind=AssetKind.ELEMENT, prompt=cast_prompt(member), look=settings.look.as_prompt(), element=name,
                    seed=seed, width=width, height=height, duration=duration, fps=settings.fps, screen=member.screen,
                    references=references,
                ), (shot.id,)))
                continue
            orders.append(Order(element_slot(shot.id, name), engine, AssetRequest(
                kind=AssetKind.ELEMENT, prompt=name, look=settings.look.as_prompt(), element=name, seed=seed,
                width=width, height=height, duration=duration, fps=settings.fps,
            ), (shot.id,), reference=set_slot(shot.set)))
        return orders

    def _sheet_orders(self, shots: list[Shot]) -> list[Order]:
        """A model sheet for each generated cast member the shots have: a still of it on its screen, made from
        its references, for the crew to approve once (then every later take of it is made from the sheet)."""
        settings = self.project.settings
        width, height = settings.resolution
        orders = []
        for name in sorted({name for shot in shots for name in shot.cast}):
            member = self.cast.get(name)
            if member is None or not member.generated:
                continue
            orders.append(Order(sheet_slot(name), self.engine_override or settings.engine, AssetRequest(
                kind=AssetKind.SET, prompt=f"{cast_prompt(member)}. {SHEET_PROMPT}", look=settings.look.as_prompt(),
                width=width, height=height, seed=self._seed(settings.seed), screen=member.screen,
                references=subject_references(member.references),
            ), ()))        # no shot's layer: its takes steer the shots' own takes of the member
        return orders

    def _approved_sheets(self) -> dict[str, tuple[Reference, ...]]:
        """Each cast member's approved model sheet, as the reference of its takes: read when the orders are
        written, so a sheet approved since is what the next takes are made from (a new design: new takes)."""
        if not self.cast:
            return {}
        approved = self.store.approved()
        sheets = {}
        for name in self.cast:
            take = approved.get(sheet_slot(name))
            if take is not None:
                sheets[name] = subject_references(self.store.files(self.store.get(take))[:1])
        return sheets

    def _sound_orders(self, shot: Shot, design: SetDesign) -> list[Order]:
        """Each element's sound the shot's engine makes, then the shot's ambience bed, as long as the shot."""
        name = self.engine_override or shot.engine or self.project.settings.engine
        if not self.project.settings.sound.generate:
            return []
        try:
            engine = self.engine(name)
        except SoundstageError:
            return []           # the preflight says why the engine cannot be loaded, once, for its other orders
        duration = max(1, round(shot.duration * self.project.settings.fps)) / self.project.settings.fps
        setting = " ".join(filter(None, [design.location, design.time]))
        wanted = [n for n in dict.fromkeys(shot.elements) if makes_sound(engine, n)]
        return [Order(sound_slot(shot.id, element), name, AssetRequest(
            kind=AssetKind.SOUND, prompt=element or setting, width=0, height=0, seed=self._seed(shot.seed),
            duration=duration, element=element,
        ), (shot.id,)) for element in [*wanted, *([None] if makes_sound(engine, None) else [])]]

    def _chain(self, name: str, duration: float) -> tuple[float, ...]:
        """The parts of a clip longer than the engine makes at once, where it extends: the first as long as it
        makes, each next longer by an extension, the last the whole; () where one clip does (or must)."""
        try:
            honoured = honours(self.engine(name), AssetKind.BACKGROUND)
        except SoundstageError:
            return ()                   # the preflight says why the engine cannot be loaded
        if not (honoured.max_clip and duration > honoured.max_clip + 1e-6 and "extend" in honoured.uses
                and honoured.extend_seconds > 0):
            return ()
        parts = [honoured.max_clip]
        while parts[-1] + 1e-6 < duration:
            parts.append(min(parts[-1] + honoured.extend_seconds, duration))
        return tuple(parts)

    def _seed(self, seed: int) -> int:
        return self.seed_override if self.seed_override is not None else seed

    # ------------------------------------------------------------------------------------------ filling

    def request(self, order: Order) -> AssetRequest:
        """The order's request with its reference take's file, once the reference slot has a take: a moving
        background's first frame where the engine takes one, else a set reference where it takes those."""
        return self._conditioned(order)[0]

    def _conditioned(self, order: Order) -> tuple[AssetRequest, Conditioning]:
        engine = self.engine(order.engine)
        honoured = honours(engine, order.request.kind)
        request, wanted_first = order.request, None
        # The crew's frames are brought to the take's shape; the set still is the take's own (overscan) shape.
        request = replace(request, first_frame=self.conformed(request.first_frame, request),
                          last_frame=self.conformed(request.last_frame, request))
        reference = self.chosen(order.reference) if order.reference else None
        shown = str(self.store.files(reference)[0]) if reference is not None else order.reference
        file = self.store.files(reference)[0] if reference is not None else None
        extra: list[str] = []
        if order.reference and request.kind == AssetKind.BACKGROUND and "first_frame" in honoured.uses:
            if request.first_frame is None:         # else the crew's first frame leads, and the set stays out
                wanted_first = shown
                if file is not None:
                    request = replace(request, first_frame=file)
        elif order.reference and "references:set" in honoured.uses:
            if file is not None:
                request = replace(request, references=(*request.references, Reference(file, "set")))
        elif order.reference:
            extra.append(f"references:set {shown}")      # the engine takes no set: continuity by words alone
        refused, left = dropped(request, honoured)
        refused += self._past_limit(order, honoured)
        shown_refs = tuple((str(r.path), r.role) for r in request.references)
        if order.reference and file is None and "references:set" in honoured.uses and wanted_first is None \
                and not any(r.role == "set" for r in request.references) and request.first_frame is None:
            shown_refs += ((str(shown), "set"),)
        conditioning = Conditioning(
            first_frame=str(request.first_frame) if request.first_frame else wanted_first,
            last_frame=str(request.last_frame) if request.last_frame else None,
            references=shown_refs, extend=str(request.extend) if request.extend else None,
            parts=max(1, len(order.chain)), dropped=tuple(extra + left), refused=tuple(refused))
        return request, conditioning

    def conformed(self, frame: Path | None, request: AssetRequest) -> Path | None:
        """A first or last frame of another aspect ratio than the take, conformed as ``[plates] size`` says
        (fit: bars, fill: cropped) into the state folder, once per file and size; with ``refuse`` it is left as
        it is, for the preflight to refuse (:func:`aspect_differs`)."""
        policy = self.project.settings.plates.size
        if frame is None or policy == "refuse" or not frame.is_file():
            return frame
        try:
            picture = read_image(frame)[..., :3]
        except SoundstageError:
            return frame                    # the preflight says it is not an image
        if not aspect_differs(picture.shape[1], picture.shape[0], request.width, request.height):
            return frame
        target = self.project.state_dir / "conformed" / \
            f"{file_digest(frame)[:16]}-{request.width}x{request.height}-{policy}.png"
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            write_png(target, conform_size(picture, request.width, request.height, policy))
        return target

    @staticmethod
    def _past_limit(order: Order, honoured: Honours) -> list[str]:
        """An extension chain that would pass what the engine extends to."""
        if order.chain and order.chain[-1] > honoured.max_seconds + 1e-6:
            return [f"extend to {order.chain[-1]:g} s (at most {honoured.max_seconds:g} s)"]
        return []

    def conditioning(self, order: Order) -> Conditioning:
        """What steers the order's take, what its engine drops and what it refuses, before anything is sent."""
        return self._conditioned(order)[1]

    def chosen(self, slot: str, design: str | None = None) -> Take | None:
        """The take a render uses for ``slot``: approved, else the newest of the design (any, if not given)."""
        if design is None:
            takes = self.store.takes(slot)
            approved = self.store.approved().get(slot)
            return next((t for t in takes if t.id == approved), takes[-1] if takes else None)
        return self.store.chosen(slot, design)

    def affected(self, order: Order) -> tuple[str, ...]:
        """The other shots a new take of ``order`` changes: they use its slot, and no approved take holds it."""
        return order.others if order.others and order.slot not in self.store.approved() else ()

    def wants_gpu(self, order: Order) -> bool:
        """Whether the order's engine runs a model on this machine's GPU (a service's GPU is not ours)."""
        return bool(getattr(self.engine(order.engine), "wants_gpu", False))

    def make(self, order: Order) -> tuple[Take, bool]:
        """Have the order's take in the store (generating it if needed); True if generated now. A chain makes
        each part in turn, each extending the one before, and measures each join."""
        try:
            request, conditioning = self._conditioned(order)
            if conditioning.refused:
                raise EngineError(f"the {order.engine} engine cannot take {', '.join(conditioning.refused)} for "
                                  f"{order.slot}", hint="choose an engine that does, or shorten the shot")
            engine = self.engine(order.engine)
            if not order.chain:
                return self.store.make(order.slot, engine, request)
            made_any, previous = False, None
            for part in self._parts(order, request):
                if previous is not None:
                    part = replace(part, extend=self.store.files(previous)[0])
                take, made = self.store.make(order.slot, engine, part)
                if previous is not None and made:
                    self._check_join(order, take, previous)
                made_any, previous = made_any or made, take
            assert previous is not None
            return previous, made_any
        except SoundstageError as exc:
            if exc.shot is None and len(order.shots) == 1:
                exc.shot = order.shots[0]
            raise

    @staticmethod
    def _parts(order: Order, request: AssetRequest) -> list[AssetRequest]:
        """Each part's request: the first from the first frame, the last onto the last frame."""
        parts = []
        for index, seconds in enumerate(order.chain):
            last = index == len(order.chain) - 1
            parts.append(replace(request, duration=seconds, first_frame=None if index else request.first_frame,
                                 last_frame=request.last_frame if last else None))
        return parts

    def _check_join(self, order: Order, take: Take, previous: Take) -> Join:
        """How well the extension continues the clip it extends, warned about where it shows."""
        fps = order.request.fps or self.project.settings.fps
        at = round(float(previous.record.request.get("duration") or 0) * fps)
        join = measure_join(self.store.files(take)[0], at)
        if not join.continuous:
            self.warnings.append(f"{order.slot} {take.label}: the join at frame {at} shows ({join.line()})")
        return join

    def generate(self, orders: list[Order], progress: Callable[[Order, int, int], None] | None = None,
                 ) -> list[Outcome]:
        """Make every order's take; one that fails (refused, over budget, timed out) does not stop the rest."""
        outcomes = []
        for index, order in enumerate(orders):
            if progress:
                progress(order, index, len(orders))
            try:
                take, made = self.make(order)
                outcomes.append(Outcome(order, take, made))
            except SoundstageError as exc:
                outcomes.append(Outcome(order, error=str(exc)))
        return outcomes

    def plan(self, orders: list[Order]) -> list[Planned]:
        """Quote and price every order without generating anything (a chain: every part, summed)."""
        planned = []
        for order in orders:
            conditioning = None
            try:
                engine = self.engine(order.engine)
                request, conditioning = self._conditioned(order)
                if conditioning.refused:
                    raise EngineError(f"the {order.engine} engine cannot take {', '.join(conditioning.refused)}")
                estimate = self.store.estimate(order.slot, engine, request) if not order.chain else \
                    self._chain_estimate(order, engine, request)
                planned.append(Planned(order, estimate, conditioning=conditioning))
            except SoundstageError as exc:
                planned.append(Planned(order, error=str(exc), conditioning=conditioning))
        return planned

    def _chain_estimate(self, order: Order, engine: Engine, request: AssetRequest) -> Estimate:
        """A chain's parts quoted as the engine bills them (the first clip, then each extension), as one."""
        parts = self._parts(order, request)
        first = self.store.estimate(order.slot, engine, parts[0])
        quotes = [first.quote] + [engine.quote(replace(p, extend=Path(order.slot))) for p in parts[1:]]
        total = replace(first.quote, quantity=sum(q.quantity for q in quotes))
        design = design_key(order.engine, request)
        return replace(first, quote=total, price=self.store.prices.price(total), design=design,
                       cached=self.store.chosen(order.slot, design) is not None)


# ---------------------------------------------------------------------------------------------- the cast

# What a take of a creature asks for, whatever the engine: the creature alone, opaque, on an even chroma screen
# that soundstage's own keyer takes out (a black ground keyed by luminance would take its dark parts with it).
CAST_PROMPT = ("{description}: the same {name} as in the reference images. Full figure, opaque, alone on a uniform, "
               "evenly lit flat {screen} screen that fills the frame behind it; no shadow on the screen, no ground, "
               "no scenery, no text")
SHEET_PROMPT = "Model sheet: the full figure centred, facing three-quarters, neutral pose"


def cast_prompt(member: CastMember) -> str:
    return CAST_PROMPT.format(description=member.description or member.name, name=member.name,
                              screen=member.screen)


def subject_references(paths: Iterable[Path]) -> tuple[Reference, ...]:
    """Images of a cast member, each steering the take's subject."""
    return tuple(Reference(path, role="subject") for path in paths)


# ---------------------------------------------------------------------------------------------- on a worker

_serving: dict[Path, Generation] = {}


@contextlib.contextmanager
def serving(generation: Generation) -> Iterator[None]:
    """Let ``make_take`` in this process use the render's own Generation (its engines, its database)."""
    _serving[generation.project.root] = generation
    try:
        yield
    finally:
        _serving.pop(generation.project.root, None)


def make_take(project: Project, order: Order, engine_override: str | None, seed_override: int | None,
              progress: Callable[[int, int], None]) -> tuple[Take, bool]:
    """Fill one order, wherever the executor runs it: (the take, whether it was generated now).

    A worker keeps its Generation between orders, so an engine that loads a model loads it once.
    """
    generation = _serving.get(project.root)
    if generation is None or (generation.project, generation.engine_override, generation.seed_override) != \
            (project, engine_override, seed_override):
        generation = _serving[project.root] = Generation(project, engine_override, seed_override)
    take, made = generation.make(order)
    progress(1, 1)
    return take, made


def aspect_differs(width: int, height: int, to_width: int, to_height: int) -> bool:
    """Whether a picture's aspect ratio is another than the frame's (by more than 1%, a pixel's rounding)."""
    return abs(width / height - to_width / to_height) > 0.01 * to_width / to_height
