"""A take steered by another take's picture is keyed by what that picture shows, not by its file's bytes.

Every take's files are signed: a C2PA manifest goes into the PNG, with its own bytes at every signing. Keyed by
bytes, a moving background made from its set still got another key each time the still was made again (on Ray
and here, the same film came out with different watermarks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from soundstage.engines import AssetKind, AssetRequest, load_engine
from soundstage.media import write_png
from soundstage.takes.store import take_key


def test_a_first_frame_keys_by_its_pixels_not_its_bytes(tmp_path: Path) -> None:
    picture = np.zeros((18, 32, 3), np.uint8)
    picture[4:10, 8:20] = (200, 120, 40)
    plain, signed, other = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    write_png(plain, picture)
    data = plain.read_bytes()
    signed.write_bytes(data[:33] + b"\x00\x00\x00\x04caBX" + b"c2pa" + b"\x12\x34\x56\x78" + data[33:])  # a chunk
    write_png(other, picture[::-1].copy())
    engine = load_engine("procedural", {}, root=tmp_path)

    def key(first: Path) -> str:
        request = AssetRequest(kind=AssetKind.BACKGROUND, prompt="rooftops", width=32, height=18, seed=1,
                               duration=1.0, fps=24, first_frame=first)
        return take_key(engine, engine.quote(request), request)

    assert signed.read_bytes() != plain.read_bytes()
    assert key(plain) == key(signed), "the same picture, signed again, is the same take"
    assert key(plain) != key(other), "another picture is another take"
