"""Provenance: who signs, C2PA manifests on every take, shot and cut, the invisible watermark that leads a
stripped copy back to its takes (the AI/human ledger it signs is ``soundstage.records``).

Its names are loaded when first asked for: reading a watermark needs neither the database nor the signer.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from soundstage.provenance.keys import Identity, init_keys, keys_dir, load_identity
    from soundstage.provenance.signer import CallbackSigner, SigningIdentity, callback_signer, project_signer
    from soundstage.provenance.signing import MIME_TYPES, Ingredient, SourceAction, Verdict, sign_file, verify_file
    from soundstage.provenance.trace import Reading, Trace, read_watermark, trace_watermark

_HOME = {
    **dict.fromkeys(("Identity", "init_keys", "keys_dir", "load_identity"), "keys"),
    **dict.fromkeys(("CallbackSigner", "SigningIdentity", "callback_signer", "project_signer"), "signer"),
    **dict.fromkeys(("MIME_TYPES", "Ingredient", "SourceAction", "Verdict", "sign_file", "verify_file"), "signing"),
    **dict.fromkeys(("Reading", "Trace", "read_watermark", "trace_watermark"), "trace"),
}

__all__ = ["MIME_TYPES", "CallbackSigner", "Identity", "Ingredient", "Reading", "SigningIdentity", "SourceAction",
           "Trace", "Verdict", "callback_signer", "init_keys", "keys_dir", "load_identity", "project_signer",
           "read_watermark", "sign_file", "trace_watermark", "verify_file"]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
