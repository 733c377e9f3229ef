"""Scenario users whose devices are declared `encrypted`: the mock plays them as an encrypting client would.

At start-up each such device publishes its device keys, one-time keys and a fallback key, straight into the
homeserver's key store, and tops its one-time keys up whenever some are claimed. A room message such a user sends
(a scripted `say:`) into a room with `m.room.encryption` goes out as `m.room.encrypted` (Megolm), after the room key
went over to-device (Olm, on a one-time key claimed from each recipient) to every device of the room's members that
has keys. What other devices send to it, to-device (Olm) and into its rooms (Megolm), it decrypts and keeps in
`decrypted`, for a test to assert on plaintext.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mockmx.crypto.olm_device import MEGOLM, SIGNED_CURVE25519, OlmDevice
from mockmx.homeserver.rooms import Event, Room
from mockmx.homeserver.signing import verify
from mockmx.scenario.model import UserSpec

if TYPE_CHECKING:
    from mockmx.homeserver.server import Homeserver

log = logging.getLogger(__name__)
JsonDict = dict[str, Any]

MAX_DECRYPTED = 10_000  # the oldest decrypted messages are forgotten first
MAX_WAITING = 1_000  # room events kept until their room key arrives
ROOM_KEY_TYPES = ("m.room_key", "m.forwarded_room_key")


class EncryptedUsers:
    """Every encrypted scenario device, hooked into the homeserver it lives in."""

    def __init__(self, hs: Homeserver, users: Iterable[UserSpec]) -> None:
        self.hs = hs
        self.devices: dict[tuple[str, str], OlmDevice] = {}
        self._one_time_keys: dict[tuple[str, str], int] = {}  # how many each keeps published
        self._decrypted: deque[JsonDict] = deque(maxlen=MAX_DECRYPTED)
        self.decrypted_dropped = 0  # the oldest decrypted messages forgotten to stay within MAX_DECRYPTED
        self._lock = threading.Lock()  # a test thread reads what the server's thread decrypts
        self._waiting: deque[Event] = deque(maxlen=MAX_WAITING)
        for user in users:
            for spec in user.devices:
                if spec.encrypted:
                    device = OlmDevice(user.user_id, spec.device_id)
                    self.devices[(user.user_id, spec.device_id)] = device
                    self._one_time_keys[(user.user_id, spec.device_id)] = spec.one_time_keys
                    hs.keys.upload(
                        user.user_id,
                        spec.device_id,
                        device_keys=device.device_keys(),
                        one_time_keys=device.new_one_time_keys(spec.one_time_keys) if spec.one_time_keys else {},
                        fallback_keys=device.new_fallback_key(),
                    )
        if self.devices:
            hs.listeners.append(self._on_room_event)
            hs.to_device.listeners.append(self._on_to_device)
            hs.keys.claim_listeners.append(self._top_up)

    def device_of(self, user_id: str) -> OlmDevice | None:
        """The user's (first) encrypted device, the one that speaks for them."""
        return next((device for (user, _), device in self.devices.items() if user == user_id), None)

    # -- what the app under test sent -----------------------------------------------------------------------

    def decrypted(
        self, *, room_id: str | None = None, sender: str | None = None, type: str | None = None
    ) -> list[JsonDict]:
        """What the encrypted users decrypted, oldest first: room messages (with `room_id`, `event_id`) and
        to-device messages (with `to_device`: the receiving user and device)."""
        with self._lock:
            kept = list(self._decrypted)
        return [
            entry
            for entry in kept
            if (room_id is None or entry.get("room_id") == room_id)
            and (sender is None or entry["sender"] == sender)
            and (type is None or entry["type"] == type)
        ]

    def decrypted_kept(self) -> int:
        return len(self._decrypted)

    def _keep(self, entry: JsonDict) -> None:
        with self._lock:
            if len(self._decrypted) == MAX_DECRYPTED:
                self.decrypted_dropped += 1
            self._decrypted.append(entry)

    def _on_to_device(self, user_id: str, device_id: str, message: JsonDict) -> None:
        device = self.devices.get((user_id, device_id))
        if device is None:
            return
        # This device never syncs: what is for it is handled here, and its inbox kept empty.
        self.hs.to_device.drop_device(user_id, device_id)
        if message["type"] != "m.room.encrypted":
            return
        try:
            payload = device.olm_decrypt(message["content"])
        except ValueError as error:  # vodozemac's errors are ValueErrors; so are malformed base64 and JSON
            log.warning(
                "%s %s could not decrypt a to-device message from %s: %s", user_id, device_id, message["sender"], error
            )
            return
        if payload is None or payload.get("sender") != message["sender"]:
            return
        event_type, content = payload.get("type"), payload.get("content")
        if not isinstance(event_type, str) or not isinstance(content, dict):
            return
        self._keep(
            {
                "sender": message["sender"],
                "type": event_type,
                "content": content,
                "to_device": {"user_id": user_id, "device_id": device_id},
            }
        )
        if event_type in ROOM_KEY_TYPES and device.add_room_key(event_type, content) is not None:
            self._retry_waiting()

    def _on_room_event(self, room: Room, event: Event) -> None:
        if event.type != "m.room.encrypted" or event.content.get("algorithm") != MEGOLM:
            return
        if not any(user in room.joined and user != event.sender for user, _ in self.devices):
            return
        if not self._decrypt_room_event(room.room_id, event):
            self._waiting.append(event)

    def _decrypt_room_event(self, room_id: str, event: Event) -> bool:
        """Decrypt with whichever of our devices holds the room key; whether one did."""
        session_id = str(event.content.get("session_id"))
        for (user_id, _), device in self.devices.items():
            if user_id == event.sender or not device.can_decrypt(session_id):
                continue
            try:
                payload = device.megolm_decrypt(event.content)
            except ValueError as error:
                log.warning("could not decrypt %s in %s: %s", event.event_id, room_id, error)
                return True
            if payload is None or payload.get("room_id") != room_id:
                return True
            self._keep(
                {
                    "room_id": room_id,
                    "event_id": event.event_id,
                    "sender": event.sender,
                    "type": payload.get("type"),
                    "content": payload.get("content"),
                }
            )
            return True
        return False

    def _retry_waiting(self) -> None:
        still = [event for event in self._waiting if not self._decrypt_room_event(event.room_id, event)]
        self._waiting.clear()
        self._waiting.extend(still)

    def _top_up(self, user_id: str, device_id: str) -> None:
        """Some of the device's one-time keys were claimed: publish fresh ones, as a client does after a sync."""
        device = self.devices.get((user_id, device_id))
        if device is None:
            return
        missing = (
            self._one_time_keys[(user_id, device_id)]
            - self.hs.keys.one_time_key_counts(user_id, device_id)[SIGNED_CURVE25519]
        )
        if missing > 0:
            keys = device.new_one_time_keys(missing)
            self.hs.keys.upload(user_id, device_id, device_keys=None, one_time_keys=keys, fallback_keys={})

    # -- what they send -------------------------------------------------------------------------------------

    def send_room_event(self, room: Room, sender: str, event_type: str, content: JsonDict) -> Event:
        """Send as the sender's client would: encrypted when the sender has an encrypted device and the room has
        `m.room.encryption`, else as it is."""
        device = self.device_of(sender)
        if device is None or ("m.room.encryption", "") not in room.state:
            return self.hs.send_event(room, sender, event_type, content)
        self._share_room_key(device, room)
        return self.hs.send_event(
            room, sender, "m.room.encrypted", device.megolm_encrypt(room.room_id, event_type, content)
        )

    def _share_room_key(self, device: OlmDevice, room: Room) -> None:
        """Send the room's Megolm key to every device of the room's members that has keys and lacks it."""
        outbound = device.outbound(room.room_id)
        room_key = device.room_key(room.room_id)
        messages: dict[str, dict[str, JsonDict]] = {}
        for user_id in sorted(room.joined):
            for device_id, keys in self.hs.keys.devices_with_keys(
                user_id, self.hs.accounts.device_ids(user_id)
            ).items():
                if (user_id, device_id) == (device.user_id, device.device_id):
                    continue
                curve25519 = keys.get("keys", {}).get(f"curve25519:{device_id}")
                ed25519 = keys.get("keys", {}).get(f"ed25519:{device_id}")
                if not isinstance(curve25519, str) or not isinstance(ed25519, str):
                    continue
                if (user_id, device_id, curve25519) in outbound.shared_with:
                    continue
                if not verify(keys, user_id, f"ed25519:{device_id}", ed25519):
                    log.warning("%s's device %s has keys it did not sign: no room key for it", user_id, device_id)
                    continue
                if not device.has_olm_session(curve25519) and not self._start_session(
                    device, user_id, device_id, ed25519, curve25519
                ):
                    continue
                messages.setdefault(user_id, {})[device_id] = device.olm_encrypt(user_id, keys, "m.room_key", room_key)
                outbound.shared_with.add((user_id, device_id, curve25519))
        if messages:
            self.hs.send_to_device(device.user_id, "m.room.encrypted", messages)

    def _start_session(self, device: OlmDevice, user_id: str, device_id: str, ed25519: str, curve25519: str) -> bool:
        """An Olm session with the device, on a one-time key (or fallback key) claimed as a client claims it."""
        claimed = self.hs.keys.claim({user_id: {device_id: SIGNED_CURVE25519}}).get(user_id, {}).get(device_id, {})
        for key in claimed.values():
            if (
                isinstance(key, dict)
                and isinstance(key.get("key"), str)
                and verify(key, user_id, f"ed25519:{device_id}", ed25519)
            ):
                device.start_olm_session(curve25519, key["key"])
                return True
        log.warning("no usable one-time key for %s's device %s: it gets no room key", user_id, device_id)
        return False
