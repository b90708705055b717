"""``soundstage breakdown FILE`` as a whole process: it loads what a breakdown uses, not the render stages.

Issue 16: the command imported the render pipeline (~1.3 s of a 2 s run). Checked in a fresh interpreter, as
a user runs it; the speed itself is ``benchmarks/breakdown_cli.py``'s, recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def _breakdown(*args: str) -> tuple[int, str, set[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
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
