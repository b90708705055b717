"""The built-in procedural engine: offline sets and VFX elements from numpy and OpenCV alone.

It is not AI. It reads the words of a prompt (English or Korean) against a small vocabulary, builds a
scene from layers (sky, terrain, architecture, weather, a film finish) and draws it deterministically from
the seed. Every new user sees its output first, and every test and demo can run without a network, so it
favours good composition (horizon near the lower third, room for an actor in the lower middle) and speed
(low-frequency fields are drawn small and upscaled).

- ``vocabulary``: what a prompt's words mean (the words themselves in ``vocabulary.toml``)
- ``noise``: seeded streams, fractal noise and the small numeric tools the others share
- ``sets``: the set, a canvas painted back to front
- ``elements``: VFX layers with alpha, one pure function of time each, named as in ``script/elements.toml``
- ``placeholders``: labelled previs silhouettes for what it cannot draw for real
- ``engine``: the :class:`ProceduralEngine` that the ``soundstage.engines`` entry point names
"""

from soundstage.engines.procedural.elements import ELEMENTS, element_frame
from soundstage.engines.procedural.engine import GENERATOR_VERSION, MODEL, ProceduralEngine, ProceduralOptions
from soundstage.engines.procedural.placeholders import PLACEHOLDERS, placeholder_label
from soundstage.engines.procedural.sets import LIGHTS, set_image
from soundstage.engines.procedural.vocabulary import VOCABULARY, Scene, read_scene

__all__ = [
    "ELEMENTS",
    "GENERATOR_VERSION",
    "LIGHTS",
    "MODEL",
    "PLACEHOLDERS",
    "VOCABULARY",
    "ProceduralEngine",
    "ProceduralOptions",
    "Scene",
    "element_frame",
    "placeholder_label",
    "read_scene",
    "set_image",
]
