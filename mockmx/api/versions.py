"""`GET /_matrix/client/versions`: what mautrix and matrix-js-sdk ask first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

SPEC_VERSIONS = ["r0.0.1", "r0.1.0", "r0.2.0", "r0.3.0", "r0.4.0", "r0.5.0", "r0.6.0", "r0.6.1"] + [
    f"v1.{minor}" for minor in range(1, 12)
]
_VERSIONS = JSONResponse({"versions": SPEC_VERSIONS, "unstable_features": {}}).body


async def versions(request: Request) -> Response:
    return Response(_VERSIONS, media_type="application/json")
