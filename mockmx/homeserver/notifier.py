"""Wakes long polls: a waiter sleeps on one future registered under the keys it cares about.

Keys are user ids (woken by events in their rooms, invites and to-device messages) and room ids (woken by
events in that room, for peekers). A wake-up costs one dict pop per key, so thousands of idle waiters cost
a future and a timer each, and a send touches only the waiters of the room's members.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


class Notifier:
    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self.closed = False  # set at shutdown: long polls answer at once from then on

    def notify(self, keys: Iterable[str]) -> None:
        waiters = self._waiters
        if not waiters:  # every event notifies its room's members: usually nobody is polling
            return
        for key in keys:
            futures = waiters.pop(key, None)
            if futures:
                for fut in futures:
                    if not fut.done():
                        fut.set_result(None)

    async def wait(self, keys: Iterable[str], timeout: float) -> None:
        """Return when any of `keys` is notified or after `timeout` seconds, whichever comes first."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        keys = tuple(keys)
        for key in keys:
            self._waiters.setdefault(key, set()).add(fut)
        timer = loop.call_later(timeout, _release, fut)
        try:
            await fut
        finally:
            timer.cancel()
            for key in keys:
                futures = self._waiters.get(key)
                if futures is not None:
                    futures.discard(fut)
                    if not futures:
                        del self._waiters[key]

    def release_all(self) -> None:
        """Answer every pending long poll now (at shutdown), with whatever it has."""
        self.closed = True
        self.notify(list(self._waiters))

    def waiting(self) -> int:
        return len({fut for futures in self._waiters.values() for fut in futures})


def _release(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def long_poll(
    notifier: Notifier, keys: Iterable[str], timeout_ms: int, compute: Callable[[], tuple[T, bool]]
) -> T:
    """`compute()` until it reports something to say, waking on `keys`, or its last answer at the timeout."""
    result, ready = compute()
    if ready or timeout_ms <= 0 or notifier.closed:
        return result
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_ms / 1000
    keys = tuple(keys)
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return result
        await notifier.wait(keys, remaining)
        result, ready = compute()
        if ready or notifier.closed:
            return result
