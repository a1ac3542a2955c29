/**
 * `TestClient.websocket()`: an ASGI `websocket` scope run in-process, without a socket, as
 * Starlette's test client does. The app's events become messages the test reads, and the
 * test's messages become `websocket.receive` events.
 */
import { Buffer } from "node:buffer";
import { ASGIError } from "../../errors.js";
import type { ASGIApp, ASGIHeaders, ReceiveEvent, SendEvent, WebSocketScope } from "../types.js";
import { messageBytes, messageText, type WebSocketMessage } from "./websocket.js";

/** What `client.websocket(path, options)` sends with the handshake. */
export interface TestWebSocketOptions {
  /** Subprotocols to offer (`Sec-WebSocket-Protocol`). */
  subprotocols?: string[];
  /** Handshake headers (names in any case). */
  headers?: Record<string, string>;
}

/** The handshake was refused: `status` is 403 for a close, or the app's own HTTP status. */
export class TestWebSocketRefused extends ASGIError {
  /** The HTTP status the refusal would have on the wire. */
  readonly status: number;
  /** The body of an HTTP refusal (`websocket.http.response`). */
  readonly body: Uint8Array;

  constructor(status: number, body: Uint8Array) {
    super(`the WebSocket handshake was refused with ${status}`, {
      code: "ASGI_WEBSOCKET_REFUSED",
    });
    this.status = status;
    this.body = body;
  }
}

/** The test's end of an in-process WebSocket. */
export class TestWebSocket {
  /** The subprotocol the app accepted, or null. */
  subprotocol: string | null = null;
  /** Extra headers the app accepted with. */
  acceptHeaders: ASGIHeaders = [];
  /** The close code once the app closed (or returned), else undefined. */
  closeCode: number | undefined;
  /** The close reason the app gave. */
  closeReason: string | undefined;
  readonly #toApp: ReceiveEvent[] = [];
  #appWaiter: ((event: ReceiveEvent) => void) | undefined;
  readonly #fromApp: WebSocketMessage[] = [];
  #testWaiter: (() => void) | undefined;
  #appDone = false;
  #appError: unknown;

  /** Sends a text message to the app. */
  sendText(text: string): void {
    this.#deliver({ type: "websocket.receive", text });
  }

  /** Sends a binary message to the app. */
  sendBytes(bytes: Uint8Array): void {
    this.#deliver({ type: "websocket.receive", bytes });
  }

  /** Sends `value` as a JSON text message. */
  sendJson(value: unknown): void {
    this.sendText(JSON.stringify(value));
  }

  /** The app's next message; rejects with `ASGI_WEBSOCKET_CLOSED` once it has closed. */
  async receive(): Promise<WebSocketMessage> {
    for (;;) {
      const next = this.#fromApp.shift();
      if (next !== undefined) return next;
      if (this.#appError !== undefined) throw this.#appError;
      if (this.closeCode !== undefined) {
        throw new ASGIError(`the app closed the WebSocket (${this.closeCode})`, {
          code: "ASGI_WEBSOCKET_CLOSED",
        });
      }
      await new Promise<void>((resolve) => {
        this.#testWaiter = resolve;
      });
    }
  }

  /** The app's next message as text. */
  async receiveText(): Promise<string> {
    return messageText(await this.receive());
  }

  /** The app's next message as bytes. */
  async receiveBytes(): Promise<Uint8Array> {
    return messageBytes(await this.receive());
  }

  /** The app's next message parsed as JSON. */
  async receiveJson(): Promise<unknown> {
    return JSON.parse(await this.receiveText());
  }

  /** Closes from the test's side: the app receives `websocket.disconnect` with `code`. */
  close(code = 1000, reason?: string): void {
    if (this.closeCode === undefined) this.closeCode = code;
    this.#deliver(
      reason === undefined
        ? { type: "websocket.disconnect", code }
        : { type: "websocket.disconnect", code, reason },
    );
  }

  /** @internal The app's receive(). */
  readonly appReceive = (): Promise<ReceiveEvent> => {
    const next = this.#toApp.shift();
    if (next !== undefined) return Promise.resolve(next);
    return new Promise((resolve) => {
      this.#appWaiter = resolve;
    });
  };

  /** @internal An event for the app. */
  deliverToApp(event: ReceiveEvent): void {
    this.#deliver(event);
  }

  /** @internal A message or close from the app after the handshake. */
  fromApp(event: SendEvent): void {
    if (this.#appDone || this.closeCode !== undefined) {
      throw new ASGIError(`Unexpected ASGI message '${event.type}': the WebSocket is closed`, {
        code: "ASGI_UNEXPECTED_MESSAGE",
      });
    }
    if (event.type === "websocket.send") {
      if (event.bytes !== undefined) this.#fromApp.push({ bytes: event.bytes });
      else this.#fromApp.push({ text: event.text ?? "" });
    } else if (event.type === "websocket.close") {
      this.closeCode = event.code ?? 1000;
      this.closeReason = event.reason;
    } else {
      throw new ASGIError(`Unexpected ASGI message '${event.type}' on an open WebSocket`, {
        code: "ASGI_UNEXPECTED_MESSAGE",
      });
    }
    this.#wakeTest();
  }

  /** @internal The app returned (or failed, with `error`) after accepting. */
  appFinished(error?: unknown): void {
    this.#appDone = true;
    // A failed app's connection would close with 1011 (RFC 6455 §7.4.1); receive() rethrows.
    this.#appError = error;
    this.closeCode ??= error === undefined ? 1000 : 1011;
    this.#wakeTest();
  }

  #deliver(event: ReceiveEvent): void {
    const waiter = this.#appWaiter;
    if (waiter) {
      this.#appWaiter = undefined;
      waiter(event);
    } else this.#toApp.push(event);
  }

  #wakeTest(): void {
    const waiter = this.#testWaiter;
    this.#testWaiter = undefined;
    waiter?.();
  }
}

/** Runs `app` for a websocket scope at `path`; resolves once it accepts. */
export function connectTestWebSocket(
  app: ASGIApp,
  path: string,
  options: TestWebSocketOptions,
): Promise<TestWebSocket> {
  const queryStart = path.indexOf("?");
  const rawPath = queryStart === -1 ? path : path.slice(0, queryStart);
  const query = queryStart === -1 ? "" : path.slice(queryStart + 1);
  let decodedPath: string;
  try {
    decodedPath = decodeURIComponent(rawPath);
  } catch {
    decodedPath = rawPath;
  }
  const headers: ASGIHeaders = [
    ["host", "testserver"],
    ["connection", "upgrade"],
    ["upgrade", "websocket"],
    ["sec-websocket-version", "13"],
  ];
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    headers.push([name.toLowerCase(), value]);
  }
  const subprotocols = options.subprotocols ?? [];
  if (subprotocols.length > 0) headers.push(["sec-websocket-protocol", subprotocols.join(", ")]);
  const scope: WebSocketScope = {
    type: "websocket",
    asgi: { version: "3.0", spec_version: "2.4" },
    http_version: "1.1",
    scheme: "ws",
    path: decodedPath,
    raw_path: Buffer.from(rawPath, "latin1"),
    query_string: Buffer.from(query, "latin1"),
    root_path: "",
    headers,
    client: ["testclient", 50000],
    server: ["testserver", 80],
    subprotocols,
    extensions: { "websocket.http.response": {} },
  };
  const socket = new TestWebSocket();
  return new Promise<TestWebSocket>((resolve, reject) => {
    let state: "connecting" | "responding" | "open" | "done" = "connecting";
    let refusalStatus = 0;
    const refusalBody: Uint8Array[] = [];
    const refuse = (status: number) => {
      state = "done";
      reject(new TestWebSocketRefused(status, Buffer.concat(refusalBody)));
    };
    const send = async (event: SendEvent): Promise<void> => {
      if (state === "connecting") {
        if (event.type === "websocket.accept") {
          const subprotocol = event.subprotocol ?? null;
          if (subprotocol !== null && !subprotocols.includes(subprotocol)) {
            throw new ASGIError(`subprotocol ${JSON.stringify(subprotocol)} was not offered`, {
              code: "ASGI_INVALID_SUBPROTOCOL",
            });
          }
          socket.subprotocol = subprotocol;
          socket.acceptHeaders = event.headers ?? [];
          state = "open";
          resolve(socket);
          return;
        }
        if (event.type === "websocket.close") return refuse(403);
        if (event.type === "websocket.http.response.start") {
          refusalStatus = event.status;
          state = "responding";
          return;
        }
      } else if (state === "responding" && event.type === "websocket.http.response.body") {
        if (event.body) refusalBody.push(event.body);
        if (!event.more_body) refuse(refusalStatus);
        return;
      } else if (state === "open") {
        socket.fromApp(event);
        return;
      }
      throw new ASGIError(`Unexpected ASGI message '${event.type}' in the WebSocket handshake`, {
        code: "ASGI_UNEXPECTED_MESSAGE",
      });
    };
    socket.deliverToApp({ type: "websocket.connect" });
    Promise.resolve()
      .then(() => app(scope, socket.appReceive, send))
      .then(
        () => {
          if (state === "connecting") refuse(403);
          else if (state === "open") socket.appFinished();
        },
        (error: unknown) => {
          if (state === "connecting" || state === "responding") {
            state = "done";
            reject(error);
          } else socket.appFinished(error ?? new Error("the app failed"));
        },
      );
  });
}
