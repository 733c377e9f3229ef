"""`/profile/{userId}` and its `displayname` and `avatar_url` fields: read by anyone, set by their owner."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, read_json_object
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.accounts import User
from mockmx.homeserver.profile import DISPLAYNAME, FIELDS, profile_of, set_field
from mockmx.homeserver.server import Homeserver

USER_ID = re.compile(r"@[^:]+:.+")
MXC_URI = re.compile(r"mxc://[A-Za-z0-9.:\[\]-]+/[A-Za-z0-9_-]+")
# Synapse's limits.
MAX_DISPLAYNAME_LEN = 256
MAX_AVATAR_URL_LEN = 1000


async def get_profile(request: Request) -> Response:
    profile = profile_of(_known_user(homeserver(request), request.path_params["user_id"]))
    if not profile:
        raise MatrixError(404, "Profile was not found", Codes.NOT_FOUND)
    return JSONResponse(profile)


async def get_profile_field(request: Request) -> Response:
    field = _field(request)
    user = _known_user(homeserver(request), request.path_params["user_id"])
    # An unset field is left out, as Synapse does (the spec's "otherwise not present").
    return JSONResponse({key: value for key, value in profile_of(user).items() if key == field})


async def set_profile_field(request: Request) -> Response:
    session = authenticate(request)
    field = _field(request)
    if session.is_guest and field != DISPLAYNAME:
        # The spec's guest access lets guests set their display name only.
        raise MatrixError(403, "Guest access not allowed", Codes.GUEST_ACCESS_FORBIDDEN)
    user_id = request.path_params["user_id"]
    if not USER_ID.fullmatch(user_id):
        raise MatrixError(400, "Invalid user id", Codes.INVALID_PARAM)
    if user_id != session.user_id:
        raise MatrixError(403, f"Cannot set another user's {field}", Codes.FORBIDDEN)
    body = await read_json_object(request)
    if field not in body:
        raise MatrixError(400, f"Missing key '{field}'", Codes.MISSING_PARAM)
    value = body[field]
    if not isinstance(value, str):
        raise MatrixError(400, f"'{field}' must be a string", Codes.INVALID_PARAM)
    if field == DISPLAYNAME:
        if len(value) > MAX_DISPLAYNAME_LEN:
            raise MatrixError(400, f"Displayname is too long (max {MAX_DISPLAYNAME_LEN})", Codes.INVALID_PARAM)
        value = value.strip()
    elif len(value) > MAX_AVATAR_URL_LEN:
        raise MatrixError(400, f"Avatar URL is too long (max {MAX_AVATAR_URL_LEN})", Codes.INVALID_PARAM)
    elif value and not MXC_URI.fullmatch(value):
        # The spec: the value MUST be an MXC URI (Synapse takes any string); empty clears the avatar.
        raise MatrixError(400, "'avatar_url' must be an mxc:// URI", Codes.INVALID_PARAM)
    hs = homeserver(request)
    set_field(hs, hs.accounts.users[session.user_id], field, value or None)
    return JSONResponse({})


def _field(request: Request) -> str:
    field: str = request.path_params["field"]
    if field not in FIELDS:
        # Custom profile fields came with v1.16; the mock serves an earlier version.
        raise MatrixError(404, "Unrecognized request", Codes.UNRECOGNIZED)
    return field


def _known_user(hs: Homeserver, user_id: str) -> User:
    if not USER_ID.fullmatch(user_id):
        raise MatrixError(400, "Invalid user id", Codes.INVALID_PARAM)
    user = hs.accounts.users.get(user_id)
    if user is None:
        raise MatrixError(404, "Profile was not found", Codes.NOT_FOUND)
    return user
