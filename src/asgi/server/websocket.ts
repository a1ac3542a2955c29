/**
 * The ASGI `websocket` scope on Node's HTTP server (ASGI WebSocket spec 2.4). The app is
 * asked first (`websocket.connect`) and answers with `websocket.accept` (the handshake is
 * completed then), `websocket.close` (403) or an HTTP response (`websocket.http.response`).
 * Framing, masking, fragmentation, ping/pong and the close handshake come from the `ws`
 * package (its `noServer` mode): RFC 6455 is a generic job a well-kept library does best.
 */
import { Buffer } from "node:buffer";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { ASGIError } from "../../errors.js";
import type { ASGIApp, ASGIHeaders, ReceiveEvent, SendEvent, WebSocketScope } from "../types.js";

export interface WebSocketLimits {
  /** Largest message accepted; a larger one closes the connection with 1009 (RFC 6455 §7.4.1). */
  maxMessageSize: number;
  /** How often a ping checks the peer; one left unanswered until the next closes it (0: never). */
  pingIntervalMs: number;
  /**
   * Bytes the server may hold unsent for one connection: a send that finds more waiting drops
   * the connection (an app that does not await its sends to a peer that does not read).
   */
  maxBufferedBytes: number;
  /** How long a send held back by a peer that does not read may wait (0: for ever). */
  writeTimeoutMs: number;
  /** Negotiate permessage-deflate (RFC 7692) when the client offers it. */
  perMessageDeflate: boolean;
}

interface Logger {
  error(message: string, error?: unknown): void;
}

/** Messages queued for an app that is not reading: past this, the socket stops being read. */
const RECEIVE_HIGH_WATER = 64;

/** RFC 6455 §4.2.1: a 16-byte nonce in base64. */
const KEY = /^[+/0-9A-Za-z]{22}==$/;

/** The handshake's own checks (RFC 6455 §4.2.1); an error status, or null when it is well formed. */
export function handshakeError(req: IncomingMessage): 400 | 426 | null {
  if (req.method !== "GET") return 400;
  const key = req.headers["sec-websocket-key"];
  if (typeof key !== "string" || !KEY.test(key)) return 400;
  if (req.headers["sec-websocket-version"] !== "13") return 426;
  return null;
}

/** Runs WebSocket connections for one server, and closes them all on shutdown. */
export class WebSocketSessions {
  readonly #wss: WebSocketServer;
  readonly #limits: WebSocketLimits;
  readonly #logger: Logger;
  readonly #open = new Set<WebSocket>();
  /** What the app accepted with, per handshake request (read by the `ws` hooks below). */
  readonly #accepted = new WeakMap<
    IncomingMessage,
    { subprotocol: string | null; headers: ASGIHeaders }
  >();

  constructor(limits: WebSocketLimits, logger: Logger) {
    this.#limits = limits;
    this.#logger = logger;
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      // ws applies maxPayload to the inflated size too: a small compressed bomb is refused.
      maxPayload: limits.maxMessageSize,
      perMessageDeflate: limits.perMessageDeflate,
      handleProtocols: (_offered, req) => this.#accepted.get(req)?.subprotocol ?? false,
    });
    this.#wss.on("headers", (lines: string[], req: IncomingMessage) => {
      for (const [name, value] of this.#accepted.get(req)?.headers ?? [])
        lines.push(`${name}: ${value}`);
    });
  }

  /** Connections currently open. */
  get size(): number {
    return this.#open.size;
  }

  /** Closes every open connection with 1001 "going away" (RFC 6455 §7.4.1). */
  closeAll(): void {
    for (const ws of this.#open) ws.close(1001, "server shutting down");
  }

  /** Runs `app` for one Upgrade request; `done` is called once the app has returned. */
  run(
    app: ASGIApp,
    scope: WebSocketScope,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    done: () => void,
  ): void {
    const session = new Session(this, scope, req, socket, head);
    let result: Promise<void>;
    try {
      result = app(scope, session.receive, session.send);
    } catch (error) {
      result = Promise.reject(error);
    }
    result
      .then(
        () => session.appReturned(undefined),
        (error: unknown) => {
          this.#logger.error("Exception in ASGI application (websocket)", error);
          session.appReturned(error);
        },
      )
      .finally(done);
  }

  /** Completes the handshake with what the app accepted. */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    accepted: { subprotocol: string | null; headers: ASGIHeaders },
  ): Promise<WebSocket> {
    this.#accepted.set(req, accepted);
    return new Promise((resolve) => {
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        this.#open.add(ws);
        ws.once("close", () => this.#open.delete(ws));
        resolve(ws);
      });
    });
  }

  get limits(): WebSocketLimits {
    return this.#limits;
  }
}

type State = "connecting" | "responding" | "open" | "closed";

/** One connection's receive/send as the ASGI WebSocket spec describes them. */
class Session {
  readonly #sessions: WebSocketSessions;
  readonly #scope: WebSocketScope;
  readonly #req: IncomingMessage;
  readonly #socket: Duplex;
  readonly #head: Buffer;
  #state: State = "connecting";
  #ws: WebSocket | undefined;
  readonly #queue: ReceiveEvent[] = [{ type: "websocket.connect" }];
  #waiter: ((event: ReceiveEvent) => void) | undefined;
  #pinger: NodeJS.Timeout | undefined;
  #disconnected = false;
  #corked = false;
  /** Sends since the app last called `receive()`: a second one corks (see `#sendMessage`). */
  #sendsSinceReceive = 0;
  /** Why the server dropped the connection, told to the app with its 1006. */
  #dropReason: string | undefined;

  constructor(
    sessions: WebSocketSessions,
    scope: WebSocketScope,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ) {
    this.#sessions = sessions;
    this.#scope = scope;
    this.#req = req;
    this.#socket = socket;
    this.#head = head;
    // Before the handshake completes the client may go away; the app then sees a disconnect.
    socket.once("close", () => {
      if (this.#state === "connecting" || this.#state === "responding") this.#disconnect(1006);
    });
    socket.on("error", () => {});
  }

  readonly receive = (): Promise<ReceiveEvent> => {
    this.#sendsSinceReceive = 0;
    const next = this.#queue.shift();
    if (next !== undefined) {
      if (this.#queue.length < RECEIVE_HIGH_WATER / 2) this.#ws?.resume();
      return Promise.resolve(next);
    }
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  };

  readonly send = (event: SendEvent): Promise<void> => {
    // The one event an open connection sends over and over takes the short way.
    if (this.#state === "open" && event.type === "websocket.send") return this.#sendMessage(event);
    return this.#sendOther(event);
  };

  async #sendOther(event: SendEvent): Promise<void> {
    switch (this.#state) {
      case "connecting":
        return this.#answerHandshake(event);
      case "responding":
        return this.#respondBody(event);
      case "open":
        return this.#closeOpen(event);
      default:
        if (event.type === "websocket.send") throw closedError("the WebSocket is closed");
        throw unexpected(event, "the WebSocket is closed");
    }
  }

  /** The app returned (with `error` when it threw). */
  appReturned(error: unknown): void {
    if (this.#state === "connecting") {
      // ASGI: an app that returns (or fails) before accepting refuses the connection.
      this.#state = "closed";
      writeHTTP(this.#socket, error === undefined ? 403 : 500, [], undefined, true);
    } else if (this.#state === "responding") {
      this.#state = "closed";
      this.#socket.end();
    } else if (this.#state === "open") {
      this.#state = "closed";
      this.#ws?.close(error === undefined ? 1000 : 1011);
    }
    clearInterval(this.#pinger);
  }

  #push(event: ReceiveEvent): void {
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter(event);
      return;
    }
    this.#queue.push(event);
    // Backpressure: an app that does not read stops the socket being read.
    if (this.#queue.length >= RECEIVE_HIGH_WATER) this.#ws?.pause();
  }

  #disconnect(code: number, reason?: string): void {
    if (this.#disconnected) return;
    this.#disconnected = true;
    this.#state = "closed";
    clearInterval(this.#pinger);
    this.#push(
      reason
        ? { type: "websocket.disconnect", code, reason }
        : { type: "websocket.disconnect", code },
    );
  }

  async #answerHandshake(event: SendEvent): Promise<void> {
    if (event.type === "websocket.accept") {
      const subprotocol = event.subprotocol ?? null;
      if (subprotocol !== null && !this.#scope.subprotocols.includes(subprotocol)) {
        throw new ASGIError(
          `subprotocol ${JSON.stringify(subprotocol)} was not offered by the client`,
          {
            code: "ASGI_INVALID_SUBPROTOCOL",
          },
        );
      }
      const headers = checkedHeaders(event.headers ?? []);
      this.#state = "open";
      const ws = await this.#sessions.upgrade(this.#req, this.#socket, this.#head, {
        subprotocol,
        headers,
      });
      this.#ws = ws;
      this.#attach(ws);
      return;
    }
    if (event.type === "websocket.close") {
      this.#state = "closed";
      writeHTTP(this.#socket, 403, [], undefined, true);
      this.#disconnect(event.code ?? 1000);
      return;
    }
    if (event.type === "websocket.http.response.start") {
      this.#state = "responding";
      writeHTTP(this.#socket, event.status, checkedHeaders(event.headers ?? []), undefined, false);
      return;
    }
    throw unexpected(event, "expected websocket.accept, websocket.close or an HTTP response");
  }

  #respondBody(event: SendEvent): void {
    if (event.type !== "websocket.http.response.body") {
      throw unexpected(event, "expected websocket.http.response.body");
    }
    if (event.body && event.body.length > 0) this.#socket.write(event.body);
    if (!event.more_body) {
      this.#state = "closed";
      this.#socket.end();
      this.#disconnect(1000);
    }
  }

  /**
   * Hands one message to `ws`. While the connection keeps up, the send resolves at once; past
   * the socket's high-water mark it resolves only once the message has reached the kernel, so
   * an app that awaits its sends is paused by a slow reader (backpressure) instead of growing
   * memory. An app that does not await meets `maxBufferedBytes`, and a peer that reads nothing
   * for `writeTimeoutMs`: both drop the connection.
   */
  #sendMessage(event: Extract<SendEvent, { type: "websocket.send" }>): Promise<void> {
    const ws = this.#ws as WebSocket;
    const data = event.bytes ?? event.text;
    if (data === undefined) {
      return Promise.reject(unexpected(event, "websocket.send needs bytes or text"));
    }
    if (ws.readyState !== ws.OPEN) return Promise.reject(closedError("the WebSocket is closed"));
    const limits = this.#sessions.limits;
    const buffered = ws.bufferedAmount;
    if (buffered > limits.maxBufferedBytes) {
      this.#drop("write buffer limit exceeded");
      return Promise.reject(closedError("the peer does not read: write buffer limit exceeded"));
    }
    // Batch when more sends are likely to follow in this turn: messages already read are
    // waiting (the app is answering a burst), or the app sends again without receiving. The
    // answer to a lone message is written at once, without the cost of a deferred uncork.
    if (this.#queue.length > 0 || this.#sendsSinceReceive++ > 0) this.#cork();
    const binary = event.bytes !== undefined;
    // A string's length stands in for its UTF-8 size (at most three times it): it only picks
    // the path, and the limits above count real bytes.
    const size = typeof data === "string" ? data.length : data.byteLength;
    if (buffered + size < this.#socket.writableHighWaterMark) {
      ws.send(data, binary ? BINARY : TEXT);
      return RESOLVED;
    }
    return new Promise<void>((resolve, reject) => {
      const timer =
        limits.writeTimeoutMs > 0
          ? setTimeout(() => {
              this.#drop("write timeout");
              reject(closedError("the peer does not read: write timeout"));
            }, limits.writeTimeoutMs)
          : undefined;
      ws.send(data, binary ? BINARY : TEXT, (error) => {
        clearTimeout(timer);
        if (error) reject(closedError("the WebSocket closed while sending", error));
        else resolve();
      });
    });
  }

  /**
   * Messages sent in the rest of this turn of the event loop go out in one write: the socket
   * is corked until the turn's microtasks and ticks have run.
   */
  #cork(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    process.nextTick(uncork, this);
  }

  /** Called by `uncork()` at the end of the turn. */
  flush(): void {
    this.#corked = false;
    this.#socket.uncork();
  }

  /**
   * Fails the connection without a close handshake (RFC 6455 §7.1.7): a close frame could
   * only wait behind the bytes the peer is not reading. The app sees 1006 with `reason`.
   */
  #drop(reason: string): void {
    this.#dropReason = reason;
    this.#ws?.terminate();
  }

  async #closeOpen(event: SendEvent): Promise<void> {
    if (event.type === "websocket.close") {
      this.#state = "closed";
      this.#ws?.close(event.code ?? 1000, event.reason);
      return;
    }
    throw unexpected(event, "expected websocket.send or websocket.close");
  }

  #attach(ws: WebSocket): void {
    ws.on("message", (data: RawData, isBinary: boolean) => {
      const bytes = toBuffer(data);
      this.#push(
        isBinary
          ? { type: "websocket.receive", bytes }
          : { type: "websocket.receive", text: bytes.toString("utf8") },
      );
    });
    // When the server closes because the peer broke a rule, `ws` reports 1006 for the close
    // (no close frame came back); the app is told the code the server closed with.
    let closedWith: number | undefined;
    ws.on("error", (error: Error & { code?: string }) => {
      closedWith = closeCodeFor(error.code);
    });
    ws.on("close", (code: number, reason: Buffer) =>
      this.#disconnect(
        code === 1006 && closedWith !== undefined ? closedWith : code,
        this.#dropReason ?? (reason.toString("utf8") || undefined),
      ),
    );
    const interval = this.#sessions.limits.pingIntervalMs;
    if (interval > 0) {
      let alive = true;
      ws.on("pong", () => {
        alive = true;
      });
      this.#pinger = setInterval(() => {
        if (!alive) {
          ws.terminate();
          return;
        }
        alive = false;
        ws.ping();
      }, interval);
      this.#pinger.unref();
    }
  }
}

const RESOLVED = Promise.resolve();
const TEXT = { binary: false };
const BINARY = { binary: true };

function uncork(session: Session): void {
  session.flush();
}

function closedError(why: string, cause?: unknown): ASGIError {
  return new ASGIError(why, { code: "ASGI_WEBSOCKET_CLOSED", cause });
}

/** RFC 6455 §7.4.1 codes for the errors `ws` closes a connection on. */
function closeCodeFor(code: string | undefined): number {
  if (code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") return 1009;
  if (code === "WS_ERR_INVALID_UTF8") return 1007;
  return 1002;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Header names must be tokens and values free of CR, LF and NUL (RFC 9110 §5). */
function checkedHeaders(headers: ASGIHeaders): ASGIHeaders {
  for (const [name, value] of headers) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
      throw new ASGIError(`invalid header ${JSON.stringify(name)}`, {
        code: "ASGI_INVALID_HEADER",
      });
    }
  }
  return headers;
}

function unexpected(event: SendEvent, why: string): ASGIError {
  return new ASGIError(`Unexpected ASGI message '${String(event.type)}' on a WebSocket: ${why}`, {
    code: "ASGI_UNEXPECTED_MESSAGE",
  });
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  426: "Upgrade Required",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** A plain HTTP/1.1 response on the upgrade socket (it has left Node's HTTP machinery). */
export function writeHTTP(
  socket: Duplex,
  status: number,
  headers: ASGIHeaders,
  body: Uint8Array | undefined,
  end: boolean,
): void {
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\nConnection: close\r\n`;
  const names = new Set(headers.map(([name]) => name.toLowerCase()));
  if (end && !names.has("content-length")) head += `Content-Length: ${body?.length ?? 0}\r\n`;
  if (status === 426) head += "Sec-WebSocket-Version: 13\r\n";
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  socket.write(`${head}\r\n`, "latin1");
  if (body && body.length > 0) socket.write(body);
  if (end) socket.end();
}
