"""`GET /_mockmx/requests`: the request journal, filtered, and with `wait` and `count` as soon as enough match;
`GET /_mockmx/requests/{id}`: one request with its bodies. Served by mocks and replays alike."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.control.changes import matching, wait_until
from mockmx.control.journal import FILTERS
from mockmx.control.params import controlled, known_filters, query_int, waiting
from mockmx.errors import Codes, MatrixError


async def list_requests(request: Request) -> Response:
    host = controlled(request)
    filters = known_filters(request, FILTERS)
    status = filters.pop("status", None)
    if status is not None and not status.isdigit():
        raise MatrixError(400, "Query parameter 'status' must be an integer", Codes.INVALID_PARAM)
    after = query_int(request, "after", 0)
    bodies = request.query_params.get("bodies", "true") != "false"
    wait, count = waiting(request)

    def compute() -> tuple[list[Any], bool]:
        journal = host.journal()
        return matching(journal.select(status=None if status is None else int(status), after=after, **filters), count)

    entries = await wait_until(host.changes, wait, compute)
    journal = host.journal()
    return JSONResponse(
        {
            "requests": [journal.to_json(entry, bodies=bodies) for entry in entries],
            "dropped": journal.dropped,
            "limit": journal.limit,
        }
    )


async def get_request(request: Request) -> Response:
    raw = request.path_params["entry_id"]
    journal = controlled(request).journal()
    entry = journal.get(int(raw)) if raw.isdigit() else None
    if entry is None or entry.status is None:
        raise MatrixError(404, f"No request {raw} in the journal", Codes.NOT_FOUND)
    return JSONResponse(journal.to_json(entry))
