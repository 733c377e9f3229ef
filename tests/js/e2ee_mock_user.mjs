// matrix-js-sdk with its Rust crypto, talking to one of the mock's own encrypted users.
//
//   node e2ee_mock_user.mjs BASE_URL ROOM_ID BOB_SAYS ALICE_SAYS
//
// alice logs in as a fresh device and syncs; in ROOM_ID (encrypted; bob, the mock's encrypted user, says BOB_SAYS
// there again and again) she decrypts what bob says, then sends ALICE_SAYS, which the mock decrypts (the test reads it
// back). Prints one JSON object saying what alice saw; on failure, exits 1 naming the step.

import { ClientEvent, createClient, MatrixEventEvent } from "matrix-js-sdk";
import { logger as sdkLogger } from "matrix-js-sdk/lib/logger.js";

const WAIT_MS = 30000; // for any one thing to happen

const print = (text) => process.stdout.write(text + "\n");
console.log = console.info = console.debug = console.error;
sdkLogger.setLevel("warn");

const [baseUrl, roomId, bobSays, aliceSays] = process.argv.slice(2);
if (!aliceSays) {
    console.error("usage: node e2ee_mock_user.mjs BASE_URL ROOM_ID BOB_SAYS ALICE_SAYS");
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

async function main() {
    step = "log in with Rust crypto";
    const alice = await device("alice", "alice-pass", "alice e2ee");
    result.device = alice.getDeviceId();

    step = "decrypt what the mock's encrypted user says";
    result.received = await decrypts(alice, roomId, bobSays);

    step = "send to the mock's encrypted user";
    const sent = await alice.sendTextMessage(roomId, aliceSays);
    result.sent = sent.event_id;
}

const watchdog = setTimeout(() => {
    console.error(`e2ee_mock_user: step "${step}" did not finish within 110 s`);
    process.exit(1);
}, 110000);

try {
    await main();
    print(JSON.stringify(result));
} catch (error) {
    console.error(`e2ee_mock_user: step "${step}" failed: ${error?.stack ?? error}`);
    console.error(`e2ee_mock_user: so far: ${JSON.stringify(result)}`);
    process.exitCode = 1;
} finally {
    clearTimeout(watchdog);
    for (const client of clients) client.stopClient();
}
process.exit(process.exitCode ?? 0);
