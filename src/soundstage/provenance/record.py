"""The watermark's key and payload: what marks a shot's generated pixels so a file found in the wild leads back
to its shot record (``records.shot``) and so to its takes.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from soundstage.atomic import write_text
from soundstage.errors import ProjectError
from soundstage.project import Project
from soundstage.provenance.keys import private_keys_dir


def mark_key(project: Project) -> int:
    """The project's secret watermark key, made once and kept with the signing keys (mode 0600): 128 bits
    (a key of 64 made before still reads, so old cuts still trace).

    Written to a private temporary and linked into place, so two workers starting at once agree on one key.
    """
    path = _mark_key_path(project.root)
    private_keys_dir(project.root)
    if not path.is_file():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as stream:
            stream.write(f"{secrets.randbits(128):032x}\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    try:
        return int(path.read_text("ascii").strip(), 16)
    except ValueError:
        raise ProjectError("the watermark key is damaged (32 or 16 hex digits expected)", path=path) from None


def share_mark_key(project_root: Path, key: int) -> None:
    """Give a project this watermark key instead of one of its own: a studio reading all its films with one
    key, or copies of one film that must mark their pixels alike. Written mode 0600; replaces any key there."""
    path = _mark_key_path(project_root)
    private_keys_dir(project_root)
    write_text(path, f"{key:032x}\n" if key >> 64 else f"{key:016x}\n")
    path.chmod(0o600)


def _mark_key_path(project_root: Path) -> Path:
    return project_root / ".soundstage" / "keys" / "watermark.key"


def mark_payload(shot_key: str) -> bytes:
    """The 8-byte watermark of one shot render: its key's hash, so it names exactly what made the pixels."""
    return hashlib.sha256(f"soundstage-mark:{shot_key}".encode()).digest()[:8]
