"""What the review pages show, read from the same services the CLI reads: the breakdown, the take store, the
render ledger and the shot records. Nothing here decides anything; it only gathers and labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from soundstage.db import Approval, Note, ReviewEvent, TakeRecord
from soundstage.errors import ProjectError
from soundstage.pipeline import Generation, ProjectBreakdown, read_breakdown
from soundstage.pipeline.breakdown import breakdown_key, check_breakdown
from soundstage.project import Project
from soundstage.records import Slot, shot_subject
from soundstage.records.cast import sheet_slot
from soundstage.records.shot import read_cut_record, read_shot_record
from soundstage.records.take import Take
from soundstage.script.breakdown import Breakdown, Shot
from soundstage.takes import set_slot
from soundstage.takes.store import as_take

# Folders whose files the app may serve; everything else in the project (the database, the signing keys) never.
SERVED = ("out", "plates", "refs", ".soundstage/takes")
VIDEO = {".mp4", ".mov", ".m4v", ".webm"}
STILL = {".png", ".jpg", ".jpeg", ".webp"}


@dataclass
class TakeView:
    take: Take
    files: list[str]                  # project-relative paths
    approved: bool = False
    used: bool = False
    approved_by: str = ""
    approved_at: datetime | None = None
    notes: list[Note] = field(default_factory=list)

    @property
    def is_video(self) -> bool:
        return len(self.files) == 1 and Path(self.files[0]).suffix.lower() in VIDEO

    @property
    def ai(self) -> bool:
        return self.take.is_ai


@dataclass
class SlotView:
    slot: str
    role: str                         # set, background, element
    name: str
    takes: list[TakeView]
    prompt: str                       # what the script asks for now
    seed: int
    engine: str

    @property
    def used(self) -> TakeView | None:
        return next((t for t in self.takes if t.used), None)

    @property
    def approved(self) -> TakeView | None:
        return next((t for t in self.takes if t.approved), None)

    @property
    def next_seed(self) -> int:
        return max([t.take.seed for t in self.takes] + [self.seed]) + 1


@dataclass
class ShotView:
    shot: Shot
    heading: str
    slots: list[SlotView]
    movie: str | None                 # out/shots/<id>.mp4 when rendered
    rendered_at: datetime | None
    notes: list[Note]
    record: Any = None                # the ShotRecord, when the render wrote one
    review: str = "waiting"           # the review status the crew gave it (review.statuses)

    @property
    def approved_count(self) -> int:
        return sum(1 for s in self.slots if s.approved)

    @property
    def status(self) -> tuple[str, str]:
        """A label and a tone (ok, warn, todo) for the shot's state, as a coordinator would say it."""
        if self.movie is None:
            return "not rendered", "todo"
        newer = [t.take.created_at for s in self.slots if (t := s.used)] + \
            [t.approved_at for s in self.slots if (t := s.approved) and t.approved_at]
        if self.rendered_at and any(moment > self.rendered_at for moment in newer):
            return "needs a render", "warn"
        if self.slots and self.approved_count == len(self.slots):
            return "approved", "ok"
        return f"{self.approved_count} of {len(self.slots)} approved", "warn"


@dataclass
class SceneView:
    id: str
    heading: str
    shots: list[ShotView]


class Dailies:
    """The project as the review pages see it."""

    def __init__(self, project: Project, sessions: sessionmaker[Session]) -> None:
        self.project = project
        self.sessions = sessions
        self._breakdown: tuple[str, ProjectBreakdown] | None = None
        self._film_orders: tuple[Any, list[Any]] | None = None
        self._made: dict[tuple[int, str, str], tuple[Take, list[str]]] = {}   # takes read whole, by id, slot, key

    def generation(self) -> Generation:
        return Generation(self.project, database=self.sessions)

    def breakdown(self) -> Breakdown:
        return self._kept()[1].breakdown

    def _kept(self) -> tuple[str, ProjectBreakdown]:
        """The film's breakdown and its key, made again only when what it is made from changed
        (``breakdown_key``): every page asks for it, and reading and planning 500 shots was most of a page's time."""
        key = breakdown_key(self.project)
        if self._breakdown is not None and self._breakdown[0] == key:
            check_breakdown(self.project, self._breakdown[1])     # a plate deleted since is refused as before
        else:
            self._breakdown = (key, read_breakdown(self.project, lock=False))
        return self._breakdown

    def film(self) -> list[SceneView]:
        key, made = self._kept()
        breakdown = made.breakdown
        generation = self.generation()
        context = self._context(generation, light=True)
        # The film's orders once (as the render makes them), dealt to the shots: asking per shot is quadratic.
        orders = self._orders(key, breakdown, generation, context["approvals"])
        sets = {order.slot: order for order in orders if Slot.parse(order.slot).shot is None}
        own: dict[str, list[Any]] = {}
        for order in orders:
            if (shot_id := Slot.parse(order.slot).shot) is not None:
                own.setdefault(shot_id, []).append(order)
        scenes = []
        for scene in breakdown.scenes:
            shots = [self._shot(breakdown, shot, generation, context,
                                [sets[slot] for slot in [set_slot(shot.set)] if slot in sets] + own.get(shot.id, []))
                     for shot in breakdown.shots if shot.scene == scene.id]
            if shots:
                scenes.append(SceneView(scene.id, _heading(scene), shots))
        return scenes

    def _orders(self, key: str, breakdown: Breakdown, generation: Generation,
                approvals: dict[str, Approval]) -> list[Any]:
        """The film's orders, kept while the breakdown and the approved model sheets (which steer a cast member's
        orders) are the same."""
        sheets = [(slot, approvals[slot].take_id) for slot in map(sheet_slot, generation.cast) if slot in approvals]
        if self._film_orders is None or self._film_orders[0] != (key, sheets):
            self._film_orders = ((key, sheets), generation.orders(breakdown))
        return self._film_orders[1]

    def shot(self, shot_id: str) -> ShotView:
        breakdown = self.breakdown()
        shot = next((s for s in breakdown.shots if s.id == shot_id), None)
        if shot is None:
            raise ProjectError(f"no shot {shot_id!r}")
        generation = self.generation()
        orders = generation.orders(breakdown, [shot.id])
        return self._shot(breakdown, shot, generation, self._context(generation, [o.slot for o in orders]), orders)

    def take(self, take_id: int) -> TakeView:
        store = self.generation().store
        take = store.get(take_id)
        context = self._context(None, [take.slot])
        return self._take(take, store, context, used=None)

    def cut(self) -> tuple[str | None, Any]:
        path = self.project.out_dir / "cut.mp4"
        record = read_cut_record(self.project, [shot.id for shot in self.breakdown().shots]) \
            if path.is_file() else None
        return (self.relative(path) if path.is_file() else None), record

    def reports(self) -> list[str]:
        folder = self.project.out_dir / "reports"
        return sorted(self.relative(p) for p in folder.rglob("*.html")) if folder.is_dir() else []

    def outputs(self) -> list[str]:
        """Finished files whose provenance can be asked for: the cut, the shots, anything else under out/."""
        out = self.project.out_dir
        if not out.is_dir():
            return []
        found = [p for p in out.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO | STILL
                 and ".partial" not in p.name]
        return sorted(self.relative(p) for p in found)

    def spent(self) -> tuple[float, float]:
        """(spent, budget limit), both in the budget's currency."""
        budget = self.project.settings.budget
        return budget.to_currency(self.generation().store.spent_usd()), budget.limit

    def served(self, relative: str) -> Path:
        """The file at ``relative`` if the app may serve it: inside the project, in a served folder, a file."""
        if "\x00" in relative or relative.startswith(("/", "\\")) or len(relative) > 1000:
            raise ProjectError("not a project path")
        try:
            path = self.project.inside(relative, source=self.project.root, key="path")
            if not any(path.is_relative_to(self.project.root / folder) for folder in SERVED):
                raise ProjectError("not a file the review app serves")
            if not path.is_file():
                raise ProjectError("no such file")
        except (OSError, ValueError) as exc:     # a name too long for the file system, say
            raise ProjectError("not a project path") from exc
        return path

    def relative(self, path: Path) -> str:
        if path.is_absolute() and ".." not in path.parts and path.is_relative_to(self.project.root):
            return path.relative_to(self.project.root).as_posix()     # the usual case, without a resolve() per file
        return path.resolve().relative_to(self.project.root).as_posix()

    # ------------------------------------------------------------------------------------------ inside

    def _context(self, generation: Generation | None, slots: list[str] | None = None, *,
                 light: bool = False) -> dict[str, Any]:
        """What a page reads from the database, in a few queries: the approvals, notes and statuses, and (with
        ``generation``) the takes of ``slots`` (every slot if None), by slot, in version order. ``light`` (the
        film page): of each slot only the takes its status needs, the used and the approved one."""
        with self.sessions() as session:
            approvals = {a.slot: a for a in session.scalars(select(Approval))}
            notes = list(session.scalars(select(Note).order_by(Note.id)))
            statuses = {subject: status for subject, status in session.execute(
                select(ReviewEvent.subject, ReviewEvent.status).where(ReviewEvent.kind == "status")
                .order_by(ReviewEvent.id))}
            takes: dict[str, list[Take]] = {}
            if generation is not None:
                query = select(TakeRecord.id, TakeRecord.slot, TakeRecord.key).order_by(TakeRecord.slot,
                                                                                        TakeRecord.version)
                if slots is not None:
                    query = query.where(TakeRecord.slot.in_(slots))
                if light:        # of each slot the takes its status needs: the approved one, the newest of each design
                    newest = select(TakeRecord.slot, TakeRecord.design, func.max(TakeRecord.version).label("version")) \
                        .group_by(TakeRecord.slot, TakeRecord.design).subquery()
                    heads = select(TakeRecord.id).join(newest, (TakeRecord.slot == newest.c.slot)
                                                       & (TakeRecord.design == newest.c.design)
                                                       & (TakeRecord.version == newest.c.version))
                    query = query.where(TakeRecord.id.in_(heads) | TakeRecord.id.in_(select(Approval.take_id)))
                rows = session.execute(query).all()
                unread = [row.id for row in rows if (row.id, row.slot, row.key) not in self._made]
                self._read_takes(session, generation.store, unread)
                for row in rows:
                    takes.setdefault(row.slot, []).append(self._made[row.id, row.slot, row.key][0])
        by_subject: dict[str, list[Note]] = {}
        by_take: dict[int, list[Note]] = {}
        for note in notes:
            by_subject.setdefault(note.subject, []).append(note)
            if note.take_id is not None:
                by_take.setdefault(note.take_id, []).append(note)
        return {"approvals": approvals, "notes": by_subject, "take_notes": by_take, "statuses": statuses,
                "takes": takes}

    def _shot(self, breakdown: Breakdown, shot: Shot, generation: Generation, context: dict[str, Any],
              orders: list[Any] | None = None) -> ShotView:
        store = generation.store
        slots = []
        for order in orders if orders is not None else generation.orders(breakdown, [shot.id]):
            made = context["takes"].get(order.slot, [])
            used = _chosen(made, context["approvals"].get(order.slot), order.design)
            takes = [self._take(t, store, context, used=used.id if used else None) for t in made]
            slot = Slot.parse(order.slot)
            slots.append(SlotView(order.slot, slot.role, slot.name, takes, order.request.prompt, order.request.seed,
                                  order.engine))
        movie = self.project.out_dir / "shots" / f"{shot.id}.mp4"
        rendered = movie.is_file()       # asked once: a film page asks it of every shot
        rendered_at = datetime.fromtimestamp(movie.stat().st_mtime, UTC).replace(tzinfo=None) if rendered else None
        subject = shot_subject(shot.id)
        notes = context["notes"].get(subject, [])
        record = read_shot_record(self.project, shot.id) if rendered else None
        scene = next((s for s in breakdown.scenes if s.id == shot.scene), None)
        return ShotView(shot, _heading(scene) if scene else shot.scene, slots,
                        self.relative(movie) if rendered else None, rendered_at, notes, record,
                        context["statuses"].get(subject) or "waiting")

    def _read_takes(self, session: Session, store: Any, ids: list[int]) -> None:
        """Read whole the takes of ``ids`` (their take.json parsed, their files named) into the kept ones.

        A take is never rewritten, so it is read once for the life of the app, not per page; kept by id, slot and
        key, so a database rebuilt under the app (``soundstage db rebuild``) never shows another take's record."""
        for start in range(0, len(ids), 500):
            for row in session.scalars(select(TakeRecord).where(TakeRecord.id.in_(ids[start:start + 500]))):
                take = as_take(row)
                self._made[row.id, row.slot, row.key] = (take, [self.relative(p) for p in store.files(take)])

    def _take(self, take: Take, store: Any, context: dict[str, Any], used: int | None) -> TakeView:
        approval = context["approvals"].get(take.slot)
        approved = approval is not None and approval.take_id == take.id
        kept = self._made.get((take.id, take.slot, take.key))
        files = list(kept[1]) if kept and kept[0] is take else [self.relative(p) for p in store.files(take)]
        return TakeView(take, files, approved=approved, used=used == take.id,
                        approved_by=approval.approved_by if approved else "",
                        approved_at=approval.approved_at if approved else None,
                        notes=context["take_notes"].get(take.id, []))


def _chosen(takes: list[Take], approval: Approval | None, design: str) -> Take | None:
    """The take the render uses (as ``TakeStore.chosen`` says): the approved one, else the newest of the design."""
    if approval is not None:
        return next((t for t in takes if t.id == approval.take_id), None)
    return next((t for t in reversed(takes) if t.design == design), None)


def _heading(scene: Any) -> str:
    return " ".join(filter(None, (scene.int_ext, scene.location, "–", scene.time_original or ""))).strip(" –")
