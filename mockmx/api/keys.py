"""Device keys: `POST /keys/upload`, `POST /keys/query`, `POST /keys/claim`, `GET /keys/changes`.

Users of other servers cannot be reached (the mock has no federation): they are listed in `failures`, as Synapse
lists a server it cannot reach.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, read_json_object
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver.accounts import Session
from mockmx.homeserver.device_lists import device_list_updates
from mockmx.homeserver.server import Homeserver
from mockmx.homeserver.tokens import StreamToken

JsonDict = dict[str, Any]


async def upload(request: Request) -> Response:
    session = authenticate(request)
    body = await read_json_object(request)
    device_keys = body.get("device_keys")
    if device_keys is not None:
        _check_device_keys(device_keys, session)
    one_time_keys = _key_map(body, "one_time_keys")
    fallback_keys = _key_map(body, "fallback_keys") or _key_map(body, "org.matrix.msc2732.fallback_keys")
    counts = homeserver(request).keys.upload(
        session.user_id,
        session.device_id,
        device_keys=device_keys,
        one_time_keys=one_time_keys,
        fallback_keys=fallback_keys,
    )
    return JSONResponse({"one_time_key_counts": counts})


async def query(request: Request) -> Response:
    session = authenticate(request)
    body = await read_json_object(request)
    wanted = body.get("device_keys")
    if not isinstance(wanted, dict):
        raise MatrixError(400, "'device_keys' must be a JSON object", Codes.BAD_JSON)
    if not all(isinstance(ids, list) and all(isinstance(i, str) for i in ids) for ids in wanted.values()):
        raise MatrixError(400, "'device_keys' values must be a list of strings", Codes.BAD_JSON)
    hs = homeserver(request)
    result: JsonDict = {"device_keys": {}, "failures": {}, "master_keys": {}, "self_signing_keys": {}}
    for user_id, device_ids in wanted.items():
        if not _is_local(hs, user_id):
            result["failures"][_server_of(user_id)] = _unreachable(user_id)
            continue
        result["device_keys"][user_id] = _devices(hs, user_id, device_ids)
        for usage in ("master", "self_signing"):
            key = hs.keys.cross_signing.as_seen_by(session.user_id, user_id, usage)
            if key is not None:
                result[f"{usage}_keys"][user_id] = key
    own_user_signing = hs.keys.cross_signing.get(session.user_id, "user_signing")
    if session.user_id in wanted and own_user_signing is not None:
        result["user_signing_keys"] = {session.user_id: own_user_signing}
    return JSONResponse(result)


async def claim(request: Request) -> Response:
    authenticate(request)
    body = await read_json_object(request)
    wanted = body.get("one_time_keys")
    if not isinstance(wanted, dict):
        raise MatrixError(400, "'one_time_keys' must be a JSON object", Codes.BAD_JSON)
    for user_id, by_device in wanted.items():
        if not isinstance(by_device, dict) or not all(isinstance(alg, str) for alg in by_device.values()):
            raise MatrixError(400, f"'one_time_keys.{user_id}' must map device ids to algorithms", Codes.BAD_JSON)
    hs = homeserver(request)
    failures: JsonDict = {}
    local = {}
    for user_id, by_device in wanted.items():
        if _is_local(hs, user_id):
            local[user_id] = by_device
        else:
            failures[_server_of(user_id)] = _unreachable(user_id)
    # One synchronous call, no await between choosing a key and removing it: concurrent claims never share a key.
    return JSONResponse({"one_time_keys": hs.keys.claim(local), "failures": failures})


async def changes(request: Request) -> Response:
    session = authenticate(request)
    start = _token(request, "from")
    if start is None:
        raise MatrixError(400, "Missing required parameter 'from'", Codes.MISSING_PARAM)
    end = _token(request, "to")
    changed, left = device_list_updates(
        homeserver(request), session.user_id, start.room_pos, end.room_pos if end is not None else None
    )
    return JSONResponse({"changed": changed, "left": left})


def _check_device_keys(device_keys: Any, session: Session) -> None:
    """The spec's DeviceKeys, for the uploading device itself (Synapse answers a mismatch with 400 M_BAD_JSON)."""
    if not isinstance(device_keys, dict):
        raise MatrixError(400, "'device_keys' must be an object", Codes.BAD_JSON)
    if device_keys.get("user_id") != session.user_id:
        message = "Provided `user_id` in `device_keys` does not match that of the authenticated user"
        raise MatrixError(400, message, Codes.BAD_JSON)
    if device_keys.get("device_id") != session.device_id:
        message = "Provided `device_id` in `device_keys` does not match that of the authenticated user device"
        raise MatrixError(400, message, Codes.BAD_JSON)
    algorithms = device_keys.get("algorithms")
    if not isinstance(algorithms, list) or not all(isinstance(alg, str) for alg in algorithms):
        raise MatrixError(400, "'device_keys.algorithms' must be a list of strings", Codes.BAD_JSON)
    keys = device_keys.get("keys")
    if not isinstance(keys, dict) or not all(isinstance(key, str) for key in keys.values()):
        raise MatrixError(400, "'device_keys.keys' must map key ids to keys", Codes.BAD_JSON)
    signatures = device_keys.get("signatures")
    if not isinstance(signatures, dict) or not all(
        isinstance(by_key, dict) and all(isinstance(sig, str) for sig in by_key.values())
        for by_key in signatures.values()
    ):
        raise MatrixError(400, "'device_keys.signatures' must map users to key ids to signatures", Codes.BAD_JSON)


def _key_map(body: JsonDict, name: str) -> dict[str, Any]:
    """`one_time_keys` or `fallback_keys`: key ids to a key (a string, or a signed key object)."""
    keys = body.get(name)
    if keys is None:
        return {}
    if not isinstance(keys, dict) or not all(isinstance(key, str | dict) for key in keys.values()):
        raise MatrixError(400, f"'{name}' must map key ids to keys", Codes.BAD_JSON)
    return keys


def _devices(hs: Homeserver, user_id: str, device_ids: list[str]) -> JsonDict:
    """The user's devices' keys, as Synapse serves them: with the device's display name in `unsigned`."""
    user = hs.accounts.users.get(user_id)
    if user is None:
        return {}
    found = hs.keys.devices_with_keys(user_id, device_ids or list(user.devices))
    served = {}
    for device_id, keys in found.items():
        display_name = user.devices.get(device_id)
        served[device_id] = {**keys, "unsigned": {"device_display_name": display_name}} if display_name else keys
    return served


def _is_local(hs: Homeserver, user_id: str) -> bool:
    if not user_id.startswith("@") or ":" not in user_id:
        raise MatrixError(400, f"Invalid user ID {user_id!r}", Codes.INVALID_PARAM)
    return _server_of(user_id) == hs.server_name


def _server_of(user_id: str) -> str:
    return user_id.split(":", 1)[1]


def _unreachable(user_id: str) -> JsonDict:
    return {"status": 503, "message": f"Failed to reach {_server_of(user_id)}: the mock has no federation"}


def _token(request: Request, name: str) -> StreamToken | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    token = StreamToken.parse(raw)
    if token is None:
        raise MatrixError(400, f"Invalid stream token in {name!r}", Codes.INVALID_PARAM)
    return token
