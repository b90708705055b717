"""Image sequences: one numbered PNG or EXR per frame, in a folder of their own, for finishing.

A sequence is published like a file: frames go into a hidden temporary folder beside the target and the
folder is renamed into place when the writer closes without error, so a killed or failed render never leaves
a folder of frames that looks finished. Re-rendering over an existing sequence moves the old folder aside,
renames the new one in, then deletes the old one (a crash in that instant leaves no folder, never a mixed
one).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from soundstage.atomic import PARTIAL, disk_full
from soundstage.errors import MediaError
from soundstage.media.exr import Compression, ExrSpace, encode_exr, require_openexr
from soundstage.media.image import read_image
from soundstage.media.video import as_rate, check_frame

# name.%04d.png: one printf-style zero-padded counter, then the extension that picks the codec
_PATTERN = re.compile(r"^[^%/\\]*%0[1-9]d[^%/\\]*\.(png|exr)$", re.IGNORECASE)


def split_pattern(pattern: str) -> tuple[str, str, str]:
    """``"plate.%04d.png"`` → ``("plate.", "%04d", ".png")``; a pattern without one padded counter is refused."""
    if not _PATTERN.match(pattern):
        raise MediaError(f"not a frame pattern: {pattern!r} (want one zero-padded counter, e.g. "
                         "'name.%04d.png' or 'name.%04d.exr')")
    head, counter, tail = re.split(r"(%0[1-9]d)", pattern)
    return head, counter, tail


class ImageSequenceWriter(AbstractContextManager["ImageSequenceWriter"]):
    """Write straight RGBA (or RGB) frames as a numbered PNG or EXR sequence into ``folder``.

    PNG keeps 8-bit straight sRGB RGBA exactly. EXR stores half-float, scene-linear, premultiplied RGBA
    (see :mod:`soundstage.media.exr`; needs ``soundstage[exr]``). Frames are numbered from ``first``
    (editorial convention is often 1001). ``folder`` holds only this sequence: it is replaced as a whole.
    ``workers`` frames are encoded at once in threads (PNG and EXR encoders use one core each); ``write``
    copies the frame and returns, and an encoding error is raised by a later ``write`` or by the close.
    """

    def __init__(self, folder: str | Path, pattern: str, *, width: int, height: int, fps: float,
                 alpha: bool = True, first: int = 1, exr_compression: Compression = "zip",
                 workers: int = 2, space: ExrSpace | None = None) -> None:
        self.path = Path(folder)
        self.pattern = pattern
        self.kind = split_pattern(pattern)[2].rsplit(".", 1)[1].lower()
        self.width, self.height = width, height
        self.fps = as_rate(fps)
        self.alpha = alpha
        self.first = first
        self.frames = 0
        self._compression = exr_compression
        self.space = space if self.kind == "exr" else None   # set: takes the comp's scene-linear float frames
        if workers < 1:
            raise ValueError(f"workers must be 1 or more, not {workers}")
        if self.path.exists() and not self.path.is_dir():
            raise MediaError("is a file, not a folder for an image sequence", path=self.path)
        if self.kind == "exr":
            require_openexr(self.path)                          # refuse now, not after the first comped frame
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=PARTIAL, dir=self.path.parent))
        os.chmod(self._tmp, _folder_mode())
        # Frames are independent files, and PNG/EXR encoders are single-threaded and free the GIL: encoding
        # ``workers`` frames at once is what lets a sequence keep up with the comp.
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="soundstage-sequence")
        self._pending: deque[Future[None]] = deque()
        self._limit = 2 * workers

    def frame_path(self, index: int) -> Path:
        """Where frame ``index`` (0-based) lands once the sequence is published."""
        return self.path / (self.pattern % (self.first + index))

    def write(self, frame: np.ndarray) -> None:
        """Queue the frame (copied) for encoding; an earlier frame's encoding error is raised here."""
        linear = self.space is not None and frame.dtype == np.float32 and frame.shape[:2] == (self.height,
                                                                                              self.width)
        if not linear:
            frame = check_frame(frame, self.width, self.height, alpha=self.alpha)
        while self._pending and (self._pending[0].done() or len(self._pending) >= self._limit):
            self._pending.popleft().result()
        opaque = self.alpha and frame.shape[2] == 3 and not linear
        frame = cv2.cvtColor(frame, cv2.COLOR_RGB2RGBA) if opaque else frame.copy()   # the caller may reuse it
        self._pending.append(self._pool.submit(self._store, frame, self.frames))
        self.frames += 1

    def _store(self, frame: np.ndarray, index: int) -> None:
        target = self._tmp / (self.pattern % (self.first + index))
        if self.kind == "png":
            order = cv2.COLOR_RGBA2BGRA if frame.shape[2] == 4 else cv2.COLOR_RGB2BGR
            # level 1 (zlib's fastest): ~1.5× the size of level 3 at half its time; finishing wants speed
            ok, encoded = cv2.imencode(".png", cv2.cvtColor(frame, order), [cv2.IMWRITE_PNG_COMPRESSION, 1])
            if not ok:
                raise MediaError("could not be encoded as PNG", path=self.frame_path(index))
            _write_synced(target, encoded.data)
        else:
            encode_exr(target, frame, fps=self.fps, compression=self._compression, space=self.space)
            _sync(target)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is not None:
                for future in self._pending:
                    future.cancel()
            self._pool.shutdown(wait=True)
            if exc_type is None:
                for future in self._pending:
                    future.result()
                _sync(self._tmp)
                publish_folder(self._tmp, self.path)
        except OSError as failed:
            if (full := disk_full(failed, self.path)) is None:
                raise
            raise full from None
        finally:
            self._pending.clear()
            self._pool.shutdown(wait=True)
            shutil.rmtree(self._tmp, ignore_errors=True)
        if (full := disk_full(exc, self.path)) is not None:     # a frame that filled the disk, in the block
            raise full from None


def publish_folder(tmp: Path, target: Path) -> None:
    """Rename a finished folder over ``target``: the old one aside first, so no moment shows a mixed folder."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}{PARTIAL}-old")
        os.replace(target, old)
    os.replace(tmp, target)
    _sync(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_synced(target: Path, content: memoryview | bytes) -> None:
    with open(target, "wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _folder_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


_NUMBER = re.compile(r"(\d+)(?=\D*$)")


def read_sequence(source: str | Path) -> Iterator[np.ndarray]:
    """Yield a PNG sequence's frames in frame-number order, as RGB or RGBA uint8.

    ``source`` is a folder of numbered PNGs or a pattern such as ``shots/3-1/3-1.%04d.png``. A gap in the
    numbering raises MediaError naming the missing frame, rather than silently shortening the shot.
    """
    source = Path(source)
    if "%" in source.name:
        head, _, tail = split_pattern(source.name)
        folder = source.parent
        wanted = re.compile(re.escape(head) + r"(\d+)" + re.escape(tail) + "$")
    else:
        folder = source
        wanted = re.compile(r".*\.png$", re.IGNORECASE)
    if not folder.is_dir():
        raise MediaError("no such folder", path=folder)
    numbered: list[tuple[int, Path]] = []
    for path in folder.iterdir():
        if path.name.startswith(".") or not wanted.match(path.name):
            continue
        found = _NUMBER.search(path.name)
        if found is None:
            raise MediaError("is not numbered like the rest of the sequence", path=path)
        numbered.append((int(found.group(1)), path))
    if not numbered:
        raise MediaError("holds no numbered PNG frames", path=source)
    numbered.sort()
    if numbered[0][1].suffix.lower() != ".png":
        raise MediaError("reading is for PNG sequences only", path=source)
    first = numbered[0][0]
    for expected, (number, path) in enumerate(numbered, start=first):
        if number < expected:
            raise MediaError(f"two files are frame {number} ({path.name} and another)", path=folder)
        if number > expected:
            raise MediaError(f"frame {expected} is missing (the sequence jumps to {path.name})", path=folder)
        yield read_image(path)
