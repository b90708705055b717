"""One render of a project at a time: a lock file in ``.soundstage/`` held by the rendering process.

Why an OS lock (``flock``) and not a pid file: the kernel drops it when the holder dies, SIGKILL included, so
a killed render never leaves a stale lock that blocks the next one. The file records who holds it, so the
refusal can say which process and since when.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from soundstage.errors import ProjectError

LOCK_FILE = "render.lock"


@contextlib.contextmanager
def render_lock(state_dir: Path, *, wait: bool = False, timeout: float | None = None) -> Iterator[None]:
    """Hold the project's render lock for the block; refuse at once if another render holds it.

    ``wait`` waits for the other render to finish instead (at most ``timeout`` seconds, if given).
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_FILE
    with open(path, "a+", encoding="utf-8") as handle:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait or (deadline is not None and time.monotonic() > deadline):
                    raise ProjectError(f"another render of this project is running ({_holder(path)})", path=path,
                                       hint="wait for it to finish, or run again with --wait") from None
                time.sleep(0.2)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": os.getpid(), "since": datetime.now(UTC).isoformat(timespec="seconds")}))
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text("utf-8"))
        return f"pid {holder['pid']}, since {holder['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"
