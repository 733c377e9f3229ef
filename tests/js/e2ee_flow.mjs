// matrix-js-sdk with its Rust crypto (the wasm build inside the npm package) in an encrypted room on a mock homeserver.
//
//   node e2ee_flow.mjs BASE_URL
//
// alice and bob log in as fresh devices; alice creates an encrypted room and invites bob, who joins; alice sends and
// bob decrypts. Then bob logs in on a second device: alice hears of it (a device list change), and the second device
// decrypts alice's next message. Prints one JSON object saying what each side saw; on failure, exits 1 naming the step.

import { ClientEvent, createClient, MatrixEventEvent, RoomMemberEvent } from "matrix-js-sdk";
import { logger as sdkLogger } from "matrix-js-sdk/lib/logger.js";

const WAIT_MS = 30000; // for any one thing to happen
const ENCRYPTION = { algorithm: "m.megolm.v1.aes-sha2" };

const print = (text) => process.stdout.write(text + "\n");
console.log = console.info = console.debug = console.error;
sdkLogger.setLevel("warn");

const [baseUrl] = process.argv.slice(2);
if (!baseUrl) {
    console.error("usage: node e2ee_flow.mjs BASE_URL");
    process.exit(2);
}

/** A matrix-js-sdk logger that keeps warnings and errors (on stderr, for a failing test to show) and drops the rest. */
function quietLogger(name) {
    const say = (level) => (...msg) => console.error(`[${name}] ${level}:`, ...msg);
    const nothing = () => {};
    return {
        trace: nothing,
        debug: nothing,
        info: nothing,
        warn: say("warn"),
        error: say("error"),
        getChild: (namespace) => quietLogger(`${name}${namespace}`),
    };
}

let step = "start";
const result = {};
const clients = [];

/** Resolves with the listener's arguments once `predicate` holds for an `event` from `emitter`. */
function waitFor(emitter, event, predicate, what) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            emitter.off(event, listener);
            reject(new Error(`waited ${WAIT_MS} ms for ${what}`));
        }, WAIT_MS);
        function listener(...args) {
            if (!predicate(...args)) return;
            clearTimeout(timer);
            emitter.off(event, listener);
            resolve(args);
        }
        emitter.on(event, listener);
    });
}

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

/** A fresh device of `user`, logged in by password, with Rust crypto in memory, synced up to PREPARED. */
async function device(user, password, deviceName) {
    const anonymous = createClient({ baseUrl, logger: quietLogger(`${user}/login`) });
    const session = await anonymous.loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user },
        password,
        initial_device_display_name: deviceName,
    });
    const client = createClient({
        baseUrl,
        userId: session.user_id,
        accessToken: session.access_token,
        deviceId: session.device_id,
        logger: quietLogger(deviceName),
    });
    clients.push(client);
    await client.initRustCrypto({ useIndexedDB: false });
    const ready = waitFor(client, ClientEvent.Sync, (state) => state === "PREPARED" || state === "ERROR", "PREPARED");
    await client.startClient({ initialSyncLimit: 10 });
    const [state, , data] = await ready;
    if (state !== "PREPARED") throw new Error(`the first sync failed: ${data?.error ?? state}`);
    return client;
}

/** The decrypted body of the next encrypted event in `roomId` that decrypts to `body` on `client`. */
function decrypts(client, roomId, body) {
    return waitFor(
        client,
        MatrixEventEvent.Decrypted,
        (event) => event.getRoomId() === roomId && event.getContent().body === body,
        `${JSON.stringify(body)} decrypted by ${client.getDeviceId()}`,
    ).then(([event]) => ({
        event_id: event.getId(),
        wire_type: event.getWireType(),
        type: event.getType(),
        body: event.getContent().body,
        sender: event.getSender(),
    }));
}

/** Whether `client`'s crypto knows `deviceId` among `userId`'s devices (from a /keys/query it made). */
async function knowsDevice(client, userId, deviceId) {
    const devices = await client.getCrypto().getUserDeviceInfo([userId]);
    return devices.get(userId)?.has(deviceId) ?? false;
}

async function main() {
    step = "log in with Rust crypto";
    const alice = await device("alice", "alice-pass", "alice e2ee");
    const bob = await device("bob", "bob-pass", "bob e2ee");
    const BOB = bob.getUserId();
    result.devices = { alice: alice.getDeviceId(), bob: bob.getDeviceId() };

    step = "create an encrypted room and invite bob";
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

    step = "alice sends, bob decrypts";
    let bobDecrypts = decrypts(bob, roomId, "first secret");
    await alice.sendTextMessage(roomId, "first secret");
    result.first = await bobDecrypts;

    step = "bob's second device";
    const bob2 = await device("bob", "bob-pass", "bob e2ee 2");
    result.devices.bob2 = bob2.getDeviceId();
    // alice learns of the new device from a device list change in her sync, then queries bob's keys.
    await eventually(() => knowsDevice(alice, BOB, bob2.getDeviceId()), "alice knowing bob's second device");
    result.alice_knows_bob2 = true;

    step = "alice sends, both of bob's devices decrypt";
    bobDecrypts = decrypts(bob, roomId, "second secret");
    const bob2Decrypts = decrypts(bob2, roomId, "second secret");
    await alice.sendTextMessage(roomId, "second secret");
    result.second = { bob: await bobDecrypts, bob2: await bob2Decrypts };
}

const watchdog = setTimeout(() => {
    console.error(`e2ee_flow: step "${step}" did not finish within 110 s`);
    process.exit(1);
}, 110000);

try {
    await main();
    print(JSON.stringify(result));
} catch (error) {
    console.error(`e2ee_flow: step "${step}" failed: ${error?.stack ?? error}`);
    console.error(`e2ee_flow: so far: ${JSON.stringify(result)}`);
    process.exitCode = 1;
} finally {
    clearTimeout(watchdog);
    for (const client of clients) client.stopClient();
}
process.exit(process.exitCode ?? 0);
