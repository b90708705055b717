"""Decode and encode media. Everything here speaks RGB uint8 numpy arrays."""

from soundstage.media.image import read_image, write_png
from soundstage.media.video import VideoInfo, VideoWriter, as_rate, probe, read_frames

__all__ = ["VideoInfo", "VideoWriter", "as_rate", "probe", "read_frames", "read_image", "write_png"]
