"""`create_app`: a Starlette application serving one scenario's homeserver."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from mockmx.api import (
    account,
    account_data,
    cross_signing,
    decrypted,
    devices,
    directory,
    events,
    gateway,
    keys,
    media,
    members,
    membership,
    messages,
    notifications,
    presence,
    profile,
    push_deliveries,
    push_rules,
    pushers,
    receipts,
    redact,
    register,
    relations,
    room_keys,
    rooms,
    send,
    session,
    startup,
    state,
    sync,
    to_device,
    typing_status,
    user_directory,
    versions,
)
from mockmx.api.control_routes import MOCK_CONTROL_ROUTES
from mockmx.control.lane import LaneApp
from mockmx.control.middleware import ControlMiddleware
from mockmx.hosting import attach
from mockmx.scenario.model import Scenario
from mockmx.web.cors import BrowserCORS
from mockmx.web.errors import EXCEPTION_HANDLERS
from mockmx.web.paths import RawPathRouting
from mockmx.world import Mock

# The hottest routes first: Starlette tries them in order.
SEND_PATH = "/rooms/{room_id:segment}/send/{event_type:segment}/{txn_id:segment}"
CLIENT_ROUTES = [
    Route(SEND_PATH, send.send_message, methods=["PUT"]),
    Route("/sendToDevice/{event_type:segment}/{txn_id:segment}", to_device.send_to_device, methods=["PUT"]),
    # Encrypted clients claim and query keys as often as they send: with the hot routes, as Starlette tries in order.
    Route("/keys/claim", keys.claim, methods=["POST"]),
    Route("/keys/query", keys.query, methods=["POST"]),
    Route("/sync", sync.sync, methods=["GET"]),
    Route("/events", events.events, methods=["GET"]),
    Route("/login", session.login_flows, methods=["GET"]),
    Route("/login", session.login, methods=["POST"]),
    Route("/logout", session.logout, methods=["POST"]),
    Route("/register", register.register, methods=["POST"]),
    Route("/account/whoami", session.whoami, methods=["GET"]),
    Route("/createRoom", rooms.create_room, methods=["POST"]),
    Route("/join/{room:segment}", rooms.join, methods=["POST"]),
    Route("/rooms/{room:segment}/join", rooms.join, methods=["POST"]),
    Route("/joined_rooms", rooms.joined_rooms, methods=["GET"]),
    Route("/user/{user_id:segment}/filter", sync.create_filter, methods=["POST"]),
    Route("/pushers", pushers.get_pushers, methods=["GET"]),
    Route("/pushers/set", pushers.set_pusher, methods=["POST"]),
    # -- rooms: state, members, membership, timeline --
    Route("/rooms/{room_id:segment}/messages", messages.messages, methods=["GET"]),
    Route("/rooms/{room_id:segment}/context/{event_id:segment}", messages.context, methods=["GET"]),
    Route("/rooms/{room_id:segment}/event/{event_id:segment}", messages.get_event, methods=["GET"]),
    Route("/rooms/{room_id:segment}/redact/{event_id:segment}/{txn_id:segment}", redact.redact_event, methods=["PUT"]),
    Route("/rooms/{room:segment}/state", state.get_state, methods=["GET"]),
    Route("/rooms/{room:segment}/state/{event_type:segment}", state.get_state_event, methods=["GET"]),
    Route("/rooms/{room:segment}/state/{event_type:segment}", state.put_state_event, methods=["PUT"]),
    Route("/rooms/{room:segment}/state/{event_type:segment}/", state.get_state_event, methods=["GET"]),
    Route("/rooms/{room:segment}/state/{event_type:segment}/", state.put_state_event, methods=["PUT"]),
    Route(
        "/rooms/{room:segment}/state/{event_type:segment}/{state_key:segment}", state.get_state_event, methods=["GET"]
    ),
    Route(
        "/rooms/{room:segment}/state/{event_type:segment}/{state_key:segment}", state.put_state_event, methods=["PUT"]
    ),
    Route("/rooms/{room:segment}/members", members.members, methods=["GET"]),
    Route("/rooms/{room:segment}/joined_members", members.joined_members, methods=["GET"]),
    Route("/rooms/{room:segment}/invite", membership.invite, methods=["POST"]),
    Route("/rooms/{room:segment}/leave", membership.leave, methods=["POST"]),
    Route("/rooms/{room:segment}/forget", membership.forget, methods=["POST"]),
    Route("/rooms/{room:segment}/kick", membership.kick, methods=["POST"]),
    Route("/rooms/{room:segment}/ban", membership.ban, methods=["POST"]),
    Route("/rooms/{room:segment}/unban", membership.unban, methods=["POST"]),
    # -- accounts: start-up, profile, account data, presence, devices, registration --
    Route("/devices", devices.get_devices, methods=["GET"]),
    Route("/devices/{device_id:segment}", devices.get_device, methods=["GET"]),
    Route("/devices/{device_id:segment}", devices.put_device, methods=["PUT"]),
    Route("/devices/{device_id:segment}", devices.delete_device, methods=["DELETE"]),
    Route("/delete_devices", devices.delete_devices, methods=["POST"]),
    Route("/register/available", register.available, methods=["GET"]),
    Route("/refresh", session.refresh, methods=["POST"]),
    Route("/logout/all", session.logout_all, methods=["POST"]),
    Route("/account/password", account.change_password, methods=["POST"]),
    Route("/account/3pid", account.threepids, methods=["GET"]),
    Route("/capabilities", startup.capabilities, methods=["GET"]),
    Route("/pushrules/", push_rules.get_push_rules, methods=["GET"]),
    Route("/pushrules/global/", push_rules.get_global_push_rules, methods=["GET"]),
    Route("/pushrules/global/{kind:segment}/", push_rules.get_kind, methods=["GET"]),
    Route("/pushrules/global/{kind:segment}/{rule_id:segment}", push_rules.get_rule, methods=["GET"]),
    Route("/pushrules/global/{kind:segment}/{rule_id:segment}", push_rules.put_rule, methods=["PUT"]),
    Route("/pushrules/global/{kind:segment}/{rule_id:segment}", push_rules.delete_rule, methods=["DELETE"]),
    Route(
        "/pushrules/global/{kind:segment}/{rule_id:segment}/{attribute:segment}",
        push_rules.get_attribute,
        methods=["GET"],
    ),
    Route(
        "/pushrules/global/{kind:segment}/{rule_id:segment}/{attribute:segment}",
        push_rules.put_attribute,
        methods=["PUT"],
    ),
    Route("/notifications", notifications.notifications, methods=["GET"]),
    Route("/voip/turnServer", startup.turn_server, methods=["GET"]),
    Route("/thirdparty/protocols", startup.thirdparty_protocols, methods=["GET"]),
    Route("/user/{user_id:segment}/filter/{filter_id:segment}", sync.get_filter, methods=["GET"]),
    Route("/profile/{user_id:segment}", profile.get_profile, methods=["GET"]),
    Route("/profile/{user_id:segment}/{field:segment}", profile.get_profile_field, methods=["GET"]),
    Route("/profile/{user_id:segment}/{field:segment}", profile.set_profile_field, methods=["PUT"]),
    Route("/user/{user_id:segment}/account_data/{type:segment}", account_data.get_global, methods=["GET"]),
    Route("/user/{user_id:segment}/account_data/{type:segment}", account_data.set_global, methods=["PUT"]),
    Route(
        "/user/{user_id:segment}/rooms/{room_id:segment}/account_data/{type:segment}",
        account_data.get_room,
        methods=["GET"],
    ),
    Route(
        "/user/{user_id:segment}/rooms/{room_id:segment}/account_data/{type:segment}",
        account_data.set_room,
        methods=["PUT"],
    ),
    Route("/presence/{user_id:segment}/status", presence.get_presence, methods=["GET"]),
    Route("/presence/{user_id:segment}/status", presence.set_presence, methods=["PUT"]),
    # -- ephemeral, directory and media --
    Route("/rooms/{room_id:segment}/typing/{user_id:segment}", typing_status.set_typing, methods=["PUT"]),
    Route(
        "/rooms/{room_id:segment}/receipt/{receipt_type:segment}/{event_id:segment}",
        receipts.receipt,
        methods=["POST"],
    ),
    Route("/rooms/{room_id:segment}/read_markers", receipts.read_markers, methods=["POST"]),
    Route("/directory/room/{room_alias:segment}", directory.get_alias, methods=["GET"]),
    Route("/directory/room/{room_alias:segment}", directory.put_alias, methods=["PUT"]),
    Route("/directory/room/{room_alias:segment}", directory.delete_alias, methods=["DELETE"]),
    Route("/directory/list/room/{room_id:segment}", directory.get_visibility, methods=["GET"]),
    Route("/directory/list/room/{room_id:segment}", directory.put_visibility, methods=["PUT"]),
    Route("/publicRooms", directory.get_public_rooms, methods=["GET"]),
    Route("/publicRooms", directory.search_public_rooms, methods=["POST"]),
    Route("/user_directory/search", user_directory.search, methods=["POST"]),
    # -- encryption: keys, cross-signing, backup --
    Route("/keys/upload", keys.upload, methods=["POST"]),
    Route("/keys/changes", keys.changes, methods=["GET"]),
    Route("/keys/device_signing/upload", cross_signing.upload_signing_keys, methods=["POST"]),
    Route("/keys/signatures/upload", cross_signing.upload_key_signatures, methods=["POST"]),
    Route("/room_keys/version", room_keys.get_version, methods=["GET"]),
    Route("/room_keys/version", room_keys.create_version, methods=["POST"]),
    Route("/room_keys/version/{version:segment}", room_keys.get_version, methods=["GET"]),
    Route("/room_keys/version/{version:segment}", room_keys.update_version, methods=["PUT"]),
    Route("/room_keys/version/{version:segment}", room_keys.delete_version, methods=["DELETE"]),
    Route("/room_keys/keys", room_keys.get_keys, methods=["GET"]),
    Route("/room_keys/keys", room_keys.put_keys, methods=["PUT"]),
    Route("/room_keys/keys", room_keys.delete_keys, methods=["DELETE"]),
    Route("/room_keys/keys/{room_id:segment}", room_keys.get_keys, methods=["GET"]),
    Route("/room_keys/keys/{room_id:segment}", room_keys.put_keys, methods=["PUT"]),
    Route("/room_keys/keys/{room_id:segment}", room_keys.delete_keys, methods=["DELETE"]),
    Route("/room_keys/keys/{room_id:segment}/{session_id:segment}", room_keys.get_keys, methods=["GET"]),
    Route("/room_keys/keys/{room_id:segment}/{session_id:segment}", room_keys.put_keys, methods=["PUT"]),
    Route("/room_keys/keys/{room_id:segment}/{session_id:segment}", room_keys.delete_keys, methods=["DELETE"]),
]
# Synapse still serves these two under the pre-r0 prefix.
LEGACY_V1_ROUTES = [route for route in CLIENT_ROUTES if getattr(route, "path", "") in ("/events", SEND_PATH)]
# Endpoints the spec added under /_matrix/client/v1 alone.
CLIENT_V1_ROUTES = [
    Route("/rooms/{room_id:segment}/relations/{event_id:segment}", relations.relations, methods=["GET"]),
    Route(
        "/rooms/{room_id:segment}/relations/{event_id:segment}/{rel_type:segment}",
        relations.relations,
        methods=["GET"],
    ),
    Route(
        "/rooms/{room_id:segment}/relations/{event_id:segment}/{rel_type:segment}/{event_type:segment}",
        relations.relations,
        methods=["GET"],
    ),
]

# The content repository under its own prefixes (v3, r0, v1), where downloads need no token...
_MEDIA_FILE = "{server_name:segment}/{media_id:segment}"
MEDIA_ROUTES = [
    Route("/upload", media.upload, methods=["POST"]),
    Route(f"/upload/{_MEDIA_FILE}", media.upload_to, methods=["PUT"]),
    Route("/create", media.create, methods=["POST"]),
    Route("/config", media.config, methods=["GET"]),
    Route(f"/download/{_MEDIA_FILE}", media.legacy_download, methods=["GET"]),
    Route(f"/download/{_MEDIA_FILE}/{{file_name:segment}}", media.legacy_download, methods=["GET"]),
    Route(f"/thumbnail/{_MEDIA_FILE}", media.legacy_thumbnail, methods=["GET"]),
]
# ...and under /_matrix/client/v1/media, where they do (the spec's authenticated media).
CLIENT_MEDIA_ROUTES = [
    Route("/config", media.config, methods=["GET"]),
    Route(f"/download/{_MEDIA_FILE}", media.download, methods=["GET"]),
    Route(f"/download/{_MEDIA_FILE}/{{file_name:segment}}", media.download, methods=["GET"]),
    Route(f"/thumbnail/{_MEDIA_FILE}", media.thumbnail, methods=["GET"]),
]

# The client API's current prefix, then the push gateway's notify: the two a load test sends to.
ROUTES: list[BaseRoute] = [
    Mount("/_matrix/client/v3", routes=CLIENT_ROUTES),
    Route("/_matrix/push/v1/notify", gateway.notify, methods=["POST"]),
    Mount("/_matrix/client/r0", routes=CLIENT_ROUTES),
    Mount("/_matrix/client/api/v1", routes=LEGACY_V1_ROUTES),
    Mount("/_matrix/client/v1/media", routes=CLIENT_MEDIA_ROUTES),  # before any mount of /_matrix/client/v1
    Mount("/_matrix/media/v3", routes=MEDIA_ROUTES),
    Mount("/_matrix/media/r0", routes=MEDIA_ROUTES),
    Mount("/_matrix/media/v1", routes=MEDIA_ROUTES),
    Mount("/_matrix/client/v1", routes=CLIENT_V1_ROUTES),
    Route("/_matrix/client/versions", versions.versions, methods=["GET"]),
    Route("/.well-known/matrix/client", startup.well_known_client, methods=["GET"]),
    Route("/_matrix/client/unstable/org.matrix.msc4143/rtc/transports", startup.rtc_transports, methods=["GET"]),
    Route("/_mockmx/notifications", gateway.list_notifications, methods=["GET"]),
    Route("/_mockmx/notifications", gateway.clear_notifications, methods=["DELETE"]),
    Route("/_mockmx/pushes", push_deliveries.list_pushes, methods=["GET"]),
    Route("/_mockmx/decrypted", decrypted.list_decrypted, methods=["GET"]),
    *MOCK_CONTROL_ROUTES,  # the control API and the inspector (mockmx/api/control_routes.py)
]


def create_app(*, scenario: Scenario, journal_limit: int | None = None, control_token: str | None = None) -> Starlette:
    """A mock homeserver for `scenario`; each call is independent, so several can run in one process.

    The app's `Mock` (`hosting.hosted_as(app, Mock)`) holds the world it serves. `journal_limit` bounds the request
    journal (over the scenario's `journal_limit`); `control_token` is what the control API and the inspector ask
    for, and what they need to answer at all on a server bound beyond loopback.
    """
    mock = Mock(scenario, journal_limit=journal_limit, control_token=control_token, routes=ROUTES)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        mock.start()
        try:
            yield
        finally:
            await mock.stop()

    # The layers every request used to pass; most now take the app's direct lane instead (mockmx/control/lane.py).
    middleware = [
        Middleware(BrowserCORS),
        Middleware(ControlMiddleware, controlled=mock),  # the request journal and fault rules, the control gate
        Middleware(RawPathRouting),
    ]
    app = LaneApp(
        controlled=mock, routes=ROUTES, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan
    )
    attach(app, mock)
    return app
