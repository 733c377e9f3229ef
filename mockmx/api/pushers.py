"""`GET /pushers` and `POST /pushers/set`: a user's HTTP pushers, per the spec."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, optional_str, read_json_object, require_object, require_str
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.pushers import Pusher
from mockmx.hosting import hosted_as
from mockmx.push.protocol import NOTIFY_PATH
from mockmx.world import Mock

MAX_APP_ID = 64
MAX_PUSHKEY_BYTES = 512


async def get_pushers(request: Request) -> Response:
    session = authenticate(request)
    hs = homeserver(request)
    listed = []
    for pusher in hs.pushers.of(session.user_id):
        entry = pusher.to_json()
        # A scenario pusher aimed at this mock by path shows the full URL, as the spec's data.url is one.
        entry["data"] = {**pusher.data, "url": hosted_as(request.app, Mock).absolute_url(pusher.url) or pusher.url}
        listed.append(entry)
    return JSONResponse({"pushers": listed})


async def set_pusher(request: Request) -> Response:
    session = authenticate(request)
    body = await read_json_object(request)
    hs = homeserver(request)
    app_id = require_str(body, "app_id")
    pushkey = require_str(body, "pushkey")
    if len(app_id) > MAX_APP_ID:
        raise MatrixError(400, f"'app_id' must be at most {MAX_APP_ID} characters", Codes.INVALID_PARAM)
    if len(pushkey.encode()) > MAX_PUSHKEY_BYTES:
        raise MatrixError(400, f"'pushkey' must be at most {MAX_PUSHKEY_BYTES} bytes", Codes.INVALID_PARAM)
    if "kind" not in body:
        raise MatrixError(400, "Missing param: kind", Codes.MISSING_PARAM)
    kind = body["kind"]
    if kind is None:
        # `kind: null` deletes the pusher; the other fields are then not needed.
        hs.pushers.remove(session.user_id, app_id, pushkey)
        return JSONResponse({})
    if not isinstance(kind, str):
        raise MatrixError(400, "'kind' must be a string or null", Codes.BAD_JSON)
    if kind != "http":
        raise MatrixError(400, "Only pushers of kind 'http' are supported", Codes.INVALID_PARAM)
    append = body.get("append", False)
    if not isinstance(append, bool):
        raise MatrixError(400, "'append' must be a boolean", Codes.BAD_JSON)
    pusher = Pusher(
        session.user_id,
        app_id,
        pushkey,
        _data(body),
        require_str(body, "app_display_name"),
        require_str(body, "device_display_name"),
        require_str(body, "lang"),
        optional_str(body, "profile_tag"),
    )
    hs.pushers.add(pusher, append=append)
    return JSONResponse({})


def _data(body: dict[str, Any]) -> dict[str, Any]:
    data = require_object(body, "data")
    url = data.get("url")
    if url is None:
        raise MatrixError(400, "'url' required in data for HTTP pusher", Codes.MISSING_PARAM)
    if not isinstance(url, str):
        raise MatrixError(400, "'data.url' must be a string", Codes.BAD_JSON)
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        raise MatrixError(400, "'url' must be an http or https URL", Codes.INVALID_PARAM)
    if parts.path != NOTIFY_PATH:
        raise MatrixError(400, f"'url' must have a path of '{NOTIFY_PATH}'", Codes.INVALID_PARAM)
    data_format = data.get("format")
    if data_format is not None and not isinstance(data_format, str):
        raise MatrixError(400, "'data.format' must be a string", Codes.BAD_JSON)
    return data
