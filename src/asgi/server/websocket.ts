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
      maxPayload: limits.maxMessageSize,
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

  get pingIntervalMs(): number {
    return this.#limits.pingIntervalMs;
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
    const next = this.#queue.shift();
    if (next !== undefined) {
      if (this.#queue.length < RECEIVE_HIGH_WATER / 2) this.#ws?.resume();
      return Promise.resolve(next);
    }
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  };

  readonly send = async (event: SendEvent): Promise<void> => {
    switch (this.#state) {
      case "connecting":
        return this.#answerHandshake(event);
      case "responding":
        return this.#respondBody(event);
      case "open":
        return this.#sendOpen(event);
      default:
        throw unexpected(event, "the WebSocket is closed");
    }
  };

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

  async #sendOpen(event: SendEvent): Promise<void> {
    const ws = this.#ws as WebSocket;
    if (event.type === "websocket.send") {
      const data = event.bytes ?? event.text;
      if (data === undefined) throw unexpected(event, "websocket.send needs bytes or text");
      // The callback fires once the frame is handed to the socket: waiting for it keeps a
      // fast sender from queueing without bound behind a slow reader.
      await new Promise<void>((resolve, reject) =>
        ws.send(data, { binary: event.bytes !== undefined }, (error) =>
          error
            ? reject(
                new ASGIError("the WebSocket closed while sending", {
                  code: "ASGI_WEBSOCKET_CLOSED",
                  cause: error,
                }),
              )
            : resolve(),
        ),
      );
      return;
    }
    if (event.type === "websocket.close") {
      this.#state = "closed";
      ws.close(event.code ?? 1000, event.reason);
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
        reason.toString("utf8") || undefined,
      ),
    );
    const interval = this.#sessions.pingIntervalMs;
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
