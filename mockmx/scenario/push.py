"""Push in a scenario file: users' pushers and push rules, the push gateway's rejection rules, how the homeserver
retries and counts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mockmx.errors import MatrixError
from mockmx.jsonpath import JsonPath
from mockmx.push.default_rules import ruleset_for
from mockmx.push.ruleset import check_actions, parse_rule
from mockmx.scenario.document import Document
from mockmx.scenario.durations import duration, show_seconds
from mockmx.scenario.model import PusherSpec, PushSpec, RejectSpec, UnreadCount

# The spec's limit; schema.json can only count characters, so bytes are counted here.
MAX_PUSHKEY_BYTES = 512
_PUSHER_OPTIONS = ("format", "app_display_name", "device_display_name", "lang", "profile_tag")


def pushers(document: Document, path: JsonPath, user: dict[str, Any], user_id: str) -> tuple[PusherSpec, ...]:
    """The pushers of the user at `path`; an (app_id, pushkey) pair may only appear once per user."""
    specs: list[PusherSpec] = []
    first_seen: dict[tuple[str, str], JsonPath] = {}
    for pusher_path, entry in document.items(path, user, "pushers"):
        app_id = document.get(pusher_path, entry, "app_id")
        pushkey = _pushkey(document, pusher_path, entry)
        url = _url(document, pusher_path, entry)
        if app_id is None or pushkey is None:
            continue
        first = first_seen.setdefault((app_id, pushkey), pusher_path)
        if first != pusher_path:
            where = f"first at line {document.line(first)}"
            message = f"duplicate pusher (app_id {app_id!r}, pushkey {pushkey!r}) of {user_id!r} ({where})"
            document.report((*pusher_path, "pushkey"), message)
        elif url is not None:
            options = {key: document.get(pusher_path, entry, key) for key in _PUSHER_OPTIONS if key in entry}
            specs.append(PusherSpec(app_id, pushkey, url, **options))
    return tuple(specs)


def push_rules(document: Document, path: JsonPath, user: dict[str, Any], user_id: str) -> tuple[dict[str, Any], ...]:
    """The push rules of the user at `path`, each checked as `PUT /pushrules/...` checks it; a (kind, rule_id) once."""
    rules: list[dict[str, Any]] = []
    first_seen: dict[tuple[str, str], JsonPath] = {}
    defaults = ruleset_for(user_id)
    for rule_path, entry in document.items(path, user, "push_rules"):
        kind, rule_id = document.get(rule_path, entry, "kind"), document.get(rule_path, entry, "rule_id")
        if kind is None or rule_id is None:
            continue
        first = first_seen.setdefault((kind, rule_id), rule_path)
        if first != rule_path:
            document.report(
                (*rule_path, "rule_id"), f"duplicate {kind} rule {rule_id!r} (first at line {document.line(first)})"
            )
            continue
        if rule_id.startswith("."):
            if not any(rule["rule_id"] == rule_id for rule in defaults[kind]):
                known = ", ".join(rule["rule_id"] for rule in defaults[kind]) or "none"
                document.report(
                    (*rule_path, "rule_id"), f"no server-default {kind} rule {rule_id!r} (there are: {known})"
                )
                continue
            extra = sorted(set(entry) - {"kind", "rule_id", "enabled", "actions"})
            if extra:
                document.report(
                    (*rule_path, extra[0]), f"a server-default rule takes only enabled and actions, not {extra[0]!r}"
                )
                continue
        try:
            if rule_id.startswith("."):
                if "actions" in entry:
                    check_actions(entry["actions"])
            else:
                parse_rule(kind, rule_id, entry)
        except MatrixError as error:
            document.report(rule_path, error.msg)
            continue
        rules.append(dict(entry))
    return tuple(rules)


def reject_rules(document: Document, data: dict[str, Any]) -> tuple[RejectSpec, ...]:
    """The push gateway's rules for listing pushkeys in `rejected`, from the top-level `gateway`."""
    gateway = document.get((), data, "gateway")
    if gateway is None:
        return ()
    rules: list[RejectSpec] = []
    for path, entry in document.items(("gateway",), gateway, "reject"):
        if "pushkey" not in entry and "app_id" not in entry:
            # A rule for every pushkey would be easy to write by accident, and reject the whole gateway's traffic.
            document.report(path, "expected 'pushkey' or 'app_id' (or both)")
            continue
        pushkey = _pushkey(document, path, entry)
        app_id = document.get(path, entry, "app_id")
        if ("pushkey" in entry and pushkey is None) or ("app_id" in entry and app_id is None):
            continue  # a missing key matches everything: never let a broken value widen the rule
        rules.append(RejectSpec(pushkey, app_id, after=int(document.get(path, entry, "after") or 0)))
    return tuple(rules)


def push_spec(document: Document, data: dict[str, Any]) -> PushSpec:
    """How the homeserver retries failed pushes, from the top-level `push`."""
    push = document.get((), data, "push")
    if push is None:
        return PushSpec()
    path: JsonPath = ("push",)
    backoff = duration(document, path, push, "backoff")
    if backoff == 0:
        document.report((*path, "backoff"), "expected a duration greater than 0")
        return PushSpec()
    max_backoff = duration(document, path, push, "max_backoff")
    unread_count = document.get(path, push, "unread_count")
    spec = PushSpec(
        backoff=PushSpec.backoff if backoff is None else backoff,
        max_backoff=PushSpec.max_backoff if max_backoff is None else max_backoff,
        unread_count=UnreadCount(unread_count) if unread_count is not None else UnreadCount.MESSAGES,
        max_attempts=_int_or(document.get(path, push, "max_attempts"), PushSpec.max_attempts),
        max_backlog=_int_or(document.get(path, push, "max_backlog"), PushSpec.max_backlog),
    )
    # A value given but already reported as wrong must not make the other one look wrong too.
    reported = ("backoff" in push and backoff is None) or ("max_backoff" in push and max_backoff is None)
    if not reported and spec.max_backoff < spec.backoff:
        if "max_backoff" in push:
            default = "" if "backoff" in push else " by default"
            message = f"expected at least backoff ({show_seconds(spec.backoff)}{default})"
            document.report((*path, "max_backoff"), f"{message}, got {show_seconds(spec.max_backoff)}")
        else:
            message = f"expected at most max_backoff ({show_seconds(spec.max_backoff)} by default)"
            document.report((*path, "backoff"), f"{message}, got {show_seconds(spec.backoff)}")
    return spec


def _pushkey(document: Document, path: JsonPath, entry: dict[str, Any]) -> str | None:
    pushkey: str | None = document.get(path, entry, "pushkey")
    if pushkey is not None and len(pushkey.encode()) > MAX_PUSHKEY_BYTES:
        size = len(pushkey.encode())
        document.report((*path, "pushkey"), f"expected at most {MAX_PUSHKEY_BYTES} bytes of UTF-8, got {size}")
        return None
    return pushkey


def _url(document: Document, path: JsonPath, entry: dict[str, Any]) -> str | None:
    """The pusher's URL; schema.json has checked its scheme and path, the host and port are checked here."""
    url: str | None = document.get(path, entry, "url")
    if url is None or url.startswith("/"):
        return url
    try:
        parts = urlsplit(url)
        valid = bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:  # an unclosed `[` of an IPv6 host, a port that is not a number or out of range
        valid = False
    if not valid:
        document.report((*path, "url"), f"expected a URL with a valid host and port, got {url!r}")
        return None
    return url


def _int_or(value: Any, default: int) -> int:
    return default if value is None else int(value)
