"""C2PA manifests: sign a file with what made it, and read back whether it is still what was signed.

A manifest says which actions made a file (``c2pa.created`` with an IPTC digital source type such as
``trainedAlgorithmicMedia``) and which signed files went into it (ingredients), so a cut carries the chain
of every take in it. Verification never raises on a damaged file: a broken manifest is reported as tampered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

import c2pa

from soundstage import __version__
from soundstage.atomic import atomic_path
from soundstage.errors import MediaError, ProjectError
from soundstage.provenance.signer import SigningIdentity, open_signer, signing_failure

__all__ = ["MIME_TYPES", "Ingredient", "SourceAction", "Verdict", "mime_type", "sign_file", "verify_file"]

MIME_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".mp4": "video/mp4",
              ".mov": "video/quicktime", ".wav": "audio/wav"}
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
Relationship = Literal["componentOf", "parentOf", "inputTo"]
State = Literal["Trusted", "Valid", "Invalid", "none"]

# Offline and quiet: no remote manifests, no thumbnails (a take is its own thumbnail, and they cost time).
# Verifying after signing costs a millisecond and refuses a manifest no reader would accept (say, a
# c2pa.created without a digitalSourceType) before it is written.
_SETTINGS: dict[str, Any] = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_after_sign": True},
    "builder": {"thumbnail": {"enabled": False},
                "claim_generator_info": {"name": "soundstage", "version": __version__}},
}

_NOT_TAMPERING = {"signingCredential.untrusted"}


@dataclass(frozen=True)
class SourceAction:
    action: str
    digital_source_type: str | None = None
    software_agent: str | None = None


@dataclass(frozen=True)
class Ingredient:
    title: str
    relationship: str
    state: str | None = None
    actions: tuple[SourceAction, ...] = ()
    ingredients: tuple[Ingredient, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """What a file's manifest says, and whether it still holds."""

    path: Path
    state: State
    tampered: bool
    title: str | None = None
    signer: str | None = None
    actions: tuple[SourceAction, ...] = ()
    ingredients: tuple[Ingredient, ...] = ()
    errors: tuple[str, ...] = field(default=())
    records: Mapping[str, Any] = field(default_factory=dict)   # soundstage's own assertions and the soft binding
    anchor: Path | None = None    # the root it was checked against: then only a file signed under it holds

    @property
    def untrusted(self) -> bool:
        """Signed and intact, but not under ``anchor``: whoever gave a root asked "was this signed under mine?"."""
        return self.anchor is not None and self.state == "Valid" and not self.tampered

    @property
    def ok(self) -> bool:
        return self.state in ("Valid", "Trusted") and not self.tampered and not self.untrusted

    def to_dict(self) -> dict[str, Any]:
        def action(a: SourceAction) -> dict[str, Any]:
            return {"action": a.action, "digitalSourceType": a.digital_source_type, "softwareAgent": a.software_agent}

        def ingredient(i: Ingredient) -> dict[str, Any]:
            return {"title": i.title, "relationship": i.relationship, "state": i.state,
                    "actions": [action(a) for a in i.actions], "ingredients": [ingredient(n) for n in i.ingredients]}

        return {"path": str(self.path), "state": self.state, "tampered": self.tampered, "ok": self.ok,
                "trust": str(self.anchor) if self.anchor else None, "untrusted": self.untrusted,
                "title": self.title, "signer": self.signer, "actions": [action(a) for a in self.actions],
                "ingredients": [ingredient(i) for i in self.ingredients], "errors": list(self.errors),
                "records": dict(self.records)}


def mime_type(path: Path) -> str:
    try:
        return MIME_TYPES[path.suffix.lower()]
    except KeyError:
        raise MediaError(f"cannot carry a C2PA manifest here: {path.suffix or 'no suffix'} is not one of "
                         f"{', '.join(sorted(MIME_TYPES))}", path=path) from None


def sign_file(source: str | Path, dest: str | Path, identity: SigningIdentity, *, actions: Sequence[Mapping[str, Any]],
              ingredients: Iterable[tuple[str | Path, Relationship] | tuple[str | Path, Relationship, str]] = (),
              title: str | None = None, assertions: Sequence[Mapping[str, Any]] = ()) -> Path:
    """Write ``dest`` as ``source`` with a signed manifest of ``actions`` and signed ``ingredients`` carried in.

    ``assertions`` are more ``{"label": …, "data": …}`` entries: soundstage's own records of a take or a
    shot, a soft binding to the watermark.

    An ingredient is ``(path, relationship)`` or ``(path, relationship, label)``; an action names the ones it
    used by label in ``parameters.ingredientIds`` (C2PA wants that for ``c2pa.placed`` and ``c2pa.opened``).
    """
    source, dest = Path(source), Path(dest)
    mime = mime_type(source)
    if mime_type(dest) != mime:
        raise MediaError(f"signing does not convert: {source.suffix} in, {dest.suffix} out", path=dest)
    if not source.is_file():
        raise MediaError("no such file to sign", path=source)
    manifest = {"title": title or dest.name, "format": mime,
                "claim_generator_info": [{"name": "soundstage", "version": __version__}],
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [dict(a) for a in actions]}},
                               *(dict(a) for a in assertions)]}
    signer = open_signer(identity)   # a key file, or a studio's KMS callback: soundstage.provenance.signer
    try:
        with c2pa.Context.from_dict(_SETTINGS) as context, c2pa.Builder(manifest, context=context) as builder:
            for number, (path, relationship, *label) in enumerate(ingredients):
                path = Path(path)
                if not path.is_file():
                    raise MediaError("no such ingredient file", path=path)
                with open(path, "rb") as stream:
                    builder.add_ingredient({"title": path.name, "relationship": relationship,
                                            "label": label[0] if label else f"ingredient-{number}"},
                                           mime_type(path), stream)
            with atomic_path(dest) as tmp, open(source, "rb") as src, open(tmp, "w+b") as raw:
                dst = _Written(raw)
                try:
                    builder.sign(signer, mime, src, dst)
                except c2pa.C2paError:
                    if dst.failure is not None:     # the file system's error, not c2pa's (a full disk, say)
                        raise dst.failure from None
                    raise
    except c2pa.C2paError as exc:
        raise signing_failure(identity, exc, source) or MediaError(f"could not sign: {_one_line(exc)}",
                                                                   path=source) from None
    finally:
        signer.close()
    return dest


class _Written:
    """The signed file as c2pa writes it, keeping the OSError that c2pa's stream callback turns into -1."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.failure: OSError | None = None
        self.read, self.seek, self.tell = raw.read, raw.seek, raw.tell

    def write(self, data: bytes) -> int:
        return self._kept(lambda: self.raw.write(data))

    def flush(self) -> None:
        self._kept(self.raw.flush)

    def _kept(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except OSError as exc:
            self.failure = self.failure or exc
            raise


def verify_file(path: str | Path, *, trust: str | Path | None = None) -> Verdict:
    """Read and validate ``path``'s manifest; ``trust`` is a root certificate (PEM) to accept as an anchor."""
    path = Path(path)
    mime = mime_type(path)
    if not path.is_file():
        raise MediaError("no such file", path=path)
    settings: dict[str, Any] = json.loads(json.dumps(_SETTINGS))
    anchor = Path(trust) if trust is not None else None
    if anchor is not None:
        if not anchor.is_file():
            raise ProjectError("no such trust anchor file", path=anchor)
        settings["trust"] = {"user_anchors": anchor.read_text("utf-8")}
    try:
        with c2pa.Context.from_dict(settings) as context, open(path, "rb") as stream:
            reader = c2pa.Reader.try_create(mime, stream, context=context)
            if reader is None:
                return Verdict(path, "none", tampered=False, anchor=anchor)
            with reader:
                store = json.loads(reader.json())
                state = reader.get_validation_state() or "Invalid"
    except c2pa.C2paError as exc:
        return Verdict(path, "Invalid", tampered=True, errors=(_one_line(exc),), anchor=anchor)
    return _verdict(path, store, state, anchor)


def _verdict(path: Path, store: dict[str, Any], state: str, anchor: Path | None) -> Verdict:
    manifests = store.get("manifests", {})
    active = manifests.get(store.get("active_manifest", ""), {})
    failures = _failures(store.get("validation_results"))
    if not failures:
        failures = [s for s in store.get("validation_status") or [] if s.get("code") not in _NOT_TAMPERING]
    errors = tuple(f"{f.get('code')}: {f.get('explanation', '')}" for f in failures)
    # An untrusted signer is not tampering: that is what --trust answers.
    tampered = state not in ("Valid", "Trusted") or bool(failures)
    return Verdict(path, state if state in ("Trusted", "Valid", "Invalid") else "Invalid",  # type: ignore[arg-type]
                   tampered=tampered, title=active.get("title"),
                   signer=(active.get("signature_info") or {}).get("common_name"),
                   actions=_actions(active), ingredients=_ingredients(active, manifests), errors=errors,
                   records={a["label"]: a.get("data") for a in active.get("assertions", [])
                            if str(a.get("label", "")).startswith(("org.soundstage.", "c2pa.soft-binding"))},
                   anchor=anchor)


def _actions(manifest: Mapping[str, Any]) -> tuple[SourceAction, ...]:
    found = []
    for assertion in manifest.get("assertions", []):
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for a in assertion.get("data", {}).get("actions", []):
                agent = a.get("softwareAgent")
                found.append(SourceAction(a.get("action", "?"), a.get("digitalSourceType"),
                                          agent.get("name") if isinstance(agent, dict) else agent))
    return tuple(found)


def _ingredients(manifest: Mapping[str, Any], manifests: Mapping[str, Any], depth: int = 0) -> tuple[Ingredient, ...]:
    found = []
    for item in manifest.get("ingredients", []):
        carried = manifests.get(item.get("active_manifest") or "", {})
        failed = bool(_failures(item.get("validation_results")))
        found.append(Ingredient(item.get("title", "?"), item.get("relationship", "?"),
                                "Invalid" if failed else ("signed" if carried else None),
                                _actions(carried), _ingredients(carried, manifests, depth + 1) if depth < 16 else ()))
    return tuple(found)


def _failures(results: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Validation failures other than an unknown signer, in the active manifest and its ingredients' deltas."""
    results = results or {}
    found = list((results.get("activeManifest") or {}).get("failure") or [])
    for delta in results.get("ingredientDeltas") or []:
        found += (delta.get("validationDeltas") or {}).get("failure") or []
    return [f for f in found if f.get("code") not in _NOT_TAMPERING]


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
