"""Provenance: a project's signing identity, and C2PA manifests that say how each file was made."""

from soundstage.provenance.keys import Identity, init_keys, keys_dir, load_identity
from soundstage.provenance.signing import MIME_TYPES, Ingredient, SourceAction, Verdict, sign_file, verify_file

__all__ = ["MIME_TYPES", "Identity", "Ingredient", "SourceAction", "Verdict", "init_keys", "keys_dir",
           "load_identity", "sign_file", "verify_file"]
