"""Event relationships (`m.relates_to` with a `rel_type`): an index from each parent to the events relating to it,
kept as events arrive, and the one aggregation clients rely on, an edit's replacement bundled with the original."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockmx.homeserver.rooms import Event, JsonDict, Room

REPLACE = "m.replace"


def relation_of(event: Event) -> tuple[str, str] | None:
    """(rel_type, parent event id) of an event that relates to another, else None (replies have no rel_type)."""
    relates_to: Any = event.content.get("m.relates_to")
    if not isinstance(relates_to, dict):
        return None
    rel_type, parent = relates_to.get("rel_type"), relates_to.get("event_id")
    if isinstance(rel_type, str) and isinstance(parent, str) and event.state_key is None:
        return rel_type, parent
    return None


class Relations:
    """Parent event id -> the events relating to it, in stream order; edits also on a list of their own."""

    def __init__(self) -> None:
        self._children: dict[str, list[Event]] = {}
        self._edits: dict[str, list[Event]] = {}

    def add(self, event: Event) -> None:
        relation = relation_of(event)
        if relation is None:
            return
        rel_type, parent = relation
        self._children.setdefault(parent, []).append(event)
        if rel_type == REPLACE:
            self._edits.setdefault(parent, []).append(event)

    def remove(self, event: Event) -> None:
        """Forget a relation whose event is being redacted: a redacted event relates to nothing."""
        relation = relation_of(event)
        if relation is None:
            return
        rel_type, parent = relation
        _discard(self._children, parent, event)
        if rel_type == REPLACE:
            _discard(self._edits, parent, event)

    def children(self, parent_id: str) -> list[Event]:
        return self._children.get(parent_id, [])

    def latest_edit(self, original: Event) -> Event | None:
        """The edit that applies to `original`: the last `m.replace` from the same sender with the same type."""
        for edit in reversed(self._edits.get(original.event_id, ())):
            if edit.sender == original.sender and edit.type == original.type:
                return edit
        return None


def _discard(index: dict[str, list[Event]], parent: str, event: Event) -> None:
    children = index.get(parent, [])
    for position, child in enumerate(children):
        if child is event:
            del children[position]
            if not children:
                del index[parent]
            return


def client_event(room: Room, event: Event, now: int, viewer: tuple[str, str]) -> JsonDict:
    """`event` as a client reads it, with its latest edit bundled (`unsigned.m.relations.m.replace`), as Synapse
    serves it and Element renders edits from."""
    serialized = event.serialize(now, viewer)
    if event.redacted_because is None and event.state_key is None:
        edit = room.relations.latest_edit(event)
        if edit is not None:
            serialized["unsigned"]["m.relations"] = {REPLACE: edit.serialize(now, viewer)}
    return serialized
