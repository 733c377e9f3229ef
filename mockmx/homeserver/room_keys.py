"""Server-side key backup: each user's backup versions and the room keys stored in them (`/room_keys/...`).

The server stores what clients encrypted for themselves and never reads it. Only the newest version takes keys; a
key replaces a stored one of the same session only when it is better, as Synapse decides: verified over unverified,
then a lower first message index, then fewer forwards. Every change to a version's keys changes its `etag`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockmx.errors import Codes, MatrixError

JsonDict = dict[str, Any]

MAX_VERSIONS_PER_USER = 100  # the oldest go first: clients make a new one on reset, rarely
MAX_KEYS_PER_VERSION = 100_000


@dataclass
class Backup:
    version: str
    algorithm: str
    auth_data: JsonDict
    etag: int = 0
    rooms: dict[str, dict[str, JsonDict]] = field(default_factory=dict)  # room_id -> session_id -> key data

    @property
    def count(self) -> int:
        return sum(len(sessions) for sessions in self.rooms.values())

    def info(self) -> JsonDict:
        return {
            "algorithm": self.algorithm,
            "auth_data": self.auth_data,
            "version": self.version,
            "count": self.count,
            "etag": str(self.etag),
        }

    def summary(self) -> JsonDict:
        """What a key upload or deletion answers."""
        return {"etag": str(self.etag), "count": self.count}


class RoomKeyBackups:
    def __init__(self) -> None:
        self._backups: dict[str, dict[str, Backup]] = {}  # user_id -> version -> backup, oldest first
        self._next_version = 1  # versions count up server-wide, as Synapse's do per user

    def create(self, user_id: str, algorithm: str, auth_data: JsonDict) -> str:
        backups = self._backups.setdefault(user_id, {})
        while len(backups) >= MAX_VERSIONS_PER_USER:
            del backups[next(iter(backups))]
        version = str(self._next_version)
        self._next_version += 1
        backups[version] = Backup(version, algorithm, auth_data)
        return version

    def latest(self, user_id: str) -> Backup | None:
        backups = self._backups.get(user_id)
        return backups[next(reversed(backups))] if backups else None

    def get(self, user_id: str, version: str | None) -> Backup:
        """The named version, or the newest one for None; 404 M_NOT_FOUND when there is none."""
        backup = self.latest(user_id) if version is None else self._backups.get(user_id, {}).get(version)
        if backup is None:
            raise MatrixError(
                404, "No backup found" if version is None else f"Unknown backup version {version}", Codes.NOT_FOUND
            )
        return backup

    def update(self, user_id: str, version: str, algorithm: str, auth_data: JsonDict) -> None:
        backup = self.get(user_id, version)
        if algorithm != backup.algorithm:
            raise MatrixError(400, "Algorithm does not match", Codes.INVALID_PARAM)
        backup.auth_data = auth_data

    def delete(self, user_id: str, version: str) -> None:
        self.get(user_id, version)
        del self._backups[user_id][version]

    def current_for_upload(self, user_id: str, version: str) -> Backup:
        """The backup keys go to: it must exist and be the newest (403 M_WRONG_ROOM_KEYS_VERSION otherwise)."""
        latest = self.latest(user_id)
        if latest is None or version not in self._backups.get(user_id, {}):
            raise MatrixError(404, f"Unknown backup version {version}", Codes.NOT_FOUND)
        if latest.version != version:
            raise MatrixError(
                403,
                "Wrong room_keys version",
                Codes.WRONG_ROOM_KEYS_VERSION,
                extra={"current_version": latest.version},
            )
        return latest

    def put_keys(self, backup: Backup, rooms: dict[str, dict[str, JsonDict]]) -> None:
        """Store each key that is better than the one stored for its session (or new)."""
        changed = False
        for room_id, sessions in rooms.items():
            stored = backup.rooms.setdefault(room_id, {})
            for session_id, key in sessions.items():
                current = stored.get(session_id)
                if current is None and backup.count >= MAX_KEYS_PER_VERSION:
                    raise MatrixError(400, f"A backup keeps at most {MAX_KEYS_PER_VERSION} keys", Codes.TOO_LARGE)
                if current is None or _better(key, current):
                    stored[session_id] = key
                    changed = True
            if not stored:
                del backup.rooms[room_id]
        if changed:
            backup.etag += 1

    def delete_keys(self, backup: Backup, room_id: str | None, session_id: str | None) -> None:
        before = backup.count
        if room_id is None:
            backup.rooms.clear()
        elif session_id is None:
            backup.rooms.pop(room_id, None)
        else:
            sessions = backup.rooms.get(room_id, {})
            sessions.pop(session_id, None)
            if not sessions:
                backup.rooms.pop(room_id, None)
        if backup.count != before:
            backup.etag += 1


def _better(new: JsonDict, current: JsonDict) -> bool:
    """Synapse's `_should_replace_room_key`, comparison for comparison."""
    if new["is_verified"] and not current["is_verified"]:
        return True
    if new["first_message_index"] < current["first_message_index"]:
        return True
    return bool(new["forwarded_count"] < current["forwarded_count"])
