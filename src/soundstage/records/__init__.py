"""The film's nouns, declared once: the ground floor every stage may read and none is above."""
