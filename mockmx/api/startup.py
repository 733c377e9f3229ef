"""What an SDK asks as it starts, beyond `/versions`: server discovery, capabilities, TURN and bridge protocols."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate
from mockmx.homeserver.server import ROOM_VERSION

# The stable room versions Synapse 1.163 lists; rooms the mock creates are all of version ROOM_VERSION.
STABLE_ROOM_VERSIONS = [str(version) for version in range(1, 13)]
_CAPABILITIES = {
    "capabilities": {
        "m.room_versions": {
            "default": ROOM_VERSION,
            "available": dict.fromkeys(STABLE_ROOM_VERSIONS, "stable"),
        },
        "m.change_password": {"enabled": True},
        # Synapse says true; the mock only lists third-party ids (there are none), and a client that believes the
        # capability should not then meet a 404 adding one.
        "m.3pid_changes": {"enabled": False},
        "m.set_displayname": {"enabled": True},
        "m.set_avatar_url": {"enabled": True},
        "m.get_login_token": {"enabled": False},
    }
}


async def capabilities(request: Request) -> Response:
    authenticate(request)  # guests too, as Synapse
    return JSONResponse(_CAPABILITIES)


async def well_known_client(request: Request) -> Response:
    """Server discovery: the homeserver is wherever this request reached, seen through the client's own eyes."""
    return JSONResponse({"m.homeserver": {"base_url": str(request.base_url).rstrip("/")}})


async def turn_server(request: Request) -> Response:
    authenticate(request)
    # What Synapse answers with no TURN server configured, and what clients take to mean "no TURN".
    return JSONResponse({})


async def thirdparty_protocols(request: Request) -> Response:
    authenticate(request)
    return JSONResponse({})  # no application service bridges any protocol here


async def rtc_transports(request: Request) -> Response:
    """MSC4143's RTC transport discovery, which matrix-js-sdk asks for at start-up: this homeserver offers none.
    (Synapse without the experimental feature answers 404, which the SDK takes for "none"; an empty list says the
    same without a 404 in the log.)"""
    authenticate(request)
    return JSONResponse({"rtc_transports": []})
