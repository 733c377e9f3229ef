"""The routes under `/_mockmx/` that mocks and replays both serve; light to import, as a replay loads no mock."""

from __future__ import annotations

from starlette.routing import Route

from mockmx.control import inspector, request_journal

# Served by both: the page, its event stream and what it reads first, and the request journal.
COMMON_ROUTES = [
    Route("/_mockmx/", inspector.page, methods=["GET"]),
    Route("/_mockmx/inspector.js", inspector.page, methods=["GET"]),
    Route("/_mockmx/inspector.css", inspector.page, methods=["GET"]),
    Route("/_mockmx/openapi.json", inspector.openapi, methods=["GET"]),
    Route("/_mockmx/info", inspector.info, methods=["GET"]),
    Route("/_mockmx/events", inspector.event_stream, methods=["GET"]),
    Route("/_mockmx/requests", request_journal.list_requests, methods=["GET"]),
    Route("/_mockmx/requests/{entry_id}", request_journal.get_request, methods=["GET"]),
]
