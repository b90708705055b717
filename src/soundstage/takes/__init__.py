"""Takes: every generation result kept, versioned, priced and within budget (see ``store``)."""

from soundstage.takes.prices import Price, PriceTable
from soundstage.takes.store import (
    Estimate,
    TakeStore,
    background_slot,
    design_key,
    element_slot,
    set_slot,
    sound_slot,
    take_key,
)

__all__ = ["Estimate", "Price", "PriceTable", "TakeStore", "background_slot", "design_key", "element_slot",
           "set_slot", "sound_slot", "take_key"]
