"""Overlap decode and encode with the comp, so a shot's frames flow through both cores.

The comp loop is decode → comp → encode. PyAV releases the GIL while FFmpeg decodes, converts and encodes,
and OpenCV releases it in its kernels, so a thread per end of the loop is enough to keep two cores busy:
:func:`ahead` decodes the next frames while the current one is comped, and :class:`Background` encodes the
last one. Both queues are bounded, so memory stays flat whatever the shot's length.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

if TYPE_CHECKING:
    from soundstage.media.writers import FrameWriter

T = TypeVar("T")
W = TypeVar("W", bound="FrameWriter")

_POLL_S = 0.05          # how often a blocked thread looks up to see whether it should stop
_DONE = object()


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def ahead(source: Callable[[], Iterator[T]], depth: int) -> Iterator[T]:
    """Run ``source()`` in a background thread, at most ``depth`` items ahead of the consumer.

    The items, and any error the source raises (a MediaError naming the bad frame), arrive in order, as if
    the source ran in the consumer's thread. Closing the returned generator early (``break``, an exception in
    the consumer, garbage collection) stops and joins the thread, which closes the source (and so its file).
    Wrap it in ``contextlib.closing`` where a traceback might keep the generator alive for a while.
    """
    if depth < 1:
        raise ValueError(f"depth must be 1 or more, not {depth}")
    return _ahead(source, depth)


def _ahead(source: Callable[[], Iterator[T]], depth: int) -> Iterator[T]:
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            iterator = source()
            try:
                for item in iterator:
                    if not offer(item):
                        return
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
        except BaseException as error:  # forwarded to the consumer, which re-raises it
            offer(_Failure(error))
            return
        offer(_DONE)

    worker = threading.Thread(target=produce, name="soundstage-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        _drain(items)
        worker.join()
        _drain(items)


def _drain(items: queue.Queue[object]) -> None:
    while True:
        try:
            items.get_nowait()
        except queue.Empty:
            return


class Background(AbstractContextManager["Background[W]"], Generic[W]):
    """Encode in a background thread: ``write`` queues the frame and returns while the last one encodes.

    At most ``depth`` frames wait in the queue. An error in the encoder (a wrong-sized frame, a full disk)
    is raised in the caller by the next ``write`` or by the close; an exception in the caller's ``with``
    block stops the encoder and the wrapped writer publishes nothing. Frames are copied on ``write`` unless
    ``copy=False``: a comp that reuses its output buffer would otherwise change a frame still in the queue.
    """

    def __init__(self, writer: W, *, depth: int = 4, copy: bool = True) -> None:
        if depth < 1:
            raise ValueError(f"depth must be 1 or more, not {depth}")
        self.writer = writer
        self.frames = 0
        self._copy = copy
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._abort = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode, name="soundstage-encode", daemon=True)
        self._thread.start()

    @property
    def path(self) -> Path | None:
        """The wrapped writer's output (file or sequence folder)."""
        return getattr(self.writer, "path", None)

    def _encode(self) -> None:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if self._error is not None or self._abort.is_set():
                continue                          # keep draining so a blocked write() can go on and see it
            try:
                self.writer.write(item)  # type: ignore[arg-type]
            except BaseException as error:
                self._error = error

    def write(self, frame: np.ndarray) -> None:
        self._raise_if_failed()
        if not self._thread.is_alive():
            raise RuntimeError("the writer is closed")
        self._queue.put(frame.copy() if self._copy else frame)
        self.frames += 1

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def __enter__(self) -> Background[W]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self._abort.set()
        self._queue.put(_DONE)
        self._thread.join()
        error = self._error
        if exc_type is None and error is not None:
            # the encoder failed after the last write: fail the block with its error, publish nothing
            self.writer.__exit__(type(error), error, error.__traceback__)
            raise error
        self.writer.__exit__(exc_type, exc, tb)
