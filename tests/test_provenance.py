"""Provenance: real keys, real C2PA signing and verifying of real PNG, JPEG, MP4 and MOV files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization

from soundstage.errors import MediaError, ProjectError
from soundstage.media import ProResWriter, VideoWriter
from soundstage.provenance import Identity, init_keys, load_identity, sign_file, verify_file

SCRIPT = Path(sys.executable).parent / "soundstage"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
CREATED = [{"action": "c2pa.created", "digitalSourceType": IPTC + "algorithmicMedia", "softwareAgent": "soundstage"}]
KINDS = ("png", "jpg", "mp4", "mov")
WIDTH, HEIGHT = 96, 64


def soundstage(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("film") / "harbour"
    assert soundstage("new", folder, "--title", "Harbour Lights").returncode == 0
    made = soundstage("keys", "init", folder)
    assert made.returncode == 0, made.stderr
    return folder


@pytest.fixture(scope="module")
def identity(film: Path) -> Identity:
    return load_identity(film)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small unsigned file of each kind, made the way soundstage makes them."""
    folder = tmp_path_factory.mktemp("plain")
    rgb = (np.random.default_rng(7).random((HEIGHT, WIDTH, 3)) * 255).astype(np.uint8)
    files = {kind: folder / f"frame.{kind}" for kind in KINDS}
    assert cv2.imwrite(str(files["png"]), rgb) and cv2.imwrite(str(files["jpg"]), rgb)
    with VideoWriter(files["mp4"], width=WIDTH, height=HEIGHT, fps=24) as writer:
        for _ in range(6):
            writer.write(rgb)
    with ProResWriter(files["mov"], width=WIDTH, height=HEIGHT, fps=24) as writer:
        for _ in range(6):
            writer.write(np.dstack([rgb, np.full((HEIGHT, WIDTH), 255, np.uint8)]))
    return files


@pytest.fixture(scope="module")
def signed(plain: dict[str, Path], identity: Identity, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("signed")
    return {kind: sign_file(path, folder / f"take.{kind}", identity, actions=CREATED, title=f"take {kind}")
            for kind, path in plain.items()}


def flipped(path: Path, offset: int, into: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    into.write_bytes(bytes(data))
    return into


def media_offset(path: Path) -> int:
    """A byte inside the picture data, well away from the manifest."""
    data = path.read_bytes()
    if path.suffix == ".png":
        return data.index(b"IDAT") + 20
    if path.suffix == ".jpg":
        return data.rindex(b"\xff\xd9") - 20    # entropy-coded scan data, just before end of image
    return data.index(b"mdat") + 40


def test_keys_are_pkcs8_private_and_outside_out(film: Path, identity: Identity) -> None:
    keys = film / ".soundstage" / "keys"
    assert identity.key.parent == keys and identity.root == keys / "root.pem"
    assert identity.key.stat().st_mode & 0o777 == 0o600
    pem = identity.key.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")          # PKCS#8, not "EC PRIVATE KEY"
    serialization.load_pem_private_key(pem, password=None)
    assert identity.chain.read_text().count("BEGIN CERTIFICATE") == 2
    assert not (film / "out").exists() or not any((film / "out").rglob("*.key"))


def test_keys_init_refuses_to_overwrite_without_force(film: Path, tmp_path: Path) -> None:
    again = soundstage("keys", "init", film)
    assert again.returncode == 2 and "already exist" in again.stderr and len(again.stderr.splitlines()) == 1
    other = tmp_path / "other"
    init_keys(other, title="Other")
    first = (other / ".soundstage" / "keys" / "signing.key").read_bytes()
    with pytest.raises(ProjectError, match="already exist"):
        init_keys(other)
    init_keys(other, force=True)
    assert (other / ".soundstage" / "keys" / "signing.key").read_bytes() != first


def test_load_identity_without_keys_says_how_to_make_them(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="soundstage keys init"):
        load_identity(tmp_path)


@pytest.mark.parametrize("kind", KINDS)
def test_signed_file_is_valid_then_trusted_with_the_root(kind: str, film: Path, signed: dict[str, Path]) -> None:
    verdict = verify_file(signed[kind])
    assert verdict.state == "Valid" and not verdict.tampered and verdict.ok
    assert verdict.title == f"take {kind}" and verdict.signer == "Harbour Lights signing"
    assert [(a.action, a.digital_source_type) for a in verdict.actions] == [
        ("c2pa.created", IPTC + "algorithmicMedia")]
    root = film / ".soundstage" / "keys" / "root.pem"
    result = soundstage("verify", signed[kind], "--trust", root, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    shown = json.loads(result.stdout)
    assert shown["state"] == "Trusted" and shown["tampered"] is False
    assert shown["actions"][0]["digitalSourceType"] == IPTC + "algorithmicMedia"
    untrusted = soundstage("verify", signed[kind])
    assert untrusted.returncode == 0 and "Valid" in untrusted.stdout and "algorithmicMedia" in untrusted.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_one_flipped_byte_is_tampering(kind: str, film: Path, signed: dict[str, Path], tmp_path: Path) -> None:
    root = film / ".soundstage" / "keys" / "root.pem"
    data = signed[kind].read_bytes()
    damaged = {
        "picture": flipped(signed[kind], media_offset(signed[kind]), tmp_path / f"picture.{kind}"),
        "assertion": flipped(signed[kind], data.index(b"softwareAgent") + 3, tmp_path / f"assertion.{kind}"),
        "manifest box": flipped(signed[kind], data.index(b"jumb") + 1, tmp_path / f"box.{kind}"),
    }
    for where, path in damaged.items():
        verdict = verify_file(path, trust=root)
        assert verdict.state == "Invalid" and verdict.tampered and verdict.errors, where
        result = soundstage("verify", path, "--trust", root)
        assert result.returncode == 1, (where, result.stdout, result.stderr)
        assert "Invalid" in result.stdout and "tampered" in result.stdout


def test_unsigned_file_has_no_manifest_and_fails(plain: dict[str, Path]) -> None:
    assert verify_file(plain["png"]).state == "none"
    result = soundstage("verify", plain["png"], "--json")
    assert result.returncode == 1 and json.loads(result.stdout)["state"] == "none"


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, identity: Identity, plain: dict[str, Path]) -> None:
    missing = soundstage("verify", tmp_path / "gone.png")
    assert missing.returncode == 2 and "no such file" in missing.stderr and len(missing.stderr.splitlines()) == 1
    (tmp_path / "clip.avi").write_bytes(b"RIFF")
    odd = soundstage("verify", tmp_path / "clip.avi")
    assert odd.returncode == 2 and ".avi" in odd.stderr
    with pytest.raises(MediaError, match=r"\.avi"):
        sign_file(tmp_path / "clip.avi", tmp_path / "signed.avi", identity, actions=CREATED)
    with pytest.raises(MediaError, match="does not convert"):
        sign_file(plain["png"], tmp_path / "signed.jpg", identity, actions=CREATED)


def test_ingredient_chain_is_carried_and_shown(film: Path, identity: Identity, signed: dict[str, Path],
                                               plain: dict[str, Path], tmp_path: Path) -> None:
    composite = IPTC + "compositeWithTrainedAlgorithmicMedia"
    shot = sign_file(plain["png"], tmp_path / "shot.png", identity, title="shot 1-1",
                     actions=[{"action": "c2pa.created", "digitalSourceType": composite},
                              {"action": "c2pa.placed", "parameters": {"ingredientIds": ["set"]}}],
                     ingredients=[(signed["png"], "componentOf", "set")])
    graded = sign_file(shot, tmp_path / "graded.png", identity, title="shot 1-1 graded",
                       actions=[{"action": "c2pa.opened", "parameters": {"ingredientIds": ["shot"]}},
                                {"action": "c2pa.color_adjustments"}],
                       ingredients=[(shot, "parentOf", "shot")])
    root = film / ".soundstage" / "keys" / "root.pem"
    verdict = verify_file(graded, trust=root)
    assert verdict.state == "Trusted" and verdict.ok
    (parent,) = verdict.ingredients
    assert (parent.title, parent.relationship, parent.state) == ("shot.png", "parentOf", "signed")
    (take,) = parent.ingredients
    assert (take.title, take.relationship) == ("take.png", "componentOf")
    assert take.actions[0].digital_source_type == IPTC + "algorithmicMedia"
    result = soundstage("verify", graded, "--trust", root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "parentOf shot.png" in result.stdout and "componentOf take.png" in result.stdout
    assert "compositeWithTrainedAlgorithmicMedia" in result.stdout and "algorithmicMedia" in result.stdout


def test_private_key_never_appears_in_output(film: Path, identity: Identity, signed: dict[str, Path],
                                             tmp_path: Path) -> None:
    pem = identity.key.read_text()
    body = "".join(pem.splitlines()[1:-1])
    fresh = tmp_path / "fresh"
    assert soundstage("new", fresh).returncode == 0
    runs = [soundstage("keys", "init", fresh), soundstage("keys", "init", fresh),
            soundstage("verify", signed["mp4"], "--json"), soundstage("verify", signed["jpg"])]
    fresh_body = "".join((fresh / ".soundstage" / "keys" / "signing.key").read_text().splitlines()[1:-1])
    for run in runs:
        for secret in (body, fresh_body):
            assert secret[:40] not in run.stdout + run.stderr
            assert secret[-40:] not in run.stdout + run.stderr
        assert "PRIVATE KEY" not in run.stdout + run.stderr
    assert "signing.key" in runs[0].stdout and "root.pem" in runs[0].stdout


def test_a_key_its_chain_does_not_certify_is_refused_without_showing_it(tmp_path: Path, identity: Identity) -> None:
    other = init_keys(tmp_path / "other", title="Other")
    with pytest.raises(ProjectError, match="does not match") as refused:
        load_identity(tmp_path, key=other.key, chain=identity.chain)
    assert "PRIVATE KEY" not in str(refused.value) and other.key.read_text()[40:80] not in str(refused.value)
    broken = tmp_path / "broken.key"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ProjectError, match="PKCS#8") as unreadable:
        load_identity(tmp_path, key=broken, chain=identity.chain)
    assert "MIGHAgEA" not in str(unreadable.value)


def test_a_manifest_no_reader_would_accept_is_refused(identity: Identity, plain: dict[str, Path],
                                                      tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="digitalSourceType"):
        sign_file(plain["png"], tmp_path / "bare.png", identity, actions=[{"action": "c2pa.created"}])
    assert not (tmp_path / "bare.png").exists() and not list(tmp_path.glob(".*partial*"))


def test_trust_asks_whether_my_root_signed_it(signed: dict[str, Path], tmp_path: Path) -> None:
    """--trust ROOT: a file another project's root signed is not trusted by ROOT, and exits 1."""
    other = tmp_path / "other"
    init_keys(other, title="Other Film")
    root = other / ".soundstage" / "keys" / "root.pem"
    verdict = verify_file(signed["png"], trust=root)
    assert verdict.state == "Valid" and not verdict.tampered and not verdict.ok
    result = soundstage("verify", signed["png"], "--trust", root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"not trusted by {root}" in result.stdout and "Harbour Lights signing" in result.stdout
    shown = soundstage("verify", signed["png"], "--trust", root, "--json")
    assert shown.returncode == 1 and json.loads(shown.stdout)["ok"] is False
