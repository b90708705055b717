"""Key a still or a clip to straight RGBA: the ``soundstage key`` command, usable from Python too.

Stills go to PNG; clips to ProRes 4444 (``.mov``) or a PNG / EXR sequence, the formats a finishing artist
takes into Nuke or Resolve with the alpha intact.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from soundstage.comp import key, measure_chroma, measure_screen
from soundstage.comp.keyer import ScreenColour
from soundstage.errors import MediaError
from soundstage.media import (
    Background,
    PlateInfo,
    open_writer,
    probe_plate,
    read_frames,
    read_image,
    read_rgba_frames,
    write_png,
)

ALPHA_KEPT = "{name} has an alpha channel: multiplied into the key's matte (what it hid stays hidden)"


def key_file(source: Path, target: Path, *, screen: Literal["auto", "green", "blue"] = "auto",
             options: dict[str, Any] | None = None, progress: Callable[[int, int], None] | None = None,
             warn: Callable[[str], None] | None = None) -> int:
    """Key ``source`` into ``target`` and return the number of frames written.

    The screen is measured once, on the first frame, so a clip's key does not flicker. The input's own alpha (a
    garbage matte, a roto) is multiplied into the key's matte, as a compositor does: what it hid stays hidden;
    ``warn`` is told so in one line.
    """
    options = options or {}
    info = probe_plate(source)          # a picture too large to decode is refused here, from its headers
    _check_target(target)
    try:
        return _key(source, target, info, screen, options, progress, warn)
    except OSError as exc:
        raise MediaError(f"cannot be written: {exc.strerror or exc}", path=target) from None


def _check_target(target: Path) -> None:
    """The folder of an output named on the command line must be there: none is made (``-o /nowhere/x.png``
    made ``/nowhere``), and one that is a file is said so before any keying. A frame sequence
    (``seq/key.%04d.png``) makes its own folder, as a renderer does, but only inside one that exists."""
    folder = target.parent.parent if "%" in target.name else target.parent
    if not folder.exists():
        raise MediaError("does not exist; soundstage key makes no folders", path=folder,
                         hint="create it first, or write the key somewhere else with -o")
    if not folder.is_dir():
        raise MediaError("is not a folder", path=folder, hint="write the key somewhere else with -o")


def _key(source: Path, target: Path, info: PlateInfo, screen: Literal["auto", "green", "blue"],
         options: dict[str, Any], progress: Callable[[int, int], None] | None,
         warn: Callable[[str], None] | None) -> int:
    if info.still:
        if target.suffix.lower() != ".png":
            raise MediaError("a keyed still is written as PNG (straight RGBA)", path=target,
                             hint=f"e.g. -o {target.with_suffix('.png').name}")
        picture = read_image(source)
        if picture.shape[2] == 4 and warn is not None:
            warn(ALPHA_KEPT.format(name=source.name))
        write_png(target, _rgba(picture, measure_screen(picture[..., :3], screen), options))
        return 1
    if target.suffix.lower() == ".mp4":
        raise MediaError("H.264 keeps no alpha", path=target,
                         hint="write .mov (ProRes 4444) or a PNG sequence such as out/key.%04d.png")
    total = info.frames
    frames = (read_rgba_frames if info.alpha else read_frames)(source, prefetch=4)
    if info.alpha and warn is not None:
        warn(ALPHA_KEPT.format(name=source.name))
    first = next(frames)
    colour = measure_screen(first[..., :3], screen)
    options = {"chroma": measure_chroma(first[..., :3]), **options}   # read once: the key cannot flip between frames
    count = 0
    with Background(open_writer(target, width=info.width, height=info.height, fps=float(info.fps or 0), alpha=True),
                    copy=False) as writer:
        for picture in itertools.chain([first], frames):
            writer.write(_rgba(picture, colour, options))
            count += 1
            if progress is not None:
                progress(count, total)
    return count


def _rgba(picture: np.ndarray, screen: ScreenColour, options: dict[str, Any]) -> np.ndarray:
    fg, matte = key(picture[..., :3], screen, **options)
    if picture.shape[2] == 4:       # the input's own alpha (a garbage matte, a roto): multiplied in, as in a comp
        matte = ((matte.astype(np.uint16) * picture[..., 3] + 127) // 255).astype(matte.dtype)
    return np.dstack([fg, matte])
