"""The take store: every generation result, content-addressed, versioned per slot, priced and within budget.

A *slot* is one place in the film that a take fills: ``set/<set-id>`` (a location's set, shared by all its
shots), ``shot/<id>/background``, ``shot/<id>/element/<name>`` and ``shot/<id>/sound/<name>``.

- The take's *key* hashes the engine, model, the engine's options, the request and its reference files. The
  same key is served from the store and costs nothing, whichever slot asks.
- Its *design* hashes what the crew chose (the engine, and the kind, prompt, look, size, timing and element
  asked of it): takes of one design with other seeds are alternatives, and the newest (or the approved one)
  is used. A take from another engine is used once it is approved.
- Takes are numbered per slot (v001, v002…) and never overwritten; one per slot may be approved.
- Before a paid request is sent, its price is reserved against the budget in one transaction, so two
  processes cannot both spend the last of it. The request that would cross the budget is not sent.
- The engine writes into a private folder that is renamed into place only when the take is complete, with a
  ``take.json`` recording how it was made. A killed run leaves no half take behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from soundstage import __version__, journal
from soundstage.atomic import write_text
from soundstage.db import DB_FILE, Approval, Note, ReviewEvent, Spend, TakeRecord, now, open_database
from soundstage.engines import AssetRequest, Engine, HTTPOptions, Quote
from soundstage.errors import BudgetError, EngineTimeout, ProjectError
from soundstage.keys import content_key, file_digest
from soundstage.media import STILL_SUFFIXES, read_image
from soundstage.project import shown_in
from soundstage.provenance.credentials import sign_take
from soundstage.provenance.signer import SigningIdentity
from soundstage.records import Slot
from soundstage.records.settings import Budget
from soundstage.records.source import AssetKind
from soundstage.records.take import Take, TakeFile, TakePrice
from soundstage.takes.prices import Price, PriceTable

TAKES_DIR = "takes"
TAKE_FILE = "take.json"
_PARTIAL = ".partial-"
_HOST = socket.gethostname().replace("-", "_")     # in a half take's name, so each machine sweeps only its own
# Options that change how an engine is reached, not what it makes: they never change a take's key.
_TRANSPORT = frozenset(HTTPOptions.model_fields) | {"device", "dtype"}


def set_slot(set_id: str) -> str:
    return str(Slot.set(set_id))


def element_slot(shot_id: str, element: str) -> str:
    return str(Slot.of_element(shot_id, element))


def background_slot(shot_id: str) -> str:
    return str(Slot.background(shot_id))


def sound_slot(shot_id: str, element: str | None = None) -> str:
    """An element's sound in the shot; with no element, the shot's ambience bed."""
    return str(Slot.sound(shot_id, element))


@dataclass(frozen=True)
class Estimate:
    """A request quoted and priced, before anything is sent."""

    slot: str
    key: str
    design: str
    quote: Quote
    price: Price
    cached: bool          # already in the store: costs nothing


class TakeStore:
    def __init__(self, state_dir: Path, *, prices: PriceTable, budget: Budget,
                 database: str | Path | sessionmaker[Session] | None = None,
                 signer: SigningIdentity | None = None) -> None:
        """``database``: a URL, a SQLite path, or sessions already open on it; the project's SQLite by default.

        ``signer``: who signs each new take's files with its content credentials; None leaves them unsigned.
        """
        self.state_dir = state_dir
        self.signer = signer
        self.folder = state_dir / TAKES_DIR
        self.prices = prices
        self.budget = budget
        self._sessions: sessionmaker[Session] = database if isinstance(database, sessionmaker) else \
            open_database(database or state_dir / DB_FILE)
        self._sweep_partials()

    # ------------------------------------------------------------------------------------------ asking

    def estimate(self, slot: str, engine: Engine, request: AssetRequest) -> Estimate:
        quote = engine.quote(request)
        key = take_key(engine, quote, request)
        with self._sessions() as session:
            cached = session.scalar(select(TakeRecord.id).where(TakeRecord.key == key).limit(1)) is not None
        cached = cached or (self._final_folder(key) / TAKE_FILE).is_file()
        return Estimate(slot, key, design_key(engine.name, request), quote, self.prices.price(quote), cached)

    def spent_usd(self) -> float:
        """Settled spending plus reservations still open (a killed run's request may have been billed)."""
        with self._sessions() as session:
            return _spent(session)

    def takes(self, slot_prefix: str = "") -> list[Take]:
        with self._sessions() as session:
            query = select(TakeRecord).order_by(TakeRecord.slot, TakeRecord.version)
            if slot_prefix:
                query = query.where((TakeRecord.slot == slot_prefix) | TakeRecord.slot.startswith(slot_prefix + "/"))
            return [as_take(row) for row in session.scalars(query)]

    def get(self, take_id: int) -> Take:
        with self._sessions() as session:
            take = session.get(TakeRecord, take_id)
            if take is None:
                raise ProjectError(f"no take with id {take_id} in the project database")
            return as_take(take)

    def approved(self) -> dict[str, int]:
        """slot → the approved take's id."""
        with self._sessions() as session:
            return {a.slot: a.take_id for a in session.scalars(select(Approval))}

    def approvals(self) -> dict[str, Approval]:
        """slot → its approval: which take, by whom, when."""
        with self._sessions() as session:
            return {a.slot: a for a in session.scalars(select(Approval))}

    def chosen(self, slot: str, design: str) -> Take | None:
        """The take the render uses: the approved one, else the newest take of this design."""
        with self._sessions() as session:
            approval = session.get(Approval, slot)
            if approval is not None:
                row = session.get(TakeRecord, approval.take_id)
            else:
                row = session.scalar(select(TakeRecord).where(TakeRecord.slot == slot, TakeRecord.design == design)
                                     .order_by(TakeRecord.version.desc()).limit(1))
            return as_take(row) if row is not None else None

    def files(self, take: Take) -> list[Path]:
        folder = self.state_dir / take.folder
        return [folder / name for name in take.record.files]

    # ------------------------------------------------------------------------------------------ making

    def make(self, slot: str, engine: Engine, request: AssetRequest) -> tuple[Take, bool]:
        """The take for this request in this slot, generating it only if the store does not have it.

        Returns the take and whether it was generated now (False: served from the store, at no cost).
        """
        estimate = self.estimate(slot, engine, request)
        found = self._served(slot, estimate)
        if found is not None:
            return found, False
        spend_id = self._reserve(estimate)
        partial = self.folder / f"{_PARTIAL}{_HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        partial.mkdir(parents=True)
        try:
            generated = engine.generate(request, partial)
        except BaseException as exc:
            shutil.rmtree(partial, ignore_errors=True)
            # A timed-out job may still run and bill at the service; anything else was not made.
            self._close_spend(spend_id, None if isinstance(exc, EngineTimeout) else 0.0)
            raise
        actual = self.prices.price(Quote(generated.engine, generated.model, generated.unit, generated.quantity))
        record = TakeFile(
            slot=slot, key=estimate.key, design=estimate.design, kind=request.kind.value,
            engine=generated.engine, model=generated.model, engine_version=generated.version,
            source_type=generated.source_type.value, request=_request_record(request, self.state_dir.parent),
            parameters=generated.parameters, files=tuple(p.relative_to(partial).as_posix() for p in generated.files),
            unit=generated.unit, quantity=generated.quantity, cost_usd=actual.usd,
            price=TakePrice(**actual.line.model_dump()), seconds=generated.seconds,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"), soundstage=__version__,
            colour_space=take_colour_space(request.kind, generated.parameters),
        )
        try:
            if self.signer is not None:
                sign_take(generated.files, record, self.signer, inputs=_inputs(request))
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            self._close_spend(spend_id, actual.usd)     # made and billed, even if it could not be signed
            raise
        write_text(partial / TAKE_FILE, record.to_json())
        final = self._final_folder(estimate.key)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            partial.rename(final)
        except OSError:
            # Another process finished the same take first; theirs is identical by key, keep it.
            shutil.rmtree(partial, ignore_errors=True)
        self._close_spend(spend_id, actual.usd)
        return self._record(slot, estimate, json.loads((final / TAKE_FILE).read_text("utf-8"))), True

    def approve(self, slot: str, version: int, by: str = "") -> Take:
        with self._sessions.begin() as session:
            take = session.scalar(select(TakeRecord).where(TakeRecord.slot == slot, TakeRecord.version == version))
            if take is None:
                have = ", ".join(t.label for t in session.scalars(select(TakeRecord).where(TakeRecord.slot == slot)))
                raise ProjectError(f"slot {slot} has no take v{version:03d}"
                                   + (f" (it has {have})" if have else " (it has no takes yet)"))
            approval = session.merge(Approval(slot=slot, take_id=take.id, approved_by=by, approved_at=now()))
            session.add(ReviewEvent(subject=slot, kind="approved", take_id=take.id, version=version, by=by,
                                    at=approval.approved_at))
            approved = as_take(take)
        journal.append(self.state_dir, "approval", slot=slot, version=version, by=by, at=approval.approved_at)
        return approved

    def add_note(self, subject: str, body: str, *, by: str = "", version: int | None = None,
                 frame: int | None = None, drawing: list[Any] | None = None) -> Note:
        """A note on a shot (``shot/3-1``) or a slot, or with ``version`` on one of the slot's takes; on a
        ``frame`` (0 = the shot's first), with a ``drawing`` there. Kept for good: a later note answers an
        earlier one, it never replaces it."""
        if not body.strip():
            raise ProjectError("a note needs some text")
        with self._sessions.begin() as session:
            take_id = None
            if version is not None:
                take_id = session.scalar(select(TakeRecord.id).where(TakeRecord.slot == subject,
                                                                     TakeRecord.version == version))
                if take_id is None:
                    raise ProjectError(f"slot {subject} has no take v{version:03d}")
            note = Note(subject=subject, take_id=take_id, body=body.strip(), author=by, created_at=now(),
                        frame=frame, drawing=drawing)
            session.add(note)
            session.flush()
        journal.append(self.state_dir, "note", id=note.id, subject=subject, version=version, body=note.body, by=by,
                       at=note.created_at, frame=frame, drawing=drawing)
        return note

    def notes(self, subject: str = "") -> list[Note]:
        """Notes on ``subject`` and everything under it (``shot/3-1`` includes ``shot/3-1/element/fire``)."""
        with self._sessions() as session:
            query = select(Note).order_by(Note.id)
            if subject:
                query = query.where((Note.subject == subject) | Note.subject.startswith(subject + "/"))
            return list(session.scalars(query))

    def unapprove(self, slot: str, by: str = "") -> None:
        at = now()
        with self._sessions.begin() as session:
            approval = session.get(Approval, slot)
            if approval is not None:
                session.delete(approval)
                session.add(ReviewEvent(subject=slot, kind="unapproved", take_id=approval.take_id, by=by, at=at))
        journal.append(self.state_dir, "unapproval", slot=slot, by=by, at=at)

    def history(self, subject: str = "") -> list[ReviewEvent]:
        """Every approval, withdrawal and status change of ``subject`` and everything under it, oldest first."""
        with self._sessions() as session:
            query = select(ReviewEvent).order_by(ReviewEvent.id)
            if subject:
                query = query.where((ReviewEvent.subject == subject) | ReviewEvent.subject.startswith(subject + "/"))
            return list(session.scalars(query))

    def set_status(self, shot_subject: str, status: str, by: str = "") -> ReviewEvent:
        """A shot's review status from now on (waiting, wip, review, retake, approved, final), kept in history."""
        with self._sessions.begin() as session:
            event = ReviewEvent(subject=shot_subject, kind="status", status=status, by=by, at=now())
            session.add(event)
            session.flush()
        journal.append(self.state_dir, "status", subject=shot_subject, status=status, by=by, at=event.at)
        return event

    # ------------------------------------------------------------------------------------------ inside

    def _served(self, slot: str, estimate: Estimate) -> Take | None:
        """The take with this key, in this slot or another (then recorded here too), or adopted from disk."""
        with self._sessions() as session:
            here = session.scalar(select(TakeRecord).where(TakeRecord.slot == slot, TakeRecord.key == estimate.key))
            if here is not None:
                return as_take(here)
        take_file = self._final_folder(estimate.key) / TAKE_FILE
        if take_file.is_file():
            return self._record(slot, estimate, json.loads(take_file.read_text("utf-8")), served=True)
        return None

    def _record(self, slot: str, estimate: Estimate, record: dict[str, Any], served: bool = False) -> Take:
        """Number a take in its slot. Served from the store, it costs this slot nothing."""
        with self._sessions.begin() as session:
            _hold_the_books(session)     # two processes numbering the same slot must not both pick v001
            existing = session.scalar(select(TakeRecord).where(TakeRecord.slot == slot,
                                                               TakeRecord.key == estimate.key))
            if existing is not None:
                return as_take(existing)
            version = (session.scalar(select(func.max(TakeRecord.version)).where(TakeRecord.slot == slot)) or 0) + 1
            take = take_row(slot, version, estimate.key, estimate.design, record,
                            self._final_folder(estimate.key).relative_to(self.state_dir).as_posix(), served=served)
            take.created_at = now()
            session.add(take)
            session.flush()
            numbered = as_take(take)
        # The take's folder holds how it was made; this keeps its number, in this slot, as the crew knows it.
        journal.append(self.state_dir, "take", id=numbered.id, slot=slot, version=version, key=estimate.key,
                       served=served, at=numbered.created_at)
        return numbered

    def _reserve(self, estimate: Estimate) -> int | None:
        """Hold the quoted price against the budget, or refuse before anything is sent."""
        usd = estimate.price.usd
        if usd <= 0:
            return None
        budget = self.budget
        with self._sessions.begin() as session:
            _hold_the_books(session)
            spent = _spent(session)
            if budget.to_currency(spent + usd) > budget.limit + 1e-9:
                left = max(budget.limit - budget.to_currency(spent), 0.0)
                raise BudgetError(
                    f"{estimate.slot}: this take would cost {budget.show(usd)} ({estimate.quote.quantity:g} "
                    f"{estimate.quote.unit} of {estimate.quote.model}) but only {budget.show(left, converted=True)} "
                    f"of the {budget.show(budget.limit, converted=True)} budget is left",
                    hint="raise [budget] limit in soundstage.toml, or use a cheaper engine",
                )
            spend = Spend(slot=estimate.slot, key=estimate.key, engine=estimate.quote.engine,
                          model=estimate.quote.model, unit=estimate.quote.unit, quantity=estimate.quote.quantity,
                          usd=usd, status="reserved")
            session.add(spend)
            session.flush()
            return spend.id

    def _close_spend(self, spend_id: int | None, usd: float | None) -> None:
        """Settle at the actual price, release (usd == 0 on failure), or leave reserved (usd None)."""
        if spend_id is None or usd is None:
            return
        with self._sessions.begin() as session:
            spend = session.get(Spend, spend_id)
            if spend is not None:
                spend.usd, spend.status = usd, "settled" if usd > 0 else "released"

    def _final_folder(self, key: str) -> Path:
        return self.folder / key[:20]      # 80 bits: no two takes of one project will meet

    def _sweep_partials(self) -> None:
        """Remove half-made takes left by runs that were killed: made on this machine, by a process now gone.

        On a cluster the takes folder is shared, so another machine's half take is never touched from here.
        """
        if not self.folder.is_dir():
            return
        for partial in self.folder.glob(f"{_PARTIAL}{_HOST}-*"):
            pid = partial.name.removeprefix(f"{_PARTIAL}{_HOST}-").split("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(partial, ignore_errors=True)


def take_row(slot: str, version: int, key: str, design: str, record: dict[str, Any], folder: str, *,
             served: bool = False) -> TakeRecord:
    """The database row of a take from its take.json ``record``; served from the store, it cost this slot nothing."""
    made = TakeFile.from_dict(record)
    return TakeRecord(
        slot=slot, version=version, key=key, design=design, kind=made.kind,
        engine=made.engine, model=made.model, engine_version=made.engine_version,
        source_type=made.source_type, prompt=made.request["prompt"], seed=made.request["seed"],
        folder=folder, record=record, cost_usd=0.0 if served else float(made.cost_usd),
        seconds=0.0 if served else float(made.seconds),
    )


def as_take(row: TakeRecord) -> Take:
    """The typed take of a database row (the row's take.json kept whole, so old projects read as they are)."""
    return Take(row.id, row.slot, row.version, row.key, row.design, row.folder, row.cost_usd, row.seconds,
                row.created_at, TakeFile.from_dict(row.record))


def _hold_the_books(session: Session) -> None:
    """Let one transaction at a time read-then-write the books (the budget, a slot's numbering), until it ends.

    SQLite's BEGIN IMMEDIATE already does. PostgreSQL's READ COMMITTED lets two transactions read the same total
    and both spend the last of it, so take a transaction-scoped advisory lock before reading.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(0x736E647374616765)))   # "sndstage": the books' lock


def _spent(session: Session) -> float:
    return float(session.scalar(select(func.coalesce(func.sum(Spend.usd), 0.0))
                                .where(Spend.status.in_(("reserved", "settled")))) or 0.0)


def take_key(engine: Engine, quote: Quote, request: AssetRequest) -> str:
    options = {k: v for k, v in _options(engine).items() if k not in _TRANSPORT}
    fields = {k: v for k, v in asdict(request).items() if k not in _CONDITIONING_FILES and k != "references"
              and not (k in _LATER and v is None)}
    # A set reference keys as its digest alone (as before conditioning, so old takes are still found); the
    # other roles and the frames key as their role and digest.
    steering = [file_digest(Path(r.path)) if r.role == "set" else [r.role, file_digest(Path(r.path))]
                for r in request.references]
    steering += [[name, _shown_digest(Path(path))] for name in _CONDITIONING_FILES
                 if (path := getattr(request, name)) is not None]
    return content_key("take", engine.name, quote.model, options, fields, steering)


_LATER = frozenset({"camera_hint", "screen"})   # request fields added since takes were first keyed: unset, keys stay


def design_key(engine: str, request: AssetRequest) -> str:
    """What the crew asked for and of which engine, whatever seed answers it: with whom, for a cast member (the
    images of its subject: its references, or its approved model sheet)."""
    subjects = [file_digest(Path(r.path)) for r in request.references if r.role == "subject"]
    return content_key("design", engine, request.kind.value, request.prompt, request.look, request.negative_prompt,
                       request.width, request.height, request.duration, request.fps, request.element,
                       *([subjects, request.screen] if subjects or request.screen else []))


def _options(engine: Engine) -> dict[str, Any]:
    options = getattr(engine, "options", None)
    return options.model_dump(mode="json") if options is not None else {}


def _request_record(request: AssetRequest, project_root: Path) -> dict[str, Any]:
    record = asdict(request)
    record["kind"] = request.kind.value
    record["references"] = [{"path": shown_in(Path(r.path), project_root), "sha256": file_digest(Path(r.path)),
                             "role": r.role} for r in request.references]
    for name in _CONDITIONING_FILES:
        path = getattr(request, name)
        record[name] = None if path is None else {"path": shown_in(Path(path), project_root),
                                                  "sha256": file_digest(Path(path))}
    return record


_CONDITIONING_FILES = ("first_frame", "last_frame", "extend")    # the files a request carries besides references


def _shown_digest(path: Path, _memo: dict[tuple[str, int, int], str] = {}) -> str:  # noqa: B006 - a memo by design
    """What a still shows (its pixels), else the file's bytes. A take's files carry a C2PA manifest with new
    bytes at every signing, so a set still made again would key its moving background as another take."""
    if path.suffix.lower() not in STILL_SUFFIXES:
        return file_digest(path)
    stat = path.stat()
    memo_key = (str(path), stat.st_size, stat.st_mtime_ns)
    if memo_key not in _memo:
        pixels = read_image(path)
        _memo[memo_key] = content_key("pixels", pixels.shape, hashlib.sha256(pixels.tobytes()).hexdigest())
    return _memo[memo_key]


def _inputs(request: AssetRequest) -> list[tuple[Path, str]]:
    """The images that steer a request, each with its part: its references by role, then its first and last
    frames and the take it extends, where it has them."""
    frames = [(Path(path), part) for part in _CONDITIONING_FILES if (path := getattr(request, part)) is not None]
    return [*((Path(r.path), r.role) for r in request.references), *frames]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


GENERATED_SPACE = "sRGB - Display"   # web image and video models make display-referred sRGB pictures


def take_colour_space(kind: AssetKind, parameters: dict[str, Any]) -> str:
    """The colour space a take's pictures are in: what the engine said (``parameters["colour_space"]``), else
    sRGB's display; none for sound."""
    if kind == AssetKind.SOUND:
        return ""
    return str(parameters.get("colour_space") or GENERATED_SPACE)
