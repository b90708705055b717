"""Decode and encode media. Everything here speaks uint8 numpy arrays: RGB, or straight RGBA for finishing."""

from soundstage.media.conform import ConformMode, conform_rate, conform_size
from soundstage.media.exr import read_exr, srgb_to_linear, write_exr
from soundstage.media.image import STILL_SUFFIXES, read_image, write_png
from soundstage.media.probe import MAX_PIXELS, PlateInfo, probe_plate
from soundstage.media.sequence import ImageSequenceWriter, read_sequence
from soundstage.media.streaming import Background, ahead
from soundstage.media.video import (
    ProResWriter,
    VideoInfo,
    VideoWriter,
    as_rate,
    frame_sample,
    probe,
    read_frames,
    read_proxies,
    read_rgba_frames,
)
from soundstage.media.writers import FrameWriter, open_writer

__all__ = [
    "MAX_PIXELS",
    "STILL_SUFFIXES",
    "Background",
    "ConformMode",
    "FrameWriter",
    "ImageSequenceWriter",
    "PlateInfo",
    "ProResWriter",
    "VideoInfo",
    "VideoWriter",
    "ahead",
    "as_rate",
    "conform_rate",
    "conform_size",
    "frame_sample",
    "open_writer",
    "probe",
    "probe_plate",
    "read_exr",
    "read_frames",
    "read_image",
    "read_proxies",
    "read_rgba_frames",
    "read_sequence",
    "srgb_to_linear",
    "write_exr",
    "write_png",
]
