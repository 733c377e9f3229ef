"""Paths as Matrix route templates: r0 and v3 alike, parameters named, transaction ids apart."""

from __future__ import annotations

import pytest

from mockmx.replay.routes import Route, route

CS = "/_matrix/client/v3"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/_matrix/client/r0/rooms/!a:hs/send/m.room.message/t1",
            Route(
                f"{CS}/rooms/{{roomId}}/send/{{eventType}}/{{txnId}}",
                {"roomId": "!a:hs", "eventType": "m.room.message"},
                "t1",
            ),
        ),
        (
            f"{CS}/rooms/%21a%3Ahs/send/m.room.message/a%2Fb",
            Route(
                f"{CS}/rooms/{{roomId}}/send/{{eventType}}/{{txnId}}",
                {"roomId": "!a:hs", "eventType": "m.room.message"},
                "a/b",
            ),
        ),
        (
            f"{CS}/rooms/!a:hs/state/m.room.name/",
            Route(
                f"{CS}/rooms/{{roomId}}/state/{{eventType}}/{{stateKey}}",
                {"roomId": "!a:hs", "eventType": "m.room.name", "stateKey": ""},
            ),
        ),
        (
            f"{CS}/rooms/!a:hs/redact/$e/t2",
            Route(f"{CS}/rooms/{{roomId}}/redact/{{eventId}}/{{txnId}}", {"roomId": "!a:hs", "eventId": "$e"}, "t2"),
        ),
        (
            f"{CS}/sendToDevice/org.example.ping/t3",
            Route(f"{CS}/sendToDevice/{{eventType}}/{{txnId}}", {"eventType": "org.example.ping"}, "t3"),
        ),
        (f"{CS}/join/%23lobby%3Ahs", Route(f"{CS}/join/{{roomIdOrAlias}}", {"roomIdOrAlias": "#lobby:hs"})),
        (f"{CS}/join/!a:hs", Route(f"{CS}/join/{{roomIdOrAlias}}", {"roomIdOrAlias": "!a:hs"})),
        (f"{CS}/sync", Route(f"{CS}/sync", {})),
        # Not in the table: Matrix ids become parameters by their sigil, the rest stays literal.
        (f"{CS}/rooms/!a:hs/invite", Route(f"{CS}/rooms/{{roomId}}/invite", {"roomId": "!a:hs"})),
        (
            "/_matrix/client/v1/rooms/!a:hs/relations/$e",
            Route("/_matrix/client/v1/rooms/{roomId}/relations/{eventId}", {"roomId": "!a:hs", "eventId": "$e"}),
        ),
        (
            "/_matrix/media/r0/download/hs/abc",
            Route("/_matrix/media/v3/download/{serverName}/{mediaId}", {"serverName": "hs", "mediaId": "abc"}),
        ),
        ("/_matrix/push/v1/notify", Route("/_matrix/push/v1/notify", {})),
        ("/_matrix/client/versions", Route("/_matrix/client/versions", {})),
    ],
)
def test_paths_become_templates_and_parameters(path: str, expected: Route) -> None:
    assert route(path) == expected
