"""`GET /pushrules/` and `GET /pushrules/global/`: the user's push rules, which are the spec's defaults."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockmx.api.request import authenticate_user
from mockmx.push.default_rules import ruleset_for


async def get_push_rules(request: Request) -> Response:
    return JSONResponse({"global": ruleset_for(authenticate_user(request).user_id)})


async def get_global_push_rules(request: Request) -> Response:
    return JSONResponse(ruleset_for(authenticate_user(request).user_id))
