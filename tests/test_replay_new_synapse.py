"""Record mode new as a user meets it: a pytest test drives matrix-nio through the plugin against a real Synapse.
The first run records the session; a later version of the test does more, and record mode new replays the recorded
part and sends the rest to Synapse (the replayed login handing nio a token Synapse issued), adding it to the
recording; after that, the whole test replays with no homeserver."""

from __future__ import annotations

import re
import uuid

import pytest

from mockmx.record import Leg, load_recording, load_recording_text
from tests.synapse import SynapseServer

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.synapse

NOBODY = "http://127.0.0.1:9"  # where no homeserver listens

NIO_TEST = """
import asyncio
import pytest
from nio import AsyncClient, JoinedRoomsResponse, LoginResponse, RoomCreateResponse, RoomSendResponse

async def session(url):
    client = AsyncClient(url, "@{user}:localhost")
    try:
        login = await client.login("{password}", device_name="record mode new")
        assert isinstance(login, LoginResponse), login
        created = await client.room_create(name="first run")
        assert isinstance(created, RoomCreateResponse), created
        print("ROOM", created.room_id)
        if {more!r}:
            sent = await client.room_send(created.room_id, "m.room.message", {{"msgtype": "m.text", "body": "later"}})
            assert isinstance(sent, RoomSendResponse), sent
            rooms = await client.joined_rooms()
            assert isinstance(rooms, JoinedRoomsResponse), rooms
            assert created.room_id in rooms.rooms
            print("SENT", sent.event_id)
    finally:
        await client.close()

@pytest.mark.mockmx(recording="recordings/nio.yaml")
def test_session(mockmx_replay):
    asyncio.run(session(mockmx_replay.url))
"""


@pytest.mark.timeout(120)
def test_new_adds_what_a_longer_test_does_to_a_synapse_recording(
    pytester: pytest.Pytester, synapse: SynapseServer
) -> None:
    user, password = f"newmode{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    synapse.register_user(user, password)
    recording = pytester.path / "recordings" / "nio.yaml"

    pytester.makepyfile(NIO_TEST.format(user=user, password=password, more=False))
    result = pytester.runpytest("-s", "--mockmx-record-mode=once", f"--mockmx-upstream={synapse.url}")
    result.assert_outcomes(passed=1)
    first = recording.read_text()
    room = _printed("ROOM", result)

    pytester.makepyfile(NIO_TEST.format(user=user, password=password, more=True))
    result = pytester.runpytest("-s", "--mockmx-record-mode=new", f"--mockmx-upstream={synapse.url}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*ROOM {room}", "SENT $*"])
    sent = _printed("SENT", result)
    text = recording.read_text()
    assert text.startswith(first)
    assert password not in text
    flows = load_recording(recording).flows
    added = flows[len(load_recording_text(first).flows) :]
    assert [(flow.leg, flow.request.method, flow.request.path.split("/")[4]) for flow in added] == [
        (Leg.CLIENT, "PUT", "rooms"),
        (Leg.CLIENT, "GET", "joined_rooms"),
    ]
    assert all(flow.response is not None and flow.response.status == 200 for flow in added)
    assert {flow.request.header("authorization") for flow in added} == {"Bearer <token:1>"}

    result = pytester.runpytest("-s", "--mockmx-strict", f"--mockmx-upstream={NOBODY}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*ROOM {room}", f"SENT {sent}"])


def _printed(label: str, result: pytest.RunResult) -> str:
    found = re.search(rf"{label} (\S+)", result.stdout.str())
    assert found is not None, result.stdout.str()
    return found[1]
