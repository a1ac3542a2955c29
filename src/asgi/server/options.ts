/** Options of `serve()` and the handle it returns. */
import type { SecureContextOptions, TlsOptions } from "node:tls";

/** TLS for HTTPS: at least `key` and `cert` (PEM), plus any other Node TLS server option. */
export type ServeTLSOptions = SecureContextOptions & TlsOptions;

/** Where the server reports problems. `console` fits; pass your own logger to route them. */
export interface ServerLogger {
  /** Reports a problem (an app exception, an invalid header), with the error when there is one. */
  error(message: string, error?: unknown): void;
  /** Reports an event worth a line: listening, shutting down, access-log lines. */
  info(message: string): void;
}

/** `"auto"`: try lifespan, carry on without it if the app does not support it (uvicorn's default). */
export type LifespanMode = "auto" | "on" | "off";

/** Options of `serve(app, options)`; every one has a default. */
export interface ServeOptions {
  /** Interface to bind. Default `"127.0.0.1"`. */
  host?: string;
  /**
   * Listen on this Unix domain socket path instead of a TCP port (`host` and `port` are then
   * unused; uvicorn's `--uds`). A socket file left behind by a server that is gone is
   * replaced; a path that exists and is not a socket, or a socket another server still
   * listens on, is refused (`ASGIError` `ASGI_UDS_NOT_SOCKET` / `ASGI_UDS_IN_USE`). The file
   * is removed on `close()`. Its permissions follow the process umask.
   */
  uds?: string;
  /** TCP port; `0` picks a free one (read it back from the handle). Default `8000`. */
  port?: number;
  /**
   * Worker processes (node:cluster) sharing the port; `"auto"` means one per core.
   * Default `1`: serve from this process.
   */
  workers?: number | "auto";
  /** Request bodies larger than this many bytes get 413. Default 1 MiB; `Infinity` disables. */
  bodyLimit?: number;
  /** Milliseconds a client may take to send the request head. Default 20 000. */
  headersTimeout?: number;
  /** Milliseconds a client may take to send the whole request (head and body). Default 60 000. */
  requestTimeout?: number;
  /** Milliseconds an idle keep-alive connection stays open. Default 5 000. */
  keepAliveTimeout?: number;
  /**
   * Milliseconds a streamed `send()` may wait for a client that reads nothing (no `drain`)
   * before the connection is closed and `send()` rejects; the same for a WebSocket send held
   * back by a peer that reads nothing. Default 60 000.
   */
  writeTimeout?: number;
  /** Milliseconds `close()` waits for in-flight requests before cutting them off. Default 30 000. */
  shutdownTimeout?: number;
  /** ASGI lifespan protocol. Default `"auto"`. */
  lifespan?: LifespanMode;
  /** `scope.root_path`, for apps mounted below a prefix by a proxy. Default `""`. */
  rootPath?: string;
  /** Where errors (app exceptions, invalid headers) go. Default `console`. */
  logger?: ServerLogger;
  /** Maximum request-head size in bytes (Node's `maxHeaderSize`). Default 16 KiB. */
  maxHeaderSize?: number;
  /** Log one line per response through `logger.info` (costs a listener per request). Default false. */
  accessLog?: boolean;
  /**
   * Peers trusted to set `X-Forwarded-For` / `X-Forwarded-Proto` (reverse proxies), e.g.
   * `["127.0.0.1"]`; `["*"]` trusts all. Their values then become `scope.client` and
   * `scope.scheme`. Default: none (the headers are ignored).
   */
  forwardedAllowIps?: string[];
  /** Serve HTTPS with these TLS options (`key`, `cert`, …); `scope.scheme` is then `"https"`. */
  tls?: ServeTLSOptions;
  /**
   * At most this many HTTP requests and WebSocket connections are handled at once; one more
   * is answered `503 Service Unavailable` with `Connection: close` without reaching the app
   * (uvicorn's `--limit-concurrency`). Default: no limit.
   */
  limitConcurrency?: number;
  /** Largest WebSocket message accepted; a larger one closes with 1009. Default 1 MiB. */
  websocketMaxMessageSize?: number;
  /**
   * Milliseconds between WebSocket pings; a peer that has not answered the previous one by
   * the next is dropped. Default 20 000; `0` sends none.
   */
  websocketPingInterval?: number;
  /**
   * Bytes a WebSocket may hold unsent. An app that awaits its sends is paused by a peer that
   * reads slowly (its send resolves once the data has reached the kernel) and never gets near
   * this; an app that does not await, sending to a peer that does not read, does: the
   * connection is then dropped (the app sees `websocket.disconnect` with 1006) and the send
   * rejects with `ASGI_WEBSOCKET_CLOSED`. A send held back longer than `writeTimeout` does
   * the same. Default 16 MiB; `Infinity` disables.
   */
  websocketMaxBufferedBytes?: number;
  /**
   * Negotiate permessage-deflate (RFC 7692) with clients that offer it: less traffic for
   * compressible messages, more CPU and memory per connection. `websocketMaxMessageSize`
   * applies to the inflated size. Default false.
   */
  websocketPerMessageDeflate?: boolean;
}

/** What `serve()` resolves to once the server accepts connections. */
export interface ServerHandle {
  /** The bound host (the socket path when serving on a Unix socket, `uds`). */
  readonly host: string;
  /** The bound port (the real one when `port: 0` was asked for; `0` with `uds`). */
  readonly port: number;
  /**
   * `http://host:port` (or `https://`), ready to print or fetch; with `uds`,
   * `http+unix://` and the percent-encoded socket path.
   */
  readonly url: string;
  /** Worker processes serving (1 when serving in-process). */
  readonly workers: number;
  /**
   * Graceful stop: stop accepting, let in-flight requests finish (up to `shutdownTimeout`),
   * close idle keep-alive connections, then run lifespan shutdown. Idempotent.
   */
  close(): Promise<void>;
  /** `await using server = await serve(app)` runs `close()` at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options with every default filled in. */
export interface ResolvedServeOptions {
  host: string;
  uds: string | undefined;
  port: number;
  workers: number;
  bodyLimit: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  writeTimeout: number;
  shutdownTimeout: number;
  lifespan: LifespanMode;
  rootPath: string;
  logger: ServerLogger;
  maxHeaderSize: number;
  accessLog: boolean;
  tls: ServeTLSOptions | undefined;
  forwardedAllowIps: string[];
  limitConcurrency: number;
  websocketMaxMessageSize: number;
  websocketPingInterval: number;
  websocketMaxBufferedBytes: number;
  websocketPerMessageDeflate: boolean;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

const consoleLogger: ServerLogger = {
  error: (message, error) =>
    error === undefined ? console.error(message) : console.error(message, error),
  info: (message) => console.log(message),
};

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new RangeError(`serve(): ${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

export function resolveOptions(options: ServeOptions, cores: number): ResolvedServeOptions {
  const port = positive("port", options.port, 8000);
  if (!Number.isInteger(port) || port > 65535) {
    throw new RangeError(`serve(): port must be an integer 0–65535, got ${port}`);
  }
  let workers: number;
  if (options.workers === "auto") workers = Math.max(1, cores);
  else {
    workers = positive("workers", options.workers, 1);
    if (!Number.isInteger(workers) || workers < 1) {
      throw new RangeError(`serve(): workers must be a positive integer or "auto"`);
    }
  }
  const lifespan = options.lifespan ?? "auto";
  if (lifespan !== "auto" && lifespan !== "on" && lifespan !== "off") {
    throw new RangeError(`serve(): lifespan must be "auto", "on" or "off"`);
  }
  const requestTimeout = positive("requestTimeout", options.requestTimeout, 60_000);
  let headersTimeout = positive("headersTimeout", options.headersTimeout, 20_000);
  if (requestTimeout > 0 && headersTimeout > requestTimeout) {
    // Node requires headersTimeout <= requestTimeout (the head is part of the request).
    if (options.headersTimeout !== undefined) {
      throw new RangeError(
        `serve(): headersTimeout (${headersTimeout}) must not exceed requestTimeout (${requestTimeout})`,
      );
    }
    headersTimeout = requestTimeout;
  }
  const limitConcurrency = positive("limitConcurrency", options.limitConcurrency, Infinity);
  if (
    limitConcurrency !== Infinity &&
    (!Number.isInteger(limitConcurrency) || limitConcurrency < 1)
  ) {
    throw new RangeError(`serve(): limitConcurrency must be a positive integer`);
  }
  const uds = options.uds;
  if (uds !== undefined && (typeof uds !== "string" || uds === "" || uds.includes("\0"))) {
    throw new RangeError(`serve(): uds must be a file path`);
  }
  return {
    host: options.host ?? "127.0.0.1",
    uds,
    port,
    workers,
    bodyLimit: positive("bodyLimit", options.bodyLimit, DEFAULT_BODY_LIMIT),
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: positive("keepAliveTimeout", options.keepAliveTimeout, 5_000),
    writeTimeout: positive("writeTimeout", options.writeTimeout, 60_000),
    shutdownTimeout: positive("shutdownTimeout", options.shutdownTimeout, 30_000),
    lifespan,
    rootPath: options.rootPath ?? "",
    logger: options.logger ?? consoleLogger,
    maxHeaderSize: positive("maxHeaderSize", options.maxHeaderSize, 16 * 1024),
    accessLog: options.accessLog === true,
    tls: options.tls,
    forwardedAllowIps: options.forwardedAllowIps ?? [],
    limitConcurrency,
    websocketMaxMessageSize: positive(
      "websocketMaxMessageSize",
      options.websocketMaxMessageSize,
      1024 * 1024,
    ),
    websocketPingInterval: positive("websocketPingInterval", options.websocketPingInterval, 20_000),
    websocketMaxBufferedBytes: positive(
      "websocketMaxBufferedBytes",
      options.websocketMaxBufferedBytes,
      16 * 1024 * 1024,
    ),
    websocketPerMessageDeflate: options.websocketPerMessageDeflate === true,
  };
}
