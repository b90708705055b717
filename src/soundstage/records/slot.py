"""A slot: one place in the film that a take fills.

``set/<set-id>`` (a location's set, shared by all its shots), ``shot/<id>/background``,
``shot/<id>/element/<name>``, and the shot's sound: ``shot/<id>/sound/<element>`` for an element's sound and
``shot/<id>/sound/ambience`` for its ambience bed; and ``cast/<name>/sheet``, a cast member's model sheet (a
still of it that, once approved, every later take of it is made from). Written and read here only; the rest of
soundstage holds a ``Slot``.
"""

from __future__ import annotations

from dataclasses import dataclass

from soundstage.errors import ProjectError
from soundstage.records.source import AssetKind

_SHOT = "shot"
_CAST = "cast"
_SHEET = "sheet"
_FORMS = ("set/<set-id>, shot/<id>/background, shot/<id>/element/<name>, shot/<id>/sound/<name> or "
          "cast/<name>/sheet")
AMBIENCE = "ambience"   # the sound slot of a shot's ambience bed (no element is called so)


@dataclass(frozen=True, slots=True)
class Slot:
    kind: AssetKind
    place: str                  # the set id for a set; the shot id otherwise
    element: str | None = None  # the element's name, for an element; for a sound, its element or AMBIENCE

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
    def sound(cls, shot_id: str, element: str | None = None) -> Slot:
        """An element's sound in the shot, or (``element`` None) the shot's ambience bed."""
        return cls(AssetKind.SOUND, shot_id, element or AMBIENCE)

    @classmethod
    def sheet(cls, name: str) -> Slot:
        """A cast member's model sheet: a still, so a set's kind, at no location."""
        return cls(AssetKind.SET, name, _SHEET)

    @classmethod
    def parse(cls, text: str) -> Slot:
        head, _, rest = text.partition("/")
        if head == AssetKind.SET and rest:
            return cls.set(rest)
        if head == _CAST and rest.endswith(f"/{_SHEET}") and rest.count("/") == 1:
            return cls.sheet(rest.removesuffix(f"/{_SHEET}"))
        if head == _SHOT and rest:
            shot, _, tail = rest.partition("/")
            if shot and tail == AssetKind.BACKGROUND:
                return cls.background(shot)
            what, _, name = tail.partition("/")
            if shot and what == AssetKind.ELEMENT and name:
                return cls.of_element(shot, name)
            if shot and what == AssetKind.SOUND and name:
                return cls.sound(shot, name)
        raise ProjectError(f"not a slot: {text!r} (a slot is {_FORMS})")

    def __str__(self) -> str:
        if self.is_sheet:
            return f"{_CAST}/{self.place}/{_SHEET}"
        if self.kind == AssetKind.SET:
            return f"{AssetKind.SET}/{self.place}"
        if self.kind == AssetKind.BACKGROUND:
            return f"{shot_subject(self.place)}/{AssetKind.BACKGROUND}"
        return f"{shot_subject(self.place)}/{self.kind}/{self.element}"

    @property
    def role(self) -> str:
        """``set``, ``background``, ``element`` or ``sound``: the layer's part in a comp or a mix; ``sheet`` for a
        cast member's model sheet, which is no layer."""
        return _SHEET if self.is_sheet else self.kind.value

    @property
    def name(self) -> str:
        """What the crew calls the layer: the set id, ``background``, the element's name, or for a sound the
        element's name or ``ambience``."""
        if self.kind == AssetKind.SET:
            return self.place
        return self.element if self.kind in (AssetKind.ELEMENT, AssetKind.SOUND) and self.element \
            else AssetKind.BACKGROUND.value

    @property
    def is_sheet(self) -> bool:
        """Whether it is a cast member's model sheet (``name`` is the member's)."""
        return self.kind == AssetKind.SET and self.element == _SHEET

    @property
    def is_sound(self) -> bool:
        """Whether its take is heard, not seen (an element's sound, or the shot's ambience bed)."""
        return self.kind == AssetKind.SOUND

    @property
    def is_ambience(self) -> bool:
        """Whether it is a shot's ambience bed (which plays in the ambience stem, not the effects)."""
        return self.kind == AssetKind.SOUND and self.element == AMBIENCE

    @property
    def shot(self) -> str | None:
        """The shot it belongs to; None for a set, which all the location's shots share."""
        return None if self.kind == AssetKind.SET else self.place


def shot_subject(shot_id: str) -> str:
    """A shot as notes name it (``shot/3-1``): the prefix of all the shot's own slots."""
    return f"{_SHOT}/{shot_id}"


def subject_shot(subject: str) -> str | None:
    """The shot a note's subject is about (``shot/3-1``, ``shot/3-1/element/fire`` → 3-1); None for a set's."""
    parts = subject.split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == _SHOT and parts[1] else None
