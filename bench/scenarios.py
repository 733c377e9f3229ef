"""The benchmarks' worlds, written as scenario YAML: a small room for throughput, a crowded one for fan-out."""

from __future__ import annotations

import json
from pathlib import Path

SERVER_NAME = "bench"
SENDER_TOKEN = "alice-token"
RECIPIENT = "@bob:bench"
RECIPIENT_DEVICE = "BOBDEV"
SMALL_ROOM = "!bench:bench"
CROWD_ROOM = "!crowd:bench"


def waiter_token(index: int) -> str:
    return f"waiter-{index}-token"


def throughput_yaml() -> str:
    """alice and bob in one room, no pushers: a send costs the mock its own work and nothing else."""
    return _scenario(
        users=[_user("alice", "ALICEDEV", SENDER_TOKEN), _user("bob", RECIPIENT_DEVICE, "bob-token")],
        rooms=[{"id": SMALL_ROOM, "members": ["alice", "bob"]}],
    )


def fanout_yaml(waiters: int) -> str:
    """alice and `waiters` users, each with one device and a fixed token, all joined to one room."""
    users = [_user("alice", "ALICEDEV", SENDER_TOKEN)]
    users += [_user(f"u{i}", f"D{i}", waiter_token(i)) for i in range(waiters)]
    return _scenario(users=users, rooms=[{"id": CROWD_ROOM, "members": [user["id"] for user in users]}])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _user(localpart: str, device_id: str, token: str) -> dict[str, object]:
    return {"id": localpart, "devices": [{"id": device_id, "access_token": token}]}


def _scenario(*, users: list[dict[str, object]], rooms: list[dict[str, object]]) -> str:
    # JSON is YAML, and one line per user keeps a 2,000-user file quick to read.
    lines = ["mockmx: 1", f"server_name: {SERVER_NAME}", "users:"]
    lines += [f"  - {json.dumps(user)}" for user in users]
    lines.append("rooms:")
    lines += [f"  - {json.dumps(room)}" for room in rooms]
    return "\n".join(lines) + "\n"
