"""The hostile-input fault run, as CI runs it: every case through the installed command.

Each case must be answered with its exit code and its words, with no traceback, an error in one line (one
per problem for a preflight), and every file the user made left byte for byte as it was.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import hostile_inputs  # noqa: E402


@pytest.mark.skipif(not hostile_inputs.SOUNDSTAGE.is_file(), reason="needs the installed soundstage command")
@pytest.mark.parametrize("case", hostile_inputs.CASES, ids=lambda case: case.name)
def test_each_hostile_input_is_answered_in_one_line_and_loses_nothing(tmp_path: Path,
                                                                       case: hostile_inputs.Case) -> None:
    result = hostile_inputs.run_case(case, tmp_path)
    assert result["ok"], result
