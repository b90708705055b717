"""The render ledger: which finished file was made from which inputs.

A file counts as finished only when it exists *and* the ledger holds the key of the inputs that made it.
The ledger is written after the file has been renamed into place, so a run killed in between merely
re-renders that one file. (A JSON file for now; the pipeline issue moves this into the project database.)
"""

from __future__ import annotations

import json
from pathlib import Path

from soundstage import __version__
from soundstage.atomic import write_text

# Bump when a change to the render code changes its pixels, so old renders are not reused.
RENDER_CODE = f"{__version__}/render-2"


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
        return output.exists() and self._keys.get(self._name(output)) == key

    def record(self, output: Path, key: str) -> None:
        self._keys[self._name(output)] = key
        write_text(self.path, json.dumps(self._keys, indent=1, sort_keys=True))

    def _name(self, output: Path) -> str:
        return output.relative_to(self.path.parent.parent).as_posix()
