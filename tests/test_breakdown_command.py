"""``soundstage breakdown FILE`` as a whole process: it loads what a breakdown uses, not the render stages.

Issue 16: the command imported the render pipeline (~1.3 s of a 2 s run). Checked in a fresh interpreter, as
a user runs it; the speed itself is ``benchmarks/breakdown_cli.py``'s, recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
RUN = """
import json, sys
from soundstage.cli import app
try:
    app(sys.argv[1:])
except SystemExit as end:
    code = end.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _breakdown(*args: str, **environ: str) -> tuple[int, str, set[str]]:
    env = {**{name: value for name, value in os.environ.items() if name != "FORCE_COLOR"},
           "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])), **environ}
    done = subprocess.run([sys.executable, "-c", RUN, "breakdown", *args], capture_output=True, text=True,
                          env=env, check=False)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], done.stdout, set(report["modules"])


def test_breakdown_of_a_file_loads_no_render_stage(tmp_path: Path) -> None:
    script = tmp_path / "short.fountain"
    script.write_text("INT. HANOK ROOFTOPS - NIGHT\n\nMIN-JI runs through the smoke.\n\nMIN-JI\nNow!\n", "utf-8")
    code, printed, modules = _breakdown(str(script))
    assert code == 0 and "HANOK ROOFTOPS" in printed and "smoke" in printed
    loaded = {name for name in modules if name.startswith("soundstage.")}
    assert not {name for name in loaded if name.split(".")[1] in ("pipeline", "comp", "media", "engines", "edit",
                                                                   "provenance", "db", "reports", "review")}
    assert not {"sqlalchemy", "numpy", "av", "cv2", "rich.progress", "urllib.request"} & modules
    code, printed, _ = _breakdown("--json", str(script))
    assert code == 0 and json.loads(printed)["scenes"][0]["location"] == "HANOK ROOFTOPS"


def test_breakdown_in_a_pipe_and_as_json_loads_no_rich_layout(tmp_path: Path) -> None:
    """Rich's console, text and tables are ~30 ms of imports that a piped or ``--json`` breakdown never uses;
    at a terminal (here forced) it still draws, and an error still prints its one red line."""
    script = tmp_path / "short.fountain"
    script.write_text("INT. HANOK ROOFTOPS - NIGHT\n\nMIN-JI runs through the smoke.\n", "utf-8")
    layout = {"rich.console", "rich.text", "rich.table"}
    for args in ((str(script),), ("--json", str(script))):
        code, printed, modules = _breakdown(*args)
        assert code == 0 and "HANOK ROOFTOPS" in printed
        assert not layout & modules, args
    code, drawn, modules = _breakdown(str(script), FORCE_COLOR="1")
    assert code == 0 and "┏" in drawn and layout <= modules
    code, _, _ = _breakdown(str(tmp_path / "missing.fountain"))
    assert code == 2


def _printed_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def test_breakdown_tables_are_one_line_a_row_in_a_pipe_and_drawn_at_a_terminal(tmp_path: Path) -> None:
    """Rich lays a table out at ~0.6 ms a row (a feature's tables were most of the command's time), and at 80
    columns it folds a prompt over many lines that grep then cannot find. A pipe gets one line a row in
    aligned columns, whole; a terminal keeps Rich's tables."""
    script = tmp_path / "long.fountain"
    action = "The dragon circles the lantern tower while smoke rolls over the water and the bell rings far away."
    script.write_text(f"INT. HANOK ROOFTOPS - NIGHT\n\n{action}\n\nS#2. 한옥 지붕 위 (새벽)\n\nMIN-JI runs.\n", "utf-8")
    code, piped, _ = _breakdown(str(script), COLUMNS="80")
    assert code == 0
    lines = piped.splitlines()
    assert lines[0] == "long: 2 scenes" and lines[4] == "2 shots"
    assert lines[1].split() == ["scene", "heading", "line", "8ths", "characters", "elements"]
    assert lines[2].split()[:5] == ["1", "INT", "HANOK", "ROOFTOPS", "-"] and "smoke effects" in lines[2]
    assert lines[3].split()[:5] == ["2", "한옥", "지붕", "위", "-"]
    shots = lines[5:8]
    assert [line.split()[0] for line in shots] == ["shot", "1-1", "2-1"]
    prompt_at = shots[0].index("prompt")
    assert action.lower()[:60] in shots[1].lower() and len(shots[1]) > 100      # the whole prompt, unfolded
    assert all(line[prompt_at - 2:prompt_at] == "  " and line[prompt_at] != " " for line in shots)
    # aligned as printed: a Hangul syllable takes two columns, so the line numbers stand under "line"
    starts = [re.match(r"\S+  +.+?  +(\d+|line)", line).start(1) for line in lines[1:4]]   # type: ignore[union-attr]
    assert [_printed_width(line[:at]) for line, at in zip(lines[1:4], starts, strict=True)] == [starts[0]] * 3
    code, drawn, _ = _breakdown(str(script), COLUMNS="80", FORCE_COLOR="1")
    assert code == 0 and "┏" in drawn and "┃" in drawn
    assert max(len(line) for line in drawn.splitlines() if "│" in line) < 120     # folded to the terminal
