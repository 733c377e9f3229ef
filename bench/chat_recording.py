"""A synthetic recording of a realistic session, for the load benchmark: two users chatting in a room.

Each round of ten flows is what a chat client does: syncs answered with a few timeline events, typing and receipt
state, a send, a read receipt, a page of history, the push the homeserver sends for it, a whoami now and then. At
about 2 KB a flow, 50,000 flows are some 100 MB, as a day of recorded traffic is. Every flow is written from a
template made once with the recorder's own YAML dumper, so the file reads as `mockmx record` writes it; ids,
tokens and texts differ from flow to flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mockmx.record.writer import HEADER_COMMENT, dump_yaml, flow_end

ROOM = "!Tw3kBpLRcZyDvqMnsoUa:localhost"
USERS = ("@alice:localhost", "@bob:localhost")
TOKENS = ("<token:1>", "<token:2>")
CLIENT = "Python/3.11 aiohttp/3.14.5"

_HEADER = HEADER_COMMENT + dump_yaml(
    {
        "mockmx_recording": 1,
        "started_at": "2026-06-01T09:30:00.000Z",
        "recorder": "bench/chat_recording.py",
        "upstreams": {"client": "http://127.0.0.1:8008", "push": "http://127.0.0.1:8091"},
        "secrets": "redacted",
    }
)


def write_chat(path: Path, flows: int) -> Path:
    """A recording of `flows` flows of two users chatting, the first two their logins."""
    with path.open("w", encoding="utf-8") as file:
        file.write(_HEADER + "flows:\n")
        for number, text in zip(range(1, flows + 1), _flows(), strict=False):
            file.write(text.replace("FLOWID", str(number)) + flow_end(number))
    return path


def _event(n: int | str, sender: int) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "room_id": ROOM,
        "sender": USERS[sender],
        "content": {"msgtype": "m.text", "body": f"message {n}: " + "lorem ipsum dolor sit amet " * 9},
        "origin_server_ts": 1780300000000 + (n if isinstance(n, int) else 0) * 1000,
        "event_id": f"$EVENTID{n}",
        "unsigned": {"age": 42, "transaction_id": f"txn{n}"},
    }


def _template(flow: dict[str, Any]) -> str:
    return dump_yaml([flow])


def _flows() -> Iterator[str]:
    yield _LOGINS[0].replace("FLOWAT", "0.100")
    yield _LOGINS[1].replace("FLOWAT", "0.120")
    kinds: list[Callable[[int, int], str]] = [_sync, _send, _push, _sync, _receipt, _typing, _sync, _messages, _sync]
    n = 0
    while True:
        n += 1
        for kind in kinds:
            yield kind(n, n % 2).replace("FLOWAT", f"{n * 0.5:.3f}")
        if n % 10 == 0:
            yield _whoami(n % 2).replace("FLOWAT", f"{n * 0.5 + 0.2:.3f}")


def _base(leg: str, method: str, path: str, token: int | None, **request: Any) -> dict[str, Any]:
    headers = {"content-type": "application/json", "user-agent": CLIENT}
    if token is not None:
        headers["authorization"] = f"Bearer {TOKENS[token]}"
    return {
        "id": "FLOWID",
        "leg": leg,
        "at": "FLOWAT",
        "took": 0.004,
        "request": {"method": method, "path": path, **request, "headers": headers},
    }


def _ok(flow: dict[str, Any], body: Any, **links: Any) -> dict[str, Any]:
    flow["response"] = {"status": 200, "headers": {"content-type": "application/json"}, "body": body}
    if links:
        flow["links"] = links
    return flow


_LOGINS = [
    _template(
        _ok(
            _base(
                "client",
                "POST",
                "/_matrix/client/v3/login",
                None,
                body={"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": pw},
            ),
            {"user_id": user, "access_token": token, "home_server": "localhost", "device_id": f"DEVICE{index}"},
        )
    )
    for index, (user, token, pw) in enumerate(zip(USERS, TOKENS, ("<password:1>", "<password:2>"), strict=True))
]


def _sync_template() -> str:
    body = {
        "next_batch": "s_NEXT_1_2_3_4",
        "account_data": {"events": []},
        "presence": {"events": [{"type": "m.presence", "sender": USERS[1], "content": {"presence": "online"}}]},
        "device_one_time_keys_count": {"signed_curve25519": 50},
        "rooms": {
            "join": {
                ROOM: {
                    "timeline": {
                        "events": [_event("EVA", 0), _event("EVB", 1)],
                        "limited": False,
                        "prev_batch": "t_PREV",
                    },
                    "state": {"events": []},
                    "ephemeral": {
                        "events": [
                            {"type": "m.typing", "content": {"user_ids": [USERS[1]]}},
                            {
                                "type": "m.receipt",
                                "content": {"$EVENTIDEVA": {"m.read": {USERS[1]: {"ts": 1780300001000}}}},
                            },
                        ]
                    },
                    "account_data": {"events": []},
                    "unread_notifications": {"notification_count": 1, "highlight_count": 0},
                    "summary": {},
                }
            }
        },
    }
    flow = _base("client", "GET", "/_matrix/client/v3/sync", 0, query={"since": "s_SINCE_1_2_3_4", "timeout": "30000"})
    return _template(_ok(flow, body, returned={"next_batch": "s_NEXT_1_2_3_4"}, passed={"since": None}))


_SYNC = _sync_template()
_SEND = _template(
    _ok(
        _base(
            "client",
            "PUT",
            f"/_matrix/client/v3/rooms/{ROOM}/send/m.room.message/txnTXN",
            0,
            body={"msgtype": "m.text", "body": "message TXN: " + "lorem ipsum dolor sit amet " * 9},
        ),
        {"event_id": "$EVENTIDTXN"},
        txn_id="txnTXN",
        returned={"event_id": "$EVENTIDTXN"},
    )
)
_PUSH = _template(
    _ok(
        _base(
            "push",
            "POST",
            "/_matrix/push/v1/notify",
            None,
            body={
                "notification": {
                    "event_id": "$EVENTIDTXN",
                    "room_id": ROOM,
                    "type": "m.room.message",
                    "sender": USERS[0],
                    "sender_display_name": "alice",
                    "content": {"msgtype": "m.text", "body": "message TXN"},
                    "counts": {"unread": 1},
                    "devices": [{"app_id": "org.example.bench", "pushkey": "PUSHKEY_BOB", "data": {}}],
                    "prio": "high",
                }
            },
        ),
        {"rejected": []},
        events=["$EVENTIDTXN"],
    )
)
_RECEIPT = _template(
    _ok(
        _base("client", "POST", f"/_matrix/client/v3/rooms/{ROOM}/receipt/m.read/$EVENTIDTXN", 1, body={}),
        {},
        events=["$EVENTIDTXN"],
    )
)
_TYPING = _template(
    _ok(
        _base("client", "PUT", f"/_matrix/client/v3/rooms/{ROOM}/typing/@alice:localhost", 0, body={"typing": False}),
        {},
    )
)
_MESSAGES = _template(
    _ok(
        _base(
            "client",
            "GET",
            f"/_matrix/client/v3/rooms/{ROOM}/messages",
            1,
            query={"dir": "b", "limit": "5", "from": "t_PREV"},
        ),
        {"chunk": [_event(k, k % 2) for k in range(1, 6)], "start": "t_PREV", "end": "t_END"},
        returned={"end": "t_END"},
    )
)
_WHOAMI = _template(
    _ok(
        _base("client", "GET", "/_matrix/client/v3/account/whoami", 0),
        {"user_id": USERS[0], "device_id": "DEVICE0", "is_guest": False},
    )
)


def _sync(n: int, who: int) -> str:
    text = _SYNC.replace("EVA", str(2 * n)).replace("EVB", str(2 * n + 1))
    return text.replace("s_NEXT", f"s_{n + 1}").replace("s_SINCE", f"s_{n}").replace("t_PREV", f"t_{n}")


def _send(n: int, who: int) -> str:
    return _SEND.replace("TXN", str(n))


def _push(n: int, who: int) -> str:
    return _PUSH.replace("TXN", str(n))


def _receipt(n: int, who: int) -> str:
    return _RECEIPT.replace("TXN", str(n))


def _typing(n: int, who: int) -> str:
    return _TYPING


def _messages(n: int, who: int) -> str:
    return _MESSAGES.replace("t_PREV", f"t_{n}").replace("t_END", f"t_{n}e")


def _whoami(who: int) -> str:
    return _WHOAMI
