"""The review app (``soundstage serve``): the crew browses, compares, approves and regenerates in a browser.

Needs the ``review`` extra: ``pip install 'soundstage[review]'``.
"""

from __future__ import annotations

__all__ = ["make_app"]


def make_app(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Import FastAPI only when the app is wanted, so the CLI starts without the review extra."""
    from soundstage.review.app import make_app as make

    return make(*args, **kwargs)
