"""Scripted events: what a scenario says happens by itself ("after 2 s bob says hi in #lobby"), and entries the
control API adds at run time; what fired and what is still to come, for the inspector."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from mockmx.crypto.key_actions import act_on_keys
from mockmx.homeserver.server import Homeserver
from mockmx.scenario.model import ScriptedEventSpec

log = logging.getLogger(__name__)
MAX_FIRED = 1000  # firings remembered for the inspector


class ScriptRunner:
    def __init__(self, hs: Homeserver, script: tuple[ScriptedEventSpec, ...]) -> None:
        self.hs = hs
        self.script = list(script)
        self.fired: deque[dict[str, Any]] = deque(maxlen=MAX_FIRED)
        self.on_change: Callable[[], None] = lambda: None
        self._due: dict[int, float] = {}  # entry index -> when it fires next, in the loop's time
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._play(index, entry)) for index, entry in enumerate(self.script)]

    def schedule(self, entry: ScriptedEventSpec) -> int:
        """Add an entry at run time, timed from now; its index."""
        self.script.append(entry)
        index = len(self.script) - 1
        self._tasks.append(asyncio.create_task(self._play(index, entry)))
        return index

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._due.clear()

    async def _play(self, index: int, entry: ScriptedEventSpec) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + entry.after
        fired = 0
        try:
            while entry.count is None or fired < entry.count:
                self._due[index] = due
                await asyncio.sleep(max(0.0, due - loop.time()))
                self.fire(entry, index)
                fired += 1
                if entry.every is None:
                    return
                # Scheduled from the start, not from the last firing, so repeats do not drift.
                due += entry.every
        finally:
            self._due.pop(index, None)
            self.on_change()

    def fire(self, entry: ScriptedEventSpec, index: int | None = None) -> list[str]:
        """Emit the entry's event now; the ids of the events it made (none for a to-device message)."""
        made: list[str] = []
        skipped = None
        if entry.room_id is not None:
            room = self.hs.rooms[entry.room_id]
            if entry.sender not in room.joined:
                skipped = f"{entry.sender} is no longer in {entry.room_id}"
                log.warning("scripted event skipped: %s", skipped)
            else:
                # As the sender's client would send it: encrypted, for an encrypted scenario user in an encrypted room.
                event = self.hs.encrypted_users.send_room_event(room, entry.sender, entry.type, dict(entry.content))
                log.info("scripted event: %s sent %s %s in %s", entry.sender, event.type, event.event_id, room.room_id)
                made.append(event.event_id)
        elif entry.action is not None:
            act_on_keys(self.hs, entry.sender, entry.action)
            log.info("scripted event: %s for %s", entry.action, entry.sender)
        elif entry.to_device is not None:
            self.hs.send_to_device(entry.sender, entry.type, entry.to_device)
            users = ", ".join(entry.to_device)
            log.info("scripted event: %s sent %s to the devices of %s", entry.sender, entry.type, users)
        fired = {"at": int(time.time() * 1000), "entry": index, **describe(entry), "event_ids": made}
        if skipped is not None:
            fired["skipped"] = skipped
        self.fired.append(fired)
        self.on_change()
        return made

    def upcoming(self) -> list[dict[str, Any]]:
        """The entries still to fire, soonest first, with how long until they do."""
        now = asyncio.get_running_loop().time()
        return [
            {"entry": index, "due_in_ms": max(0, round((due - now) * 1000)), **describe(self.script[index])}
            for index, due in sorted(self._due.items(), key=lambda item: item[1])
        ]


def describe(entry: ScriptedEventSpec) -> dict[str, Any]:
    """A script entry as JSON, in the scenario's terms."""
    shown: dict[str, Any] = {"sender": entry.sender, "type": entry.type}
    if entry.room_id is not None:
        shown["room_id"] = entry.room_id
        shown["content"] = entry.content
    if entry.to_device is not None:
        shown["to_device"] = entry.to_device
    if entry.action is not None:
        shown["action"] = str(entry.action)
    if entry.every is not None:
        shown["every_ms"] = round(entry.every * 1000)
        shown["count"] = entry.count
    return shown
