"""The render ledger: which finished file was made from which inputs.

A file counts as finished only when it exists *and* the ledger holds the key of the inputs that made it.
The ledger is written after the file has been renamed into place, so a run killed in between merely
re-renders that one file. (A JSON file for now; the pipeline issue moves this into the project database.)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from soundstage import __version__
from soundstage.atomic import write_text

# Bump when a change to the render code changes its pixels, so old renders are not reused.
RENDER_CODE = f"{__version__}/render-1"


def content_key(*parts: Any) -> str:
    """A stable hash of JSON-able inputs."""
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def file_digest(path: Path, _memo: dict[tuple[str, int, int], str] = {}) -> str:  # noqa: B006 - a memo by design
    """sha256 of a file's content, remembered per (path, size, mtime) so a run hashes each plate once."""
    stat = path.stat()
    memo_key = (str(path), stat.st_size, stat.st_mtime_ns)
    if memo_key not in _memo:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _memo[memo_key] = digest.hexdigest()
    return _memo[memo_key]


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: dict[str, str] = {}
        if path.is_file():
            try:
                self._keys = json.loads(path.read_text("utf-8"))
            except (ValueError, OSError):
                self._keys = {}   # a damaged ledger only costs re-renders, never output

    def is_current(self, output: Path, key: str) -> bool:
        return output.is_file() and self._keys.get(self._name(output)) == key

    def record(self, output: Path, key: str) -> None:
        self._keys[self._name(output)] = key
        write_text(self.path, json.dumps(self._keys, indent=1, sort_keys=True))

    def _name(self, output: Path) -> str:
        return output.relative_to(self.path.parent.parent).as_posix()
