"""The sound tests' material: the benchmarks' own (``benchmarks/sound_material.py``), so both use one."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from sound_material import click, speechlike, write_plate, write_wav

__all__ = ["click", "speechlike", "write_plate", "write_wav"]
