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

export interface ASGIVersion {
  version: "3.0";
  spec_version: string;
}

/** `scope` for `type: "http"` (ASGI HTTP spec 2.4). */
export interface HTTPScope {
  type: "http";
  asgi: ASGIVersion;
  http_version: "1.0" | "1.1" | "2";
  method: string;
  scheme: "http" | "https";
  /** Percent-decoded path (UTF-8), without the query string. */
  path: string;
  /** The path as it came on the wire, undecoded. */
  raw_path: Uint8Array | null;
  /** The query string without the leading `?`, undecoded. */
  query_string: Uint8Array;
  root_path: string;
  headers: ASGIHeaders;
  client: [host: string, port: number] | null;
  server: [host: string, port: number | null] | null;
  /** Copied from the lifespan state for each request (ASGI "lifespan state" extension). */
  state?: Record<string, unknown>;
  extensions?: Record<string, Record<string, unknown>>;
}

/** `scope` for `type: "lifespan"` (ASGI lifespan spec 2.0). */
export interface LifespanScope {
  type: "lifespan";
  asgi: ASGIVersion;
  state?: Record<string, unknown>;
}

export type Scope = HTTPScope | LifespanScope;

// ---- HTTP events -------------------------------------------------------------------------

export interface HTTPRequestEvent {
  type: "http.request";
  body: Uint8Array;
  more_body: boolean;
}

export interface HTTPDisconnectEvent {
  type: "http.disconnect";
}

export interface HTTPResponseStartEvent {
  type: "http.response.start";
  status: number;
  headers?: ASGIHeaders;
  trailers?: boolean;
}

export interface HTTPResponseBodyEvent {
  type: "http.response.body";
  body?: Uint8Array;
  more_body?: boolean;
}

// ---- Lifespan events ---------------------------------------------------------------------

export interface LifespanStartupEvent {
  type: "lifespan.startup";
}
export interface LifespanShutdownEvent {
  type: "lifespan.shutdown";
}
export interface LifespanStartupCompleteEvent {
  type: "lifespan.startup.complete";
}
export interface LifespanStartupFailedEvent {
  type: "lifespan.startup.failed";
  message?: string;
}
export interface LifespanShutdownCompleteEvent {
  type: "lifespan.shutdown.complete";
}
export interface LifespanShutdownFailedEvent {
  type: "lifespan.shutdown.failed";
  message?: string;
}

/** Events an app receives from the server. */
export type ReceiveEvent =
  | HTTPRequestEvent
  | HTTPDisconnectEvent
  | LifespanStartupEvent
  | LifespanShutdownEvent;

/** Events an app sends to the server. */
export type SendEvent =
  | HTTPResponseStartEvent
  | HTTPResponseBodyEvent
  | LifespanStartupCompleteEvent
  | LifespanStartupFailedEvent
  | LifespanShutdownCompleteEvent
  | LifespanShutdownFailedEvent;

export type Receive = () => Promise<ReceiveEvent>;
export type Send = (event: SendEvent) => Promise<void>;

/** An ASGI 3.0 application: a single async callable. */
export type ASGIApp = (scope: Scope, receive: Receive, send: Send) => Promise<void>;
