"""The real-SDK tests' outcome log sees every answer: were it blind, those tests would pass on any missing endpoint."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockmx.scenario.loader import default_scenario
from tests.conftest import ALICE, ALICE_TOKEN
from tests.sdk_outcomes import Outcome, OutcomeLog, observed_mock


def test_the_log_holds_every_answer_and_only_missing_endpoints_are_gaps() -> None:
    with observed_mock(default_scenario()) as (mock, log), mock.client(ALICE_TOKEN) as alice:
        assert alice.get("/_matrix/client/v3/account/whoami").status_code == 200
        assert alice.get("/_matrix/client/v3/no/such/endpoint").status_code == 404
        assert alice.post("/_matrix/client/v3/account/whoami").status_code == 405

    seen = [(o.method, o.path, o.status) for o in log.outcomes()]
    assert seen == [
        ("GET", "/_matrix/client/v3/account/whoami", 200),
        ("GET", "/_matrix/client/v3/no/such/endpoint", 404),
        ("POST", "/_matrix/client/v3/account/whoami", 405),
    ]
    assert [(o.path, o.status) for o in log.gaps()] == [
        ("/_matrix/client/v3/no/such/endpoint", 404),
        ("/_matrix/client/v3/account/whoami", 405),
    ]
    assert log.gaps(allowed=[("GET", "/_matrix/client/v3/no/*", 404), ("POST", "*", 405)]) == []
    with pytest.raises(AssertionError, match=r"GET /_matrix/client/v3/no/such/endpoint -> 404 .*M_UNRECOGNIZED"):
        log.assert_no_gaps()


@pytest.mark.parametrize(
    ("status", "body", "gap"),
    [
        (404, '{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}', True),
        (404, '{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}', True),
        (404, '{"errcode":"M_NOT_FOUND","error":"Account data not found"}', False),
        (405, '{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}', True),
        (500, "Internal Server Error", True),
        (502, "", True),
        (403, '{"errcode":"M_FORBIDDEN","error":"not in the room"}', False),
    ],
)
def test_a_gap_is_a_missing_endpoint_or_method_or_a_crash(status: int, body: str, gap: bool) -> None:
    assert Outcome("GET", f"/_matrix/client/v3/user/{ALICE}/x", status, body).is_gap is gap


def test_a_failure_inside_blamed_gets_the_gaps_as_a_note() -> None:
    with observed_mock(default_scenario()) as (mock, log), mock.client(ALICE_TOKEN) as alice:
        alice.get("/_matrix/client/v3/no/such/endpoint")
        with pytest.raises(RuntimeError) as failure, log.blamed():
            raise RuntimeError("the SDK gave up")
    assert failure.value.__notes__ == [
        "the mock had no endpoint for these, or failed:\n"
        '  GET /_matrix/client/v3/no/such/endpoint -> 404 {"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}'
    ]


def test_a_crash_is_logged_as_the_500_the_client_got() -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("a bug")

    log = OutcomeLog(Starlette(routes=[Route("/boom", boom)]))

    async def call() -> int:
        transport = httpx.ASGITransport(app=log, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            return (await client.get("/boom")).status_code

    assert asyncio.run(call()) == 500
    assert [(o.method, o.path, o.status, o.is_gap) for o in log.outcomes()] == [("GET", "/boom", 500, True)]
