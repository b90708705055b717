"""Compositing: key the live-action plates, lay layers over one another, move the camera on a still set."""

from soundstage.comp.keyer import ScreenColour, key, measure_screen
from soundstage.comp.over import over

__all__ = ["ScreenColour", "key", "measure_screen", "over"]
