"""The fan-out client: N long polls (`/events` or `/sync`) on one room, one send, and when each poll has the event.

Run by bench/run.py in a process of its own, driven by lines on stdin so the runner can read the server's
memory and CPU time between steps:

    client: `warm`      (it has made one request of each kind: the server's code paths are loaded)
    runner: `connect`   -> client opens N long polls, then prints `ready` once every request has gone out
    runner: `go`        -> client sends one event, and prints the round's JSON result once every poll has answered

With --rounds R, each poll then polls again from the token its answer gave, as a client does; `ready` and `go`
repeat R times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

from bench import scenarios
from bench.stats import percentile

ANSWER_TIMEOUT_SECONDS = 60  # after the send: long polls that have not answered by then count as missed
POLL_TIMEOUT_MS = 120_000


class Polls:
    """N long polls on one aiohttp session, each on a connection of its own, as N separate clients would be."""

    def __init__(self, session: aiohttp.ClientSession, base: str, kind: str) -> None:
        self.session = session
        self.base = base
        self.kind = kind

    def start(self, tokens: list[str]) -> list[asyncio.Task[tuple[float, bytes]]]:
        parameter = "from" if self.kind == "events" else "since"
        return [
            asyncio.create_task(
                self._poll(f"{self.base}/{self.kind}?{parameter}={token}&timeout={POLL_TIMEOUT_MS}", index)
            )
            for index, token in enumerate(tokens)
        ]

    async def _poll(self, url: str, index: int) -> tuple[float, bytes]:
        async with self.session.get(url, headers=_auth(scenarios.waiter_token(index))) as response:
            body = await response.read()
            # Parsing waits until every poll is in: here it would only delay the polls still arriving.
            return time.perf_counter(), body

    def next_token(self, body: bytes) -> str:
        answer = json.loads(body)
        return str(answer["end"] if self.kind == "events" else answer["next_batch"])

    def event_ids(self, body: bytes) -> set[str]:
        answer = json.loads(body)
        if self.kind == "events":
            events = answer.get("chunk", [])
        else:
            room = answer.get("rooms", {}).get("join", {}).get(scenarios.CROWD_ROOM, {})
            events = room.get("timeline", {}).get("events", [])
        return {event["event_id"] for event in events}


async def main(args: argparse.Namespace) -> None:
    base = args.url + "/_matrix/client/v3"
    sent = 0  # requests whose headers have gone out

    async def on_sent(*_: Any) -> None:
        nonlocal sent
        sent += 1

    tracing = aiohttp.TraceConfig()
    tracing.on_request_headers_sent.append(on_sent)
    timeout = aiohttp.ClientTimeout(total=POLL_TIMEOUT_MS / 1000 + 30)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, trace_configs=[tracing]) as session:
        polls = Polls(session, base, args.kind)
        # Every poll starts from the same token, as each client would after its first call.
        tokens = [await _warm_up(session, base)] * args.waiters
        print("warm", flush=True)
        await _expect_line("connect")
        for round_index in range(args.rounds):
            expected_sent = sent + args.waiters
            tasks = polls.start(tokens)
            while sent < expected_sent:
                await asyncio.sleep(0.01)
            print("ready", flush=True)
            await _expect_line("go")

            began = time.perf_counter()
            url = f"{base}/rooms/{scenarios.CROWD_ROOM}/send/m.room.message/fanout-{round_index}"
            async with session.put(url, json={"msgtype": "m.text", "body": "to all"}, headers=_auth()) as response:
                event_id = (await response.json())["event_id"]
            _, pending = await asyncio.wait(tasks, timeout=ANSWER_TIMEOUT_SECONDS)
            for task in pending:
                task.cancel()
            if pending:
                raise SystemExit(f"fanout: {len(pending)} polls never answered")

            answers = [task.result() for task in tasks]
            arrivals = sorted(arrived - began for arrived, body in answers if event_id in polls.event_ids(body))
            tokens = [polls.next_token(body) for _, body in answers]
            result = {
                "got_event": len(arrivals),
                "p50_ms": percentile(arrivals, 50) * 1000,
                "p99_ms": percentile(arrivals, 99) * 1000,
                "max_ms": (arrivals[-1] if arrivals else 0.0) * 1000,
            }
            print(json.dumps(result), flush=True)


async def _warm_up(session: aiohttp.ClientSession, base: str) -> str:
    """One immediate /events and /sync; returns the current stream token the polls will start from."""
    async with session.get(f"{base}/events?timeout=0", headers=_auth(scenarios.waiter_token(0))) as response:
        token: str = (await response.json())["end"]
    async with session.get(f"{base}/sync?since={token}&timeout=0", headers=_auth(scenarios.waiter_token(0))) as r:
        await r.read()
    return token


def _auth(token: str = scenarios.SENDER_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _expect_line(expected: str) -> None:
    line = await asyncio.to_thread(sys.stdin.readline)
    if line.strip() != expected:
        raise SystemExit(f"fanout: expected {expected!r} from the runner, got {line.strip()!r}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--kind", choices=("events", "sync"), required=True)
    parser.add_argument("--waiters", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1)
    asyncio.run(main(parser.parse_args()))
