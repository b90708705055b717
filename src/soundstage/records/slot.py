"""A slot: one place in the film that a take fills.

``set/<set-id>`` (a location's set, shared by all its shots), ``shot/<id>/background`` and
``shot/<id>/element/<name>``. Written and read here only; the rest of soundstage holds a ``Slot``.
"""

from __future__ import annotations

from dataclasses import dataclass

from soundstage.errors import ProjectError
from soundstage.records.source import AssetKind

_SHOT = "shot"
_FORMS = "set/<set-id>, shot/<id>/background or shot/<id>/element/<name>"


@dataclass(frozen=True, slots=True)
class Slot:
    kind: AssetKind
    place: str                  # the set id for a set; the shot id otherwise
    element: str | None = None  # the element's name, for an element

    @classmethod
    def set(cls, set_id: str) -> Slot:
        return cls(AssetKind.SET, set_id)

    @classmethod
    def background(cls, shot_id: str) -> Slot:
        return cls(AssetKind.BACKGROUND, shot_id)

    @classmethod
    def of_element(cls, shot_id: str, name: str) -> Slot:
        return cls(AssetKind.ELEMENT, shot_id, name)

    @classmethod
    def parse(cls, text: str) -> Slot:
        head, _, rest = text.partition("/")
        if head == AssetKind.SET and rest:
            return cls.set(rest)
        if head == _SHOT and rest:
            shot, _, tail = rest.partition("/")
            if shot and tail == AssetKind.BACKGROUND:
                return cls.background(shot)
            what, _, name = tail.partition("/")
            if shot and what == AssetKind.ELEMENT and name:
                return cls.of_element(shot, name)
        raise ProjectError(f"not a slot: {text!r} (a slot is {_FORMS})")

    def __str__(self) -> str:
        if self.kind == AssetKind.SET:
            return f"{AssetKind.SET}/{self.place}"
        if self.kind == AssetKind.BACKGROUND:
            return f"{shot_subject(self.place)}/{AssetKind.BACKGROUND}"
        return f"{shot_subject(self.place)}/{AssetKind.ELEMENT}/{self.element}"

    @property
    def role(self) -> str:
        """``set``, ``background`` or ``element``: the layer's part in a comp."""
        return self.kind.value

    @property
    def name(self) -> str:
        """What the crew calls the layer: the set id, ``background``, or the element's name."""
        if self.kind == AssetKind.SET:
            return self.place
        return self.element if self.kind == AssetKind.ELEMENT and self.element else AssetKind.BACKGROUND.value

    @property
    def shot(self) -> str | None:
        """The shot it belongs to; None for a set, which all the location's shots share."""
        return None if self.kind == AssetKind.SET else self.place


def shot_subject(shot_id: str) -> str:
    """A shot as notes name it (``shot/3-1``): the prefix of all the shot's own slots."""
    return f"{_SHOT}/{shot_id}"
