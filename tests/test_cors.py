"""CORS for browser clients, over the wire: preflights pass, answers to a browser carry Allow-Origin."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer, assert_error

BROWSER = {"Origin": "http://app.example"}


def test_preflight_allows_any_origin_with_the_authorization_header(alice: httpx.Client) -> None:
    headers = {**BROWSER, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization"}
    r = alice.options("/_matrix/client/v3/rooms/!lobby:localhost/send/m.room.message/t1", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    assert "authorization" in r.headers["access-control-allow-headers"].lower()
    assert "PUT" in r.headers["access-control-allow-methods"]


def test_a_browser_request_gets_allow_origin_and_others_do_not_need_it(alice: httpx.Client) -> None:
    r = alice.get("/_matrix/client/v3/account/whoami", headers=BROWSER)
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    r = alice.get("/_matrix/client/v3/account/whoami")
    assert r.status_code == 200, r.text
    assert "access-control-allow-origin" not in r.headers


def test_errors_reach_the_browser_too(alice: httpx.Client) -> None:
    r = alice.get("/_matrix/client/v3/nope", headers=BROWSER)
    assert r.status_code == 404, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.json()["errcode"] == "M_UNRECOGNIZED"


def test_the_control_api_gets_no_cors_and_refuses_changes_from_other_sites(mock: LiveServer) -> None:
    url = mock.url + "/_mockmx/notifications"
    r = httpx.get(url, headers=BROWSER)
    assert r.status_code == 200, r.text
    assert "access-control-allow-origin" not in r.headers
    preflight = {**BROWSER, "Access-Control-Request-Method": "DELETE"}
    r = httpx.options(url, headers=preflight)
    assert "access-control-allow-origin" not in r.headers, r.headers
    # A page elsewhere can still send a form-like POST or a DELETE without asking: refused before it runs.
    for method in ("DELETE", "POST"):
        r = httpx.request(method, url, headers={**BROWSER, "Content-Type": "text/plain"}, content=b"{}")
        assert_error(r, 403, "M_FORBIDDEN")
    r = httpx.request("DELETE", url, headers={"Origin": "null"})
    assert_error(r, 403, "M_FORBIDDEN")
    # The mock's own pages (same origin) and tools without a browser (no Origin) may.
    host = mock.url.removeprefix("http://")
    r = httpx.delete(url, headers={"Origin": mock.url, "Host": host})
    assert r.status_code == 200, r.text
    r = httpx.delete(url)
    assert r.status_code == 200, r.text
