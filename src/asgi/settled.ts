/**
 * One promise that is already fulfilled, shared by mtaio's server and framework.
 *
 * The server's `send()` returns this very object when it has finished with an event (nearly
 * always: a whole body goes to the socket at once). Code in this package that gets it back may
 * go on at once instead of awaiting it: an `await` of a fulfilled promise still costs a
 * microtask, a suspended frame and its resumption — three of them per plain response, a
 * measurable share of a small request. Anything else (another server's `send`, a middleware's
 * async wrapper) is awaited as usual, so this is only ever a shortcut, never a change in order:
 * the next event is sent after the previous `send()` has settled, as ASGI requires.
 */
export const SETTLED: Promise<void> = Promise.resolve();
