"""The one plate probe: what a plate is (a still or a clip, its size, rate and length) before anything uses it.

Every door a plate comes in by (``soundstage plan``/``render``'s preflight, a review-app upload, ``soundstage
key``) asks here, so they all refuse the same files for the same reasons: a PNG renamed ``.mp4``, a truncated
MP4, an image whose header claims 16000×16000 (a memory bomb, refused before a pixel is decoded).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av

from soundstage.errors import MediaError
from soundstage.media.image import STILL_CODECS
from soundstage.media.video import MAX_PIXELS, _open, _reason, _stream_info, _video_stream, colour_tags, oversize

__all__ = ["MAX_PIXELS", "PlateInfo", "file_colour", "probe_plate"]


@dataclass(frozen=True, slots=True)
class PlateInfo:
    path: Path
    width: int
    height: int
    fps: Fraction | None     # None for a still (a still has no rate)
    frames: int              # 1 for a still; from the container for a clip (0 when it does not say)
    duration: float | None   # seconds; None for a still
    still: bool
    alpha: bool              # the picture carries an alpha channel


def probe_plate(path: str | Path, *, max_pixels: int = MAX_PIXELS) -> PlateInfo:
    """Headers only, then exactly one frame decoded to prove the file is decodable.

    A still is told by its content, not its suffix (FFmpeg's image demuxers sniff the bytes), so a PNG
    renamed ``.mp4`` is found out. Refuses with a MediaError naming the file: no such file, not decodable,
    no video stream, no frame decodes, an index that lists more bytes than the file has (truncated), or
    width × height over ``max_pixels`` (refused from the headers, before any pixel is decoded).
    """
    path = Path(path)
    with _open(path, max_pixels) as container:
        stream = _video_stream(container, path)
        context = stream.codec_context
        width, height = (context.width, context.height) if context is not None else (0, 0)
        # FFmpeg leaves the size at 0 when its decoder refused a frame over max_pixels (see _open), or found
        # no size it could read; either way nothing more is decoded
        if context is not None and (not width or width * height > max_pixels):
            raise oversize(path, width, height, max_pixels)
        still = container.format.name == "image2" or container.format.name.endswith("_pipe")
        if still:
            if context is None or context.name not in STILL_CODECS:
                raise MediaError(f"is a still that soundstage cannot read ({context.name if context else '?'})",
                                 path=path, hint="save it as PNG, JPEG, TIFF, BMP or WebP")
            fps, frames, duration = None, 1, None
        else:
            clip = _stream_info(container, path)
            _check_index(stream, path)
            fps, frames, duration = clip.fps, clip.frames, clip.duration
        try:
            frame = next(container.decode(stream), None)
        except av.error.FFmpegError as exc:
            raise MediaError(f"no frame decodes ({_reason(exc)})", path=path) from None
        if frame is None:
            raise MediaError("holds no decodable frames", path=path)
        alpha = any(component.is_alpha for component in frame.format.components)
    return PlateInfo(path, width, height, fps, frames, duration, still, alpha)


def _check_index(stream: av.VideoStream, path: Path) -> None:
    """A truncated clip whose index survived (an MP4 written with the index first) opens and decodes its
    first frames; only the index, pointing past the end of the file, says it was cut short."""
    ends = [entry.pos + entry.size for entry in stream.index_entries if entry.pos >= 0]
    size = path.stat().st_size
    if ends and max(ends) > size:
        raise MediaError(f"is truncated: its index lists {max(ends):,} bytes of frames but the file has {size:,}",
                         path=path, hint="copy the plate again from the camera card or the original")


def file_colour(path: str | Path) -> dict[str, str]:
    """What a file says of its own colour: an EXR's header (``colorInteropID``, ``oiio:ColorSpace``,
    ``chromaticities``), or a movie's or still's stream tags (primaries, transfer, matrix, range), as read."""
    path = Path(path)
    if path.suffix.lower() == ".exr":
        from soundstage.media.exr import exr_space

        found = exr_space(path)
        return {key: " ".join(f"{v:.4f}" for v in value) if isinstance(value, tuple) else str(value)
                for key, value in found.items()} or {"colour": "not declared"}
    return {key: str(value) for key, value in asdict(colour_tags(path)).items()}
