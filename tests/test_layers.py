"""The stages sit on floors, and data flows one way: a module imports its own stage and the floors below, never
a stage above it, at the top or inside a function. The order is written once, here, as data; both checks read it.

- Every module's syntax tree is walked, every import statement in it (module level, in functions, under
  ``TYPE_CHECKING``), so an import hidden in a function to dodge a circle is caught as well as one at the top.
- Each stage is imported in a fresh interpreter and what lands in ``sys.modules`` is checked: nothing of a stage
  above it, and not the heavy packages it has no use for (the comp never loads the database).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import soundstage

PACKAGE = Path(soundstage.__file__).parent

# Lowest first. Stages on one floor know nothing of each other; each may use any floor below its own.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("ground",),                 # the film's nouns and the house rules: records, errors, atomic writes, TOML, keys
    ("script", "media", "project"),   # the screenplay and its breakdown; pictures decoded and encoded; the folder
    ("engines", "comp", "sound"),   # generators; the keyer and the comp; the sound and its mix: values in, media out
    ("db",),                     # the database of takes, approvals, spend (its migrations with it)
    ("provenance",),             # records of what made each shot, signing, the watermark
    ("takes",),                  # the take store: engines' results, signed and versioned
    ("edit",),                   # labels, burn-ins, the cut and its timelines
    ("pipeline",),               # the job graph that runs all of the above
    ("reports", "recovery", "monitor"),   # views over what the pipeline made, and its upkeep
    ("review",),                 # the crew's web app, on top of the services
    ("cli",),                    # the command, on top of everything
)
FLOOR = {stage: level for level, stages in enumerate(FLOORS) for stage in stages}
# Modules of the package's top that belong to a stage by another name.
STAGE_OF = {"": "ground", "errors": "ground", "atomic": "ground", "tomlfile": "ground", "records": "ground",
            "keys": "ground", "journal": "ground", "templates": "ground", "words": "ground", "migrations": "db"}

# (importer, imported), each a module or a package holding it: edges still to untangle, each with why it is
# allowed for now. Keep this list short; strike an edge off when it is gone (a test below insists).
KNOWN: dict[tuple[str, str], str] = {
    ("soundstage.engines", "soundstage.sound"): "engines write sound as the sound stage does (its one Sound shape and "
                                                "BWF writer); to go once sound/track.py and wav.py move down to media",
}


def known(module: str, name: str) -> bool:
    return any(_matches((module, name), edge) for edge in KNOWN)


def _matches(pair: tuple[str, str], edge: tuple[str, str]) -> bool:
    return all(have == want or have.startswith(f"{want}.") for have, want in zip(pair, edge, strict=True))


# What a stage imported alone must not load beyond its upper floors (checked for every stage): heavy outside
# packages it has no use for, and the project, which the floors alone would let the engines and the comp read.
NOT_LOADED: dict[str, tuple[str, ...]] = {
    "soundstage.records.settings": ("sqlalchemy", "numpy", "av", "cv2"),
    "soundstage.script": ("sqlalchemy", "av", "cv2"),
    "soundstage.media": ("sqlalchemy",),
    "soundstage.engines": ("sqlalchemy", "soundstage.project"),
    "soundstage.comp": ("sqlalchemy", "soundstage.project", "soundstage.provenance"),
    "soundstage.sound": ("sqlalchemy", "soundstage.project", "soundstage.provenance", "cv2"),
    "soundstage.project": ("sqlalchemy", "av", "cv2"),
}


def stage_of(module: str) -> str:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else ""
    return STAGE_OF.get(name, name)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(module: str, path: Path) -> set[str]:
    """Every soundstage module a file imports, anywhere in it; ``from a import b`` counts ``a.b`` if a module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name == "soundstage" or name.startswith("soundstage.")}


def test_every_stage_is_on_a_floor() -> None:
    """A new subpackage or top module must be given its floor here before it can be imported by anyone."""
    unplaced = sorted({stage_of(module) for module in modules()} - set(FLOOR))
    assert not unplaced, f"place {unplaced} in FLOORS or STAGE_OF"


def test_no_module_imports_a_stage_above_it() -> None:
    everything = set(modules())
    upward = []
    for module, path in modules().items():
        own = stage_of(module)
        for name in sorted(imported(module, path)):
            if name not in everything:          # ``from x import function``: the module x is counted already
                continue
            other = stage_of(name)
            if other != own and FLOOR[other] >= FLOOR[own] and not known(module, name):
                upward.append(f"{module} ({own}) imports {name} ({other})")
    assert not upward, "\n".join(upward)


def test_the_known_exceptions_are_still_there() -> None:
    """An exception that has been fixed is struck off the list, so the list never hides a new edge."""
    found = [(module, name) for module, path in modules().items() for name in imported(module, path)]
    gone = [edge for edge in KNOWN if not any(_matches(pair, edge) for pair in found)]
    assert not gone, gone


STAGES_ALONE = ("records.settings", "script", "media", "project", "engines", "comp", "sound", "db", "provenance",
                "takes", "edit")


@pytest.fixture(scope="module")
def loaded() -> dict[str, tuple[int, str, str]]:
    """``sys.modules`` after importing each stage alone, each in its own fresh interpreter (run side by side)."""
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    runs = {stage: subprocess.Popen([sys.executable, "-c", f"import json, sys; import soundstage.{stage}; "
                                     "print(json.dumps(sorted(sys.modules)))"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=env)
            for stage in STAGES_ALONE}
    return {f"soundstage.{stage}": (run.wait(), *run.communicate()) for stage, run in runs.items()}


@pytest.mark.parametrize("module", [f"soundstage.{stage}" for stage in STAGES_ALONE])
def test_a_stage_imported_alone_loads_nothing_above_it(module: str, loaded: dict[str, tuple[int, str, str]]) -> None:
    status, stdout, stderr = loaded[module]
    assert status == 0, stderr
    modules_loaded = set(json.loads(stdout))
    own = stage_of(module)
    above = sorted(name for name in modules_loaded if name.startswith("soundstage.") and stage_of(name) != own
                   and FLOOR[stage_of(name)] >= FLOOR[own])
    assert not above, f"import {module} loads {above}"
    heavy = sorted(name for name in NOT_LOADED.get(module, ()) if name in modules_loaded)
    assert not heavy, f"import {module} loads {heavy}"
