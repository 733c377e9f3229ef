"""The limit: a bare Starlette app on mockmx's server stack that parses the JSON body and returns a fresh event id.

It answers the benchmarked paths and nothing else, with no middleware, so `mockmx serve` can be measured against
the most any Starlette app could do on the same uvicorn settings. Run as a script: it prints `URL: ...` once bound.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def fresh_event_id(request: Request) -> JSONResponse:
    json.loads(await request.body())
    return JSONResponse({"event_id": "$" + secrets.token_urlsafe(32)})


app = Starlette(
    routes=[
        Route("/_matrix/client/v3/rooms/{room_id}/send/{event_type}/{txn_id}", fresh_event_id, methods=["PUT"]),
        Route("/_matrix/client/v3/sendToDevice/{event_type}/{txn_id}", fresh_event_id, methods=["PUT"]),
        Route("/_matrix/push/v1/notify", fresh_event_id, methods=["POST"]),
        Route("/_matrix/client/v3/keys/claim", fresh_event_id, methods=["POST"]),
    ]
)


class _Server(uvicorn.Server):
    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            print(f"  URL: http://{host}:{port}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    # The same settings as `mockmx serve --quiet` (mockmx/cli.py): uvicorn's auto loop and http, uvloop and httptools.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=args.port, access_log=False, log_level="warning", timeout_graceful_shutdown=5
    )
    with contextlib.suppress(KeyboardInterrupt):
        _Server(config).run()


if __name__ == "__main__":
    main()
