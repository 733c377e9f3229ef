"""The load generator when wrk is absent: an aiohttp client holding N connections, each sending back to back.

Prints one JSON line with the figures bench/load.py reads. It is slower than either server, and shares the
machine's cores with them, so its figures are lower than wrk's and its ratios closer to 1: it keeps the runner
working where wrk is not installed, wrk's figures are the ones to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp
from yarl import URL

from bench.stats import percentile


async def main(args: argparse.Namespace) -> dict[str, float | int]:
    headers = {"Content-Type": "application/json"}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    latencies: list[float] = []
    errors = 0
    counter = 0
    deadline = time.perf_counter() + args.seconds

    async def connection(session: aiohttp.ClientSession, index: int) -> None:
        nonlocal errors, counter
        while time.perf_counter() < deadline and counter < args.max_requests:
            counter += 1
            n = f"{index}-{counter}"  # unique per request, as unique.lua makes it for wrk
            began = time.perf_counter()
            # encoded=True: the path goes out as given, percent-encoding and all, as wrk sends it.
            target = URL(args.url + args.path.replace("{n}", n), encoded=True)
            async with session.request(
                args.method, target, data=args.body.replace("{n}", n), headers=headers
            ) as response:
                await response.read()
                if response.status >= 400:
                    errors += 1
            latencies.append(time.perf_counter() - began)

    connector = aiohttp.TCPConnector(limit=args.connections)
    async with aiohttp.ClientSession(connector=connector, skip_auto_headers=["User-Agent"]) as session:
        began = time.perf_counter()
        await asyncio.gather(*(connection(session, index) for index in range(args.connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "errors": errors,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--method", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--body", required=True)
    parser.add_argument("--token", default="")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
