"""The cut as an editor's timeline: OpenTimelineIO, and from it a CMX 3600 EDL and FCP 7 XML.

One clip per shot, in the order the render assembles the cut, each pointing at its rendered movie
``out/shots/<shot>.mp4`` by ``file://`` URL (editors relink by the file name when the project moves), then the
closing AI-label card where ``[labels]`` puts one, taken from ``out/cut.mp4``. The
``.otio`` file is the lossless master: it also carries what made each shot (takes, engines, AI share, cost)
under the ``soundstage`` metadata namespace. The EDL and the XML carry only what those formats can.

Timecode: 29.97 and 59.94 fps count drop-frame (``01:00:00;00``), as broadcast NTSC does, so the timecode
keeps to the clock; every other rate, 23.976 included (it has no drop-frame form), counts non-drop.

Sound: one audio track per stem (``dialogue``, ``effects``, ``ambience``, in that order: A1, A2, A3), each clip
the shot's stereo stem ``out/shots/<shot>.<stem>.wav`` over the same record range as its picture; a shot
rendered before sound (no stem file) leaves a gap there. The production sound is already in the dialogue stem,
synced and trimmed, so it is not laid again (it would play twice); each clip names the original plate or
recorder's file it came from, with the sync found, so an editor can relink to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import opentimelineio as otio
from opentimelineio import opentime

from soundstage.atomic import write_text
from soundstage.errors import ProjectError
from soundstage.media import probe
from soundstage.media.video import as_rate
from soundstage.project import Project, find_key_line
from soundstage.records import subject_shot
from soundstage.records.settings import STEMS
from soundstage.records.shot import ShotRecord, SoundRecord, read_shot_record, shot_stem_path

# format → (OTIO adapter, file suffix). "fcpxml" is Final Cut Pro 7 XML (xmeml): Premiere Pro, DaVinci Resolve
# and Avid (through its importers) read it, where FCPX's .fcpxml is read by little but Final Cut Pro itself.
FORMATS: dict[str, tuple[str, str]] = {"otio": ("otio_json", ".otio"), "edl": ("cmx_3600", ".edl"),
                                       "fcpxml": ("fcp_xml", ".xml")}
NAMESPACE = "soundstage"
DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))


@dataclass(frozen=True)
class CutExport:
    path: Path
    shots: int
    start: str       # record timecode of the first frame
    end: str         # record timecode just after the last
    card: bool = False   # the closing AI-label card follows the shots


def export_cut(project: Project, format: str, out: str | Path | None = None, *, shot_ids: Sequence[str]
               ) -> CutExport:
    """Write the cut's timeline as ``format`` to ``out`` (a file, or a folder for ``cut.<suffix>`` in it; by
    default the project's ``out/``), atomically. ``shot_ids``: the cut's shots in order, from the breakdown."""
    if format not in FORMATS:
        raise ProjectError(f"unknown timeline format {format!r}; choose one of {', '.join(FORMATS)}")
    adapter, suffix = FORMATS[format]
    if format != "otio":
        _needs_smpte_rate(project, format)
    timeline = cut_timeline(project, shot_ids)
    text = edl_text(timeline) if format == "edl" else otio.adapters.write_to_string(timeline, adapter_name=adapter)
    target = Path(out) if out is not None else project.out_dir / f"cut{suffix}"
    if target.is_dir():
        target = target / f"cut{suffix}"
    try:
        write_text(target, text)
    except OSError as exc:
        raise ProjectError(f"cannot be written: {exc.strerror or exc}", path=target) from None
    start = timeline.global_start_time
    clips = list(timeline.tracks[0].find_clips())
    card = bool(clips) and NAMESPACE in clips[-1].metadata and "card" in clips[-1].metadata[NAMESPACE]
    return CutExport(target, len(clips) - card, timecode(start), timecode(start + timeline.duration()), card)


def cut_timeline(project: Project, shot_ids: Sequence[str]) -> otio.schema.Timeline:
    """The cut as an OTIO timeline: one video track, a clip per rendered shot, starting at the project's timecode;
    then an audio track per stem, a clip per shot in step with its picture (a gap where it has no stem).

    ``shot_ids`` is the cut's order (the breakdown's, the order the render joins them), handed in by the caller.
    Refuses (one line naming the shot) if any shot of the cut has not been rendered.
    """
    rate = frame_rate(project)
    start = start_time(project)
    if not shot_ids:
        raise ProjectError("has no shots to cut", path=project.shots_file)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    sound = [otio.schema.Track(name=stem, kind=otio.schema.TrackKind.Audio) for stem in STEMS]
    frames = 0
    ai_frames = cost = 0.0
    notes = frame_notes(project)
    for shot_id in shot_ids:
        clip, record = _shot_clip(project, shot_id, rate)
        clip.markers.extend(_note_marker(note, clip) for note in notes.get(shot_id, ()))
        track.append(clip)
        for stem, audio in zip(STEMS, sound, strict=True):
            audio.append(_stem_clip(project, record, stem, clip))
        length = int(clip.source_range.duration.value)
        frames += length
        ai_frames += clip.metadata[NAMESPACE]["ai_share"] * length
        cost += clip.metadata[NAMESPACE]["cost_usd"]
    card = _credits_clip(project, rate, frames)
    if card is not None:
        track.append(card)
        for audio in sound:       # the card is heard in the cut only as what the mix lays under it: nothing here
            audio.append(otio.schema.Gap(duration=card.duration()))
    timeline = otio.schema.Timeline(name=project.settings.title, global_start_time=start)
    timeline.tracks.append(track)
    timeline.tracks.extend(sound)
    width, height = project.settings.resolution
    # FCP XML: the sequence's frame size, so the editor's sequence matches the shots; and its timecode's count
    # (the adapter writes non-drop unless told).
    timeline.metadata["fcp_xml"] = {"media": {"video": {"format": {"samplecharacteristics": {
        "width": width, "height": height, "pixelaspectratio": "square"}}}}, **_fcp_timecode(rate)}
    timeline.metadata[NAMESPACE] = {
        "title": project.settings.title,
        "fps": float(rate),
        "start_timecode": timecode(start),
        "timecode": "drop-frame" if drop_frame(rate) else "non-drop",
        "frames": frames,
        "ai_share": round(ai_frames / frames, 6) if frames else 0.0,
        "cost_usd": round(cost, 6),
        "sound": {"tracks": list(STEMS), "channels": 2, "rate": 48000,
                  "stems": sum(isinstance(item, otio.schema.Clip) for audio in sound for item in audio)},
    }
    return timeline


def _shot_clip(project: Project, shot_id: str, rate: Fraction) -> tuple[otio.schema.Clip, ShotRecord]:
    movie = project.out_dir / "shots" / f"{shot_id}.mp4"
    record = read_shot_record(project, shot_id)
    if record is None or not movie.is_file():
        raise ProjectError(f"is not rendered yet: no {movie.relative_to(project.root).as_posix()}", shot=shot_id,
                           hint=f"run 'soundstage render {project.root}' first")
    info = probe(movie)
    if abs(info.fps - rate) > 0.005:      # (23.976 itself and 24000/1001 are one rate to an editor)
        raise ProjectError(f"was rendered at {float(info.fps):g} fps but the project is {float(rate):g} fps",
                           path=movie, shot=shot_id, hint=f"run 'soundstage render {project.root}' again")
    frames = info.frames or round(info.duration * rate)
    available = opentime.TimeRange(opentime.RationalTime(0, float(rate)), opentime.RationalTime(frames, float(rate)))
    reference = otio.schema.ExternalReference(target_url=movie.as_uri(), available_range=available)
    reference.name = movie.name
    reference.metadata["fcp_xml"] = _fcp_timecode(rate)
    clip = otio.schema.Clip(name=shot_id, media_reference=reference, source_range=available)
    clip.metadata[NAMESPACE] = shot_metadata(record, movie.relative_to(project.root).as_posix())
    # The EDL's reel: the shot id, not the adapter's default (the file name cut to 8 characters, "-" dropped).
    clip.metadata["cmx_3600"] = {"reel": _reel(shot_id),
                                 "comments": [f"SOUNDSTAGE SHOT {shot_id} SCENE {record.scene} "
                                              f"AI {record.ai_share:.0%}"]}
    return clip, record


def frame_notes(project: Project) -> dict[str, list[Any]]:
    """The crew's notes on a frame, by the shot they are about (a note on a set's frame is in no shot)."""
    from sqlalchemy import select

    from soundstage.db import Note, open_database

    if isinstance(project.database, Path) and not project.database.is_file():
        return {}
    found: dict[str, list[Any]] = {}
    with open_database(project.database)() as session:
        for note in session.scalars(select(Note).where(Note.frame.is_not(None)).order_by(Note.id)):
            shot = subject_shot(note.subject)
            if shot is not None:
                found.setdefault(shot, []).append(note)
    return found


def _note_marker(note: Any, clip: otio.schema.Clip) -> otio.schema.Marker:
    """A frame note as a marker on its shot's clip, at the frame in the clip's own time (OTIO's convention; the
    EDL writes it as a ``* LOC:`` locator). A note on a frame past the shot's end (re-timed since) sits on its
    last frame."""
    duration = clip.source_range.duration
    frame = min(int(note.frame), int(duration.value) - 1)
    at = opentime.TimeRange(clip.source_range.start_time + opentime.RationalTime(frame, duration.rate),
                            opentime.RationalTime(0, duration.rate))
    text = " ".join((f"{note.author}: {note.body}" if note.author else note.body).split())
    marker = otio.schema.Marker(name=text[:200], marked_range=at, color=otio.schema.MarkerColor.RED)
    marker.metadata[NAMESPACE] = {"note": note.id, "subject": note.subject, "by": note.author, "body": note.body,
                                  "frame": frame, "drawing": bool(note.drawing),
                                  "at": note.created_at.isoformat(timespec="seconds")}
    return marker


def _stem_clip(project: Project, record: ShotRecord, stem: str, picture: otio.schema.Clip
               ) -> otio.schema.Clip | otio.schema.Gap:
    """The shot's ``stem`` over the same range as its picture; a gap when the shot has no such stem (rendered
    before sound)."""
    wav = shot_stem_path(project, record.shot, stem)
    if not wav.is_file():
        return otio.schema.Gap(duration=picture.duration())
    rate = picture.source_range.duration.rate
    fps = float(rate)
    frames = _sound_frames(wav, Fraction(rate).limit_denominator(1001))
    available = opentime.TimeRange(opentime.RationalTime(0, fps), opentime.RationalTime(frames, fps))
    reference = otio.schema.ExternalReference(target_url=wav.as_uri(), available_range=available)
    reference.name = wav.name
    reference.metadata["fcp_xml"] = {**_fcp_timecode(Fraction(rate).limit_denominator(1001)), "media": {"audio": {
        "samplecharacteristics": {"depth": 24, "samplerate": 48000}, "channelcount": 2}}}
    clip = otio.schema.Clip(name=f"{picture.name} {stem}", media_reference=reference,
                            source_range=picture.source_range)
    layers = [layer for layer in record.sound if layer.stem == stem]
    clip.metadata[NAMESPACE] = {"shot": record.shot, "stem": stem,
                                "file": wav.relative_to(project.root).as_posix(), "channels": 2, "rate": 48000,
                                "layers": [sound_metadata(layer) for layer in layers]}
    originals = dict.fromkeys(layer.source for layer in layers if layer.recorded and layer.source)
    if originals:      # the camera's or recorder's own file, to relink to
        clip.metadata[NAMESPACE]["production"] = [{"file": source, "url": (project.root / source).as_uri()}
                                                  for source in originals]
    # FCP XML: the stem is one stereo clip from the file's first track (a WAV has no picture to take).
    clip.metadata["fcp_xml"] = {"sourcetrack": {"mediatype": "audio", "trackindex": 1}}
    clip.metadata["cmx_3600"] = {"reel": _reel(f"{_reel(record.shot)[:5]}_{stem[:2].upper()}"),
                                 "comments": [f"SOUNDSTAGE SHOT {record.shot} STEM {stem.upper()}"]
                                 + [f"PRODUCTION SOUND FROM {source}" for source in originals]}
    return clip


def sound_metadata(layer: SoundRecord) -> dict[str, object]:
    """One sound layer of a stem clip: recorded or generated (and by AI or by rule), and how it was synced."""
    return {"name": layer.name, "source": layer.source, "source_type": layer.source_type,
            "recorded": layer.recorded, "ai": layer.is_ai, "seconds": layer.seconds,
            "gain_db": layer.gain_db, "version": layer.version, "engine": layer.engine, "model": layer.model,
            "sync": layer.sync, "offset_ms": layer.offset_ms, "confidence": layer.confidence}


def _sound_frames(path: Path, rate: Fraction) -> int:
    """A WAV's length in frames at ``rate``, from its header (nothing decoded)."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            seconds = Fraction(stream.duration or 0) * (stream.time_base or Fraction(0))
    except (av.error.FFmpegError, OSError, IndexError) as exc:
        raise ProjectError(f"cannot be read as a stem: {exc}", path=path) from None
    return round(seconds * rate)


def _credits_clip(project: Project, rate: Fraction, shot_frames: int) -> otio.schema.Clip | None:
    """The closing AI-label card (``[labels]``), which lives only in ``out/cut.mp4`` after the shots: taken from
    there, so the editor's timeline keeps the disclosure the law asks for."""
    cut = project.out_dir / "cut.mp4"
    card = (probe(cut).frames if cut.is_file() else 0) - shot_frames
    if card <= 0:
        return None
    fps = float(rate)
    available = opentime.TimeRange(opentime.RationalTime(0, fps), opentime.RationalTime(shot_frames + card, fps))
    reference = otio.schema.ExternalReference(target_url=cut.as_uri(), available_range=available)
    reference.name = cut.name
    reference.metadata["fcp_xml"] = _fcp_timecode(rate)
    clip = otio.schema.Clip(name="AI label card", media_reference=reference, source_range=opentime.TimeRange(
        opentime.RationalTime(shot_frames, fps), opentime.RationalTime(card, fps)))
    clip.metadata[NAMESPACE] = {"card": "the closing AI label ([labels] policy)", "file": "out/cut.mp4"}
    clip.metadata["cmx_3600"] = {"reel": "CARD", "comments": ["SOUNDSTAGE CLOSING AI LABEL CARD"]}
    return clip


def shot_metadata(record: ShotRecord, file: str) -> dict[str, object]:
    """What made the shot, for the editor and for whoever audits the cut later."""
    layers = record.layers
    return {
        "shot": record.shot,
        "scene": record.scene,
        "file": file,
        "takes": {layer.slot: layer.version for layer in layers},
        "engine": ", ".join(dict.fromkeys(layer.engine for layer in layers)),
        "model": ", ".join(dict.fromkeys(layer.model for layer in layers if layer.model)),
        "ai_share": record.ai_share,
        "generated_share": record.generated_share,
        "plate_share": record.plate_share,
        "cost_usd": round(sum(layer.cost_usd for layer in layers), 6),
        "layers": [{"slot": layer.slot, "version": layer.version, "take_id": layer.take_id, "engine": layer.engine,
                    "model": layer.model, "source_type": layer.source_type, "share": layer.share,
                    "cost_usd": layer.cost_usd, "approved_by": layer.approved_by} for layer in layers],
        "watermark": record.watermark,
        "rendered_at": record.rendered_at,
    }


def edl_text(timeline: otio.schema.Timeline) -> str:
    """CMX 3600 through the OTIO adapter, with the record timecode starting at the timeline's start, and the
    sound's events on their own channels: the stems' tracks as A, A2, A3, after the picture's events.

    The adapter reckons record times in the track's own time and ignores ``global_start_time`` (so a cut at
    01:00:00:00 came out at 00:00:00:00). Its reader keeps an EDL's record start as the track's trimmed start,
    negated; the copy handed to the writer is put in that same form, so writing and reading agree. It writes only
    a timeline's first track, and every audio event as channel ``A``: each track is written on its own and its
    events are given their channel and numbered on after the picture's.
    """
    rate = timeline.global_start_time.rate
    title = ""
    events: list[str] = []
    audio = 0
    for track in timeline.tracks:
        channel = "V"
        if track.kind == otio.schema.TrackKind.Audio:
            audio += 1
            channel = "A" if audio == 1 else f"A{audio}"
        text = otio.adapters.write_to_string(_edl_track(timeline, track), adapter_name="cmx_3600", rate=rate)
        head, _, body = text.partition("\n\n")
        title = title or head
        for event in re.split(r"\n(?=\d{3} )", body.strip("\n")):
            if event:
                events.append(re.sub(r"^(\d{3})(\s+\S+\s+)(\S+)(\s*)",
                                     lambda m, c=channel: f"{len(events) + 1:03d}{m[2]}{c:{len(m[3] + m[4])}}",
                                     event, count=1))
    # The adapter writes no frame-count mode; a reader must not have to guess it from ";".
    mode = "FCM: DROP FRAME" if drop_frame(Fraction(rate).limit_denominator(1001)) else "FCM: NON-DROP FRAME"
    return f"{title}\n{mode}\n\n" + "".join(f"{event}\n" for event in events)


def _edl_track(timeline: otio.schema.Timeline, track: otio.schema.Track) -> otio.schema.Timeline:
    """A timeline the adapter writes ``track`` of: that track first, starting at the record start, and the one
    video track it insists on."""
    edl = otio.schema.Timeline(name=timeline.name)
    start = timeline.global_start_time
    for each in (track, timeline.video_tracks()[0]) if track.kind == otio.schema.TrackKind.Audio else (track,):
        copy = each.deepcopy()
        copy.source_range = opentime.TimeRange(-start, copy.duration())
        edl.tracks.append(copy)
    return edl


def frame_rate(project: Project) -> Fraction:
    """The project's rate as editors count it: 23.976 → 24000/1001, 29.97 → 30000/1001."""
    return as_rate(project.settings.fps)


def drop_frame(rate: Fraction) -> bool:
    return rate in DROP_FRAME_RATES


def start_time(project: Project) -> opentime.RationalTime:
    """``[edit] start_timecode`` as a time at the project's rate; refused if it is no frame at that rate."""
    try:
        return parse_timecode(project.settings.edit.start_timecode, frame_rate(project))
    except ValueError as exc:
        raise _bad_timecode(project, str(exc)) from None


def parse_timecode(text: str, rate: Fraction) -> opentime.RationalTime:
    """A timecode label as a time at ``rate``: drop-frame at 29.97 and 59.94 (either separator), else non-drop.
    Raises ValueError saying why the label names no frame at that rate."""
    match = re.fullmatch(r"(\d\d):(\d\d):(\d\d)[:;.](\d\d)", text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a timecode like 01:00:06:13")
    hours, minutes, seconds, frame = (int(part) for part in match.groups())
    nominal = round(rate)
    if minutes > 59 or seconds > 59:
        raise ValueError(f"{text!r} has more than 59 minutes or seconds")
    if frame >= nominal:
        raise ValueError(f"{text!r} has frame {frame}, but {float(rate):g} fps counts frames 00 to {nominal - 1:02d}")
    if not drop_frame(rate):
        if ";" in text:
            raise ValueError(f"{text!r} is drop-frame, but {float(rate):g} fps counts non-drop; write it with ':'")
        return opentime.RationalTime(((hours * 60 + minutes) * 60 + seconds) * nominal + frame, float(rate))
    label = text[:8] + ";" + text[9:]      # at 29.97 and 59.94 it is drop-frame, whichever separator was typed
    time = opentime.from_timecode(label, float(rate))
    if timecode(time) != label:
        raise ValueError(f"{text!r} is a label drop-frame timecode skips (frames 00 and 01 of every minute but "
                         "each tenth)")
    return time


def _bad_timecode(project: Project, message: str) -> ProjectError:
    line = find_key_line(project.settings_path.read_text("utf-8"), "start_timecode")
    return ProjectError(f"edit.start_timecode: {message}", path=project.settings_path, line=line)


def timecode(time: opentime.RationalTime) -> str:
    """Timecode at the time's own rate; drop-frame where :func:`drop_frame` says, else non-drop."""
    rate = Fraction(time.rate).limit_denominator(1001)
    if opentime.RationalTime.is_valid_timecode_rate(time.rate):
        return opentime.to_timecode(time, time.rate, drop_frame(rate))
    nominal = round(rate)
    frames = round(time.value)
    seconds, frame = divmod(frames, nominal)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{frame:02d}"


def _needs_smpte_rate(project: Project, format: str) -> None:
    """EDLs and FCP XML count SMPTE timecode, which exists only at the broadcast and film rates."""
    rate = frame_rate(project)
    if not opentime.RationalTime.is_valid_timecode_rate(float(rate)):
        raise ProjectError(f"fps = {float(rate):g}: {format} timecode needs a SMPTE frame rate (23.976, 24, 25, "
                           "29.97, 30, 48, 50, 59.94 or 60); export --format otio instead",
                           path=project.settings_path)


def _fcp_timecode(rate: Fraction) -> dict[str, dict[str, str]]:
    return {"timecode": {"displayformat": "DF" if drop_frame(rate) else "NDF"}}


def _reel(shot_id: str) -> str:
    """CMX reels are up to 8 characters of letters, digits and underscores."""
    return re.sub(r"[^A-Za-z0-9]", "_", shot_id)[:8] or "AX"
