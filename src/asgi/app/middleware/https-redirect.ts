/**
 * Sends plain-HTTP requests to HTTPS: `http` becomes `https` and `ws` becomes `wss`, with the
 * same host, path and query. Behind a TLS-terminating proxy, serve with `forwardedAllowIps`
 * so the scope's scheme reflects `X-Forwarded-Proto`, or every request will loop.
 */
import type { ASGIApp, HTTPScope, Receive, Scope, Send, WebSocketScope } from "../../types.js";
import { ASGIMiddleware } from "../middleware.js";
import { invalidOption, isSafeHeaderValue, requestTarget, sendText, splitHost } from "./shared.js";

/** Options of {@link HTTPSRedirectMiddleware}. */
export interface HTTPSRedirectOptions {
  /**
   * 307 (default, as Starlette) or 308: both keep the method and body (RFC 9110 §15.4.8,
   * RFC 9110 §15.4.9); 308 is cacheable by default.
   */
  statusCode?: 307 | 308;
  /**
   * The HTTPS port to redirect to (omitted from the URL when 443). Default: the port of the
   * request's `Host` kept as is, except `:80`, which is dropped.
   */
  httpsPort?: number;
}

/**
 * Redirects `http://` requests to `https://` (and `ws://` websocket handshakes to `wss://`,
 * through the ASGI "websocket.http.response" extension when the server offers it; otherwise
 * the handshake is closed with 1008, policy violation).
 *
 * @example
 * ```ts
 * app.addMiddleware(HTTPSRedirectMiddleware, { statusCode: 308 });
 * ```
 */
export class HTTPSRedirectMiddleware extends ASGIMiddleware<HTTPSRedirectOptions> {
  constructor(app: ASGIApp, options?: HTTPSRedirectOptions) {
    super(app, options);
    const status = this.options.statusCode;
    if (status !== undefined && status !== 307 && status !== 308) {
      throw invalidOption("HTTPSRedirectMiddleware: statusCode must be 307 or 308");
    }
    const port = this.options.httpsPort;
    if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
      throw invalidOption("HTTPSRedirectMiddleware: httpsPort must be a port number");
    }
  }

  override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    const plain =
      (scope.type === "http" && scope.scheme === "http") ||
      (scope.type === "websocket" && scope.scheme === "ws");
    if (!plain) return this.app(scope, receive, send);
    const location = this.secureUrl(scope, scope.type === "http" ? "https" : "wss");
    const status = this.options.statusCode ?? 307;
    if (scope.type === "http") {
      if (location === undefined) return sendText(send, 400, "Invalid host header");
      return sendText(send, status, "Redirecting to HTTPS", [["location", location]]);
    }
    const extensions = scope.extensions ?? {};
    if (location !== undefined && "websocket.http.response" in extensions) {
      // ASGI websocket "denial response" extension: an HTTP answer instead of the handshake.
      await send({
        type: "websocket.http.response.start",
        status,
        headers: [["location", location]],
      });
      return send({
        type: "websocket.http.response.body",
        body: new Uint8Array(0),
        more_body: false,
      });
    }
    return send({ type: "websocket.close", code: 1008 });
  }

  /** The same URL over TLS, or `undefined` when the Host cannot go into a `Location`. */
  private secureUrl(
    scope: HTTPScope | WebSocketScope,
    scheme: "https" | "wss",
  ): string | undefined {
    let { hostname, port } = splitHost(scope.headers);
    if (hostname.length === 0) {
      const server = scope.server;
      if (server === null) return undefined;
      hostname = server[0].includes(":") ? `[${server[0]}]` : server[0];
      port = server[1] === null ? "" : `:${server[1]}`;
    }
    const httpsPort = this.options.httpsPort;
    if (httpsPort !== undefined) port = httpsPort === 443 ? "" : `:${httpsPort}`;
    else if (port === ":80") port = "";
    const url = `${scheme}://${hostname}${port}${requestTarget(scope)}`;
    return isSafeHeaderValue(url) ? url : undefined;
  }
}
