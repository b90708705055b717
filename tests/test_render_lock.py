"""Two renders of one project at once: the second is refused with who holds it, or waits; a killed render
leaves no stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from soundstage.errors import ProjectError
from soundstage.pipeline import render_project
from test_cli import soundstage
from test_comp_render import make_project

HOLD = """
import sys, time
from pathlib import Path
from soundstage.pipeline.lock import render_lock
with render_lock(Path(sys.argv[1])):
    Path(sys.argv[2]).write_text("held")
    time.sleep(float(sys.argv[3]))
"""


def hold_lock(state: Path, seconds: float, tmp_path: Path) -> subprocess.Popen[bytes]:
    """Another process holding the project's render lock, as a running render does."""
    flag = tmp_path / "held"
    flag.unlink(missing_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(state), str(flag), str(seconds)])
    deadline = time.monotonic() + 30
    while not flag.exists():
        assert holder.poll() is None and time.monotonic() < deadline, "the holder did not start"
        time.sleep(0.05)
    return holder


def test_a_second_render_is_refused_while_one_runs(tmp_path: Path) -> None:
    project = make_project(tmp_path / "film")
    holder = hold_lock(project.state_dir, 60, tmp_path)
    try:
        with pytest.raises(ProjectError) as refused:
            render_project(project)
        message = str(refused.value)
        assert "another render of this project is running" in message and f"pid {holder.pid}" in message
        assert "--wait" in message and "\n" not in message
        assert not (project.out_dir / "shots").exists(), "nothing was rendered"
        result = soundstage("render", project.root)
        assert result.returncode == 2 and "another render of this project is running" in result.stderr
    finally:
        holder.kill()
        holder.wait()


def test_wait_waits_for_the_other_render(tmp_path: Path) -> None:
    project = make_project(tmp_path / "film")
    holder = hold_lock(project.state_dir, 1.5, tmp_path)
    assert holder.poll() is None, "the lock is held when the render starts"
    report = render_project(project, wait=True)      # without wait, refused (above); with it, it goes through
    assert holder.wait(10) == 0
    assert not report.failed and (project.out_dir / "cut.mp4").is_file()


def test_a_killed_render_leaves_no_stale_lock(tmp_path: Path) -> None:
    project = make_project(tmp_path / "film")
    holder = hold_lock(project.state_dir, 60, tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    report = render_project(project)           # at once, without --wait: the kernel dropped the dead one's lock
    assert not report.failed
