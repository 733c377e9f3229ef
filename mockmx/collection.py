"""Garbage collection for a server whose state only grows, so that its pauses do not grow with it.

The mock keeps every event, to-device message, notification and transaction answer in memory. Python's full
collections walk all of it, so the longer a load test runs, the longer they pause the server: room send's p99
reached 55-58 ms after 180,000 sends at 32 connections (wrk, 20 s), against 6.6-6.8 ms with this, and 4% more
throughput. After each full collection, everything that survived it is moved out of the collector's sight with
`gc.freeze()`. Reference counting still frees whatever is dropped; only a reference cycle among objects that were
alive at a full collection, and dropped later, is never freed: a leak bounded by what was in flight at that moment.

Used by `mockmx serve` and `mockmx replay`, processes of their own; not by the servers the pytest plugin starts in
the test process, whose objects are not the mock's to freeze.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any


def freeze_survivors() -> None:
    """From now on, freeze what survives each full collection (once per process, however often called)."""
    if _after_collection not in gc.callbacks:
        gc.callbacks.append(_after_collection)


def stop_freezing() -> None:
    """Undo `freeze_survivors` (what is frozen stays frozen until `gc.unfreeze()`)."""
    if _after_collection in gc.callbacks:
        gc.callbacks.remove(_after_collection)


def _after_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off, and back as it was after."""
    # A 10,000-flow recording composes into 1.2 million nodes and marks, none of them in a cycle: the cyclic
    # collector finds nothing in them, but walks them all again and again as they pile up, which made it
    # 1.4 s of a 2.8 s load.
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
