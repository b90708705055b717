"""Who signs: the project's CA, a studio's own chain and key, or a studio's KMS or HSM through a callback.

A studio whose key must never leave its KMS writes one function that takes the bytes to sign and returns the
signature; soundstage hands c2pa that function and the public chain, and never sees the key. Everything a
person is shown about an identity (``soundstage keys show``) comes from the certificates, never the key.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from soundstage.errors import MediaError, ProjectError
from soundstage.project import resolve_inside
from soundstage.provenance.keys import Identity, check_chain, check_key, load_identity, signing_algorithm

if TYPE_CHECKING:
    from soundstage.project import Project

__all__ = ["CallbackSigner", "IdentityCard", "SigningIdentity", "callback_signer", "describe", "open_signer",
           "project_signer", "signing_failure", "studio_identity"]

SignFunction = Callable[[bytes], bytes]


@dataclass(frozen=True, eq=False)
class CallbackSigner:
    """A key held elsewhere (a KMS, an HSM): ``sign`` gets the bytes c2pa wants signed and returns the signature.

    For EC keys the signature may be DER (what KMSs return) or raw r‖s; c2pa takes either. ``chain`` is the
    PEM the manifest carries. Make one with :func:`callback_signer`, which checks the chain first.
    """

    sign: SignFunction
    chain: Path
    algorithm: str
    name: str = "callback"
    root: Path | None = None
    tsa_url: str | None = None
    source: str = "callback"
    _failures: list[str] = field(default_factory=list, repr=False)

    def chain_pem(self) -> bytes:
        return self.chain.read_bytes()


SigningIdentity = Identity | CallbackSigner


@dataclass(frozen=True)
class IdentityCard:
    """What ``soundstage keys show`` prints: enough to know who will sign, nothing that signs."""

    source: str
    subject: str
    issuer: str
    not_after: dt.datetime
    fingerprint: str
    algorithm: str
    chain: Path
    key: Path | None = None
    signer: str | None = None
    root: Path | None = None
    tsa_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "subject": self.subject, "issuer": self.issuer,
                "expires": self.not_after.isoformat(), "fingerprint": self.fingerprint, "algorithm": self.algorithm,
                "chain": str(self.chain), "key": str(self.key) if self.key else None, "signer": self.signer,
                "root": str(self.root) if self.root else None, "tsa_url": self.tsa_url}


def callback_signer(sign: SignFunction, chain: str | Path, *, name: str | None = None,
                    root: str | Path | None = None, tsa_url: str | None = None) -> CallbackSigner:
    """A signer for a key soundstage never holds; the chain is checked now (algorithm, usage, dates)."""
    chain = Path(chain)
    certificate = check_chain(chain)[0]
    if tsa_url and not tsa_url.startswith(("http://", "https://")):
        raise ProjectError(f"tsa_url {tsa_url!r} is not an http(s) URL")
    return CallbackSigner(sign, chain, signing_algorithm(certificate),
                          name=name or str(getattr(sign, "__qualname__", "callback")),
                          root=Path(root) if root else None, tsa_url=tsa_url)


def studio_identity(key: str | Path, chain: str | Path, *, root: str | Path | None = None,
                    tsa_url: str | None = None) -> Identity:
    """A studio's own CA-issued chain and its key file: checked in full, key permissions included."""
    found = Identity(Path(key), Path(chain), Path(root) if root else None, source="studio chain", tsa_url=tsa_url)
    certificate = check_chain(found.chain)[0]
    check_key(found.key, certificate)
    return found


def project_signer(project: Project) -> SigningIdentity | None:
    """Who signs this project's files, from ``[provenance]``; None when ``sign = false``.

    No ``chain``: the project's CA from ``soundstage keys init`` (as :func:`load_identity`). ``chain`` and
    ``key``: a studio chain. ``chain`` and ``signer``: a studio's callback. Raises ProjectError, one line
    naming the file, when the identity cannot sign now.
    """
    settings = project.settings.provenance
    if not settings.sign:
        return None
    if settings.chain is None:
        identity = load_identity(project.root)
        return replace(identity, tsa_url=settings.tsa_url) if settings.tsa_url else identity
    chain = _setting_path(project, "chain", settings.chain)
    root = _setting_path(project, "root", settings.root) if settings.root else None
    if settings.signer:
        return callback_signer(_entry_point(project, settings.signer), chain, name=settings.signer, root=root,
                               tsa_url=settings.tsa_url)
    assert settings.key is not None
    key = _setting_path(project, "key", settings.key)
    if key.is_relative_to(project.out_dir.resolve()):
        raise ProjectError("provenance.key is inside out/, which is delivered: keep the key out of it",
                           path=project.settings_path)
    return studio_identity(key, chain, root=root, tsa_url=settings.tsa_url)


def describe(identity: SigningIdentity) -> IdentityCard:
    """The signing certificate's names, expiry and fingerprint; the key is not read."""
    certificate = x509.load_pem_x509_certificates(identity.chain_pem())[0]
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex(":").upper()
    if isinstance(identity, CallbackSigner):
        return IdentityCard("callback", _names(certificate.subject), _names(certificate.issuer),
                            certificate.not_valid_after_utc, fingerprint, identity.algorithm, identity.chain,
                            signer=identity.name, root=identity.root, tsa_url=identity.tsa_url)
    return IdentityCard(identity.source, _names(certificate.subject), _names(certificate.issuer),
                        certificate.not_valid_after_utc, fingerprint, signing_algorithm(certificate), identity.chain,
                        key=identity.key, root=identity.root, tsa_url=identity.tsa_url)


def _names(name: x509.Name) -> str:
    """``CN=…, O=…`` in the certificate's own order, as people read it (RFC 4514 reverses it)."""
    return ", ".join(f"{part.rfc4514_attribute_name}={part.value!s}" for part in name) or "(no name)"


def open_signer(identity: SigningIdentity) -> c2pa.Signer:
    """The c2pa Signer for an identity; the caller closes it. Errors name the files, never their content."""
    try:
        certificate = x509.load_pem_x509_certificates(identity.chain_pem())[0]
        algorithm = getattr(c2pa.C2paSigningAlg, signing_algorithm(certificate))
    except (OSError, ValueError, IndexError):
        raise ProjectError("the certificate chain cannot be used; check it with 'soundstage keys show'",
                           path=identity.chain) from None
    if isinstance(identity, CallbackSigner):
        try:
            return c2pa.Signer.from_callback(_guarded(identity), algorithm, identity.chain_pem().decode("ascii"),
                                             identity.tsa_url)
        except (c2pa.C2paError, ValueError, OSError) as exc:
            raise ProjectError(f"the signer {identity.name} cannot be used with this chain ({type(exc).__name__})",
                               path=identity.chain) from None
    try:
        return c2pa.Signer.from_info(c2pa.C2paSignerInfo(
            algorithm, identity.chain_pem(), identity.key_pem(),
            identity.tsa_url.encode("ascii") if identity.tsa_url else None))
    except (c2pa.C2paError, ValueError, OSError) as exc:
        # The key's text must never reach an error message: name the files, not their content.
        raise ProjectError(f"the signing key or chain cannot be used ({type(exc).__name__})",
                           path=identity.key.parent) from None


def signing_failure(identity: SigningIdentity, exc: BaseException, source: Path) -> MediaError | None:
    """Say that a studio's callback failed, rather than c2pa's "COSE signature invalid"; None when it did not."""
    if isinstance(identity, CallbackSigner) and identity._failures:
        failure = identity._failures[-1]
        identity._failures.clear()
        return MediaError(f"could not sign: the signer {identity.name} {failure}", path=source)
    return None


def _guarded(identity: CallbackSigner) -> SignFunction:
    """The studio's function, wrapped so that what it raises is kept here, not logged by c2pa with its text."""

    def sign(data: bytes) -> bytes:
        try:
            signature = identity.sign(data)
        except Exception as exc:   # anything a KMS client raises ends this signing, named by type only
            identity._failures.append(f"raised {type(exc).__name__}")
            return b""
        if not isinstance(signature, bytes | bytearray) or not signature:
            identity._failures.append(f"returned {type(signature).__name__ if signature else 'nothing'}, "
                                      "not the signature bytes")
            return b""
        return bytes(signature)

    return sign


def _setting_path(project: Project, key: str, written: str) -> Path:
    """A ``[provenance]`` path: absolute as written (a studio's key store), else inside the project."""
    path = Path(written).expanduser()
    if not path.is_absolute():
        path = resolve_inside(project.root, written, source=project.settings_path, key=f"provenance.{key}")
    if not path.is_file():
        raise ProjectError(f"provenance.{key}: no such file", path=path, hint=f"set in {project.settings_path}")
    return path


def _entry_point(project: Project, written: str) -> SignFunction:
    """Import ``module:function`` from the Python path (a studio's installed package), not the project folder."""
    module_name, _, attribute = written.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ProjectError(f"provenance.signer: cannot import {module_name!r} ({type(exc).__name__})",
                           path=project.settings_path, hint="install the studio's signing package") from None
    for part in attribute.split("."):
        found = getattr(found, part, None)
    if not callable(found):
        raise ProjectError(f"provenance.signer: {written!r} is not a function", path=project.settings_path)
    return found  # type: ignore[no-any-return]
