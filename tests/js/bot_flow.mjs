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

import { args, run, waitFor as waitForAny } from "./flow.mjs";

const WAIT_MS = 15000; // for any one thing to happen

LogService.setLevel(LogLevel.WARN);

const [baseUrl, botToken, aliceToken, storageDir] =
    args("bot_flow.mjs", "BASE_URL", "BOT_TOKEN", "ALICE_TOKEN", "STORAGE_DIR");
const waitFor = (emitter, event, predicate, what) => waitForAny(emitter, event, predicate, what, WAIT_MS);

async function main(flow) {
    const result = flow.result;
    flow.step = "start the bot";
    const bot = new MatrixClient(baseUrl, botToken, new SimpleFsStorageProvider(path.join(storageDir, "bot.json")));
    flow.clients.push(bot);
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

    flow.step = "start alice";
    const alice = new MatrixClient(baseUrl, aliceToken, new MemoryStorageProvider());
    flow.clients.push(alice);
    const ALICE = await alice.getUserId();
    await alice.start();
    result.users = { bot: BOT, alice: ALICE };

    flow.step = "invite the bot";
    const roomId = await alice.createRoom({ preset: "private_chat", name: "Echo" });
    const botJoins = waitFor(alice, "room.event", (room, event) => room === roomId &&
        event.type === "m.room.member" && event.state_key === BOT && event.content?.membership === "join",
        "the bot joining the room, seen by alice");
    await alice.inviteUser(BOT, roomId);
    await botJoins;
    result.joined = { room_id: roomId, bot_rooms: await bot.getJoinedRooms() };

    flow.step = "echo";
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

await run("bot_flow", 60000, main);
