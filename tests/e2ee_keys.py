"""Real key material for the encryption tests: an Olm account per device (vodozemac), signed the spec's way."""

from __future__ import annotations

from typing import Any

from vodozemac import Account

from mockmx.homeserver.signing import signing_bytes

JsonDict = dict[str, Any]


def signed(obj: JsonDict, user_id: str, key_id: str, signer: Account) -> JsonDict:
    """`obj` with `signer`'s ed25519 signature added under `user_id` and `key_id`."""
    signature = signer.sign(signing_bytes(obj)).to_base64()
    signatures = {user: dict(sigs) for user, sigs in obj.get("signatures", {}).items()}
    signatures.setdefault(user_id, {})[key_id] = signature
    return {**obj, "signatures": signatures}


class Device:
    """A client device's Olm account and the key upload bodies it makes."""

    def __init__(self, user_id: str, device_id: str) -> None:
        self.user_id = user_id
        self.device_id = device_id
        self.account = Account()

    @property
    def ed25519(self) -> str:
        return self.account.ed25519_key.to_base64()

    def device_keys(self) -> JsonDict:
        keys = {
            "user_id": self.user_id,
            "device_id": self.device_id,
            "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
            "keys": {
                f"curve25519:{self.device_id}": self.account.curve25519_key.to_base64(),
                f"ed25519:{self.device_id}": self.ed25519,
            },
        }
        return signed(keys, self.user_id, f"ed25519:{self.device_id}", self.account)

    def one_time_keys(self, count: int) -> JsonDict:
        self.account.generate_one_time_keys(count)
        keys = {
            f"signed_curve25519:{key_id}": signed(
                {"key": key.to_base64()}, self.user_id, f"ed25519:{self.device_id}", self.account
            )
            for key_id, key in self.account.one_time_keys.items()
        }
        self.account.mark_keys_as_published()
        return keys

    def fallback_key(self) -> JsonDict:
        self.account.generate_fallback_key()
        ((key_id, key),) = self.account.fallback_key.items()
        body = {"key": key.to_base64(), "fallback": True}
        return {f"signed_curve25519:{key_id}": signed(body, self.user_id, f"ed25519:{self.device_id}", self.account)}


class CrossSigningKeys:
    """A user's master, self-signing and user-signing keys (each an Olm account's ed25519 key, used to sign)."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.master, self.self_signing, self.user_signing = Account(), Account(), Account()

    @staticmethod
    def key_id(account: Account) -> str:
        return f"ed25519:{account.ed25519_key.to_base64()}"

    def public(self, account: Account, usage: str) -> JsonDict:
        key = {
            "user_id": self.user_id,
            "usage": [usage],
            "keys": {self.key_id(account): account.ed25519_key.to_base64()},
        }
        if usage != "master":
            key = signed(key, self.user_id, self.key_id(self.master), self.master)
        return key

    def upload_body(self) -> JsonDict:
        return {
            "master_key": self.public(self.master, "master"),
            "self_signing_key": self.public(self.self_signing, "self_signing"),
            "user_signing_key": self.public(self.user_signing, "user_signing"),
        }
