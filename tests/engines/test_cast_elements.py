"""Issue 21: a cast member is asked of a service on its chroma screen and kept opaque, for soundstage's keyer:
not "on a pure black background", not keyed by luminance (which would make its dark parts holes)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from standin import Reply, StandIn
from test_google import OPERATION, express_key, mp4, veo_done
from test_google import engine as google
from test_openai import GENERATIONS, api_key, image_reply
from test_openai import engine as openai_engine

from soundstage.engines import AssetKind, AssetRequest
from soundstage.engines.base import Reference
from soundstage.media import read_image, write_png

GREEN = (34, 177, 76)
__all__ = ["api_key", "express_key"]   # the services' test keys, in clean environments, as their own tests use


def creature_on_green() -> np.ndarray:
    frame = np.zeros((36, 64, 3), np.uint8)
    frame[:] = GREEN
    frame[8:28, 16:48] = (180, 40, 30)
    frame[16:20, 16:48] = (20, 18, 24)        # its dark belly
    return frame


# A creature's subject references need a Veo that takes asset references (3.1); 3.0 refuses them before sending.
VEO_31 = "veo-3.1-fast-generate-preview"
VEO_START = rf"/v1beta1/publishers/google/models/{re.escape(VEO_31)}:predictLongRunning"
VEO_POLL = (r"/v1beta1/projects/film-proj/locations/us-central1/publishers/google/models/"
            rf"{re.escape(VEO_31)}:fetchPredictOperation")


def test_veo_makes_a_creature_on_its_screen_and_keeps_it_opaque(standin: StandIn, tmp_path: Path) -> None:
    write_png(tmp_path / "sheet.png", creature_on_green())
    standin.route("POST", VEO_START, Reply(200, {"name": OPERATION.replace("veo-3.0-fast-generate-001", VEO_31)}))
    standin.route("POST", VEO_POLL, veo_done(mp4([creature_on_green()] * 48)))
    request = AssetRequest(kind=AssetKind.ELEMENT, prompt="a red dragon: alone on a uniform flat green screen",
                           width=64, height=36, seed=7, duration=0.5, fps=24, element="dragon", screen="green",
                           references=(Reference(tmp_path / "sheet.png", "subject"),))
    got = google(standin, tmp_path, video_model=VEO_31).generate(request, tmp_path / "take")

    body = standin.calls("POST", VEO_START)[0].json()
    assert "black" not in body["instances"][0]["prompt"] and "green screen" in body["instances"][0]["prompt"]
    frame = read_image(got.files[0])
    assert frame.shape == (36, 64, 3), "opaque, as made: soundstage keys its screen"
    assert abs(int(frame[18, 30].max()) - 24) < 16 and frame[2, 2, 1] > 150
    assert got.parameters["alpha"].startswith("none: opaque on a green screen")


def test_openai_asks_for_an_opaque_creature_and_keeps_the_screen(standin: StandIn, tmp_path: Path) -> None:
    standin.route("POST", GENERATIONS, image_reply(creature_on_green()))
    request = AssetRequest(kind=AssetKind.ELEMENT, prompt="a red dragon on a green screen", width=64, height=36,
                           seed=1, duration=0.5, fps=24, element="dragon", screen="green")
    got = openai_engine(standin, tmp_path).generate(request, tmp_path / "take")
    assert "background" not in standin.calls("POST", GENERATIONS)[0].json()
    frame = read_image(got.files[0])
    assert frame.shape[2] == 3 or (frame[..., 3] == 255).all(), "opaque: the screen is there for the keyer"
    assert frame[2, 2, 1] > 150 and frame[2, 2, 0] < 60
    assert got.parameters["alpha"].startswith("none: opaque on a green screen")
