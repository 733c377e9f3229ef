// matrix-bot-sdk's plain bot flow against a mock homeserver, encryption off, through the SDK's own API only.
//
//   node bot_flow.mjs BASE_URL BOT_TOKEN ALICE_TOKEN STORAGE_DIR
//
// An echo bot (SimpleFsStorageProvider in STORAGE_DIR, AutojoinRoomsMixin) and alice (another MatrixClient) sync;
// alice creates a room and invites the bot, the bot joins by itself, alice says "!echo hi", the bot replies with a
// notice. Prints one JSON object saying what each side saw; on failure, exits 1 naming the step that failed.

import path from "node:path";

import {
    AutojoinRoomsMixin,
    LogLevel,
    LogService,
    MatrixClient,
    MemoryStorageProvider,
    SimpleFsStorageProvider,
} from "matrix-bot-sdk";

const WAIT_MS = 15000; // for any one thing to happen

// stdout carries only the result: the SDK logs through console.
const print = (text) => process.stdout.write(text + "\n");
console.log = console.info = console.debug = console.error;
LogService.setLevel(LogLevel.WARN);

const [baseUrl, botToken, aliceToken, storageDir] = process.argv.slice(2);
if (!storageDir) {
    console.error("usage: node bot_flow.mjs BASE_URL BOT_TOKEN ALICE_TOKEN STORAGE_DIR");
    process.exit(2);
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

async function main() {
    step = "start the bot";
    const bot = new MatrixClient(baseUrl, botToken, new SimpleFsStorageProvider(path.join(storageDir, "bot.json")));
    clients.push(bot);
    AutojoinRoomsMixin.setupOnClient(bot);
    const BOT = await bot.getUserId();
    const replies = [];
    bot.on("room.message", async (roomId, event) => {
        const body = event.content?.body;
        if (event.sender === BOT || typeof body !== "string" || !body.startsWith("!echo ")) return;
        try {
            replies.push(await bot.replyNotice(roomId, event, body.slice("!echo ".length)));
        } catch (error) {
            console.error(`bot_flow: the bot could not reply: ${error?.stack ?? error}`);
        }
    });
    await bot.start();

    step = "start alice";
    const alice = new MatrixClient(baseUrl, aliceToken, new MemoryStorageProvider());
    clients.push(alice);
    const ALICE = await alice.getUserId();
    await alice.start();
    result.users = { bot: BOT, alice: ALICE };

    step = "invite the bot";
    const roomId = await alice.createRoom({ preset: "private_chat", name: "Echo" });
    const botJoins = waitFor(alice, "room.event", (room, event) => room === roomId &&
        event.type === "m.room.member" && event.state_key === BOT && event.content?.membership === "join",
        "the bot joining the room, seen by alice");
    await alice.inviteUser(BOT, roomId);
    await botJoins;
    result.joined = { room_id: roomId, bot_rooms: await bot.getJoinedRooms() };

    step = "echo";
    const replyArrives = waitFor(alice, "room.message", (room, event) => room === roomId && event.sender === BOT,
        "the bot's reply, seen by alice");
    const asked = await alice.sendText(roomId, "!echo hi");
    const [, reply] = await replyArrives;
    result.echo = {
        asked,
        reply: {
            event_id: reply.event_id,
            msgtype: reply.content.msgtype,
            body: reply.content.body,
            in_reply_to: reply.content["m.relates_to"]?.["m.in_reply_to"]?.event_id ?? null,
        },
        bot_sent: replies,
    };
}

const watchdog = setTimeout(() => {
    console.error(`bot_flow: step "${step}" did not finish within 60 s`);
    process.exit(1);
}, 60000);

try {
    await main();
    print(JSON.stringify(result));
} catch (error) {
    console.error(`bot_flow: step "${step}" failed: ${error?.stack ?? error}`);
    console.error(`bot_flow: so far: ${JSON.stringify(result)}`);
    process.exitCode = 1;
} finally {
    clearTimeout(watchdog);
    for (const client of clients) client.stop();
}
// A stopped client's pending long poll would keep node alive until its timeout.
process.exit(process.exitCode ?? 0);
