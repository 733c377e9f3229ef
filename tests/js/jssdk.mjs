// matrix-js-sdk, as the flow scripts here use it: quiet logs, a password login as a fresh device, a first sync.

import { ClientEvent, createClient, MatrixEventEvent } from "matrix-js-sdk";
import { logger as sdkLogger } from "matrix-js-sdk/lib/logger.js";

import { waitFor } from "./flow.mjs";

// Parts of the SDK log through its global logger (a loglevel logger, at debug by default) rather than the client's.
sdkLogger.setLevel("warn");

/** A matrix-js-sdk logger that keeps warnings and errors (on stderr, for a failing test to show) and drops the rest. */
export function quietLogger(name) {
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

/** A client logged in by password as a new device, the way matrix-js-sdk recommends (a fresh client per login);
 * added to `clients`, to be stopped at the end. */
export async function login(baseUrl, clients, user, password, deviceName) {
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
    return client;
}

/** Starts syncing with `options` and resolves at PREPARED; rejects if the first sync fails (ERROR first). */
export async function start(client, options, waitMs) {
    const ready = waitFor(
        client,
        ClientEvent.Sync,
        (state) => state === "PREPARED" || state === "ERROR",
        "PREPARED",
        waitMs,
    );
    await client.startClient(options);
    const [state, , data] = await ready;
    if (state !== "PREPARED") throw new Error(`the first sync failed: ${data?.error ?? state}`);
}

/** A fresh device of `user`, logged in by password, with Rust crypto in memory (the wasm build inside the npm
 * package), synced up to PREPARED. */
export async function cryptoDevice(baseUrl, clients, user, password, deviceName, waitMs) {
    const client = await login(baseUrl, clients, user, password, deviceName);
    await client.initRustCrypto({ useIndexedDB: false });
    await start(client, { initialSyncLimit: 10 }, waitMs);
    return client;
}

/** What `client` decrypted, once the next encrypted event in `roomId` decrypts to `body` there. */
export function decrypts(client, roomId, body, waitMs) {
    return waitFor(
        client,
        MatrixEventEvent.Decrypted,
        (event) => event.getRoomId() === roomId && event.getContent().body === body,
        `${JSON.stringify(body)} decrypted by ${client.getDeviceId()}`,
        waitMs,
    ).then(([event]) => ({
        event_id: event.getId(),
        wire_type: event.getWireType(),
        type: event.getType(),
        body: event.getContent().body,
        sender: event.getSender(),
    }));
}
