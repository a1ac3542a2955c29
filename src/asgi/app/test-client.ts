import { Buffer } from "node:buffer";
import type {
  ASGIApp,
  ASGIHeaders,
  HTTPScope,
  LifespanScope,
  ReceiveEvent,
  SendEvent,
} from "../types.js";

import {
  connectTestWebSocket,
  type TestWebSocket,
  type TestWebSocketOptions,
} from "./test-websocket.js";

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8");
const DISCONNECT: ReceiveEvent = { type: "http.disconnect" };

/** What a `TestClient` request sends besides its method and path. */
export interface TestRequestOptions {
  /** Request headers (names in any case). */
  headers?: Record<string, string>;
  /** Query parameters, percent-encoded into the query string. */
  query?: Record<string, string>;
  /** A value sent as a JSON body (with `content-type: application/json` unless set). */
  json?: unknown;
  /** A raw body (a string is sent as UTF-8). */
  body?: Uint8Array | string;
  /** Form fields sent as `application/x-www-form-urlencoded`. */
  form?: Record<string, string>;
}

/** The response a `TestClient` request resolves to, read whole. */
export interface TestResponse {
  /** The HTTP status code. */
  status: number;
  /** Lower-case names; repeated headers joined with ", " (use `headerList` for Set-Cookie). */
  headers: Record<string, string>;
  /** Every header line as sent, in order, names lower-case. */
  headerList: ASGIHeaders;
  /** The values of every line of one header (`getAll("set-cookie")`). */
  getAll(name: string): string[];
  /** The whole response body. */
  body: Uint8Array;
  /** The body decoded as UTF-8. */
  text(): string;
  /** The body parsed as JSON (throws `SyntaxError` if it is not JSON). */
  json(): unknown;
}

/**
 * Calls an ASGI app in-process, without a socket. `start()` / `close()` (or `await using`)
 * run the lifespan protocol around the requests.
 *
 * @example
 * ```ts
 * await using client = new TestClient(app);
 * await client.start(); // lifespan startup
 * const response = await client.get("/users/7");
 * assert.equal(response.status, 200);
 * assert.deepEqual(response.json(), { id: 7 });
 * ```
 */
export class TestClient {
  /** The ASGI callable under test (an `ASGIApplication`'s `asgi`). */
  readonly app: ASGIApp;
  private lifespan:
    | {
        push: (event: ReceiveEvent) => void;
        waitFor: (type: string) => Promise<SendEvent>;
        done: Promise<void>;
      }
    | undefined;

  constructor(app: ASGIApp | { asgi: ASGIApp }) {
    this.app = typeof app === "function" ? app : app.asgi;
  }

  /** Runs lifespan startup; rejects if the app reports `lifespan.startup.failed`. */
  async start(): Promise<void> {
    const inbox: ReceiveEvent[] = [];
    const outbox: SendEvent[] = [];
    let wakeReceiver: (() => void) | undefined;
    let wakeSender: (() => void) | undefined;
    const scope: LifespanScope = {
      type: "lifespan",
      asgi: { version: "3.0", spec_version: "2.0" },
      state: {},
    };
    const receive = async (): Promise<ReceiveEvent> => {
      while (inbox.length === 0) await new Promise<void>((resolve) => (wakeReceiver = resolve));
      return inbox.shift() as ReceiveEvent;
    };
    const send = async (event: SendEvent): Promise<void> => {
      outbox.push(event);
      wakeSender?.();
    };
    const done = this.app(scope, receive, send);
    const waitFor = async (prefix: string): Promise<SendEvent> => {
      for (;;) {
        const index = outbox.findIndex((event) => event.type.startsWith(prefix));
        if (index !== -1) return outbox.splice(index, 1)[0] as SendEvent;
        await Promise.race([new Promise<void>((resolve) => (wakeSender = resolve)), done]);
      }
    };
    this.lifespan = {
      push: (event) => {
        inbox.push(event);
        wakeReceiver?.();
      },
      waitFor,
      done,
    };
    this.lifespan.push({ type: "lifespan.startup" });
    const answer = await waitFor("lifespan.startup.");
    if (answer.type === "lifespan.startup.failed") {
      throw new Error(`Lifespan startup failed: ${answer.message ?? ""}`);
    }
  }

  /** Runs lifespan shutdown (if started). */
  async close(): Promise<void> {
    const lifespan = this.lifespan;
    if (lifespan === undefined) return;
    this.lifespan = undefined;
    lifespan.push({ type: "lifespan.shutdown" });
    const answer = await lifespan.waitFor("lifespan.shutdown.");
    await lifespan.done;
    if (answer.type === "lifespan.shutdown.failed") {
      throw new Error(`Lifespan shutdown failed: ${answer.message ?? ""}`);
    }
  }

  /** `await using client = new TestClient(app)` runs `close()` at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Sends a `GET` request (see {@link TestClient.request}).
   *
   * @example
   * ```ts
   * const client = new TestClient(app);
   * const response = await client.get("/items/7", { query: { full: "1" } });
   * assert.equal(response.status, 200);
   * ```
   */
  get(path: string, options?: TestRequestOptions) {
    return this.request("GET", path, options);
  }
  /**
   * Sends a `POST` request (see {@link TestClient.request}).
   *
   * @example
   * ```ts
   * const response = await client.post("/echo", { json: { a: 1 } });
   * assert.deepEqual(response.json(), { a: 1 });
   * ```
   */
  post(path: string, options?: TestRequestOptions) {
    return this.request("POST", path, options);
  }
  /** Sends a `PUT` request (see {@link TestClient.request}). */
  put(path: string, options?: TestRequestOptions) {
    return this.request("PUT", path, options);
  }
  /** Sends a `PATCH` request (see {@link TestClient.request}). */
  patch(path: string, options?: TestRequestOptions) {
    return this.request("PATCH", path, options);
  }
  /** Sends a `DELETE` request (see {@link TestClient.request}). */
  delete(path: string, options?: TestRequestOptions) {
    return this.request("DELETE", path, options);
  }

  /**
   * Opens an in-process WebSocket to `path`; resolves once the app accepts, rejects with
   * `TestWebSocketRefused` (its `status`: 403, or the app's HTTP response) otherwise.
   *
   * @example
   * ```ts
   * const ws = await client.websocket("/rooms/lobby", { subprotocols: ["chat.v1"] });
   * ws.sendText("hi");
   * assert.equal(await ws.receiveText(), "lobby: hi");
   * ws.close();
   * ```
   */
  websocket(path: string, options: TestWebSocketOptions = {}): Promise<TestWebSocket> {
    return connectTestWebSocket(this.app, path, options);
  }

  /**
   * Calls the app once with an `http` scope built from the arguments, in-process, and collects
   * the whole response. The app sees `http.disconnect` once the body has been read.
   *
   * @example
   * ```ts
   * const response = await client.request("OPTIONS", "/items", { headers: { origin: "x" } });
   * console.log(response.status, response.headers);
   * ```
   */
  async request(
    method: string,
    path: string,
    options: TestRequestOptions = {},
  ): Promise<TestResponse> {
    const headers: ASGIHeaders = [];
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      headers.push([name.toLowerCase(), value]);
    }
    let body: Uint8Array = new Uint8Array(0);
    const hasType = headers.some(([name]) => name === "content-type");
    if (options.json !== undefined) {
      body = encoder.encode(JSON.stringify(options.json));
      if (!hasType) headers.push(["content-type", "application/json"]);
    } else if (options.form !== undefined) {
      body = encoder.encode(new URLSearchParams(options.form).toString());
      if (!hasType) headers.push(["content-type", "application/x-www-form-urlencoded"]);
    } else if (options.body !== undefined) {
      body = typeof options.body === "string" ? encoder.encode(options.body) : options.body;
    }
    if (body.byteLength > 0) headers.push(["content-length", String(body.byteLength)]);
    const queryStart = path.indexOf("?");
    const rawPath = queryStart === -1 ? path : path.slice(0, queryStart);
    let query = queryStart === -1 ? "" : path.slice(queryStart + 1);
    if (options.query !== undefined) {
      const extra = new URLSearchParams(options.query).toString();
      query = query.length > 0 ? `${query}&${extra}` : extra;
    }
    let decodedPath: string;
    try {
      decodedPath = decodeURIComponent(rawPath);
    } catch {
      decodedPath = rawPath;
    }
    const scope: HTTPScope = {
      type: "http",
      asgi: { version: "3.0", spec_version: "2.4" },
      http_version: "1.1",
      method: method.toUpperCase(),
      scheme: "http",
      path: decodedPath,
      raw_path: Buffer.from(rawPath, "latin1"),
      query_string: Buffer.from(query, "latin1"),
      root_path: "",
      headers,
      client: ["testclient", 50000],
      server: ["testserver", 80],
    };
    let delivered = false;
    let markFinished: () => void = () => {};
    const finished = new Promise<void>((resolve) => (markFinished = resolve));
    const receive = async (): Promise<ReceiveEvent> => {
      // ASGI: after the body, the next event is http.disconnect once the response is sent.
      if (delivered) return finished.then(() => DISCONNECT);
      delivered = true;
      return { type: "http.request", body, more_body: false };
    };
    let status = 0;
    const responseHeaders = Object.create(null) as Record<string, string>;
    const headerList: ASGIHeaders = [];
    const chunks: Uint8Array[] = [];
    const send = async (event: SendEvent): Promise<void> => {
      if (event.type === "http.response.start") {
        status = event.status;
        for (const [name, value] of event.headers ?? []) {
          const key = name.toLowerCase();
          headerList.push([key, value]);
          const previous = responseHeaders[key];
          responseHeaders[key] = previous === undefined ? value : `${previous}, ${value}`;
        }
      } else if (event.type === "http.response.body" && event.body !== undefined) {
        chunks.push(event.body);
      }
      if (event.type === "http.response.body" && event.more_body !== true) markFinished();
    };
    try {
      await this.app(scope, receive, send);
    } finally {
      markFinished();
    }
    const responseBody = new Uint8Array(Buffer.concat(chunks));
    return {
      status,
      headers: responseHeaders,
      headerList,
      getAll: (name) => {
        const key = name.toLowerCase();
        return headerList.filter(([line]) => line === key).map(([, value]) => value);
      },
      body: responseBody,
      text: () => utf8.decode(responseBody),
      json: () => JSON.parse(utf8.decode(responseBody)) as unknown,
    };
  }
}
