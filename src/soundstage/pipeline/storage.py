"""Finished outputs published to shared storage: a path or an fsspec URL (``s3://bucket/film``, ``gs://…``).

Why: on a cluster the crew, the editors and the next machine read the film from storage every worker can
reach, not from the disk of the worker that rendered it. The worker that made a file publishes it, under
the same path it has in the project (``out/shots/3-1.mp4``), as a temporary name moved into place, so a
killed upload never stands in for a finished file. The render ledger enters an output only after this, so
a re-run publishes whatever a killed run did not.

``[render] storage`` needs the ``storage`` extra (fsspec) and, for a cloud store, its fsspec driver
(``s3fs``, ``gcsfs``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

from soundstage.errors import ProjectError, install_hint


def publish(url: str | None, root: Path, outputs: Iterable[Path]) -> None:
    """Copy each output (a file, or a folder of numbered frames) under ``url``, at its path in the project."""
    if not url:
        return
    storage, base = _open(url)
    for output in outputs:
        files = [output] if output.is_file() else sorted(p for p in output.rglob("*") if p.is_file())
        for file in files:
            target = f"{base.rstrip('/')}/{file.relative_to(root).as_posix()}"
            folder, name = target.rsplit("/", 1)
            partial = f"{folder}/.{name}.{uuid.uuid4().hex[:8]}.partial"
            try:
                storage.makedirs(folder, exist_ok=True)
                storage.put_file(str(file), partial)
                storage.mv(partial, target)
            except OSError as exc:
                raise ProjectError(f"cannot publish {file.relative_to(root)} to {url}: {exc}",
                                   hint="check [render] storage and the store's credentials") from None


def _open(url: str):  # type: ignore[no-untyped-def]
    try:
        import fsspec
    except ImportError:
        raise ProjectError(f"[render] storage = {url!r} needs fsspec",
                           hint=f"{install_hint('storage')} (and s3fs or gcsfs for a cloud store)") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise ProjectError(f"cannot open storage {url}: {exc}".splitlines()[0],
                           hint=f"install the fsspec driver for it, e.g. {install_hint(None, 's3fs')}") from None
