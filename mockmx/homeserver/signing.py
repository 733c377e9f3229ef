"""Signed JSON as the spec defines it: canonical JSON of an object without `signatures` and `unsigned`, and an
ed25519 signature over it, checked with vodozemac (no home-made cryptography)."""

from __future__ import annotations

import json
from typing import Any

from vodozemac import (
    DecodeException,
    Ed25519PublicKey,
    Ed25519Signature,
    KeyException,
    SignatureException,
)


def canonical_json(value: Any) -> bytes:
    """The spec's canonical JSON: keys sorted, no insignificant whitespace, UTF-8 (not ASCII escapes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signing_bytes(signed: dict[str, Any]) -> bytes:
    """What a signature on `signed` covers: the object without its `signatures` and `unsigned`."""
    return canonical_json({key: value for key, value in signed.items() if key not in ("signatures", "unsigned")})


def signature_of(signed: dict[str, Any], user_id: str, key_id: str) -> str | None:
    """The signature `user_id` made with `key_id` (e.g. `ed25519:DEVICE`) on `signed`, when it has one."""
    by_user = signed.get("signatures")
    by_key = by_user.get(user_id) if isinstance(by_user, dict) else None
    signature = by_key.get(key_id) if isinstance(by_key, dict) else None
    return signature if isinstance(signature, str) else None


def verify(signed: dict[str, Any], user_id: str, key_id: str, public_key: str) -> bool:
    """Whether `signed` carries a valid signature by `user_id`'s ed25519 `public_key`, under `key_id`."""
    signature = signature_of(signed, user_id, key_id)
    if signature is None:
        return False
    try:
        Ed25519PublicKey.from_base64(public_key).verify_signature(
            signing_bytes(signed), Ed25519Signature.from_base64(signature)
        )
    except (SignatureException, KeyException, DecodeException, ValueError):
        return False
    return True
