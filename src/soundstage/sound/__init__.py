"""Sound: the plates' production sound, recorders' files, generated sound takes, and their mix.

A stage beside ``comp``: it reads and writes audio files and does arithmetic on samples; it is handed paths,
settings and takes and never reaches up into the pipeline. Everything inside runs at one rate and layout,
:data:`RATE` stereo float32, so only the edges (reading, writing) convert.
"""

from soundstage.sound.loudness import Normalised, ebur128, integrated, normalise, true_peak
from soundstage.sound.mix import Layer, join, mix_shot, mixdown
from soundstage.sound.plate import plate_sound
from soundstage.sound.sync import Sync, Timecode, plate_timecode, recorder_sound, waveform_offset
from soundstage.sound.tone import room_tone
from soundstage.sound.track import CHANNELS, RATE, Sound
from soundstage.sound.wav import Heard, read_sound, read_timecode, write_bwf

__all__ = ["CHANNELS", "RATE", "Heard", "Layer", "Normalised", "Sound", "Sync", "Timecode", "ebur128",
           "integrated", "join", "mix_shot", "mixdown", "normalise", "plate_sound", "plate_timecode", "read_sound",
           "read_timecode", "recorder_sound", "room_tone", "true_peak", "waveform_offset", "write_bwf"]
