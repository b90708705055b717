"""A project with ``[colour]``: a log plate declared in shots.toml comps in ACEScg and leaves a BT.709-tagged
review movie and an ACEScg EXR master with light over 1.0; bad colour input is one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soundstage.media import read_exr
from soundstage.media.exr import exr_space
from soundstage.media.video import colour_tags
from soundstage.pipeline import render_project
from soundstage.project import Project
from test_cli import soundstage
from tiny_film import make_tiny

COLOUR = '\n[colour]\nworking = "ACEScg"\n'


def _managed(root: Path, colour: str = COLOUR, plate_space: str = "LogC4", extra: str = "") -> Project:
    project = make_tiny(root)
    settings = project.settings_path.read_text().replace("[look]", '[render]\ndeliver = ["exr"]\n[look]')
    project.settings_path.write_text(settings + colour)
    shots = project.shots_file.read_text().replace('plate = "plates/actor.mp4"\n',
                                                   f'plate = "plates/actor.mp4"\nplate_space = "{plate_space}"\n'
                                                   f'{extra}', 1)
    project.shots_file.write_text(shots)
    return Project.load(root)


def test_a_log_plate_comps_in_acescg_into_tagged_outputs(tmp_path: Path) -> None:
    pytest.importorskip("OpenEXR")
    project = _managed(tmp_path / "film")
    report = render_project(project)
    assert not report.failed, report.failed
    tags = colour_tags(project.out_dir / "shots" / "1-1.mp4")
    assert (tags.primaries, tags.transfer, tags.matrix) == ("bt709", "bt709", "itu709")
    frame = next((project.out_dir / "masters" / "1-1_exr").glob("*.exr"))
    assert exr_space(frame)["colorInteropID"] == "lin_ap1_scene"
    assert exr_space(frame)["oiio:ColorSpace"] == "ACEScg"
    # the actor's red block, LogC4 code 200/255, is far brighter than 1.0 in linear light: kept in the master
    linear = read_exr(frame)
    assert linear[70, 85, 0] > 2.0 and np.isfinite(linear).all()


@pytest.mark.parametrize(("colour", "plate_space", "extra", "said"), [
    (COLOUR, "ARRI LogC5", "", "plate space 'ARRI LogC5' is not in the OCIO config"),
    ('\n[colour]\nworking = "ACEScgg"\n', "LogC4", "", "close: 'ACEScg'"),
    ('\n[colour]\nconfig = "studio.ocio"\n', "LogC4", "", "studio.ocio: is not a usable OCIO config"),
    (COLOUR, "LogC4", 'comp = { lut_space = "Log C 9" }\n', "LUT space 'Log C 9' is not in the OCIO config"),
    ('\n[colour]\ndeliver = ["rec2100-pq"]\n', "LogC4", "", "rec2100-pq is HDR, which the review movie's 8-bit"),
])
def test_bad_colour_input_is_one_line(tmp_path: Path, colour: str, plate_space: str, extra: str, said: str) -> None:
    project = _managed(tmp_path / "film", colour, plate_space, extra) if "HDR" not in said and "pq" not in colour \
        else None
    if project is None:       # refused when soundstage.toml is read
        project_root = tmp_path / "film"
        make_tiny(project_root)
        settings = project_root / "soundstage.toml"
        settings.write_text(settings.read_text() + colour)
    else:
        project_root = project.root
    (project_root / "studio.ocio").write_text("ocio_profile_version: 2\nroles: [\n")
    result = soundstage("render", project_root)
    assert result.returncode == 2, result.stderr
    assert said in result.stderr and "Traceback" not in result.stderr
