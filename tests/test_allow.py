"""`Allow` names every method a path is served with (Starlette names only the first route's), and OPTIONS on a
served path answers 200 as Synapse does."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import assert_error


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/_matrix/client/v3/login", "GET, HEAD, OPTIONS, POST"),
        ("/_matrix/client/r0/login", "GET, HEAD, OPTIONS, POST"),
        ("/_matrix/client/v3/rooms/%21lobby%3Alocalhost/state/m.room.name/", "GET, HEAD, OPTIONS, PUT"),
        ("/_matrix/client/v3/devices/ALICEDEV", "DELETE, GET, HEAD, OPTIONS, PUT"),
    ],
)
def test_options_and_405_list_every_method(alice: httpx.Client, path: str, methods: str) -> None:
    r = alice.options(path)
    assert r.status_code == 200, r.text
    assert r.headers["allow"] == methods
    r = alice.patch(path)
    assert_error(r, 405, "M_UNRECOGNIZED")
    assert r.headers["allow"] == methods
