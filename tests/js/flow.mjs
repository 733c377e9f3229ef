// What every SDK flow script here shares: stdout for the result alone, waiting for an event, and the run itself
// (the step that failed, a watchdog, the clients stopped, node ended even with pending long polls).

// stdout carries only the result: the SDKs log through console, which goes to stderr.
export const print = (text) => process.stdout.write(text + "\n");
console.log = console.info = console.debug = console.error;

/** The script's arguments, or a usage line and exit 2 when fewer than `names` are given. */
export function args(script, ...names) {
    const given = process.argv.slice(2);
    if (given.length < names.length) {
        console.error(`usage: node ${script} ${names.join(" ")}`);
        process.exit(2);
    }
    return given;
}

/** Resolves with the listener's arguments once `predicate` holds for an `event` from `emitter`. */
export function waitFor(emitter, event, predicate, what, waitMs) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            emitter.off(event, listener);
            reject(new Error(`waited ${waitMs} ms for ${what}`));
        }, waitMs);
        function listener(...args) {
            if (!predicate(...args)) return;
            clearTimeout(timer);
            emitter.off(event, listener);
            resolve(args);
        }
        emitter.on(event, listener);
    });
}

/** Runs `main(flow)`, where `flow.step` names what it is doing, `flow.result` collects what it saw and
 * `flow.clients` the clients to stop; prints the result, or exits 1 naming the step that failed or overran. */
export async function run(script, timeoutMs, main) {
    const flow = { step: "start", result: {}, clients: [] };
    const watchdog = setTimeout(() => {
        console.error(`${script}: step "${flow.step}" did not finish within ${timeoutMs / 1000} s`);
        process.exit(1);
    }, timeoutMs);
    try {
        await main(flow);
        print(JSON.stringify(flow.result));
    } catch (error) {
        console.error(`${script}: step "${flow.step}" failed: ${error?.stack ?? error}`);
        console.error(`${script}: so far: ${JSON.stringify(flow.result)}`);
        process.exitCode = 1;
    } finally {
        clearTimeout(watchdog);
        for (const client of flow.clients) {
            if (typeof client.stopClient === "function") client.stopClient(); // matrix-js-sdk
            else client.stop(); // matrix-bot-sdk
        }
    }
    // Pending long polls and timers of stopped clients would keep node alive for their timeouts.
    process.exit(process.exitCode ?? 0);
}
