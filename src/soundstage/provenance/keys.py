"""The project's signing identity: its own root CA, an intermediate and a signing certificate.

A project signs its takes, shots and cut with a key only it holds, so anyone given ``root.pem`` can check
that a file came out of this project unaltered. The keys live in ``.soundstage/keys/``, never in ``out/``,
so a delivery folder never carries them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from soundstage.atomic import atomic_path, write_bytes
from soundstage.errors import ProjectError

__all__ = ["CHAIN_FILE", "KEY_FILE", "ROOT_FILE", "Identity", "check_chain", "check_key", "init_keys", "keys_dir",
           "load_identity", "private_keys_dir", "signing_algorithm"]

KEY_FILE = "signing.key"     # PKCS#8 PEM, mode 0600
CHAIN_FILE = "chain.pem"     # signing certificate, then the intermediate: what c2pa embeds
ROOT_FILE = "root.pem"       # the trust anchor a reviewer is given
ROOT_YEARS, INTERMEDIATE_YEARS, SIGNING_YEARS = 20, 10, 2
# C2PA accepts a signing certificate whose extended key usage names e-mail protection or this one.
C2PA_SIGNING_EKU = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


@dataclass(frozen=True)
class Identity:
    """Where a signing identity's files are. The key is read only when a file is signed.

    ``source`` says whose chain it is (``project CA`` or ``studio chain``) for ``soundstage keys show``;
    ``tsa_url`` is an RFC 3161 timestamp authority, none by default so signing stays offline.
    """

    key: Path
    chain: Path
    root: Path | None = None
    source: str = "project CA"
    tsa_url: str | None = None

    def key_pem(self) -> bytes:
        return self.key.read_bytes()

    def chain_pem(self) -> bytes:
        return self.chain.read_bytes()


def keys_dir(project_root: str | Path) -> Path:
    return Path(project_root) / ".soundstage" / "keys"


def private_keys_dir(project_root: str | Path) -> Path:
    """The keys folder, made if missing and closed to group and others (mode 0700), also when an older
    soundstage made it 0755: the file names alone say which keys a project has."""
    folder = keys_dir(project_root)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if folder.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):    # someone else's folder: theirs to close
            folder.chmod(0o700)
    return folder


def init_keys(project_root: str | Path, *, force: bool = False, title: str | None = None) -> Identity:
    """Make the project's root CA, intermediate and signing certificate (EC P-256) and write them."""
    folder = keys_dir(project_root)
    paths = Identity(folder / KEY_FILE, folder / CHAIN_FILE, folder / ROOT_FILE)
    existing = [p for p in (paths.key, paths.chain, paths.root) if p is not None and p.exists()]
    if existing and not force:
        raise ProjectError("signing keys already exist; nothing was written", path=folder,
                           hint="--force makes new ones; files signed before then check only against the old root.pem")
    name = title or _project_title(Path(project_root))
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)   # a little slack for clocks that differ
    root_key, ca_key, signing_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root_name = _name(f"{name} root CA", name)
    ca_name = _name(f"{name} intermediate CA", name)
    root = _certificate(root_name, root_name, root_key.public_key(), root_key, now, ROOT_YEARS, ca=True,
                        path_length=1)
    ca = _certificate(ca_name, root_name, ca_key.public_key(), root_key, now, INTERMEDIATE_YEARS, ca=True,
                      path_length=0, issuer_cert=root)
    signing = _certificate(_name(f"{name} signing", name), ca_name, signing_key.public_key(), ca_key, now,
                           SIGNING_YEARS, ca=False, issuer_cert=ca)
    private_keys_dir(project_root)
    _write_private(paths.key, signing_key.private_bytes(serialization.Encoding.PEM,
                                                        serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    pem = serialization.Encoding.PEM
    write_bytes(paths.chain, signing.public_bytes(pem) + ca.public_bytes(pem))
    assert paths.root is not None
    write_bytes(paths.root, root.public_bytes(pem))
    return paths


def load_identity(project_root: str | Path, *, key: str | Path | None = None,
                  chain: str | Path | None = None) -> Identity:
    """The project's identity, or a studio's own key and chain given explicitly."""
    folder = keys_dir(project_root)
    if folder.is_dir():
        private_keys_dir(project_root)
    found = Identity(Path(key) if key else folder / KEY_FILE, Path(chain) if chain else folder / CHAIN_FILE,
                     folder / ROOT_FILE if (folder / ROOT_FILE).is_file() else None)
    for path in (found.key, found.chain):
        if not path.is_file():
            raise ProjectError("no signing key or certificate chain here", path=path,
                               hint="make them with 'soundstage keys init'")
    _check_pair(found)
    return found


def _check_pair(identity: Identity) -> None:
    """Refuse a key its chain does not certify now, rather than sign files no one can verify.

    Errors name the files, never their content.
    """
    certificate = check_chain(identity.chain)[0]
    check_key(identity.key, certificate, private_only=False)


def signing_algorithm(certificate: x509.Certificate) -> str:
    """The C2PA algorithm for the certificate's key: ES256/384/512 for EC P-256/384/521, PS256 for RSA, Ed25519."""
    public = certificate.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name in _EC_ALGORITHMS:
        return _EC_ALGORITHMS[public.curve.name]
    if isinstance(public, rsa.RSAPublicKey) and public.key_size >= 2048:
        return "PS256"
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "ED25519"
    raise ValueError(_key_kind(public))


def check_chain(path: Path, *, now: dt.datetime | None = None) -> list[x509.Certificate]:
    """The chain's certificates, signing certificate first, once they are fit for C2PA signing today.

    c2pa only says "the certificate is invalid"; these checks say which certificate and why.
    """
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as exc:
        raise ProjectError(f"the certificate chain cannot be read: {exc.strerror}", path=path) from None
    except ValueError:
        raise ProjectError("not a PEM certificate chain", path=path) from None
    if not certificates:
        raise ProjectError("not a PEM certificate chain", path=path)
    leaf = certificates[0]
    try:
        signing_algorithm(leaf)
    except ValueError as exc:
        raise ProjectError(f"the signing certificate's key is {exc}; C2PA signs with EC P-256, P-384 or P-521, "
                           "RSA of 2048 bits or more (PS256) or Ed25519", path=path) from None
    if _is_ca(leaf):
        raise ProjectError(f"the first certificate ({_common_name(leaf)}) is a CA, not a signing certificate: "
                           "put the signing certificate first, then its intermediates", path=path)
    try:
        usages = set(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usages = set()
    if not usages & {ExtendedKeyUsageOID.EMAIL_PROTECTION, C2PA_SIGNING_EKU}:
        raise ProjectError(f"the signing certificate ({_common_name(leaf)}) lacks the extended key usage C2PA "
                           "needs: emailProtection or 1.3.6.1.5.5.7.3.36", path=path)
    try:
        leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound:
        raise ProjectError(f"the signing certificate ({_common_name(leaf)}) has no authority key identifier, "
                           "which C2PA requires", path=path) from None
    now = now or dt.datetime.now(dt.UTC)
    for certificate in certificates:
        if certificate.not_valid_after_utc < now:
            raise ProjectError(f"certificate {_common_name(certificate)} expired on "
                               f"{certificate.not_valid_after_utc:%Y-%m-%d}", path=path)
        if certificate.not_valid_before_utc > now:
            raise ProjectError(f"certificate {_common_name(certificate)} is not valid before "
                               f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC", path=path)
    for child, parent in itertools.pairwise(certificates):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature):
            raise ProjectError(f"certificate {_common_name(child)} is not issued by the next one in the chain "
                               f"({_common_name(parent)}): the chain goes signing certificate, then each issuer",
                               path=path) from None
    return certificates


def check_key(path: Path, certificate: x509.Certificate, *, private_only: bool = True) -> None:
    """Refuse a key others can read, one c2pa cannot load, or one that is not the certificate's.

    ``private_only`` refuses a key file with any group or other permission bits, as ssh does. Messages name
    the file and never quote it.
    """
    try:
        mode = path.stat().st_mode & 0o777
        if private_only and mode & 0o077:
            raise ProjectError(f"the signing key is open to group or others (mode {mode:04o}); "
                               f"chmod 600 it", path=path)
        pem = path.read_bytes()
    except OSError as exc:
        raise ProjectError(f"the signing key cannot be read: {exc.strerror}", path=path) from None
    if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem:
        raise ProjectError("the signing key is encrypted; c2pa needs an unencrypted PKCS#8 PEM key "
                           "(or keep it in a KMS and sign through [provenance] signer)", path=path)
    if b"-----BEGIN PRIVATE KEY-----" not in pem:
        raise ProjectError("not an unencrypted PKCS#8 PEM private key (convert it with "
                           "'openssl pkcs8 -topk8 -nocrypt')", path=path)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ProjectError("not an unencrypted PKCS#8 PEM private key", path=path) from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if (key.public_key().public_bytes(serialization.Encoding.DER, spki)
            != certificate.public_key().public_bytes(serialization.Encoding.DER, spki)):
        raise ProjectError("the signing key does not match the first certificate of the chain", path=path)


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return repr(str(names[0].value)) if names else certificate.subject.rfc4514_string() or "(no name)"


def _key_kind(public: object) -> str:
    if isinstance(public, ec.EllipticCurvePublicKey):
        return f"EC {public.curve.name}"
    if isinstance(public, rsa.RSAPublicKey):
        return f"RSA {public.key_size} bits"
    return type(public).__name__.removeprefix("_").removesuffix("PublicKey") or "of an unknown kind"


def _project_title(root: Path) -> str:
    from soundstage.project import Project

    try:
        return Project.load(root).settings.title
    except ProjectError:
        return root.resolve().name


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common[:64]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64])])


def _certificate(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey,
                 signing_key: ec.EllipticCurvePrivateKey, now: dt.datetime, years: int, *, ca: bool,
                 path_length: int | None = None, issuer_cert: x509.Certificate | None = None) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(now)
               .not_valid_after(now + dt.timedelta(days=365 * years))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()),  # type: ignore[arg-type]
            critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([C2PA_SIGNING_EKU, ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _write_private(path: Path, content: bytes) -> None:
    """The key file is 0600 from its first byte: the temporary is made 0600 and renamed over."""
    with atomic_path(path) as tmp:
        os.chmod(tmp, 0o600)
        tmp.write_bytes(content)
    os.chmod(path, 0o600)
