"""The room directory: `/directory/room/{roomAlias}`, `/directory/list/room/{roomId}` and `/publicRooms`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate, homeserver, optional_str, read_json_object, require_str
from mockmx.errors import Codes, MatrixError
from mockmx.homeserver import directory
from mockmx.homeserver.server import Homeserver

VISIBILITIES = ("public", "private")


async def get_alias(request: Request) -> Response:
    # No token needed: the spec lets anyone resolve an alias.
    return JSONResponse(directory.resolve_alias(homeserver(request), request.path_params["room_alias"]))


async def put_alias(request: Request) -> Response:
    session = authenticate(request)
    alias = request.path_params["room_alias"]
    directory.parse_alias(alias)
    room_id = require_str(await read_json_object(request), "room_id")
    directory.add_alias(homeserver(request), session.user_id, alias, room_id)
    return JSONResponse({})


async def delete_alias(request: Request) -> Response:
    session = authenticate(request)
    directory.remove_alias(homeserver(request), session.user_id, request.path_params["room_alias"])
    return JSONResponse({})


async def get_visibility(request: Request) -> Response:
    hs = homeserver(request)
    return JSONResponse({"visibility": directory.visibility(hs, request.path_params["room_id"])})


async def put_visibility(request: Request) -> Response:
    session = authenticate(request)
    body = await read_json_object(request)
    visibility = optional_str(body, "visibility") or "public"
    if visibility not in VISIBILITIES:
        raise MatrixError(400, f"'visibility' must be one of {', '.join(VISIBILITIES)}", Codes.BAD_JSON)
    hs = homeserver(request)
    directory.set_visibility(hs, session.user_id, request.path_params["room_id"], visibility, is_guest=session.is_guest)
    return JSONResponse({})


async def get_public_rooms(request: Request) -> Response:
    # No token needed, as the spec has it (Synapse asks for one unless `allow_public_rooms_without_auth`).
    hs = homeserver(request)
    params = request.query_params
    raw_limit = params.get("limit")
    limit = None
    if raw_limit is not None:
        if not raw_limit.isdigit() or len(raw_limit) > 9:
            raise MatrixError(400, "Query parameter 'limit' must be a non-negative integer", Codes.INVALID_PARAM)
        limit = int(raw_limit)
    if _remote(hs, params.get("server")):
        return JSONResponse(_EMPTY)
    return JSONResponse(directory.public_rooms(hs, limit=limit, since=params.get("since") or None))


async def search_public_rooms(request: Request) -> Response:
    authenticate(request)
    hs = homeserver(request)
    body = await read_json_object(request)
    limit = body.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise MatrixError(400, "Param 'limit' must be an integer", Codes.BAD_JSON)
    since = optional_str(body, "since")
    search_term, room_types = _filter(body.get("filter"))
    include_all_networks = body.get("include_all_networks", False)
    if not isinstance(include_all_networks, bool):
        raise MatrixError(400, "Param 'include_all_networks' must be a boolean", Codes.BAD_JSON)
    network = optional_str(body, "third_party_instance_id")
    if include_all_networks and network is not None:
        raise MatrixError(400, "Can't use include_all_networks with an explicit network", Codes.UNKNOWN)
    # No federation and no application services: another server's list, or a bridged network's, is empty.
    if _remote(hs, request.query_params.get("server")) or network is not None:
        return JSONResponse(_EMPTY)
    page = directory.public_rooms(hs, limit=limit, since=since or None, search_term=search_term, room_types=room_types)
    return JSONResponse(page)


_EMPTY = {"chunk": [], "total_room_count_estimate": 0}


def _remote(hs: Homeserver, server: str | None) -> bool:
    """Whether `server` names another homeserver (400 when it names none)."""
    if not server or server == hs.server_name:
        return False
    if not directory.is_server_name(server):
        raise MatrixError(400, f"Invalid server name: {server}", Codes.INVALID_PARAM)
    return True


def _filter(value: Any) -> tuple[str | None, list[str | None] | None]:
    """The search term and room types of a `/publicRooms` filter."""
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise MatrixError(400, "Param 'filter' must be an object", Codes.BAD_JSON)
    term = optional_str(value, "generic_search_term")
    room_types = value.get("room_types")
    if room_types is not None and (
        not isinstance(room_types, list) or not all(item is None or isinstance(item, str) for item in room_types)
    ):
        raise MatrixError(400, "'room_types' must be a list of strings and nulls", Codes.BAD_JSON)
    return term, room_types
