"""Scripted events: what a scenario says happens by itself ("after 2 s bob says hi in #lobby")."""

from __future__ import annotations

import asyncio
import logging

from mockmx.crypto.key_actions import act_on_keys
from mockmx.homeserver.server import Homeserver
from mockmx.scenario.model import ScriptedEventSpec

log = logging.getLogger(__name__)


class ScriptRunner:
    def __init__(self, hs: Homeserver, script: tuple[ScriptedEventSpec, ...]) -> None:
        self.hs = hs
        self.script = script
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._play(entry)) for entry in self.script]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _play(self, entry: ScriptedEventSpec) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + entry.after
        fired = 0
        while entry.count is None or fired < entry.count:
            await asyncio.sleep(max(0.0, due - loop.time()))
            self.fire(entry)
            fired += 1
            if entry.every is None:
                return
            # Scheduled from the start, not from the last firing, so repeats do not drift.
            due += entry.every

    def fire(self, entry: ScriptedEventSpec) -> None:
        if entry.room_id is not None:
            room = self.hs.rooms[entry.room_id]
            if entry.sender not in room.joined:
                log.warning("scripted event skipped: %s is no longer in %s", entry.sender, entry.room_id)
                return
            # As the sender's client would send it: encrypted, for an encrypted scenario user in an encrypted room.
            event = self.hs.encrypted_users.send_room_event(room, entry.sender, entry.type, dict(entry.content))
            log.info("scripted event: %s sent %s %s in %s", entry.sender, event.type, event.event_id, entry.room_id)
        elif entry.action is not None:
            act_on_keys(self.hs, entry.sender, entry.action)
            log.info("scripted event: %s for %s", entry.action, entry.sender)
        elif entry.to_device is not None:
            self.hs.send_to_device(entry.sender, entry.type, entry.to_device)
            users = ", ".join(entry.to_device)
            log.info("scripted event: %s sent %s to the devices of %s", entry.sender, entry.type, users)
