/**
 * Host header validation: requests whose `Host` (RFC 9110 §7.2) is not one of the allowed
 * names are refused before they reach the app, which guards against DNS-rebinding and
 * host-header injection into generated links (password-reset mails, redirects).
 */
import type { ASGIApp, Receive, Scope, Send } from "../../types.js";
import { ASGIMiddleware } from "../middleware.js";
import { invalidOption, isSafeHeaderValue, requestTarget, sendText, splitHost } from "./shared.js";

/** Options of {@link TrustedHostMiddleware} (Starlette's names in camelCase). */
export interface TrustedHostOptions {
  /**
   * Host names allowed, without port: exact names, `*.example.com` for any subdomain (not the
   * apex), or `*` for any. Default `["*"]`.
   */
  allowedHosts?: readonly string[];
  /**
   * When `example.com` is refused but `www.example.com` is allowed, redirect there (307)
   * instead of answering 400. Default `true`.
   */
  wwwRedirect?: boolean;
}

/**
 * Refuses requests for host names not in `allowedHosts` with `400 Invalid host header`
 * (a websocket handshake is closed with code 1008, policy violation, RFC 6455 §7.4.1).
 *
 * @example
 * ```ts
 * app.addMiddleware(TrustedHostMiddleware, {
 *   allowedHosts: ["example.com", "*.example.com"],
 * });
 * ```
 */
export class TrustedHostMiddleware extends ASGIMiddleware<TrustedHostOptions> {
  private readonly allowAny: boolean;
  private readonly exact: ReadonlySet<string>;
  /** `.example.com` for each `*.example.com`. */
  private readonly suffixes: readonly string[];

  constructor(app: ASGIApp, options?: TrustedHostOptions) {
    super(app, options);
    const hosts = (this.options.allowedHosts ?? ["*"]).map((host) => host.toLowerCase());
    for (const host of hosts) {
      if (host !== "*" && host.lastIndexOf("*") > 0) {
        throw invalidOption(
          `TrustedHostMiddleware: ${JSON.stringify(host)}: a wildcard is only allowed as "*" ` +
            'or as the "*." prefix',
        );
      }
      if (host.startsWith("*") && host !== "*" && !host.startsWith("*.")) {
        throw invalidOption(`TrustedHostMiddleware: ${JSON.stringify(host)}: use "*.domain"`);
      }
    }
    this.allowAny = hosts.includes("*");
    this.exact = new Set(hosts.filter((host) => !host.startsWith("*")));
    this.suffixes = hosts.filter((host) => host.startsWith("*.")).map((host) => host.slice(1));
  }

  /**
   * Whether `hostname` (lower-case, no port) is allowed.
   *
   * @example
   * ```ts
   * const hosts = new TrustedHostMiddleware(app.asgi, { allowedHosts: ["*.example.com"] });
   * hosts.isAllowed("a.example.com"); // true
   * hosts.isAllowed("example.com"); // false
   * ```
   */
  isAllowed(hostname: string): boolean {
    if (this.allowAny || this.exact.has(hostname)) return true;
    return this.suffixes.some(
      (suffix) => hostname.length > suffix.length && hostname.endsWith(suffix),
    );
  }

  override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    // Anything but http and websocket (lifespan, a type a newer server may send) passes.
    if ((scope.type !== "http" && scope.type !== "websocket") || this.allowAny) {
      return this.app(scope, receive, send);
    }
    const { hostname, port } = splitHost(scope.headers);
    if (this.isAllowed(hostname)) return this.app(scope, receive, send);
    if (scope.type === "websocket") {
      // ASGI websocket spec: a close before accept makes the server refuse the handshake.
      return send({ type: "websocket.close", code: 1008 });
    }
    const http = scope;
    const www = `www.${hostname}`;
    if (this.options.wwwRedirect !== false && hostname.length > 0 && this.exact.has(www)) {
      const location = `${http.scheme}://${www}${port}${requestTarget(http)}`;
      if (isSafeHeaderValue(location)) {
        return sendText(send, 307, "Redirecting", [["location", location]]);
      }
    }
    return sendText(send, 400, "Invalid host header");
  }
}
