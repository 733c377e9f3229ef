"""What ties flows together, for replay to map ids and tokens: transaction ids, the ids and stream tokens a response
introduced, the tokens a request passed back (and which earlier flow returned each), the event ids a flow mentions.

A token can only be passed back after the flow that returned it has completed, so `passed` names that flow as the
flow is written. An event id can show up (in a sync, or a push) before the send that created it has completed, so
`events` lists the ids only; `Recording.returned_by` finds the flow that introduced each one, once the file is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote

from mockmx.jsonpath import render_path
from mockmx.record.model import Leg

# Top-level response fields that introduce an id or a stream token later requests may carry.
RETURNED_FIELDS = ("event_id", "room_id", "filter_id", "next_batch", "prev_batch", "start", "end", "next_token")
# Query parameters that pass a stream token (or a filter id) back.
PASSED_PARAMS = ("since", "from", "to", "filter")
# Keys whose string values are event ids, wherever they stand in a body.
EVENT_ID_KEYS = frozenset({"event_id", "redacts", "replaces_state"})


class Linker:
    """Computes the `links` of each flow in recording order, remembering the tokens earlier flows returned."""

    def __init__(self, returned: Mapping[str, int] | None = None) -> None:
        """`returned`: the ids and tokens earlier flows returned, and the first flow that did (a recording
        continued)."""
        self._returned: dict[str, int] = dict(returned or {})

    def links(self, entry: dict[str, Any]) -> dict[str, Any]:
        """The links of `entry` (a flow with its `id`), empty when it has none; remembers what it returned."""
        links: dict[str, Any] = {}
        request, response = entry["request"], entry.get("response")
        segments = [unquote(segment) for segment in request["path"].split("/")]
        if txn_id := transaction_id(segments):
            links["txn_id"] = txn_id
        returned = returned_values(response) if entry["leg"] == Leg.CLIENT else {}
        if returned:
            links["returned"] = returned
        passed = self._passed(request.get("query", {}))
        if passed:
            links["passed"] = passed
        own = returned.get("event_id")
        mentioned = [segment for segment in segments if segment.startswith("$")]
        mentioned += event_ids(request.get("body"))
        if response is not None and isinstance(response.get("body"), dict):
            body = response["body"]
            mentioned += event_ids({key: value for key, value in body.items() if key != "event_id"})
        events = [event_id for event_id in dict.fromkeys(mentioned) if event_id != own]
        if events:
            links["events"] = events
        for value in returned.values():
            self._returned.setdefault(value, entry["id"])
        return links

    def _passed(self, query: dict[str, Any]) -> dict[str, int | None]:
        passed: dict[str, int | None] = {}
        for param in PASSED_PARAMS:
            value = query.get(param)
            if not isinstance(value, str):
                continue
            if param == "filter" and value not in self._returned:
                continue  # an inline filter, or one uploaded before the recording: not a link
            passed[param] = self._returned.get(value)
        return passed


def transaction_id(segments: list[str]) -> str | None:
    """The txnId of a room send, a to-device send or a redaction path (decoded segments), else None."""
    if len(segments) >= 5 and segments[-5] == "rooms" and segments[-3] in ("send", "redact"):
        return segments[-1]
    if len(segments) >= 3 and segments[-3] == "sendToDevice":
        return segments[-1]
    return None


def returned_values(response: dict[str, Any] | None) -> dict[str, str]:
    """The ids and stream tokens a successful response introduced, by where they stand in its body."""
    if response is None or not 200 <= response["status"] < 300 or not isinstance(response.get("body"), dict):
        return {}
    body = response["body"]
    returned = {field: body[field] for field in RETURNED_FIELDS if isinstance(body.get(field), str)}
    rooms = body.get("rooms")
    if isinstance(rooms, dict):  # a /sync: each room's timeline can be paginated back from its prev_batch
        for section in ("join", "leave"):
            for room_id, room in _items(rooms.get(section)):
                timeline = room.get("timeline") if isinstance(room, dict) else None
                if isinstance(timeline, dict) and isinstance(timeline.get("prev_batch"), str):
                    path = ("rooms", section, room_id, "timeline", "prev_batch")
                    returned[render_path(path)] = timeline["prev_batch"]
    return returned


def event_ids(value: Any) -> list[str]:
    """Every event id in JSON-like data, in document order."""
    return list(_event_ids(value))


def _event_ids(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in EVENT_ID_KEYS and isinstance(item, str) and item.startswith("$"):
                yield item
            else:
                yield from _event_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _event_ids(item)


def _items(value: Any) -> Iterator[tuple[str, Any]]:
    return iter(value.items()) if isinstance(value, dict) else iter(())
