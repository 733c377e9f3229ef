"""The benchmark runner, in a smoke run: every row of its table is there, so `python3 bench/run.py` cannot rot."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import choose_generator

ROOT = Path(__file__).resolve().parents[1]

ROWS = (
    "room send: req/s",
    "room send: latency",
    "send-to-device: req/s",
    "send-to-device: latency",
    "/notify: req/s",
    "/notify: latency",
    "fan-out /events, 50 waiters: p50 / p99",
    "fan-out /events, 50 waiters: server CPU",
    "fan-out /events, 50 waiters: memory per waiter",
    "fan-out /sync, 50 waiters: p50 / p99",
    "fan-out /sync, 50 waiters: server CPU",
    "fan-out /sync, 50 waiters: memory per waiter",
    "replay: latency",
    "replay: load",
    "replay: mockmx replay",
    "replay: load a realistic",
    "/messages: latency p50 / p99, 50 events from a room of 100,000 vs 100",
    "/messages: memory per stored event",
    "soak: RSS at 25 / 50 / 75 / 100% of 2,000 sends with a pusher",
    "soak: events let go by the room's limit",
    "/keys/query: latency p50 / p99, 100 users x 5 devices",
    "/keys/claim (5 devices a request): req/s at 32 connections",
    "record: req/s",
    "record: latency",
    "start-up: mockmx serve (default scenario)",
    "start-up: mockmx serve, 51-user scenario",
    "start-up: test fixture",
    "reference, Synapse 1.163.2 in the limit column: room send: req/s",
    "reference, Synapse 1.163.2 in the limit column: room send: latency",
    "reference, Synapse 1.163.2 in the limit column: send-to-device: req/s",
    "reference, Synapse 1.163.2 in the limit column: send-to-device: latency",
)


@pytest.mark.synapse  # so that the suite installs .venv-synapse first, and the reference rows are measured
@pytest.mark.timeout(240)
def test_smoke_run_prints_and_writes_every_row(tmp_path: Path) -> None:
    # The Python load generator, forced: it is what CI machines without wrk run, so it is the path to keep alive.
    results = tmp_path / "results.md"
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--generator", "python", "--results", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    table = {line.split("|")[1].strip(): line for line in run.stdout.splitlines() if line.startswith("| ")}
    for row in ROWS:
        matching = [line for label, line in table.items() if label.startswith(row)]
        assert matching, f"no row {row!r} in:\n{run.stdout}"
    cells = table["room send: req/s at 32 connections"].split("|")
    assert float(cells[2].replace(",", "")) > 0 and float(cells[4]) > 0, run.stdout  # req/s and ratio measured
    for label in ("replay: latency", "record: req/s", "/messages: latency"):
        cells = next(line for name, line in table.items() if name.startswith(label)).split("|")
        assert float(cells[4]) > 0, run.stdout  # the replay, record and history ratios measured
    synapse = next(line for name, line in table.items() if name.startswith("reference, Synapse")).split("|")
    assert float(synapse[3].replace(",", "")) > 0, run.stdout  # Synapse's req/s measured

    written = results.read_text()
    assert "## Machine" in written and "bench/pyload.py (aiohttp" in written, written
    assert all(row in written for row in ROWS), written


def test_the_runner_falls_back_to_python_without_wrk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert choose_generator("auto") == "python"
    with pytest.raises(SystemExit, match="wrk is not on the PATH"):
        choose_generator("wrk")
