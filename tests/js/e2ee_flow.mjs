// matrix-js-sdk with its Rust crypto (the wasm build inside the npm package) in an encrypted room on a mock homeserver.
//
//   node e2ee_flow.mjs BASE_URL
//
// alice and bob log in as fresh devices; alice creates an encrypted room and invites bob, who joins; alice sends and
// bob decrypts. Then bob logs in on a second device: alice hears of it (a device list change), and the second device
// decrypts alice's next message. Prints one JSON object saying what each side saw; on failure, exits 1 naming the step.

import { RoomMemberEvent } from "matrix-js-sdk";

import { args, run, waitFor as waitForAny } from "./flow.mjs";
import { cryptoDevice, decrypts as decryptsWithin } from "./jssdk.mjs";

const WAIT_MS = 30000; // for any one thing to happen
const ENCRYPTION = { algorithm: "m.megolm.v1.aes-sha2" };

const [baseUrl] = args("e2ee_flow.mjs", "BASE_URL");
const waitFor = (emitter, event, predicate, what) => waitForAny(emitter, event, predicate, what, WAIT_MS);
const decrypts = (client, roomId, body) => decryptsWithin(client, roomId, body, WAIT_MS);

/** Polls `check` (async) until it returns something truthy. */
async function eventually(check, what) {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
        const found = await check();
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`waited ${WAIT_MS} ms for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

/** Whether `client`'s crypto knows `deviceId` among `userId`'s devices (from a /keys/query it made). */
async function knowsDevice(client, userId, deviceId) {
    const devices = await client.getCrypto().getUserDeviceInfo([userId]);
    return devices.get(userId)?.has(deviceId) ?? false;
}

async function main(flow) {
    const device = (user, password, deviceName) =>
        cryptoDevice(baseUrl, flow.clients, user, password, deviceName, WAIT_MS);
    const result = flow.result;
    flow.step = "log in with Rust crypto";
    const alice = await device("alice", "alice-pass", "alice e2ee");
    const bob = await device("bob", "bob-pass", "bob e2ee");
    const BOB = bob.getUserId();
    result.devices = { alice: alice.getDeviceId(), bob: bob.getDeviceId() };

    flow.step = "create an encrypted room and invite bob";
    const invited = waitFor(bob, RoomMemberEvent.Membership, (event, member) => member.userId === BOB &&
        member.membership === "invite", "bob's invite");
    const { room_id: roomId } = await alice.createRoom({
        name: "Secret",
        invite: [BOB],
        initial_state: [{ type: "m.room.encryption", state_key: "", content: ENCRYPTION }],
    });
    await invited;
    const joined = waitFor(alice, RoomMemberEvent.Membership, (event, member) => member.roomId === roomId &&
        member.userId === BOB && member.membership === "join", "bob's join, seen by alice");
    await bob.joinRoom(roomId);
    await joined;
    result.room = {
        room_id: roomId,
        alice_sees_encrypted: alice.getCrypto().isEncryptionEnabledInRoom
            ? await alice.getCrypto().isEncryptionEnabledInRoom(roomId)
            : alice.isRoomEncrypted(roomId),
    };

    flow.step = "alice sends, bob decrypts";
    let bobDecrypts = decrypts(bob, roomId, "first secret");
    await alice.sendTextMessage(roomId, "first secret");
    result.first = await bobDecrypts;

    flow.step = "bob's second device";
    const bob2 = await device("bob", "bob-pass", "bob e2ee 2");
    result.devices.bob2 = bob2.getDeviceId();
    // alice learns of the new device from a device list change in her sync, then queries bob's keys.
    await eventually(() => knowsDevice(alice, BOB, bob2.getDeviceId()), "alice knowing bob's second device");
    result.alice_knows_bob2 = true;

    flow.step = "alice sends, both of bob's devices decrypt";
    bobDecrypts = decrypts(bob, roomId, "second secret");
    const bob2Decrypts = decrypts(bob2, roomId, "second secret");
    await alice.sendTextMessage(roomId, "second secret");
    result.second = { bob: await bobDecrypts, bob2: await bob2Decrypts };
}

await run("e2ee_flow", 110000, main);
