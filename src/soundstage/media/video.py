"""Video in and out through PyAV, one frame at a time, so memory stays flat whatever a shot's length.

Readers decode in FFmpeg's own threads (``thread_type="AUTO"``) and, with ``prefetch``, also in a background
thread of ours, so decoding overlaps the comp (OpenCV and PyAV release the GIL). Writers encode H.264 for
review and ProRes 4444 with alpha for finishing; wrap either in :class:`~soundstage.media.Background` to
encode while the next frame is comped. Either may carry the shot's or the cut's sound, muxed beside the picture
as each frame is written (AAC in the .mp4, 24-bit PCM in the .mov).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

import av
import numpy as np
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

from soundstage.atomic import atomic_path, disk_full
from soundstage.errors import MediaError
from soundstage.media.streaming import ahead

# A container may say a few more frames than decode: an edit list trims the frames that B-frame reordering
# or a camera's pre-roll left at the start. More missing than this is a truncated or damaged file.
EDIT_LIST_SLACK = 2

# The largest frame any stage decodes (8K UHD+: 8192×4608), checked from headers before decoding: a frame is
# width × height × 4 bytes or more at every step of the comp, so a bigger one is a memory bomb, not a plate.
MAX_PIXELS = 8192 * 4608


# The rate of the sound a writer muxes: film's 48 kHz, the rate soundstage.sound works at (it may not be imported
# from here: sound sits on a floor above media).
SOUND_RATE = 48_000
AAC_BIT_RATE = 192_000     # stereo AAC-LC at 192 kbit/s: transparent enough for review and the cut's delivery


def oversize(path: Path, width: int, height: int, max_pixels: int = MAX_PIXELS) -> MediaError:
    """The one refusal of a picture too large to decode, said the same by every reader."""
    size = f"is {width}×{height}, over" if width else "has a frame size that is unreadable or over"
    return MediaError(f"{size} {max_pixels:,} pixels, the most soundstage decodes (refused before decoding)",
                      path=path, hint="export it again as PNG, JPEG or H.264 at the project's resolution")


@dataclass(frozen=True, slots=True)
class VideoInfo:
    width: int
    height: int
    fps: Fraction
    frames: int          # counted from the container's metadata; 0 when it does not say
    duration: float      # seconds
    alpha: bool = False  # the stream carries an alpha plane (ProRes 4444, PNG in MOV…)


def as_rate(fps: float | Fraction) -> Fraction:
    """24 → 24/1, 23.976 → 24000/1001: the rational rates editors and codecs expect.

    The NTSC rates are written rounded (23.976, 29.97, 59.94): each is taken as the n × 1000/1001 it stands
    for, since the nearest small fraction of 23.976 (2997/125) is not a rate any editor knows.
    """
    for base in (24, 30, 48, 60, 120):
        if abs(fps - base * 1000 / 1001) < 0.005:
            return Fraction(base * 1000, 1001)
    return Fraction(fps).limit_denominator(1001)


def frame_sample(frame: int, fps: float | Fraction, rate: int = SOUND_RATE) -> int:
    """The first sample of picture frame ``frame``: round(frame × rate / fps), with fps as the exact fraction
    :func:`as_rate` gives, so 23.976 or 29.97 fps never drift against the sound (23.976 taken as a float is
    3.6 ms off after an hour)."""
    return round(frame * rate / as_rate(fps))


def _open(path: Path, max_pixels: int = MAX_PIXELS) -> av.container.InputContainer:
    """The container, its headers read. FFmpeg's own ``max_pixels`` makes its decoders refuse a larger frame
    before allocating it (opening decodes a first frame to learn the stream), so a 16000×16000 PNG costs a
    few kilobytes here, not 768 MB; such a stream comes back with a size of 0×0."""
    if not path.is_file():
        raise MediaError("no such file", path=path)
    try:
        return av.open(str(path), mode="r", options={"max_pixels": str(max_pixels)})
    except (av.error.FFmpegError, ValueError) as exc:
        raise MediaError(f"not a readable video ({_reason(exc)})", path=path) from None


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc).splitlines()[0]


def probe(path: str | Path) -> VideoInfo:
    """A video's size, rate and length from its headers; :func:`~soundstage.media.probe.probe_plate` also
    tells a still from a clip and proves a frame decodes."""
    path = Path(path)
    with _open(path) as container:
        return _stream_info(container, path)


def _video_stream(container: av.container.InputContainer, path: Path) -> av.VideoStream:
    if not container.streams.video:
        raise MediaError("has no video stream", path=path)
    return container.streams.video[0]


def _stream_info(container: av.container.InputContainer, path: Path) -> VideoInfo:
    stream = _video_stream(container, path)
    rate = stream.average_rate or stream.guessed_rate
    # (no codec context: an image, say an SVG, passed off as a movie; no width: over MAX_PIXELS, see _open)
    if not rate or stream.codec_context is None or not stream.codec_context.width:
        raise MediaError("has no usable video stream (unknown size or frame rate)", path=path)
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = 0.0
    alpha = _has_alpha(stream.codec_context.pix_fmt)
    return VideoInfo(stream.codec_context.width, stream.codec_context.height, Fraction(rate), stream.frames, duration,
                     alpha)


def _has_alpha(pixels: str | None) -> bool:
    try:
        return pixels is not None and any(c.is_alpha for c in av.VideoFormat(pixels).components)
    except ValueError:          # a pixel format this FFmpeg does not name
        return False


def read_frames(path: str | Path, *, prefetch: int = 0) -> Iterator[np.ndarray]:
    """Yield every frame as an H×W×3 uint8 RGB array.

    A damaged stream raises MediaError naming the frame; a truncated one (fewer frames than the container
    says) raises MediaError at its end. With ``prefetch > 0`` a background thread decodes up to that many
    frames ahead of the consumer, so decoding overlaps the comp; memory stays bounded by ``prefetch`` frames,
    and closing the generator early stops the thread.
    """
    return _frames(Path(path), "rgb24", prefetch)


def read_rgba_frames(path: str | Path, *, prefetch: int = 0) -> Iterator[np.ndarray]:
    """Yield every frame as straight H×W×4 uint8 RGBA (alpha 255 where the video has none).

    ProRes 4444 carries 10–16-bit alpha; it is rounded to 8 bits exactly here (FFmpeg's own conversion is a
    level off for about half the values), so an alpha written by :class:`ProResWriter` reads back unchanged.
    """
    return _frames(Path(path), "rgba", prefetch)


def read_proxies(path: str | Path, width: int, *, prefetch: int = 0,
                 keep: list[np.ndarray] | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield every frame's luma at full size (H×W uint8) and an RGB proxy of it about ``width`` px wide (a whole
    fraction of the frame, aspect kept): what a tracker and its rough key need, at a fraction of the cost of a
    full-size RGB decode (the luma is the decoder's own plane; the proxy is scaled and converted in one pass).

    ``keep``: each frame as :func:`read_frames` gives it is appended there too, so a later pass over the same
    plate (the comp after its track) need not decode it again."""
    def views(frame: av.VideoFrame, matrix: dict[str, Colorspace]) -> tuple[np.ndarray, np.ndarray]:
        step = max(1, frame.width // max(1, width))
        proxy = frame.reformat(width=frame.width // step, height=frame.height // step, format="rgb24", **matrix)
        if keep is not None:
            keep.append(frame.to_ndarray(format="rgb24", **matrix))
        return _luma(frame), proxy.to_ndarray()

    return cast(Iterator[tuple[np.ndarray, np.ndarray]], _frames(Path(path), views, prefetch))


# 8-bit pixel formats whose first plane is the luma, as it is
_LUMA_FIRST = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"})


def _luma(frame: av.VideoFrame) -> np.ndarray:
    """The frame's luma (H×W uint8): its own Y plane where it has an 8-bit one (swscale's gray costs as much as the
    decode), else converted."""
    if frame.format.name not in _LUMA_FIRST:
        return frame.to_ndarray(format="gray")
    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width].copy()


# a format, or what to make of each frame (given the matrix its Y'CbCr is read by: {} for its own)
_Pixels = Literal["rgb24", "rgba"] | Callable[[av.VideoFrame, dict[str, Colorspace]], Any]


def _frames(path: Path, pixels: _Pixels, prefetch: int) -> Iterator[Any]:
    if prefetch < 0:
        raise ValueError(f"prefetch must be 0 or more, not {prefetch}")
    if prefetch:
        return ahead(lambda: _decode(path, pixels), prefetch)
    return _decode(path, pixels)


def _decode(path: Path, pixels: _Pixels) -> Iterator[Any]:
    with _open(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"            # frame + slice threads, one per core
        expected = stream.frames
        index = 0
        matrix: dict[str, Colorspace] = {}
        try:
            for frame in container.decode(stream):
                if index == 0 and _untagged_hd(frame):
                    matrix = {"src_colorspace": Colorspace.ITU709}
                yield pixels(frame, matrix) if callable(pixels) else \
                    _rgba(frame, **matrix) if pixels == "rgba" else frame.to_ndarray(format="rgb24", **matrix)
                index += 1
        except av.error.FFmpegError as exc:
            raise MediaError(f"damaged at frame {index} ({_reason(exc)})", path=path) from None
        if index == 0:
            raise MediaError("holds no decodable frames", path=path)
        if expected and index < expected - EDIT_LIST_SLACK:
            raise MediaError(f"ends after frame {index} of the {expected} its container lists (truncated?)",
                             path=path)


def _rgba(frame: av.VideoFrame, **matrix: Colorspace) -> np.ndarray:
    rgba = frame.to_ndarray(format="rgba", **matrix)
    components = frame.format.components
    if len(components) == 4 and components[3].is_alpha and components[3].bits > 8 and len(frame.planes) == 4:
        plane = frame.planes[3]
        depth = components[3].bits
        rows = np.frombuffer(memoryview(plane), np.uint16).reshape(plane.height, plane.line_size // 2)
        alpha = rows[:, : plane.width]
        rgba[..., 3] = np.take(_alpha_table(depth), alpha)
    return rgba


@cache
def _alpha_table(bits: int) -> np.ndarray:
    top = (1 << bits) - 1
    return ((np.arange(top + 1, dtype=np.uint32) * 255 + top // 2) // top).astype(np.uint8)


def check_frame(frame: np.ndarray, width: int, height: int, alpha: bool) -> np.ndarray:
    """The frame as the writer will store it: RGB gains opaque alpha where the writer keeps alpha.

    An RGBA frame given to a writer without alpha is refused rather than flattened: straight RGBA shows
    whatever colour sits under the transparent pixels, which is rarely what anyone meant to see.
    """
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[:2] != (height, width) or frame.shape[2] not in (3, 4):
        wanted = f"({height}, {width}, {'3 or 4' if alpha else 3}) uint8"
        raise ValueError(f"frame is {frame.shape} {frame.dtype}, the writer expects {wanted}")
    if frame.shape[2] == 4 and not alpha:
        raise ValueError("frame has alpha but this writer keeps none: comp it over a background first, "
                         "or write ProRes 4444 or a PNG/EXR sequence")
    return np.ascontiguousarray(frame)


HD_LINES = 720      # from here up, a Y'CbCr movie that names no matrix is BT.709, as players take it


def _untagged_hd(frame: av.VideoFrame) -> bool:
    """Y'CbCr that names no matrix, at HD: FFmpeg would turn it to RGB by BT.601 (its default, right for SD
    only), where every player uses BT.709, so the plate's colours would shift against the review."""
    return frame.colorspace == 2 and frame.height >= HD_LINES and not frame.format.is_rgb \
        and frame.format.name not in ("gray", "pal8")


def _first_frame(path: Path) -> av.VideoFrame | None:
    """The first frame of ``path``'s video stream (None: it has none), for what its headers and tags say."""
    with _open(path) as container:
        stream = _video_stream(container, path)
        try:
            return next(container.decode(stream), None)
        except av.error.FFmpegError as exc:
            raise MediaError(f"no frame decodes ({_reason(exc)})", path=path) from None


def assumed_matrix(path: str | Path) -> str | None:
    """One line when ``path`` is an HD Y'CbCr movie with no matrix tag (decoded as BT.709, SD stays BT.601),
    to be said once per plate; None when its tags say or it is SD, RGB or a still."""
    frame = _first_frame(Path(path))
    if frame is None or not _untagged_hd(frame):
        return None
    return f"names no colour matrix; decoded as BT.709, as players do for HD ({frame.height} lines)"


# How a review or master movie's pixels are turned into Y'CbCr, and so what its stream says it is: BT.709
# primaries, transfer and matrix, limited ("MPEG", 16–235) range, as HD players and finishing suites expect.
REC709_FRAME = {"dst_colorspace": Colorspace.ITU709, "dst_color_range": ColorRange.MPEG,
                "dst_color_trc": ColorTrc.BT709, "dst_color_primaries": ColorPrimaries.BT709}


def tag_rec709(stream: av.VideoStream) -> None:
    """Write BT.709 primaries, transfer, matrix and limited range into ``stream``'s headers (the VUI for
    H.264, the frame header and ``colr`` atom for ProRes in .mov), so no player has to guess."""
    context = stream.codec_context
    context.color_primaries, context.color_trc = ColorPrimaries.BT709, ColorTrc.BT709
    context.colorspace, context.color_range = Colorspace.ITU709, ColorRange.MPEG


@dataclass(frozen=True, slots=True)
class ColourTags:
    """What a movie's video stream says of its colour: the names FFmpeg gives (``bt709``, ``tv``…)."""

    primaries: str
    transfer: str
    matrix: str
    range: str
    pixels: str


def colour_tags(path: str | Path) -> ColourTags:
    """The colour tags of ``path``'s first video stream, as a decoder reads them from its first frame."""
    path = Path(path)
    frame = _first_frame(path)
    if frame is None:
        raise MediaError("holds no decodable frames", path=path)
    return ColourTags(_tag_name(ColorPrimaries, frame.color_primaries), _tag_name(ColorTrc, frame.color_trc),
                      _tag_name(Colorspace, frame.colorspace), _tag_name(ColorRange, frame.color_range),
                      frame.format.name)


def _tag_name(kind: type[enum.IntEnum], value: int) -> str:
    try:
        return kind(value).name.lower()
    except ValueError:      # FFmpeg's AVCOL_SPC_RGB (0): RGB stored as it is (PNG, TIFF), which PyAV leaves unnamed
        return "rgb" if kind is Colorspace and value == 0 else f"unknown ({value})"


class VideoWriter(AbstractContextManager["VideoWriter"]):
    """Encode RGB frames to H.264; the file appears only when the writer closes without error.

    H.264 (yuv420p) has no alpha: RGBA frames are refused. libx264 runs its own frame threads, one and a half
    per core, which is what keeps the encoder near its measured ~49 fps (veryfast, 1080p) on two cores.

    ``sound``, ``(count, 2)`` float32 samples at ``sound_rate`` (a :class:`soundstage.sound.Sound`'s
    ``.samples``), goes in as AAC stereo at 192 kbit/s, cut or padded with silence to the picture's length:
    see :class:`Soundtrack`. FFmpeg's ``twoloop`` coder is its best (3 ms of a core per frame at 24 fps);
    ``aac_coder="fast"`` is a quarter of that, for review copies.
    """

    def __init__(self, path: str | Path, *, width: int, height: int, fps: float, crf: int = 18,
                 preset: str = "veryfast", threads: int = 0, sound: np.ndarray | None = None,
                 sound_rate: int = SOUND_RATE, aac_coder: Literal["twoloop", "fast"] = "twoloop") -> None:
        self.path = Path(path)
        if width % 2 or height % 2:
            raise MediaError(f"H.264 (4:2:0) needs an even width and height, not {width}×{height}", path=path,
                             hint="use an even resolution, or write ProRes 4444 or an image sequence")
        self.width, self.height = width, height
        self.fps = as_rate(fps)
        self.frames = 0
        with ExitStack() as stack:
            self._tmp = stack.enter_context(atomic_path(self.path))
            self._container = av.open(str(self._tmp), mode="w", options={"movflags": "+faststart"})
            stack.callback(self._container.close)
            self._stream = self._container.add_stream("libx264", rate=self.fps)
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "yuv420p"
            tag_rec709(self._stream)
            # mbtree off: with it, x264 read uninitialised memory below a frame whose height is not a multiple
            # of 16 (108, 1080), so the same frames gave other bytes from run to run; a re-render must not.
            self._stream.options = {"crf": str(crf), "preset": preset, "threads": str(threads),
                                    "x264-params": "mbtree=0"}
            self._sound = None if sound is None else \
                Soundtrack(self._container, self.path, sound, self.fps, sound_rate, "aac",
                           # no perceptual noise substitution: it smeared a clap's attack 1.4 ms early
                           # (benchmarks/sound_sync.py on the example's cut); with it off, 0.04 ms
                           {"b": str(AAC_BIT_RATE), "aac_coder": aac_coder, "aac_pns": "0"})
            self._stack = stack.pop_all()

    def write(self, rgb: np.ndarray) -> None:
        rgb = check_frame(rgb, self.width, self.height, alpha=False)
        # RGB → 4:2:0 by the BT.709 matrix in limited range, what the stream's tags say and what players assume
        # for HD: OpenCV's faster BT.601 made every shot's colours shift in the viewer (~5 ms at 1080p here,
        # on the writer's own thread under Background)
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        self._container.mux(self._stream.encode(frame.reformat(format="yuv420p", **REC709_FRAME)))
        if self._sound is not None:
            self._sound.write(self.frames)
        self.frames += 1

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        _finish(self._container, self._stream, self._sound, self._stack, exc_type, exc, tb)


class ProResWriter(AbstractContextManager["ProResWriter"]):
    """Encode straight RGBA (or RGB) frames to ProRes 4444 in a .mov, alpha kept, for finishing.

    ``prores_ks`` profile 4444 at yuva444p10le: full-resolution chroma and a 10-bit alpha plane, what
    finishing and grading tools expect from a keyed element. Alpha is stored straight (unpremultiplied).
    The encoder is slow (~130 ms a 1080p frame on two cores), which is why review renders use H.264.
    Without ``alpha`` the file is yuv444p10le, a third smaller. ``sound`` goes in as 24-bit PCM (what a
    finishing suite expects beside ProRes), frame by frame as in :class:`VideoWriter`.
    """

    def __init__(self, path: str | Path, *, width: int, height: int, fps: float, alpha: bool = True,
                 sound: np.ndarray | None = None, sound_rate: int = SOUND_RATE) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() != ".mov":
            raise MediaError("ProRes goes in a .mov file", path=self.path)
        self.width, self.height = width, height
        self.fps = as_rate(fps)
        self.alpha = alpha
        self.frames = 0
        with ExitStack() as stack:
            self._tmp = stack.enter_context(atomic_path(self.path))
            self._container = av.open(str(self._tmp), mode="w")
            stack.callback(self._container.close)
            self._stream = self._container.add_stream("prores_ks", rate=self.fps)
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "yuva444p10le" if alpha else "yuv444p10le"
            tag_rec709(self._stream)
            self._stream.options = {"profile": "4", "vendor": "apl0"}   # 4 = 4444; apl0 so Apple tools trust it
            self._stream.thread_type = "AUTO"                             # frame threads: ~1.3× slices alone
            self._sound = None if sound is None else \
                Soundtrack(self._container, self.path, sound, self.fps, sound_rate, "pcm_s24le")
            self._stack = stack.pop_all()

    def write(self, rgba: np.ndarray) -> None:
        rgba = check_frame(rgba, self.width, self.height, alpha=self.alpha)
        frame = av.VideoFrame.from_ndarray(rgba, format="rgba" if rgba.shape[2] == 4 else "rgb24")
        self._container.mux(self._stream.encode(frame.reformat(format=self._stream.pix_fmt, **REC709_FRAME)))
        if self._sound is not None:
            self._sound.write(self.frames)
        self.frames += 1

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        _finish(self._container, self._stream, self._sound, self._stack, exc_type, exc, tb)


class Soundtrack:
    """A movie's sound stream, written a picture frame's share at a time, so sound and picture interleave.

    Frame ``i`` carries samples ``[frame_sample(i), frame_sample(i + 1))``: exact rational bounds, so nothing
    drifts at 23.976 or 29.97 fps. Sound past the last frame is dropped and missing sound is silence, so the
    stream is as long as the picture (AAC rounds it up to its 1024-sample frames). Each chunk is stamped with
    its first sample as pts; AAC's 1024 priming samples then come out as a first packet at pts −1024, which
    FFmpeg's mov muxer turns into an edit list (``elst`` media time 1024), so a player puts the first sample
    at t = 0, with the first picture frame.
    """

    def __init__(self, container: av.container.OutputContainer, path: Path, samples: np.ndarray, fps: Fraction,
                 rate: int, codec: str, options: dict[str, object] | None = None) -> None:
        samples = np.asarray(samples)
        if samples.ndim != 2 or samples.shape[1] != 2 or samples.dtype != np.float32:
            raise ValueError(f"sound is (count, 2) float32, not {samples.shape} {samples.dtype}")
        self.path, self.samples, self.fps, self.rate = path, samples, fps, rate
        self.container = container
        self.stream = cast(av.AudioStream, container.add_stream(codec, rate=rate, layout="stereo"))
        self.stream.options = options or {}

    def write(self, frame: int) -> None:
        """Encode and mux picture frame ``frame``'s share of the samples (silence past their end)."""
        lo, hi = frame_sample(frame, self.fps, self.rate), frame_sample(frame + 1, self.fps, self.rate)
        chunk = np.zeros((hi - lo, 2), np.float32)
        have = self.samples[lo:hi]
        chunk[: len(have)] = have
        if not np.isfinite(chunk).all():        # FFmpeg's AAC encoder would stop on them with a bare EINVAL
            raise MediaError(f"its sound has samples that are not numbers (NaN or infinite) in frame {frame}",
                             path=self.path, hint="check the mix's gains and the sound takes")
        audio = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk.T), format="fltp", layout="stereo")
        audio.rate, audio.pts, audio.time_base = self.rate, lo, Fraction(1, self.rate)
        self._mux(audio)

    def flush(self) -> None:
        self._mux(None)

    def _mux(self, audio: av.AudioFrame | None) -> None:
        try:
            self.container.mux(self.stream.encode(audio))
        except av.error.FFmpegError as exc:
            if disk_full(exc, self.path) is not None:
                raise                   # atomic_path says it as a full disk
            raise MediaError(f"its sound could not be encoded ({_reason(exc)})", path=self.path) from None


def _finish(container: av.container.OutputContainer, stream: av.VideoStream, sound: Soundtrack | None,
            stack: ExitStack, exc_type: type[BaseException] | None, exc: BaseException | None,
            tb: TracebackType | None) -> None:
    """Flush and close; the atomic rename happens only when nothing failed, in the block or in the flush."""
    try:
        if exc_type is None:
            container.mux(stream.encode(None))
            if sound is not None:
                sound.flush()
    except BaseException as flush_error:
        stack.__exit__(type(flush_error), flush_error, flush_error.__traceback__)
        raise
    stack.__exit__(exc_type, exc, tb)
