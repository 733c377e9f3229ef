"""The quick test server's copies of uvicorn internals are tied to the uvicorn release they were made from."""

from __future__ import annotations

import hashlib
import inspect

import uvicorn

from mockmx.testing.threaded import COPIED_FROM_UVICORN

# uvicorn's own `Server.main_loop` and `Server.shutdown` in the release the copies follow, by source digest: when
# uvicorn changes them, the copies must be compared with the new code before they are trusted again.
UPSTREAM_DIGESTS = {
    "main_loop": "afccb353a119333f",
    "shutdown": "9b33c50562992b1e",
}


def _digest(name: str) -> str:
    return hashlib.sha256(inspect.getsource(getattr(uvicorn.Server, name)).encode()).hexdigest()[:16]


def test_the_copies_follow_the_installed_uvicorn() -> None:
    assert uvicorn.__version__ == COPIED_FROM_UVICORN, (
        f"uvicorn {uvicorn.__version__} is installed but QuickServer's copies follow {COPIED_FROM_UVICORN}: "
        "compare them with the new Server.main_loop and Server.shutdown, then move COPIED_FROM_UVICORN on"
    )
    assert {name: _digest(name) for name in UPSTREAM_DIGESTS} == UPSTREAM_DIGESTS
