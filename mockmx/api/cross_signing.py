"""Cross-signing: `POST /keys/device_signing/upload` (behind User-Interactive Authentication) and
`POST /keys/signatures/upload`.

As the spec says, replacing cross-signing keys asks for the user's password again; a first upload, or one that
brings no new key, does not.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate_user, homeserver, read_json_object
from mockmx.api.uia import confirm_password
from mockmx.homeserver.key_signatures import upload_signatures


async def upload_signing_keys(request: Request) -> Response:
    session = authenticate_user(request)
    body = await read_json_object(request)
    cross_signing = homeserver(request).keys.cross_signing
    params = {key: value for key, value in body.items() if key != "auth"}
    if cross_signing.has_master(session.user_id) and not cross_signing.matches_stored(session.user_id, params):
        params = confirm_password(request, body, session)
    keys = homeserver(request).keys
    before = {usage: cross_signing.get(session.user_id, usage) for usage in ("master", "self_signing", "user_signing")}
    cross_signing.upload(session.user_id, params)
    if any(cross_signing.get(session.user_id, usage) != key for usage, key in before.items()):
        keys.device_lists.mark_changed(session.user_id)
    return JSONResponse({})


async def upload_key_signatures(request: Request) -> Response:
    session = authenticate_user(request)
    body = await read_json_object(request)
    failures = upload_signatures(homeserver(request).keys, session.user_id, body)
    return JSONResponse({"failures": failures})
