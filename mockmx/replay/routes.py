"""Matrix route templates: which path segments are parameters, so that
`PUT /_matrix/client/r0/rooms/!a:hs/send/m.room.message/t1` is `/_matrix/client/v3/rooms/{roomId}/send/{eventType}/
{txnId}` with its parameters. r0 and v3 are the same endpoints, so both prefixes make the same template.

Known endpoints come from a table; any other path gets its Matrix ids (`!room`, `@user`, `$event`, `#alias`) and
its transaction id taken out as parameters, and keeps every other segment literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from mockmx.record.links import transaction_id

_PREFIX = re.compile(r"^/_matrix/(client|media)/(?:r0|v3)(?=/)")
_SIGILS = {"!": "roomId", "@": "userId", "$": "eventId", "#": "roomAlias"}

# Relative to /_matrix/client/v3 (and r0); the more specific first where two could match.
CLIENT_TEMPLATES = (
    "rooms/{roomId}/send/{eventType}/{txnId}",
    "rooms/{roomId}/redact/{eventId}/{txnId}",
    "rooms/{roomId}/state/{eventType}/{stateKey}",
    "rooms/{roomId}/state/{eventType}",
    "rooms/{roomId}/receipt/{receiptType}/{eventId}",
    "rooms/{roomId}/typing/{userId}",
    "rooms/{roomId}/event/{eventId}",
    "rooms/{roomId}/context/{eventId}",
    "rooms/{roomId}/report/{eventId}",
    "sendToDevice/{eventType}/{txnId}",
    "user/{userId}/filter/{filterId}",
    "user/{userId}/account_data/{type}",
    "user/{userId}/rooms/{roomId}/account_data/{type}",
    "user/{userId}/rooms/{roomId}/tags/{tag}",
    "profile/{userId}/{field}",
    "pushrules/{scope}/{kind}/{ruleId}/{attribute}",
    "pushrules/{scope}/{kind}/{ruleId}",
    "directory/room/{roomAlias}",
    "directory/list/room/{roomId}",
    "join/{roomIdOrAlias}",
    "knock/{roomIdOrAlias}",
    "devices/{deviceId}",
    "room_keys/keys/{roomId}/{sessionId}",
    "room_keys/keys/{roomId}",
    "room_keys/version/{version}",
)
# Relative to /_matrix/media/v3 (and r0).
MEDIA_TEMPLATES = (
    "download/{serverName}/{mediaId}/{fileName}",
    "download/{serverName}/{mediaId}",
    "thumbnail/{serverName}/{mediaId}",
    "upload/{serverName}/{mediaId}",
)

# A template as parts: a literal segment, or None for a parameter (named in the same place of `names`).
_Parts = tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class Route:
    """A path as its template and its parameters (decoded); the transaction id apart, for replay maps it."""

    template: str
    params: dict[str, str]
    txn_id: str | None = None


def _compile(templates: tuple[str, ...]) -> dict[int, list[tuple[_Parts, tuple[str, ...], str]]]:
    by_length: dict[int, list[tuple[_Parts, tuple[str, ...], str]]] = {}
    for template in templates:
        segments = template.split("/")
        parts = tuple(None if segment.startswith("{") else segment for segment in segments)
        names = tuple(segment[1:-1] for segment in segments if segment.startswith("{"))
        by_length.setdefault(len(segments), []).append((parts, names, template))
    return by_length


_TABLES = {"client": _compile(CLIENT_TEMPLATES), "media": _compile(MEDIA_TEMPLATES)}


def route(path: str) -> Route:
    """The route of `path`, as sent (percent-encoding kept, no query)."""
    prefix_match = _PREFIX.match(path)
    if prefix_match:
        prefix = f"/_matrix/{prefix_match[1]}/v3/"
        raw = path[prefix_match.end() + 1 :].split("/")
        segments = [unquote(segment) for segment in raw]
        for parts, names, template in _TABLES[prefix_match[1]].get(len(segments), ()):
            if all(part is None or part == segment for part, segment in zip(parts, segments, strict=True)):
                values = [segment for part, segment in zip(parts, segments, strict=True) if part is None]
                params = dict(zip(names, values, strict=True))
                txn_id = params.pop("txnId", None)
                return Route(prefix + template, params, txn_id)
    else:
        prefix = "/"
        raw = path.lstrip("/").split("/")
        segments = [unquote(segment) for segment in raw]
    return _fallback(prefix, raw, segments)


def _fallback(prefix: str, raw: list[str], segments: list[str]) -> Route:
    """Matrix ids and the transaction id as parameters, every other segment literal."""
    txn_id = transaction_id(["", *segments])
    rendered: list[str] = []
    params: dict[str, str] = {}
    for index, (raw_segment, segment) in enumerate(zip(raw, segments, strict=True)):
        if txn_id is not None and index == len(segments) - 1:
            rendered.append("{txnId}")
        elif segment[:1] in _SIGILS:
            name = _SIGILS[segment[0]]
            if name in params:
                name = f"{name}{sum(key.startswith(name) for key in params) + 1}"
            params[name] = segment
            rendered.append(f"{{{name}}}")
        else:
            rendered.append(raw_segment)
    return Route(prefix + "/".join(rendered), params, txn_id)
