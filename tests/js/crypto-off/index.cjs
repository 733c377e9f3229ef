// matrix-bot-sdk requires this module when it loads but uses it only when encryption is on: any use fails loudly.
"use strict";

module.exports = new Proxy(
    {},
    {
        get(_target, name) {
            if (typeof name === "symbol" || name === "__esModule" || name === "then") return undefined;
            throw new Error(`@matrix-org/matrix-sdk-crypto-nodejs.${String(name)}: encryption is off in the mockmx SDK tests`);
        },
    },
);
