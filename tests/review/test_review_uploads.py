"""Plate uploads: every replaced plate is kept under a name of its own and in the database's history, and only
a decodable movie of a size the project can take is accepted, checked from its headers before any decode."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from conftest import Member, books, sign_in
from soundstage.db import PlateChange, open_database
from soundstage.project import Project
from soundstage.review import make_app
from tiny_film import FPS, H, W, green_plate


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _upload(client: Member, content: bytes, name: str = "actor.mp4"):  # type: ignore[no-untyped-def]
    return client.post("/shots/1-1/plate", data={"csrf": client.csrf}, files={"plate": (name, content)})


def _plate(tmp_path: Path, colour: int, *, size: tuple[int, int] = (W, H), fps: float = FPS) -> bytes:
    path = tmp_path / f"plate-{colour}-{size[0]}x{size[1]}-{fps}.mp4"
    frames = int(fps) + 1                   # a little over the shot's second
    if size == (W, H):
        green_plate(path, frames, fps=fps, block=(colour, 60, 50))
    else:
        with av.open(str(path), "w") as movie:
            stream = movie.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
            for _ in range(frames):
                frame = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), colour, np.uint8), "rgb24")
                for packet in stream.encode(frame):
                    movie.mux(packet)
            for packet in stream.encode():
                movie.mux(packet)
    return path.read_bytes()


def test_six_quick_uploads_keep_every_previous_plate(crew: dict[str, Member], film: Project,
                                                     tmp_path: Path) -> None:
    original = (film.root / "plates" / "actor.mp4").read_bytes()
    uploads = [_plate(tmp_path, 100 + 20 * n) for n in range(6)]
    for content in uploads:                 # well within a second of each other
        answer = _upload(crew["anna"], content)
        assert answer.status_code == 200, answer.text
    assert (film.root / "plates" / "actor.mp4").read_bytes() == uploads[-1]
    kept = {_sha(p.read_bytes()) for p in (film.root / "plates" / "previous").iterdir()}
    assert kept == {_sha(original)} | {_sha(u) for u in uploads[:-1]}       # six previous versions, none lost
    assert len(list((film.root / "plates" / "previous").iterdir())) == 6
    with open_database(film.database)() as session:
        history = list(session.scalars(select(PlateChange).order_by(PlateChange.id)))
    assert [(h.shot, h.plate, h.replaced_by) for h in history] == [("1-1", "plates/actor.mp4", "anna")] * 6
    assert [h.sha256 for h in history] == [_sha(u) for u in uploads]
    assert [h.kept_sha256 for h in history] == [_sha(original)] + [_sha(u) for u in uploads[:-1]]
    for change in history:                  # each row names the file that holds the bytes it replaced
        assert change.kept is not None and _sha((film.root / change.kept).read_bytes()) == change.kept_sha256


def test_uploads_at_the_same_moment_take_turns_and_lose_nothing(app: FastAPI, film: Project, tmp_path: Path) -> None:
    before = (film.root / "plates" / "actor.mp4").read_bytes()
    uploads = [_plate(tmp_path, 30 + 40 * n) for n in range(4)]
    clients = [sign_in(app, "anna") for _ in uploads]
    with ThreadPoolExecutor(len(uploads)) as pool:
        answers = list(pool.map(_upload, clients, uploads))
    assert [a.status_code for a in answers] == [200] * len(uploads)
    with open_database(film.database)() as session:
        history = list(session.scalars(select(PlateChange).order_by(PlateChange.id)))[-len(uploads):]
    # One after another: each upload kept exactly the plate the one before it put in place.
    assert [h.kept_sha256 for h in history] == [_sha(before)] + [h.sha256 for h in history[:-1]]
    assert sorted(h.sha256 for h in history) == sorted(_sha(u) for u in uploads)
    assert _sha((film.root / "plates" / "actor.mp4").read_bytes()) == history[-1].sha256


# ---------------------------------------------------------------------------------------------- bad plates

def _png(width: int, height: int) -> bytes:
    """A PNG whose header says ``width``×``height``; its picture data is a few bytes (a lie for big sizes)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = zlib.compress(b"".join(b"\0" + b"\x80" * (3 * width) for _ in range(min(height, 40))))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


def _movie_saying(codec: str, width: int, height: int, packets: list[bytes], extradata: bytes | None = None) -> bytes:
    """An MP4 whose headers say ``width``×``height``, holding the given (small) packets as they are."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as movie:
        stream = movie.add_stream(codec, rate=FPS)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if codec == "h264" else "rgb24"
        if extradata:
            stream.codec_context.extradata = extradata
        for index, data in enumerate(packets):
            packet = av.Packet(data)
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, index, index, Fraction(1, FPS)
            movie.mux(packet)
    return out.getvalue()


def _h264_saying(width: int, height: int, tmp_path: Path) -> bytes:
    """An 8 KB H.264 MP4 whose headers claim a huge picture (the attack's 8192×8192 of 16 KB, in small)."""
    with av.open(io.BytesIO(_plate(tmp_path, 90, size=(64, 64)))) as small:
        stream = small.streams.video[0]
        extradata = stream.codec_context.extradata
        packets = [bytes(p) for p in small.demux(stream) if p.size]
    return _movie_saying("h264", width, height, packets, extradata)


BAD_PLATES = {
    "a PNG renamed .mp4": lambda tmp: _png(W, H),
    "a PNG+MP4 polyglot": lambda tmp: _png(W, H) + _plate(tmp, 120),
    "a truncated MP4": lambda tmp: _plate(tmp, 130)[:3000],
    "an 8192x8192 H.264 header": lambda tmp: _h264_saying(8192, 8192, tmp),
    "a 16000x16000 PNG in an MP4": lambda tmp: _movie_saying("png", 16000, 16000, [_png(16000, 16000)]),
    "a 16000x16000 PNG renamed .mp4": lambda tmp: _png(16000, 16000),
    "an empty file": lambda tmp: b"",
}


@pytest.mark.parametrize("what", list(BAD_PLATES))
def test_a_plate_that_is_not_a_decodable_movie_is_refused(crew: dict[str, Member], film: Project, tmp_path: Path,
                                                          what: str) -> None:
    content = BAD_PLATES[what](tmp_path)
    before = books(film)
    answer = _upload(crew["art"], content)
    assert answer.status_code == 415, (what, answer.status_code, answer.text)
    assert "actor.mp4" in answer.json()["detail"] or "plate" in answer.json()["detail"]
    assert books(film) == before                      # nothing replaced, nothing kept, no history row
    assert not [p for p in (film.root / "plates").rglob("*") if ".partial" in p.name]


@pytest.mark.parametrize("what, change, setting, status", [
    ("size", {"size": (96, 54)}, 'size = "refuse"', 422),
    ("size", {"size": (96, 54)}, 'size = "fit"', 200),
    ("rate", {"fps": 25.0}, 'rate = "refuse"', 422),
    ("rate", {"fps": 25.0}, 'rate = "retime"', 200),
])
def test_a_plate_that_does_not_match_the_project_is_refused_or_warned_per_its_settings(
        film: Project, tmp_path: Path, what: str, change: dict, setting: str, status: int) -> None:
    content = _plate(tmp_path, 150, **change)
    toml = film.root / "soundstage.toml"
    saved = toml.read_text()
    toml.write_text(saved + f"\n[plates]\n{setting}\n")
    review = make_app(Project.load(film.root))
    try:
        anna = sign_in(review, "anna")
        before = books(film)
        answer = _upload(anna, content)
        assert answer.status_code == status, answer.text
        if status == 422:
            assert what in answer.json()["detail"] and "[plates]" in answer.json()["detail"]
            assert books(film) == before
        else:
            assert what in " ".join(answer.json()["warnings"])
            assert (film.root / "plates" / "actor.mp4").read_bytes() == content
    finally:
        review.state.board.close()
        toml.write_text(saved)


def test_a_plate_upload_is_answered_to_a_page_too(app: FastAPI, tmp_path: Path) -> None:
    anna = sign_in(app, "anna")
    answer = anna.post("/shots/1-1/plate", data={"csrf": anna.csrf}, headers={"accept": "text/html"},
                       files={"plate": ("actor.mp4", _png(W, H))}, follow_redirects=False)
    assert answer.status_code == 415 and "is a still picture; the shot&#39;s plate is a movie" in answer.text


def test_a_still_plate_is_replaced_by_a_still(film: Project, tmp_path: Path) -> None:
    shots = film.root / "shots.toml"
    saved = shots.read_text()
    (film.root / "plates" / "still.png").write_bytes(_png(W, H))
    shots.write_text(saved.replace('plate = "plates/actor.mp4"', 'plate = "plates/still.png"'))
    review = make_app(Project.load(film.root))
    try:
        anna = sign_in(review, "anna")
        movie = anna.post("/shots/1-1/plate", data={"csrf": anna.csrf},
                          files={"plate": ("still.png", _plate(tmp_path, 40))})
        assert movie.status_code == 415 and "is a movie; the shot's plate is a still picture" in movie.json()["detail"]
        still = anna.post("/shots/1-1/plate", data={"csrf": anna.csrf}, files={"plate": ("new.png", _png(W, H))})
        assert still.status_code == 200 and still.json()["still"] is True, still.text
        assert (film.root / still.json()["kept"]).read_bytes() == _png(W, H)
    finally:
        review.state.board.close()
        shots.write_text(saved)
