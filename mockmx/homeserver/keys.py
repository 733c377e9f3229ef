"""End-to-end encryption keys the homeserver keeps for clients: each device's identity keys, its one-time keys and
fallback keys, handed out by `/keys/claim`, and (in `cross_signing`) each user's cross-signing keys.

The server only stores and serves this public material; it never sees a private key. A one-time key is handed out
once, oldest first; when a device has none left, its fallback key is handed out instead (as often as asked) and
marked used, which `/sync`'s `device_unused_fallback_key_types` tells the device so it can upload a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.cross_signing import CrossSigning
from mockmx.homeserver.device_lists import DeviceLists
from mockmx.homeserver.notifier import Notifier

JsonDict = dict[str, Any]

# A bound on what one device may leave on the server; clients keep about 50 (vodozemac's max is 100).
MAX_ONE_TIME_KEYS_PER_DEVICE = 1000
ALWAYS_COUNTED = "signed_curve25519"  # Synapse always reports this count, 0 included; clients rely on it


@dataclass
class FallbackKey:
    key_id: str  # `algorithm:id`
    key: Any
    used: bool = False


@dataclass
class DeviceKeyring:
    device_keys: JsonDict | None = None
    one_time: dict[str, Any] = field(default_factory=dict)  # `algorithm:id` -> key, oldest first
    fallback: dict[str, FallbackKey] = field(default_factory=dict)  # algorithm -> its fallback key


class Keys:
    """Every device's published keys, and the users' cross-signing keys, with who changed what when."""

    def __init__(self, *, notifier: Notifier, advance: Callable[[], int], peers: Callable[[str], set[str]]) -> None:
        self.device_lists = DeviceLists(notifier=notifier, advance=advance, peers=peers)
        self.cross_signing = CrossSigning()
        self._devices: dict[tuple[str, str], DeviceKeyring] = {}
        # Called with (user_id, device_id) after a device's one-time keys were claimed: how an encrypted scenario
        # user tops up its own keys.
        self.claim_listeners: list[Callable[[str, str], None]] = []

    # -- a device's own keys --------------------------------------------------------------------------------

    def upload(
        self,
        user_id: str,
        device_id: str,
        *,
        device_keys: JsonDict | None,
        one_time_keys: dict[str, Any],
        fallback_keys: dict[str, Any],
    ) -> dict[str, int]:
        """Store what a device uploaded; its one-time key counts after. Nothing is stored when any key is refused."""
        ring = self._devices.setdefault((user_id, device_id), DeviceKeyring())
        new_one_time = {key_id: key for key_id, key in one_time_keys.items() if key_id not in ring.one_time}
        for key_id, key in one_time_keys.items():
            _algorithm(key_id)
            old = ring.one_time.get(key_id)
            if old is not None and old != key:
                # Synapse's message: the client reused a key id, which would make two sessions share it.
                raise MatrixError(400, f"One time key {key_id} already exists. Old key: {old}; new key: {key}")
        if len(ring.one_time) + len(new_one_time) > MAX_ONE_TIME_KEYS_PER_DEVICE:
            raise MatrixError(
                400, f"A device keeps at most {MAX_ONE_TIME_KEYS_PER_DEVICE} one-time keys", Codes.TOO_LARGE
            )
        fallbacks = [(_algorithm(key_id), key_id, key) for key_id, key in fallback_keys.items()]
        ring.one_time.update(new_one_time)
        for algorithm, key_id, key in fallbacks:
            current = ring.fallback.get(algorithm)
            if current is None or (current.key_id, current.key) != (key_id, key):
                ring.fallback[algorithm] = FallbackKey(key_id, key)
        if device_keys is not None and device_keys != ring.device_keys:
            # Signatures others made on the old keys (a self-signing key's) stay only if the keys are the same.
            ring.device_keys = device_keys
            self.device_lists.mark_changed(user_id)
        return self.one_time_key_counts(user_id, device_id)

    def one_time_key_counts(self, user_id: str, device_id: str) -> dict[str, int]:
        counts = {ALWAYS_COUNTED: 0}
        ring = self._devices.get((user_id, device_id))
        if ring is not None:
            for key_id in ring.one_time:
                algorithm = key_id.partition(":")[0]
                counts[algorithm] = counts.get(algorithm, 0) + 1
        return counts

    def unused_fallback_key_types(self, user_id: str, device_id: str) -> list[str]:
        ring = self._devices.get((user_id, device_id))
        return sorted(alg for alg, key in ring.fallback.items() if not key.used) if ring is not None else []

    def drop_device(self, user_id: str, device_id: str) -> None:
        """The device is gone: so are its keys, and whoever tracks the user must hear of it."""
        ring = self._devices.pop((user_id, device_id), None)
        if ring is not None and ring.device_keys is not None:
            self.device_lists.mark_changed(user_id)

    def drop_one_time_keys(self, user_id: str, device_id: str) -> int:
        """Forget the device's unclaimed one-time keys (a scenario's exhaustion fault); how many there were."""
        ring = self._devices.get((user_id, device_id))
        if ring is None:
            return 0
        dropped = len(ring.one_time)
        ring.one_time.clear()
        return dropped

    # -- what others read -----------------------------------------------------------------------------------

    def device_keys(self, user_id: str, device_id: str) -> JsonDict | None:
        ring = self._devices.get((user_id, device_id))
        return ring.device_keys if ring is not None else None

    def devices_with_keys(self, user_id: str, device_ids: Iterable[str]) -> dict[str, JsonDict]:
        """The device keys of those of `device_ids` that uploaded some."""
        found = {}
        for device_id in device_ids:
            keys = self.device_keys(user_id, device_id)
            if keys is not None:
                found[device_id] = keys
        return found

    def set_device_keys(self, user_id: str, device_id: str, device_keys: JsonDict) -> None:
        """Replace a device's keys with a copy carrying a new signature (from `/keys/signatures/upload`)."""
        self._devices.setdefault((user_id, device_id), DeviceKeyring()).device_keys = device_keys
        self.device_lists.mark_changed(user_id)

    def claim(self, wanted: dict[str, dict[str, str]]) -> dict[str, dict[str, dict[str, Any]]]:
        """One key per (user, device) of the asked algorithm: a one-time key, removed as it is handed out, else
        the fallback key. Devices without either are left out. No await here: two claims never get the same key."""
        claimed: dict[str, dict[str, dict[str, Any]]] = {}
        emptied: list[tuple[str, str]] = []
        for user_id, by_device in wanted.items():
            for device_id, algorithm in by_device.items():
                ring = self._devices.get((user_id, device_id))
                if ring is None:
                    continue
                key_id = next((kid for kid in ring.one_time if kid.partition(":")[0] == algorithm), None)
                if key_id is not None:
                    found = {key_id: ring.one_time.pop(key_id)}
                    emptied.append((user_id, device_id))
                elif algorithm in ring.fallback:
                    fallback = ring.fallback[algorithm]
                    fallback.used = True
                    found = {fallback.key_id: fallback.key}
                else:
                    continue
                claimed.setdefault(user_id, {})[device_id] = found
        for user_id, device_id in emptied:
            for listener in self.claim_listeners:
                listener(user_id, device_id)
        return claimed


def _algorithm(key_id: str) -> str:
    algorithm, colon, name = key_id.partition(":")
    if not colon or not algorithm or not name:
        raise MatrixError(400, f"Key ID {key_id!r} must have the form <algorithm>:<key id>", Codes.BAD_JSON)
    return algorithm
