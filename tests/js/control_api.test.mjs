// A JavaScript test suite driving mockmx through its control API, with no Python: node's own test runner and
// matrix-js-sdk against `mockmx serve`. Each test starts from the scenario's start (POST /_mockmx/reset), injects
// with POST /_mockmx/script, and asserts through the journals, waiting with `wait` and `count` instead of sleeping.
//
//   MOCKMX_URL=http://127.0.0.1:8008 node --test control_api.test.mjs

import assert from "node:assert/strict";
import { after, beforeEach, test } from "node:test";

import { ClientEvent, createClient, RoomEvent } from "matrix-js-sdk";
import { logger as sdkLogger } from "matrix-js-sdk/lib/logger.js";

const BASE = process.env.MOCKMX_URL;
assert.ok(BASE, "set MOCKMX_URL to the mock's URL");
const LOBBY = "!lobby:localhost";
const WAIT_MS = 10000;
sdkLogger.setLevel("warn");

/** The control API: JSON in and out, a Matrix error thrown as an assertion failure with its body. */
async function control(method, path, body) {
    const init = { method };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    const response = await fetch(`${BASE}/_mockmx/${path}`, init);
    const answer = await response.json();
    assert.equal(response.status, 200, `${method} /_mockmx/${path}: ${JSON.stringify(answer)}`);
    return answer;
}

const quiet = { debug() {}, info() {}, log() {}, warn() {}, error: console.error, getChild() { return quiet; } };

async function syncedClient(user, password) {
    const login = await createClient({ baseUrl: BASE, logger: quiet }).loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user },
        password,
    });
    const client = createClient({
        baseUrl: BASE,
        userId: login.user_id,
        accessToken: login.access_token,
        deviceId: login.device_id,
        logger: quiet,
    });
    const prepared = new Promise((resolve) =>
        client.on(ClientEvent.Sync, (state) => state === "PREPARED" && resolve()),
    );
    await client.startClient({ initialSyncLimit: 5 });
    await prepared;
    return client;
}

// matrix-js-sdk leaves timers behind after stopClient that hold the process for minutes: once every test is done
// and reported, end it.
after(() => setTimeout(() => process.exit(), 100));

beforeEach(async () => {
    const reset = await control("POST", "reset");
    assert.equal(reset.server_name, "localhost");
});

test("a reset forgets what the last test did", async () => {
    const { requests } = await control("GET", "requests");
    assert.deepEqual(requests, []);
    const { faults } = await control("GET", "faults");
    assert.deepEqual(faults, []);
});

test("a scripted message reaches matrix-js-sdk, and the journal shows its sync", async () => {
    const alice = await syncedClient("alice", "alice-pass");
    try {
        const seen = new Promise((resolve) =>
            alice.on(RoomEvent.Timeline, (event) => {
                if (event.getType() === "m.room.message" && event.getContent().body === "injected from node") {
                    resolve(event);
                }
            }),
        );
        const made = await control("POST", "script", { sender: "bob", room: "lobby", say: "injected from node" });
        assert.equal(made.event_ids.length, 1);
        let timer;
        const event = await Promise.race([
            seen,
            new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error("the message never came")), WAIT_MS);
            }),
        ]).finally(() => clearTimeout(timer));
        assert.equal(event.getId(), made.event_ids[0]);
        assert.equal(event.getSender(), "@bob:localhost");
        // Alice's syncs are in the journal, with her user id: wait for at least two, without sleeping.
        const route = encodeURIComponent("/_matrix/client/v3/sync");
        const { requests } = await control(
            "GET",
            `requests?route=${route}&user_id=${encodeURIComponent("@alice:localhost")}&wait=${WAIT_MS}&count=2`,
        );
        assert.ok(requests.length >= 2, JSON.stringify(requests.map((r) => r.path)));
        assert.ok(requests.every((r) => r.status === 200));
    } finally {
        alice.stopClient();
    }
});

test("a message sent with the SDK is pushed, and the notification journal waits for it", async () => {
    const alice = await syncedClient("alice", "alice-pass");
    try {
        const { event_id } = await alice.sendTextMessage(LOBBY, "push this to bob");
        // bob's pusher (the default scenario's) pushes to this mock's own gateway.
        const { notifications } = await control(
            "GET",
            `notifications?event_id=${encodeURIComponent(event_id)}&wait=${WAIT_MS}&count=1`,
        );
        assert.equal(notifications.length, 1);
        assert.equal(notifications[0].notification.content.body, "push this to bob");
        const { requests } = await control("GET", "requests?method=PUT&wait=0");
        const sent = requests.find((r) => r.response_body?.event_id === event_id);
        assert.equal(sent.request_body.body, "push this to bob");
        assert.equal(sent.user_id, "@alice:localhost");
    } finally {
        alice.stopClient();
    }
});

test("a fault rule added at run time fails the SDK's request once, and counts it", async () => {
    const rule = await control("POST", "faults", "path: /_matrix/client/v3/account/whoami\nstatus: 503\ntimes: 1\n");
    const client = createClient({ baseUrl: BASE, accessToken: "alice-token", userId: "@alice:localhost", logger: quiet });
    await assert.rejects(client.whoami(), (error) => error.httpStatus === 503);
    assert.equal((await client.whoami()).user_id, "@alice:localhost");
    const { faults } = await control("GET", "faults");
    assert.deepEqual([faults[0].id, faults[0].matched, faults[0].applied], [rule.id, 2, 1]);
});

test("to-device messages from the script wait per device until a sync takes them", async () => {
    await control("POST", "script", { sender: "alice", type: "org.example.ping", to_device: { bob: { "*": { n: 1 } } } });
    const { devices } = await control("GET", `to_device?user_id=${encodeURIComponent("@bob:localhost")}&wait=${WAIT_MS}&count=2`);
    assert.deepEqual(devices.map((d) => [d.device_id, d.pending.length, d.delivered.length]).sort(), [
        ["BOBLAPTOP", 1, 0],
        ["BOBPHONE", 1, 0],
    ]);
});

test("a bad script entry is refused with where the problem is", async () => {
    const response = await fetch(`${BASE}/_mockmx/script`, { method: "POST", body: "sender: nobody\nroom: lobby\nsay: hi\n" });
    const body = await response.json();
    assert.equal(response.status, 400);
    assert.equal(body.errcode, "M_BAD_JSON");
    assert.deepEqual(body.problems, [{ line: 1, column: 9, message: "sender: unknown user 'nobody'" }]);
});
