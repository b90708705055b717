"""soundstage: screenplay to finished, labelled cut."""

__version__ = "0.1.0"
