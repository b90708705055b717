"""Keys: stable hashes of what made an output, so the same inputs are never computed twice."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

__all__ = ["content_key", "file_digest"]


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
