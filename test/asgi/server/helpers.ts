/** Shared helpers for the ASGI server tests: a recording logger and a raw TCP client. */
import { connect, type Socket } from "node:net";
import type { ServeOptions, ServerHandle, ServerLogger } from "../../../src/asgi/server/index.js";
import { serve } from "../../../src/asgi/server/index.js";
import type { ASGIApp, HTTPScope } from "../../../src/asgi/types.js";

export interface RecordingLogger extends ServerLogger {
  errors: Array<{ message: string; error: unknown }>;
}

export function recordingLogger(): RecordingLogger {
  const errors: RecordingLogger["errors"] = [];
  return { errors, error: (message, error) => errors.push({ message, error }), info: () => {} };
}

/** Starts `app` on a free port with a recording logger. */
export async function start(
  app: ASGIApp,
  options: ServeOptions = {},
): Promise<ServerHandle & { logger: RecordingLogger }> {
  const logger = recordingLogger();
  const handle = await serve(app, { port: 0, logger, ...options });
  return Object.assign(handle, { logger });
}

/** An app that answers every HTTP request with `body` (and ignores lifespan). */
export function textApp(body: string | ((scope: HTTPScope) => string), status = 200): ASGIApp {
  return async (scope, _receive, send) => {
    if (scope.type !== "http") throw new Error("lifespan not supported");
    const text = typeof body === "string" ? body : body(scope);
    await send({
      type: "http.response.start",
      status,
      headers: [["content-type", "text/plain; charset=utf-8"]],
    });
    await send({ type: "http.response.body", body: Buffer.from(text) });
  };
}

/** A raw TCP connection that records everything the server sends. */
export class RawClient {
  readonly socket: Socket;
  received = "";
  closed = false;
  private readonly ready: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(port: number) {
    this.socket = connect(port, "127.0.0.1");
    this.socket.setEncoding("latin1");
    this.ready = new Promise((resolve, reject) => {
      this.socket.once("connect", resolve);
      this.socket.once("error", reject);
    });
    this.socket.on("data", (chunk: string) => {
      this.received += chunk;
      this.wake();
    });
    this.socket.on("error", () => {}); // resets are expected in some tests
    this.socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  async write(data: string | Uint8Array): Promise<void> {
    await this.ready;
    await new Promise<void>((resolve, reject) =>
      this.socket.write(data, (error) => (error ? reject(error) : resolve())),
    );
  }

  /** Resolves once `predicate(received)` holds; rejects if the socket closes first. */
  async until(predicate: (text: string) => boolean, what = "data"): Promise<string> {
    while (!predicate(this.received)) {
      if (this.closed) {
        throw new Error(`connection closed before ${what}; got ${JSON.stringify(this.received)}`);
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.received;
  }

  /** Resolves with everything received once the server closes the connection. */
  async untilClosed(): Promise<string> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.received;
  }

  /** Count of complete HTTP responses seen so far (by status lines). */
  responses(): number {
    return this.received.split("HTTP/1.1 ").length - 1;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** True once `received` (latin1, as RawClient keeps it) holds a whole Content-Length response. */
export function hasWholeResponse(received: string): boolean {
  const head = received.indexOf("\r\n\r\n");
  const length = /content-length: (\d+)/i.exec(received);
  return head >= 0 && length !== null && received.length - head - 4 >= Number(length[1]);
}

/** The body of the (first) response in `received`, decoded as UTF-8. */
export function responseBody(received: string): string {
  return Buffer.from(received.slice(received.indexOf("\r\n\r\n") + 4), "latin1").toString("utf8");
}

/** A promise with its resolve function, for gating apps from a test. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
