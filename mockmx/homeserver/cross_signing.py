"""Each user's cross-signing keys (master, self-signing, user-signing), checked as Synapse checks them on upload.

Signatures other users made on a master key with their user-signing key are kept apart: as with Synapse, only the
signer sees them in `/keys/query`.
"""

from __future__ import annotations

from typing import Any

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.signing import verify

JsonDict = dict[str, Any]
USAGES = ("master", "self_signing", "user_signing")


def public_key(key: JsonDict) -> tuple[str, str]:
    """(`ed25519:<public key>`, the public key) of a cross-signing key; ValueError unless it has exactly one."""
    keys = key.get("keys")
    if not isinstance(keys, dict) or len(keys) != 1:
        raise ValueError("a cross-signing key has exactly one key")
    ((key_id, value),) = keys.items()
    if not isinstance(key_id, str) or not key_id.startswith("ed25519:") or not isinstance(value, str):
        raise ValueError("a cross-signing key is an ed25519 key")
    return key_id, value


class CrossSigning:
    def __init__(self) -> None:
        self._keys: dict[str, dict[str, JsonDict]] = {}  # user_id -> usage -> key
        # (target user, signer) -> {signer's key id: signature} on the target's master key
        self._signatures_by_others: dict[tuple[str, str], dict[str, str]] = {}

    def get(self, user_id: str, usage: str) -> JsonDict | None:
        return self._keys.get(user_id, {}).get(usage)

    def has_master(self, user_id: str) -> bool:
        return self.get(user_id, "master") is not None

    def as_seen_by(self, viewer: str, user_id: str, usage: str) -> JsonDict | None:
        """The key as `viewer` sees it: with the signatures `viewer` made on it (a master key they verified)."""
        key = self.get(user_id, usage)
        theirs = self._signatures_by_others.get((user_id, viewer)) if usage == "master" else None
        if key is None or not theirs:
            return key
        signatures = {signer: dict(sigs) for signer, sigs in key.get("signatures", {}).items()}
        signatures.setdefault(viewer, {}).update(theirs)
        return {**key, "signatures": signatures}

    def matches_stored(self, user_id: str, uploaded: dict[str, Any]) -> bool:
        """Whether an upload brings no new key: the spec lets such a request (and a first upload) skip UIA."""
        return all(uploaded.get(f"{usage}_key") in (None, self.get(user_id, usage)) for usage in USAGES)

    def upload(self, user_id: str, uploaded: dict[str, Any]) -> None:
        """Store the keys of a `/keys/device_signing/upload` body once each is checked: usage, owner, and the
        master key's signature on the other two (400 M_INVALID_SIGNATURE otherwise)."""
        master = uploaded.get("master_key")
        if master is not None:
            _check(master, user_id, "master")
        else:
            master = self.get(user_id, "master")
        if master is None:
            raise MatrixError(400, "No master key available", Codes.MISSING_PARAM)
        try:
            master_id, master_key = public_key(master)
        except ValueError:
            raise MatrixError(400, "Invalid master key", Codes.INVALID_PARAM) from None
        checked = {"master": master}
        for usage in ("self_signing", "user_signing"):
            key = uploaded.get(f"{usage}_key")
            if key is not None:
                _check(key, user_id, usage)
                if not verify(key, user_id, master_id, master_key):
                    raise MatrixError(400, f"Invalid signature on {usage} key", Codes.INVALID_SIGNATURE)
                checked[usage] = key
        stored = self._keys.setdefault(user_id, {})
        if stored.get("master") != master:
            # A new master key voids what others said of the old one.
            for pair in [pair for pair in self._signatures_by_others if pair[0] == user_id]:
                del self._signatures_by_others[pair]
        stored.update(checked)

    def add_own_signature(self, user_id: str, usage: str, signer_key_id: str, signature: str) -> None:
        """A signature the user made on their own cross-signing key (a device signing the master key)."""
        key = self._keys[user_id][usage]
        signatures = {signer: dict(sigs) for signer, sigs in key.get("signatures", {}).items()}
        signatures.setdefault(user_id, {})[signer_key_id] = signature
        self._keys[user_id][usage] = {**key, "signatures": signatures}

    def add_signature_by(self, signer: str, target: str, signer_key_id: str, signature: str) -> None:
        """`signer`'s user-signing key signed `target`'s master key."""
        self._signatures_by_others.setdefault((target, signer), {})[signer_key_id] = signature


def _check(key: Any, user_id: str, usage: str) -> None:
    """Synapse's `_check_cross_signing_key`: the key names its usage and its user (400 M_INVALID_PARAM)."""
    if not isinstance(key, dict):
        raise MatrixError(400, f"'{usage}_key' must be an object", Codes.BAD_JSON)
    key_usage = key.get("usage")
    if not isinstance(key_usage, list) or usage not in key_usage or key.get("user_id") != user_id:
        raise MatrixError(400, f"Invalid {usage} key", Codes.INVALID_PARAM)
    try:
        public_key(key)
    except ValueError:
        raise MatrixError(400, f"Invalid {usage} key", Codes.INVALID_PARAM) from None
    signatures = key.get("signatures", {})
    if not isinstance(signatures, dict) or not all(isinstance(sigs, dict) for sigs in signatures.values()):
        raise MatrixError(400, f"Invalid {usage} key", Codes.INVALID_PARAM)
