import { Buffer } from "node:buffer";
import { HTTPError } from "../../errors.js";
import { directReceiver } from "../fast-path.js";
import type { HTTPScope, Receive, ReceiveEvent } from "../types.js";
import { BodyCollector, bodyTooLarge } from "./body-collector.js";
import { parseCookieHeader } from "./cookie.js";
import {
  headerParam,
  type MultipartLimits,
  PartSizeGuard,
  parseMultipart,
  parseUrlencoded,
  parseUrlencodedAll,
  type UploadedFile,
} from "./form.js";
import { type SessionData, sessionOf } from "./middleware/session.js";
import { rawPathBelowRoot } from "./root-path.js";

/** Limits on what a `Request` reads from its body (given to `new ASGIApplication(options)`). */
export interface RequestOptions {
  /** Largest accepted body in bytes (default 1 MiB); more → 413. */
  maxBodySize?: number;
  /** Multipart limits (defaults: 1000 parts, 1 MiB per field, 10 MiB per file). */
  multipart?: Partial<MultipartLimits>;
  /**
   * Deepest nesting of arrays and objects `json()` accepts (default 128, as serde_json); a
   * deeper body → 400 `HTTP_JSON_TOO_DEEP`. V8 parses any depth, but the handler code that
   * walks the result (recursive merges, validators, serialisers) overflows its stack.
   */
  maxJSONDepth?: number;
}

const DEFAULT_MAX_JSON_DEPTH = 128;

/** Bytes → text as UTF-8, dropping a leading BOM as TextDecoder does (WHATWG Encoding §4.2). */
function utf8(bytes: Uint8Array): string {
  // A server hands over Buffers: decode them directly, without making a Buffer view first.
  const text = (bytes instanceof Buffer ? bytes : asBuffer(bytes)).toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Bytes → string, one char per byte. (TextDecoder("latin1") is really windows-1252 in the
 * WHATWG Encoding spec and would remap bytes 0x80–0x9F.) No copy: a view on the same memory.
 */
function latin1(bytes: Uint8Array): string {
  return (bytes instanceof Buffer ? bytes : asBuffer(bytes)).toString("latin1");
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** True when the bytes hold no `%` and only ASCII: their decoding is the same text. */
function isPlainPath(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte === 0x25 || byte > 0x7f) return false;
  }
  return true;
}

/**
 * JSON.parse reviver against prototype pollution through a naive deep merge:
 * - a `__proto__` key is dropped: it is never data, and an own `__proto__` property is what
 *   `target[key] = …` merges follow into `Object.prototype`;
 * - a `constructor` object holding a `prototype` key is rejected with 400, as Fastify does by
 *   default (secure-json-parse): `constructor` alone is ordinary data (`{"constructor":"Ford"}`)
 *   and stays, but `constructor.prototype` is only ever the second pollution gadget, and
 *   silently editing it out would hand the handler data the client did not send.
 */
function guardPrototypes(this: unknown, key: string, value: unknown): unknown {
  if (key === "__proto__") return undefined;
  if (
    key === "constructor" &&
    typeof value === "object" &&
    value !== null &&
    Object.hasOwn(value, "prototype")
  ) {
    throw new HTTPError(400, "JSON body holds a forbidden constructor.prototype key", {
      code: "HTTP_FORBIDDEN_JSON_KEY",
    });
  }
  return value;
}

/**
 * JSON text → value; 400 when malformed. A reviver makes JSON.parse several times slower, so
 * it runs only when the text could hold a dangerous key: `__proto__` or `constructor` written
 * out, or any key spelled with a `\u` escape (the only other way JSON can produce those
 * characters, RFC 8259 §7).
 */
function parseJSON(text: string): unknown {
  try {
    return text.includes("__proto__") || text.includes("constructor") || text.includes("\\u")
      ? JSON.parse(text, guardPrototypes)
      : JSON.parse(text);
  } catch (error) {
    if (error instanceof HTTPError) throw error;
    throw new HTTPError(400, "Malformed JSON body", { code: "HTTP_MALFORMED_JSON", cause: error });
  }
}

/**
 * True when arrays/objects in `text` nest deeper than `limit`; brackets inside strings do not
 * count. Only a count, not a validation: malformed text is left to JSON.parse. A text no longer
 * than `limit` cannot nest deeper (each level takes a character), so short bodies skip the scan.
 */
export function jsonNestsDeeperThan(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      // A string: skip to its closing quote, stepping over escapes (RFC 8259 §7).
      for (i++; i < text.length; i++) {
        const inner = text.charCodeAt(i);
        if (inner === 0x5c) i++;
        else if (inner === 0x22) break;
      }
    } else if (code === 0x5b || code === 0x7b) {
      if (++depth > limit) return true;
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * True when a header value is already a bare lower-case media type (no parameters, no
 * spaces, no capitals, ASCII only: `application/json`), the usual case: nothing to cut.
 */
function isBareLowerCase(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f || code === 0x3b || (code >= 0x41 && code <= 0x5a)) {
      return false;
    }
  }
  return true;
}

function parseJSONBytes(bytes: Uint8Array, maxDepth: number): unknown {
  const text = utf8(bytes);
  if (jsonNestsDeeperThan(text, maxDepth)) {
    throw new HTTPError(400, `JSON body nests deeper than ${maxDepth} levels`, {
      code: "HTTP_JSON_TOO_DEEP",
    });
  }
  return parseJSON(text);
}

const DEFAULT_MAX_BODY = 1024 * 1024;
const NO_PARAMS: Record<string, string | number> = Object.freeze(
  Object.create(null) as Record<string, string | number>,
);

/**
 * An incoming HTTP request over an ASGI `http` scope. Nothing is parsed up front: headers,
 * query and cookies are built on first access, and the body is read only when asked for.
 *
 * @example
 * ```ts
 * router.post("/items", async (request) => {
 *   const item = (await request.json()) as { name: string };
 *   const page = Number(request.query.page ?? "1");
 *   const token = request.headers.authorization ?? request.cookies.session;
 *   return Response.json({ item, page, signedIn: token !== undefined }, 201);
 * });
 * ```
 */
export class Request {
  /** The ASGI `http` scope this request wraps (method, path, headers, client, `state`, …). */
  readonly scope: HTTPScope;
  private readonly receiveEvent: Receive;
  /** Route parameters, filled in by the router. */
  params: Record<string, string | number> = NO_PARAMS;
  private readonly options: RequestOptions;
  private cachedHeaders: Record<string, string> | undefined = undefined;
  private cachedQuery: Record<string, string> | undefined = undefined;
  private cachedQueryString: string | undefined = undefined;
  private cachedCookies: Record<string, string> | undefined = undefined;
  /** The body when it is still being read, or failed; see startBody. */
  private bodyPromise: Promise<Uint8Array> | undefined = undefined;
  /** The body, once it was read whole without waiting (see startBody). */
  private bodyBytes: Uint8Array | undefined = undefined;
  private multipart: { fields: Record<string, string>; files: UploadedFile[] } | undefined =
    undefined;
  private abort: AbortController | undefined = undefined;
  /** The wire path as a latin1 string, made once for the router(s). */
  private cachedRawPath: string | undefined = undefined;

  constructor(scope: HTTPScope, receive: Receive, options: RequestOptions = {}) {
    this.scope = scope;
    this.receiveEvent = receive;
    this.options = options;
  }

  /** The request method, upper-case as sent (`"GET"`, `"POST"`, …). */
  get method(): string {
    return this.scope.method;
  }

  /** The percent-decoded path, without the query string (`scope.path`). */
  get path(): string {
    return this.scope.path;
  }

  /** The path as sent on the wire (undecoded, latin1), which the router splits on "/". */
  get rawPath(): string {
    if (this.cachedRawPath === undefined) {
      const scope = this.scope;
      const raw = scope.raw_path;
      // Without escapes or non-ASCII bytes, decoding changed nothing: `path` is the same text
      // (when the lengths agree), and reusing it saves making a string per request.
      this.cachedRawPath =
        raw === null
          ? encodeURI(scope.path)
          : raw.length === scope.path.length && isPlainPath(raw)
            ? scope.path
            : latin1(raw);
    }
    return this.cachedRawPath;
  }

  /**
   * The wire path below `scope.root_path`, which the router matches: an app mounted at
   * `/api` (root_path `"/api"`) routes `GET /api/users` as `/users`. It is `rawPath` itself
   * when `root_path` is empty or the path does not start with it (see root-path.ts).
   */
  get routePath(): string {
    const root = this.scope.root_path;
    // `!root`: also a scope from a server that leaves out root_path (optional before ASGI 2.x).
    return !root ? this.rawPath : rawPathBelowRoot(this.rawPath, root);
  }

  /**
   * The query string without the leading `?`, undecoded (`"a=1&b=%20"`); see `query` for the
   * decoded record.
   */
  get queryString(): string {
    this.cachedQueryString ??= latin1(this.scope.query_string);
    return this.cachedQueryString;
  }

  /** The query string parsed (null prototype; the last of a repeated key wins). */
  get query(): Record<string, string> {
    this.cachedQuery ??= parseUrlencoded(this.queryString);
    return this.cachedQuery;
  }

  /** Every value of a query key, in order (`?tag=a&tag=b` → `["a", "b"]`); `[]` when absent. */
  queryAll(name: string): string[] {
    return parseUrlencodedAll(this.queryString, name);
  }

  /** Lower-case names → values; repeated headers joined with ", " (RFC 9110 §5.3). */
  get headers(): Record<string, string> {
    if (this.cachedHeaders === undefined) {
      const headers = Object.create(null) as Record<string, string>;
      for (const [name, value] of this.scope.headers) {
        const key = name.toLowerCase();
        const previous = headers[key];
        headers[key] = previous === undefined ? value : `${previous}, ${value}`;
      }
      this.cachedHeaders = headers;
    }
    return this.cachedHeaders;
  }

  /**
   * One header (lower-case name) without building the whole `headers` record: the body
   * readers need only content-type and content-length.
   */
  private header(name: string): string | undefined {
    if (this.cachedHeaders !== undefined) return this.cachedHeaders[name];
    let found: string | undefined;
    for (const pair of this.scope.headers) {
      const key = pair[0];
      if (key.length !== name.length || (key !== name && key.toLowerCase() !== name)) continue;
      found = found === undefined ? pair[1] : `${found}, ${pair[1]}`;
    }
    return found;
  }

  /** Cookies from the `Cookie` header (RFC 6265 §5.4; null prototype; first of a name wins). */
  get cookies(): Record<string, string> {
    if (this.cachedCookies === undefined) {
      // RFC 9113 §8.2.3 lets HTTP/2 split Cookie into several fields: joined with "; " here.
      let header: string | undefined;
      for (const [name, value] of this.scope.headers) {
        if (name.length === 6 && name.toLowerCase() === "cookie") {
          header = header === undefined ? value : `${header}; ${value}`;
        }
      }
      this.cachedCookies = parseCookieHeader(header ?? "");
    }
    return this.cachedCookies;
  }

  /**
   * The session `SessionMiddleware` loaded from its signed cookie; changes are saved with the
   * response. Throws `ASGI_NO_SESSION` when the middleware is not installed.
   */
  get session(): SessionData {
    return sessionOf(this);
  }

  /** Aborted when the client disconnects (an `http.disconnect` event is received). */
  get signal(): AbortSignal {
    if (this.abort === undefined) {
      this.abort = new AbortController();
      // After the body, the next ASGI event can only be `http.disconnect`: watch for it in the
      // background (reading the body first, within its limit, so no event is lost).
      this.watchDisconnect().catch(() => {});
    }
    return this.abort.signal;
  }

  private async watchDisconnect(): Promise<void> {
    let complete = true;
    try {
      await this.body();
    } catch {
      // The error surfaces again from body()/json()/form() when the handler asks. The body
      // reader stopped early (e.g. 413), so the client may still be sending: skip the rest of
      // the body's events, then keep watching, so that the signal still aborts on disconnect.
      complete = false;
    }
    if (this.abort?.signal.aborted === true) return;
    if (!complete) {
      for (;;) {
        const event = await this.receive();
        if (event.type === "http.disconnect") return;
        if (event.type === "http.request" && !event.more_body) break;
      }
    }
    // A compliant server blocks here until the client goes; stop on anything else.
    await this.receive();
  }

  /** The next ASGI event; notices a disconnect on the way. */
  async receive(): Promise<Awaited<ReturnType<Receive>>> {
    const event = await this.receiveEvent();
    if (event.type === "http.disconnect") this.disconnected();
    return event;
  }

  private disconnected(): void {
    this.abort ??= new AbortController();
    this.abort.abort(new HTTPError(499, "Client disconnected", { code: "HTTP_DISCONNECTED" }));
  }

  /** The whole body, read once and cached; larger than `maxBodySize` → 413. */
  body(): Promise<Uint8Array> {
    if (this.bodyPromise === undefined) {
      this.startBody();
      // Made only here: resolving a promise with a Uint8Array looks up `then` along its
      // prototype chain, a slow generic lookup that json() and text() need not pay.
      this.bodyPromise ??= Promise.resolve(this.bodyBytes as Uint8Array);
    }
    return this.bodyPromise;
  }

  /**
   * Begins reading the body, once: sets `bodyBytes` when it is whole without waiting, else
   * `bodyPromise`. From mtaio's own server, the events already buffered are taken at once (see
   * ../fast-path.ts), so a body that came with the request head is whole before this returns.
   */
  private startBody(): void {
    if (this.bodyBytes !== undefined || this.bodyPromise !== undefined) return; // started
    const limit = this.options.maxBodySize ?? DEFAULT_MAX_BODY;
    const declared = this.header("content-length");
    if (declared !== undefined && Number(declared) > limit) {
      this.bodyPromise = Promise.reject(bodyTooLarge());
      return;
    }
    const collector = new BodyCollector(limit, () => this.partGuard());
    const direct = directReceiver(this.receiveEvent);
    if (direct !== undefined) {
      try {
        for (let event = direct.receiveNow(); event !== null; event = direct.receiveNow()) {
          if (this.takeBodyEvent(event, collector)) {
            this.bodyBytes = collector.result();
            return;
          }
        }
      } catch (error) {
        this.bodyPromise = Promise.reject(error);
        return;
      }
    }
    this.bodyPromise = this.readBody(collector);
  }

  private async readBody(collector: BodyCollector): Promise<Uint8Array> {
    // The server's receive() directly: one async frame less per body event.
    while (!this.takeBodyEvent(await this.receiveEvent(), collector));
    return collector.result();
  }

  /** Adds one event to the body; true once the body is complete. */
  private takeBodyEvent(event: ReceiveEvent, collector: BodyCollector): boolean {
    if (event.type === "http.disconnect") {
      this.disconnected();
      throw new HTTPError(400, "Client disconnected", { code: "HTTP_DISCONNECTED" });
    }
    if (event.type !== "http.request") return false;
    collector.add(event.body);
    return !event.more_body;
  }

  /**
   * The body decoded as UTF-8 (a leading BOM dropped). Rejects with `HTTPError` 413 past
   * `maxBodySize`, and 400 if the client disconnects first.
   */
  text(): Promise<string> {
    return this.decodeBody(utf8, undefined);
  }

  private get mediaType(): string {
    const value = this.header("content-type");
    if (value === undefined) return "";
    if (isBareLowerCase(value)) return value;
    const semicolon = value.indexOf(";");
    return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  }

  /** The body as JSON: 415 unless the content type is JSON, 400 when malformed or too deep. */
  json(): Promise<unknown> {
    const type = this.mediaType;
    if (type !== "application/json" && !type.endsWith("+json")) {
      return Promise.reject(
        new HTTPError(415, "Expected a JSON body", { code: "HTTP_UNSUPPORTED_MEDIA_TYPE" }),
      );
    }
    return this.decodeBody(parseJSONBytes, this.options.maxJSONDepth ?? DEFAULT_MAX_JSON_DEPTH);
  }

  /**
   * The body through `decode`: at once when it is already whole (no microtask for the body
   * promise to settle first), else a plain promise chain, not an async frame of its own.
   */
  private decodeBody<T, A>(decode: (bytes: Uint8Array, arg: A) => T, arg: A): Promise<T> {
    this.startBody();
    const bytes = this.bodyBytes;
    if (bytes === undefined) {
      return (this.bodyPromise as Promise<Uint8Array>).then((whole) => decode(whole, arg));
    }
    try {
      return Promise.resolve(decode(bytes, arg));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Form fields from urlencoded or multipart bodies (null prototype); 415 for other types. */
  async form(): Promise<Record<string, string>> {
    const type = this.mediaType;
    if (type === "application/x-www-form-urlencoded") {
      return parseUrlencoded(utf8(await this.body()));
    }
    if (type === "multipart/form-data") return (await this.parseMultipart()).fields;
    throw new HTTPError(415, "Expected a form body", { code: "HTTP_UNSUPPORTED_MEDIA_TYPE" });
  }

  /** File parts of a `multipart/form-data` body; 415 for other types. */
  async files(): Promise<UploadedFile[]> {
    if (this.mediaType !== "multipart/form-data") {
      throw new HTTPError(415, "Expected multipart/form-data", {
        code: "HTTP_UNSUPPORTED_MEDIA_TYPE",
      });
    }
    return (await this.parseMultipart()).files;
  }

  private get multipartLimits(): MultipartLimits {
    const limits = this.options.multipart;
    return {
      maxParts: limits?.maxParts ?? 1000,
      maxFieldSize: limits?.maxFieldSize ?? 1024 * 1024,
      maxFileSize: limits?.maxFileSize ?? 10 * 1024 * 1024,
    };
  }

  private get boundary(): string {
    return headerParam(this.header("content-type") ?? "", "boundary") ?? "";
  }

  /** A size guard for a multipart body with a usable boundary; null for anything else. */
  private partGuard(): PartSizeGuard | null {
    if (this.mediaType !== "multipart/form-data") return null;
    const boundary = this.boundary;
    if (boundary.length === 0 || boundary.length > 70) return null; // 400 when parsed
    return new PartSizeGuard(boundary, this.multipartLimits);
  }

  private async parseMultipart(): Promise<{
    fields: Record<string, string>;
    files: UploadedFile[];
  }> {
    if (this.multipart === undefined) {
      const limits = this.multipartLimits;
      this.multipart = parseMultipart(await this.body(), this.boundary, limits);
    }
    return this.multipart;
  }
}
