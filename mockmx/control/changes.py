"""Wake-ups by topic: what the control API's `wait` parameters and the inspector's event stream sleep on.

A change costs one truthiness check when nobody waits, so the request journal can report every request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")


class Topic(StrEnum):
    """What changed, as the inspector's event stream names it."""

    REQUESTS = "requests"
    NOTIFICATIONS = "notifications"  # the push gateway's journal
    PUSHES = "pushes"  # the mock's own pushers' sends
    TO_DEVICE = "to_device"
    ROOMS = "rooms"
    FAULTS = "faults"
    SCRIPT = "script"
    WORLD = "world"  # a reset or a new scenario: everything
    REPLAY = "replay"


class Changes:
    """Futures waiting for any change, and the topics changed since each stream last looked."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()
        self._streams: list[set[Topic]] = []
        self.closed = False

    def fire(self, topic: Topic) -> None:
        if not self._waiters and not self._streams:
            return
        for pending in self._streams:
            pending.add(topic)
        waiters, self._waiters = self._waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def listener(self, topic: Topic) -> Callable[..., None]:
        """A callback taking any arguments that fires `topic`: for the homeserver's listener lists."""

        def changed(*_: object) -> None:
            self.fire(topic)

        return changed

    async def wait(self, timeout: float) -> None:
        """Return at the next change, or after `timeout` seconds."""
        if self.closed:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(fut)

    def subscribe(self) -> set[Topic]:
        """A set the changed topics are added to until `unsubscribe`: one per event stream."""
        pending: set[Topic] = set()
        self._streams.append(pending)
        return pending

    def unsubscribe(self, pending: set[Topic]) -> None:
        self._streams = [stream for stream in self._streams if stream is not pending]

    def close(self) -> None:
        """At shutdown: every wait ends now, and later ones at once."""
        self.closed = True
        self.fire(Topic.WORLD)


async def wait_until(changes: Changes, timeout_ms: int, compute: Callable[[], tuple[T, bool]]) -> T:
    """`compute()` again at each change until it reports enough, or its last answer after `timeout_ms`."""
    result, ready = compute()
    if ready or timeout_ms <= 0:
        return result
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_ms / 1000
    while not changes.closed:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        await changes.wait(remaining)
        result, ready = compute()
        if ready:
            break
    return result


def matching(entries: Iterable[T], count: int) -> tuple[list[T], bool]:
    """The entries, and whether there are at least `count` of them: the usual `compute` for `wait_until`."""
    found = list(entries)
    return found, len(found) >= count
