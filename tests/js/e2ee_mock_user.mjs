// matrix-js-sdk with its Rust crypto, talking to one of the mock's own encrypted users.
//
//   node e2ee_mock_user.mjs BASE_URL ROOM_ID BOB_SAYS ALICE_SAYS
//
// alice logs in as a fresh device and syncs; in ROOM_ID (encrypted; bob, the mock's encrypted user, says BOB_SAYS
// there again and again) she decrypts what bob says, then sends ALICE_SAYS, which the mock decrypts (the test reads it
// back). Prints one JSON object saying what alice saw; on failure, exits 1 naming the step.

import { args, run } from "./flow.mjs";
import { cryptoDevice, decrypts as decryptsWithin } from "./jssdk.mjs";

const WAIT_MS = 30000; // for any one thing to happen

const [baseUrl, roomId, bobSays, aliceSays] =
    args("e2ee_mock_user.mjs", "BASE_URL", "ROOM_ID", "BOB_SAYS", "ALICE_SAYS");
const decrypts = (client, roomId, body) => decryptsWithin(client, roomId, body, WAIT_MS);

async function main(flow) {
    const device = (user, password, deviceName) =>
        cryptoDevice(baseUrl, flow.clients, user, password, deviceName, WAIT_MS);
    const result = flow.result;
    flow.step = "log in with Rust crypto";
    const alice = await device("alice", "alice-pass", "alice e2ee");
    result.device = alice.getDeviceId();

    flow.step = "decrypt what the mock's encrypted user says";
    result.received = await decrypts(alice, roomId, bobSays);

    flow.step = "send to the mock's encrypted user";
    const sent = await alice.sendTextMessage(roomId, aliceSays);
    result.sent = sent.event_id;
}

await run("e2ee_mock_user", 110000, main);
