/**
 * A shortcut between mtaio's framework and mtaio's server when nothing stands between them.
 *
 * Over ASGI a response body must travel as bytes, so a JSON or text response is encoded to a
 * Buffer by the framework and, for a small body, turned back into a string by the server
 * (Node writes a string body together with the head in one write). When the `send()` the
 * framework is given is the server's own — no middleware wraps it, so no one else can see or
 * change the events — the framework may hand the server the text itself through this
 * interface instead: same status line, headers and body bytes on the wire, two conversions
 * and two event objects less.
 *
 * The server marks its `send` function with `DIRECT_SEND`; a middleware that wraps `send`
 * passes its own function, which carries no mark, so the framework falls back to plain ASGI
 * events. The framework only uses it for a body no one has read as bytes (bytes that were
 * read may have been changed in place) and for headers that are all its own (ASCII, so the
 * head is written byte for byte the same when Node joins it to a UTF-8 body).
 *
 * The same holds for `receive`: the server marks its own with `DIRECT_RECEIVE`, and the
 * framework's body readers then take an event that is already buffered without waiting on a
 * promise for it (a request body that came with its head, the common case, is read and parsed
 * in the same turn instead of two or three microtasks later).
 */
import type { ASGIHeaders, Receive, ReceiveEvent, Send } from "./types.js";

export const DIRECT_SEND: unique symbol = Symbol("mtaio.directSend");

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

export interface DirectReceiver {
  /**
   * The event `receive()` would resolve with, when it is ready now (with the same effect as
   * that `receive()`); null when `receive()` would have to wait, and then nothing happened.
   */
  receiveNow(): ReceiveEvent | null;
}

/** The `receive()` of mtaio's server, marked with the exchange it reads from. */
export type DirectReceive = Receive & { [DIRECT_RECEIVE]?: DirectReceiver };
