"""A disk that fills: a real tiny tmpfs, not a mock. Whatever was being written is not left under its final
name, a signed output is never published unsigned, and the message is one line that says "disk full"."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from soundstage.errors import SoundstageError
from soundstage.media import VideoWriter
from soundstage.pipeline import render_project
from soundstage.provenance import init_keys, load_identity, sign_file, verify_file
from tiny_film import make_tiny

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import disk_full

leave_free, leftovers = disk_full.leave_free, disk_full.leftovers

SCRIPT = Path(sys.executable).parent / "soundstage"
CREATED = [{"action": "c2pa.created",
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"}]


@contextlib.contextmanager
def tmpfs(folder: Path, kib: int) -> Iterator[Path]:
    """A real file system of ``kib`` KiB at ``folder``; skips where mounting is not permitted."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(disk_full.tmpfs(folder, kib))
        except disk_full.NoTmpfs as exc:
            pytest.skip(str(exc))
        yield folder


def soundstage(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def noise(height: int, width: int, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).random((height, width, 3)) * 255).astype(np.uint8)


HISS = np.random.default_rng(1).uniform(-0.5, 0.5, (48_000 * 20, 2)).astype(np.float32)   # AAC cannot shrink it


@pytest.mark.parametrize("sound", [None, HISS], ids=["silent", "with sound"])
def test_a_movie_that_fills_the_disk_is_one_line_and_not_left_behind(tmp_path: Path, sound: np.ndarray | None) -> None:
    with tmpfs(tmp_path / "small", 64) as small:
        target = small / "cut.mp4"
        with pytest.raises(SoundstageError, match="disk full") as caught, \
                VideoWriter(target, width=64, height=36, fps=24, crf=0, sound=sound) as writer:
            for index in range(400):
                writer.write(noise(36, 64, index))
        assert isinstance(caught.value, OSError) and "\n" not in str(caught.value)
        assert str(caught.value).startswith(f"{small}: disk full")
        assert not target.exists() and leftovers(small) == []


def test_signing_into_a_full_disk_names_the_cause(tmp_path: Path) -> None:
    init_keys(tmp_path / "film", title="Full")
    source = tmp_path / "frame.png"
    assert cv2.imwrite(str(source), noise(96, 128))
    with tmpfs(tmp_path / "small", 64) as small:
        leave_free(small, source.stat().st_size // 2)
        target = small / "take.png"
        with pytest.raises(SoundstageError, match="disk full") as caught:
            sign_file(source, target, load_identity(tmp_path / "film"), actions=CREATED)
        assert "UntrackedPointer" not in str(caught.value), str(caught.value)
        print(caught.value)
        assert not target.exists() and leftovers(small) == []


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny film rendered and signed once: its takes are made, its shot movies' sizes known."""
    root = tmp_path_factory.mktemp("full") / "film"
    assert not render_project(make_tiny(root)).failed
    return root


def copy_with_out_on_tmpfs(rendered: Path, where: Path) -> tuple[Path, Path]:
    film = where / "film"
    shutil.copytree(rendered, film, ignore=shutil.ignore_patterns("out"))
    return film, film / "out"


def test_a_disk_that_fills_while_a_shot_is_signed_publishes_nothing_unsigned(rendered: Path, tmp_path: Path) -> None:
    signed = (rendered / "out" / "shots" / "1-1.mp4").stat().st_size
    film, out = copy_with_out_on_tmpfs(rendered, tmp_path)
    with tmpfs(out, 4096):
        # Room for the first shot's movie, not for it and its signed copy: signing is what fills the disk.
        leave_free(out, signed)
        result = soundstage("comp", film, "--shot", "1-1", "--jobs", "1")
        said = result.stdout + result.stderr
        assert result.returncode == 1, said
        assert "disk full" in said and "UntrackedPointer" not in said and "Traceback" not in said, said
        for movie in (out / "shots").glob("*.mp4"):
            verdict = verify_file(movie)
            assert verdict.state != "none" and not verdict.tampered, f"{movie.name} published unsigned"
        assert leftovers(out) == []


def test_a_disk_that_fills_while_the_cut_is_written_is_one_line(rendered: Path, tmp_path: Path) -> None:
    film, out = copy_with_out_on_tmpfs(rendered, tmp_path)
    with tmpfs(out, 16384):      # the film's stems (and the cut's, under its closing card) take ~7 MB
        assert soundstage("render", film).returncode == 0
        kept = {p.name: p.read_bytes() for p in (out / "shots").glob("*.mp4")}
        (out / "cut.mp4").unlink()
        for review in out.glob("*review*.mp4"):
            review.unlink()
        leave_free(out, 4096)
        result = soundstage("render", film)
        said = result.stdout + result.stderr
        assert result.returncode in (1, 2), said
        assert "disk full" in said and "Traceback" not in said and "Errno 28" not in said
        assert not (out / "cut.mp4").exists() and leftovers(out) == []
        assert {p.name: p.read_bytes() for p in (out / "shots").glob("*.mp4")} == kept   # finished shots kept


def test_a_disk_that_fills_while_the_cut_is_signed_publishes_no_unsigned_cut(rendered: Path, tmp_path: Path) -> None:
    signed = (rendered / "out" / "cut.mp4").stat().st_size
    film, out = copy_with_out_on_tmpfs(rendered, tmp_path)
    with tmpfs(out, 16384):      # the film's stems (and the cut's, under its closing card) take ~7 MB
        assert soundstage("render", film).returncode == 0
        (out / "cut.mp4").unlink()
        leave_free(out, signed)          # the cut fits, it and its signed copy do not
        result = soundstage("render", film)
        said = result.stdout + result.stderr
        assert result.returncode in (1, 2) and "disk full" in said and "Traceback" not in said, said
        cut = out / "cut.mp4"
        assert not cut.exists() or verify_file(cut).state != "none", "the cut published unsigned"
        assert leftovers(out) == []
