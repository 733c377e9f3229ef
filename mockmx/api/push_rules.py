"""`/pushrules/`: reading and changing the user's push rules (the spec's defaults, changed or not, and their own).

Guests have none (Synapse's 403). A change reaches the user's devices as `m.push_rules` account data in `/sync`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate_user, homeserver, read_json_object
from mockmx.errors import Codes, MatrixError
from mockmx.push.ruleset import ATTRIBUTES, check_kind


async def get_push_rules(request: Request) -> Response:
    user_id = authenticate_user(request).user_id
    return JSONResponse({"global": homeserver(request).push_rules.ruleset(user_id)})


async def get_global_push_rules(request: Request) -> Response:
    user_id = authenticate_user(request).user_id
    return JSONResponse(homeserver(request).push_rules.ruleset(user_id))


async def get_kind(request: Request) -> Response:
    """`GET /pushrules/global/{kind}/`: the rules of one kind (not in the spec; Synapse serves it)."""
    user_id = authenticate_user(request).user_id
    kind = check_kind(request.path_params["kind"])
    return JSONResponse(homeserver(request).push_rules.ruleset(user_id)[kind])


async def get_rule(request: Request) -> Response:
    user_id = authenticate_user(request).user_id
    params = request.path_params
    return JSONResponse(homeserver(request).push_rules.get(user_id, params["kind"], params["rule_id"]))


async def put_rule(request: Request) -> Response:
    user_id = authenticate_user(request).user_id
    params = request.path_params
    check_kind(params["kind"])
    body = await read_json_object(request)
    before = request.query_params.get("before") or None
    after = request.query_params.get("after") or None
    homeserver(request).push_rules.put(user_id, params["kind"], params["rule_id"], body, before=before, after=after)
    return JSONResponse({})


async def delete_rule(request: Request) -> Response:
    user_id = authenticate_user(request).user_id
    params = request.path_params
    homeserver(request).push_rules.delete(user_id, params["kind"], params["rule_id"])
    return JSONResponse({})


async def get_attribute(request: Request) -> Response:
    user_id = authenticate_user(request).user_id
    params = request.path_params
    attribute = _attribute(request)
    rule = homeserver(request).push_rules.get(user_id, params["kind"], params["rule_id"])
    return JSONResponse({attribute: rule.get(attribute, True if attribute == "enabled" else [])})


async def put_attribute(request: Request) -> Response:
    user_id = authenticate_user(request).user_id
    params = request.path_params
    attribute = _attribute(request)
    check_kind(params["kind"])
    body = await read_json_object(request)
    rules = homeserver(request).push_rules
    value: Any = body.get(attribute)
    if value is None:
        rules.get(user_id, params["kind"], params["rule_id"])  # 404 first for a rule that does not exist
        raise MatrixError(400, f"Missing param: {attribute}", Codes.MISSING_PARAM)
    if attribute == "enabled":
        if not isinstance(value, bool):
            raise MatrixError(400, "Param 'enabled' must be a boolean", Codes.BAD_JSON)
        rules.set_enabled(user_id, params["kind"], params["rule_id"], value)
    else:
        rules.set_actions(user_id, params["kind"], params["rule_id"], value)
    return JSONResponse({})


def _attribute(request: Request) -> str:
    attribute: str = request.path_params["attribute"]
    if attribute not in ATTRIBUTES:
        # As Synapse: an attribute it may learn later is an unrecognised request, not a missing rule.
        raise MatrixError(400, f"Unknown push rule attribute {attribute!r}", Codes.UNRECOGNIZED)
    return attribute
