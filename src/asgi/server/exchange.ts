/**
 * One HTTP request/response cycle between Node's HTTP server and an ASGI app: `receive()`
 * feeds the request body (pulled, so the socket stays paused while the app does not ask), and
 * `send()` writes the response (one `writeHead` + `end` for a whole body, or a stream that
 * waits for `drain`).
 *
 * Hot-path notes: no per-request listeners unless the app waits (for body bytes, `drain` or a
 * disconnect); shared resolved promises; headers flattened once into the array form of
 * `res.writeHead`, which validates them (we only translate its errors).
 */
import { Buffer } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ASGIError } from "../../errors.js";
import { type DirectReceiver, type DirectResponder, offerDirect, SETTLED } from "../fast-path.js";
import type {
  ASGIApp,
  ASGIHeaders,
  HTTPDisconnectEvent,
  HTTPScope,
  Receive,
  ReceiveEvent,
  Send,
  SendEvent,
} from "../types.js";
import {
  clientDisconnected,
  invalidHeader,
  invalidStatus,
  isClientDisconnected,
  unexpectedMessage,
} from "./errors.js";
import { noteResponseHeaders, releaseFromParser } from "./node-internals.js";
import type { ServerLogger } from "./options.js";

/** What an exchange needs from its server. */
export interface ExchangeContext {
  readonly bodyLimit: number;
  /** Milliseconds a streamed `send()` may wait for the client to read before it is cut off. */
  readonly writeTimeout: number;
  readonly logger: ServerLogger;
  /** True once `close()` began: responses get `Connection: close`. */
  closing: boolean;
  /**
   * Called once per exchange, when its response is complete or abandoned (at the latest when
   * the app returns): the connection may carry the next request.
   */
  responseDone(req: IncomingMessage, res: ServerResponse): void;
  /** Called when an exchange is over (app returned and response ended or aborted). */
  exchangeDone(): void;
}

const EMPTY = Buffer.alloc(0);

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
const DISCONNECT: HTTPDisconnectEvent = Object.freeze({
  type: "http.disconnect",
}) as HTTPDisconnectEvent;

// Body states.
const BODY_NONE = 0; // no body on this request
const BODY_STREAM = 1; // body bytes still to hand to the app
const BODY_DONE = 2;

// Response states.
const RES_INITIAL = 0;
const RES_STARTED = 1; // http.response.start received, nothing written yet
const RES_STREAMING = 2; // head written, more body to come
const RES_COMPLETE = 3;

/** Whole bodies above this size are written slice by slice, each waiting for `drain`. */
const WHOLE_BODY_SLICE = 1024 * 1024;

/**
 * Whole bodies up to this size go to `res.end()` as latin1 text (byte for byte the same on the
 * wire): Node then joins the head and the body into one string and one `write`, where a Buffer
 * body costs a `writev` of two chunks. The copy into a string is cheap at this size.
 */
const SMALL_BODY_AS_TEXT = 1024;

/** The bytes as a latin1 string (one char per byte), the form `res.end(text, "latin1")` takes. */
function latin1Text(bytes: Uint8Array): string {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer.toString("latin1");
}

/** True when an ASCII letter in `name` is upper-case. */
function hasUpperCase(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code >= 0x41 && code <= 0x5a) return true;
  }
  return false;
}

const INTERNAL_ERROR_BODY = Buffer.from("Internal Server Error");
const TOO_LARGE_BODY = Buffer.from("Payload Too Large");

/** Writes a small plain-text error response the app had no part in. */
export function writeErrorResponse(
  res: ServerResponse,
  status: number,
  body: Buffer,
  close: boolean,
): void {
  if (close) res.shouldKeepAlive = false;
  res.writeHead(status, [
    "content-type",
    "text/plain; charset=utf-8",
    "content-length",
    String(body.byteLength),
  ]);
  res.end(body);
}

export class Exchange implements DirectResponder, DirectReceiver {
  readonly receive: Receive = () => this.onReceive();
  readonly send: Send = (event) => this.onSend(event);

  private bodyState: number;
  private received = 0;
  private response = RES_INITIAL;
  private status = 0;
  private headers: ASGIHeaders | undefined = undefined;
  private disconnected = false;
  private waitingReceive: ((event: ReceiveEvent) => void) | null = null;
  private waitingDrain: { resolve: () => void; reject: (error: ASGIError) => void } | null = null;
  private watchingBody = false;
  private watchingConnection = false;
  private connectionReleased = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly context: ExchangeContext,
    /** Content-Length of the request, -1 when chunked, 0 when there is no body. */
    private readonly contentLength: number,
    private expectContinue: boolean,
  ) {
    this.bodyState = contentLength === 0 ? BODY_NONE : BODY_STREAM;
    // A request without a body is whole once its head is parsed: nobody will read it.
    if (contentLength === 0) releaseFromParser(req);
    // mtaio's framework may answer through sendText() and read through receiveNow() when it
    // gets these very functions (see fast-path.ts).
    offerDirect(this.send, this.receive, this);
  }

  /**
   * Runs the app for this request; never throws. The outcome is taken with one `then` on the
   * app's promise rather than an async frame (one promise and one microtask less a request).
   * A request with a body starts the app one microtask later: a small body usually sits in
   * the same TCP read as the head, and Node's parser pushes it right after the 'request'
   * event returns, so the app's first `receive()` finds it buffered and needs no extra hop.
   */
  run(app: ASGIApp, scope: HTTPScope): void {
    if (this.bodyState === BODY_STREAM) {
      // A promise reaction, not queueMicrotask(): Node wraps each queueMicrotask callback in
      // an AsyncResource, which costs more than the hop itself.
      SETTLED.then(() => this.start(app, scope));
    } else {
      this.start(app, scope);
    }
  }

  private start(app: ASGIApp, scope: HTTPScope): void {
    let result: unknown;
    try {
      result = app(scope, this.receive, this.send);
    } catch (error) {
      this.appFailed(error);
      return;
    }
    if (result === SETTLED) {
      // The app's last send() was ours and had finished (see fast-path.ts): no hop needed.
      this.appReturned();
    } else if (isThenable(result)) {
      result.then(
        () => this.appReturned(),
        (error: unknown) => this.appFailed(error),
      );
    } else {
      // A plain-JavaScript app that is not async: done once it has returned.
      this.appReturned();
    }
  }

  private appReturned(): void {
    try {
      if (this.response !== RES_COMPLETE && !this.disconnected) {
        this.context.logger.error(
          this.response === RES_STREAMING
            ? "ASGI app returned without completing the response (more_body was still true)"
            : "ASGI app returned without sending a response",
        );
        this.abortResponse();
      }
    } finally {
      this.finish();
    }
  }

  private appFailed(error: unknown): void {
    try {
      if (!(this.disconnected && isClientDisconnected(error))) {
        this.context.logger.error("Exception in ASGI application", error);
      }
      if (this.response !== RES_COMPLETE && !this.disconnected) this.abortResponse();
    } finally {
      this.finish();
    }
  }

  private finish(): void {
    this.response = RES_COMPLETE;
    this.releaseConnection();
    this.context.exchangeDone();
  }

  /** The response is over: the next request on the connection may run (once). */
  private releaseConnection(): void {
    if (this.connectionReleased) return;
    this.connectionReleased = true;
    this.context.responseDone(this.req, this.res);
  }

  /** A 500 when nothing was written yet, otherwise cut the connection (the response is broken). */
  private abortResponse(): void {
    this.response = RES_COMPLETE;
    if (!this.res.headersSent) {
      writeErrorResponse(this.res, 500, INTERNAL_ERROR_BODY, false);
    } else {
      this.res.destroy();
    }
    this.releaseConnection();
    this.wakeReceive(DISCONNECT);
  }

  // ---- receive -----------------------------------------------------------------------------

  private onReceive(): Promise<ReceiveEvent> {
    if (this.waitingReceive !== null) {
      return Promise.reject(unexpectedMessage("receive() called again before it resolved"));
    }
    const event = this.receiveNow();
    if (event !== null) return Promise.resolve(event);
    return new Promise((resolve) => {
      this.waitingReceive = resolve;
      this.watch();
    });
  }

  receiveNow(): ReceiveEvent | null {
    // A receive() still waiting is first in line (and a second one is an error, above).
    if (this.waitingReceive !== null) return null;
    if (this.bodyState === BODY_NONE) {
      this.bodyState = BODY_DONE;
      return { type: "http.request", body: EMPTY, more_body: false };
    }
    if (this.bodyState === BODY_STREAM) {
      if (this.expectContinue) {
        // RFC 9110 §10.1.1: say 100 Continue only once the app wants the body.
        this.expectContinue = false;
        if (!this.res.headersSent) this.res.writeContinue();
      }
      return this.disconnected ? DISCONNECT : this.readBody();
    }
    // ASGI: http.disconnect once the response is sent or the client has gone.
    if (this.response === RES_COMPLETE || this.isGone()) return DISCONNECT;
    return null;
  }

  /** The next body event from what is buffered, or null when the app must wait. */
  private readBody(): ReceiveEvent | null {
    const req = this.req;
    const chunk = req.read() as Buffer | null;
    if (chunk === null) {
      if (req.complete && req.readableLength === 0) {
        this.bodyState = BODY_DONE;
        return { type: "http.request", body: EMPTY, more_body: false };
      }
      if (req.destroyed) return this.markDisconnected();
      return null;
    }
    this.received += chunk.byteLength;
    if (this.received > this.context.bodyLimit) return this.rejectTooLarge();
    const done =
      this.contentLength > 0
        ? this.received >= this.contentLength
        : req.complete && req.readableLength === 0;
    if (done) {
      this.bodyState = BODY_DONE;
      // Otherwise flowing mode reads the end as it comes (see releaseFromParser).
      if (!req.complete && !releaseFromParser(req)) req.resume();
    }
    return { type: "http.request", body: chunk, more_body: !done };
  }

  /** A chunked body grew past the limit: 413 (if we still can), and the app sees a disconnect. */
  private rejectTooLarge(): HTTPDisconnectEvent {
    this.bodyState = BODY_DONE;
    if (!this.res.headersSent) writeErrorResponse(this.res, 413, TOO_LARGE_BODY, true);
    else this.res.destroy();
    this.response = RES_COMPLETE;
    this.releaseConnection();
    return this.markDisconnected();
  }

  private markDisconnected(): HTTPDisconnectEvent {
    this.disconnected = true;
    this.bodyState = BODY_DONE;
    return DISCONNECT;
  }

  private isGone(): boolean {
    return this.disconnected || this.res.destroyed || this.req.socket.destroyed;
  }

  /**
   * Listeners attached only once the app has to wait: for body bytes (`readable` on the
   * request, whose `close` also reports a client that left mid-upload) or for the connection
   * (`close` on the response: the client left, or the response is done).
   */
  private watch(): void {
    if (this.bodyState === BODY_STREAM) this.watchBody();
    else this.watchConnection();
  }

  private watchBody(): void {
    if (this.watchingBody) return;
    this.watchingBody = true;
    this.req.on("readable", () => {
      if (this.waitingReceive === null || this.bodyState !== BODY_STREAM) return;
      const event = this.readBody();
      if (event !== null) this.wakeReceive(event);
    });
    // No 'error' listener needed: an aborted IncomingMessage only emits 'error' to listeners.
    this.req.on("close", () => {
      if (!this.req.complete) this.onConnectionLost();
    });
  }

  private watchConnection(): void {
    if (this.watchingConnection) return;
    this.watchingConnection = true;
    this.res.on("close", () => {
      if (this.res.writableFinished) this.wakeReceive(DISCONNECT);
      else this.onConnectionLost();
    });
  }

  private onConnectionLost(): void {
    this.markDisconnected();
    this.wakeReceive(DISCONNECT);
    const drain = this.waitingDrain;
    if (drain !== null) {
      this.waitingDrain = null;
      drain.reject(clientDisconnected());
    }
  }

  private wakeReceive(event: ReceiveEvent): void {
    const resolve = this.waitingReceive;
    if (resolve !== null) {
      this.waitingReceive = null;
      resolve(event);
    }
  }

  // ---- send --------------------------------------------------------------------------------

  private onSend(event: SendEvent): Promise<void> {
    // ASGI HTTP spec: send() on a closed connection raises. That includes a connection the
    // server closed itself (413 for a chunked body over the limit): the app, told
    // http.disconnect, must not learn of it as "http.response.start sent twice".
    if (this.disconnected) return Promise.reject(clientDisconnected());
    try {
      if (event.type === "http.response.body") return this.sendBody(event.body, event.more_body);
      if (event.type === "http.response.start") {
        this.startResponse(event.status, event.headers);
        return SETTLED;
      }
      throw unexpectedMessage(`Unexpected ASGI message '${String(event.type)}' on an HTTP scope`);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `http.response.start` + a whole body given as text (see fast-path.ts), with the checks and
   * the outcome of the two events. Node joins the head and a string body into one write, as
   * it does for the small-body path of sendBody(); a body too large for one write goes out in
   * slices as any whole body does.
   */
  sendText(status: number, headers: ASGIHeaders, text: string, length: number): Promise<void> {
    if (this.disconnected) return Promise.reject(clientDisconnected());
    try {
      this.startResponse(status, headers);
      const res = this.openResponse();
      if (length > WHOLE_BODY_SLICE) return this.sendLargeBody(Buffer.from(text, "utf8"));
      this.writeHead(length);
      this.response = RES_COMPLETE;
      if (length === 0) res.end();
      else res.end(text, "utf8");
      this.releaseConnection();
      this.wakeReceive(DISCONNECT);
      return SETTLED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Takes `http.response.start` (nothing is written until the body comes). */
  private startResponse(status: number, headers: ASGIHeaders | undefined): void {
    if (this.response !== RES_INITIAL) {
      throw unexpectedMessage("http.response.start sent twice");
    }
    this.status = status;
    this.headers = headers;
    this.response = RES_STARTED;
  }

  /** The response to write to; throws (and notes the disconnect) once its socket is gone. */
  private openResponse(): ServerResponse {
    const res = this.res;
    if (res.destroyed) {
      this.markDisconnected();
      throw clientDisconnected();
    }
    return res;
  }

  private sendBody(body: Uint8Array | undefined, moreBody: boolean | undefined): Promise<void> {
    if (this.response === RES_INITIAL) {
      throw unexpectedMessage("http.response.body sent before http.response.start");
    }
    if (this.disconnected) throw clientDisconnected();
    if (this.response === RES_COMPLETE) {
      throw unexpectedMessage("http.response.body sent after the response was complete");
    }
    const res = this.openResponse();
    const bytes = body ?? EMPTY;
    if (!(bytes instanceof Uint8Array)) {
      throw unexpectedMessage("http.response.body: body must be a Uint8Array (or a Buffer)");
    }
    // Read once: `byteLength` of a Buffer (a Uint8Array subclass) is a builtin call each time
    // it is not inlined, as here where a Buffer and a plain Uint8Array both arrive.
    const size = bytes.byteLength;
    if (moreBody !== true) {
      if (this.response === RES_STARTED && size > WHOLE_BODY_SLICE) {
        return this.sendLargeBody(bytes);
      }
      if (this.response === RES_STARTED) this.writeHead(size);
      this.response = RES_COMPLETE;
      if (size === 0) res.end();
      else if (size <= SMALL_BODY_AS_TEXT) res.end(latin1Text(bytes), "latin1");
      else res.end(bytes);
      this.releaseConnection();
      this.wakeReceive(DISCONNECT);
      return SETTLED;
    }
    if (this.response === RES_STARTED) {
      this.writeHead(-1);
      this.response = RES_STREAMING;
    }
    if (size === 0 || res.write(bytes)) return SETTLED;
    return new Promise((resolve, reject) => {
      this.waitingDrain = { resolve, reject };
      // A client that stops reading must not hold the app (and the socket) forever.
      const stalled = setTimeout(() => {
        this.context.logger.error(
          `Client read nothing for ${this.context.writeTimeout} ms; closing the connection`,
        );
        res.destroy(); // → 'close' → onConnectionLost() rejects the pending send()
      }, this.context.writeTimeout);
      const onClose = () => clearTimeout(stalled);
      res.once("drain", () => {
        clearTimeout(stalled);
        // One wait, one listener: a long stream must not pile up a 'close' listener per drain.
        res.off("close", onClose);
        const drain = this.waitingDrain;
        this.waitingDrain = null;
        drain?.resolve();
      });
      res.once("close", onClose);
      this.watchConnection();
    });
  }

  /**
   * A large whole body goes out in slices that each wait for `drain`, so the writeTimeout
   * guards it as it guards a stream: a client that stops reading cannot pin the connection and
   * the body for ever. `send()` resolves once the socket has taken the last slice.
   */
  private async sendLargeBody(bytes: Uint8Array): Promise<void> {
    this.writeHead(bytes.byteLength); // Content-Length framing, as for any whole body
    this.response = RES_STREAMING;
    let offset = 0;
    while (bytes.byteLength - offset > WHOLE_BODY_SLICE) {
      await this.sendBody(bytes.subarray(offset, offset + WHOLE_BODY_SLICE), true);
      offset += WHOLE_BODY_SLICE;
    }
    await this.sendBody(bytes.subarray(offset), false);
  }

  /**
   * True while part of the request body has not even reached the server. (`req.complete` is
   * set late — after the parser's next turn — so a Content-Length body is judged by its bytes:
   * handed to the app plus buffered.)
   */
  private bodyStillArriving(): boolean {
    if (this.bodyState !== BODY_STREAM) return false;
    const req = this.req;
    if (req.complete) return false;
    return this.contentLength < 0 || this.received + req.readableLength < this.contentLength;
  }

  /** Flattens the app's headers for `writeHead`; adds Content-Length when the body is whole. */
  private writeHead(length: number): void {
    const res = this.res;
    const status = this.status;
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      this.response = RES_INITIAL;
      throw invalidStatus(status, undefined);
    }
    // A response that goes out before the request body has fully arrived (a 413 from the
    // framework, a handler that ignores an upload) must close the connection: keeping it
    // alive would make Node read and discard the rest of the body, however large it is
    // (RFC 9112 §9.6: a server may close after responding instead of reading the body).
    if (this.context.closing || this.bodyStillArriving()) res.shouldKeepAlive = false;
    try {
      const flat = this.flatHeaders(length, status);
      noteResponseHeaders(res, flat);
      res.writeHead(status, flat);
    } catch (error) {
      this.response = RES_INITIAL; // the app may still send a valid response
      throw invalidHeader(error);
    }
  }

  /** `[name, value, name, value, …]`, the cheapest form `writeHead` takes; it validates them. */
  private flatHeaders(length: number, status: number): string[] {
    const headers = this.headers;
    const count = headers === undefined ? 0 : headers.length;
    let framed = false;
    for (let i = 0; i < count && !framed; i++) {
      const name = (headers as ASGIHeaders)[i][0];
      if (name.length === 14 || name.length === 17) {
        // ASGI names are lower-case (the framework's are): lower-case only a name that is not
        // (toLowerCase is a builtin call).
        const lower = hasUpperCase(name) ? name.toLowerCase() : name;
        framed = lower === "content-length" || lower === "transfer-encoding";
      }
    }
    // RFC 9110 §8.6: never for 1xx/204/304; for HEAD only when the app sent the GET body
    // (an empty HEAD body says nothing about the GET length).
    const addLength =
      length >= 0 &&
      !framed &&
      status >= 200 &&
      status !== 204 &&
      status !== 304 &&
      (length > 0 || this.req.method !== "HEAD");
    // Made at its final size: pushes into an empty array would reserve 17 slots and copy on
    // growth, and shrinking one made too large costs as much again.
    const flat: string[] = new Array(addLength ? count * 2 + 2 : count * 2);
    for (let i = 0; i < count; i++) {
      const pair = (headers as ASGIHeaders)[i];
      flat[i * 2] = pair[0];
      flat[i * 2 + 1] = pair[1];
    }
    if (addLength) {
      flat[count * 2] = "content-length";
      flat[count * 2 + 1] = String(length);
    }
    return flat;
  }
}
