"""The route table finds the route Starlette's own router would, for every route of both apps, or leaves it to it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from starlette.middleware import Middleware as StarletteMiddleware
from starlette.routing import BaseRoute, Match, Mount, Route

from mockmx.app import ROUTES
from mockmx.web.route_table import RouteTable

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
# What each kind of parameter is filled with: plain, percent-encoded as SDKs send ids, a `/` kept encoded.
SEGMENTS = ("plain", "%21room%3Ahs", "%23a%2Fb%3Ahs", "%40bob%3Ahs")


def starlette_choice(routes: Sequence[BaseRoute], method: str, path: str) -> tuple[Route, dict[str, Any]] | None:
    """The route Starlette's router runs for a request (a full match: path and method), through its own `matches`,
    mounts followed as its router follows them: once a mount matches, nothing after it is tried."""
    scope: dict[str, Any] = {"type": "http", "method": method, "path": path, "root_path": "", "path_params": {}}
    return _choice(routes, scope)


def _choice(routes: Sequence[BaseRoute], scope: dict[str, Any]) -> tuple[Route, dict[str, Any]] | None:
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            inner = {**scope, **child}
            if isinstance(route, Mount):
                return _choice(route.routes, inner)
            assert isinstance(route, Route)
            return route, inner["path_params"]
    return None


def request_paths(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[str]:
    """For every route, paths that reach it, with each kind of parameter value."""
    for route in routes:
        if isinstance(route, Mount):
            yield from request_paths(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            template = prefix + route.path
            for value in SEGMENTS:
                path = re.sub(r"\{[^}:]+:path\}", "a/b", template)
                yield re.sub(r"\{[^}]+\}", value, path)


ROUTE_PATHS = sorted(set(request_paths(ROUTES)))
PATHS = [
    *ROUTE_PATHS,
    "/_matrix/client/v3/nope",
    "/_matrix/client/v3",
    "/_matrix/client/v3/",
    "/_matrix/client/v3/rooms/%21a%3Ahs/send/m.room.message",  # a segment short
    "/_matrix/client/v3/rooms/%21a%3Ahs/send/m.room.message/t/extra",
    "/_matrix/client/v1/media/nope",
    "/",
]


@pytest.mark.parametrize("method", METHODS)
def test_the_table_finds_what_starlette_finds_or_leaves_it_to_starlette(method: str) -> None:
    table = RouteTable(ROUTES)
    found_any = 0
    for path in PATHS:
        found = table.find(method, path)
        if found is None:
            continue
        found_any += 1
        expected = starlette_choice(ROUTES, method, path)
        assert expected is not None, (method, path, found.route.path)
        route, params = expected
        assert (found.route, found.path_params) == (route, params), (method, path)
    if method in ("GET", "PUT", "POST", "DELETE"):
        assert found_any > 0


def test_every_plain_route_is_found_for_its_own_methods() -> None:
    # The table leaves nothing of the mock's to Starlette that it could take: every route, with every method it
    # takes, is found (the route Starlette chooses, by the test above).
    table = RouteTable(ROUTES)
    missed = []
    for path in PATHS[:-7]:
        for method in METHODS:
            expected = starlette_choice(ROUTES, method, path)
            if expected is not None and table.find(method, path) is None:
                missed.append((method, path))
    assert missed == []


def test_a_mount_shadows_later_routes_as_in_starlette() -> None:
    async def endpoint(request: Any) -> Any:
        raise AssertionError

    inner = Route("/a", endpoint, methods=["GET"])
    later = Route("/m/b", endpoint, methods=["GET"])
    routes: list[BaseRoute] = [Mount("/m", routes=[inner]), later]
    table = RouteTable(routes)
    assert starlette_choice(routes, "GET", "/m/b") is None  # the mount took it, and has no /b: a 404
    assert table.find("GET", "/m/b") is None
    found = table.find("GET", "/m/a")
    assert found is not None and found.route is inner and found.root_path == "/m"


def test_the_method_decides_between_routes_and_the_rest_is_left_to_starlette() -> None:
    async def endpoint(request: Any) -> Any:
        raise AssertionError

    def sync_endpoint(request: Any) -> Any:
        raise AssertionError

    routes: list[BaseRoute] = [
        Route("/x", endpoint, methods=["PUT"]),
        Route("/x", endpoint, methods=["GET"]),
        Route("/sync", sync_endpoint, methods=["GET"]),
    ]
    table = RouteTable(routes)
    first = table.find("PUT", "/x")
    second = table.find("GET", "/x")
    assert first is not None and first.route is routes[0]
    assert second is not None and second.route is routes[1]  # past the first, whose path matched, as Starlette
    assert table.find("POST", "/x") is None  # a 405: Starlette's to answer
    assert table.find("GET", "/sync") is None  # run in a thread by Starlette: not a plain async endpoint


def test_routes_and_mounts_with_middleware_or_a_body_limit_are_left_to_starlette() -> None:
    # The lane runs an endpoint itself: whatever Starlette would wrap around it must keep it on Starlette's path.
    async def endpoint(request: Any) -> Any:
        raise AssertionError

    class Passing:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    routes: list[BaseRoute] = [
        Route("/plain", endpoint, methods=["POST"]),
        Route("/limited", endpoint, methods=["POST"], max_body_size=10),
        Route("/wrapped", endpoint, methods=["POST"], middleware=[StarletteMiddleware(Passing)]),
        Mount("/mounted", routes=[Route("/x", endpoint, methods=["POST"])], middleware=[StarletteMiddleware(Passing)]),
        Mount("/bare", routes=[Route("/x", endpoint, methods=["POST"])]),
    ]
    table = RouteTable(routes)
    assert table.find("POST", "/plain") is not None
    assert table.find("POST", "/bare/x") is not None
    for path in ("/limited", "/wrapped", "/mounted/x"):
        assert table.find("POST", path) is None, path
