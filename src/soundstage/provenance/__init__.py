"""Provenance: who signs, C2PA manifests on every take, shot and cut, the invisible watermark that leads a
stripped copy back to its takes, and the AI/human ledger measured from the comps' mattes."""

from soundstage.provenance.keys import Identity, init_keys, keys_dir, load_identity
from soundstage.provenance.record import CutRecord, LayerRecord, ShotRecord, read_cut_record, read_shot_record
from soundstage.provenance.signer import CallbackSigner, SigningIdentity, callback_signer, project_signer
from soundstage.provenance.signing import MIME_TYPES, Ingredient, SourceAction, Verdict, sign_file, verify_file
from soundstage.provenance.trace import Reading, Trace, read_watermark, trace_watermark

__all__ = ["MIME_TYPES", "CallbackSigner", "CutRecord", "Identity", "Ingredient", "LayerRecord", "Reading",
           "ShotRecord", "SigningIdentity", "SourceAction", "Trace", "Verdict", "callback_signer", "init_keys",
           "keys_dir", "load_identity", "project_signer", "read_cut_record", "read_shot_record", "read_watermark",
           "sign_file", "trace_watermark", "verify_file"]
