"""One encrypted device of a scenario user: its Olm account, its Olm sessions with other devices, and its Megolm
sessions, outbound (one per room it speaks in) and inbound (room keys it was sent). All cryptography is vodozemac's.

Wire formats follow the spec's `m.olm.v1.curve25519-aes-sha2` and `m.megolm.v1.aes-sha2`: ciphertexts are unpadded
base64, Olm payloads carry sender, recipient and their ed25519 keys, Megolm payloads the room id.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from vodozemac import (
    Account,
    AnyOlmMessage,
    Curve25519PublicKey,
    ExportedSessionKey,
    GroupSession,
    InboundGroupSession,
    MegolmMessage,
    PreKeyMessage,
    Session,
    SessionKey,
)

from mockmx.homeserver.signing import signing_bytes

JsonDict = dict[str, Any]
OLM = "m.olm.v1.curve25519-aes-sha2"
MEGOLM = "m.megolm.v1.aes-sha2"
SIGNED_CURVE25519 = "signed_curve25519"
MAX_SESSIONS_PER_PEER = 10  # older Olm sessions with one device are dropped: clients keep a few, the newest first


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Outbound:
    """A Megolm session the device encrypts a room's messages with, and the devices it was shared with."""

    session: GroupSession
    shared_with: set[tuple[str, str, str]] = field(default_factory=set)  # (user, device, curve25519 key)


class OlmDevice:
    def __init__(self, user_id: str, device_id: str) -> None:
        self.user_id = user_id
        self.device_id = device_id
        self.account = Account()
        self._olm: dict[str, list[Session]] = {}  # peer curve25519 key -> sessions, newest first
        self._outbound: dict[str, Outbound] = {}  # room id -> session
        self._inbound: dict[str, InboundGroupSession] = {}  # session id -> session

    @property
    def curve25519(self) -> str:
        return self.account.curve25519_key.to_base64()

    @property
    def ed25519(self) -> str:
        return self.account.ed25519_key.to_base64()

    def _sign(self, obj: JsonDict) -> JsonDict:
        signature = self.account.sign(signing_bytes(obj)).to_base64()
        return {**obj, "signatures": {self.user_id: {f"ed25519:{self.device_id}": signature}}}

    # -- what it publishes ----------------------------------------------------------------------------------

    def device_keys(self) -> JsonDict:
        return self._sign(
            {
                "user_id": self.user_id,
                "device_id": self.device_id,
                "algorithms": [OLM, MEGOLM],
                "keys": {f"curve25519:{self.device_id}": self.curve25519, f"ed25519:{self.device_id}": self.ed25519},
            }
        )

    def new_one_time_keys(self, count: int) -> JsonDict:
        """`count` fresh signed one-time keys, as `/keys/upload` takes them (and marked published)."""
        self.account.generate_one_time_keys(count)
        keys = {
            f"{SIGNED_CURVE25519}:{key_id}": self._sign({"key": key.to_base64()})
            for key_id, key in self.account.one_time_keys.items()
        }
        self.account.mark_keys_as_published()
        return keys

    def new_fallback_key(self) -> JsonDict:
        # vodozemac 0.10's type stubs leave out the fallback key API its Account has.
        self.account.generate_fallback_key()  # type: ignore[attr-defined]
        ((key_id, key),) = self.account.fallback_key.items()  # type: ignore[attr-defined]
        keys = {f"{SIGNED_CURVE25519}:{key_id}": self._sign({"key": key.to_base64(), "fallback": True})}
        self.account.mark_keys_as_published()
        return keys

    # -- Olm (to-device) ------------------------------------------------------------------------------------

    def has_olm_session(self, curve25519: str) -> bool:
        return bool(self._olm.get(curve25519))

    def start_olm_session(self, curve25519: str, one_time_key: str) -> None:
        session = self.account.create_outbound_session(
            Curve25519PublicKey.from_base64(curve25519), Curve25519PublicKey.from_base64(one_time_key)
        )
        self._keep(curve25519, session)

    def olm_encrypt(self, recipient: str, recipient_device: JsonDict, event_type: str, content: JsonDict) -> JsonDict:
        """The `m.room.encrypted` to-device content carrying `content` to a device we have an Olm session with."""
        their_device = recipient_device["device_id"]
        curve25519 = recipient_device["keys"][f"curve25519:{their_device}"]
        payload = {
            "type": event_type,
            "content": content,
            "sender": self.user_id,
            "sender_device": self.device_id,
            "keys": {"ed25519": self.ed25519},
            "recipient": recipient,
            "recipient_keys": {"ed25519": recipient_device["keys"][f"ed25519:{their_device}"]},
        }
        message_type, ciphertext = self._olm[curve25519][0].encrypt(json.dumps(payload).encode()).to_parts()
        body = {"type": message_type, "body": _b64(ciphertext)}
        return {"algorithm": OLM, "sender_key": self.curve25519, "ciphertext": {curve25519: body}}

    def olm_decrypt(self, content: JsonDict) -> JsonDict | None:
        """The payload of an Olm-encrypted to-device message to this device; None when it is not for this device
        or does not decrypt (raises ValueError for a malformed one)."""
        sender_key = content.get("sender_key")
        ciphertext = content.get("ciphertext")
        mine = ciphertext.get(self.curve25519) if isinstance(ciphertext, dict) else None
        if content.get("algorithm") != OLM or not isinstance(sender_key, str) or not isinstance(mine, dict):
            return None
        message_type, body = mine.get("type"), mine.get("body")
        if message_type not in (0, 1) or not isinstance(body, str):
            raise ValueError("an Olm ciphertext has a type 0 or 1 and a string body")
        message = AnyOlmMessage.from_parts(message_type, _unb64(body))
        for session in self._olm.get(sender_key, []):
            try:
                plaintext = session.decrypt(message)
            except ValueError:
                continue
            return dict(json.loads(plaintext))
        if message_type != 0:
            return None
        session, plaintext = self.account.create_inbound_session(
            Curve25519PublicKey.from_base64(sender_key), PreKeyMessage.from_base64(body)
        )
        self._keep(sender_key, session)
        return dict(json.loads(plaintext))

    def _keep(self, curve25519: str, session: Session) -> None:
        sessions = self._olm.setdefault(curve25519, [])
        sessions.insert(0, session)
        del sessions[MAX_SESSIONS_PER_PEER:]

    # -- Megolm (room events) -------------------------------------------------------------------------------

    def outbound(self, room_id: str) -> Outbound:
        """The room's outbound Megolm session, new on first use; its key is also ours to decrypt with."""
        outbound = self._outbound.get(room_id)
        if outbound is None:
            outbound = self._outbound[room_id] = Outbound(GroupSession())
            self._inbound[outbound.session.session_id] = InboundGroupSession(outbound.session.session_key)
        return outbound

    def room_key(self, room_id: str) -> JsonDict:
        """The `m.room_key` content that lets another device decrypt the room's messages from now on."""
        session = self.outbound(room_id).session
        return {
            "algorithm": MEGOLM,
            "room_id": room_id,
            "session_id": session.session_id,
            "session_key": session.session_key.to_base64(),
        }

    def megolm_encrypt(self, room_id: str, event_type: str, content: JsonDict) -> JsonDict:
        session = self.outbound(room_id).session
        payload = {"type": event_type, "content": content, "room_id": room_id}
        ciphertext = session.encrypt(json.dumps(payload).encode()).to_base64()
        return {
            "algorithm": MEGOLM,
            "sender_key": self.curve25519,
            "ciphertext": ciphertext,
            "session_id": session.session_id,
            "device_id": self.device_id,
        }

    def add_room_key(self, event_type: str, content: JsonDict) -> str | None:
        """Keep the Megolm session an `m.room_key` (or `m.forwarded_room_key`) brings; its session id."""
        session_key = content.get("session_key")
        if content.get("algorithm") != MEGOLM or not isinstance(session_key, str):
            return None
        if event_type == "m.forwarded_room_key":
            inbound = InboundGroupSession.import_session(ExportedSessionKey(session_key))
        else:
            inbound = InboundGroupSession(SessionKey(session_key))
        self._inbound.setdefault(inbound.session_id, inbound)
        return inbound.session_id

    def can_decrypt(self, session_id: str) -> bool:
        return session_id in self._inbound

    def megolm_decrypt(self, content: JsonDict) -> JsonDict | None:
        """The payload of a Megolm room event; None when the room key has not arrived (ValueError if malformed)."""
        session = self._inbound.get(str(content.get("session_id")))
        ciphertext = content.get("ciphertext")
        if session is None or not isinstance(ciphertext, str):
            return None
        return dict(json.loads(session.decrypt(MegolmMessage.from_base64(ciphertext)).plaintext))
