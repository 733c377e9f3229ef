"""`/keys/signatures/upload`: signatures a user adds to keys, each checked as Synapse checks it.

The user's own keys take two kinds: their self-signing key signing one of their devices, and one of their devices
signing their master key. Other users' keys take one: the user's user-signing key signing the other's master key.
A signature that does not verify, or is made over anything but the stored key, lands in `failures` (keyed by user
and by device id or key), and the others are kept.
"""

from __future__ import annotations

from typing import Any

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.cross_signing import public_key
from mockmx.homeserver.keys import Keys
from mockmx.homeserver.signing import signing_bytes, verify

JsonDict = dict[str, Any]
Failures = dict[str, dict[str, JsonDict]]


def upload_signatures(keys: Keys, user_id: str, body: dict[str, Any]) -> Failures:
    for by_key in body.values():
        if not isinstance(by_key, dict) or not all(isinstance(signed, dict) for signed in by_key.values()):
            raise MatrixError(400, "Invalid parameter", Codes.INVALID_PARAM)
    failures: Failures = {}
    own = body.get(user_id, {})
    for key_id, signed in own.items():
        try:
            _own_signature(keys, user_id, key_id, signed)
        except MatrixError as error:
            failures.setdefault(user_id, {})[key_id] = _failure(error)
    for target, by_key in body.items():
        if target == user_id:
            continue
        for key_id, signed in by_key.items():
            try:
                _other_signature(keys, user_id, target, key_id, signed)
            except MatrixError as error:
                failures.setdefault(target, {})[key_id] = _failure(error)
    return failures


def _own_signature(keys: Keys, user_id: str, key_id: str, signed: JsonDict) -> None:
    master = keys.cross_signing.get(user_id, "master")
    if master is not None and public_key(master)[1] == key_id:
        _device_signs_master(keys, user_id, master, signed)
        return
    self_signing = keys.cross_signing.get(user_id, "self_signing")
    if self_signing is None:
        raise MatrixError(404, f"No self_signing key found for {user_id}", Codes.NOT_FOUND)
    stored = keys.device_keys(user_id, key_id)
    if stored is None:
        raise MatrixError(404, "Unknown device", Codes.NOT_FOUND)
    signer_id, signer_key = public_key(self_signing)
    signature = _checked(signed, stored, user_id, signer_id, signer_key)
    keys.set_device_keys(user_id, key_id, _with_signature(stored, user_id, signer_id, signature))


def _device_signs_master(keys: Keys, user_id: str, master: JsonDict, signed: JsonDict) -> None:
    signatures = signed.get("signatures")
    by_key = signatures.get(user_id) if isinstance(signatures, dict) else None
    if not isinstance(by_key, dict) or not by_key:
        raise MatrixError(400, "Invalid signature", Codes.INVALID_SIGNATURE)
    for signer_id in by_key:
        device_keys = keys.device_keys(user_id, signer_id.partition(":")[2])
        signer_key = (device_keys or {}).get("keys", {}).get(signer_id)
        if not isinstance(signer_key, str):
            raise MatrixError(400, "Invalid signature", Codes.INVALID_SIGNATURE)
        signature = _checked(signed, master, user_id, signer_id, signer_key)
        keys.cross_signing.add_own_signature(user_id, "master", signer_id, signature)
    keys.device_lists.mark_changed(user_id)


def _other_signature(keys: Keys, user_id: str, target: str, key_id: str, signed: JsonDict) -> None:
    user_signing = keys.cross_signing.get(user_id, "user_signing")
    if user_signing is None:
        raise MatrixError(404, f"No user_signing key found for {user_id}", Codes.NOT_FOUND)
    master = keys.cross_signing.get(target, "master")
    if master is None:
        raise MatrixError(404, f"No master key found for {target}", Codes.NOT_FOUND)
    if public_key(master)[1] != key_id:
        raise MatrixError(404, "Unknown device", Codes.NOT_FOUND)
    signer_id, signer_key = public_key(user_signing)
    signature = _checked(signed, master, user_id, signer_id, signer_key)
    keys.cross_signing.add_signature_by(user_id, target, signer_id, signature)
    keys.device_lists.mark_changed(user_id)  # Synapse tells the signer's own devices (a user signature update)


def _checked(signed: JsonDict, stored: JsonDict, user_id: str, signer_id: str, signer_key: str) -> str:
    """The signature `user_id` made with `signer_id` on `signed`, once it verifies and `signed` is the stored key."""
    if not verify(signed, user_id, signer_id, signer_key):
        raise MatrixError(400, "Invalid signature", Codes.INVALID_SIGNATURE)
    if signing_bytes(signed) != signing_bytes(stored):
        raise MatrixError(400, "Key information mismatch", Codes.INVALID_SIGNATURE)
    return str(signed["signatures"][user_id][signer_id])


def _with_signature(key: JsonDict, user_id: str, signer_id: str, signature: str) -> JsonDict:
    signatures = {signer: dict(sigs) for signer, sigs in key.get("signatures", {}).items()}
    signatures.setdefault(user_id, {})[signer_id] = signature
    return {**key, "signatures": signatures}


def _failure(error: MatrixError) -> JsonDict:
    # Synapse's `_exception_to_failure`.
    return {"status": error.status, "errcode": error.errcode, "message": error.msg}
