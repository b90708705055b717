"""Visible AI labels on the cut: a corner mark on generated shots, and a closing card naming the tools.

Korea's AI Basic Act (Art. 31) and the EU AI Act (Art. 50(4)) ask for generated images that could pass for
real ones to be labelled clearly; for creative works a label that does not spoil viewing (the credits) is
enough. ``[labels] policy`` says which the film gets. Everything drawn is decided up front from what made
each shot (its takes, or its shot record), so the cut's ledger key can hold exactly that, and the pixels
are drawn once: the mark is a small RGBA patch blended into a corner, the card one still frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw

from soundstage.errors import ProjectError
from soundstage.media import FrameWriter
from soundstage.media.lettering import Lettering, Typeface, installed_face, text_patch
from soundstage.project import Project
from soundstage.records import Slot, is_ai
from soundstage.records.settings import LabelSettings
from soundstage.records.shot import LayerRecord, ShotRecord, read_shot_record
from soundstage.records.take import Take
from soundstage.script.breakdown import Shot
from soundstage.words import LANGUAGES, words_of

Language = Literal["en", "ko"]

WORDS = words_of("labels")      # the mark and the card, by name: soundstage/words/labels.toml
TEXT = {language: WORDS.by_name(language) for language in LANGUAGES}


@dataclass(frozen=True)
class Tool:
    """An engine as the credits name it."""

    engine: str
    model: str
    version: str
    source_type: str

    @property
    def ai(self) -> bool:
        return is_ai(self.source_type)


@dataclass(frozen=True)
class Layer:
    """One generated layer of a shot: what it is (a set, an element, a background, a sound), its take, its tool."""

    role: str          # "set" | "element" | "background" | "sound"
    name: str
    take: str          # "v002"
    tool: Tool


@dataclass(frozen=True)
class ShotCredits:
    """What made one shot of the cut, as far as labels care."""

    shot: str
    frames: int
    layers: tuple[Layer, ...] = ()
    plate: str | None = None
    generated: bool = False     # any generated pixels in its final comp
    ai: bool = False            # any of them from generative AI
    sound: tuple[Layer, ...] = ()   # its generated sound (recorded sound is no tool's), from its shot record

    @property
    def takes(self) -> str:
        """The burn-in's take column: ``set v002 · fire v001``."""
        return " · ".join(f"{layer.name if layer.role == 'element' else layer.role} {layer.take}"
                          for layer in self.layers) or "plate only"


def credits_from_takes(shot: str, frames: int, takes: Sequence[Take], plate: str | None) -> ShotCredits:
    """A shot's credits from the takes the render used: every take in it counted as showing."""
    layers = []
    for take in takes:
        slot = Slot.parse(take.slot)
        role, name = slot.role, slot.name
        layers.append(Layer(role, name, take.label, Tool(take.engine, take.model, take.engine_version,
                                                         take.source_type)))
    return ShotCredits(shot, frames, tuple(layers), plate, generated=bool(layers),
                       ai=any(layer.tool.ai for layer in layers))


def credits_from_layers(shot: str, frames: int, layers: Sequence[LayerRecord], plate: str | None) -> ShotCredits:
    """A shot's credits from the takes its comp is made of, before the comp is measured: every layer showing."""
    made = tuple(Layer(layer.role, layer.name, layer.version,
                       Tool(layer.engine, layer.model, layer.engine_version, layer.source_type)) for layer in layers)
    return ShotCredits(shot, frames, made, plate, generated=bool(made), ai=any(layer.tool.ai for layer in made))


def credits_from_record(record: ShotRecord) -> ShotCredits:
    """A shot's credits from its shot record: generated and AI as measured from the comp's mattes."""
    made = credits_from_layers(record.shot, record.frames, [layer for layer in record.layers if layer.share > 0],
                               record.plate)
    return replace(made, generated=record.generated_share > 0 and bool(made.layers), ai=record.ai_share > 0,
                   sound=sound_credits(record))


def sound_credits(record: ShotRecord) -> tuple[Layer, ...]:
    """The generated sound a shot's record lists as heard, each with the tool that made it (sound captured on set,
    ``digitalCapture``, is no tool's)."""
    return tuple(Layer("sound", layer.name, layer.version or "", Tool(layer.engine or "soundstage", layer.model or "",
                                                                      "", layer.source_type))
                 for layer in record.sound if not layer.recorded and layer.seconds > 0)


def cut_credits(project: Project, shots: Sequence[tuple[Shot, int, Sequence[Take], str]]) -> list[ShotCredits]:
    """Credits per shot of the cut, from ``(breakdown shot, frames, takes, shot key)``.

    The shot record (``out/shots/<id>.json``) is preferred: it knows which layers really show. Where there is
    none, or it is of another render of the shot, the takes the render used stand in, all counted as showing.
    """
    made = []
    for shot, frames, takes, key in shots:
        record = read_shot_record(project, shot.id)
        current = record is not None and record.key in ("", key)
        made.append(credits_from_record(record) if record is not None and current
                    else credits_from_takes(shot.id, frames, takes, shot.plate))
    return made


# ---------------------------------------------------------------------------------------------- fonts


def typeface(project: Project, settings: LabelSettings, language: Language) -> tuple[Typeface, Language, list[str]]:
    """The face to set the labels in (the project's font if set, then a Latin and a Hangul one), the language
    its words can be in, and a warning where Korean had to fall back to English."""
    paths: list[Path] = []
    if settings.font:
        path = project.inside(settings.font, source=project.settings_path, key="labels.font")
        if not path.is_file():
            raise ProjectError(f"labels.font = {settings.font!r}: no such font file", path=project.settings_path)
        try:
            Typeface((path,)).at(12)
        except OSError:
            raise ProjectError(f"labels.font = {settings.font!r} is not a font Pillow can read",
                               path=project.settings_path) from None
        paths.append(path)
    paths += [path for path in installed_face().paths if path not in paths]
    face, warnings = Typeface(tuple(paths)), []
    if language == "ko" and not face.hangul:
        warnings.append("labels: no font with Hangul found, so the AI label is in English; install fonts-nanum "
                        "or set [labels] font to a Korean font inside the project")
        language = "en"
    return face, language, warnings


def missing_glyphs(where: str, chars: Sequence[str]) -> list[str]:
    """The render summary's warning for characters no installed font has: where they are, and what to do."""
    if not chars:
        return []
    named = ", ".join(f"{char} (U+{ord(char):04X})" for char in chars[:8]) + (" …" if len(chars) > 8 else "")
    return [f"{where}: no installed font has {named}, so they show as boxes; install a font that has them "
            "(e.g. fonts-noto) or set [labels] font to one inside the project"]


# ---------------------------------------------------------------------------------------------- drawing


class Patch:
    """A straight-RGBA patch blended over a fixed place of each frame, with its sums done once."""

    def __init__(self, rgba: np.ndarray, x: int, y: int) -> None:
        self.x, self.y = x, y
        self.h, self.w = rgba.shape[:2]
        alpha = rgba[..., 3:4].astype(np.uint16)
        self.over = rgba[..., :3].astype(np.uint16) * alpha          # premultiplied, ×255
        self.under = 255 - alpha

    def blend(self, frame: np.ndarray) -> None:
        """Blend in place (integer arithmetic: about 20 µs for a 1080p mark)."""
        region = frame[self.y:self.y + self.h, self.x:self.x + self.w]
        region[...] = ((self.over + region * self.under + 127) // 255).astype(np.uint8)


def corner_position(corner: str, frame: tuple[int, int], patch: tuple[int, int], margin: int) -> tuple[int, int]:
    (width, height), (w, h) = frame, patch
    x = margin if corner.endswith("left") else width - w - margin
    y = margin if corner.startswith("top") else height - h - margin
    return max(0, x), max(0, y)


@dataclass
class CutLabels:
    """The labels of one cut: which shots get the corner mark, and the closing card, ready to draw."""

    project: Project
    credits: list[ShotCredits]
    width: int
    height: int
    fps: float
    face: Typeface
    language: Language
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def prepare(cls, project: Project, credits: list[ShotCredits]) -> CutLabels:
        settings = project.settings
        labels = settings.labels
        face, language, warnings = typeface(project, labels, _language(project))
        width, height = settings.resolution
        made = cls(project, credits, width, height, settings.fps, face, language, warnings)
        made.face, lost = face.covering(made.texts)
        made.warnings += missing_glyphs("labels", lost)
        if labels.policy == "none" and any(shot.ai for shot in credits):
            made.warnings.append("labels: policy none, so the cut shows no AI label; only its metadata and "
                                 "watermark disclose the generated shots")
        return made

    @property
    def texts(self) -> list[str]:
        """Every text the labels draw: the corner marks and the card's lines."""
        marks = [text for text in (self.mark_text(shot) for shot in self.credits) if text]
        return marks + ([line for _, line in self.card_lines()] if self.card else [])

    @property
    def settings(self) -> LabelSettings:
        return self.project.settings.labels

    @property
    def marks(self) -> bool:
        return self.settings.policy == "realistic"

    @property
    def card(self) -> bool:
        return self.settings.policy in ("realistic", "artistic") and any(s.generated or s.sound
                                                                         for s in self.credits)

    @property
    def card_frames(self) -> int:
        return max(1, round(self.settings.credits_seconds * self.fps)) if self.card else 0

    def mark_text(self, shot: ShotCredits) -> str | None:
        if not (self.marks and shot.generated):
            return None
        return TEXT[self.language]["mark ai" if shot.ai else "mark generated"]

    @property
    def key(self) -> dict[str, object]:
        """What the labels add to the cut's ledger key: exactly what the cut draws, the card (the corner marks
        come burnt into the shot movies, under their own keys: ``shot_label_key``)."""
        return {"labels": 2, "card": self.card_lines() if self.card else None, "card_frames": self.card_frames,
                "font": self.face.key if self.card else None, "language": self.language if self.card else None}

    # -------------------------------------------------------------------------------------- the mark

    @cached_property
    def _patches(self) -> dict[str, Patch]:
        size = max(8, round(self.height * self.settings.size))
        patches = {}
        for text in {t for t in (self.mark_text(shot) for shot in self.credits) if t}:
            rgba = text_patch(text, self.face, size, opacity=self.settings.opacity)
            x, y = corner_position(self.settings.corner, (self.width, self.height), rgba.shape[1::-1],
                                   margin=max(4, round(self.height * 0.03)))
            patches[text] = Patch(rgba[: self.height - y, : self.width - x], x, y)
        return patches

    def mark(self, frame: np.ndarray, shot: int) -> np.ndarray:
        """The frame of the cut's ``shot``-th shot with its corner mark (in place), if it gets one."""
        text = self.mark_text(self.credits[shot])
        if text is not None:
            self._patches[text].blend(frame)
        return frame

    # -------------------------------------------------------------------------------------- the card

    def card_lines(self) -> list[tuple[str, str]]:
        """The closing card as (style, text) lines: the tools with their versions, what was generated, by whom."""
        words = TEXT[self.language]
        generated = [shot for shot in self.credits if shot.generated]
        sounds = [layer.tool for shot in self.credits for layer in shot.sound]
        lines: list[tuple[str, str]] = [("title", words["title"])]
        if generated:
            lines.append(("lead", words["contains ai" if any(s.ai for s in generated) else "contains generated"]))
        if sounds:
            lines.append(("lead", words["sound ai" if any(tool.ai for tool in sounds) else "sound generated"]))
        lines += [("gap", ""), ("head", words["tools"])]
        tools = sorted({layer.tool for shot in generated for layer in shot.layers} | set(sounds),
                       key=lambda t: (not t.ai, t.engine, t.model, t.version))
        for tool in tools:
            kind = words["ai tool" if tool.ai else "procedural tool"]
            lines.append(("body", " · ".join(part for part in (tool.engine, tool.model, tool.version) if part)
                          + f" ({kind})"))
        lines += [("gap", ""), ("head", words["generated"])]
        for role in ("set", "element", "background"):
            where: dict[str, list[str]] = {}
            for shot in generated:
                for layer in shot.layers:
                    if layer.role == role and shot.shot not in where.setdefault(layer.name, []):
                        where[layer.name].append(shot.shot)
            if where:
                items = [f"{name} ({_shots(ids, words)})" if role != "background" else _shots(ids, words)
                         for name, ids in where.items()]
                lines.append(("body", f"{words[role]}: " + ", ".join(items)))
        heard: dict[str, list[str]] = {}
        for shot in self.credits:
            for layer in shot.sound:
                if shot.shot not in heard.setdefault(layer.name, []):
                    heard[layer.name].append(shot.shot)
        if heard:
            lines.append(("body", f"{words['sound']}: " + ", ".join(f"{name} ({_shots(ids, words)})"
                                                                  for name, ids in heard.items())))
        plates = [shot.shot for shot in self.credits if shot.plate]
        lines += [("gap", ""), ("head", words["human"]),
                  ("body", words["human parts"].format(plates=_shots(plates, words) if plates
                                                       else words["no plates"]))]
        return lines

    @cached_property
    def card_frame(self) -> np.ndarray:
        """The closing card, one RGB frame: centred lines on black, long ones wrapped, shrunk until all fit."""
        scale = {"title": 1.6, "lead": 1.0, "head": 1.15, "body": 0.85, "gap": 0.6}
        colours = {"title": (255, 255, 255), "lead": (235, 235, 235), "head": (255, 214, 120), "body": (210, 210, 210)}
        size = max(8, round(self.height / 24))
        while True:
            fonts = {style: self.face.at(round(size * factor)) for style, factor in scale.items()}
            rows = [(style, row) for style, text in self.card_lines()
                    for row in _wrap(text, fonts[style], self.width * 0.9)]
            steps = [round(size * scale[style] * 1.45) for style, _ in rows]
            widest = max(fonts[style].getlength(row) for style, row in rows)
            if (widest <= self.width * 0.9 and sum(steps) <= self.height * 0.9) or size <= 8:
                break
            size -= max(1, size // 10)
        image = Image.new("RGB", (self.width, self.height), (0, 0, 0))
        draw = ImageDraw.Draw(image)
        y = (self.height - sum(steps)) / 2
        for (style, row), step in zip(rows, steps, strict=True):
            if row:
                fonts[style].draw(draw, (self.width / 2, y + step / 2), row, colours[style], centred=True)
            y += step
        return np.asarray(image).copy()


def _language(project: Project) -> Language:
    """The labels' language: ``[labels] language``, else the reports'."""
    settings = project.settings
    reports = getattr(settings, "reports", None)
    return settings.labels.language or ("ko" if getattr(reports, "language", "en") == "ko" else "en")


# ---------------------------------------------------------------------------------------------- shot movies


def shot_label_key(project: Project) -> dict[str, object] | None:
    """What the corner mark burnt into a shot's movie depends on besides its takes (which decide AI or not);
    None where ``[labels] policy`` draws no mark."""
    settings = project.settings.labels
    if settings.policy != "realistic":
        return None
    face, language, _ = typeface(project, settings, _language(project))
    return {"mark": 1, "look": settings.model_dump(include={"corner", "opacity", "size"}), "language": language,
            "font": face.key}


class MarkedWriter:
    """A shot movie's writer that burns the corner mark into each frame, into a copy: the same comped frame
    also goes, clean, to the finishing masters."""

    def __init__(self, writer: FrameWriter, labels: CutLabels) -> None:
        self.writer, self.labels = writer, labels
        self.frames = 0

    @property
    def path(self) -> Path | None:
        return getattr(self.writer, "path", None)

    def write(self, frame: np.ndarray) -> None:
        self.writer.write(self.labels.mark(frame.copy(), 0))
        self.frames += 1

    def __enter__(self) -> MarkedWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool | None:
        return self.writer.__exit__(exc_type, exc, tb)


def with_mark(writer: FrameWriter, project: Project, shot: str, layers: Sequence[LayerRecord]) -> FrameWriter:
    """``writer`` burning in the shot's corner mark where ``[labels]`` gives it one, else ``writer`` as it is.
    ``layers`` are the generated layers that can show in it (none: no generated pixels, no mark).

    Under ``realistic`` the review movie ``out/shots/<id>.mp4`` is labelled itself, since the EDL, OTIO and XML
    link it: an editor who rebuilds the cut from them keeps the label on every generated frame.
    """
    labels = CutLabels.prepare(project, [credits_from_layers(shot, 0, layers, None)])
    return MarkedWriter(writer, labels) if labels.mark_text(labels.credits[0]) else writer


def _wrap(text: str, font: Lettering, width: float) -> list[str]:
    """``text`` broken at spaces into rows no wider than ``width`` (a single long word stays whole)."""
    rows: list[str] = []
    for word in text.split(" "):
        if rows and font.getlength(f"{rows[-1]} {word}") <= width:
            rows[-1] += f" {word}"
        else:
            rows.append(word)
    return rows or [""]


def _shots(ids: list[str], words: dict[str, str], most: int = 6) -> str:
    """``shots 3-1, 3-2``, held together (no-break spaces) so the card wraps between items, not inside one."""
    shown = ",\u00a0".join(ids[:most]) + (f"\u00a0…\u00a0(+{len(ids) - most})" if len(ids) > most else "")
    return f"{words['shot' if len(ids) == 1 else 'shots']}\u00a0{shown}"
