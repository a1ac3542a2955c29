/**
 * CORS (the Fetch standard's "CORS protocol", https://fetch.spec.whatwg.org/#http-cors-protocol):
 * answers preflight requests and adds `Access-Control-*` headers to the responses of allowed
 * origins. Options mirror Starlette's `CORSMiddleware`.
 */
import type { ASGIApp, ASGIHeaders, HTTPScope, Receive, Scope, Send } from "../../types.js";
import { ASGIMiddleware } from "../middleware.js";
import { appendVary, headerValue, sendText } from "./shared.js";

/** Options of {@link CORSMiddleware} (Starlette's names in camelCase). */
export interface CORSOptions {
  /** Origins allowed, e.g. `["https://example.com"]`; `["*"]` allows any. Default none. */
  allowOrigins?: readonly string[];
  /** Origins allowed by a pattern that must match the whole origin. Default none. */
  allowOriginRegex?: RegExp | string;
  /** Methods allowed in preflights; `["*"]` allows any. Default `["GET"]`. */
  allowMethods?: readonly string[];
  /** Request headers allowed in preflights (besides the CORS-safelisted ones); `["*"]` any. */
  allowHeaders?: readonly string[];
  /** Sends `Access-Control-Allow-Credentials: true` (cookies and auth). Default `false`. */
  allowCredentials?: boolean;
  /** Response headers the page's scripts may read. Default none. */
  exposeHeaders?: readonly string[];
  /** How long browsers may cache a preflight answer, in seconds. Default 600. */
  maxAge?: number;
}

/** Request headers a page may always send (Fetch §2.2.2, "CORS-safelisted request-header"). */
const SAFELISTED_HEADERS = ["accept", "accept-language", "content-language", "content-type"];

/** RFC 9110 §5.6.2 token: what an echoed method or header name must be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Cross-origin resource sharing. A preflight (`OPTIONS` with `Access-Control-Request-Method`)
 * is answered here: 204 with the allow-lists when the origin, method and headers are allowed,
 * 400 without any CORS header otherwise. Other requests go to the app; responses to an allowed
 * `Origin` get `Access-Control-Allow-Origin` (and credentials/expose headers). `Vary: Origin`
 * is added whenever the answer depends on the origin.
 *
 * @example
 * ```ts
 * app.addMiddleware(CORSMiddleware, {
 *   allowOrigins: ["https://app.example.com"],
 *   allowMethods: ["GET", "POST"],
 *   allowHeaders: ["authorization"],
 *   allowCredentials: true,
 * });
 * ```
 */
export class CORSMiddleware extends ASGIMiddleware<CORSOptions> {
  private readonly allowAllOrigins: boolean;
  private readonly origins: ReadonlySet<string>;
  private readonly originPattern: RegExp | undefined;
  private readonly allowAllMethods: boolean;
  private readonly methods: readonly string[];
  private readonly allowAllHeaders: boolean;
  private readonly headers: ReadonlySet<string>;
  private readonly credentials: boolean;
  /** Headers every preflight answer carries (computed once). */
  private readonly preflightHeaders: ASGIHeaders;
  /** Headers every allowed simple response carries besides the origin. */
  private readonly simpleHeaders: ASGIHeaders;

  constructor(app: ASGIApp, options?: CORSOptions) {
    super(app, options);
    const settings = this.options;
    const origins = settings.allowOrigins ?? [];
    this.allowAllOrigins = origins.includes("*");
    this.origins = new Set(origins);
    const regex = settings.allowOriginRegex;
    // Anchored so that "https://.*\.example\.com" cannot match "https://x.example.com.evil".
    this.originPattern =
      regex === undefined
        ? undefined
        : new RegExp(
            `^(?:${typeof regex === "string" ? regex : regex.source})$`,
            typeof regex === "string" ? "" : regex.flags.replace(/[gy]/g, ""),
          );
    const methods = (settings.allowMethods ?? ["GET"]).map((method) => method.toUpperCase());
    this.allowAllMethods = methods.includes("*");
    this.methods = methods;
    const headers = (settings.allowHeaders ?? []).map((header) => header.toLowerCase());
    this.allowAllHeaders = headers.includes("*");
    this.headers = new Set([...SAFELISTED_HEADERS, ...headers]);
    this.credentials = settings.allowCredentials === true;

    this.preflightHeaders = [["access-control-max-age", String(settings.maxAge ?? 600)]];
    if (!this.allowAllMethods) {
      this.preflightHeaders.push(["access-control-allow-methods", methods.join(", ")]);
    }
    if (!this.allowAllHeaders) {
      this.preflightHeaders.push(["access-control-allow-headers", [...this.headers].join(", ")]);
    }
    this.simpleHeaders = [];
    if (this.credentials) {
      this.preflightHeaders.push(["access-control-allow-credentials", "true"]);
      this.simpleHeaders.push(["access-control-allow-credentials", "true"]);
    }
    if (settings.exposeHeaders !== undefined && settings.exposeHeaders.length > 0) {
      this.simpleHeaders.push(["access-control-expose-headers", settings.exposeHeaders.join(", ")]);
    }
  }

  override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    if (scope.type !== "http") return this.app(scope, receive, send);
    const origin = headerValue(scope.headers, "origin");
    // Not a CORS request: nothing to add.
    if (origin === undefined) return this.app(scope, receive, send);
    const requestedMethod = headerValue(scope.headers, "access-control-request-method");
    if (scope.method === "OPTIONS" && requestedMethod !== undefined) {
      return this.preflight(scope, origin, requestedMethod, send);
    }
    return this.simple(scope, origin, receive, send);
  }

  private isAllowedOrigin(origin: string): boolean {
    if (this.allowAllOrigins || this.origins.has(origin)) return true;
    return this.originPattern?.test(origin) === true;
  }

  /**
   * Whether the answer names the request's origin (and so must carry `Vary: Origin`, RFC 9110
   * §12.5.5 and Fetch §3.2.5) rather than the same `*` for everyone.
   */
  private echoesOrigin(scope: HTTPScope): boolean {
    if (!this.allowAllOrigins) return true;
    // Fetch §3.2.5: a credentialed response may not use `*`, so the origin is echoed.
    return this.credentials || headerValue(scope.headers, "cookie") !== undefined;
  }

  private async preflight(
    scope: HTTPScope,
    origin: string,
    requestedMethod: string,
    send: Send,
  ): Promise<void> {
    const requestedHeaders = (headerValue(scope.headers, "access-control-request-headers") ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name.length > 0);
    const failures: string[] = [];
    if (!this.isAllowedOrigin(origin)) failures.push("origin");
    const methodAllowed = this.allowAllMethods
      ? TOKEN.test(requestedMethod)
      : this.methods.includes(requestedMethod.toUpperCase());
    if (!methodAllowed) failures.push("method");
    const headersAllowed = this.allowAllHeaders
      ? requestedHeaders.every((name) => TOKEN.test(name))
      : requestedHeaders.every((name) => this.headers.has(name));
    if (!headersAllowed) failures.push("headers");
    const vary: ASGIHeaders = [["vary", "Origin"]];
    if (failures.length > 0) {
      // No Access-Control-Allow-* at all: the browser then refuses the real request.
      return sendText(send, 400, `Disallowed CORS ${failures.join(", ")}`, vary);
    }
    const headers: ASGIHeaders = [...this.preflightHeaders, ...vary];
    headers.push([
      "access-control-allow-origin",
      this.allowAllOrigins && !this.credentials ? "*" : origin,
    ]);
    if (this.allowAllMethods) {
      // Echoed rather than `*`, which Fetch ignores on credentialed requests.
      headers.push(["access-control-allow-methods", requestedMethod]);
    }
    if (this.allowAllHeaders && requestedHeaders.length > 0) {
      // Echoed rather than `*`: Fetch ignores the wildcard on credentialed requests.
      headers.push(["access-control-allow-headers", requestedHeaders.join(", ")]);
    }
    await send({ type: "http.response.start", status: 204, headers });
    await send({ type: "http.response.body", more_body: false });
  }

  private async simple(scope: HTTPScope, origin: string, receive: Receive, send: Send) {
    const allowed = this.isAllowedOrigin(origin);
    const echo = this.echoesOrigin(scope);
    await this.app(scope, receive, (event) => {
      if (event.type !== "http.response.start") return send(event);
      const headers: ASGIHeaders = [...(event.headers ?? [])];
      if (allowed) {
        headers.push(["access-control-allow-origin", echo ? origin : "*"], ...this.simpleHeaders);
      }
      if (echo) appendVary(headers, "Origin");
      return send({ ...event, headers });
    });
  }
}
