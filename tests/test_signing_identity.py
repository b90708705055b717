"""Signing identity beyond the project CA: a studio's own chain and key, or a key held in a KMS behind a callback.

The studio CA here is a real one (root, intermediate, signing certificates made with cryptography), and the
"KMS" is a real module holding its key in an object soundstage never sees: c2pa calls it, files are signed and
verified for real.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from soundstage.errors import MediaError, ProjectError
from soundstage.project import Project
from soundstage.provenance import Identity, load_identity, sign_file, verify_file
from soundstage.provenance.signer import CallbackSigner, callback_signer, describe, project_signer

SCRIPT = Path(sys.executable).parent / "soundstage"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
CREATED = [{"action": "c2pa.created", "digitalSourceType": IPTC + "algorithmicMedia", "softwareAgent": "soundstage"}]
PEM = serialization.Encoding.PEM
NOW = dt.datetime.now(dt.UTC)

# A stand-in for a studio's KMS client: the key is made inside the module and only ever used through `sign`.
KMS_MODULE = '''
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


class Vault:
    """Holds the key; hands out only the public key and signatures, as a KMS does."""

    def __init__(self):
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.signed = 0

    def public_key(self):
        return self._key.public_key()

    def sign(self, data):
        self.signed += 1
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))   # DER, as AWS KMS and Cloud KMS return it


VAULT = Vault()


def sign(data):
    return VAULT.sign(data)


def broken(data):
    raise RuntimeError("KMS refused: token sk-live-SECRET-1234")


def wrong_key(data):
    return ec.generate_private_key(ec.SECP256R1()).sign(data, ec.ECDSA(hashes.SHA256()))
'''


def soundstage(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=environment,
                          timeout=120)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Northlight Studio")])


@dataclass
class StudioCA:
    """A studio's root and intermediate CA, issuing signing certificates the way a real CA does."""

    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey
    ca: x509.Certificate

    @classmethod
    def make(cls) -> StudioCA:
        root_key, ca_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        root = _issue(_name("Northlight root"), root_key.public_key(), _name("Northlight root"), root_key, ca=True)
        ca = _issue(_name("Northlight issuing CA"), ca_key.public_key(), root.subject, root_key, ca=True,
                    issuer_key=root_key)
        return cls(root_key, root, ca_key, ca)

    def chain(self, public_key: object, common: str = "Northlight signing", **options: object) -> bytes:
        signing = _issue(_name(common), public_key, self.ca.subject, self.ca_key, ca=False,  # type: ignore[arg-type]
                         issuer_key=self.ca_key, **options)  # type: ignore[arg-type]
        return signing.public_bytes(PEM) + self.ca.public_bytes(PEM)


def _issue(subject: x509.Name, public_key: object, issuer: x509.Name, signing_key: ec.EllipticCurvePrivateKey, *,
           ca: bool, issuer_key: ec.EllipticCurvePrivateKey | None = None,
           usages: list[x509.ObjectIdentifier] | None = None, start: dt.datetime | None = None,
           days: float = 365, authority_key_id: bool = True) -> x509.Certificate:
    start = start or NOW - dt.timedelta(minutes=5)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(public_key).serial_number(x509.random_serial_number())  # type: ignore[arg-type]
               .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                                            crl_sign=ca, encipher_only=False, decipher_only=False), critical=True))
    if issuer_key is not None and authority_key_id:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if not ca:
        chosen = [ExtendedKeyUsageOID.EMAIL_PROTECTION] if usages is None else usages
        if chosen:
            builder = builder.add_extension(x509.ExtendedKeyUsage(chosen), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _pkcs8(key: object, *, fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8,
           encryption: serialization.KeySerializationEncryption | None = None) -> bytes:
    return key.private_bytes(PEM, fmt, encryption or serialization.NoEncryption())  # type: ignore[attr-defined]


def _secret_parts(pem: bytes) -> list[str]:
    """Stretches of a key's base64 body: none may appear in anything soundstage says."""
    body = "".join(pem.decode().splitlines()[1:-1])
    return [body[i:i + 24] for i in range(0, len(body) - 24, 24)]


@pytest.fixture(scope="module")
def studio() -> StudioCA:
    return StudioCA.make()


@pytest.fixture(scope="module")
def blank_film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("blank") / "harbour"
    made = soundstage("new", folder, "--title", "Harbour Lights")
    assert made.returncode == 0, made.stderr
    return folder


@pytest.fixture
def film(blank_film: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "harbour"
    shutil.copytree(blank_film, folder)
    return folder


@pytest.fixture(scope="module")
def frame(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("frame") / "frame.png"
    assert cv2.imwrite(str(path), (np.random.default_rng(3).random((48, 64, 3)) * 255).astype(np.uint8))
    return path


@pytest.fixture
def kms(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> object:
    """The studio's KMS client module, importable as ``studio_kms`` the way an installed package would be."""
    folder = tmp_path_factory.getbasetemp() / "kms"
    if not (folder / "studio_kms.py").exists():
        folder.mkdir(exist_ok=True)
        (folder / "studio_kms.py").write_text(KMS_MODULE)
    monkeypatch.syspath_prepend(str(folder))
    import studio_kms  # type: ignore[import-not-found]

    return studio_kms


def provide(film: Path, settings: str) -> Project:
    with open(film / "soundstage.toml", "a", encoding="utf-8") as toml:
        toml.write("\n[provenance]\n" + textwrap.dedent(settings))
    return Project.load(film)


def write_studio_files(film: Path, studio: StudioCA, key: object, *, mode: int = 0o600,
                       key_pem: bytes | None = None, **options: object) -> tuple[Path, Path, Path]:
    folder = film / "studio"
    folder.mkdir(exist_ok=True)
    chain, key_file, root = folder / "chain.pem", folder / "signing.key", folder / "root.pem"
    chain.write_bytes(studio.chain(key.public_key(), **options))  # type: ignore[attr-defined]
    key_file.write_bytes(key_pem if key_pem is not None else _pkcs8(key))
    key_file.chmod(mode)
    root.write_bytes(studio.root.public_bytes(PEM))
    return chain, key_file, root


STUDIO_SETTINGS = 'chain = "studio/chain.pem"\nkey = "studio/signing.key"\nroot = "studio/root.pem"\n'

KEYS: dict[str, Callable[[], object]] = {
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ES384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "PS256": lambda: rsa.generate_private_key(65537, 2048),
    "ED25519": ed25519.Ed25519PrivateKey.generate,
}


@pytest.mark.parametrize("algorithm", sorted(KEYS))
def test_studio_chain_signs_and_its_root_makes_it_trusted(algorithm: str, film: Path, studio: StudioCA,
                                                          frame: Path, tmp_path: Path) -> None:
    _, _, root = write_studio_files(film, studio, KEYS[algorithm]())
    identity = project_signer(provide(film, STUDIO_SETTINGS))
    assert isinstance(identity, Identity) and identity.source == "studio chain"
    assert describe(identity).algorithm == algorithm
    signed = sign_file(frame, tmp_path / "take.png", identity, actions=CREATED, title="take")
    untrusted = verify_file(signed)
    assert untrusted.state == "Valid" and untrusted.ok and untrusted.signer == "Northlight signing"
    assert verify_file(signed, trust=root).state == "Trusted"
    # The project's own CA, had one been made, would not vouch for it.
    other = tmp_path / "other"
    assert soundstage("new", other).returncode == 0 and soundstage("keys", "init", other).returncode == 0
    assert verify_file(signed, trust=other / ".soundstage" / "keys" / "root.pem").state == "Valid"


def test_studio_files_may_live_outside_the_project_by_absolute_path(film: Path, studio: StudioCA, frame: Path,
                                                                     tmp_path: Path) -> None:
    store = tmp_path / "keystore"
    store.mkdir()
    key = ec.generate_private_key(ec.SECP256R1())
    (store / "chain.pem").write_bytes(studio.chain(key.public_key()))
    (store / "signing.key").write_bytes(_pkcs8(key))
    (store / "signing.key").chmod(0o600)
    identity = project_signer(provide(film, f'chain = "{store}/chain.pem"\nkey = "{store}/signing.key"\n'))
    assert isinstance(identity, Identity) and identity.key == store / "signing.key"
    assert verify_file(sign_file(frame, tmp_path / "take.png", identity, actions=CREATED)).ok


def test_a_relative_path_may_not_leave_the_project(film: Path) -> None:
    with pytest.raises(ProjectError, match=r"provenance\.chain = '\.\./chain\.pem' points outside"):
        project_signer(provide(film, 'chain = "../chain.pem"\nkey = "signing.key"\n'))


def test_a_key_in_out_is_refused(film: Path, studio: StudioCA) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    (film / "out").mkdir()
    write_studio_files(film, studio, key)
    (film / "studio" / "signing.key").rename(film / "out" / "signing.key")
    with pytest.raises(ProjectError, match="inside out/"):
        project_signer(provide(film, 'chain = "studio/chain.pem"\nkey = "out/signing.key"\n'))


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_key_others_can_read_is_refused_in_one_line(mode: int, film: Path, studio: StudioCA) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    write_studio_files(film, studio, key, mode=mode)
    project = provide(film, STUDIO_SETTINGS)
    with pytest.raises(ProjectError) as refused:
        project_signer(project)
    message = str(refused.value)
    assert f"mode {mode:04o}" in message and "chmod 600" in message and "studio/signing.key" in message
    assert len(message.splitlines()) == 1
    shown = soundstage("keys", "show", film)
    assert shown.returncode == 2 and len(shown.stderr.splitlines()) == 1 and "chmod 600" in shown.stderr
    for part in _secret_parts(_pkcs8(key)):
        assert part not in message and part not in shown.stdout + shown.stderr


def _bad_chain(studio: StudioCA, key: ec.EllipticCurvePrivateKey) -> dict[str, tuple[bytes, str]]:
    """Chains a studio might be handed by mistake, and what soundstage must say about each."""
    public = key.public_key()
    k1 = ec.generate_private_key(ec.SECP256K1())
    small = rsa.generate_private_key(65537, 1024)
    ca_only = studio.ca.public_bytes(PEM) + studio.root.public_bytes(PEM)
    good = studio.chain(public)
    leaf, intermediate = good.split(b"-----END CERTIFICATE-----\n")[0] + b"-----END CERTIFICATE-----\n", \
        studio.ca.public_bytes(PEM)
    return {
        "server-only usage": (studio.chain(public, usages=[ExtendedKeyUsageOID.SERVER_AUTH]),
                              "lacks the extended key usage C2PA needs"),
        "no usage": (studio.chain(public, usages=[]), "lacks the extended key usage"),
        "expired": (studio.chain(public, start=NOW - dt.timedelta(days=400), days=30), "expired on"),
        "not yet": (studio.chain(public, start=NOW + dt.timedelta(days=3)), "is not valid before"),
        "secp256k1": (studio.chain(k1.public_key()), "EC secp256k1; C2PA signs with"),
        "rsa 1024": (studio.chain(small.public_key()), "RSA 1024 bits"),
        "CA first": (ca_only, "is a CA, not a signing certificate"),
        "wrong order": (intermediate + studio.root.public_bytes(PEM) + leaf, "is a CA"),
        "foreign issuer": (leaf + studio.root.public_bytes(PEM), "is not issued by the next one"),
        "no AKI": (studio.chain(public, authority_key_id=False), "no authority key identifier"),
        "not PEM": (b"hello\n", "not a PEM certificate chain"),
    }


@pytest.mark.parametrize("case", ["server-only usage", "no usage", "expired", "not yet", "secp256k1", "rsa 1024",
                                  "CA first", "wrong order", "foreign issuer", "no AKI", "not PEM"])
def test_each_unfit_chain_is_one_line_naming_the_file(case: str, film: Path, studio: StudioCA) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    chain, _, _ = write_studio_files(film, studio, key)
    content, expected = _bad_chain(studio, key)[case]
    chain.write_bytes(content)
    with pytest.raises(ProjectError) as refused:
        project_signer(provide(film, STUDIO_SETTINGS))
    message = str(refused.value)
    assert expected in message and str(chain) in message and len(message.splitlines()) == 1, message


def _bad_keys(key: ec.EllipticCurvePrivateKey) -> dict[str, tuple[bytes, str]]:
    return {
        "another key": (_pkcs8(ec.generate_private_key(ec.SECP256R1())), "does not match the first certificate"),
        "SEC1": (_pkcs8(key, fmt=serialization.PrivateFormat.TraditionalOpenSSL), "openssl pkcs8 -topk8 -nocrypt"),
        "encrypted": (_pkcs8(key, encryption=serialization.BestAvailableEncryption(b"film")), "is encrypted"),
        "garbage": (b"-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----\n",
                    "not an unencrypted PKCS#8"),
    }


@pytest.mark.parametrize("case", ["another key", "SEC1", "encrypted", "garbage"])
def test_each_unusable_key_is_one_line_and_never_quoted(case: str, film: Path, studio: StudioCA) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    content, expected = _bad_keys(key)[case]
    _, key_file, _ = write_studio_files(film, studio, key, key_pem=content)
    with pytest.raises(ProjectError) as refused:
        project_signer(provide(film, STUDIO_SETTINGS))
    message = str(refused.value)
    assert expected in message and str(key_file) in message and len(message.splitlines()) == 1, message
    shown = soundstage("keys", "show", film)
    assert shown.returncode == 2 and expected in shown.stderr
    said = message + shown.stdout + shown.stderr
    assert "PRIVATE KEY" not in said
    for part in _secret_parts(content) + _secret_parts(_pkcs8(key)):
        assert part not in said


@pytest.mark.parametrize(("settings", "expected"), [
    ('key = "k.pem"\n', "chain is needed with key or signer"),
    ('chain = "c.pem"\n', "chain needs key or signer"),
    ('chain = "c.pem"\nkey = "k.pem"\nsigner = "a:b"\n', "key or signer, not both"),
    ('chain = "c.pem"\nsigner = "studio_kms"\n', "is not module:function"),
    ('tsa_url = "ftp://tsa"\n', "is not an http(s) URL"),
    ('root = "root.pem"\n', "the project CA's is .soundstage/keys/root.pem"),
    ('chian = "c.pem"\n', "chian: is not a known setting"),
])
def test_provenance_settings_are_checked_when_the_project_loads(settings: str, expected: str, film: Path) -> None:
    with pytest.raises(ProjectError, match="provenance") as refused:
        provide(film, settings)
    assert expected in str(refused.value) and "soundstage.toml" in str(refused.value)


def test_missing_studio_files_say_which_setting(film: Path) -> None:
    with pytest.raises(ProjectError, match=r"provenance\.chain: no such file"):
        project_signer(provide(film, STUDIO_SETTINGS))


def test_kms_callback_signs_and_the_key_never_reaches_soundstage(film: Path, studio: StudioCA, kms: object,
                                                                 frame: Path, tmp_path: Path) -> None:
    vault = kms.VAULT  # type: ignore[attr-defined]
    (film / "studio").mkdir()
    (film / "studio" / "chain.pem").write_bytes(studio.chain(vault.public_key(), "Northlight KMS signing"))
    root = film / "studio" / "root.pem"
    root.write_bytes(studio.root.public_bytes(PEM))
    project = provide(film, 'chain = "studio/chain.pem"\nsigner = "studio_kms:sign"\nroot = "studio/root.pem"\n')
    signer = project_signer(project)
    assert isinstance(signer, CallbackSigner) and signer.algorithm == "ES256" and signer.name == "studio_kms:sign"
    before = vault.signed
    take = sign_file(frame, tmp_path / "take.png", signer, actions=CREATED, title="take")
    assert vault.signed > before
    verdict = verify_file(take)
    assert verdict.state == "Valid" and verdict.ok and verdict.signer == "Northlight KMS signing"
    assert verify_file(take, trust=root).state == "Trusted"
    # A shot signed the same way carries the take as a signed ingredient.
    shot = sign_file(frame, tmp_path / "shot.png", signer, title="shot",
                     actions=[{"action": "c2pa.created",
                               "digitalSourceType": IPTC + "compositeWithTrainedAlgorithmicMedia"},
                              {"action": "c2pa.placed", "parameters": {"ingredientIds": ["set"]}}],
                     ingredients=[(take, "componentOf", "set")])
    shown = verify_file(shot, trust=root)
    assert shown.state == "Trusted" and shown.ingredients[0].state == "signed"
    assert not list(film.rglob("*.key")) and not list(film.rglob("*PRIVATE*"))


def test_callback_python_api_without_a_project(studio: StudioCA, kms: object, frame: Path, tmp_path: Path) -> None:
    vault = kms.VAULT  # type: ignore[attr-defined]
    chain = tmp_path / "chain.pem"
    chain.write_bytes(studio.chain(vault.public_key()))
    (tmp_path / "root.pem").write_bytes(studio.root.public_bytes(PEM))
    signer = callback_signer(vault.sign, chain, name="vault")
    assert describe(signer).source == "callback" and describe(signer).key is None
    take = sign_file(frame, tmp_path / "take.png", signer, actions=CREATED)
    assert verify_file(take, trust=tmp_path / "root.pem").state == "Trusted"


def test_a_callback_that_fails_is_named_and_its_message_is_not_repeated(
        film: Path, studio: StudioCA, kms: object, frame: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    (film / "studio").mkdir()
    (film / "studio" / "chain.pem").write_bytes(studio.chain(kms.VAULT.public_key()))  # type: ignore[attr-defined]
    broken = project_signer(provide(film, 'chain = "studio/chain.pem"\nsigner = "studio_kms:broken"\n'))
    assert broken is not None
    with pytest.raises(MediaError, match="the signer studio_kms:broken raised RuntimeError") as failed:
        sign_file(frame, tmp_path / "take.png", broken, actions=CREATED)
    assert "SECRET" not in str(failed.value) and len(str(failed.value).splitlines()) == 1
    assert "SECRET" not in caplog.text      # c2pa logs what a callback raises; soundstage keeps it from doing so
    assert not (tmp_path / "take.png").exists()
    wrong = callback_signer(kms.wrong_key, film / "studio" / "chain.pem")  # type: ignore[attr-defined]
    with pytest.raises(MediaError, match="could not sign"):
        sign_file(frame, tmp_path / "take.png", wrong, actions=CREATED)
    assert not (tmp_path / "take.png").exists()


def test_a_signer_that_cannot_be_imported_is_one_line(film: Path, studio: StudioCA, kms: object) -> None:
    (film / "studio").mkdir()
    (film / "studio" / "chain.pem").write_bytes(studio.chain(kms.VAULT.public_key()))  # type: ignore[attr-defined]
    with pytest.raises(ProjectError, match="cannot import 'no_such_kms'"):
        project_signer(provide(film, 'chain = "studio/chain.pem"\nsigner = "no_such_kms:sign"\n'))
    film2 = film.parent / "again"
    shutil.copytree(film, film2)
    (film2 / "soundstage.toml").write_text((film2 / "soundstage.toml").read_text()
                                           .replace("no_such_kms:sign", "studio_kms:nothing"))
    with pytest.raises(ProjectError, match="'studio_kms:nothing' is not a function"):
        project_signer(Project.load(film2))


def test_no_provenance_settings_is_the_project_ca_as_before(film: Path) -> None:
    with pytest.raises(ProjectError, match="soundstage keys init"):
        project_signer(Project.load(film))
    assert soundstage("keys", "init", film).returncode == 0
    identity = project_signer(Project.load(film))
    assert identity == load_identity(film.resolve()) and identity.source == "project CA"  # type: ignore[union-attr]


def test_signing_off_gives_none_and_keys_show_says_so(film: Path) -> None:
    assert project_signer(provide(film, "sign = false\n")) is None
    shown = soundstage("keys", "show", film)
    assert shown.returncode == 0 and "signing is off" in shown.stdout
    assert json.loads(soundstage("keys", "show", film, "--json").stdout) == {"source": None}


def test_tsa_url_is_carried_and_shown(film: Path) -> None:
    assert soundstage("keys", "init", film).returncode == 0
    identity = project_signer(provide(film, 'tsa_url = "http://timestamp.studio.example/tsa"\n'))
    assert identity is not None and identity.tsa_url == "http://timestamp.studio.example/tsa"
    shown = soundstage("keys", "show", film)
    assert shown.returncode == 0 and "timestamps: http://timestamp.studio.example/tsa" in shown.stdout


def test_keys_show_names_the_identity_and_never_the_key(film: Path, studio: StudioCA, kms: object) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    chain, key_file, _ = write_studio_files(film, studio, key)
    provide(film, STUDIO_SETTINGS)
    shown = soundstage("keys", "show", film)
    assert shown.returncode == 0, shown.stderr
    certificate = x509.load_pem_x509_certificates(chain.read_bytes())[0]
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex(":").upper()
    for expected in ("signs with: studio chain", "CN=Northlight signing, O=Northlight Studio",
                     "CN=Northlight issuing CA", f"{certificate.not_valid_after_utc:%Y-%m-%d}", fingerprint,
                     "ES256", str(key_file), "root.pem", "none (offline)"):
        assert expected in shown.stdout, (expected, shown.stdout)
    card = json.loads(soundstage("keys", "show", film, "--json").stdout)
    assert card["source"] == "studio chain" and card["fingerprint"] == fingerprint
    # The same project signing through the KMS instead.
    (film / "studio" / "chain.pem").write_bytes(studio.chain(kms.VAULT.public_key()))  # type: ignore[attr-defined]
    key_file.unlink()
    text = (film / "soundstage.toml").read_text().replace('key = "studio/signing.key"', 'signer = "studio_kms:sign"')
    (film / "soundstage.toml").write_text(text)
    kms_folder = Path(kms.__file__).parent  # type: ignore[attr-defined]
    via = soundstage("keys", "show", film, env={"PYTHONPATH": str(kms_folder)})
    assert via.returncode == 0, via.stderr
    assert "signs with: callback studio_kms:sign" in via.stdout and "held by the signer" in via.stdout
    for said in (shown.stdout, via.stdout, json.dumps(card)):
        assert "PRIVATE KEY" not in said
        for part in _secret_parts(_pkcs8(key)):
            assert part not in said


def test_an_unreachable_timestamp_authority_fails_the_signing_in_one_line(film: Path, frame: Path,
                                                                          tmp_path: Path) -> None:
    """A TSA that does not answer stops the signing at once (no file written), naming the URL; nothing leaves
    this machine: the port is a local one just closed."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert soundstage("keys", "init", film).returncode == 0
    identity = project_signer(provide(film, f'tsa_url = "http://127.0.0.1:{port}/tsa"\n'))
    assert identity is not None
    with pytest.raises(MediaError, match=f"127.0.0.1:{port}") as failed:
        sign_file(frame, tmp_path / "take.png", identity, actions=CREATED)
    assert len(str(failed.value).splitlines()) == 1 and not (tmp_path / "take.png").exists()


class LocalTimestampAuthority:
    """An RFC 3161 timestamp authority on 127.0.0.1: a real DER TimeStampResp, a real ECDSA signature."""

    def __init__(self, studio: StudioCA) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = _issue(_name("Northlight TSA"), self.key.public_key(), studio.ca.subject, studio.ca_key,
                                  ca=False, issuer_key=studio.ca_key, usages=[ExtendedKeyUsageOID.TIME_STAMPING])
        self.chain = [self.certificate, studio.ca]
        self.stamped = 0
        self.url = ""

    def reply(self, request: bytes) -> bytes:
        import hashlib

        from pyasn1.codec.der import decoder, encoder
        from pyasn1.type import tag, univ, useful
        from pyasn1_modules import rfc3161, rfc5035, rfc5280, rfc5652

        sha256 = univ.ObjectIdentifier("2.16.840.1.101.3.4.2.1")
        query, _ = decoder.decode(request, asn1Spec=rfc3161.TimeStampReq())
        info = rfc3161.TSTInfo()
        info["version"], info["serialNumber"] = 1, self.stamped + 1
        info["policy"] = univ.ObjectIdentifier("1.3.6.1.4.1.99999.1")
        info["messageImprint"] = query["messageImprint"]
        info["genTime"] = useful.GeneralizedTime(dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%SZ"))
        if query["nonce"].isValue:
            info["nonce"] = query["nonce"]
        info_der = encoder.encode(info)
        certificate_der = self.certificate.public_bytes(serialization.Encoding.DER)

        def attribute(oid: univ.ObjectIdentifier, value: object) -> rfc5652.Attribute:
            found = rfc5652.Attribute()
            found["attrType"] = oid
            found["attrValues"].append(value)
            return found

        essid = rfc5035.ESSCertIDv2()
        essid["certHash"] = hashlib.sha256(certificate_der).digest()
        signing_certificate = rfc5035.SigningCertificateV2()
        signing_certificate["certs"].append(essid)
        signed = rfc5652.SignedAttributes().subtype(
            implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0))
        for one in (attribute(rfc5652.id_contentType, rfc3161.id_ct_TSTInfo),
                    attribute(rfc5652.id_messageDigest, univ.OctetString(hashlib.sha256(info_der).digest())),
                    attribute(rfc5035.id_aa_signingCertificateV2, signing_certificate)):
            signed.append(one)
        parsed, _ = decoder.decode(certificate_der, asn1Spec=rfc5280.Certificate())
        signer = rfc5652.SignerInfo()
        signer["version"] = 1
        signer["sid"]["issuerAndSerialNumber"]["issuer"] = parsed["tbsCertificate"]["issuer"]
        signer["sid"]["issuerAndSerialNumber"]["serialNumber"] = parsed["tbsCertificate"]["serialNumber"]
        signer["digestAlgorithm"]["algorithm"] = sha256
        signer["signedAttrs"] = signed
        signer["signatureAlgorithm"]["algorithm"] = univ.ObjectIdentifier("1.2.840.10045.4.3.2")
        signer["signature"] = self.key.sign(encoder.encode(signed.clone(tagSet=univ.SetOf.tagSet, cloneValueFlag=True)),
                                            ec.ECDSA(hashes.SHA256()))
        data = rfc5652.SignedData()
        data["version"] = 3
        digest = rfc5280.AlgorithmIdentifier()
        digest["algorithm"] = sha256
        data["digestAlgorithms"].append(digest)
        data["encapContentInfo"]["eContentType"] = rfc3161.id_ct_TSTInfo
        data["encapContentInfo"]["eContent"] = univ.OctetString(info_der).subtype(
            explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, 0))
        for certificate in self.chain:
            choice = rfc5652.CertificateChoices()
            choice["certificate"], _ = decoder.decode(certificate.public_bytes(serialization.Encoding.DER),
                                                      asn1Spec=rfc5280.Certificate())
            data["certificates"].append(choice)
        data["signerInfos"].append(signer)
        answer = rfc3161.TimeStampResp()
        answer["status"]["status"] = 0
        answer["timeStampToken"]["contentType"] = rfc5652.id_signedData
        answer["timeStampToken"]["content"] = data
        self.stamped += 1
        return encoder.encode(answer)


@pytest.fixture
def timestamp_authority(studio: StudioCA) -> Iterator[LocalTimestampAuthority]:
    pytest.importorskip("pyasn1_modules.rfc3161")
    import http.server
    import threading

    authority = LocalTimestampAuthority(studio)

    class Desk(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            answer = authority.reply(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Desk)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    authority.url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    yield authority
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_local_timestamp_authority_stamps_the_signature(film: Path, studio: StudioCA, kms: object,
                                                          timestamp_authority: LocalTimestampAuthority, frame: Path,
                                                          tmp_path: Path) -> None:
    import c2pa

    url = timestamp_authority.url
    (film / "studio").mkdir()
    (film / "studio" / "chain.pem").write_bytes(studio.chain(kms.VAULT.public_key()))  # type: ignore[attr-defined]
    (film / "studio" / "root.pem").write_bytes(studio.root.public_bytes(PEM))
    signer = project_signer(provide(film, f'chain = "studio/chain.pem"\nsigner = "studio_kms:sign"\n'
                                          f'root = "studio/root.pem"\ntsa_url = "{url}"\n'))
    assert isinstance(signer, CallbackSigner) and signer.tsa_url == url
    take = sign_file(frame, tmp_path / "take.png", signer, actions=CREATED)
    assert timestamp_authority.stamped == 1
    assert verify_file(take, trust=film / "studio" / "root.pem").state == "Trusted"
    with open(take, "rb") as stream, c2pa.Reader("image/png", stream) as reader:
        store = json.loads(reader.json())
    stamped = store["manifests"][store["active_manifest"]]["signature_info"]["time"]
    assert abs(dt.datetime.fromisoformat(stamped) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    codes = [s["code"] for s in store["validation_results"]["activeManifest"]["success"]]
    assert "timeStamp.validated" in codes
