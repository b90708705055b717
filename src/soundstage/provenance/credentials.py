"""Content credentials for what the pipeline writes: each take, each shot render, and the cut.

- A take gets ``c2pa.created`` with its IPTC source type (``trainedAlgorithmicMedia`` for a model,
  ``algorithmicMedia`` for the procedural engine), the engine as ``softwareAgent``, and soundstage's record of
  it (model, prompt, seed, cost, time).
- A shot gets ``c2pa.opened`` on its plate (``digitalCapture``) — or ``c2pa.created`` when it has none —,
  ``c2pa.placed`` for each take comped in (the signed take files are its ingredients), and ``c2pa.edited``
  naming the whole as ``compositeWithTrainedAlgorithmicMedia`` (AI inside) or ``compositeSynthetic``
  (procedural only). Its measured shares and a soft binding to its watermark go with it.
- The cut has every shot movie as an ingredient, so the one file carries the chain back to every take, and
  its stems (``out/stems/<stem>.wav``) as ingredients for its sound.
- A shot's stems (``out/shots/<id>.<stem>.wav``) get ``c2pa.opened`` on the recorded sound they hold (the
  plate ``parentOf``; a recorder's WAV is ``componentOf``, placed) — or ``c2pa.created`` when they hold
  none —, ``c2pa.placed`` for each sound take mixed in, and ``c2pa.edited`` for the mix. The cut's stems have the
  shots' stems of the same name as ingredients. (Sound takes are signed as any take, by :func:`sign_take`.)

Signing happens where the file is made (a worker), after the file is complete and before the render's
ledger enters it, so a file in the ledger is always a signed one.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from soundstage import __version__
from soundstage.media.sequence import publish_folder
from soundstage.project import Project
from soundstage.provenance.keys import init_keys, keys_dir
from soundstage.provenance.record import mark_key
from soundstage.provenance.signer import SigningIdentity, project_signer
from soundstage.provenance.signing import IPTC, MIME_TYPES, Relationship, sign_file
from soundstage.records.settings import STEMS
from soundstage.records.shot import CutRecord, ShotRecord, SoundRecord, cut_stem_path, shot_stem_path
from soundstage.records.source import SourceType
from soundstage.records.take import TakeFile

SOFT_BINDING = "org.soundstage.luma-spread-spectrum.1"    # the invisible watermark (provenance.watermark)
_AGENT = {"name": "soundstage", "version": __version__}


def prepare_signing(project: Project) -> SigningIdentity | None:
    """Before any worker signs: make the project's own CA and watermark key if it has none (like ``keys init``).

    Called once by the rendering process, under the render lock, so parallel workers never race to make
    two different keys. Returns who will sign, or None with ``[provenance] sign = false``.
    """
    settings = project.settings.provenance
    if settings.sign and settings.chain is None and not (keys_dir(project.root) / "signing.key").is_file():
        init_keys(project.root)
    mark_key(project)
    return project_signer(project)


def signable(path: Path) -> bool:
    return path.suffix.lower() in MIME_TYPES


def sign_take(files: Sequence[Path], record: TakeFile, identity: SigningIdentity, *,
              inputs: Sequence[tuple[Path, str]] = ()) -> None:
    """Sign a take's files in place (before the take is moved into the store) with how it was made.

    ``inputs`` are the images that steered it, each with its part (a reference's role, ``first_frame``,
    ``last_frame``, ``extend``): ingredients ``inputTo`` its creation, so ``verify`` shows what steered the take."""
    ingredients: list[tuple[str | Path, Relationship, str]] = []
    created: dict[str, Any] = {"action": "c2pa.created", "digitalSourceType": IPTC + record.source_type,
                               "softwareAgent": {"name": record.engine, "version": str(record.engine_version)},
                               "description": f"{record.kind} for {record.slot} by {record.engine} {record.model}"}
    for number, (path, part) in enumerate(inputs):
        if path.is_file() and signable(path):
            ingredients.append((path, "inputTo", f"input-{number}"))
            created["description"] += f"; {part}: {path.name}"
    if ingredients:
        created["parameters"] = {"ingredientIds": [label for _, _, label in ingredients]}
    actions = [created]
    take = {"slot": record.slot, "key": record.key, "engine": record.engine, "model": record.model,
            "engine_version": str(record.engine_version), "ai": record.is_ai,
            "prompt": record.prompt, "negative_prompt": record.negative_prompt,
            "seed": record.seed, "unit": record.unit, "quantity": record.quantity,
            "cost_usd": record.cost_usd, "price": asdict(record.price) if record.price else None,
            "seconds": record.seconds, "created_at": record.created_at}
    for path in files:
        if signable(path):
            sign_file(path, path, identity, actions=actions, title=f"{record.slot} {path.name}",
                      assertions=[{"label": "org.soundstage.take", "data": take}], ingredients=ingredients)


def _placed(ingredients: list[tuple[str | Path, Relationship, str]], actions: list[dict[str, Any]],
            file: str | Path, label: str, description: str) -> None:
    """``file`` placed into what is signed: its ingredient, and the action that says what it is."""
    ingredients.append((file, "componentOf", label))
    actions.append({"action": "c2pa.placed", "parameters": {"ingredientIds": [label]}, "description": description})


def sign_shot(outputs: Sequence[tuple[Path, Path]], record: ShotRecord, identity: SigningIdentity, *,
              plate: Path | None, takes: Mapping[str, Path]) -> None:
    """Sign a shot's movie and masters: its plate opened, each take (slot → its first file) placed over it.

    ``outputs`` are (written, final) pairs: each is signed as it goes to its final name, so a failure (a full
    disk) never leaves an unsigned file there. A sequence's folder is signed where it was written, then renamed.
    """
    ai = any(layer.is_ai for layer in record.layers)
    composite = IPTC + ("compositeWithTrainedAlgorithmicMedia" if ai else "compositeSynthetic")
    ingredients: list[tuple[str | Path, Relationship, str]] = []
    actions: list[dict[str, Any]] = []
    if plate is not None and signable(plate):
        ingredients.append((plate, "parentOf", "plate"))
        actions.append({"action": "c2pa.opened", "digitalSourceType": IPTC + "digitalCapture",
                        "parameters": {"ingredientIds": ["plate"]},
                        "description": f"live-action plate {record.plate}"})
    else:
        actions.append({"action": "c2pa.created", "digitalSourceType": composite, "softwareAgent": _AGENT})
    for number, layer in enumerate(record.layers):
        file = takes.get(layer.slot)
        if file is None or not signable(file):
            continue
        label = f"take-{number}"
        _placed(ingredients, actions, file, label, f"{layer.role} {layer.name}: {layer.engine} {layer.model} "
                                                   f"take {layer.version}, {layer.share:.1%} of the frame")
    actions.append({"action": "c2pa.edited", "digitalSourceType": composite, "softwareAgent": _AGENT,
                    "description": "keyed, composited and graded"})
    assertions = [{"label": "org.soundstage.shot", "data": _shot_summary(record)}]
    if record.watermark:
        assertions.append(_soft_binding([(0, record.frames, record.watermark)], record.fps))
    for written, final in outputs:
        for source in sorted(written.iterdir()) if written.is_dir() else [written]:
            target = source if written.is_dir() else final
            if signable(source):
                sign_file(source, target, identity, actions=actions, ingredients=ingredients,
                          title=f"shot {record.shot} {target.name}", assertions=assertions)
            elif source != target:
                os.replace(source, target)
        if written.is_dir():
            publish_folder(written, final)
        else:
            written.unlink(missing_ok=True)


def sign_cut(cut: Path, shots: Sequence[Path], record: CutRecord | None, identity: SigningIdentity, *,
             into: Path | None = None, stems: Sequence[Path] = ()) -> None:
    """Sign the cut with every shot movie as an ingredient (and, through them, every take), and its ``stems``
    (the cut's mixed sound, ``out/stems/<stem>.wav``, signed first); ``into`` is where the signed file goes,
    when ``cut`` was written elsewhere first (default: in place)."""
    ai = record is not None and any(layer.is_ai for made in record.shots for layer in made.layers)
    composite = IPTC + ("compositeWithTrainedAlgorithmicMedia" if ai else "compositeSynthetic")
    actions: list[dict[str, Any]] = [{"action": "c2pa.created", "digitalSourceType": composite,
                                      "softwareAgent": _AGENT, "description": "the cut, shots in script order"}]
    ingredients: list[tuple[str | Path, Relationship, str]] = []
    for number, movie in enumerate(shots):
        label = f"shot-{number}"
        _placed(ingredients, actions, movie, label, f"shot {movie.stem}")
    for number, stem in enumerate(stems):
        label = f"stem-{number}"
        _placed(ingredients, actions, stem, label, f"sound: the {stem.stem} stem")
    assertions: list[dict[str, Any]] = []
    if record is not None:
        assertions.append({"label": "org.soundstage.cut", "data": {
            "frames": record.frames, "ai_share": record.ai_share, "generated_share": record.generated_share,
            "plate_share": record.plate_share, "shots": [_shot_summary(s) for s in record.shots]}})
        spans, start = [], 0
        for shot in record.shots:
            if shot.watermark:
                spans.append((start, start + shot.frames, shot.watermark))
            start += shot.frames
        if spans:
            assertions.append(_soft_binding(spans, record.shots[0].fps))
    into = into or cut
    sign_file(cut, into, identity, actions=actions, ingredients=ingredients, title=into.name, assertions=assertions)


def sign_shot_stems(project: Project, record: ShotRecord, identity: SigningIdentity, *,
                    takes: Mapping[str, Path] | None = None) -> list[Path]:
    """Sign the shot's stems in place (those written: a shot rendered before sound has none), each with what it
    mixes from ``record.sound``: its recorded sound's files and its sound takes (``takes``: slot → take file).

    Returns the stems signed.
    """
    signed = []
    for stem in STEMS:
        wav = shot_stem_path(project, record.shot, stem)
        if not wav.is_file():
            continue
        layers = [layer for layer in record.sound if layer.stem == stem]
        sign_file(wav, wav, identity, title=f"shot {record.shot} {stem}",
                  **_mix_credentials(layers, project.root, takes or {}, f"shot {record.shot}'s {stem} stem"),
                  assertions=[{"label": "org.soundstage.sound", "data": {
                      "shot": record.shot, "stem": stem, "layers": [asdict(layer) for layer in layers]}}])
        signed.append(wav)
    return signed


def sign_cut_stems(project: Project, record: CutRecord, identity: SigningIdentity) -> list[Path]:
    """Sign the cut's stems in place, each with the shots' stems of its name (signed first) as ingredients.

    Returns the stems signed.
    """
    signed = []
    shot_ids = [shot.shot for shot in record.shots]
    for stem in STEMS:
        wav = cut_stem_path(project, stem)
        if not wav.is_file():
            continue
        ingredients: list[tuple[str | Path, Relationship, str]] = []
        actions: list[dict[str, Any]] = []
        for number, shot in enumerate(shot_ids):
            part = shot_stem_path(project, shot, stem)
            if part.is_file():
                _placed(ingredients, actions, part, f"shot-{number}", f"shot {shot}")
        layers = [layer for shot in record.shots for layer in shot.sound if layer.stem == stem]
        actions.insert(0, {"action": "c2pa.created", "digitalSourceType": _composite(layers) or IPTC + "composite",
                           "softwareAgent": _AGENT,
                           "description": f"the cut's {stem} stem, shots in script order"})
        actions.append({"action": "c2pa.edited", "softwareAgent": _AGENT,
                        "description": "faded at the cuts and normalised with the mix ([sound] target)"})
        sign_file(wav, wav, identity, title=f"cut {stem}", actions=actions, ingredients=ingredients)
        signed.append(wav)
    return signed


def _composite(layers: Sequence[SoundRecord]) -> str | None:
    """A mix's IPTC type: AI inside, or generated by rule inside; None when all of it was recorded."""
    if any(layer.is_ai for layer in layers):
        return IPTC + "compositeWithTrainedAlgorithmicMedia"
    if any(not layer.recorded for layer in layers):
        return IPTC + "compositeSynthetic"
    return None


def _mix_credentials(layers: Sequence[SoundRecord], root: Path, takes: Mapping[str, Path], what: str
                     ) -> dict[str, Any]:
    """The actions and ingredients of one stem: the first recorded file opened (its ``parentOf``: C2PA allows one
    parent and one opening), more recorded files (a recorder's WAV) and sound takes placed, then the mix."""
    ingredients: list[tuple[str | Path, Relationship, str]] = []
    actions: list[dict[str, Any]] = []
    recorded = dict.fromkeys(layer.source for layer in layers if layer.recorded and layer.source)
    for number, source in enumerate(recorded):
        path = root / source
        if not signable(path) or not path.is_file():
            continue
        label = f"recorded-{number}"
        heard = [layer for layer in layers if layer.source == source]
        said = ", ".join(layer.name + (f" (synced by {layer.sync}, {layer.offset_ms:+g} ms)" if layer.sync and
                                       layer.offset_ms is not None else "") for layer in heard)
        if ingredients:
            _placed(ingredients, actions, path, label, f"{said} from {source}")
        else:
            ingredients.append((path, "parentOf", label))
            actions.append({"action": "c2pa.opened", "digitalSourceType": IPTC + SourceType.CAPTURED,
                            "parameters": {"ingredientIds": [label]}, "description": f"{said} from {source}"})
    composite = _composite(layers)
    if not actions:      # nothing recorded: made here (silence, where a shot has no sound, is made by rule)
        actions.append({"action": "c2pa.created", "digitalSourceType": composite or IPTC + "algorithmicMedia",
                        "softwareAgent": _AGENT, "description": what})
    for number, layer in enumerate(layers):
        file = takes.get(layer.source) if not layer.recorded else None
        if file is None or not signable(file):
            continue
        label = f"take-{number}"
        _placed(ingredients, actions, file, label, f"{layer.name}: {layer.engine} {layer.model} take "
                                                   f"{layer.version}, {layer.gain_db:+g} dB")
    actions.append({"action": "c2pa.edited", "softwareAgent": _AGENT, "description": "mixed",
                    **({"digitalSourceType": composite} if composite else {})})
    return {"actions": actions, "ingredients": ingredients}


def sign_key(output: Path, plate: Path, identity: SigningIdentity) -> int:
    """Sign a keyed plate (``soundstage key``): the camera's plate opened and keyed, nothing generated.

    ``output`` is a file or, for a numbered sequence, its folder; returns the files signed (EXR carries none).
    """
    ingredients: list[tuple[str | Path, Relationship, str]] = [(plate, "parentOf", "plate")] if signable(plate) \
        else []
    actions = [{"action": "c2pa.opened", "digitalSourceType": IPTC + "digitalCapture",
                "parameters": {"ingredientIds": ["plate"] if ingredients else []}, "description": "the plate"},
               {"action": "c2pa.edited", "softwareAgent": _AGENT,
                "description": "keyed to straight RGBA (screen removed, despilled); no generated pixels"}]
    targets = [f for f in sorted(output.iterdir()) if signable(f)] if output.is_dir() else \
        [output] if signable(output) else []
    for target in targets:
        sign_file(target, target, identity, actions=actions, ingredients=ingredients, title=f"keyed {plate.name}")
    return len(targets)


def _shot_summary(record: ShotRecord) -> dict[str, Any]:
    return {"shot": record.shot, "scene": record.scene, "frames": record.frames, "plate": record.plate,
            "plate_share": record.plate_share, "ai_share": record.ai_share,
            "generated_share": record.generated_share, "watermark": record.watermark,
            "layers": [{"slot": layer.slot, "take": layer.version, "engine": layer.engine, "model": layer.model,
                        "engine_version": layer.engine_version, "source_type": layer.source_type,
                        "share": layer.share, "approved_by": layer.approved_by} for layer in record.layers]}


def _soft_binding(spans: Sequence[tuple[int, int, str]], fps: float) -> dict[str, Any]:
    """A C2PA soft binding: the watermark payload of each span of frames, so a copy that lost this manifest
    can be matched back to it by reading the mark."""
    return {"label": "c2pa.soft-binding", "data": {"alg": SOFT_BINDING, "blocks": [
        {"scope": {"timespan": {"start": round(start * 1000 / fps), "end": round(end * 1000 / fps)}},
         "value": base64.b64encode(bytes.fromhex(payload)).decode()} for start, end, payload in spans]}}
