/**
 * A request id for correlating logs across services: taken from the incoming header when
 * trusted (set by a proxy or an upstream service), generated otherwise, stored in the scope
 * for handlers and loggers, and echoed in the response.
 */
import { randomUUID } from "node:crypto";
import type { ASGIApp, HTTPScope, Receive, Scope, Send } from "../../types.js";
import { ASGIMiddleware } from "../middleware.js";
import { headerValue, invalidOption } from "./shared.js";

/** Options of {@link RequestIdMiddleware}. */
export interface RequestIdOptions {
  /** The header read from the request and written to the response. Default `x-request-id`. */
  header?: string;
  /**
   * Use the request's id when it has one (only behind a proxy that sets or checks it: a client
   * could otherwise choose ids that collide with others'). Default `false`.
   */
  trustIncoming?: boolean;
  /** Makes a new id. Default `crypto.randomUUID()`. */
  generate?: () => string;
}

/** What an incoming id may look like: short, visible ASCII, no quotes (it lands in logs). */
const SAFE_ID = /^[A-Za-z0-9._~:/+=@-]{1,200}$/;

/** The scope key under which the id is stored. */
const SCOPE_KEY = "request_id";

/**
 * The request id {@link RequestIdMiddleware} gave this request (a `Request` or a scope), or
 * `undefined` when the middleware is not installed.
 *
 * @example
 * ```ts
 * router.get("/", (request) => Response.json({ id: requestIdOf(request) }));
 * ```
 */
export function requestIdOf(target: { scope: Scope } | Scope): string | undefined {
  const scope = "scope" in target ? target.scope : target;
  const value = (scope as unknown as Record<string, unknown>)[SCOPE_KEY];
  return typeof value === "string" ? value : undefined;
}

/**
 * Gives each HTTP request an id: `scope.request_id` (read it with {@link requestIdOf}) and the
 * response header (`X-Request-ID` by default, unless the app set it).
 *
 * @example
 * ```ts
 * app.addMiddleware(RequestIdMiddleware, { trustIncoming: true });
 * ```
 */
export class RequestIdMiddleware extends ASGIMiddleware<RequestIdOptions> {
  private readonly header: string;

  constructor(app: ASGIApp, options?: RequestIdOptions) {
    super(app, options);
    this.header = (this.options.header ?? "x-request-id").toLowerCase();
    if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(this.header)) {
      throw invalidOption(`RequestIdMiddleware: ${JSON.stringify(this.header)} is no header name`);
    }
  }

  override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    if (scope.type !== "http") return this.app(scope, receive, send);
    const incoming = headerValue(scope.headers, this.header);
    let id: string;
    if (this.options.trustIncoming === true && incoming !== undefined && SAFE_ID.test(incoming)) {
      id = incoming;
    } else {
      id = (this.options.generate ?? randomUUID)();
      // A generator's output goes on the wire: hold it to the same rule as incoming ids.
      if (!SAFE_ID.test(id))
        throw invalidOption("RequestIdMiddleware: generate() gave an unsafe id");
    }
    const withId: HTTPScope = { ...scope, [SCOPE_KEY]: id } as HTTPScope;
    await this.app(withId, receive, (event) => {
      if (event.type !== "http.response.start") return send(event);
      const headers = event.headers ?? [];
      if (headerValue(headers, this.header) !== undefined) return send(event);
      return send({ ...event, headers: [...headers, [this.header, id]] });
    });
  }
}
