"""The live mock against the Matrix spec: schemathesis makes requests from the spec's OpenAPI and sends them over real
HTTP. No answer may be a 5xx, every answer the spec documents must match its schema, every 4xx must be a Matrix error.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from schemathesis import Case, CheckContext, Response

from mockmx.scenario.loader import default_scenario
from mockmx.scenario.model import RoomSpec, Scenario, UserSpec
from tests.conftest import ALICE, ALICE_TOKEN, BACKSTAGE, BOB, LOBBY, LiveServer, serve
from tests.e2ee_keys import CrossSigningKeys

SPEC = Path(__file__).parents[2] / "shared" / "matrix-spec"
CLIENT_SERVER = SPEC / "merged" / "client-server.json"
ERROR_SCHEMA = SPEC / "data" / "api" / "client-server" / "definitions" / "errors" / "error.yaml"

if not CLIENT_SERVER.is_file():
    pytest.skip(f"no Matrix spec data at {CLIENT_SERVER}", allow_module_level=True)

V3 = "/_matrix/client/v3"
MEDIA = "/_matrix/media/v3"
CLIENT_MEDIA = "/_matrix/client/v1/media"
V1 = "/_matrix/client/v1"
ROOM_KEYS_TAILS = ("", "/{roomId}", "/{roomId}/{sessionId}")
BACKED_UP_SESSION = "conformance-session"  # the key `arrange_backup` keeps in alice's backup
BACKUP_ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"
# What the mock serves; the rest of the spec is dropped before schemathesis sees it.
SERVED = {
    ("GET", "/_matrix/client/versions"),
    ("GET", f"{V3}/login"),
    ("POST", f"{V3}/login"),
    ("POST", f"{V3}/logout"),
    ("GET", f"{V3}/account/whoami"),
    ("POST", f"{V3}/register"),
    ("GET", f"{V3}/sync"),
    ("GET", f"{V3}/events"),
    ("POST", f"{V3}/createRoom"),
    ("POST", f"{V3}/join/{{roomIdOrAlias}}"),
    ("POST", f"{V3}/rooms/{{roomId}}/join"),
    ("GET", f"{V3}/joined_rooms"),
    ("PUT", f"{V3}/rooms/{{roomId}}/send/{{eventType}}/{{txnId}}"),
    ("PUT", f"{V3}/sendToDevice/{{eventType}}/{{txnId}}"),
    ("PUT", f"{V3}/rooms/{{roomId}}/typing/{{userId}}"),
    ("POST", f"{V3}/rooms/{{roomId}}/receipt/{{receiptType}}/{{eventId}}"),
    ("POST", f"{V3}/rooms/{{roomId}}/read_markers"),
    ("GET", f"{V3}/directory/room/{{roomAlias}}"),
    ("PUT", f"{V3}/directory/room/{{roomAlias}}"),
    ("DELETE", f"{V3}/directory/room/{{roomAlias}}"),
    ("GET", f"{V3}/directory/list/room/{{roomId}}"),
    ("PUT", f"{V3}/directory/list/room/{{roomId}}"),
    ("GET", f"{V3}/publicRooms"),
    ("POST", f"{V3}/publicRooms"),
    ("POST", f"{V3}/user_directory/search"),
    ("POST", f"{MEDIA}/upload"),
    ("PUT", f"{MEDIA}/upload/{{serverName}}/{{mediaId}}"),
    ("POST", "/_matrix/media/v1/create"),
    ("GET", f"{MEDIA}/config"),
    ("GET", f"{MEDIA}/download/{{serverName}}/{{mediaId}}"),
    ("GET", f"{MEDIA}/download/{{serverName}}/{{mediaId}}/{{fileName}}"),
    ("GET", f"{MEDIA}/thumbnail/{{serverName}}/{{mediaId}}"),
    ("GET", f"{CLIENT_MEDIA}/config"),
    ("GET", f"{CLIENT_MEDIA}/download/{{serverName}}/{{mediaId}}"),
    ("GET", f"{CLIENT_MEDIA}/download/{{serverName}}/{{mediaId}}/{{fileName}}"),
    ("GET", f"{CLIENT_MEDIA}/thumbnail/{{serverName}}/{{mediaId}}"),
    ("GET", "/.well-known/matrix/client"),
    ("GET", f"{V3}/capabilities"),
    ("GET", f"{V3}/pushrules/"),
    ("GET", f"{V3}/pushrules/global/"),
    ("GET", f"{V3}/pushrules/global/{{kind}}/{{ruleId}}"),
    ("PUT", f"{V3}/pushrules/global/{{kind}}/{{ruleId}}"),
    ("DELETE", f"{V3}/pushrules/global/{{kind}}/{{ruleId}}"),
    ("GET", f"{V3}/pushrules/global/{{kind}}/{{ruleId}}/enabled"),
    ("PUT", f"{V3}/pushrules/global/{{kind}}/{{ruleId}}/enabled"),
    ("GET", f"{V3}/pushrules/global/{{kind}}/{{ruleId}}/actions"),
    ("PUT", f"{V3}/pushrules/global/{{kind}}/{{ruleId}}/actions"),
    ("GET", f"{V3}/notifications"),
    ("GET", f"{V3}/voip/turnServer"),
    ("GET", f"{V3}/thirdparty/protocols"),
    ("GET", f"{V3}/user/{{userId}}/filter/{{filterId}}"),
    ("POST", f"{V3}/user/{{userId}}/filter"),
    ("GET", f"{V3}/pushers"),
    ("POST", f"{V3}/pushers/set"),
    ("GET", f"{V3}/profile/{{userId}}"),
    ("GET", f"{V3}/profile/{{userId}}/{{keyName}}"),
    ("PUT", f"{V3}/profile/{{userId}}/{{keyName}}"),
    ("GET", f"{V3}/user/{{userId}}/account_data/{{type}}"),
    ("PUT", f"{V3}/user/{{userId}}/account_data/{{type}}"),
    ("GET", f"{V3}/user/{{userId}}/rooms/{{roomId}}/account_data/{{type}}"),
    ("PUT", f"{V3}/user/{{userId}}/rooms/{{roomId}}/account_data/{{type}}"),
    ("GET", f"{V3}/presence/{{userId}}/status"),
    ("PUT", f"{V3}/presence/{{userId}}/status"),
    ("GET", f"{V3}/rooms/{{roomId}}/state"),
    ("GET", f"{V3}/rooms/{{roomId}}/state/{{eventType}}/{{stateKey}}"),
    ("PUT", f"{V3}/rooms/{{roomId}}/state/{{eventType}}/{{stateKey}}"),
    ("GET", f"{V3}/rooms/{{roomId}}/members"),
    ("GET", f"{V3}/rooms/{{roomId}}/joined_members"),
    ("POST", f"{V3}/rooms/{{roomId}}/invite"),
    ("POST", f"{V3}/rooms/{{roomId}}/leave"),
    ("POST", f"{V3}/rooms/{{roomId}}/forget"),
    ("POST", f"{V3}/rooms/{{roomId}}/kick"),
    ("POST", f"{V3}/rooms/{{roomId}}/ban"),
    ("POST", f"{V3}/rooms/{{roomId}}/unban"),
    ("GET", f"{V3}/rooms/{{roomId}}/messages"),
    ("GET", f"{V3}/rooms/{{roomId}}/context/{{eventId}}"),
    ("GET", f"{V3}/rooms/{{roomId}}/event/{{eventId}}"),
    ("PUT", f"{V3}/rooms/{{roomId}}/redact/{{eventId}}/{{txnId}}"),
    ("GET", f"{V1}/rooms/{{roomId}}/relations/{{eventId}}"),
    ("GET", f"{V1}/rooms/{{roomId}}/relations/{{eventId}}/{{relType}}"),
    ("GET", f"{V1}/rooms/{{roomId}}/relations/{{eventId}}/{{relType}}/{{eventType}}"),
    ("GET", f"{V3}/devices"),
    ("GET", f"{V3}/devices/{{deviceId}}"),
    ("PUT", f"{V3}/devices/{{deviceId}}"),
    ("DELETE", f"{V3}/devices/{{deviceId}}"),
    ("POST", f"{V3}/delete_devices"),
    ("GET", f"{V3}/register/available"),
    ("POST", f"{V3}/refresh"),
    ("POST", f"{V3}/logout/all"),
    ("GET", f"{V3}/account/3pid"),
    ("POST", f"{V3}/account/password"),
    ("POST", f"{V3}/keys/upload"),
    ("POST", f"{V3}/keys/query"),
    ("POST", f"{V3}/keys/claim"),
    ("GET", f"{V3}/keys/changes"),
    ("POST", f"{V3}/keys/device_signing/upload"),
    ("POST", f"{V3}/keys/signatures/upload"),
    ("GET", f"{V3}/room_keys/version"),
    ("POST", f"{V3}/room_keys/version"),
    ("GET", f"{V3}/room_keys/version/{{version}}"),
    ("PUT", f"{V3}/room_keys/version/{{version}}"),
    ("DELETE", f"{V3}/room_keys/version/{{version}}"),
    *((method, f"{V3}/room_keys/keys{tail}") for method in ("GET", "PUT", "DELETE") for tail in ROOM_KEYS_TAILS),
}
RELATIONS = [
    f"{V1}/rooms/{{roomId}}/relations/{{eventId}}",
    f"{V1}/rooms/{{roomId}}/relations/{{eventId}}/{{relType}}",
    f"{V1}/rooms/{{roomId}}/relations/{{eventId}}/{{relType}}/{{eventType}}",
]
# Opaque strings to the spec. Given a format of our own, some of them are tokens and filters the mock understands,
# so that incremental syncs and timeline limits get checked too. A format only annotates: the schema accepts the same.
OPAQUE_PARAMETERS = [
    (f"{V3}/sync", "since", "mockmx-stream-token"),
    (f"{V3}/events", "from", "mockmx-stream-token"),
    (f"{V3}/sync", "filter", "mockmx-filter"),
    (f"{V3}/rooms/{{roomId}}/members", "at", "mockmx-stream-token"),
    (f"{V3}/rooms/{{roomId}}/state/{{eventType}}/{{stateKey}}", "eventType", "mockmx-state-type"),
    (f"{V3}/rooms/{{roomId}}/state/{{eventType}}/{{stateKey}}", "stateKey", "mockmx-state-key"),
    (f"{V3}/rooms/{{roomId}}/messages", "from", "mockmx-stream-token"),
    (f"{V3}/rooms/{{roomId}}/messages", "to", "mockmx-stream-token"),
    (f"{V3}/rooms/{{roomId}}/messages", "filter", "mockmx-room-event-filter"),
    # The spec gives these two no format.
    (f"{V3}/rooms/{{roomId}}/context/{{eventId}}", "roomId", "mx-room-id"),
    (f"{V3}/rooms/{{roomId}}/context/{{eventId}}", "eventId", "mx-event-id"),
    (f"{V3}/rooms/{{roomId}}/context/{{eventId}}", "filter", "mockmx-room-event-filter"),
    *((path, name, "mockmx-stream-token") for path in RELATIONS for name in ("from", "to")),
    (RELATIONS[1], "relType", "mockmx-rel-type"),
    (RELATIONS[2], "relType", "mockmx-rel-type"),
    (f"{V3}/keys/changes", "from", "mockmx-stream-token"),
    (f"{V3}/keys/changes", "to", "mockmx-stream-token"),
]
DOWNLOADS = [  # the spec gives their media ids no format
    f"{prefix}/download/{{serverName}}/{{mediaId}}{end}"
    for prefix in (MEDIA, CLIENT_MEDIA)
    for end in ("", "/{fileName}")
]
# Ids the spec types as plain strings, given the spec's own formats for every method of the path, so that some
# requests name users and rooms the mock knows (the uploaded filter is the filter id's example, below).
ID_PARAMETERS = [
    (f"{V3}/user/{{userId}}/account_data/{{type}}", "userId", "mx-user-id"),
    (f"{V3}/user/{{userId}}/rooms/{{roomId}}/account_data/{{type}}", "userId", "mx-user-id"),
    (f"{V3}/user/{{userId}}/rooms/{{roomId}}/account_data/{{type}}", "roomId", "mx-room-id"),
    (f"{V3}/presence/{{userId}}/status", "userId", "mx-user-id"),
    (f"{V3}/user/{{userId}}/filter", "userId", "mx-user-id"),
    (f"{V3}/devices/{{deviceId}}", "deviceId", "mockmx-device-id"),
    (f"{V3}/user/{{userId}}/account_data/{{type}}", "type", "mockmx-account-data-type"),
    (f"{V3}/user/{{userId}}/rooms/{{roomId}}/account_data/{{type}}", "type", "mockmx-account-data-type"),
    (f"{V3}/rooms/{{roomId}}/read_markers", "roomId", "mx-room-id"),
    *((path, "mediaId", "mockmx-file-media-id") for path in DOWNLOADS),
    (f"{MEDIA}/thumbnail/{{serverName}}/{{mediaId}}", "mediaId", "mockmx-image-media-id"),
    (f"{CLIENT_MEDIA}/thumbnail/{{serverName}}/{{mediaId}}", "mediaId", "mockmx-image-media-id"),
    (f"{MEDIA}/upload/{{serverName}}/{{mediaId}}", "mediaId", "mockmx-pending-media-id"),
    (f"{V3}/room_keys/version/{{version}}", "version", "mockmx-backup-version"),
    *((f"{V3}/room_keys/keys{tail}", "version", "mockmx-backup-version") for tail in ROOM_KEYS_TAILS),
    *((f"{V3}/room_keys/keys{tail}", "roomId", "mx-room-id") for tail in ROOM_KEYS_TAILS[1:]),
    (f"{V3}/room_keys/keys/{{roomId}}/{{sessionId}}", "sessionId", "mockmx-backup-session"),
]
COMMON_ERROR_STATUSES = ("400", "401", "403", "404", "429")
# How the mock may refuse a request that does not fit the spec: the common errors, and 413 for a body too large.
REFUSALS = [*COMMON_ERROR_STATUSES, "413"]
# Operations that take some requests the spec's schema does not, as Synapse takes them (the spec says what a request
# is, not that a server must refuse every other): the negative-data check is off for them alone, each for its reason.
AS_LENIENT_AS_SYNAPSE = {
    ("GET", f"{V3}/sync"): "`use_state_after` is ignored: Synapse reads only its unstable name, and the mock neither",
    ("POST", f"{V3}/login"): "the legacy `user` beside an `identifier` is ignored, as Synapse reads the identifier",
    ("POST", f"{V3}/register"): "a guest's registration ignores the account fields (`username`...), as Synapse's",
    ("POST", f"{V3}/createRoom"): "any `visibility` but public is private, as Synapse reads it",
    ("POST", f"{V3}/publicRooms"): "null for `third_party_instance_id` is its absence, as in Synapse",
    ("POST", f"{V3}/join/{{roomIdOrAlias}}"): "neither `via` nor `third_party_signed` is checked for form, as Synapse",
    ("POST", f"{V3}/rooms/{{roomId}}/join"): "no body is an empty one (Synapse: `allow_empty_body`)",
    ("POST", f"{V3}/rooms/{{roomId}}/leave"): "no body is an empty one (Synapse: `allow_empty_body`)",
    ("POST", f"{V3}/rooms/{{roomId}}/forget"): "forgetting a room one was never in succeeds, as in Synapse",
    ("POST", f"{V3}/keys/claim"): "the body's `timeout` is ignored, as Synapse ignores it",
    ("POST", f"{V3}/keys/query"): "the body's `timeout` is ignored, as Synapse ignores it",
    ("POST", f"{V3}/keys/upload"): "null `device_keys` is no keys, as Synapse's request model reads it",
    ("GET", f"{V3}/room_keys/keys/{{roomId}}"): "a room id's form is not checked: an unknown room has no keys",
    ("POST", f"{MEDIA}/upload"): "an upload without a body is a file of no bytes, as in Synapse",
    ("POST", f"{V3}/pushers/set"): "null for `profile_tag` is taken as it comes, as Synapse takes it",
    **{
        ("POST", f"{V3}/rooms/{{roomId}}/{action}"): "`reason` goes into the member event as it comes, as Synapse's"
        for action in ("invite", "kick", "ban", "unban")
    },
}
SEEDED_ACCOUNT_DATA = "org.example.seeded"
SEED = 1721
EXAMPLES_PER_OPERATION = 25
# A quiet mock has no news for a long poll, which then waits out its whole `timeout`; a short wait takes that path too.
MAX_LONG_POLL_MS = 20
ALICE_LOGIN: dict[str, Any] = {
    "type": "m.login.password",
    "identifier": {"type": "m.id.user", "user": "alice"},
    "password": "alice-pass",
}


def served_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec`, changed in place: narrowed to what the mock serves, the data's quirks fixed (SOURCE.md beside it)."""
    # The guest/peek variant of /events, spelled with a trailing space so that it can stand beside the old stream.
    del spec["paths"][f"{V3}/events "]
    # Likewise the invite by user id beside the third-party one, which the mock does not serve: it takes the path.
    spec["paths"][f"{V3}/rooms/{{roomId}}/invite"] = spec["paths"].pop(f"{V3}/rooms/{{roomId}}/invite ")
    paths: dict[str, dict[str, Any]] = {}
    for method, path in sorted(SERVED):
        paths.setdefault(path, {})[method.lower()] = spec["paths"][path][method.lower()]
    spec["paths"] = paths
    del spec["servers"]  # matrix.org: every request goes to the live mock instead
    for path, name, string_format in OPAQUE_PARAMETERS:
        (parameter,) = (p for p in paths[path]["get"]["parameters"] if p["name"] == name)
        parameter["schema"]["format"] = string_format
    for path, name, string_format in ID_PARAMETERS:
        for operation in paths[path].values():
            (parameter,) = (p for p in operation["parameters"] if p["name"] == name)
            parameter["schema"]["format"] = string_format
    # The filter the `live` fixture uploads, as the parameter's example rather than a format of ours: negative
    # generation takes any string for one that breaks a custom format, and "0", the string Hypothesis draws
    # most, is this filter's id: a request schemathesis calls invalid that the mock rightly answers.
    (parameter,) = (
        p for p in paths[f"{V3}/user/{{userId}}/filter/{{filterId}}"]["get"]["parameters"] if p["name"] == "filterId"
    )
    parameter["example"] = "0"
    common_errors(paths)
    # The spec has no answer for a server without TURN; Synapse's, which clients take to mean "none", is `{}`.
    turn = paths[f"{V3}/voip/turnServer"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    del turn["required"]
    return spec


def common_errors(paths: dict[str, dict[str, Any]]) -> None:
    """The statuses of the errors the spec says any endpoint may answer ("Common error codes": M_BAD_JSON and
    M_NOT_JSON 400, M_MISSING_TOKEN and M_UNKNOWN_TOKEN 401, M_FORBIDDEN 403, M_NOT_FOUND and M_UNRECOGNIZED 404,
    M_LIMIT_EXCEEDED 429), documented on every operation that leaves them out, so that the status-code check flags
    only the others."""
    error = {"application/json": {"schema": yaml.safe_load(ERROR_SCHEMA.read_text(encoding="utf-8"))}}
    for operation in (operation for methods in paths.values() for operation in methods.values()):
        for status in COMMON_ERROR_STATUSES:
            operation["responses"].setdefault(status, {"description": "A common error.", "content": error})


def identifiers(sigil: str, known: list[str]) -> st.SearchStrategy[str]:
    """Ids the scenario knows, so that requests reach real rooms and users, or any well-formed id."""
    made_up = st.from_regex(rf"\A{sigil}[a-z0-9._=-]{{1,12}}:(localhost|example\.org)\Z")
    return st.one_of(st.sampled_from(known), made_up)


# The spec's string formats (string-formats.yaml), which schemathesis would otherwise fill with any string, and ours.
# The registry is global, which is harmless while this module is the suite's only schemathesis user.
schemathesis.openapi.format("mx-user-id", identifiers("@", [ALICE, BOB]))
schemathesis.openapi.format("mx-room-id", identifiers("!", [LOBBY, BACKSTAGE]))
schemathesis.openapi.format("mx-room-alias", identifiers("#", ["#lobby:localhost", "#backstage:localhost"]))
schemathesis.openapi.format("mx-server-name", st.sampled_from(["localhost", "example.org"]))
stream_tokens = st.builds("s{}_{}".format, st.integers(0, 80), st.integers(0, 8))
schemathesis.openapi.format("mockmx-stream-token", st.one_of(stream_tokens, st.text(max_size=20)))
timeline_filters = st.builds(lambda limit: json.dumps({"room": {"timeline": {"limit": limit}}}), st.integers(0, 5))
schemathesis.openapi.format("mockmx-filter", st.one_of(timeline_filters, st.text(max_size=20)))
schemathesis.openapi.format(
    "mockmx-device-id", st.one_of(st.sampled_from(["ALICEDEV", "BOBPHONE"]), st.text(max_size=12))
)
account_data_types = st.sampled_from([SEEDED_ACCOUNT_DATA, "m.push_rules", "m.fully_read"])
schemathesis.openapi.format("mockmx-account-data-type", st.one_of(account_data_types, st.text(max_size=20)))
# Path parameters are never empty, so the state the rooms have under a non-empty key: their members.
schemathesis.openapi.format("mockmx-state-type", st.one_of(st.just("m.room.member"), st.text(max_size=20)))
schemathesis.openapi.format("mockmx-state-key", st.one_of(st.sampled_from([ALICE, BOB]), st.text(max_size=20)))
# Events the live mock holds, known once it runs (`seed_events`), so that operations naming an event reach real ones.
EVENT_IDS: list[str] = []
known_events = st.builds(lambda i: EVENT_IDS[i % len(EVENT_IDS)] if EVENT_IDS else "$unknown", st.integers(0, 63))
made_up_events = st.from_regex(r"\A\$[A-Za-z0-9_-]{1,43}\Z")
schemathesis.openapi.format("mx-event-id", st.one_of(known_events, made_up_events))
event_types = st.lists(st.sampled_from(["m.room.*", "m.room.message", "m.reaction", "m.room.member"]), max_size=2)
room_event_filters = st.builds(
    lambda types, lazy: json.dumps({"types": types, "lazy_load_members": lazy}), event_types, st.booleans()
)
schemathesis.openapi.format("mockmx-room-event-filter", st.one_of(room_event_filters, st.text(max_size=20)))
schemathesis.openapi.format("mockmx-rel-type", st.one_of(st.sampled_from(["m.annotation", "m.replace"]), st.text()))
# "current" stands for alice's newest backup version, which `arrange_backup` makes sure exists and puts in its place.
schemathesis.openapi.format("mockmx-backup-version", st.one_of(st.just("current"), st.text(max_size=6)))
schemathesis.openapi.format("mockmx-backup-session", st.one_of(st.just(BACKED_UP_SESSION), st.text(max_size=12)))

# Media the live mock holds (`seed_media`): a file to download, an image to thumbnail, ids created to upload to.
MEDIA_IDS: dict[str, list[str]] = {"file": [], "image": [], "pending": []}


def media_ids(kind: str) -> st.SearchStrategy[str]:
    """One of the seeded media ids of `kind`, or a made-up one."""
    seeded = MEDIA_IDS[kind]
    known = st.builds(lambda i: seeded[i % len(seeded)] if seeded else "unknown", st.integers(0, 63))
    return st.one_of(known, st.from_regex(r"\A[A-Za-z0-9_-]{1,24}\Z"))


for media_kind in MEDIA_IDS:
    schemathesis.openapi.format(f"mockmx-{media_kind}-media-id", media_ids(media_kind))


# `apply_to` is attached to the hook registry at run time, where mypy cannot see it.
@schemathesis.hook.apply_to(method="PUT", path=f"{V3}/profile/{{userId}}/{{keyName}}")  # type: ignore[attr-defined,untyped-decorator]
def flatmap_case(context: schemathesis.HookContext, case: Case[Any]) -> st.SearchStrategy[Case[Any]]:
    """Half the profile updates are ones alice may make: the spec's body schema is any object, which almost never
    holds the field the path names, so that without these the 2xx answers would go unchecked."""
    values = {"displayname": st.text(max_size=40), "avatar_url": st.just("mxc://localhost/conformance")}
    own = st.sampled_from(sorted(values)).flatmap(
        lambda key: values[key].map(
            lambda value: case.operation.Case(path_parameters={"userId": ALICE, "keyName": key}, body={key: value})
        )
    )
    return st.one_of(st.just(case), own)


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "deterministic": True,
            "database": "none",
            "max-examples": EXAMPLES_PER_OPERATION,
            "mode": "all",  # requests that fit the spec, and ones that do not, which must be refused
            # The test sends alice's token with every request; generated tokens would only ever be refused.
            "with-security-parameters": False,
        },
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            # Against the spec's statuses and the common errors it allows everywhere (`common_errors`).
            "status_code_conformance": {"enabled": True},
            "negative_data_rejection": {"enabled": True, "expected-statuses": REFUSALS},
        },
        "phases": {"stateful": {"enabled": False}},
        "request-timeout": 10,
        "operations": [
            # One filter by name ("POST /path"): a method and a path given apart would each match on their own.
            {"include-name": f"{method} {path}", "checks": {"negative_data_rejection": {"enabled": False}}}
            for method, path in sorted(AS_LENIENT_AS_SYNAPSE)
        ],
    }
)
schema = schemathesis.openapi.from_dict(
    served_spec(json.loads(CLIENT_SERVER.read_text(encoding="utf-8"))), config=CONFIG
)


def _error_validator() -> Draft202012Validator:
    error = yaml.safe_load(ERROR_SCHEMA.read_text(encoding="utf-8"))
    # The spec requires only `errcode`; homeservers also say what went wrong, and clients show it.
    error["required"] = sorted({*error["required"], "error"})
    return Draft202012Validator(error)


MATRIX_ERROR = _error_validator()


def matrix_error_body(ctx: CheckContext, response: Response, case: Case[Any]) -> None:
    """Every 4xx is a Matrix error object, whether or not the spec documents that status for the operation."""
    if not 400 <= response.status_code < 500:
        return
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} answer is not JSON: {response.content[:200]!r}") from None
    if response.status_code == 401 and isinstance(body, dict) and "flows" in body and "errcode" not in body:
        return  # User-Interactive Authentication asking for a stage: the spec's auth response, with no error in it
    problems = [f"{'.'.join(map(str, e.absolute_path)) or 'body'}: {e.message}" for e in MATRIX_ERROR.iter_errors(body)]
    assert not problems, f"{response.status_code} answer is not a Matrix error ({'; '.join(problems)}): {body!r}"


def conformance_scenario() -> Scenario:
    """The default world, plus the user and the rooms the spec's own examples name, so that the examples log in and
    reach rooms alice is in; every room public, so that alice can come back to one she left (see `rejoin`)."""
    scenario = default_scenario()
    monkey = UserSpec(f"@cheeky_monkey:{scenario.server_name}", password="ilovebananas")
    examples = tuple(RoomSpec(room_id, creator=ALICE, members=(ALICE,)) for room_id in EXAMPLE_ROOMS)
    rooms = tuple(dataclasses.replace(room, join_rule="public") for room in (*scenario.rooms, *examples))
    return dataclasses.replace(scenario, users=(*scenario.users, monkey), rooms=rooms)


# The room ids in the examples of the state, members and membership operations.
EXAMPLE_ROOMS = ("!636q39766251:example.com", "!d41d8cd:matrix.org", "!nkl290a:matrix.org", "!e42d8c:matrix.org")


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """One mock for the module, so that what one operation made (rooms, messages) shows in the others' answers."""
    with serve(conformance_scenario()) as server:
        EVENT_IDS[:] = seed_events(server)
        seed_account(server)
        seed_media(server)
        yield server


def seed_media(live: LiveServer) -> None:
    """A file and an image of alice's, and two media ids she created to upload to, for the media operations."""
    with live.client(ALICE_TOKEN) as alice:
        file = alice.post(f"{MEDIA}/upload", content=b"seed", headers={"Content-Type": "application/octet-stream"})
        image = alice.post(f"{MEDIA}/upload", content=b"\x89PNG\r\n\x1a\n", headers={"Content-Type": "image/png"})
        created = [alice.post("/_matrix/media/v1/create") for _ in range(2)]
    for kind, answers in (("file", [file]), ("image", [image]), ("pending", created)):
        for r in answers:
            assert r.status_code == 200, r.text
        MEDIA_IDS[kind][:] = [r.json()["content_uri"].rsplit("/", 1)[1] for r in answers]


def seed_events(live: LiveServer) -> list[str]:
    """A message in the lobby with a reaction and an edit: events for the operations that name one to act on."""
    room = f"{V3}/rooms/{LOBBY}/send"
    with live.client(ALICE_TOKEN) as client:
        message = client.put(f"{room}/m.room.message/seed-1", json={"msgtype": "m.text", "body": "seed"})
        parent = message.json()["event_id"]
        reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": parent, "key": "+1"}}
        edit = {"msgtype": "m.text", "body": "* seed", "m.new_content": {"msgtype": "m.text", "body": "seed"}}
        edit["m.relates_to"] = {"rel_type": "m.replace", "event_id": parent}
        related = [
            client.put(f"{room}/m.reaction/seed-2", json=reaction),
            client.put(f"{room}/m.room.message/seed-3", json=edit),
        ]
    return [parent, *(r.json()["event_id"] for r in related)]


def seed_account(live: LiveServer) -> None:
    """Filter "0" and account data of alice's, global and in the lobby, for the operations that read them back."""
    with live.client(ALICE_TOKEN) as alice:
        uploaded = alice.post(f"{V3}/user/{ALICE}/filter", json={"room": {"timeline": {"limit": 5}}})
        assert uploaded.json() == {"filter_id": "0"}, uploaded.text
        for path in (f"/user/{ALICE}", f"/user/{ALICE}/rooms/{LOBBY}"):
            r = alice.put(f"{V3}{path}/account_data/{SEEDED_ACCOUNT_DATA}", json={"seeded": True})
            assert r.status_code == 200, r.text


@dataclass
class Tally:
    """What one operation's requests got: statuses, and how many of them failed a check."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0


@pytest.fixture
def tally() -> Iterator[Tally]:
    """An operation whose requests never succeeded has had only its error paths checked: that fails it too."""
    seen = Tally()
    yield seen
    if seen.statuses and not seen.failures and not any(200 <= status < 300 for status in seen.statuses):
        pytest.fail(f"no generated request succeeded, statuses {dict(seen.statuses)}: the 2xx answers went unchecked")


@schema.parametrize()
# `tally` is meant to outlive one input: it adds up all of one operation's.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_operation_conforms(case: Case[Any], live: LiveServer, tally: Tally) -> None:
    token = ALICE_TOKEN
    if case.operation.path == f"{V3}/logout":
        token = fresh_token(live)  # alice-token has to outlive the run
    if (case.method, case.operation.path) in OWN_USER:
        token = own_user(live, case)
    if case.operation.path == f"{V3}/refresh" and case.body == {"refresh_token": "some_token"}:
        case.body = {"refresh_token": fresh_refresh_token(live)}  # the spec's example request, made real
    if isinstance(case.query, dict) and "timeout" in case.query:
        case.query["timeout"] = short_timeout(case.query["timeout"])
    if "{txnId}" in case.operation.path and not _fits_the_spec(case) and isinstance(case.path_parameters, dict):
        # A txnId used before gets its first answer back, whatever the body (as in Synapse): a new one, so that
        # the request that does not fit is read.
        case.path_parameters["txnId"] = f"misfit-{next(MISFIT_TXNS)}"
    arrange_membership(live, case)
    arrange_backup(live, case)
    arrange_push_rule(live, case)
    if case.operation.path == f"{V3}/keys/device_signing/upload":
        token = cross_signing_upload(live, case)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        response = case.call(base_url=live.url, headers=headers)
        tally.statuses[response.status_code] += 1
        case.validate_response(response, headers=headers, additional_checks=[matrix_error_body])
    except BaseException:  # schemathesis reports failed checks as a BaseExceptionGroup
        tally.failures += 1
        raise
    finally:
        if case.operation.path in MAY_TAKE_ALICE_OUT:
            rejoin(live)
        if case.method == "DELETE" and case.operation.path == f"{V3}/directory/room/{{roomAlias}}":
            restore_aliases(live)
        if case.operation.path == f"{V3}/pushers/set":
            remove_pushers(live)


MISFIT_TXNS = itertools.count()


def remove_pushers(live: LiveServer) -> None:
    """alice's pushers, set by a case, removed: the mock would push to the spec's example gateways for every send."""
    with live.client(ALICE_TOKEN) as client:
        r = client.get(f"{V3}/pushers")
        assert r.status_code == 200, r.text
        for pusher in r.json()["pushers"]:
            gone = {"app_id": pusher["app_id"], "pushkey": pusher["pushkey"], "kind": None}
            assert client.post(f"{V3}/pushers/set", json=gone).status_code == 200


# A leave, a kick of herself or her own member event set to leave: alice rejoins, so later requests find her in.
MAY_TAKE_ALICE_OUT = {f"{V3}/rooms/{{roomId}}/{end}" for end in ("leave", "kick", "state/{eventType}/{stateKey}")}


def rejoin(live: LiveServer) -> None:
    with live.client(ALICE_TOKEN) as client:
        for room_id in (LOBBY, BACKSTAGE, *EXAMPLE_ROOMS):
            r = client.post(f"{V3}/rooms/{quote(room_id, safe='')}/join", json={})
            assert r.status_code == 200, r.text


# What a kick and an unban need first, for the user and room a case names: someone to kick (invited, once any ban
# is lifted), someone banned to unban. alice arranges it; the case's own request is the one checked.
ARRANGEMENTS = {"kick": ("unban", "invite"), "unban": ("ban",)}


def arrange_membership(live: LiveServer, case: Case[Any]) -> None:
    steps = ARRANGEMENTS.get(case.operation.path.rsplit("/", 1)[-1], ())
    user_id = case.body.get("user_id") if isinstance(case.body, dict) else None
    room_id = (case.path_parameters or {}).get("roomId")
    if steps and isinstance(user_id, str) and isinstance(room_id, str):
        with live.client(ALICE_TOKEN) as client:
            for step in steps:
                client.post(f"{V3}/rooms/{quote(unquote(room_id), safe='')}/{step}", json={"user_id": user_id})


def arrange_push_rule(live: LiveServer, case: Case[Any]) -> None:
    """For the operations on one push rule of alice's: that rule, made first when the case names a kind and an id a
    user may make (a server-default `.m.rule...` id names one that is always there)."""
    if "/pushrules/global/{kind}/{ruleId}" not in case.operation.path or case.method == "PUT":
        return
    parameters = case.path_parameters or {}
    kind, rule_id = parameters.get("kind"), parameters.get("ruleId")
    if not isinstance(kind, str) or not isinstance(rule_id, str) or rule_id.startswith("."):
        return
    body = {"actions": ["notify"], "pattern": "seed", "conditions": []}
    with live.client(ALICE_TOKEN) as client:
        client.put(f"{V3}/pushrules/global/{quote(kind, safe='')}/{quote(rule_id, safe='')}", json=body)


def arrange_backup(live: LiveServer, case: Case[Any]) -> None:
    """For the key backup operations: a backup of alice's with a key in the lobby, and its version in place of a
    generated "current"."""
    if "/room_keys/" not in case.operation.path:
        return
    with live.client(ALICE_TOKEN) as client:
        r = client.get(f"{V3}/room_keys/version")
        if r.status_code == 404:
            r = client.post(f"{V3}/room_keys/version", json={"algorithm": BACKUP_ALGORITHM, "auth_data": {}})
            assert r.status_code == 200, r.text
            r = client.get(f"{V3}/room_keys/version")
        version = r.json()["version"]
        key = {"first_message_index": 0, "forwarded_count": 0, "is_verified": False, "session_data": {}}
        r = client.put(f"{V3}/room_keys/keys/{LOBBY}/{BACKED_UP_SESSION}", params={"version": version}, json=key)
        assert r.status_code == 200, r.text
    for parameters in (case.query, case.path_parameters):
        if isinstance(parameters, dict) and parameters.get("version") == "current":
            parameters["version"] = version


def cross_signing_upload(live: LiveServer, case: Case[Any]) -> str:
    """A new user for each cross-signing upload (a first upload needs no password); the spec's example request
    (keys of @alice:example.com) made real as that user's own, properly signed keys."""
    with live.client() as anon:
        r = anon.post(f"{V3}/register", json={"password": "pass", "auth": {"type": "m.login.dummy"}})
    assert r.status_code == 200, r.text
    master = case.body.get("master_key") if isinstance(case.body, dict) else None
    if isinstance(master, dict) and master.get("user_id") == "@alice:example.com":
        case.body = CrossSigningKeys(r.json()["user_id"]).upload_body()
    token: str = r.json()["access_token"]
    return token


# Operations that end sessions, or that take a password through User-Interactive Authentication (which they may then
# change): each case runs as a user of its own, so that alice's token and password outlive the run.
OWN_USER = {
    ("DELETE", f"{V3}/devices/{{deviceId}}"),
    ("POST", f"{V3}/delete_devices"),
    ("POST", f"{V3}/account/password"),
    ("POST", f"{V3}/logout/all"),
}


def own_user(live: LiveServer, case: Case[Any]) -> str:
    """The token of a newly registered user. A generated `auth` that names a session is replaced by that user's
    password, so that some requests get through; the others meet the challenge or fail a stage."""
    with live.client() as anon:
        r = anon.post(f"{V3}/register", json={"password": "pass", "auth": {"type": "m.login.dummy"}})
    assert r.status_code == 200, r.text
    auth = case.body.get("auth") if isinstance(case.body, dict) else None
    # Only in a request that fits the spec: one that does not has to meet the refusal it asks for.
    if isinstance(auth, dict) and "session" in auth and _fits_the_spec(case):
        identifier = {"type": "m.id.user", "user": r.json()["user_id"]}
        case.body["auth"] = {"type": "m.login.password", "identifier": identifier, "password": "pass"}
    token: str = r.json()["access_token"]
    return token


def _fits_the_spec(case: Case[Any]) -> bool:
    return case.meta is None or case.meta.generation.mode.is_positive


def fresh_refresh_token(live: LiveServer) -> str:
    """A refresh token from a login of alice's that asks for one."""
    login = schema[f"{V3}/login"]["POST"].Case(body={**ALICE_LOGIN, "refresh_token": True})
    response = login.call_and_validate(base_url=live.url, additional_checks=[matrix_error_body])
    assert response.status_code == 200, response.text
    token: str = response.json()["refresh_token"]
    return token


def restore_aliases(live: LiveServer) -> None:
    """The scenario's aliases, back after a deletion, so that later requests to resolve them find them."""
    with live.client(ALICE_TOKEN) as client:
        for alias, room_id in (("#lobby:localhost", LOBBY), ("#backstage:localhost", BACKSTAGE)):
            r = client.put(f"{V3}/directory/room/{quote(alias, safe='')}", json={"room_id": room_id})
            assert r.status_code in (200, 409), r.text  # 409: it was still there


def short_timeout(timeout: Any) -> Any:
    try:
        return min(int(timeout), MAX_LONG_POLL_MS)
    except (TypeError, ValueError):
        return timeout  # not a number: the mock has to refuse it, and the checks see how


def fresh_token(live: LiveServer) -> str:
    """A token for a new device of alice's, from a login whose answer is checked like any other."""
    login = schema[f"{V3}/login"]["POST"].Case(body=ALICE_LOGIN)
    response = login.call_and_validate(base_url=live.url, additional_checks=[matrix_error_body])
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _needs_token(method: str, path: str) -> bool:
    security = schema.raw_schema["paths"][path][method.lower()].get("security", [])
    return bool(security) and {} not in security  # `{}` among the choices makes the token optional


@pytest.mark.parametrize(("token", "errcode"), [(None, "M_MISSING_TOKEN"), ("no-such-token", "M_UNKNOWN_TOKEN")])
@pytest.mark.parametrize(("method", "path"), sorted(op for op in SERVED if _needs_token(*op)))
def test_missing_or_unknown_token_is_a_matrix_401(
    live: LiveServer, method: str, path: str, token: str | None, errcode: str
) -> None:
    with live.client(token) as client:
        r = client.request(method, re.sub(r"\{\w+\}", "x", path))
    assert r.status_code == 401, r.text
    body = r.json()
    assert not list(MATRIX_ERROR.iter_errors(body)), body
    assert body["errcode"] == errcode, body
