"""The disclosure report: what in the film is AI-made and what is human, in the terms registration asks for.

Korea's registration guide for works made with generative AI (Ministry of Culture / Korea Copyright Commission,
June 2025) and the US Copyright Office (88 FR 16190) both want the AI-generated parts set apart from the human
contribution, the AI tools named with their versions, and the process described. Nothing here is guessed:

- the shares of frame area × time come from the shot records (``records.shot``), measured from each comp's
  mattes while the shot rendered;
- the tools, versions, prompts and seeds come from the takes those records name;
- the human side is the screenplay's title page, the plates, the take store's approvals and notes, the crew's
  settings in ``shots.toml`` and ``soundstage.toml``, and the cut order;
- the deliverable's state is read back from its C2PA manifest;
- the sound's recorded and generated shares are the seconds each layer of a shot's sound is heard, as its shot
  record lists them (``SoundRecord``); a shot whose record lists no sound is "not measured", never 0%.

It records facts only. Which parts a registration may claim is for a person with counsel to decide.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from soundstage.comp.shot import COVERAGE_STEP
from soundstage.errors import ProjectError, SoundstageError
from soundstage.pipeline.breakdown import ProjectBreakdown, read_breakdown
from soundstage.project import Project, shown_in
from soundstage.provenance import verify_file
from soundstage.records import is_ai
from soundstage.records.settings import STEMS
from soundstage.records.shot import CutRecord, LayerRecord, ShotRecord, SoundRecord, read_shot_record
from soundstage.reports.page import render_report, translator, write_report
from soundstage.words import words_of

WORDS = words_of("disclosure")     # English → Korean, and the named sentences: soundstage/words/disclosure.toml
NOT_APPROVED = WORDS.text("not_approved")
PROMPT_NOTE = WORDS.text("prompt_note")
COUNSEL = WORDS.text("counsel")
TRIVIAL = WORDS.text("trivial")
METHOD = WORDS.text("method")
PART = WORDS.text("part")
SCRIPT_SENTENCE = WORDS.text("script_sentence")
PLATES_SENTENCE = WORDS.text("plates_sentence")
NO_PLATES_SENTENCE = WORDS.text("no_plates_sentence")
AI_SENTENCE = WORDS.text("ai_sentence")
NO_AI_SENTENCE = WORDS.text("no_ai_sentence")
PROCEDURAL_SENTENCE = WORDS.text("procedural_sentence")
TAKES_SENTENCE = WORDS.text("takes_sentence")
APPROVED_SENTENCE = WORDS.text("approved_sentence")
UNAPPROVED_SENTENCE = WORDS.text("unapproved_sentence")
COMP_SENTENCE = WORDS.text("comp_sentence")
MEASURED_SENTENCE = WORDS.text("measured_sentence")
UNLABELLED = WORDS.text("unlabelled")
MIXED = WORDS.text("mixed")
APPROVED_LATER = WORDS.text("approved_later")
WITHDRAWN = WORDS.text("withdrawn")
OMITTED = WORDS.text("omitted")
OMITTED_RENUMBERED = WORDS.text("omitted_renumbered")
NO_APPROVALS = WORDS.text("no_approvals")
SOUND_METHOD = WORDS.text("sound_method")
SOUND_SENTENCE = WORDS.text("sound_sentence")
NO_SOUND_SENTENCE = WORDS.text("no_sound_sentence")
SOUND_PART = WORDS.text("sound_part")
TITLE_KEYS = ("Title", "Credit", "Author", "Authors", "Written by", "Source", "Draft date", "Copyright", "Contact")


# ---------------------------------------------------------------------------------------------- the facts


class _OverRecord:
    """A view over one record: the record's fields read as the view's own, beside what the report adds."""

    record: Any

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "record":
            raise AttributeError(name)
        return getattr(self.record, name)


@dataclass(frozen=True)
class Layer(_OverRecord):
    """One generated layer of one shot: its shot record's layer, with its approval as the store says it now."""

    shot: str
    record: LayerRecord

    @property
    def take(self) -> str:
        return self.record.version

    @property
    def ai(self) -> bool:
        return self.record.is_ai

    @property
    def chosen_how(self) -> str:
        return "approved" if self.record.approved_by else NOT_APPROVED

    def to_dict(self) -> dict[str, Any]:
        made = self.record
        return {"shot": self.shot, "slot": made.slot, "role": made.role, "name": made.name, "take": self.take,
                "take_id": made.take_id, "engine": made.engine, "model": made.model,
                "engine_version": made.engine_version, "source_type": made.source_type, "ai": self.ai,
                "prompt": made.prompt, "seed": made.seed, "share": made.share, "approved_by": made.approved_by,
                "approved_at": made.approved_at}


@dataclass(frozen=True)
class Shot(_OverRecord):
    """One shot of the cut: its shot record, what the crew set for it, and its file's manifest."""

    record: ShotRecord
    layers: tuple[Layer, ...]
    edits: tuple[str, ...]       # what the crew set for this shot in shots.toml
    signed: str                  # the shot file's manifest: Trusted, Valid, Invalid, none, missing

    @property
    def scene(self) -> str:
        return str(self.record.scene)

    @property
    def procedural_share(self) -> float:
        return max(self.record.generated_share - self.record.ai_share, 0.0)

    @property
    def seconds(self) -> float:
        return self.frames / self.fps if self.fps else 0.0


@dataclass(frozen=True)
class Tool:
    """One engine, model and version, with where it was used and how much of the cut it fills."""

    engine: str
    model: str
    engine_version: str
    source_type: str
    ai: bool
    slots: tuple[str, ...]
    shots: tuple[str, ...]
    share_of_cut: float


@dataclass(frozen=True)
class Selection:
    """One slot of the film: how many takes were made for it, which one the cut uses, and who chose it."""

    slot: str
    shots: tuple[str, ...]
    takes_made: int
    chosen: str
    approved_by: str | None
    approved_at: str | None
    approved_now: str | None     # the store's approval today, when it is not the take the render used

    @property
    def how(self) -> str:
        return "approved" if self.approved_by else NOT_APPROVED


@dataclass(frozen=True)
class Performance:
    plate: str
    shots: tuple[str, ...]
    frames: int
    shares: tuple[float, ...]    # per shot
    share_of_cut: float
    characters: tuple[str, ...]  # who the screenplay puts in those scenes


@dataclass(frozen=True)
class CrewNote:
    subject: str
    take: str | None
    author: str
    body: str
    written_at: str


@dataclass(frozen=True)
class Deliverable:
    file: str
    state: str                   # Trusted, Valid, Invalid, none (unsigned), missing
    ok: bool
    tampered: bool
    signer: str | None
    errors: tuple[str, ...]
    label_policy: str
    trust: str | None = None     # the root certificate it was checked against: the project's own


@dataclass(frozen=True)
class CastReference:
    """A person's drawing or photo of a cast member, which steered its takes: human work the film uses."""

    member: str
    file: str
    made: str                    # drawing or photo (records.cast.HUMAN_MADE)
    shots: tuple[str, ...]       # the shots of the cut it is in


@dataclass(frozen=True)
class Disclosure:
    title: str
    fps: float
    shots: tuple[Shot, ...]
    cut: CutRecord
    tools: tuple[Tool, ...]
    selections: tuple[Selection, ...]
    performances: tuple[Performance, ...]
    screenplay: dict[str, Any]
    film_settings: tuple[str, ...]
    notes: tuple[CrewNote, ...]
    look: str
    deliverable: Deliverable
    warnings: tuple[tuple[str, dict[str, str]], ...] = field(default=())   # (sentence, its values)
    omitted: tuple[tuple[str, str], ...] = field(default=())   # (shot, why): in the plan, not in the report
    references: tuple[CastReference, ...] = field(default=())  # the cast's human-made references in the cut

    def warned(self, t: Callable[[str], str] = str) -> list[str]:
        return [t(sentence).format(**values) for sentence, values in self.warnings]

    @property
    def seconds(self) -> float:
        return self.cut.frames / self.fps if self.fps else 0.0

    @property
    def procedural_share(self) -> float:
        return max(self.cut.generated_share - self.cut.ai_share, 0.0)

    @property
    def layers(self) -> list[Layer]:
        return [layer for shot in self.shots for layer in shot.layers]

    @property
    def takes_made(self) -> int:
        return sum(s.takes_made for s in self.selections)

    @property
    def approved(self) -> int:
        return sum(1 for s in self.selections if s.approved_by)


def disclosure(project: Project, read: ProjectBreakdown | None = None) -> Disclosure:
    """The facts, from the shot records, the take store, the shot plan, the screenplay and the cut's manifest.

    A shot with no record (not rendered under its id: renumbered, or added since the last render) is omitted,
    and the report says so and why. Raises ProjectError, in one line, when no shot has one: nothing is measured.
    """
    from soundstage.db import open_database
    from soundstage.takes import PriceTable, TakeStore

    read = read or read_breakdown(project, lock=False)      # the caller's, else read here: never written
    breakdown = read.breakdown
    records = {shot.id: read_shot_record(project, shot.id) for shot in breakdown.shots}
    missing = [shot_id for shot_id, record in records.items() if record is None]
    if not breakdown.shots or len(missing) == len(breakdown.shots):
        raise ProjectError(
            ("the project has no shots" if not breakdown.shots else
             f"no shot record for {', '.join(missing)} (not rendered, or rendered before shot records existed)")
            + f": render first (soundstage render {project.root})", path=project.root)
    cut = CutRecord(tuple(r for r in records.values() if r is not None))
    store = TakeStore(project.state_dir, prices=PriceTable.load(project.root), budget=project.settings.budget,
                      database=open_database(project.database))
    approvals = store.approvals()
    approved_takes: dict[tuple[str, int | None], Any] = {}     # the newest approval of each take, from the history
    for event in store.history():
        if event.kind == "approved":
            approved_takes[(event.subject, event.take_id)] = event
        elif event.kind == "unapproved":
            approved_takes.pop((event.subject, event.take_id), None)
    plan = {entry.id: entry for entry in read.plan.entries}
    warnings: list[tuple[str, dict[str, str]]] = []
    orphans = ", ".join(sorted(p.stem for p in (project.out_dir / "shots").glob("*.json") if p.stem not in records))
    omitted = [(shot_id, (OMITTED_RENUMBERED if orphans else OMITTED), {"shot": shot_id, "records": orphans})
               for shot_id in missing]
    warnings += [(sentence, values) for _, sentence, values in omitted]

    def approval(layer: LayerRecord) -> tuple[str | None, str | None]:
        """Who approved the take the shot shows: the history's newest approval of this take (one given after the
        render changes no pixel; one since replaced still chose these pixels), else the record's."""
        event = approved_takes.get((layer.slot, layer.take_id))
        if event is not None:
            return event.by or "unnamed", event.at.isoformat(timespec="seconds")
        return layer.approved_by, layer.approved_at

    shots = []
    for record in cut.shots:
        entry = plan.get(record.shot)
        edits = tuple(_settings(entry.model_dump(exclude_unset=True, exclude={"id", "scene", "prompt"}))
                      if entry else ())
        layers = tuple(Layer(record.shot, replace(layer, approved_by=by, approved_at=at))
                       for layer in record.layers for by, at in [approval(layer)])
        shots.append(Shot(record, layers, edits, _state(project.out_dir / "shots" / f"{record.shot}.mp4", project)))

    selections = []
    for slot, used in _by_slot(cut.shots).items():
        layer, users = used
        if len({take for take, _ in _takes_of(cut.shots, slot)}) > 1:
            warnings.append((MIXED, {"slot": slot, "shots": ", ".join(users)}))
        made = len([t for t in store.takes(slot) if t.slot == slot])
        now = approvals.get(slot)
        approved_now = None
        if now is not None and now.take_id != layer.take_id:
            approved_now = next((t.label for t in store.takes(slot) if t.id == now.take_id), f"take {now.take_id}")
            warnings.append((APPROVED_LATER, {"slot": slot, "take": approved_now, "shots": ", ".join(users),
                                              "used": layer.version}))
        elif now is None and layer.approved_by:
            warnings.append((WITHDRAWN, {"slot": slot, "shots": ", ".join(users)}))
        selections.append(Selection(slot, users, max(made, 1), layer.version, *approval(layer), approved_now))

    scenes = {scene.id: scene for scene in breakdown.scenes}
    plates: dict[str, list[ShotRecord]] = {}
    for record in cut.shots:
        if record.plate:
            plates.setdefault(record.plate, []).append(record)
    weight = max(cut.frames, 1)
    performances = tuple(
        Performance(plate, tuple(r.shot for r in used), sum(r.frames for r in used),
                    tuple(r.plate_share for r in used), sum(r.plate_share * r.frames for r in used) / weight,
                    tuple(dict.fromkeys(c for r in used for c in _characters(scenes.get(str(r.scene))))))
        for plate, used in plates.items())

    screenplay = read.screenplay
    title_page = {key: value for key, value in screenplay.title_page.items() if value.strip()}
    script = {"file": shown_in(project.screenplay_path, project.root), "title": screenplay.title,
              "author": next((title_page[k] for k in ("Author", "Authors", "Written by") if k in title_page), None),
              "title_page": {k: title_page[k] for k in TITLE_KEYS if k in title_page},
              "scenes": len(breakdown.scenes), "pages": round(sum(s.eighths for s in breakdown.scenes) / 8, 2)}

    notes = tuple(CrewNote(n.subject, next((t.label for t in store.takes(n.subject) if t.id == n.take_id), None)
                           if n.take_id else None, n.author or "unnamed", n.body,
                           n.created_at.isoformat(timespec="seconds")) for n in store.notes())
    film = project.settings
    film_settings = tuple(f"[comp] {line}" for line in _settings(film.comp.model_dump(exclude_unset=True)))
    in_cut = {record.shot for record in cut.shots}
    references = tuple(CastReference(member.name, shown_in(path, project.root), member.made, used)
                       for member in read.cast if member.human_made
                       if (used := tuple(s.id for s in breakdown.shots if member.name in s.cast and s.id in in_cut))
                       for path in member.references)
    return Disclosure(
        title=breakdown.title, fps=film.fps, shots=tuple(shots), cut=cut, tools=_tools(cut),
        selections=tuple(selections), performances=performances, screenplay=script, film_settings=film_settings,
        notes=notes, look=film.look.as_prompt(), deliverable=_deliverable(project), warnings=tuple(warnings),
        omitted=tuple((shot_id, sentence.format(**values)) for shot_id, sentence, values in omitted),
        references=references)


def _takes_of(records: Iterable[ShotRecord], slot: str) -> list[tuple[int, str]]:
    return [(layer.take_id, record.shot) for record in records for layer in record.layers if layer.slot == slot]


def _by_slot(records: Iterable[ShotRecord]) -> dict[str, tuple[LayerRecord, tuple[str, ...]]]:
    """Each slot the cut shows, with the take the first shot to use it rendered, and every shot using it."""
    found: dict[str, tuple[LayerRecord, tuple[str, ...]]] = {}
    for record in records:
        for layer in record.layers:
            first, users = found.get(layer.slot, (layer, ()))
            found[layer.slot] = (first, (*users, record.shot))
    return found


def _tools(cut: CutRecord) -> tuple[Tool, ...]:
    weight = max(cut.frames, 1)
    grouped: dict[tuple[str, str, str, str], list[tuple[ShotRecord, LayerRecord]]] = {}
    for record in cut.shots:
        for layer in record.layers:
            grouped.setdefault((layer.engine, layer.model, layer.engine_version, layer.source_type), []).append(
                (record, layer))
    tools = [Tool(engine, model, version, source, is_ai(source),
                  tuple(dict.fromkeys(layer.slot for _, layer in used)),
                  tuple(dict.fromkeys(record.shot for record, _ in used)),
                  sum(layer.share * record.frames for record, layer in used) / weight)
             for (engine, model, version, source), used in grouped.items()]
    return tuple(sorted(tools, key=lambda tool: (not tool.ai, -tool.share_of_cut)))


def _characters(scene: Any) -> list[str]:
    return [*scene.characters, *scene.non_speaking] if scene is not None else []


def _settings(values: dict[str, Any], prefix: str = "") -> list[str]:
    """Settings as the crew wrote them, one ``key = value`` a line, nested tables dotted."""
    lines = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            lines += _settings(value, name + ".")
        else:
            lines.append(f"{name} = {json.dumps(value, ensure_ascii=False)}")
    return lines



def _trust(project: Project) -> Path | None:
    root = project.state_dir / "keys" / "root.pem"
    return root if root.is_file() else None


def _state(path: Path, project: Project) -> str:
    if not path.is_file():
        return "missing"
    try:
        verdict = verify_file(path, trust=_trust(project))
    except SoundstageError:
        return "Invalid"
    return "Invalid" if verdict.tampered and verdict.state != "none" else verdict.state


def _deliverable(project: Project) -> Deliverable:
    path = project.out_dir / "cut.mp4"
    relative = shown_in(path, project.root)
    policy = project.settings.labels.policy
    trust = _trust(project)
    anchor = shown_in(trust, project.root) if trust else None
    if not path.is_file():
        return Deliverable(relative, "missing", False, False, None, (), policy, anchor)
    try:
        verdict = verify_file(path, trust=trust)
    except SoundstageError as exc:
        return Deliverable(relative, "Invalid", False, True, None, (str(exc),), policy, anchor)
    return Deliverable(relative, verdict.state, verdict.ok, verdict.tampered, verdict.signer, verdict.errors, policy,
                       anchor)


# ---------------------------------------------------------------------------------------------- the sound


@dataclass(frozen=True)
class Heard:
    """Seconds of sound heard, by where it came from: recorded, generated by a trained model, generated by rule."""

    recorded: float = 0.0
    ai: float = 0.0
    procedural: float = 0.0

    @property
    def total(self) -> float:
        return self.recorded + self.ai + self.procedural

    def share(self, part: str) -> float | None:
        """``part``'s share of what was heard; None when nothing was (no share to state)."""
        return getattr(self, part) / self.total if self.total > 0 else None

    def __add__(self, other: Heard) -> Heard:
        return Heard(self.recorded + other.recorded, self.ai + other.ai, self.procedural + other.procedural)

    @classmethod
    def of(cls, layers: Iterable[SoundRecord]) -> Heard:
        heard = cls()
        for layer in layers:
            part = "recorded" if layer.recorded else "ai" if layer.is_ai else "procedural"
            heard = heard + cls(**{part: max(layer.seconds, 0.0)})
        return heard


@dataclass(frozen=True)
class ShotSound:
    """One shot's sound in the cut: where it starts, and what its record measured (None: not measured)."""

    shot: str
    start: float                  # seconds into the cut
    seconds: float                # the shot's length
    stems: dict[str, Heard] | None
    layers: tuple[SoundRecord, ...]

    @property
    def whole(self) -> Heard | None:
        return sum(self.stems.values(), Heard()) if self.stems is not None else None


@dataclass(frozen=True)
class SoundTool:
    engine: str
    model: str
    ai: bool
    shots: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class SoundShares:
    """The cut's sound by stem and by time, summed over the shots that measured it; the rest listed apart."""

    shots: tuple[ShotSound, ...]
    tools: tuple[SoundTool, ...]

    @property
    def measured(self) -> tuple[ShotSound, ...]:
        return tuple(shot for shot in self.shots if shot.stems is not None)

    @property
    def not_measured(self) -> tuple[str, ...]:
        return tuple(shot.shot for shot in self.shots if shot.stems is None)

    @property
    def stems(self) -> dict[str, Heard]:
        return {stem: sum((shot.stems[stem] for shot in self.measured if shot.stems), Heard()) for stem in STEMS}

    @property
    def whole(self) -> Heard:
        return sum(self.stems.values(), Heard())

    @property
    def measured_seconds(self) -> float:
        return sum(shot.seconds for shot in self.measured)


def sound_shares(cut: CutRecord) -> SoundShares:
    """The cut's sound from its shot records: each shot at its place in the cut, its layers' seconds by stem."""
    shots, start = [], 0.0
    for record in cut.shots:
        length = record.frames / record.fps if record.fps else 0.0
        stems = {stem: Heard.of(layer for layer in record.sound if layer.stem == stem) for stem in STEMS} \
            if record.sound else None
        shots.append(ShotSound(record.shot, start, length, stems, record.sound))
        start += length
    grouped: dict[tuple[str, str, bool], list[tuple[str, SoundRecord]]] = {}
    for record in cut.shots:
        for layer in record.sound:
            if not layer.recorded:
                key = (layer.engine or "?", layer.model or "", layer.is_ai)
                grouped.setdefault(key, []).append((record.shot, layer))
    tools = [SoundTool(engine, model, ai, tuple(dict.fromkeys(shot for shot, _ in used)),
                       sum(layer.seconds for _, layer in used)) for (engine, model, ai), used in grouped.items()]
    return SoundShares(tuple(shots), tuple(sorted(tools, key=lambda tool: (not tool.ai, -tool.seconds))))


def sound_parts(sound: SoundShares, ai: bool, t: Callable[[str], str] = str) -> list[str]:
    """The generated sound, layer by layer, as a claim would exclude it (``ai``) or disclose it apart."""
    return [t(SOUND_PART).format(name=layer.name, stem=t(layer.stem), shot=shot.shot, seconds=f"{layer.seconds:.1f}",
                                 engine=layer.engine or "?", model=layer.model or "", take=layer.version or "")
            for shot in sound.shots for layer in shot.layers
            if not layer.recorded and layer.is_ai == ai and layer.seconds > 0]


def sound_sentence(sound: SoundShares, t: Callable[[str], str] = str) -> str:
    """The sound in one sentence of the process: only what was measured, and which shots were not."""
    whole = sound.whole
    if not sound.measured or whole.total <= 0:
        return t(NO_SOUND_SENTENCE).format(shots=", ".join(sound.not_measured) or "—")
    return t(SOUND_SENTENCE).format(
        heard=f"{whole.total:.1f}", shots=len(sound.measured), recorded=_share(whole.share("recorded")),
        ai=_share(whole.share("ai")), procedural=_share(whole.share("procedural")),
        unmeasured=", ".join(sound.not_measured) or t("none"))


def sound_json(sound: SoundShares) -> dict[str, Any]:
    """The sound section as data: seconds heard and shares 0…1; a stem or shot that heard nothing has no share."""
    def shares(heard: Heard) -> dict[str, Any]:
        return {"seconds": {"recorded": round(heard.recorded, 3), "ai": round(heard.ai, 3),
                            "procedural": round(heard.procedural, 3)},
                **{f"{part}_share": heard.share(part) for part in ("recorded", "ai", "procedural")}}

    return {"method": SOUND_METHOD, "whole": shares(sound.whole),
            "stems": {stem: shares(heard) for stem, heard in sound.stems.items()},
            "shots": [{"shot": shot.shot, "start": round(shot.start, 3), "seconds": round(shot.seconds, 3),
                       "measured": shot.stems is not None,
                       **({"stems": {stem: shares(heard) for stem, heard in shot.stems.items()},
                           "layers": [asdict(layer) for layer in shot.layers]} if shot.stems is not None else {})}
                      for shot in sound.shots],
            "not_measured": list(sound.not_measured),
            "measured_seconds": round(sound.measured_seconds, 3),
            "tools": [asdict(tool) for tool in sound.tools]}


def _share(share: float | None) -> str:
    return percent(share) if share is not None else "—"


# ---------------------------------------------------------------------------------------------- registration


def method(t: Callable[[str], str] = str) -> str:
    return t(METHOD).format(step=COVERAGE_STEP)


def excluded(report: Disclosure, t: Callable[[str], str] = str) -> list[str]:
    """The AI-generated parts, as a claim would exclude them: each AI layer, where, and how much of the cut; then
    each AI sound layer."""
    return _parts(report, True, t) + sound_parts(sound_shares(report.cut), True, t)


def procedural(report: Disclosure, t: Callable[[str], str] = str) -> list[str]:
    """The generated parts that no trained model made: disclosed apart, since they are not AI."""
    return _parts(report, False, t) + sound_parts(sound_shares(report.cut), False, t)


def _parts(report: Disclosure, ai: bool, t: Callable[[str], str]) -> list[str]:
    weight = max(report.cut.frames, 1)
    frames = {s.shot: s.frames for s in report.shots}
    return [t(PART).format(name=layer.name, role=t(layer.role), shot=layer.shot, share=percent(layer.share),
                           cut=percent(layer.share * frames[layer.shot] / weight), engine=layer.engine,
                           model=layer.model, version=layer.engine_version)
            for layer in report.layers if layer.ai == ai and layer.share > 0]   # 0: a still set under a moving one


def claimed(report: Disclosure, t: Callable[[str], str] = str) -> list[str]:
    """The human contributions the records show; which of them a claim may include is counsel's call."""
    script = report.screenplay
    lines = [t("The screenplay {file} ({title}{by}): its story, scenes and dialogue").format(
        file=script["file"], title=script["title"],
        by=(", " + t("by") + " " + script["author"]) if script["author"] else "")]
    for one in report.performances:
        lines.append(t("The performances in the plate {plate} (shots {shots}): {share} of the cut").format(
            plate=one.plate, shots=", ".join(one.shots), share=percent(one.share_of_cut)))
    for reference in report.references:
        lines.append(t("The {made} {file} of the cast member {member}, from which its takes were made (shots "
                       "{shots})").format(made=t(reference.made), file=reference.file, member=reference.member,
                                          shots=", ".join(reference.shots)))
    if report.approved:
        lines.append(t("The selection of takes: for {approved} of {slots} slots a named person approved the take, "
                       "from {made} takes generated").format(approved=report.approved, slots=len(report.selections),
                                                            made=report.takes_made))
    lines.append(t("The arrangement: the shot plan and the cut order ({order})").format(
        order=" → ".join(s.shot for s in report.shots)))
    edits = sum(len(s.edits) for s in report.shots) + len(report.film_settings)
    if edits:
        lines.append(t("The compositing choices the crew set: {count} settings in shots.toml and "
                       "soundstage.toml").format(count=edits))
    if report.notes:
        lines.append(t("The crew's notes on shots and takes: {count}").format(count=len(report.notes)))
    return lines


def process(report: Disclosure, t: Callable[[str], str] = str) -> str:
    """The process, in a paragraph a registration form can take: only the sentences the records bear out."""
    script = report.screenplay

    def names(ai: bool) -> str:
        return "; ".join(f"{tool.engine} · {tool.model} ({tool.engine_version})" for tool in report.tools
                         if tool.ai == ai)

    plated = [s.shot for s in report.shots if s.plate]
    unapproved = len(report.selections) - report.approved
    values = dict(file=script["file"], author=script["author"] or t("its author (not named on the title page)"),
                  scenes=script["scenes"], shots=len(report.shots), plated=len(plated), plates=", ".join(plated),
                  ai_tools=names(True), other_tools=names(False), made=report.takes_made,
                  slots=len(report.selections), approved=report.approved, unapproved=unapproved,
                  order=" → ".join(s.shot for s in report.shots), ai=percent(report.cut.ai_share),
                  generated=percent(report.cut.generated_share), procedural=percent(report.procedural_share),
                  plate=percent(report.cut.plate_share))
    sentences = [SCRIPT_SENTENCE, PLATES_SENTENCE if plated else NO_PLATES_SENTENCE]
    sentences += [AI_SENTENCE] if values["ai_tools"] else [NO_AI_SENTENCE]
    sentences += [PROCEDURAL_SENTENCE] if values["other_tools"] else []
    sentences += [TAKES_SENTENCE] + ([APPROVED_SENTENCE] if report.approved else [])
    sentences += [UNAPPROVED_SENTENCE] if unapproved else []
    sentences += [COMP_SENTENCE, MEASURED_SENTENCE]
    return " ".join([*(t(sentence).format(**values) for sentence in sentences),
                     sound_sentence(sound_shares(report.cut), t)])


def percent(share: float) -> str:
    if 0 < share < 0.0005:
        return "<0.1%"
    return f"{share * 100:.1f}%"


def to_json(report: Disclosure) -> dict[str, Any]:
    """The report as data: shares as fractions 0…1, exactly as the shot records hold them."""
    return {
        "title": report.title,
        "note": COUNSEL,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "method": method(),
        "omitted": [{"shot": shot, "reason": reason} for shot, reason in report.omitted],
        "cut": {"shots": [s.shot for s in report.shots], "frames": report.cut.frames, "fps": report.fps,
                "seconds": round(report.seconds, 3), "ai_share": report.cut.ai_share,
                "generated_share": report.cut.generated_share, "procedural_share": report.procedural_share,
                "plate_share": report.cut.plate_share},
        "shots": [{"shot": s.shot, "scene": s.scene, "frames": s.frames, "fps": s.fps, "size": [s.width, s.height],
                   "plate": s.plate, "ai_share": s.ai_share, "generated_share": s.generated_share,
                   "procedural_share": s.procedural_share, "plate_share": s.plate_share,
                   "watermark": s.watermark, "rendered_at": s.rendered_at, "file_manifest": s.signed,
                   "edits": list(s.edits),
                   "layers": [{**layer.to_dict(), "chosen": layer.chosen_how} for layer in s.layers]}
                  for s in report.shots],
        "ai_tools": [asdict(tool) for tool in report.tools if tool.ai],
        "generated_tools_not_ai": [asdict(tool) for tool in report.tools if not tool.ai],
        "human": {
            "screenplay": report.screenplay,
            "performances": [asdict(p) for p in report.performances],
            "cast_references": [asdict(r) for r in report.references],
            "selection": [{**asdict(s), "chosen_how": s.how} for s in report.selections],
            "arrangement": {"cut_order": [s.shot for s in report.shots],
                            "scenes": [s.scene for s in report.shots]},
            "edits": {"film": list(report.film_settings), "shots": {s.shot: list(s.edits) for s in report.shots}},
            "notes": [asdict(n) for n in report.notes],
        },
        "registration": {
            "guides": ["Korea: MCST / Korea Copyright Commission guide to registering works made with generative AI "
                       "(June 2025)", "US Copyright Office: 88 FR 16190 (2023)"],
            "ai_generated_parts_to_exclude": excluded(report),
            "generated_not_ai": procedural(report),
            "human_parts_claimed": claimed(report),
            "ai_tools_with_versions": [f"{tool.engine} · {tool.model} ({tool.engine_version})"
                                       for tool in report.tools if tool.ai],
            "process": process(report),
            "prompts": [{"slot": layer.slot, "shot": layer.shot, "prompt": layer.prompt, "seed": layer.seed,
                         "human_creative_contribution": False, "note": PROMPT_NOTE}
                        for layer in _unique_prompts(report)],
            "look": {"prompt": report.look, "human_creative_contribution": False, "note": PROMPT_NOTE},
            "trivial_edits": TRIVIAL,
        },
        "sound": sound_json(sound_shares(report.cut)),
        "deliverable": {**asdict(report.deliverable),
                        "watermarks": {s.shot: s.watermark for s in report.shots}},
        "warnings": report.warned(),
    }


def _unique_prompts(report: Disclosure) -> list[Layer]:
    seen: dict[str, Layer] = {}
    for layer in report.layers:
        seen.setdefault(layer.slot, layer)
    return list(seen.values())


# ---------------------------------------------------------------------------------------------- the page


def write_disclosure_report(project: Project, out: Path | None = None, *,
                            read: ProjectBreakdown | None = None) -> list[Path]:
    """Write ``disclosure.html`` and ``disclosure.json`` under ``out/reports``."""
    report = disclosure(project, read)
    language = project.settings.reports.language
    t = translator(language, WORDS)

    html = render_report(
        "disclosure.html", language=language, words=WORDS, title=f"{report.title}: {t('AI/human disclosure')}",
        report=report, pct=percent, method=method(t), excluded=excluded(report, t),
        procedural=procedural(report, t), claimed=claimed(report, t), process=process(report, t),
        prompts=_unique_prompts(report), counsel=COUNSEL, no_ai=NO_AI_SENTENCE, no_approvals=NO_APPROVALS,
        prompt_note=PROMPT_NOTE, not_approved=NOT_APPROVED, unlabelled=UNLABELLED, warnings=report.warned(t),
        trivial=TRIVIAL, seconds=lambda s: f"{s:,.1f} s", when=_when, sound=sound_shares(report.cut),
        sound_method=SOUND_METHOD, share=_share,
        written_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    folder = out or project.out_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    data = json.dumps(to_json(report), indent=1, ensure_ascii=False)
    return [write_report(folder / "disclosure.html", html), write_report(folder / "disclosure.json", data + "\n")]


def _when(iso: str | None) -> str:
    """An ISO time as a reader reads it: 2026-12-01 11:32 UTC."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


__all__ = ["Disclosure", "Layer", "Selection", "Shot", "Tool", "disclosure", "to_json", "write_disclosure_report"]
