"""Provenance: who signs, C2PA manifests on every take, shot and cut, and the invisible watermark that leads a
stripped copy back to its takes (the AI/human ledger it signs is ``soundstage.records``)."""

from soundstage.provenance.keys import Identity, init_keys, keys_dir, load_identity
from soundstage.provenance.signer import CallbackSigner, SigningIdentity, callback_signer, project_signer
from soundstage.provenance.signing import MIME_TYPES, Ingredient, SourceAction, Verdict, sign_file, verify_file
from soundstage.provenance.trace import Reading, Trace, read_watermark, trace_watermark

__all__ = ["MIME_TYPES", "CallbackSigner", "Identity", "Ingredient", "Reading", "SigningIdentity", "SourceAction",
           "Trace", "Verdict", "callback_signer", "init_keys", "keys_dir", "load_identity", "project_signer",
           "read_watermark", "sign_file", "trace_watermark", "verify_file"]
