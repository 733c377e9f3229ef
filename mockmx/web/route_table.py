"""The app's routes as a table: the route a request goes to, found in a dictionary lookup and a regex or two.

Starlette's router tries each route in turn, and under a mount each of the mount's routes, building a child scope
for each try; with a hundred client routes under `/_matrix/client/v3`, a request to one of the last paid for
dozens of tries. The table finds the same route as Starlette (the first that matches both path and method, and
once a mount's prefix matches, only that mount's routes), by keying each mount's routes on the path segment that
follows the mount's prefix. It answers only what it is sure of: a request it has no route for (a 404, a 405, a
route that is not a plain async function) is left to Starlette's router, which answers it as always.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.convertors import Convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, Router, compile_path, request_response

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(slots=True)  # not frozen: made for every request, and a frozen dataclass is slow to make
class Found:
    """A route found for a request, with what Starlette's router would have put in its scope."""

    route: Route
    endpoint: Endpoint
    path_params: dict[str, Any]
    root_path: str  # the mount's prefix, as Starlette's Mount sets it


@dataclass(frozen=True, slots=True)
class _Entry:
    route: Route
    endpoint: Endpoint | None  # None: not a plain async function, so left to Starlette
    regex: re.Pattern[str]
    convertors: dict[str, Convertor[Any]]
    methods: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class _Mount:
    prefix: str  # with its trailing slash, as Starlette's mount matches `prefix/...`
    by_segment: dict[str, tuple[_Entry, ...]]
    any_segment: tuple[_Entry, ...]  # the routes whose first segment is a parameter: in every key's list too
    nested: bool  # the mount holds mounts or has middleware: not keyed, left to Starlette


# Matches every path and decides none: what the table puts in place of a route it does not know.
_OPAQUE = _Mount("", {}, (), nested=True)


class RouteTable:
    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._items = tuple(_compile(route, "") for route in routes)

    def find(self, method: str, path: str) -> Found | None:
        """The route Starlette would run for `method` `path` (the path as routed, percent-encoding kept), or None
        when Starlette should decide: no route matches both, or the one that does is not a plain endpoint."""
        for item in self._items:
            if isinstance(item, _Mount):
                if not path.startswith(item.prefix):
                    continue
                if item.nested:
                    return None
                segment = path[len(item.prefix) :].partition("/")[0]
                return _first(item.by_segment.get(segment, item.any_segment), method, path, item.prefix[:-1])
            match = item.regex.match(path)
            if match is None or (item.methods is not None and method not in item.methods):
                continue  # Starlette goes on looking for a route that takes the method too
            return None if item.endpoint is None else _found(item, match, "")
        return None


def _first(entries: Sequence[_Entry], method: str, path: str, root_path: str) -> Found | None:
    for entry in entries:
        match = entry.regex.match(path)
        if match is None:
            continue
        if entry.methods is not None and method not in entry.methods:
            continue  # Starlette goes on looking for a route that takes the method too
        return None if entry.endpoint is None else _found(entry, match, root_path)
    return None


def _found(entry: _Entry, match: re.Match[str], root_path: str) -> Found:
    assert entry.endpoint is not None
    params = match.groupdict()
    for key, convertor in entry.convertors.items():
        params[key] = convertor.convert(params[key])
    return Found(entry.route, entry.endpoint, params, root_path)


def _compile(route: BaseRoute, prefix: str) -> _Mount | _Entry:
    if isinstance(route, Mount):
        if "{" in route.path:
            return _OPAQUE
        mount_prefix = prefix + route.path + "/"
        inner = [child for child in route.routes if isinstance(child, Route)]
        if len(inner) != len(route.routes) or not isinstance(route.app, Router):
            return _Mount(mount_prefix, {}, (), nested=True)  # mounts in it, or middleware of its own: Starlette's
        entries = [(_first_segment(child.path), _entry(child, mount_prefix[:-1])) for child in inner]
        keyed: dict[str, list[_Entry]] = {}
        for segment, _ in entries:
            if segment is not None:
                keyed.setdefault(segment, [])
        for segment, entry in entries:
            for key, listed in keyed.items():
                if segment is None or segment == key:
                    listed.append(entry)
        any_segment = tuple(entry for segment, entry in entries if segment is None)
        return _Mount(mount_prefix, {key: tuple(listed) for key, listed in keyed.items()}, any_segment, nested=False)
    if isinstance(route, Route):
        return _entry(route, prefix)
    return _OPAQUE  # anything else (a websocket route, a host): from here on, Starlette decides


def _entry(route: Route, prefix: str) -> _Entry:
    regex, _, convertors = compile_path(prefix + route.path)
    methods = frozenset(route.methods) if route.methods is not None else None
    return _Entry(route, route.endpoint if _is_plain(route) else None, regex, convertors, methods)


def _is_plain(route: Route) -> bool:
    """Whether Starlette runs the route as a plain async `endpoint(request) -> response`, wrapped in its
    `request_response` and nothing else (no middleware of the route's own, no body size limit)."""
    endpoint = route.endpoint
    return (
        inspect.isfunction(endpoint)
        and inspect.iscoroutinefunction(endpoint)
        and getattr(route.app, "__qualname__", None) == _REQUEST_RESPONSE
    )


async def _probe(request: Request) -> Response:
    raise NotImplementedError


# What Starlette's request_response makes of an endpoint, by name: a route whose app is anything else was wrapped.
_REQUEST_RESPONSE = request_response(_probe).__qualname__


def _first_segment(path: str) -> str | None:
    """The literal first segment of a route's path (`/rooms/{room_id}/...` gives `rooms`); None for a parameter."""
    segment = path[1:].partition("/")[0]
    return None if "{" in segment else segment
