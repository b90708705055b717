"""Sound: the plates' production sound, recorders' files, generated sound takes, and their mix.

A stage beside ``comp``: it reads and writes audio files and does arithmetic on samples; it is handed paths,
settings and takes and never reaches up into the pipeline. Everything inside runs at one rate and layout,
:data:`RATE` stereo float32, so only the edges (reading, writing) convert.
"""

from soundstage.sound.track import CHANNELS, RATE, Sound
from soundstage.sound.wav import Heard, read_sound, write_bwf

__all__ = ["CHANNELS", "RATE", "Heard", "Sound", "read_sound", "write_bwf"]
