/**
 * ASGI 3.0 as a TypeScript contract (https://asgi.readthedocs.io/en/latest/specs/).
 *
 * Scope and event keys keep the spec's snake_case names so ASGI knowledge carries over.
 *
 * Deliberate deviations from the spec, for speed on Node.js (documented in the README):
 * - Header names and values are latin1 `string`s, not byte strings: Node's HTTP parser already
 *   produces strings, and latin1 maps each byte to one char, so no information is lost.
 *   Names in `scope.headers` are lower-case, as the spec requires.
 * - Bodies are `Uint8Array` (a Node `Buffer` is one, so the server passes them without copying).
 */

/** A header list: `[name, value]` pairs; names lower-case in the scope; latin1 strings. */
export type ASGIHeaders = Array<[name: string, value: string]>;

/** The `scope.asgi` record: the ASGI version and the version of the protocol spec. */
export interface ASGIVersion {
  /** Always `"3.0"`: the single-callable interface. */
  version: "3.0";
  /**
   * The version of the protocol spec the server implements (`"2.4"` for HTTP, `"2.0"` lifespan).
   */
  spec_version: string;
}

/** `scope` for `type: "http"` (ASGI HTTP spec 2.4). */
export interface HTTPScope {
  /** The scope type. */
  type: "http";
  /** ASGI and spec versions. */
  asgi: ASGIVersion;
  /** The HTTP version of the request. */
  http_version: "1.0" | "1.1" | "2";
  /** The request method, upper-case. */
  method: string;
  /** `"https"` when served over TLS, or when a trusted proxy says so (`X-Forwarded-Proto`). */
  scheme: "http" | "https";
  /** Percent-decoded path (UTF-8), without the query string. */
  path: string;
  /** The path as it came on the wire, undecoded. */
  raw_path: Uint8Array | null;
  /** The query string without the leading `?`, undecoded. */
  query_string: Uint8Array;
  /** The path prefix the app is mounted under (`serve()`'s `rootPath`), default `""`. */
  root_path: string;
  /** The request headers in order, names lower-case, values latin1 strings. */
  headers: ASGIHeaders;
  /** The client's address and port, or `null` when unknown. */
  client: [host: string, port: number] | null;
  /** The server's address and port (`null` port for a Unix socket), or `null` when unknown. */
  server: [host: string, port: number | null] | null;
  /** Copied from the lifespan state for each request (ASGI "lifespan state" extension). */
  state?: Record<string, unknown>;
  /** Server extensions the app may use, by name (ASGI "Extensions"). */
  extensions?: Record<string, Record<string, unknown>>;
}

/** `scope` for `type: "websocket"` (ASGI WebSocket spec 2.4): an HTTP/1.1 Upgrade request. */
export interface WebSocketScope {
  /** The scope type. */
  type: "websocket";
  /** ASGI and spec versions. */
  asgi: ASGIVersion;
  /** The HTTP version of the handshake request. */
  http_version: "1.1";
  /** `"wss"` when served over TLS (or a trusted proxy says so), else `"ws"`. */
  scheme: "ws" | "wss";
  /** Percent-decoded path (UTF-8), without the query string. */
  path: string;
  /** The path as it came on the wire, undecoded. */
  raw_path: Uint8Array | null;
  /** The query string without the leading `?`, undecoded. */
  query_string: Uint8Array;
  /** The path prefix the app is mounted under, default `""`. */
  root_path: string;
  /** The handshake's headers in order, names lower-case, values latin1 strings. */
  headers: ASGIHeaders;
  /** The client's address and port, or `null` when unknown. */
  client: [host: string, port: number] | null;
  /** The server's address and port, or `null` when unknown. */
  server: [host: string, port: number | null] | null;
  /** The subprotocols the client offered (`Sec-WebSocket-Protocol`), in its order. */
  subprotocols: string[];
  /** Copied from the lifespan state for each connection. */
  state?: Record<string, unknown>;
  /** Server extensions (`websocket.http.response` to refuse with an HTTP response). */
  extensions?: Record<string, Record<string, unknown>>;
}

/** `scope` for `type: "lifespan"` (ASGI lifespan spec 2.0). */
export interface LifespanScope {
  /** The scope type. */
  type: "lifespan";
  /** ASGI and spec versions. */
  asgi: ASGIVersion;
  /** A record the app fills on startup; each request's scope gets a shallow copy. */
  state?: Record<string, unknown>;
}

/** Any ASGI scope this package serves: `http`, `websocket` or `lifespan`. */
export type Scope = HTTPScope | WebSocketScope | LifespanScope;

// ---- HTTP events -------------------------------------------------------------------------

/** A chunk of the request body; the last one has `more_body: false`. */
export interface HTTPRequestEvent {
  /** The event type. */
  type: "http.request";
  /** The chunk (may be empty). */
  body: Uint8Array;
  /** `true` while more chunks follow. */
  more_body: boolean;
}

/** The client went away, or the response was sent: no more body will come. */
export interface HTTPDisconnectEvent {
  /** The event type. */
  type: "http.disconnect";
}

/** Starts the response: status and headers. Nothing is written until the first body event. */
export interface HTTPResponseStartEvent {
  /** The event type. */
  type: "http.response.start";
  /** The HTTP status code. */
  status: number;
  /** Response headers; names and values latin1 strings. */
  headers?: ASGIHeaders;
  /**
   * Announces response trailers (the ASGI HTTP trailers extension), which mtaio's server ignores.
   */
  trailers?: boolean;
}

/** A chunk of the response body; the last one has `more_body` absent or `false`. */
export interface HTTPResponseBodyEvent {
  /** The event type. */
  type: "http.response.body";
  /** The chunk (default empty). */
  body?: Uint8Array;
  /** `true` while more chunks follow (default `false`). */
  more_body?: boolean;
}

// ---- WebSocket events --------------------------------------------------------------------

/** The client asks to connect: answer `websocket.accept`, `websocket.close` or an HTTP response. */
export interface WebSocketConnectEvent {
  /** The event type. */
  type: "websocket.connect";
}
/** A message from the client: `text` for a text frame, `bytes` for a binary one. */
export interface WebSocketReceiveEvent {
  /** The event type. */
  type: "websocket.receive";
  /** A binary message. */
  bytes?: Uint8Array;
  /** A text message. */
  text?: string;
}
/** The connection closed (by the client, the server or the network). */
export interface WebSocketDisconnectEvent {
  /** The event type. */
  type: "websocket.disconnect";
  /** The close code (RFC 6455 §7.4; 1006 when the connection broke without a close frame). */
  code: number;
  /** The close reason, when the peer gave one. */
  reason?: string;
}
/** Accepts the connection (completes the handshake). */
export interface WebSocketAcceptEvent {
  /** The event type. */
  type: "websocket.accept";
  /** One of `scope.subprotocols`, or none. */
  subprotocol?: string | null;
  /** Extra handshake response headers. */
  headers?: ASGIHeaders;
}
/** Sends a message: `text` as a text frame, `bytes` as a binary one. */
export interface WebSocketSendEvent {
  /** The event type. */
  type: "websocket.send";
  /** A binary message. */
  bytes?: Uint8Array;
  /** A text message. */
  text?: string;
}
/** Closes the connection; before accept, refuses the handshake with 403. */
export interface WebSocketCloseEvent {
  /** The event type. */
  type: "websocket.close";
  /** The close code (default 1000). */
  code?: number;
  /** The close reason (at most 123 bytes of UTF-8). */
  reason?: string;
}
/** Refuses the handshake with an HTTP response (the `websocket.http.response` extension). */
export interface WebSocketHTTPResponseStartEvent {
  /** The event type. */
  type: "websocket.http.response.start";
  /** The HTTP status code. */
  status: number;
  /** Response headers. */
  headers?: ASGIHeaders;
}
/** A chunk of that HTTP response's body. */
export interface WebSocketHTTPResponseBodyEvent {
  /** The event type. */
  type: "websocket.http.response.body";
  /** The chunk (default empty). */
  body?: Uint8Array;
  /** `true` while more chunks follow. */
  more_body?: boolean;
}

// ---- Lifespan events ---------------------------------------------------------------------

/** The server is starting: the app sets up and answers `lifespan.startup.complete` or `.failed`. */
export interface LifespanStartupEvent {
  /** The event type. */
  type: "lifespan.startup";
}
/**
 * The server is stopping: the app cleans up and answers `lifespan.shutdown.complete` or `.failed`.
 */
export interface LifespanShutdownEvent {
  /** The event type. */
  type: "lifespan.shutdown";
}
/** The app is ready; the server starts accepting requests. */
export interface LifespanStartupCompleteEvent {
  /** The event type. */
  type: "lifespan.startup.complete";
}
/** The app could not start: `serve()` rejects with `ASGI_LIFESPAN_STARTUP_FAILED` and `message`. */
export interface LifespanStartupFailedEvent {
  /** The event type. */
  type: "lifespan.startup.failed";
  /** Why, for the log. */
  message?: string;
}
/** The app has cleaned up. */
export interface LifespanShutdownCompleteEvent {
  /** The event type. */
  type: "lifespan.shutdown.complete";
}
/** The app failed to clean up; the server logs `message`. */
export interface LifespanShutdownFailedEvent {
  /** The event type. */
  type: "lifespan.shutdown.failed";
  /** Why, for the log. */
  message?: string;
}

/** Events an app receives from the server. */
export type ReceiveEvent =
  | HTTPRequestEvent
  | HTTPDisconnectEvent
  | WebSocketConnectEvent
  | WebSocketReceiveEvent
  | WebSocketDisconnectEvent
  | LifespanStartupEvent
  | LifespanShutdownEvent;

/** Events an app sends to the server. */
export type SendEvent =
  | HTTPResponseStartEvent
  | HTTPResponseBodyEvent
  | WebSocketAcceptEvent
  | WebSocketSendEvent
  | WebSocketCloseEvent
  | WebSocketHTTPResponseStartEvent
  | WebSocketHTTPResponseBodyEvent
  | LifespanStartupCompleteEvent
  | LifespanStartupFailedEvent
  | LifespanShutdownCompleteEvent
  | LifespanShutdownFailedEvent;

/** The `receive` callable: resolves to the next event from the server. */
export type Receive = () => Promise<ReceiveEvent>;
/** The `send` callable: hands an event to the server; resolves once it has been taken. */
export type Send = (event: SendEvent) => Promise<void>;

/** An ASGI 3.0 application: a single async callable. */
export type ASGIApp = (scope: Scope, receive: Receive, send: Send) => Promise<void>;
