// matrix-js-sdk's ordinary client flow against a mock homeserver, through the SDK's own API only.
//
//   node client_flow.mjs BASE_URL
//
// alice and bob (the default scenario) log in by password and sync; then, in !lobby:localhost: a message, scrollback
// on a fresh device, typing, read receipts, topic and name, a display name, bob leaving and rejoining, and media.
// Prints one JSON object saying what each side saw; on failure, exits 1 naming the step that failed.

import { RoomEvent, RoomMemberEvent, RoomStateEvent } from "matrix-js-sdk";

import { args, run, waitFor as waitForAny } from "./flow.mjs";
import { login as loginAt, start as startWith } from "./jssdk.mjs";

const LOBBY = "!lobby:localhost";
const WAIT_MS = 15000; // for any one thing to happen
const HISTORY = 12; // messages sent before a fresh device syncs with a timeline limit of 3, then scrolls back

const [baseUrl] = args("client_flow.mjs", "BASE_URL");
const waitFor = (emitter, event, predicate, what) => waitForAny(emitter, event, predicate, what, WAIT_MS);

/** Starts syncing as Element does (members loaded lazily) and resolves at PREPARED. */
const start = (client, initialSyncLimit) => startWith(client, { initialSyncLimit, lazyLoadMembers: true }, WAIT_MS);

/** A message in `roomId` with this body, as a client's timeline receives it live. */
function messageArrives(client, roomId, body) {
    return waitFor(
        client,
        RoomEvent.Timeline,
        (event, room, toStartOfTimeline) =>
            room?.roomId === roomId && !toStartOfTimeline && event.getType() === "m.room.message" &&
            event.getContent().body === body,
        `the message ${JSON.stringify(body)} on ${client.getUserId()}'s timeline`,
    ).then(([event]) => event);
}

const bodies = (room) =>
    room.getLiveTimeline().getEvents().filter((e) => e.getType() === "m.room.message").map((e) => e.getContent().body);

async function main(flow) {
    const login = (user, password, deviceName) => loginAt(baseUrl, flow.clients, user, password, deviceName);
    const result = flow.result;
    flow.step = "log in and sync";
    const alice = await login("alice", "alice-pass", "alice js-sdk");
    const bob = await login("bob", "bob-pass", "bob js-sdk");
    await start(alice, 10);
    await start(bob, 10);
    const ALICE = alice.getUserId();
    const BOB = bob.getUserId();
    result.login = { alice: ALICE, alice_device: alice.getDeviceId(), bob: BOB, bob_device: bob.getDeviceId() };
    result.prepared = { alice_rooms: alice.getRooms().map((r) => r.roomId).sort(), bob_lobby_name: bob.getRoom(LOBBY)?.name };

    flow.step = "send a message";
    let arrives = messageArrives(bob, LOBBY, "hello bob");
    const sent = await alice.sendTextMessage(LOBBY, "hello bob");
    const seen = await arrives;
    result.message = { sent: sent.event_id, bob_saw: { event_id: seen.getId(), sender: seen.getSender(), body: seen.getContent().body } };

    flow.step = "members";
    // With lazy loading, the sync holds only the members that speak; the room asks for the rest (GET .../members).
    const bobsLobby = bob.getRoom(LOBBY);
    await bobsLobby.loadMembersIfNeeded();
    result.members = {
        loaded: bobsLobby.getJoinedMembers().map((m) => [m.userId, m.name]).sort(),
        joined: Object.entries((await bob.getJoinedRoomMembers(LOBBY)).joined)
            .map(([userId, m]) => [userId, m.display_name]).sort(),
    };

    flow.step = "scrollback";
    for (let n = 1; n <= HISTORY; n++) await alice.sendTextMessage(LOBBY, `history ${n}`);
    const late = await login("bob", "bob-pass", "bob late js-sdk");
    await start(late, 3);
    const lateRoom = late.getRoom(LOBBY);
    const before = bodies(lateRoom);
    // scrollback goes back `limit` events at most per call; stop at the room's start (no token left).
    for (let round = 0; round < 5 && !bodies(lateRoom).includes("history 1"); round++) {
        await late.scrollback(lateRoom, 30);
        if (lateRoom.oldState.paginationToken === null) break;
    }
    result.scrollback = { before, after: bodies(lateRoom) };
    late.stopClient();

    flow.step = "typing";
    const typingStarts = waitFor(bob, RoomMemberEvent.Typing, (event, member) => member.userId === ALICE && member.typing,
        "alice typing, seen by bob");
    await alice.sendTyping(LOBBY, true, 30000);
    await typingStarts;
    const typingStops = waitFor(bob, RoomMemberEvent.Typing, (event, member) => member.userId === ALICE && !member.typing,
        "alice no longer typing, seen by bob");
    await alice.sendTyping(LOBBY, false, 0);
    await typingStops;
    result.typing = { started: true, stopped: true };

    flow.step = "read receipts";
    const bobsCopy = bob.getRoom(LOBBY).findEventById(sent.event_id);
    const receiptArrives = waitFor(alice, RoomEvent.Receipt,
        (event, room) => room.roomId === LOBBY && room.getEventReadUpTo(BOB) === sent.event_id,
        "bob's read receipt, seen by alice");
    await bob.sendReadReceipt(bobsCopy);
    await receiptArrives;
    const aliceLobby = alice.getRoom(LOBBY);
    result.receipt = {
        alice_sees_bob_read_up_to: aliceLobby.getEventReadUpTo(BOB),
        readers: aliceLobby.getUsersReadUpTo(aliceLobby.findEventById(sent.event_id)),
    };

    flow.step = "room state";
    const bobLobby = bob.getRoom(LOBBY);
    const named = waitFor(bobLobby, RoomEvent.Name, (room) => room.name === "Lobby (js)", "the new room name, seen by bob");
    const topicSet = waitFor(bob, RoomStateEvent.Events, (event) => event.getRoomId() === LOBBY &&
        event.getType() === "m.room.topic" && event.getContent().topic === "Topic from js-sdk", "the new topic, seen by bob");
    await alice.setRoomTopic(LOBBY, "Topic from js-sdk");
    await alice.setRoomName(LOBBY, "Lobby (js)");
    await named;
    await topicSet;
    result.state = {
        bob_sees_name: bobLobby.name,
        bob_sees_topic: bobLobby.currentState.getStateEvents("m.room.topic", "")?.getContent().topic,
        fetched_topic: (await bob.getStateEvent(LOBBY, "m.room.topic", "")).topic,
        fetched_name: (await bob.getStateEvent(LOBBY, "m.room.name", "")).name,
    };

    flow.step = "display name";
    const renamed = waitFor(bob, RoomMemberEvent.Name, (event, member) => member.roomId === LOBBY &&
        member.userId === ALICE && member.name === "Alice Liddell", "alice's new display name, seen by bob");
    await alice.setDisplayName("Alice Liddell");
    await renamed;
    result.profile = {
        bob_sees_member_name: bobLobby.getMember(ALICE)?.name,
        fetched: (await bob.getProfileInfo(ALICE)).displayname,
    };

    flow.step = "leave and rejoin";
    const left = waitFor(alice, RoomMemberEvent.Membership, (event, member) => member.roomId === LOBBY &&
        member.userId === BOB && member.membership === "leave", "bob leaving, seen by alice");
    const leftForBob = waitFor(bob, RoomEvent.MyMembership, (room, membership) => room.roomId === LOBBY &&
        membership === "leave", "bob's leave, in his own sync");
    await bob.leave(LOBBY);
    await left;
    await leftForBob;
    const leftMembership = bob.getRoom(LOBBY)?.getMyMembership();
    const rejoined = waitFor(alice, RoomMemberEvent.Membership, (event, member) => member.roomId === LOBBY &&
        member.userId === BOB && member.membership === "join", "bob joining again, seen by alice");
    await bob.joinRoom(LOBBY);
    await rejoined;
    arrives = messageArrives(bob, LOBBY, "welcome back");
    await alice.sendTextMessage(LOBBY, "welcome back");
    await arrives;
    result.membership = {
        bob_after_leave: leftMembership,
        bob_after_rejoin: bob.getRoom(LOBBY)?.getMyMembership(),
        alice_sees_bob: alice.getRoom(LOBBY).getMember(BOB)?.membership,
        bob_got_message_after_rejoin: true,
    };

    flow.step = "media";
    const upload = await alice.uploadContent(new Blob(["hello media"], { type: "text/plain" }), { name: "hello.txt" });
    // mxcUrlToHttp(mxc, width, height, resizeMethod, allowDirectLinks, allowRedirects, useAuthentication)
    const url = bob.mxcUrlToHttp(upload.content_uri, undefined, undefined, undefined, false, true, true);
    const download = await fetch(url, { headers: { Authorization: `Bearer ${bob.getAccessToken()}` } });
    result.media = {
        content_uri: upload.content_uri,
        download_path: new URL(url).pathname,
        status: download.status,
        content_type: download.headers.get("content-type"),
        body: await download.text(),
    };
}

await run("client_flow", 90000, main);
