// Stands in for node:fs / node:module / node:path in the browser bundle: @rnnkit/ops imports them
// lazily, only when it runs in Node, so nothing here is ever called.
export {};
