"""Finishing writers with alpha: ProRes 4444, PNG and EXR sequences, picked by open_writer, all atomic."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from soundstage.errors import MediaError
from soundstage.media import (
    FrameWriter,
    ImageSequenceWriter,
    ProResWriter,
    VideoWriter,
    open_writer,
    probe,
    read_exr,
    read_frames,
    read_image,
    read_rgba_frames,
    read_sequence,
    srgb_to_linear,
)

W, H = 96, 64


def element(index: int) -> np.ndarray:
    """A straight RGBA element: a colour ramp, a soft alpha ramp with every alpha level, a moving hard edge."""
    rng = np.random.default_rng(index)
    frame = np.zeros((H, W, 4), np.uint8)
    x = np.arange(W)
    frame[..., 0] = (x * 255 // (W - 1))[None, :]
    frame[..., 1] = (np.arange(H) * 4)[:, None]
    frame[..., 2] = rng.integers(60, 70, (H, W))
    alpha = np.arange(H * W) % 256
    frame[..., 3] = alpha.reshape(H, W)
    frame[:, 10 + index * 3: 14 + index * 3, 3] = 0
    return frame


def test_prores_4444_keeps_colour_and_alpha(tmp_path: Path) -> None:
    path = tmp_path / "fire.mov"
    frames = [element(i) for i in range(3)]
    with ProResWriter(path, width=W, height=H, fps=24) as writer:
        for frame in frames:
            writer.write(frame)
    info = probe(path)
    assert (info.width, info.height, info.fps, info.frames) == (W, H, 24, 3)
    back = list(read_rgba_frames(path))
    assert len(back) == 3
    for wrote, read in zip(frames, back, strict=True):
        assert np.array_equal(read[..., 3], wrote[..., 3])        # 10-bit alpha rounds back exactly
        colour = np.abs(read[..., :3].astype(int) - wrote[..., :3])
        assert colour.max() <= 3 and colour.mean() < 0.5          # 10-bit 4:4:4: a level or two
    assert read_frames(path).__next__().shape == (H, W, 3)


def test_prores_takes_rgb_as_opaque_and_without_alpha(tmp_path: Path) -> None:
    rgb = element(0)[..., :3].copy()
    with ProResWriter(tmp_path / "a.mov", width=W, height=H, fps=25) as writer:
        writer.write(rgb)
    assert (next(read_rgba_frames(tmp_path / "a.mov"))[..., 3] == 255).all()
    with ProResWriter(tmp_path / "b.mov", width=W, height=H, fps=25, alpha=False) as writer:
        writer.write(rgb)
        with pytest.raises(ValueError, match="has alpha"):
            writer.write(element(0))
    assert np.abs(next(read_frames(tmp_path / "b.mov")).astype(int) - rgb).max() <= 3


def test_png_sequence_is_exact_and_numbered(tmp_path: Path) -> None:
    folder = tmp_path / "3-1"
    frames = [element(i) for i in range(3)]
    with ImageSequenceWriter(folder, "3-1.%04d.png", width=W, height=H, fps=24, first=1001) as writer:
        for frame in frames:
            writer.write(frame)
    assert sorted(p.name for p in folder.iterdir()) == ["3-1.1001.png", "3-1.1002.png", "3-1.1003.png"]
    assert np.array_equal(read_image(folder / "3-1.1002.png"), frames[1])
    back = list(read_sequence(folder))
    assert all(np.array_equal(a, b) for a, b in zip(back, frames, strict=True))
    assert len(list(read_sequence(folder / "3-1.%04d.png"))) == 3
    assert list(tmp_path.iterdir()) == [folder]                    # no temporary folder left beside it


def test_sequence_gap_and_bad_pattern_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    with ImageSequenceWriter(folder, "s.%04d.png", width=W, height=H, fps=24) as writer:
        for i in range(3):
            writer.write(element(i))
    (folder / "s.0002.png").unlink()
    with pytest.raises(MediaError, match="frame 2 is missing"):
        list(read_sequence(folder))
    (folder / "s.0003.png").rename(folder / "s.0002.png")
    (folder / "t.0002.png").write_bytes((folder / "s.0002.png").read_bytes())
    with pytest.raises(MediaError, match="two files are frame 2"):
        list(read_sequence(folder))
    assert len(list(read_sequence(folder / "s.%04d.png"))) == 2      # the pattern picks its own files only
    with pytest.raises(MediaError, match="not a frame pattern"):
        ImageSequenceWriter(tmp_path / "t", "t.png", width=W, height=H, fps=24)
    with pytest.raises(MediaError, match="no such folder"):
        list(read_sequence(tmp_path / "nowhere"))


def test_a_frame_that_fails_to_store_fails_the_sequence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import soundstage.media.sequence as sequence

    calls: list[Path] = []
    real = sequence._write_synced

    def flaky(target: Path, content: memoryview | bytes) -> None:
        calls.append(target)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real(target, content)

    monkeypatch.setattr(sequence, "_write_synced", flaky)
    with pytest.raises(OSError, match="disk full"), \
            ImageSequenceWriter(tmp_path / "s", "s.%04d.png", width=W, height=H, fps=24) as writer:
        for index in range(8):
            writer.write(element(index))
    assert list(tmp_path.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("soundstage-")]


def test_rerender_replaces_a_sequence_whole(tmp_path: Path) -> None:
    folder = tmp_path / "shot"
    for count, shade in ((4, 10), (2, 200)):
        with ImageSequenceWriter(folder, "shot.%04d.png", width=W, height=H, fps=24, alpha=False) as writer:
            for _ in range(count):
                writer.write(np.full((H, W, 3), shade, np.uint8))
    assert sorted(p.name for p in folder.iterdir()) == ["shot.0001.png", "shot.0002.png"]
    assert read_image(folder / "shot.0001.png")[0, 0].tolist() == [200, 200, 200]
    assert [p.name for p in tmp_path.iterdir()] == ["shot"]


def test_exr_sequence_is_linear_premultiplied_half(tmp_path: Path) -> None:
    pytest.importorskip("OpenEXR")
    frame = element(0)
    with ImageSequenceWriter(tmp_path / "e", "e.%04d.exr", width=W, height=H, fps=24) as writer:
        writer.write(frame)
    pixels = read_exr(tmp_path / "e" / "e.0001.exr")
    assert pixels.shape == (H, W, 4) and pixels.dtype == np.float32
    alpha = frame[..., 3] / 255.0
    linear = srgb_to_linear(frame[..., :3] / 255.0) * alpha[..., None]
    assert np.allclose(pixels[..., 3], alpha, rtol=1e-3, atol=1e-4)
    assert np.allclose(pixels[..., :3], linear, rtol=1e-3, atol=1e-5)     # half float: 11 significant bits
    # anchors: sRGB 128 is 21.6 % linear light; alpha 0 leaves no colour behind
    opaque = np.full((2, 2, 3), 128, np.uint8)
    with ImageSequenceWriter(tmp_path / "f", "f.%04d.exr", width=2, height=2, fps=24, alpha=False) as writer:
        writer.write(opaque)
    rgb = read_exr(tmp_path / "f" / "f.0001.exr")
    assert rgb.shape == (2, 2, 3) and abs(float(rgb[0, 0, 0]) - 0.2158605) < 2e-4
    assert (pixels[..., :3][frame[..., 3] == 0] == 0).all()


def test_exr_without_openexr_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "OpenEXR", None)
    with pytest.raises(MediaError, match=r"needs the OpenEXR package.*install.*\[exr\]"):
        open_writer(tmp_path / "e.%04d.exr", width=W, height=H, fps=24, alpha=True)
    assert list(tmp_path.iterdir()) == []


def test_open_writer_picks_by_path(tmp_path: Path) -> None:
    cases = {
        "review.mp4": (VideoWriter, False),
        "finish.mov": (ProResWriter, True),
        "seq/seq.%04d.png": (ImageSequenceWriter, True),
        "plain": (ImageSequenceWriter, True),
    }
    for name, (kind, alpha) in cases.items():
        with open_writer(tmp_path / name, width=W, height=H, fps=24, alpha=alpha) as writer:
            assert isinstance(writer, kind) and isinstance(writer, FrameWriter)
            writer.write(element(0) if alpha else element(0)[..., :3].copy())
        assert writer.frames == 1
    assert (tmp_path / "plain" / "plain.0001.png").is_file()
    with pytest.raises(MediaError, match="keeps no alpha"):
        open_writer(tmp_path / "x.mp4", width=W, height=H, fps=24, alpha=True)
    with pytest.raises(MediaError, match="frame counter"):
        open_writer(tmp_path / "x.png", width=W, height=H, fps=24, alpha=True)
    with pytest.raises(MediaError, match="even width"):
        open_writer(tmp_path / "odd.mp4", width=W + 1, height=H, fps=24, alpha=False)
    with open_writer(tmp_path / "odd.mov", width=W + 1, height=H + 1, fps=24, alpha=True) as writer:
        writer.write(np.zeros((H + 1, W + 1, 4), np.uint8))                  # ProRes 4:4:4 takes any size
    with pytest.raises(MediaError, match="no writer"):
        open_writer(tmp_path / "x.avi", width=W, height=H, fps=24, alpha=False)
    with VideoWriter(tmp_path / "y.mp4", width=W, height=H, fps=24) as writer, \
            pytest.raises(ValueError, match="has alpha"):
        writer.write(element(0))


@pytest.mark.parametrize("name", ["a.mp4", "b.mov", "c/c.%04d.png", "d/d.%04d.exr"])
def test_failed_write_publishes_nothing(tmp_path: Path, name: str) -> None:
    if name.endswith("exr"):
        pytest.importorskip("OpenEXR")
    alpha = not name.endswith("mp4")
    with pytest.raises(RuntimeError, match="comp failed"), \
            open_writer(tmp_path / name, width=W, height=H, fps=24, alpha=alpha) as writer:
        writer.write(element(0) if alpha else element(0)[..., :3].copy())
        raise RuntimeError("comp failed")
    assert list(tmp_path.iterdir()) == []                           # neither the output nor temporary litter
