"""A shot's sound and the cut's mix: the sound stage's parts put together for one shot, then for the film.

A shot's dialogue stem is its production sound: the recorder's WAV where shots.toml names one (synced by
timecode, else by waveform against the plate's scratch track, which it replaces), else the plate's own. Its
sound takes play in the effects stem (an element's) or the ambience stem (the shot's bed). Gains come from
the shot's ``sound = { gain = {…} }`` by layer name and by stem. The cut joins the shots' stems with fades
at every cut point, fills shots without production sound with room tone cut from the film's own, and
normalises everything alike to ``[sound] target`` under the true-peak ceiling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from soundstage.edit.timeline import start_time
from soundstage.errors import MediaError
from soundstage.media import PlateInfo, frame_sample
from soundstage.project import Project, shown_in
from soundstage.records.settings import STEMS
from soundstage.records.shot import LayerRecord, SoundRecord, cut_stem_path, shot_stem_path
from soundstage.records.slot import Slot
from soundstage.records.source import AssetKind, SourceType
from soundstage.script.breakdown import Shot
from soundstage.sound import RATE, Sound, read_sound, write_bwf
from soundstage.sound.loudness import Normalised, normalise
from soundstage.sound.mix import Layer, join, mix_shot, mixdown
from soundstage.sound.plate import plate_sound
from soundstage.sound.speech import speech_spans
from soundstage.sound.sync import plate_timecode, recorder_sound
from soundstage.sound.tone import room_tone

PRODUCTION, RECORDER = "production", "recorder"
HEARD_DBFS = -60.0      # a 10 ms block above this counts as heard in a record's seconds


@dataclass
class ShotMix:
    """A shot's stems, what they are made of, and what was converted or padded on the way."""

    stems: dict[str, Sound]
    records: list[SoundRecord]
    warnings: list[str] = field(default_factory=list)
    time_reference: int = 0        # the stems' BWF start: the plate's timecode, samples since midnight

    @property
    def mix(self) -> Sound:
        return mixdown(self.stems)


def mix_of_shot(project: Project, shot: Shot, frames: int, *, plate: Path | None, info: PlateInfo | None,
                takes: dict[str, list[Path]], records: Sequence[LayerRecord]) -> ShotMix:
    """The shot's stems, ``frames`` long at the project's rate. ``takes``: slot → files of its takes (the
    picture ones are passed over); ``records``: their layer records, for what the sound record copies."""
    fps = project.settings.fps
    settings = project.settings.sound
    count = frame_sample(frames, fps)
    layers: list[Layer] = []
    out: list[SoundRecord] = []
    warnings: list[str] = []
    gains = {stem: settings.gain.get(stem, 0.0) + shot.sound.gain.get(stem, 0.0) for stem in STEMS} | \
        {name: db for name, db in shot.sound.gain.items() if name not in STEMS}
    scratch = timecode = None
    time_reference = 0
    if plate is not None and info is not None and not info.still:
        heard = plate_sound(plate, fps=fps, frames=frames, plate_fps=float(info.fps) if info.fps else None,
                            retime=settings.retime)
        scratch = heard.sound.span(0, count) if heard is not None else None
        timecode = plate_timecode(plate, float(info.fps or fps))
        if timecode is not None:
            time_reference = round(float(timecode.seconds) * RATE)
        if heard is not None and shot.sound.production and not shot.sound.wav:
            layers.append(_layer(PRODUCTION, "dialogue", scratch, gains))
            out.append(_record(layers[-1], shown_in(plate, project.root), SourceType.CAPTURED,
                               notes=tuple(heard.notes)))
        warnings += [f"plate {shot.plate}: {note}" for note in heard.notes] if heard is not None else []
    if shot.sound.wav:
        wav = project.inside(shot.sound.wav, source=project.shots_file, key="sound.wav")
        sound, sync = recorder_sound(wav, scratch, timecode, fps=fps, frames=frames,
                                     min_confidence=settings.min_confidence)
        layers.append(_layer(RECORDER, "dialogue", sound.span(0, count), gains))
        out.append(_record(layers[-1], shot.sound.wav, SourceType.CAPTURED, sync=sync.method,
                           offset_ms=round(sync.offset_ms, 3), confidence=round(sync.confidence, 3),
                           notes=sync.notes))
        warnings.append(f"recorder {shot.sound.wav}: synced by {sync.method}, offset {sync.offset_ms:+.1f} ms"
                        + (f", confidence {sync.confidence:.2f}" if sync.method == "waveform" else ""))
        warnings += [f"recorder {shot.sound.wav}: {note}" for note in sync.notes]
    by_slot = {layer.slot: layer for layer in records}
    for slot_text, files in sorted(takes.items()):
        slot = Slot.parse(slot_text)
        if slot.kind != AssetKind.SOUND or not files:
            continue
        take = by_slot.get(slot_text)
        stem = "ambience" if slot.is_ambience else "effects"
        layers.append(_layer(slot.name, stem, read_sound(files[0]).sound.span(0, count), gains))
        out.append(_record(layers[-1], slot_text, take.source_type if take else SourceType.ALGORITHMIC,
                           take=take))
    return ShotMix(mix_shot(layers, count), out, warnings, time_reference)


def write_shot_stems(project: Project, shot_id: str, mix: ShotMix) -> list[Path]:
    """Each stem as BWF beside the shot's movie, starting at its plate's timecode (the production roll's)."""
    return [write_bwf(shot_stem_path(project, shot_id, stem), mix.stems[stem], time_reference=mix.time_reference,
                      description=f"{shot_id} {stem}") for stem in STEMS]


@dataclass
class CutMix:
    stems: dict[str, Sound]
    mix: Sound
    loudness: Normalised
    dialogue: list[Sound | None]    # each shot's production sound, for the subtitles' timing (None: it has none)
    warnings: list[str] = field(default_factory=list)


def mix_of_cut(project: Project, shots: Sequence[tuple[str, int, bool]], card_frames: int) -> CutMix:
    """The cut's stems from its shots' stems: ``shots`` is (shot id, frames, has production sound) in order.

    Each shot keeps exactly the samples of its own frames (counted from the cut's first frame, so 23.976
    and 29.97 never drift); shots without production sound get room tone (``[sound] missing``).
    """
    settings = project.settings
    fps = settings.fps
    warnings: list[str] = []
    parts: list[dict[str, Sound]] = []
    start = 0
    for shot_id, frames, _ in shots:
        count = frame_sample(start + frames, fps) - frame_sample(start, fps)
        parts.append({stem: _read_stem(shot_stem_path(project, shot_id, stem)).span(0, count) for stem in STEMS})
        start += frames
    dialogue = [part["dialogue"] if recorded else None for part, (_, _, recorded) in zip(parts, shots, strict=True)]
    silent = [index for index, (_, _, recorded) in enumerate(shots) if not recorded]
    if silent and settings.sound.missing == "room-tone":
        recorded = [parts[index]["dialogue"] for index, (_, _, has) in enumerate(shots) if has]
        longest = max(parts[index]["dialogue"].count for index in silent)
        tone = room_tone(recorded, longest / RATE)     # the film's quietest stretch, found once, for all of them
        if tone is None:
            warnings.append("no production sound in the film to cut room tone from: shots without sound stay silent")
        for index in silent if tone is not None else ():
            count = parts[index]["dialogue"].count
            parts[index]["dialogue"] = Sound(parts[index]["dialogue"].samples + tone.span(0, count).samples)
            warnings.append(f"shot {shots[index][0]}: no production sound; room tone cut from the film's own")
    joined = join(parts, settings.sound.fade)
    card = frame_sample(start + card_frames, fps) - frame_sample(start, fps)
    joined = {stem: Sound(np.concatenate([sound.samples, Sound.silence(card).samples]))
              for stem, sound in joined.items()}
    speech = None
    if settings.sound.dialogue_gated:
        speech = speech_spans(joined["dialogue"])
    stems, loudness = normalise(joined, target_lufs=settings.sound.loudness, ceiling_dbtp=settings.sound.true_peak,
                                speech=speech)
    if settings.sound.dialogue_gated and not loudness.dialogue_gated:
        warnings.append("[sound] target is dialogue-gated but the cut has too little speech to gate on; "
                        "measured over the whole mix")
    return CutMix(stems, mixdown(stems), loudness, dialogue, warnings)


def start_samples(project: Project) -> int:
    """``[edit] start_timecode`` as a BWF time reference: the cut's first sample, counted from midnight."""
    return frame_sample(round(start_time(project).value), project.settings.fps)


def write_cut_stems(project: Project, mix: CutMix, time_reference: int) -> list[Path]:
    """The cut's stems as BWF starting at ``time_reference``, where the editor's timeline puts the cut."""
    return [write_bwf(cut_stem_path(project, stem), mix.stems[stem], time_reference=time_reference,
                      description=f"{project.settings.title} {stem}") for stem in STEMS]


def _read_stem(path: Path) -> Sound:
    if not path.is_file():
        raise MediaError("is missing: the shot was rendered before its sound; render it again", path=path)
    return read_sound(path).sound


def _layer(name: str, stem: str, sound: Sound, gains: dict[str, float]) -> Layer:
    return Layer(name, stem, sound, gains.get(name, 0.0) + gains.get(stem, 0.0))


def _record(layer: Layer, source: str, source_type: str, *, take: LayerRecord | None = None,
            sync: str | None = None, offset_ms: float | None = None, confidence: float | None = None,
            notes: tuple[str, ...] = ()) -> SoundRecord:
    return SoundRecord(layer.stem, layer.name, source, str(source_type), _heard_seconds(layer.sound), layer.gain_db,
                       take_id=take.take_id if take else None, version=take.version if take else None,
                       engine=take.engine if take else None, model=take.model if take else None,
                       cost_usd=take.cost_usd if take else 0.0, sync=sync, offset_ms=offset_ms,
                       confidence=confidence, notes=notes)


def _heard_seconds(sound: Sound) -> float:
    """How long it is heard: the 10 ms blocks whose RMS is above :data:`HEARD_DBFS`."""
    block = RATE // 100
    usable = sound.count // block * block
    if not usable:
        return 0.0
    blocks = sound.samples[:usable].reshape(-1, block, sound.samples.shape[1]).astype(np.float64)
    rms = np.sqrt((blocks ** 2).mean(axis=(1, 2)))
    return round(float((rms > 10 ** (HEARD_DBFS / 20)).sum()) * block / RATE, 3)
