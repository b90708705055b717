"""Playlists for dailies: shot versions in the order the session watches them, a note on each, exported as OTIO
for the editor.

An item is a shot as rendered when it was added: its movie and that movie's hash, so a later render of the shot
shows up as "rendered since" rather than silently replacing what was reviewed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import opentimelineio as otio
from opentimelineio import opentime
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from soundstage import journal
from soundstage.db import Playlist, PlaylistItem, now, row_fields
from soundstage.edit.timeline import NAMESPACE, frame_rate, start_time
from soundstage.errors import ProjectError
from soundstage.media import probe
from soundstage.project import Project


@dataclass(frozen=True)
class PlaylistView:
    playlist: Playlist
    items: list[PlaylistItem]


class Playlists:
    """The project's playlists, in its database, and journalled (the last line of an item is its state)."""

    def __init__(self, project: Project, sessions: sessionmaker[Session]) -> None:
        self.project, self.sessions = project, sessions

    def make(self, name: str, by: str) -> Playlist:
        if not name.strip():
            raise ProjectError("a playlist needs a name")
        with self.sessions.begin() as session:
            playlist = Playlist(name=name.strip(), made_by=by, made_at=now())
            session.add(playlist)
            session.flush()
        journal.append(self.project.state_dir, "playlist", **row_fields(playlist))
        return playlist

    def all(self) -> list[Playlist]:
        with self.sessions() as session:
            return list(session.scalars(select(Playlist).order_by(Playlist.id.desc())))

    def get(self, playlist_id: int) -> PlaylistView:
        with self.sessions() as session:
            playlist = session.get(Playlist, playlist_id)
            if playlist is None:
                raise ProjectError(f"no playlist {playlist_id}")
            items = list(session.scalars(select(PlaylistItem).where(PlaylistItem.playlist_id == playlist_id)
                                         .order_by(PlaylistItem.position, PlaylistItem.id)))
            return PlaylistView(playlist, items)

    def add(self, playlist_id: int, shot: str, by: str, note: str = "") -> PlaylistItem:
        """The shot as rendered now, at the end of the playlist; refused if it has no render yet."""
        movie = self.project.out_dir / "shots" / f"{shot}.mp4"
        if not movie.is_file():
            raise ProjectError(f"shot {shot} is not rendered yet: render it before adding it to a playlist")
        version = hashlib.sha256(movie.read_bytes()).hexdigest()
        self.get(playlist_id)
        with self.sessions.begin() as session:
            last = session.scalar(select(func.max(PlaylistItem.position))
                                  .where(PlaylistItem.playlist_id == playlist_id))
            item = PlaylistItem(playlist_id=playlist_id, position=(last or 0) + 1, shot=shot,
                                movie=movie.relative_to(self.project.root).as_posix(), version=version,
                                note=note.strip(), added_by=by, added_at=now())
            session.add(item)
            session.flush()
        journal.append(self.project.state_dir, "playlist_item", **row_fields(item))
        return item

    def note(self, playlist_id: int, item_id: int, text: str) -> PlaylistItem:
        """The session's note on one item (what was said as it played), replacing the item's earlier one."""
        with self.sessions.begin() as session:
            item = session.get(PlaylistItem, item_id)
            if item is None or item.playlist_id != playlist_id:
                raise ProjectError(f"playlist {playlist_id} has no item {item_id}")
            item.note = text.strip()
        journal.append(self.project.state_dir, "playlist_item", **row_fields(item))
        return item

    def rendered_since(self, item: PlaylistItem) -> bool:
        movie = self.project.root / item.movie
        return not movie.is_file() or hashlib.sha256(movie.read_bytes()).hexdigest() != item.version

    def timeline(self, playlist_id: int) -> otio.schema.Timeline:
        """The playlist as an OTIO timeline: its items in order, each note a marker on its clip."""
        view = self.get(playlist_id)
        rate = float(frame_rate(self.project))
        track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
        for item in view.items:
            movie = self.project.root / item.movie
            frames = (probe(movie).frames or 1) if movie.is_file() else 1
            available = opentime.TimeRange(opentime.RationalTime(0, rate), opentime.RationalTime(frames, rate))
            reference = otio.schema.ExternalReference(target_url=movie.as_uri(), available_range=available)
            clip = otio.schema.Clip(name=item.shot, media_reference=reference, source_range=available)
            clip.metadata[NAMESPACE] = {"shot": item.shot, "file": item.movie, "sha256": item.version,
                                        "note": item.note, "added_by": item.added_by,
                                        "added_at": item.added_at.isoformat(timespec="seconds")}
            if item.note:
                clip.markers.append(otio.schema.Marker(name=item.note[:200], marked_range=opentime.TimeRange(
                    opentime.RationalTime(0, rate), opentime.RationalTime(0, rate))))
            track.append(clip)
        timeline = otio.schema.Timeline(name=view.playlist.name, global_start_time=start_time(self.project))
        timeline.tracks.append(track)
        timeline.metadata[NAMESPACE] = {"playlist": view.playlist.id, "made_by": view.playlist.made_by}
        return timeline


def playlist_otio(playlists: Playlists, playlist_id: int) -> str:
    return otio.adapters.write_to_string(playlists.timeline(playlist_id), adapter_name="otio_json")


__all__ = ["PlaylistView", "Playlists", "playlist_otio"]
