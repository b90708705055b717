"""Retries with exponential backoff for engines that call a service.

Only ``EngineBusy`` (rate limits, server errors) is retried: a refused prompt or a malformed reply fails at
once, since sending it again would only spend more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from soundstage.errors import EngineBusy

T = TypeVar("T")
MAX_WAIT = 120.0


def with_retries(call: Callable[[], T], *, retries: int, backoff: float,
                 sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``call``; on EngineBusy wait ``retry_after`` (or backoff · 2^attempt) and try again, ``retries`` times."""
    for attempt in range(retries + 1):
        try:
            return call()
        except EngineBusy as exc:
            if attempt == retries:
                tries = f"{retries + 1} tries" if retries else "1 try"
                raise EngineBusy(f"{exc.message}; gave up after {tries}", retry_after=exc.retry_after,
                                 path=exc.path, shot=exc.shot, hint=exc.hint or "try again later") from exc
            wait = exc.retry_after if exc.retry_after is not None else backoff * 2**attempt
            sleep(min(max(wait, 0.0), MAX_WAIT))
    raise AssertionError("unreachable")
