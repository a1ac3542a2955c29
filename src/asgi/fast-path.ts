/**
 * The internal interface between mtaio's framework (src/asgi/app) and mtaio's server
 * (src/asgi/server) when the one runs directly on the other: three shortcuts past plain ASGI,
 * each invisible on the wire. Nothing outside this package uses them; any other ASGI server
 * or framework simply never meets them.
 *
 * 1. **Direct send** (`DIRECT_SEND`). Over ASGI a response body travels as bytes, so a JSON or
 *    text response is encoded to a Buffer by the framework and, for a small body, turned back
 *    into a string by the server (Node writes a string body together with the head in one
 *    write). The server marks its own `send` with a `DirectResponder`; when the framework is
 *    handed that very function — no middleware wraps it, so no one else can see or change the
 *    events — it may give the server the text itself (`sendText`): the same status line,
 *    headers and body bytes, two conversions and two event objects less. The framework only
 *    does so for a body no one has read as bytes (bytes that were read may have been changed
 *    in place) and for headers that are all its own (ASCII, so Node writes the head byte for
 *    byte the same when it joins it to a UTF-8 body).
 *
 * 2. **Direct receive** (`DIRECT_RECEIVE`). The server marks its own `receive` with a
 *    `DirectReceiver`; the framework's body readers then take an event that is already
 *    buffered without waiting on a promise for it (`receiveNow`), so a request body that came
 *    with its head (the common case) is read and parsed in the same turn instead of two or
 *    three microtasks later.
 *
 * 3. **Settled send** (`SETTLED`). The server's `send()` returns this one fulfilled promise
 *    when it has finished with an event (nearly always: a whole body goes to the socket at
 *    once), and the server's pipelining takes it for its own microtask hops. Code in this
 *    package that gets it back may go on at once instead of awaiting it (an `await` of a
 *    fulfilled promise still costs a microtask and a suspended frame); an app whose promise is
 *    SETTLED itself has finished. Anything else (another server's `send`, a middleware's async
 *    wrapper) is awaited as usual: only ever a shortcut, never a change in order; the next
 *    event is sent after the previous `send()` has settled, as ASGI requires.
 *
 * Whoever wraps `send` or `receive` (any ASGI middleware) turns the first two off for what it
 * wraps, and an async wrapper returns its own promises, which turns the third off too: the
 * framework then speaks plain ASGI. test/asgi/fast-path-wire.test.ts serves the same framework
 * app both ways and compares the bytes on the wire.
 */
import type { ASGIHeaders, Receive, ReceiveEvent, Send } from "./types.js";

/** The one fulfilled promise of the settled-send shortcut (3 above). */
export const SETTLED: Promise<void> = Promise.resolve();

export const DIRECT_SEND: unique symbol = Symbol("mtaio.directSend");

/** What the server's own `send` offers the framework (1 above). */
export interface DirectResponder {
  /**
   * `http.response.start` with these headers, then the whole body as the UTF-8 encoding of
   * `text`: the same outcome, errors included, as sending the two events. `byteLength` is
   * `Buffer.byteLength(text, "utf8")`, which the caller has already measured for its
   * `content-length` (a long text is not scanned twice).
   */
  sendText(status: number, headers: ASGIHeaders, text: string, byteLength: number): Promise<void>;
}

/** The `send()` of mtaio's server, marked with the exchange it writes to. */
export type DirectSend = Send & { [DIRECT_SEND]?: DirectResponder };

export const DIRECT_RECEIVE: unique symbol = Symbol("mtaio.directReceive");

/** What the server's own `receive` offers the framework (2 above). */
export interface DirectReceiver {
  /**
   * The event `receive()` would resolve with, when it is ready now (with the same effect as
   * that `receive()`); null when `receive()` would have to wait, and then nothing happened.
   */
  receiveNow(): ReceiveEvent | null;
}

/** The `receive()` of mtaio's server, marked with the exchange it reads from. */
export type DirectReceive = Receive & { [DIRECT_RECEIVE]?: DirectReceiver };

/** Server side: marks the `send` and `receive` of one exchange as its own. */
export function offerDirect(
  send: Send,
  receive: Receive,
  exchange: DirectResponder & DirectReceiver,
): void {
  (send as DirectSend)[DIRECT_SEND] = exchange;
  (receive as DirectReceive)[DIRECT_RECEIVE] = exchange;
}

/** Framework side: the server's responder when `send` is the server's own, else undefined. */
export function directResponder(send: Send): DirectResponder | undefined {
  return (send as DirectSend)[DIRECT_SEND];
}

/** Framework side: the server's receiver when `receive` is the server's own, else undefined. */
export function directReceiver(receive: Receive): DirectReceiver | undefined {
  return (receive as DirectReceive)[DIRECT_RECEIVE];
}
