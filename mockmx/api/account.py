"""The account itself: `POST /account/password` (behind the user's current password) and `GET /account/3pid`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.register import MAX_PASSWORD_LENGTH
from mockmx.api.request import access_token, authenticate_user, homeserver, optional_str, read_json_object
from mockmx.api.uia import confirm_password
from mockmx.errors import Codes, MatrixError


async def change_password(request: Request) -> Response:
    session = authenticate_user(request)
    body = await read_json_object(request)
    new_password = optional_str(body, "new_password")
    if new_password is not None and len(new_password) > MAX_PASSWORD_LENGTH:
        raise MatrixError(400, "Invalid password", Codes.INVALID_PARAM)
    logout_devices = body.get("logout_devices", True)
    if not isinstance(logout_devices, bool):
        raise MatrixError(400, "'logout_devices' must be true or false", Codes.BAD_JSON)
    params = confirm_password(request, body, session)
    new_password = params.get("new_password")
    if not new_password:
        raise MatrixError(400, "Missing param: new_password", Codes.MISSING_PARAM)
    hs = homeserver(request)
    hs.accounts.set_password(session.user_id, new_password)
    if params.get("logout_devices", True):
        # Every other device goes, and every other token of this one: only the token that asked stays.
        devices = hs.accounts.device_ids(session.user_id)
        hs.delete_devices(session.user_id, devices, keep_token=access_token(request))
    return JSONResponse({})


async def threepids(request: Request) -> Response:
    authenticate_user(request)
    return JSONResponse({"threepids": []})  # scenario users have no e-mail addresses or phone numbers
