"""The request journal: every request the mock served, oldest first, bounded, with bodies kept for reading.

Keeping an entry is cheap on purpose (it is the one thing every request pays for): the middleware keeps
references to the body chunks as they pass and the clock readings; decoding, redacting and naming the route
happen only when someone reads the journal.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.routing import BaseRoute, Mount, Route

from mockmx.record.redact import Redactor

DEFAULT_LIMIT = 10_000
MAX_BODY_BYTES = 64 * 1024  # of each body kept; the rest is counted, not kept
BODY_BUDGET_BYTES = 32 * 1024 * 1024  # over all entries: past it, the oldest entries' bodies are let go
SCOPE_KEY = "mockmx.journal_entry"  # where an endpoint finds the entry of the request it serves
FILTERS = ("method", "route", "status", "user_id")


class Entry:
    """One request as it went: filled in by the middleware while the request runs, read later."""

    __slots__ = (
        "device_id",
        "duration",
        "fault",
        "id",
        "kept_in",
        "kept_out",
        "method",
        "path",
        "query",
        "request_body",
        "request_headers",
        "request_type",
        "response_body",
        "response_headers",
        "response_type",
        "started",
        "status",
        "time",
        "user_id",
    )

    def __init__(self, entry_id: int, method: str, path: str, query: bytes, time: float, started: float) -> None:
        self.id = entry_id
        self.method = method
        self.path = path
        self.query = query
        self.time = time  # seconds since the epoch
        self.started = started  # perf_counter at the start, then the duration once finished
        self.duration: float | None = None
        self.status: int | None = None  # None while the request is still being answered
        self.user_id: str | None = None
        self.device_id: str | None = None
        self.fault: int | None = None  # the id of the fault rule that acted on it
        self.request_body: list[bytes] | None = None
        self.request_headers: list[tuple[bytes, bytes]] | None = None
        self.response_body: list[bytes] | None = None
        self.response_headers: list[tuple[bytes, bytes]] | None = None
        # Once answered, of the headers only what reading the bodies needs is kept: a header list per entry, kept
        # for thousands of requests, is what made a full journal cost (each entry let go is cold memory).
        self.request_type: str | None = None
        self.response_type: str | None = None
        self.kept_in = self.kept_out = 0  # bytes of each body seen, up to MAX_BODY_BYTES

    def keep_request(self, chunk: bytes) -> None:
        """A chunk of the request body as it is read, kept by reference (up to MAX_BODY_BYTES)."""
        if self.kept_in < MAX_BODY_BYTES:
            self.kept_in += len(chunk)
            if self.request_body is None:
                self.request_body = [chunk]
            else:
                self.request_body.append(chunk)

    def keep_response(self, chunk: bytes) -> None:
        """A chunk of the response body as it is sent, kept by reference (up to MAX_BODY_BYTES)."""
        if self.kept_out < MAX_BODY_BYTES:
            self.kept_out += len(chunk)
            if self.response_body is None:
                self.response_body = [chunk]
            else:
                self.response_body.append(chunk)

    def note_session(self, user_id: str, device_id: str | None) -> None:
        self.user_id, self.device_id = user_id, device_id

    def size(self) -> int:
        """The bytes of body kept."""
        return self.kept_in + self.kept_out


class RequestJournal:
    """The last `limit` requests; `dropped` counts the ones let go to stay within it."""

    def __init__(self, limit: int = DEFAULT_LIMIT, *, routes: Sequence[BaseRoute] = ()) -> None:
        self.limit = limit
        self.entries: deque[Entry] = deque(maxlen=limit)
        self.dropped = 0
        self.next_id = 1
        self.routes = routes  # the app's route table, to name each request's route when read
        self.on_change: Callable[[], None] = _nothing
        self._with_bodies: deque[Entry] = deque()
        self._body_bytes = 0
        self._redactor = Redactor()
        self._templates: dict[tuple[str, str], str | None] = {}

    def begin(self, method: str, path: str, query: bytes, time: float, started: float) -> Entry:
        entry = Entry(self.next_id, method, path, query, time, started)
        self.next_id += 1
        if len(self.entries) == self.limit:
            self.dropped += 1
        self.entries.append(entry)
        return entry

    def finished(self, entry: Entry) -> None:
        """The entry's request was answered: count its bodies against the budget, and tell who waits."""
        if entry.request_body:
            entry.request_type = _content_type(entry.request_headers)
        if entry.response_body and entry.response_type is None:
            entry.response_type = _content_type(entry.response_headers)
        entry.request_headers = entry.response_headers = None
        if entry.request_body or entry.response_body:
            self._with_bodies.append(entry)
            self._body_bytes += entry.size()
            # Past the budget, or gone from the journal (else a full journal would still hold 32 MB of old entries).
            while self._with_bodies and (
                self._body_bytes > BODY_BUDGET_BYTES or self._with_bodies[0].id < self.entries[0].id
            ):
                oldest = self._with_bodies.popleft()
                self._body_bytes -= oldest.size()
                oldest.request_body = oldest.response_body = None
                oldest.kept_in = oldest.kept_out = 0
        self.on_change()

    def select(
        self,
        *,
        method: str | None = None,
        route: str | None = None,
        status: int | None = None,
        user_id: str | None = None,
        after: int = 0,
    ) -> list[Entry]:
        """The finished entries matching every filter given, oldest first (`after`: with a larger id only)."""
        found = []
        for entry in list(self.entries):
            if entry.id <= after or entry.status is None:
                continue
            if method is not None and entry.method != method:
                continue
            if status is not None and entry.status != status:
                continue
            if user_id is not None and entry.user_id != user_id:
                continue
            if route is not None and self.route_of(entry) != route:
                continue
            found.append(entry)
        return found

    def get(self, entry_id: int) -> Entry | None:
        entries = self.entries
        if not entries or not entries[0].id <= entry_id <= entries[-1].id:
            return None
        entry = entries[entry_id - entries[0].id]
        return entry if entry.id == entry_id else None

    def route_of(self, entry: Entry) -> str | None:
        """The route template the request matched (`/_matrix/client/v3/rooms/{room_id}/send/...`), or None."""
        key = (entry.method, entry.path)
        if key not in self._templates:
            if len(self._templates) > self.limit:
                self._templates.clear()
            self._templates[key] = template_of(self.routes, entry.method, entry.path)
        return self._templates[key]

    def to_json(self, entry: Entry, *, bodies: bool = True) -> dict[str, Any]:
        query = dict(parse_qsl(entry.query.decode("latin-1"), keep_blank_values=True))
        shown: dict[str, Any] = {
            "id": entry.id,
            "time": round(entry.time * 1000),
            "method": entry.method,
            "path": entry.path,
            "query": query,
            "route": self.route_of(entry),
            "status": entry.status,
            "duration_ms": None if entry.duration is None else round(entry.duration * 1000, 3),
            "user_id": entry.user_id,
            "device_id": entry.device_id,
            "fault": entry.fault,
        }
        if bodies:
            request_body = _body(entry.request_body, entry.request_type)
            response_body = _body(entry.response_body, entry.response_type)
            flow = {
                "request": {"headers": {}, "query": query, "body": request_body},
                "response": {"headers": {}, "body": response_body},
            }
            if self._redactor.known() > 10 * self.limit:  # bounded like everything else
                self._redactor = Redactor()
            redacted = self._redactor.redact(flow)
            shown["query"] = redacted["request"]["query"]
            shown["request_body"] = redacted["request"]["body"]
            shown["response_body"] = redacted["response"]["body"]
        else:
            shown["query"] = self._redactor.redact({"request": {"headers": {}, "query": query}})["request"]["query"]
        return shown


def _nothing() -> None:
    pass


def _content_type(headers: list[tuple[bytes, bytes]] | None) -> str | None:
    for name, value in headers or ():
        # ASGI servers give request header names in lower case: the comparison that finds it, first.
        if name == b"content-type" or name.lower() == b"content-type":
            return value.decode("latin-1")
    return None


def _body(chunks: list[bytes] | None, content_type: str | None) -> Any:
    """A kept body as JSON data when it is JSON, else a note of what it was."""
    if chunks is None:
        return None
    raw = b"".join(chunks)
    if not raw:
        return None
    kind = (content_type or "").partition(";")[0].strip() or "unknown type"
    if len(raw) >= MAX_BODY_BYTES:
        return {"mockmx_truncated": f"{kind}, over {MAX_BODY_BYTES} bytes; the first part is not shown"}
    if kind.endswith("json") or raw[:1] in (b"{", b"["):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    if kind.startswith("text/"):
        return raw.decode("utf-8", "replace")
    return {"mockmx_body": f"{len(raw)} bytes of {kind}"}


def template_of(routes: Iterable[BaseRoute], method: str, path: str, prefix: str = "") -> str | None:
    """The template of the route in `routes` that serves `method` `path`, mounts followed."""
    for route in routes:
        if isinstance(route, Mount):
            if path.startswith(route.path + "/"):
                found = template_of(route.routes, method, path[len(route.path) :], prefix + route.path)
                if found is not None:
                    return found
        elif (
            isinstance(route, Route)
            and route.path_regex.match(path)
            and (route.methods is None or method in route.methods)
        ):
            return prefix + route.path.replace(":segment}", "}").replace(":path}", "}")
    return None
