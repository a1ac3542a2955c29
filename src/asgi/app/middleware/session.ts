/**
 * Sessions kept client-side in one signed cookie: `payload.issued.signature`, where payload is
 * the session as base64url JSON, issued the signing time (seconds, base 36) and signature an
 * HMAC-SHA256 (RFC 2104) of both. The client can read the session but not change it: any
 * tampering, an unknown key or an expired stamp yields an empty session.
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import { ASGIError } from "../../../errors.js";
import type { ASGIApp, Receive, Scope, Send } from "../../types.js";
import { type CookieOptions, parseCookieHeader, serializeCookie } from "../cookie.js";
import { ASGIMiddleware } from "../middleware.js";
import { headerValue, invalidOption } from "./shared.js";

/** A session: JSON-serialisable values by name. */
export type SessionData = Record<string, unknown>;

/** Options of {@link SessionMiddleware} (Starlette's names in camelCase). */
export interface SessionOptions {
  /**
   * The signing key, or a list for rotation: the first signs, every one verifies, so a new key
   * can be put first while cookies signed with the old one stay valid. Required.
   */
  secretKey: string | readonly string[];
  /** The cookie name. Default `session`. */
  sessionCookie?: string;
  /** Lifetime in seconds (cookie `Max-Age` and signature age); `null` for a browser session. */
  maxAge?: number | null;
  /** The cookie's `Path`. Default `/`. */
  path?: string;
  /** The cookie's `Domain`. Default none (this host only). */
  domain?: string;
  /** `SameSite`. Default `Lax`: sent on top-level navigation, not on cross-site posts. */
  sameSite?: "Strict" | "Lax" | "None";
  /**
   * `Secure`: the browser sends the cookie over HTTPS only (browsers treat `localhost` as
   * secure). Default `true`; set `false` for a plain-HTTP deployment.
   */
  httpsOnly?: boolean;
}

const SCOPE_KEY = "session";
/** Browsers keep cookies up to 4096 bytes for name, value and attributes (RFC 6265 §6.1). */
const MAX_COOKIE_BYTES = 4096;

/**
 * The session of a request (a `Request` or a scope): a mutable record, saved when the response
 * starts. Throws `ASGI_NO_SESSION` when {@link SessionMiddleware} is not installed.
 *
 * @example
 * ```ts
 * router.post("/login", async (request) => {
 *   sessionOf(request).user = (await request.form()).user;
 *   return Response.redirect("/", 303);
 * });
 * ```
 */
export function sessionOf(target: { scope: Scope } | Scope): SessionData {
  const scope = "scope" in target ? target.scope : target;
  const session = (scope as unknown as Record<string, unknown>)[SCOPE_KEY];
  if (typeof session !== "object" || session === null) {
    throw new ASGIError("No session: add SessionMiddleware to the application", {
      code: "ASGI_NO_SESSION",
    });
  }
  return session as SessionData;
}

/**
 * Loads `scope.session` from the signed cookie before the app runs and writes it back in the
 * response: a non-empty session is re-signed (its age restarts), a session emptied by the app
 * deletes the cookie. Read and change it with {@link sessionOf}. A websocket scope gets the
 * session of its handshake, read-only (changes are not saved).
 *
 * @example
 * ```ts
 * app.addMiddleware(SessionMiddleware, {
 *   secretKey: [process.env.SESSION_KEY_NEW ?? "", process.env.SESSION_KEY_OLD ?? ""],
 *   maxAge: 7 * 24 * 3600,
 * });
 * ```
 */
export class SessionMiddleware extends ASGIMiddleware<SessionOptions> {
  private readonly keys: readonly Buffer[];
  private readonly cookieName: string;
  private readonly maxAge: number | null;
  private readonly cookieOptions: CookieOptions;

  constructor(app: ASGIApp, options?: SessionOptions) {
    super(app, options);
    const given = this.options;
    const secrets = typeof given.secretKey === "string" ? [given.secretKey] : given.secretKey;
    if (!Array.isArray(secrets) || secrets.length === 0 || secrets.some((key) => !key)) {
      throw invalidOption("SessionMiddleware: secretKey must be a non-empty key or list of keys");
    }
    this.keys = secrets.map((key: string) => Buffer.from(key, "utf8"));
    this.cookieName = given.sessionCookie ?? "session";
    this.maxAge = given.maxAge === undefined ? 14 * 24 * 3600 : given.maxAge;
    if (this.maxAge !== null && !(Number.isInteger(this.maxAge) && this.maxAge > 0)) {
      throw invalidOption("SessionMiddleware: maxAge must be a positive integer or null");
    }
    this.cookieOptions = {
      path: given.path ?? "/",
      httpOnly: true,
      secure: given.httpsOnly !== false,
      sameSite: given.sameSite ?? "Lax",
      ...(given.domain === undefined ? {} : { domain: given.domain }),
      ...(this.maxAge === null ? {} : { maxAge: this.maxAge }),
    };
    // Checks the name and attributes once, so a bad option fails here and not per request.
    try {
      serializeCookie(this.cookieName, "x", this.cookieOptions);
    } catch (error) {
      throw invalidOption(`SessionMiddleware: ${(error as Error).message}`);
    }
  }

  override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    if (scope.type !== "http" && scope.type !== "websocket") return this.app(scope, receive, send);
    const cookie = headerValue(scope.headers, "cookie");
    const sent = cookie === undefined ? undefined : parseCookieHeader(cookie)[this.cookieName];
    const loaded = sent === undefined ? undefined : this.decode(sent);
    const session: SessionData = loaded ?? {};
    const withSession = Object.assign({ ...scope }, { [SCOPE_KEY]: session }) as Scope;
    // A websocket reads the session of its handshake; it has no response to save one in.
    if (scope.type === "websocket") return this.app(withSession, receive, send);
    await this.app(withSession, receive, (event) => {
      if (event.type !== "http.response.start") return send(event);
      let line: string | undefined;
      if (Object.keys(session).length > 0) {
        line = serializeCookie(this.cookieName, this.encode(session), this.cookieOptions);
        if (Buffer.byteLength(line) > MAX_COOKIE_BYTES) {
          throw new ASGIError(
            `The session cookie would be ${Buffer.byteLength(line)} bytes; browsers drop ` +
              `cookies over ${MAX_COOKIE_BYTES}. Keep large data server-side.`,
            { code: "ASGI_SESSION_TOO_LARGE" },
          );
        }
      } else if (sent !== undefined) {
        // Emptied (or invalid): expire it (RFC 6265 §5.2.2, Max-Age 0 or less).
        line = serializeCookie(this.cookieName, "", { ...this.cookieOptions, maxAge: 0 });
      }
      if (line === undefined) return send(event);
      return send({ ...event, headers: [...(event.headers ?? []), ["set-cookie", line]] });
    });
  }

  private sign(key: Buffer, signed: string): Buffer {
    return createHmac("sha256", key).update(signed).digest();
  }

  /**
   * The cookie value for `session`: `payload.issued.signature`, signed with the first key.
   * Useful to give a test client a session without logging in.
   *
   * @example
   * ```ts
   * const sessions = new SessionMiddleware(app.asgi, { secretKey: "test-key" });
   * const cookie = `session=${sessions.encode({ user: "taro" })}`;
   * await client.get("/me", { headers: { cookie } });
   * ```
   */
  encode(session: SessionData, now = Date.now()): string {
    const payload = Buffer.from(JSON.stringify(session), "utf8").toString("base64url");
    const signed = `${payload}.${Math.floor(now / 1000).toString(36)}`;
    return `${signed}.${this.sign(this.keys[0] as Buffer, signed).toString("base64url")}`;
  }

  /**
   * The session in a cookie value, or `undefined` when forged, signed by no key or expired.
   *
   * @example
   * ```ts
   * sessions.decode(sessions.encode({ user: "taro" })); // { user: "taro" }
   * ```
   */
  decode(value: string, now = Date.now()): SessionData | undefined {
    const parts = value.split(".");
    if (parts.length !== 3) return undefined;
    const [payload = "", issued = "", signature = ""] = parts;
    const given = Buffer.from(signature, "base64url");
    // Canonical form only: Node's decoder ignores stray characters and unused trailing bits,
    // which would let several strings pass as one signature.
    if (given.toString("base64url") !== signature) return undefined;
    const signed = `${payload}.${issued}`;
    // Constant-time comparison: a timing side channel must not reveal a valid signature.
    const valid = this.keys.some((key) => {
      const expected = this.sign(key, signed);
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!valid) return undefined;
    const issuedAt = Number.parseInt(issued, 36);
    if (!Number.isFinite(issuedAt)) return undefined;
    if (this.maxAge !== null && now / 1000 - issuedAt > this.maxAge) return undefined;
    try {
      const session: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
      if (typeof session !== "object" || session === null || Array.isArray(session)) {
        return undefined;
      }
      return session as SessionData;
    } catch {
      return undefined;
    }
  }
}
