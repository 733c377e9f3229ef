"""A recording as loaded: flows with their requests, responses and links (the file format is in schema.json)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mockmx.record.layout import LazyBody

MultiMap = dict[str, str | list[str]]


class Leg(StrEnum):
    """Which listener a flow came through."""

    CLIENT = "client"  # the client's requests to the homeserver
    PUSH = "push"  # the homeserver's requests to the push gateway


class Secrets(StrEnum):
    """What a recording did with credentials (its header's `secrets`)."""

    REDACTED = "redacted"  # replaced by placeholders such as `<token:1>`
    KEPT = "kept"  # recorded as they were (`mockmx record --keep-secrets`)


class _Body:
    """`Message.body`: a body the loader left as text (`LazyBody`) is built on first read, then kept: bodies
    are most of a large recording, and a replay serves few of them."""

    def __get__(self, message: Message | None, owner: type | None = None) -> Any:
        if message is None:
            return None  # the field's default
        value = message.__dict__["_body"]
        if isinstance(value, LazyBody):
            value = message.__dict__["_body"] = value.build()
        return value

    def __set__(self, message: Message, value: Any) -> None:
        message.__dict__["_body"] = value


@dataclass(frozen=True, kw_only=True)
class Message:
    """What requests and responses share: headers and a body kept as JSON, text or base64 (or none)."""

    headers: MultiMap
    body: Any = _Body()
    body_kind: str | None = None  # "body" (JSON), "text", "base64", or None for no body

    def may_have_key(self, key: str) -> bool:
        """False only when the body is surely not a mapping with `key`, without building an unbuilt body."""
        value = self.__dict__["_body"]
        if isinstance(value, LazyBody):
            return value.may_have_key(key)
        return isinstance(value, dict) and key in value

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), or None."""
        value = self.headers.get(name.lower())
        return value[0] if isinstance(value, list) else value

    def content(self) -> bytes:
        """The body as bytes (JSON re-encoded compactly: the recording keeps its meaning, not its spacing)."""
        if self.body_kind == "body":
            return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()
        if self.body_kind == "text":
            return str(self.body).encode()
        if self.body_kind == "base64":
            return base64.b64decode(str(self.body))
        return b""


@dataclass(frozen=True, kw_only=True)
class Request(Message):
    method: str
    path: str
    query: MultiMap = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Response(Message):
    status: int


@dataclass(frozen=True, kw_only=True)
class Links:
    """See mockmx/record/links.py."""

    txn_id: str | None = None
    returned: dict[str, str] = field(default_factory=dict)
    passed: dict[str, int | None] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Flow:
    """One request and what became of it."""

    id: int
    leg: Leg
    at: float
    took: float | None
    request: Request
    response: Response | None
    error: str | None
    links: Links


@dataclass(frozen=True, kw_only=True)
class Recording:
    """A loaded recording file."""

    source: str
    started_at: str
    upstreams: dict[str, str]
    secrets: Secrets
    flows: list[Flow]
    torn_tail: int | None = None  # the line where a flow cut short by a kill began; it is not in `flows`

    def flow(self, flow_id: int) -> Flow:
        """The flow with id `flow_id`."""
        return self.flows[flow_id - 1]

    def returned_by(self, value: str) -> Flow | None:
        """The first flow whose response introduced `value` (an event id, room id or stream token), if any."""
        for flow in self.flows:
            if value in flow.links.returned.values():
                return flow
        return None
