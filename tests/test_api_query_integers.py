"""Integer query parameters over the wire: one given empty (`?limit=`) is not one left out. Synapse's int("") fails,
and it answers 400 M_INVALID_PARAM; so does the mock, on every endpoint that takes one."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LOBBY, assert_error

V3 = "/_matrix/client/v3"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (f"{V3}/sync", "timeout"),
        (f"{V3}/events", "timeout"),
        (f"{V3}/events", "limit"),
        (f"{V3}/rooms/{LOBBY}/messages?dir=b", "limit"),
        (f"{V3}/notifications", "limit"),
        (f"{V3}/publicRooms", "limit"),
    ],
)
def test_an_empty_integer_parameter_is_400_invalid_param(shared_alice: httpx.Client, path: str, name: str) -> None:
    separator = "&" if "?" in path else "?"
    assert_error(shared_alice.get(f"{path}{separator}{name}="), 400, "M_INVALID_PARAM")
    r = shared_alice.get(f"{path}{separator}{name}=0")
    assert r.status_code == 200, r.text  # the parameter itself is fine
