/**
 * `serve()` in this process: Node's HTTP/1.1 server driving an ASGI app, with lifespan,
 * limits, timeouts against slow clients and a graceful close.
 */
import { Buffer } from "node:buffer";
import cluster from "node:cluster";
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from "node:http";
import { createServer as createHTTPSServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { SETTLED } from "../fast-path.js";
import type { ASGIApp, ASGIHeaders, HTTPScope, WebSocketScope } from "../types.js";
import { handleClientError } from "./client-error.js";
import { Exchange, type ExchangeContext, writeErrorResponse } from "./exchange.js";
import { ForwardedTrust } from "./forwarded.js";
import { isValidHost } from "./host.js";
import { ASGI_VERSION, Lifespan } from "./lifespan.js";
import { noteRequest, responseInFlight, wrappedSocketOf } from "./node-internals.js";
import type { ResolvedServeOptions, ServerHandle } from "./options.js";
import { latin1Bytes, parseTarget } from "./path.js";
import { admit, DROPPED, isLastRequest, QUEUED, release, type WaitingRequest } from "./pipeline.js";
import { claimSocketPath } from "./unix-socket.js";
import { handshakeError, WebSocketSessions, writeHTTP } from "./websocket.js";

const BAD_REQUEST_BODY = Buffer.from("Bad Request");
const TOO_LARGE_BODY = Buffer.from("Payload Too Large");
const NOT_IMPLEMENTED_BODY = Buffer.from("Not Implemented");
const UNAVAILABLE_BODY = Buffer.from("Service Unavailable");
const EMPTY = Buffer.alloc(0);

/** The client/server address pair, computed once per connection. */
const kAddresses = Symbol("mtaio.addresses");
interface AddressedSocket extends Socket {
  [kAddresses]?: {
    client: [string, number] | null;
    server: [string, number | null] | null;
  };
}

/**
 * `unixServer`: `[path, null]` when serving on a Unix socket, whose connections have no
 * addresses; ASGI's `scope.server` is then the socket path (HTTP spec, "server").
 */
function addressesOf(socket: AddressedSocket, unixServer: [string, null] | null) {
  let addresses = socket[kAddresses];
  if (addresses === undefined) {
    const remote = socket.remoteAddress;
    const local = socket.localAddress;
    addresses = {
      client: remote === undefined ? null : [remote, socket.remotePort ?? 0],
      server: local === undefined ? unixServer : [local, socket.localPort ?? null],
    };
    socket[kAddresses] = addresses;
  }
  return addresses;
}

/** Formats `host:port` for a URL (IPv6 literals in brackets, RFC 3986 §3.2.2). */
export function formatURL(host: string, port: number, scheme: "http" | "https" = "http"): string {
  const shown = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `${scheme}://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
}

/** A Unix socket as a URL, the `http+unix://` form curl-like tools and requests-unixsocket use. */
export function unixSocketURL(path: string, scheme: "http" | "https" = "http"): string {
  return `${scheme}+unix://${encodeURIComponent(path)}`;
}

export class ASGIHTTPServer implements ExchangeContext {
  readonly server: Server;
  readonly bodyLimit: number;
  readonly writeTimeout: number;
  readonly logger: ResolvedServeOptions["logger"];
  closing = false;
  readonly scheme: "http" | "https";

  private readonly lifespan: Lifespan;
  private readonly forwarded: ForwardedTrust | null;
  private inFlight = 0;
  /** Requests whose app is running, and open WebSockets: what `limitConcurrency` bounds. */
  private active = 0;
  private readonly limitConcurrency: number;
  private readonly unixServer: [string, null] | null;
  private readonly sockets = new Set<Socket>();
  private readonly websockets: WebSocketSessions;
  private idleWaiters: Array<() => void> = [];
  private closed: Promise<void> | null = null;
  /** The last `Host` value found valid (see process()). */
  private validHost = "";

  constructor(
    private readonly app: ASGIApp,
    private readonly options: ResolvedServeOptions,
  ) {
    this.bodyLimit = options.bodyLimit;
    this.writeTimeout = options.writeTimeout;
    this.logger = options.logger;
    this.limitConcurrency = options.limitConcurrency;
    this.unixServer = options.uds === undefined ? null : [options.uds, null];
    this.lifespan = new Lifespan(app, options.lifespan, options.logger);
    this.forwarded =
      options.forwardedAllowIps.length > 0 ? new ForwardedTrust(options.forwardedAllowIps) : null;
    const serverOptions: ServerOptions = {
      keepAlive: true,
      keepAliveTimeout: options.keepAliveTimeout,
      headersTimeout: options.headersTimeout,
      requestTimeout: options.requestTimeout,
      // Node checks the two timeouts above on this interval (30 s by default): keep it short
      // enough that a slow client is cut off close to its deadline.
      connectionsCheckingInterval: Math.max(
        100,
        Math.min(1000, options.headersTimeout / 4 || 1000, options.requestTimeout / 4 || 1000),
      ),
      maxHeaderSize: options.maxHeaderSize,
      // The Host checks are the server's own (process()): Node's own check answers a missing
      // Host with a 400 without emitting 'request', so the server could not hold back the
      // requests pipelined behind it (RFC 9112 §9.6).
      requireHostHeader: false,
    };
    this.scheme = options.tls === undefined ? "http" : "https";
    this.server =
      options.tls === undefined
        ? createServer(serverOptions)
        : createHTTPSServer({ ...options.tls, ...serverOptions });
    // Every header line reaches rawHeaders (maxHeaderSize still bounds the head). With Node's
    // default cap, lines past it are dropped from rawHeaders while its parser still frames the
    // message by them: a Content-Length or Transfer-Encoding hidden there would skip the body
    // limit and the transfer-coding check.
    this.server.maxHeadersCount = 0;
    // Connections are tracked (per connection, not per request) so that close() can cut the
    // ones that carry no request: Node stops enforcing headersTimeout once server.close() has
    // run, so a client trickling a request head would otherwise hold close() open for ever.
    // With TLS, a connection is tracked as its raw socket until the handshake ends (one that
    // never finishes it would otherwise hold close() for the TLS handshakeTimeout, 120 s),
    // then as the TLS socket that carries the requests.
    this.server.on("connection", (socket: Socket) => this.track(socket));
    if (options.tls !== undefined) {
      this.server.on("secureConnection", (socket: Socket) => {
        const raw = wrappedSocketOf(socket, this.sockets);
        if (raw !== null) this.sockets.delete(raw);
        this.track(socket);
      });
    }
    this.server.on("clientError", (error: Error, socket: Socket) =>
      handleClientError(error, socket, this.onDropped),
    );
    this.server.on("request", (req: IncomingMessage, res: ServerResponse) =>
      this.handle(req, res, false),
    );
    // RFC 9110 §10.1.1: send 100 Continue only when the app reads the body (and never for a
    // body that is over the limit).
    this.server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) =>
      this.handle(req, res, true),
    );
    this.websockets = new WebSocketSessions(
      {
        maxMessageSize: options.websocketMaxMessageSize,
        pingIntervalMs: options.websocketPingInterval,
        maxBufferedBytes: options.websocketMaxBufferedBytes,
        writeTimeoutMs: options.writeTimeout,
        perMessageDeflate: options.websocketPerMessageDeflate,
      },
      this.logger,
    );
    this.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  /**
   * An HTTP/1.1 Upgrade request: a WebSocket handshake becomes an ASGI `websocket` scope;
   * anything else is refused. The socket has left Node's HTTP machinery, so it is no longer
   * one of the connections `close()` cuts as idle: WebSockets are closed with 1001 instead.
   */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.sockets.delete(socket as Socket);
    const isWebSocket = (req.headers.upgrade ?? "").toLowerCase() === "websocket";
    const problem = this.closing ? 503 : isWebSocket ? handshakeError(req) : 400;
    const target = problem === null ? parseTarget(req.url ?? "") : null;
    const raw = req.rawHeaders;
    const headers: ASGIHeaders = [];
    let hosts = 0;
    let host = "";
    for (let j = 0; j < raw.length; j += 2) {
      const name = raw[j].toLowerCase();
      headers.push([name, raw[j + 1]]);
      if (name === "host") {
        hosts++;
        host = raw[j + 1];
      }
    }
    const hostValid = hosts === 1 && (host === this.validHost || this.checkHost(host));
    if (problem !== null || target === null || !hostValid) {
      writeHTTP(socket, problem ?? 400, [], undefined, true);
      return;
    }
    if (this.active >= this.limitConcurrency) {
      writeHTTP(socket, 503, [], UNAVAILABLE_BODY, true);
      return;
    }
    const addresses = addressesOf(req.socket as AddressedSocket, this.unixServer);
    const protocols = req.headers["sec-websocket-protocol"];
    const scope: WebSocketScope = {
      type: "websocket",
      asgi: { version: ASGI_VERSION.version, spec_version: ASGI_VERSION.spec_version },
      http_version: "1.1",
      scheme: this.scheme === "https" ? "wss" : "ws",
      path: target.path,
      raw_path: latin1Bytes(target.rawPath),
      query_string: target.query.length === 0 ? EMPTY : latin1Bytes(target.query),
      root_path: this.options.rootPath,
      headers,
      client: addresses.client,
      server: addresses.server,
      subprotocols: protocols
        ? protocols
            .split(",")
            .map((p) => p.trim())
            .filter((p) => p)
        : [],
      extensions: { "websocket.http.response": {} },
    };
    const forwarded = this.forwarded;
    if (forwarded !== null && addresses.client !== null && forwarded.trusts(addresses.client[0])) {
      const said = forwarded.read(headers);
      if (said.client !== null) scope.client = said.client;
      if (said.scheme !== null) scope.scheme = said.scheme === "https" ? "wss" : "ws";
    }
    if (this.lifespan.supported) scope.state = { ...this.lifespan.state };
    this.inFlight++;
    this.active++;
    this.websockets.run(this.app, scope, req, socket, head, () => {
      this.active--;
      this.settle(1);
    });
  }

  /** Lifespan startup, then listen. Rejects on a startup failure or a listen error. */
  async start(): Promise<ServerHandle> {
    const uds = this.options.uds;
    // In a cluster worker the primary has claimed the path and holds the listening socket.
    if (uds !== undefined && !cluster.isWorker) await claimSocketPath(uds);
    await this.lifespan.startup();
    try {
      await new Promise<void>((resolve, reject) => {
        const server = this.server;
        const onError = (error: Error) => {
          server.off("listening", onListening);
          reject(error);
        };
        const onListening = () => {
          server.off("error", onError);
          resolve();
        };
        server.once("error", onError);
        server.once("listening", onListening);
        if (uds === undefined) server.listen(this.options.port, this.options.host);
        else server.listen(uds);
      });
    } catch (error) {
      await this.lifespan.shutdown();
      throw error;
    }
    // After listen, a server error (e.g. EMFILE on accept) is logged, never a crash.
    this.server.on("error", (error) => this.logger.error("HTTP server error", error));
    const close = () => this.close();
    if (uds !== undefined) {
      // Node removes the socket file when the server closes.
      const url = unixSocketURL(uds, this.scheme);
      return { host: uds, port: 0, url, workers: 1, close, [Symbol.asyncDispose]: close };
    }
    const address = this.server.address() as AddressInfo;
    const host = this.options.host;
    const port = address.port;
    const url = formatURL(host, port, this.scheme);
    return { host, port, url, workers: 1, close, [Symbol.asyncDispose]: close };
  }

  /** Graceful: stop accepting, finish in-flight requests, close idle sockets, lifespan shutdown. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    // RFC 6455 §7.4.1: 1001, the server is going away; their apps then see the disconnect.
    this.websockets.closeAll();
    const server = this.server;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    this.closeRequestless();
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      deadline = setTimeout(resolve, this.options.shutdownTimeout);
    });
    await Promise.race([this.waitIdle(), timedOut]);
    clearTimeout(deadline);
    if (this.inFlight > 0) {
      // An app that never returns must not keep the server open forever.
      this.logger.error(
        `Shutdown timeout: cutting off ${this.inFlight} request(s) still running after ${this.options.shutdownTimeout} ms`,
      );
      server.closeAllConnections();
    }
    this.closeRequestless();
    await stopped;
    await this.lifespan.shutdown();
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
  }

  /**
   * Destroys connections with no response in flight: idle keep-alive ones and ones still
   * sending a request head (no request has reached the app on them). A response is in flight
   * from its request until it has been flushed (see responseInFlight in node-internals.ts),
   * so a response in progress is never cut here.
   */
  private closeRequestless(): void {
    for (const socket of this.sockets) {
      if (responseInFlight(socket) === null) socket.destroy();
    }
  }

  private waitIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  exchangeDone(): void {
    this.active--;
    this.settle(1);
  }

  /** `count` admitted requests are over: their app returned, or they were never processed. */
  private settle(count: number): void {
    this.inFlight -= count;
    if (this.closing) {
      // The socket of a finished response is idle now; close it (after Node has detached it).
      setImmediate(() => this.server.closeIdleConnections());
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }

  private readonly onDropped = (count: number) => this.settle(count);

  /**
   * The response to `req` is complete (or abandoned): the next request pipelined on its
   * connection may run (see pipeline.ts). It runs a microtask later, never inside the `send()`
   * that completed this response, so that a long pipeline cannot nest app calls.
   */
  responseDone(req: IncomingMessage, res: ServerResponse): void {
    const next = release(req, res, this.onDropped);
    if (next !== null) SETTLED.then(() => this.runWaiting(next));
  }

  private runWaiting(next: WaitingRequest): void {
    // The last request parsed before bytes the parser refused (client-error.ts) closes.
    if (isLastRequest(next.req)) next.res.shouldKeepAlive = false;
    this.process(next.req, next.res, next.expectContinue);
  }

  /** True when `host` is a valid Host value; remembers it then. */
  private checkHost(host: string): boolean {
    if (!isValidHost(host)) return false;
    this.validHost = host;
    return true;
  }

  /** One line per response, uvicorn-style: `client - "METHOD target HTTP/x" status`. */
  private logAccess(
    req: IncomingMessage,
    res: ServerResponse,
    client: [string, number] | null,
  ): void {
    res.once("finish", () => {
      const who = client === null ? "-" : `${client[0]}:${client[1]}`;
      // JSON.stringify quotes the target, so control characters cannot forge log lines.
      const line = `${req.method} ${req.url} HTTP/${req.httpVersion}`;
      this.logger.info(`${who} - ${JSON.stringify(line)} ${res.statusCode}`);
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void {
    noteRequest(req, res);
    const turn = admit(req, res, expectContinue);
    // RFC 9112 §9.6: nothing after a response that closed the connection is processed.
    if (turn === DROPPED) return;
    this.inFlight++;
    if (turn !== QUEUED) this.process(req, res, expectContinue);
  }

  /** Answers a request the app must not see; the connection closes after the response. */
  private refuse(req: IncomingMessage, res: ServerResponse, status: number, body: Buffer): void {
    writeErrorResponse(res, status, body, true);
    this.responseDone(req, res);
    this.settle(1);
  }

  private process(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void {
    if (this.closing) res.shouldKeepAlive = false;
    const target = parseTarget(req.url ?? "");
    if (target === null) {
      // Malformed request target or percent-encoding (RFC 3986 §2.1): refuse before the app.
      this.refuse(req, res, 400, BAD_REQUEST_BODY);
      return;
    }
    const raw = req.rawHeaders;
    const count = raw.length >> 1;
    const headers: ASGIHeaders = new Array(count);
    let contentLength = 0;
    let unsupported = false;
    let hosts = 0;
    let host = "";
    for (let i = 0, j = 0; i < count; i++, j += 2) {
      const name = raw[j].toLowerCase();
      const value = raw[j + 1];
      headers[i] = [name, value];
      if (name.length === 4) {
        if (name === "host") {
          hosts++;
          host = value;
        }
      } else if (name.length === 14 && name === "content-length") {
        // Node's parser has already rejected invalid or conflicting values.
        if (contentLength === 0) contentLength = Number(value);
      } else if (name.length === 17 && name === "transfer-encoding") {
        contentLength = -1;
        // RFC 9112 §6.1: only chunked is decoded here; another coding (Node's parser lets
        // "gzip, chunked" through) would hand the app bytes it cannot tell are still encoded.
        if (value.trim().toLowerCase() !== "chunked") unsupported = true;
      }
    }
    const http10 = req.httpVersionMajor === 1 && req.httpVersionMinor === 0;
    // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host, any request at most one, and
    // its value must be valid. The last valid value is remembered: most requests repeat it.
    const hostAccepted =
      hosts === 1 ? host === this.validHost || this.checkHost(host) : hosts === 0 && http10;
    if (!hostAccepted) {
      this.refuse(req, res, 400, BAD_REQUEST_BODY);
      return;
    }
    if (contentLength < 0 && http10) {
      // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means its framing is faulty.
      this.refuse(req, res, 400, BAD_REQUEST_BODY);
      return;
    }
    if (unsupported) {
      this.refuse(req, res, 501, NOT_IMPLEMENTED_BODY);
      return;
    }
    if (contentLength > this.bodyLimit) {
      // Refuse without reading the body; close so its bytes need not be read either.
      this.refuse(req, res, 413, TOO_LARGE_BODY);
      return;
    }
    if (this.active >= this.limitConcurrency) {
      // uvicorn's answer past --limit-concurrency; the connection closes after it.
      this.refuse(req, res, 503, UNAVAILABLE_BODY);
      return;
    }
    const addresses = addressesOf(req.socket as AddressedSocket, this.unixServer);
    const scope: HTTPScope = {
      type: "http",
      asgi: { version: ASGI_VERSION.version, spec_version: ASGI_VERSION.spec_version },
      http_version: req.httpVersion === "1.0" ? "1.0" : "1.1",
      method: req.method ?? "GET",
      scheme: this.scheme,
      path: target.path,
      raw_path: latin1Bytes(target.rawPath),
      query_string: target.query.length === 0 ? EMPTY : latin1Bytes(target.query),
      root_path: this.options.rootPath,
      headers,
      client: addresses.client,
      server: addresses.server,
    };
    const forwarded = this.forwarded;
    if (forwarded !== null && addresses.client !== null && forwarded.trusts(addresses.client[0])) {
      const said = forwarded.read(headers);
      if (said.client !== null) scope.client = said.client;
      if (said.scheme !== null) scope.scheme = said.scheme;
    }
    if (this.lifespan.supported) scope.state = { ...this.lifespan.state };
    if (this.options.accessLog) this.logAccess(req, res, addresses.client);
    this.active++;
    const exchange = new Exchange(req, res, this, contentLength, expectContinue);
    exchange.run(this.app, scope);
  }
}
