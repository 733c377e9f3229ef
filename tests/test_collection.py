"""The serving processes freeze what survives a full collection, so their pauses do not grow with their state."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from mockmx.collection import freeze_survivors, stop_freezing
from tests.test_replay_app import EXAMPLE


@pytest.fixture
def freezing() -> Iterator[None]:
    freeze_survivors()
    try:
        yield
    finally:
        stop_freezing()
        gc.unfreeze()


def test_what_survives_a_full_collection_is_frozen_and_younger_collections_do_not_freeze(freezing: None) -> None:
    gc.unfreeze()
    gc.collect(1)
    assert gc.get_freeze_count() == 0
    kept = [[index] for index in range(1000)]  # containers the collector tracks
    gc.collect()
    assert gc.get_freeze_count() >= len(kept)


def test_installing_twice_freezes_through_one_callback(freezing: None) -> None:
    freeze_survivors()
    assert sum(callback.__module__ == "mockmx.collection" for callback in gc.callbacks) == 1


def test_cycles_dropped_before_a_full_collection_are_still_collected(freezing: None) -> None:
    class Node:
        pass

    gc.collect()
    a, b = Node(), Node()
    a.other, b.other = b, a  # type: ignore[attr-defined]
    del a, b
    assert gc.collect() >= 2


@pytest.mark.parametrize("command", ["serve", "replay"])
def test_serve_and_replay_freeze_and_the_test_process_does_not(command: str) -> None:
    arguments = ["serve", "--port", "0"] if command == "serve" else ["replay", str(EXAMPLE), "--port", "0"]
    # Stop the command right where its server would start serving.
    script = f"""
import gc, sys
import mockmx.server
class Stop(Exception): pass
def run(self, *args, **kwargs): raise Stop
mockmx.server.MockServer.run = run
from mockmx.cli import main
try:
    main({arguments!r})
except Stop:
    pass
print(any(getattr(callback, "__module__", "") == "mockmx.collection" for callback in gc.callbacks))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip().splitlines()[-1] == "True", out.stdout + out.stderr
    assert not any(getattr(callback, "__module__", "") == "mockmx.collection" for callback in gc.callbacks)
