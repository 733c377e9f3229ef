"""Read receipts: how far each user has read each room, shown in /sync as `m.receipt`; the unread counts read them.

A receipt is kept per (room, type, user, thread) and only ever moves forward, as in Synapse: one for an event
before the one already acknowledged is ignored. Each new receipt takes a stream position of its own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from mockmx.homeserver.notifier import Notifier
from mockmx.homeserver.rooms import Event, JsonDict, Room

READ = "m.read"
READ_PRIVATE = "m.read.private"
FULLY_READ = "m.fully_read"  # a read marker (room account data), not a receipt
RECEIPT_TYPES = (READ, READ_PRIVATE)
MAIN_THREAD = "main"


@dataclass(slots=True)
class Receipt:
    event_id: str
    event_pos: int  # the acknowledged event's stream position: receipts only move forward
    ts: int
    thread_id: str | None
    pos: int  # the stream position the receipt was made at


_Key = tuple[str, str, str | None]  # (receipt type, user id, thread id)


@dataclass
class _RoomReceipts:
    # Oldest change first (an update moves its entry to the end), so a sync reads only the tail it has not seen.
    by_key: OrderedDict[_Key, Receipt] = field(default_factory=OrderedDict)


class Receipts:
    def __init__(self, *, notifier: Notifier, advance: Callable[[], int]) -> None:
        self._notifier = notifier
        self._advance = advance
        self._rooms: dict[str, _RoomReceipts] = {}
        # Called with (room, user id) after a read receipt moved: how badge-only pushes hook in.
        self.listeners: list[Callable[[Room, str], None]] = []

    def put(self, room: Room, user_id: str, receipt_type: str, event: Event, thread_id: str | None, ts: int) -> bool:
        """Record the receipt unless it points at or before the one already there; whether it was recorded."""
        receipts = self._rooms.setdefault(room.room_id, _RoomReceipts()).by_key
        key = (receipt_type, user_id, thread_id)
        old = receipts.get(key)
        if old is not None and old.event_pos >= event.pos:
            return False
        receipts[key] = Receipt(event.event_id, event.pos, ts, thread_id, self._advance())
        receipts.move_to_end(key)
        if receipt_type == READ_PRIVATE:
            self._notifier.notify((user_id,))  # nobody else ever sees it
        else:
            self._notifier.notify(room.joined)
            self._notifier.notify((room.room_id,))
        for listener in self.listeners:
            listener(room, user_id)
        return True

    def event_since(self, room_id: str, viewer: str, since_pos: int | None) -> JsonDict | None:
        """The room's `m.receipt` event with the receipts made after `since_pos` (all for a first sync) that
        `viewer` may see (private ones only their own), in Synapse's shape."""
        room = self._rooms.get(room_id)
        if room is None:
            return None
        content: JsonDict = {}
        for (receipt_type, user_id, _), receipt in reversed(room.by_key.items()):
            if since_pos is not None and receipt.pos <= since_pos:
                break
            if receipt_type == READ_PRIVATE and user_id != viewer:
                continue
            data: JsonDict = {"ts": receipt.ts}
            if receipt.thread_id is not None:
                data["thread_id"] = receipt.thread_id
            content.setdefault(receipt.event_id, {}).setdefault(receipt_type, {})[user_id] = data
        return {"type": "m.receipt", "content": content} if content else None

    def read_up_to(self, room_id: str, user_id: str) -> int:
        """The stream position of the latest event the user's read receipts (unthreaded or main) acknowledge."""
        room = self._rooms.get(room_id)
        if room is None:
            return 0
        latest = 0
        for receipt_type in RECEIPT_TYPES:
            for thread_id in (None, MAIN_THREAD):
                receipt = room.by_key.get((receipt_type, user_id, thread_id))
                if receipt is not None:
                    latest = max(latest, receipt.event_pos)
        return latest

    def thread_read_up_to(self, room_id: str, user_id: str, thread_id: str | None) -> int:
        """The stream position the user's read receipts acknowledge in one thread (`main` for the main timeline):
        the later of its threaded receipt and the unthreaded one, which covers every thread (None: only that)."""
        room = self._rooms.get(room_id)
        if room is None:
            return 0
        latest = 0
        for receipt_type in RECEIPT_TYPES:
            for thread in (None, thread_id):
                receipt = room.by_key.get((receipt_type, user_id, thread))
                if receipt is not None:
                    latest = max(latest, receipt.event_pos)
        return latest
