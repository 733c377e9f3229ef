"""A request as replay compares it: method, route, credentials, query and body as data, with every token in a
`Slot` (a recorded value, or a live one mapped to the recorded value it stands for).

Tokens name a session, so each live token stands for one recorded token. Passwords and other secrets the client
makes up are not compared at all: a replay has no way to check them (the file holds placeholders), and the client
running it invents its own.

Two requests alike but for their credentials share a `loose_key`; alike in every way but the transaction id, a
`strict_key`. The index files recorded requests under both, so finding a live request's candidates is one lookup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from mockmx.record.entry import body_fields
from mockmx.record.redact import DEFAULT_FIELDS
from mockmx.replay.routes import Route, route

TOKEN_FIELDS = frozenset(name for name, kind in DEFAULT_FIELDS.items() if kind == "token")
SECRET_FIELDS = frozenset(name for name, kind in DEFAULT_FIELDS.items() if kind != "token")
ANY_SECRET = "<any secret>"
# How long a long poll may wait says nothing about what it asks for.
IGNORED_QUERY = frozenset({"timeout"})
# Fields that name this run's surroundings, not what is asked: a pusher's URL is where this run's gateway listens.
ENVIRONMENT_FIELDS = {"/pushers/set": ("data", "url")}


@dataclass(frozen=True, slots=True)
class Slot:
    """A credential: the recorded value, or a live value `fresh` when no recorded one is bound to it yet."""

    value: str
    fresh: bool = False


Translate = Callable[[str], Slot]


@dataclass(frozen=True, slots=True, kw_only=True)
class Shape:
    """A request, live or recorded, as matching sees it."""

    method: str
    route: Route
    auth_scheme: str | None
    auth: Slot | None  # the credentials of the Authorization header, or of ?access_token=
    query: dict[str, Any]
    body: Any  # None, {"json": data}, {"text": str} or {"base64": str}
    loose_key: str
    slots: tuple[Slot, ...]  # every credential, in the order `loose_key` has them

    @property
    def bucket(self) -> tuple[str, str]:
        return self.method, self.route.template

    @property
    def fresh(self) -> bool:
        """Whether some credential in it is not bound yet, so that it has no strict key."""
        return any(slot.fresh for slot in self.slots)

    @property
    def strict_key(self) -> str:
        return self.loose_key + "\x00" + "\x00".join(slot.value for slot in self.slots)

    @property
    def session(self) -> str | None:
        """The recorded access token it carries (bound), which scopes transaction ids."""
        return self.auth.value if self.auth is not None and not self.auth.fresh else None

    def describe(self) -> str:
        """`METHOD /path` with its query, credentials left out."""
        query = {name: "<redacted>" if isinstance(value, Slot) else value for name, value in self.query.items()}
        shown = "&".join(f"{name}={value}" for name, value in query.items())
        return f"{self.method} {self.route.template}" + (f"?{shown}" if shown else "")


def build_shape(
    *,
    method: str,
    path: str,
    query: dict[str, str | list[str]],
    authorization: str | None,
    body: Any,
    token_fields: Collection[str] = TOKEN_FIELDS,
    secret_fields: Collection[str] = SECRET_FIELDS,
    translate: Translate,
) -> Shape:
    """The shape of a request; `body` is tagged as by `tag_body`; `translate` makes each token's `Slot`, and the
    values of `secret_fields` are left out."""
    where = route(path)
    scheme, auth = None, None
    if authorization is not None:
        scheme, _, credentials = authorization.partition(" ")
        scheme, auth = (scheme.lower(), translate(credentials.strip())) if credentials else ("", translate(scheme))
    kept: dict[str, Any] = {}
    for name, value in query.items():
        if name in IGNORED_QUERY:
            continue
        if name == "access_token" and auth is None and isinstance(value, str) and value:
            scheme, auth = "bearer", translate(value)
        elif name in token_fields:
            kept[name] = _slotted(value, translate) if value else value
        elif name in secret_fields:
            kept[name] = ANY_SECRET if value else value
        else:
            kept[name] = value
    body = _without_environment(where.template, body)
    if isinstance(body, dict) and "json" in body:
        body = {"json": _slots_in(body["json"], token_fields, secret_fields, translate)}
    slots: list[Slot] = []

    def collect(value: Any) -> Any:
        if isinstance(value, Slot):
            slots.append(value)
            return "\x00"
        raise TypeError(f"not JSON: {type(value).__name__}")

    loose_key = json.dumps(
        [scheme, auth, where.params, kept, body], sort_keys=True, default=collect, ensure_ascii=False
    )
    return Shape(
        method=method.upper(),
        route=where,
        auth_scheme=scheme,
        auth=auth,
        query=kept,
        body=body,
        loose_key=loose_key,
        slots=tuple(slots),
    )


def tag_body(kind: str | None, body: Any) -> Any:
    """A recorded body (`Message.body_kind`, `Message.body`) tagged by kind; no body and `{}` are alike."""
    if kind is None or (kind == "body" and body == {}):
        return None
    return {"json" if kind == "body" else kind: body}


def tag_content(content: bytes, content_type: str | None) -> Any:
    """A live body tagged as the recorder would have recorded it."""
    fields = body_fields(content, content_type)
    return tag_body(*next(iter(fields.items()))) if fields else None


def _slotted(value: Any, translate: Translate) -> Any:
    if isinstance(value, str) and value:
        return translate(value)
    if isinstance(value, list):
        return [_slotted(item, translate) for item in value]
    return value


def _slots_in(value: Any, tokens: Collection[str], secrets: Collection[str], translate: Translate) -> Any:
    """JSON data with the values under token keys, at any depth, in slots, and those under other secret keys left
    out (empty ones are no secret)."""
    if isinstance(value, dict):
        return {key: _slot_in(key, item, tokens, secrets, translate) for key, item in value.items()}
    if isinstance(value, list):
        return [_slots_in(item, tokens, secrets, translate) for item in value]
    return value


def _slot_in(key: str, value: Any, tokens: Collection[str], secrets: Collection[str], translate: Translate) -> Any:
    if key in tokens:
        return _slotted(value, translate)
    if key in secrets:
        return ANY_SECRET if value not in (None, "") else value
    return _slots_in(value, tokens, secrets, translate)


def _without_environment(template: str, body: Any) -> Any:
    for suffix, (outer, inner) in ENVIRONMENT_FIELDS.items():
        if template.endswith(suffix) and isinstance(body, dict) and isinstance(body.get("json"), dict):
            data = body["json"]
            if isinstance(data.get(outer), dict) and inner in data[outer]:
                nested = {key: value for key, value in data[outer].items() if key != inner}
                return {"json": {**data, outer: nested}}
    return body
