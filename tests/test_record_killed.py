"""`mockmx record` fed every hostile body by a real client, and killed (SIGKILL) at a random moment: every flow the
client got an answer for is in the file, the file loads, and no credential is in it, however the body carried it."""

from __future__ import annotations

import base64
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from mockmx.record import load_recording
from mockmx.testing.recorder import RecorderProcess, free_port, record_command
from tests.conftest import ALICE_TOKEN, LOBBY, LiveServer
from tests.test_record_cli import running_recorder

CS = "/_matrix/client/v3"
SEND = f"{CS}/rooms/{LOBBY}/send/m.room.message/"
NOTIFY = "/_matrix/push/v1/notify"
ADMIN_REGISTER = "/_synapse/admin/v1/register"
LOGIN = b'{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},'

# Every credential the requests below carry; none may reach the file, in any encoding.
SECRETS = [
    "alice-pass",
    ALICE_TOKEN,
    "hunter2-broken",
    "hunter2-utf8",
    "hunter2-form",
    "31415926535897932",
    "hunter2-admin",
    "nonce-7f3a9c",
    "mac-0123456789abcdef",
    "regtok-5ecret",
    "hunter2-reg",
    "hunter2-deep",
    "query-5ecret",
    "path-5ecret",
]


@dataclass(frozen=True)
class Hostile:
    method: str
    path: str  # `{txn}` stands for a fresh transaction id
    body: bytes
    push: bool = False  # sent to the push leg
    content_type: str = "application/json"


HOSTILE = [
    Hostile("PUT", SEND + "{txn}", b'{"msgtype":"m.text","body":"x","n":1e400}'),
    Hostile("PUT", SEND + "{txn}", b'{"msgtype":"m.text","body":"\\ud800 cut inside an emoji"}'),
    Hostile("PUT", SEND + "{txn}", b'{"msgtype":"m.text","body":"x","n":123456789012345678901234567890}'),
    Hostile("PUT", SEND + "{txn}", b'{"msgtype":"m.text","body":"d","deep":' + b"[" * 900 + b"]" * 900 + b"}"),
    Hostile("PUT", SEND + "{txn}", b"[" * 100_000),
    Hostile("POST", f"{CS}/login", LOGIN + b'"password":"hunter2-broken", oops'),
    Hostile("POST", f"{CS}/login", LOGIN + b'"password":"hunter2-utf8","device":"\xff\xfe"}'),
    Hostile(
        "POST", f"{CS}/login", b"user=alice&password=hunter2-form", content_type="application/x-www-form-urlencoded"
    ),
    Hostile("POST", f"{CS}/login", b'{"password": 31415926535897932, "n": 1e400}'),
    Hostile("POST", f"{CS}/login", b'{"a":' * 500 + b'{"password":"hunter2-deep"}' + b"}" * 500),
    Hostile(
        "POST",
        ADMIN_REGISTER,
        b'{"nonce":"nonce-7f3a9c","username":"eve","password":"hunter2-admin","mac":"mac-0123456789abcdef"}',
    ),
    Hostile("POST", ADMIN_REGISTER, b'{"nonce":"nonce-7f3a9c","mac":"mac-0123456789abcdef","admin":1e400}'),
    Hostile(
        "POST",
        f"{CS}/register",
        b'{"auth":{"type":"m.login.registration_token","token":"regtok-5ecret"},"password":"hunter2-reg","n":1e400}',
    ),
    Hostile("POST", f"{CS}/login", LOGIN + b'"password":"alice-pass"}'),  # a real login: a real token comes back
    Hostile("GET", f"{CS}/account/whoami?access_token=%ff%fequery-5ecret&user_id=%ed%a0%80", b""),
    Hostile("GET", f"{CS}/rooms/%ff%fe/state?password=path-5ecret", b""),
    Hostile("POST", NOTIFY, b'{"notification":{"devices":[{"app_id":"a","pushkey":"p"}],"s":"\\udc00"}}', push=True),
    Hostile("POST", NOTIFY, b'{"notification":{"devices":[{"app_id":"a","pushkey":"p"}],"n":-1e400}}', push=True),
]


@dataclass(frozen=True)
class Answered:
    push: bool
    method: str
    path: str
    status: int


@pytest.fixture
def recorder(mock: LiveServer, tmp_path: Path) -> Iterator[RecorderProcess]:
    """`mockmx record` in front of the default mock, as homeserver and as push gateway."""
    out, port, gateway_port = tmp_path / "session.yaml", free_port(), free_port()
    command = record_command(mock.url, out, port, gateway=(mock.url, gateway_port))
    with running_recorder(command, out=out, port=port, gateway_port=gateway_port, home=tmp_path / "home") as started:
        yield started


def send_until_killed(recorder: RecorderProcess, order: list[Hostile], answered: list[Answered]) -> list[str]:
    """Send the requests in `order` through the recorder, one at a time, until it stops answering; each answer is
    noted in `answered` as it comes. Returns the access tokens the logins got."""
    assert recorder.gateway_url is not None
    tokens: list[str] = []
    with httpx.Client(timeout=10) as client:
        for number, request in enumerate(order):
            base = recorder.gateway_url if request.push else recorder.url
            path = request.path.format(txn=f"k{number}")
            token = tokens[-1] if tokens else ALICE_TOKEN
            headers = {"Content-Type": request.content_type, "Authorization": f"Bearer {token}"}
            try:
                r = client.request(request.method, base + path, content=request.body, headers=headers)
            except httpx.TransportError:
                return tokens  # the recorder was killed under this request
            if r.status_code == 200 and "access_token" in r.text:
                tokens.append(r.json()["access_token"])
            answered.append(Answered(request.push, request.method, _path(path), r.status_code))
    return tokens


@pytest.mark.parametrize("seed", [15, 1501, 150_015])
def test_a_recorder_killed_at_any_moment_keeps_every_answered_flow_and_no_secret(
    recorder: RecorderProcess, seed: int
) -> None:
    rng = random.Random(seed)
    order = [rng.choice(HOSTILE) for _ in range(3 * len(HOSTILE))]
    kill_after = rng.randrange(1, len(order))  # answers the client has had when the kill comes
    answered: list[Answered] = []
    tokens: list[str] = []
    sender = threading.Thread(target=lambda: tokens.extend(send_until_killed(recorder, order, answered)))
    sender.start()
    # The kill lands as soon as the chosen answer is in, while the next request is on its way or being written.
    while len(answered) < kill_after and sender.is_alive():
        sender.join(0.001)
    recorder.process.kill()
    sender.join(30)
    assert not sender.is_alive()
    assert len(answered) >= kill_after, recorder.output()

    recording = load_recording(recorder.out)
    recorded = [
        Answered(flow.leg == "push", flow.request.method, _path(flow.request.path), flow.response.status)
        for flow in recording.flows
        if flow.response is not None
    ]
    missing = _not_in_order(answered, recorded)
    assert not missing, f"answered but not on record: {missing}\n{recorder.output()}"

    text = recorder.out.read_bytes()
    bodies = [
        base64.b64decode(message.body)
        for flow in recording.flows
        for message in (flow.request, flow.response)
        if message is not None and message.body_kind == "base64"
    ]
    for secret in [*SECRETS, *tokens]:
        for where in (text, *bodies):
            assert secret.encode() not in where, f"{secret!r} is in the recording"


def _path(sent: str) -> str:
    """The path part, percent-escapes read, so that the path sent and the one recorded compare whatever the case of
    their escapes (the recording keeps the query apart)."""
    return unquote(sent.split("?", 1)[0])


def _not_in_order(answered: list[Answered], recorded: list[Answered]) -> list[Answered]:
    """The answered requests that are not among the recorded ones in the order they were answered."""
    remaining = iter(recorded)
    return [flow for flow in answered if not any(flow == other for other in remaining)]
