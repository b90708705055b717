"""Compositing: plain functions over arrays, from the key of a plate to the graded frame of a shot.

- keying: ``measure_screen``, ``key`` and the matte tools (``Roto``, ``shrink_grow``, ``soften``, ``refine_edges``);
- integration: ``ColourMatch``, ``light_wrap``, ``Grain``, ``estimate_depth`` + ``defocus``, ``motion_blur``,
  the blend modes (``over``, ``screen``, ``add``, ``blend``) and ``Lut3D`` for the final grade;
- camera moves on still sets, with parallax: ``CameraMove``;
- one shot's comp, prepared once and run frame by frame on a thread pool: ``ShotComp``.
"""

from soundstage.comp.camera import CameraMove
from soundstage.comp.depth import estimate_depth, load_depth
from soundstage.comp.grade import ColourMatch, Lut3D
from soundstage.comp.grain import Grain
from soundstage.comp.keyer import ScreenColour, key, measure_chroma, measure_screen
from soundstage.comp.light import defocus, light_wrap, motion_blur
from soundstage.comp.matte import Roto, refine_edges, shrink_grow, soften
from soundstage.comp.over import BlendMode, add, blend, over, screen
from soundstage.comp.shot import Element, Look, ShotComp

__all__ = ["BlendMode", "CameraMove", "ColourMatch", "Element", "Grain", "Look", "Lut3D", "Roto", "ScreenColour",
           "ShotComp", "add", "blend", "defocus", "estimate_depth", "key", "light_wrap", "load_depth",
           "measure_chroma", "measure_screen", "motion_blur", "over", "refine_edges", "screen", "shrink_grow", "soften"]
