"""mautrix-python against the mock: its high-level `Client` logs in, syncs with `start()`, and does what a client and
a plain bot do (messages, typing, receipts, read markers, members, state, profile, leave and rejoin, media)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from mautrix.client import Client, InternalEventType, SyncStream
from mautrix.types import (
    EventType,
    InReplyTo,
    Membership,
    MessageType,
    ReceiptType,
    RelatesTo,
    RoomNameStateEventContent,
    RoomTopicStateEventContent,
    UserID,
)

from mockmx.scenario.loader import default_scenario, load_scenario_text
from tests.conftest import ALICE, ALICE_TOKEN, BOB, LOBBY
from tests.sdk_outcomes import observed_mock
from tests.test_sdk_js import BOT_SCENARIO

WAIT = 15.0  # seconds for any one thing to happen
BOT = "@echobot:localhost"


class Seen:
    """Every event a client's sync loop dispatched, oldest first, and a way to wait for one."""

    def __init__(self, client: Client) -> None:
        self.events: list[Any] = []
        self.syncs = 0
        self.sync_errors: list[str] = []
        self._changed = asyncio.Event()
        client.add_event_handler(EventType.ALL, self._keep)
        client.add_event_handler(InternalEventType.SYNC_SUCCESSFUL, self._synced)
        client.add_event_handler(InternalEventType.SYNC_ERRORED, self._sync_failed)

    async def _keep(self, event: Any) -> None:
        self.events.append(event)
        self._changed.set()

    async def _synced(self, data: Any) -> None:
        self.syncs += 1
        self._changed.set()

    async def _sync_failed(self, data: Any) -> None:
        self.sync_errors.append(repr(data.get("error") if isinstance(data, dict) else data))
        self._changed.set()

    async def first(self, what: str, matches: Callable[[Any], bool], *, after: int = 0) -> Any:
        """The first event (of those after the first `after`) that `matches`, now or once it comes; a failure naming
        `what` after WAIT seconds."""
        await self.until(what, lambda: any(matches(event) for event in self.events[after:]))
        return next(event for event in self.events[after:] if matches(event))

    async def until(self, what: str, holds: Callable[[], bool]) -> None:
        """Wait until `holds()` (checked after every sync and event); a failure naming `what` after WAIT seconds."""
        deadline = asyncio.get_running_loop().time() + WAIT
        while not holds():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or self.sync_errors:
                raise AssertionError(f"waited for {what}; sync errors: {self.sync_errors}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue


def message(room_id: str, body: str) -> Callable[[Any], bool]:
    """Matches a timeline message in `room_id` with this body."""
    return lambda e: e.type == EventType.ROOM_MESSAGE and e.room_id == room_id and e.content.body == body


def membership(room_id: str, user_id: str, state: Membership) -> Callable[[Any], bool]:
    """Matches `user_id`'s member event in `room_id` with this membership."""
    return lambda e: (
        e.type == EventType.ROOM_MEMBER
        and e.room_id == room_id
        and e.state_key == user_id
        and e.content.membership == state
    )


async def logged_in(url: str, user: str, password: str) -> tuple[Client, Seen]:
    """A mautrix Client logged in by password (a new device), syncing, with what it sees."""
    client = Client(base_url=url)
    await client.login(identifier=UserID(user), password=password, device_name=f"{user} (mautrix)")
    seen = Seen(client)
    client.start(None)
    await seen.until(f"{user}'s first sync", lambda: seen.syncs > 0)
    return client, seen


async def client_flow(url: str) -> dict[str, Any]:
    alice, alice_saw = await logged_in(url, "alice", "alice-pass")
    bob, bob_saw = await logged_in(url, "bob", "bob-pass")
    found: dict[str, Any] = {"alice": alice.mxid, "bob": bob.mxid, "devices": {alice.device_id, bob.device_id}}
    try:
        # The first sync brings the lobby's state: its name from the scenario.
        await bob_saw.first("the lobby's name in bob's first sync", lambda e: e.type == EventType.ROOM_NAME)

        sent = await alice.send_text(LOBBY, "hello from mautrix")
        got = await bob_saw.first("alice's message, seen by bob", message(LOBBY, "hello from mautrix"))
        found["message"] = (sent, got.event_id, got.sender)

        await alice.set_typing(LOBBY, timeout=30000)
        await bob_saw.first(
            "alice typing, seen by bob", lambda e: e.type == EventType.TYPING and ALICE in e.content.user_ids
        )
        typing_seen = len(bob_saw.events)
        await alice.set_typing(LOBBY, timeout=0)
        await bob_saw.first(
            "alice no longer typing, seen by bob",
            lambda e: e.type == EventType.TYPING and ALICE not in e.content.user_ids,
            after=typing_seen,
        )

        await bob.send_receipt(LOBBY, sent)
        receipt = await alice_saw.first(
            "bob's read receipt, seen by alice",
            lambda e: e.type == EventType.RECEIPT and BOB in e.content.get(sent, {}).get(ReceiptType.READ, {}),
        )
        found["receipt_room"] = receipt.room_id
        await bob.set_fully_read_marker(LOBBY, sent, sent)
        found["fully_read"] = (await bob.get_account_data("m.fully_read", LOBBY))["event_id"]

        found["members"] = {
            user_id: member.displayname for user_id, member in (await alice.get_joined_members(LOBBY)).items()
        }

        await alice.send_state_event(LOBBY, EventType.ROOM_TOPIC, RoomTopicStateEventContent(topic="From mautrix"))
        await alice.send_state_event(LOBBY, EventType.ROOM_NAME, RoomNameStateEventContent(name="Lobby (mautrix)"))
        await bob_saw.first(
            "the new topic, seen by bob",
            lambda e: e.type == EventType.ROOM_TOPIC and e.room_id == LOBBY and e.content.topic == "From mautrix",
        )
        found["topic"] = (await bob.get_state_event(LOBBY, EventType.ROOM_TOPIC)).topic
        state = {(e.type.t, e.state_key): e for e in await bob.get_state(LOBBY)}
        found["state_name"] = state["m.room.name", ""].content.name
        found["state_members"] = sorted(k for t, k in state if t == "m.room.member")

        await alice.set_displayname("Alice Mautrix")
        renamed = await bob_saw.first(
            "alice's new display name, seen by bob",
            lambda e: membership(LOBBY, ALICE, Membership.JOIN)(e) and e.content.displayname == "Alice Mautrix",
        )
        found["displayname"] = (renamed.content.displayname, await bob.get_displayname(alice.mxid))

        await bob.leave_room(LOBBY)
        await alice_saw.first("bob leaving, seen by alice", membership(LOBBY, BOB, Membership.LEAVE))
        seen_before = len(alice_saw.events)  # bob's first join is among them
        joined = await bob.join_room(LOBBY)
        await alice_saw.first(
            "bob joining again, seen by alice", membership(LOBBY, BOB, Membership.JOIN), after=seen_before
        )
        await alice.send_text(LOBBY, "welcome back")
        await bob_saw.first("a message after rejoining, seen by bob", message(LOBBY, "welcome back"))
        found["rejoined"] = (joined, await bob.get_joined_rooms())

        uri = await alice.upload_media(b"hello mautrix media", mime_type="text/plain", filename="hello.txt")
        found["media"] = (uri, await bob.download_media(uri))
    finally:
        for client in (alice, bob):
            client.stop()
            await client.api.session.close()
    return found


@pytest.mark.timeout(120)
def test_mautrix_client_flow() -> None:
    with observed_mock(default_scenario()) as (mock, log), log.blamed():
        found = asyncio.run(client_flow(mock.url))
    log.assert_no_gaps()

    assert (found["alice"], found["bob"]) == (ALICE, BOB)
    assert len(found["devices"]) == 2
    sent, bob_got, sender = found["message"]
    assert (bob_got, sender) == (sent, ALICE)
    assert found["receipt_room"] == LOBBY
    assert found["fully_read"] == sent
    assert found["members"] == {ALICE: "Alice", BOB: "Bob"}
    assert found["topic"] == "From mautrix"
    assert found["state_name"] == "Lobby (mautrix)"
    assert found["state_members"] == [ALICE, BOB]
    assert found["displayname"] == ("Alice Mautrix", "Alice Mautrix")
    joined, bob_rooms = found["rejoined"]
    assert joined == LOBBY and LOBBY in bob_rooms
    uri, downloaded = found["media"]
    assert uri.startswith("mxc://localhost/"), uri
    assert downloaded == b"hello mautrix media"


async def echo_bot_flow(url: str) -> dict[str, Any]:
    bot = Client(mxid=UserID(BOT), device_id="ECHOBOT", base_url=url, token="echobot-token")
    alice = Client(mxid=UserID(ALICE), device_id="ALICEDEV", base_url=url, token=ALICE_TOKEN)
    replies: list[str] = []

    async def on_invite(event: Any) -> None:
        # Only from the invite section: once joined, the room's state repeats the invite event.
        if event.source & SyncStream.INVITED_ROOM and event.state_key == bot.mxid:
            await bot.join_room(event.room_id)

    async def on_message(event: Any) -> None:
        body = event.content.body
        if event.sender != bot.mxid and body.startswith("!echo "):
            reply_to = RelatesTo(in_reply_to=InReplyTo(event_id=event.event_id))
            replies.append(
                await bot.send_text(event.room_id, body[6:], msgtype=MessageType.NOTICE, relates_to=reply_to)
            )

    bot.add_event_handler(EventType.ROOM_MEMBER, on_invite)
    bot.add_event_handler(EventType.ROOM_MESSAGE, on_message)
    alice_saw = Seen(alice)
    bot_saw = Seen(bot)
    bot.start(None)
    alice.start(None)
    try:
        room_id = await alice.create_room(name="Echo")
        await alice.invite_user(room_id, bot.mxid)
        await alice_saw.first("the bot joining, seen by alice", membership(room_id, BOT, Membership.JOIN))
        asked = await alice.send_text(room_id, "!echo hi")
        reply = await alice_saw.first(
            "the bot's reply, seen by alice",
            lambda e: e.type == EventType.ROOM_MESSAGE and e.room_id == room_id and e.sender == BOT,
        )
        return {
            "bot_errors": bot_saw.sync_errors,
            "asked": asked,
            "reply": (reply.content.msgtype, reply.content.body, reply.content.get_reply_to()),
            "replies": replies,
            "reply_id": reply.event_id,
        }
    finally:
        for client in (alice, bot):
            client.stop()
            await client.api.session.close()


@pytest.mark.timeout(120)
def test_mautrix_echo_bot_joins_when_invited_and_replies() -> None:
    scenario = load_scenario_text(BOT_SCENARIO, "<bot scenario>")
    with observed_mock(scenario) as (mock, log), log.blamed():
        found = asyncio.run(echo_bot_flow(mock.url))
    log.assert_no_gaps()

    assert found["bot_errors"] == []
    assert found["reply"] == (MessageType.NOTICE, "hi", found["asked"])
    assert found["replies"] == [found["reply_id"]]
