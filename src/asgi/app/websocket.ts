/**
 * `WebSocket`: the framework's view of an ASGI `websocket` scope (Starlette's WebSocket, with
 * camelCase names): accept, receive and send text, bytes or JSON, close, and iterate the
 * messages with `for await`. Route handlers get one from `router.websocket(path, handler)`.
 */
import { Buffer } from "node:buffer";
import { ASGIError } from "../../errors.js";
import type { ASGIHeaders, Receive, ReceiveEvent, Send, WebSocketScope } from "../types.js";

/** What `accept()` may send with the handshake. */
export interface WebSocketAcceptOptions {
  /** One of `websocket.subprotocols` (what the client offered). */
  subprotocol?: string;
  /** Extra handshake response headers. */
  headers?: Record<string, string>;
}

/** A message as `for await (const message of ws)` yields it. */
export type WebSocketMessage = WebSocketTextMessage | WebSocketBinaryMessage;

/** A text frame's message. */
export interface WebSocketTextMessage {
  /** The text. */
  text: string;
  /** Absent for a text message. */
  bytes?: undefined;
}

/** A binary frame's message. */
export interface WebSocketBinaryMessage {
  /** The bytes. */
  bytes: Uint8Array;
  /** Absent for a binary message. */
  text?: undefined;
}

/** A message's text (a binary message decoded as UTF-8). */
export function messageText(message: WebSocketMessage): string {
  return message.text ?? Buffer.from(message.bytes).toString("utf8");
}

/** A message's bytes (a text message as its UTF-8 bytes). */
export function messageBytes(message: WebSocketMessage): Uint8Array {
  return message.bytes ?? Buffer.from(message.text, "utf8");
}

/** Thrown by the receive methods once the client has gone: its close code is `closeCode`. */
export class WebSocketDisconnect extends ASGIError {
  /** The close code (RFC 6455 §7.4; 1006 when the connection broke). */
  readonly closeCode: number;

  constructor(closeCode: number) {
    super(`the WebSocket closed (${closeCode})`, { code: "ASGI_WEBSOCKET_DISCONNECT" });
    this.closeCode = closeCode;
  }
}

/**
 * One WebSocket connection.
 *
 * @example
 * ```ts
 * router.websocket("/ws/{room}", async (ws, { room }) => {
 *   await ws.accept();
 *   for await (const message of ws) await ws.sendText(`${room}: ${message.text ?? ""}`);
 * });
 * ```
 */
export class WebSocket {
  /** The ASGI scope of the handshake. */
  readonly scope: WebSocketScope;
  /** Route parameters, converted (`{id:int}` as a number). */
  params: Record<string, string | number> = {};
  readonly #receive: Receive;
  readonly #send: Send;
  #state: "connecting" | "open" | "closed" = "connecting";
  #connectSeen = false;

  constructor(scope: WebSocketScope, receive: Receive, send: Send) {
    this.scope = scope;
    this.#receive = receive;
    this.#send = send;
  }

  /** The decoded path. */
  get path(): string {
    return this.scope.path;
  }

  /** The subprotocols the client offered, in its order. */
  get subprotocols(): string[] {
    return this.scope.subprotocols;
  }

  /** Handshake headers, lower-case names (the last of a repeated name). */
  get headers(): Record<string, string> {
    const out: Record<string, string> = Object.create(null);
    for (const [name, value] of this.scope.headers) out[name] = value;
    return out;
  }

  /** Completes the handshake (after reading `websocket.connect`). */
  async accept(options: WebSocketAcceptOptions = {}): Promise<void> {
    if (this.#state !== "connecting") throw stateError("accept() once, before anything else");
    await this.#awaitConnect();
    const headers: ASGIHeaders = Object.entries(options.headers ?? {}).map(([name, value]) => [
      name.toLowerCase(),
      value,
    ]);
    await this.#send({
      type: "websocket.accept",
      subprotocol: options.subprotocol ?? null,
      headers,
    });
    this.#state = "open";
  }

  /** The next message, text or bytes; throws `WebSocketDisconnect` once the client has gone. */
  receive(): Promise<WebSocketMessage> {
    if (this.#state === "connecting") {
      return Promise.reject(stateError("accept() before receiving"));
    }
    // A `then` rather than an async function: this runs once per message.
    return this.#receive().then(this.#onEvent);
  }

  /** One received event as a message; events of other types are skipped. */
  readonly #onEvent = (event: ReceiveEvent): WebSocketMessage | Promise<WebSocketMessage> => {
    if (event.type === "websocket.receive") {
      if (event.text !== undefined) return { text: event.text };
      return { bytes: event.bytes ?? new Uint8Array(0) };
    }
    if (event.type === "websocket.disconnect") {
      this.#state = "closed";
      throw new WebSocketDisconnect(event.code);
    }
    return this.#receive().then(this.#onEvent);
  };

  /** The next text message (a binary one is decoded as UTF-8). */
  async receiveText(): Promise<string> {
    return messageText(await this.receive());
  }

  /** The next binary message (a text one as its UTF-8 bytes). */
  async receiveBytes(): Promise<Uint8Array> {
    return messageBytes(await this.receive());
  }

  /** The next message parsed as JSON; `ASGI_INVALID_JSON` when it is not JSON. */
  async receiveJson(): Promise<unknown> {
    const text = await this.receiveText();
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new ASGIError("the WebSocket message is not JSON", {
        code: "ASGI_INVALID_JSON",
        cause,
      });
    }
  }

  /** Sends a text message. */
  sendText(text: string): Promise<void> {
    return this.#sendMessage({ type: "websocket.send", text });
  }

  /** Sends a binary message. */
  sendBytes(bytes: Uint8Array): Promise<void> {
    return this.#sendMessage({ type: "websocket.send", bytes });
  }

  /** Sends `value` as a JSON text message. */
  sendJson(value: unknown): Promise<void> {
    return this.sendText(JSON.stringify(value));
  }

  /** Closes the connection (before `accept()`: refuses the handshake with 403). */
  async close(code = 1000, reason?: string): Promise<void> {
    if (this.#state === "closed") return;
    if (this.#state === "connecting") await this.#awaitConnect();
    this.#state = "closed";
    await this.#send({ type: "websocket.close", code, reason });
  }

  /** Messages until the client closes (the loop then ends; no exception). */
  [Symbol.asyncIterator](): AsyncIterableIterator<WebSocketMessage> {
    // Written out rather than an async generator, whose every step costs extra promise turns.
    const next = (): Promise<IteratorResult<WebSocketMessage, undefined>> =>
      this.receive().then(asYield, endOnDisconnect);
    return {
      next,
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  async #awaitConnect(): Promise<void> {
    if (this.#connectSeen) return;
    const event = await this.#receive();
    this.#connectSeen = true;
    if (event.type !== "websocket.connect") {
      this.#state = "closed";
      throw new WebSocketDisconnect(event.type === "websocket.disconnect" ? event.code : 1006);
    }
  }

  #sendMessage(event: {
    type: "websocket.send";
    text?: string;
    bytes?: Uint8Array;
  }): Promise<void> {
    if (this.#state !== "open") return Promise.reject(stateError("send only on an open WebSocket"));
    return this.#send(event);
  }
}

function asYield(value: WebSocketMessage): IteratorResult<WebSocketMessage, undefined> {
  return { done: false, value };
}

function endOnDisconnect(error: unknown): IteratorResult<WebSocketMessage, undefined> {
  if (error instanceof WebSocketDisconnect) return { done: true, value: undefined };
  throw error;
}

function stateError(what: string): ASGIError {
  return new ASGIError(`WebSocket: ${what}`, { code: "ASGI_WEBSOCKET_STATE" });
}
