import { Buffer } from "node:buffer";
import { ASGIError } from "../../errors.js";
import { directResponder, SETTLED } from "../fast-path.js";
import type { ASGIHeaders, HTTPResponseBodyEvent, Send } from "../types.js";
import { type CookieOptions, serializeCookie } from "./cookie.js";

/** A chunk a streaming body may yield: bytes, or text sent as UTF-8. */
export type BodyChunk = Uint8Array | string;

/**
 * Headers given to a Response: lower- or mixed-case names → a value, or a list of values for a
 * header that must appear on several lines (e.g. `link`, `set-cookie`).
 */
export type ResponseHeadersInit = Record<string, string | readonly string[]>;

/** One server-sent event (HTML Living Standard §9.2 "Server-sent events"). */
export interface ServerSentEvent {
  /** The payload; a newline inside becomes several `data:` lines. Omit for a control-only event. */
  data?: string;
  /** The event type (`event:`); the browser dispatches it under this name. */
  event?: string;
  /** `id:` — the browser sends it back as `Last-Event-ID` when it reconnects. */
  id?: string;
  /** `retry:` — the reconnection delay in milliseconds (a non-negative integer). */
  retry?: number;
  /** A comment line (`: …`), ignored by browsers; useful as a keep-alive. */
  comment?: string;
}

const EMPTY = new Uint8Array(0);

/** CR, LF and NUL would let a value split or end a header line (RFC 9110 §5.5). */
function hasControlBreak(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x0d || code === 0x0a || code === 0x00) return true;
  }
  return false;
}

function checkHeader(name: string, value: string): void {
  if (name.length === 0 || hasControlBreak(name) || hasControlBreak(value)) {
    throw new ASGIError(`Invalid response header ${JSON.stringify(name)}`, {
      code: "ASGI_INVALID_HEADER",
    });
  }
}

/**
 * An HTTP response: status, headers (lower-case names) and a body that is either fixed bytes
 * (sent with `content-length`) or an async iterable streamed chunk by chunk.
 *
 * Header checks run once, where values come in: the constructor, `appendHeader` and
 * `setCookie` check their arguments; the framework's own constant headers are never checked.
 * Code that reaches into `response.headers` may have changed it, so the record is checked
 * again by `send()` only if `headers` was ever read or assigned.
 *
 * @example
 * ```ts
 * const response = new Response("<p>hi</p>", 200, { "content-type": "text/html" });
 * response.appendHeader("vary", "accept-language");
 * response.setCookie("seen", "1", { httpOnly: true, sameSite: "Lax" });
 * ```
 */
export class Response {
  /** The HTTP status code (default 200); may be changed until the response is sent. */
  statusCode: number;
  /** The body as given when it is not text, or once text has been encoded (see `body`). */
  private content: Uint8Array | AsyncIterable<BodyChunk>;
  /**
   * A text body not yet encoded: it becomes bytes when someone reads `body` (who may then
   * change them in place) or when it is sent as ASGI events; mtaio's own server can take it
   * as it is (see fast-path.ts).
   */
  private unencodedText: string | undefined;
  /** The UTF-8 byte length of `unencodedText`, once measured (-1 before). */
  private textByteLength = -1;
  /** Set once `send()` has emitted `http.response.start`: an error now cannot be answered. */
  started = false;
  /** Single-valued headers, lower-case names; made on first need. */
  private fields: Record<string, string> | undefined = undefined;
  /**
   * A content type the framework chose (a constant, never checked), kept out of `fields`
   * until someone looks at `headers`: most responses then need no header record at all.
   */
  private contentType: string | undefined = undefined;
  /** Header lines that may repeat a name (appendHeader, setCookie, list values); checked. */
  private lines: ASGIHeaders | undefined = undefined;
  /** `headers` was handed out: what it holds now is unchecked until `send()`. */
  private exposed = false;

  constructor(
    body: Uint8Array | string | AsyncIterable<BodyChunk> = EMPTY,
    statusCode = 200,
    headers?: ResponseHeadersInit,
  ) {
    this.statusCode = statusCode;
    if (typeof body === "string") {
      this.unencodedText = body;
      this.content = EMPTY;
    } else {
      this.unencodedText = undefined;
      this.content = body;
    }
    if (headers !== undefined) this.addHeaders(headers);
  }

  /**
   * The UTF-8 byte length of the unencoded text, measured once: `head()` needs it for
   * `content-length` and the direct send for its framing, and a long text costs a scan.
   */
  private measureText(text: string): number {
    if (this.textByteLength < 0) this.textByteLength = Buffer.byteLength(text, "utf8");
    return this.textByteLength;
  }

  /** Fixed bytes (text is sent as UTF-8) or an async iterable streamed chunk by chunk. */
  get body(): Uint8Array | AsyncIterable<BodyChunk> {
    const text = this.unencodedText;
    if (text !== undefined) {
      this.content = Buffer.from(text, "utf8");
      this.unencodedText = undefined;
    }
    return this.content;
  }

  /** Replaces the body: fixed bytes, or an async iterable streamed chunk by chunk. */
  set body(body: Uint8Array | AsyncIterable<BodyChunk>) {
    this.unencodedText = undefined;
    this.content = body;
  }

  /** Single-valued headers (lower-case names); lines added by `appendHeader` are not here. */
  get headers(): Record<string, string> {
    this.exposed = true;
    return this.record();
  }

  private record(): Record<string, string> {
    if (this.fields === undefined) this.fields = Object.create(null) as Record<string, string>;
    const fields = this.fields;
    if (this.contentType !== undefined) {
      fields["content-type"] ??= this.contentType;
      this.contentType = undefined;
    }
    return fields;
  }

  /** Replaces the single-valued headers (lower-case names); they are checked when sent. */
  set headers(headers: Record<string, string>) {
    this.exposed = true;
    this.fields = headers;
  }

  private addHeaders(headers: ResponseHeadersInit): void {
    const fields = this.record();
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      const key = name.toLowerCase();
      if (typeof value === "object" && value !== null) {
        for (const item of value) this.appendHeader(key, item);
      } else {
        const text = String(value);
        checkHeader(key, text);
        fields[key] = text;
      }
    }
  }

  /** True when a header of this (lower-case) name is set, single-valued or on its own line. */
  hasHeader(name: string): boolean {
    const key = name.toLowerCase();
    if (this.fields?.[key] !== undefined) return true;
    if (key === "content-type" && this.contentType !== undefined) return true;
    return this.hasLine(key);
  }

  private hasLine(key: string): boolean {
    const lines = this.lines;
    if (lines !== undefined) {
      for (const line of lines) if (line[0] === key) return true;
    }
    return false;
  }

  /** Adds a header line, keeping any other line of the same name (RFC 9110 §5.3). */
  appendHeader(name: string, value: string): this {
    const text = String(value);
    checkHeader(name, text);
    this.addLine(name.toLowerCase(), text);
    return this;
  }

  /**
   * Adds a `Set-Cookie` line (RFC 6265 §4.1). The name must be a token and the value plain
   * cookie-octets (encode other text first, e.g. with `encodeURIComponent`); anything else
   * throws `ASGIError` `ASGI_INVALID_COOKIE`. Several cookies → several lines.
   */
  setCookie(name: string, value: string, options?: CookieOptions): this {
    this.addLine("set-cookie", serializeCookie(name, value, options));
    return this;
  }

  private addLine(name: string, value: string): void {
    if (this.lines === undefined) this.lines = [[name, value]];
    else this.lines.push([name, value]);
  }

  /** Tells the browser to drop a cookie (`Max-Age=0`, `Expires` in 1970); same path/domain. */
  deleteCookie(name: string, options: Omit<CookieOptions, "maxAge" | "expires"> = {}): this {
    return this.setCookie(name, "", { ...options, maxAge: 0, expires: new Date(0) });
  }

  /** The values of every line of one header, e.g. `getHeaderLines("set-cookie")`. */
  getHeaderLines(name: string): string[] {
    const key = name.toLowerCase();
    return this.headerList()
      .filter(([line]) => line === key)
      .map(([, value]) => value);
  }

  /** Every header line as it will be sent (without the `content-length` that `send()` adds). */
  headerList(): ASGIHeaders {
    const fields = this.fields;
    const list: ASGIHeaders = [];
    if (fields === undefined) {
      // nothing but (maybe) the framework's content type
    } else if (this.exposed) {
      for (const name of Object.keys(fields)) {
        const value = String(fields[name]);
        checkHeader(name, value);
        list.push([name.toLowerCase(), value]);
      }
    } else {
      for (const name in fields) list.push([name, fields[name] as string]);
    }
    if (this.contentType !== undefined) list.push(["content-type", this.contentType]);
    const lines = this.lines;
    if (lines !== undefined) for (const line of lines) list.push(line);
    return list;
  }

  /** A response whose content type the framework sets (a constant: never checked). */
  private static typed(
    body: Uint8Array | string | AsyncIterable<BodyChunk>,
    type: string,
    statusCode: number,
    headers: ResponseHeadersInit | undefined,
  ): Response {
    const response = new Response(body, statusCode, headers);
    if (headers === undefined || !response.hasHeader("content-type")) {
      response.contentType = type;
    }
    return response;
  }

  /**
   * A `text/plain; charset=utf-8` response.
   *
   * @example
   * ```ts
   * router.get("/", () => Response.text("hello"));
   * ```
   */
  static text(content: string, statusCode = 200, headers?: ResponseHeadersInit): Response {
    return Response.typed(content, "text/plain; charset=utf-8", statusCode, headers);
  }

  /**
   * A `text/html; charset=utf-8` response.
   *
   * @example
   * ```ts
   * router.get("/", () => Response.html("<h1>hello</h1>"));
   * ```
   */
  static html(content: string, statusCode = 200, headers?: ResponseHeadersInit): Response {
    return Response.typed(content, "text/html; charset=utf-8", statusCode, headers);
  }

  /** JSON, serialised once here; the text becomes bytes when it is read or sent as such. */
  static json(content: unknown, statusCode = 200, headers?: ResponseHeadersInit): Response {
    const text = JSON.stringify(content) ?? "null";
    return Response.typed(text, "application/json", statusCode, headers);
  }

  /**
   * A redirect to `location` (302 by default; pass 301, 303, 307 or 308 as needed), no body.
   *
   * @example
   * ```ts
   * router.get("/old", () => Response.redirect("/new", 308));
   * ```
   */
  static redirect(location: string, statusCode = 302): Response {
    return new Response(EMPTY, statusCode, { location });
  }

  /**
   * A body streamed from an async iterable (`application/octet-stream` unless `headers` sets a
   * `content-type`), sent with chunked transfer encoding.
   *
   * @example
   * ```ts
   * router.get("/numbers", () =>
   *   Response.stream(
   *     (async function* () {
   *       for (let i = 0; i < 3; i++) yield `${i}\n`;
   *     })(),
   *     200,
   *     { "content-type": "text/plain" },
   *   ),
   * );
   * ```
   */
  static stream(
    iterable: AsyncIterable<BodyChunk>,
    statusCode = 200,
    headers?: ResponseHeadersInit,
  ): Response {
    return Response.typed(iterable, "application/octet-stream", statusCode, headers);
  }

  /** Server-sent events; a newline inside `data` becomes several `data:` lines (§9.2.6). */
  static sse(
    events: AsyncIterable<ServerSentEvent>,
    statusCode = 200,
    headers?: ResponseHeadersInit,
  ): Response {
    const response = new Response(frameEvents(events), statusCode, headers);
    const fields = response.record();
    fields["content-type"] = "text/event-stream";
    fields["cache-control"] = "no-cache";
    return response;
  }

  /** Sends this response as ASGI `http.response.start` + `http.response.body` events. */
  send(send: Send, includeBody = true): Promise<void> {
    let headers: ASGIHeaders;
    try {
      headers = this.head();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.emit(send, headers, includeBody);
  }

  /**
   * @internal The header lines `send()` puts in `http.response.start` (with `content-length`
   * for a whole body). Throws `ASGIError` for a header made invalid through `headers`; this is
   * all that can fail before anything is sent, so the application can answer such an error
   * without wrapping the whole send in a `catch`.
   */
  head(): ASGIHeaders {
    const text = this.unencodedText;
    const content = this.content;
    // The byte length of a whole body, -1 for a stream; text is measured, not encoded.
    const size =
      text !== undefined
        ? this.measureText(text)
        : content instanceof Uint8Array
          ? content.byteLength
          : -1;
    if (this.fields === undefined && this.lines === undefined && size >= 0) {
      // The common response (a framework content type at most): the list made at its final
      // size, not grown from empty by pushes (V8 would reserve room for 17 elements).
      const length = String(size);
      const type = this.contentType;
      return type === undefined
        ? [["content-length", length]]
        : [
            ["content-type", type],
            ["content-length", length],
          ];
    }
    const headers = this.headerList();
    if (
      size >= 0 &&
      this.fields?.["content-length"] === undefined &&
      !this.hasLine("content-length")
    ) {
      headers.push(["content-length", String(size)]);
    }
    return headers;
  }

  /**
   * @internal Sends the response with the lines from `head()`; `started` is true from here on.
   * Not an async frame itself: a whole body and a stream each get their own, so the common
   * case suspends a small frame, not one sized for the streaming loop's iterator state.
   */
  emit(send: Send, headers: ASGIHeaders, includeBody: boolean): Promise<void> {
    this.started = true;
    const text = this.unencodedText;
    if (
      text !== undefined &&
      includeBody &&
      this.fields === undefined &&
      this.lines === undefined
    ) {
      // Text no one has read as bytes, headers all the framework's own (ASCII): mtaio's server
      // takes the text as it is when `send` is its own (fast-path.ts).
      // sendText() reports every failure as a rejection, as send() does.
      const direct = directResponder(send);
      if (direct !== undefined) {
        return direct.sendText(this.statusCode, headers, text, this.measureText(text));
      }
    }
    const body = this.body;
    if (body instanceof Uint8Array) return this.sendWhole(send, headers, body, includeBody);
    return this.sendStream(send, headers, body, includeBody);
  }

  /**
   * Not async: when mtaio's server has taken the start event at once (`SETTLED`, see
   * fast-path.ts), the body follows in the same turn and its `send()` result is handed back
   * as it is, so a plain response costs no microtask here. Errors still come as a rejection.
   */
  private sendWhole(
    send: Send,
    headers: ASGIHeaders,
    body: Uint8Array,
    includeBody: boolean,
  ): Promise<void> {
    const bodyEvent: HTTPResponseBodyEvent = {
      type: "http.response.body",
      body: includeBody ? body : EMPTY,
      more_body: false,
    };
    try {
      const started = send({ type: "http.response.start", status: this.statusCode, headers });
      // Promise.resolve() hands a native promise back as it is (SETTLED stays SETTLED) and
      // keeps the result a promise when a plain-JavaScript send() returns nothing.
      if (started === SETTLED) return Promise.resolve(send(bodyEvent));
      return Promise.resolve(started).then(() => send(bodyEvent));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async sendStream(
    send: Send,
    headers: ASGIHeaders,
    body: AsyncIterable<BodyChunk>,
    includeBody: boolean,
  ): Promise<void> {
    await send({ type: "http.response.start", status: this.statusCode, headers });
    if (includeBody) {
      for await (const chunk of body) {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
        if (bytes.byteLength > 0) {
          await send({ type: "http.response.body", body: bytes, more_body: true });
        }
      }
    }
    await send({ type: "http.response.body", body: EMPTY, more_body: false });
  }
}

function invalidEvent(message: string): ASGIError {
  return new ASGIError(message, { code: "ASGI_INVALID_EVENT" });
}

function singleLine(field: string, value: string): string {
  if (hasControlBreak(value)) throw invalidEvent(`SSE ${field} must not contain CR, LF or NUL`);
  return `${field}: ${value}\n`;
}

/** One event as text (HTML §9.2.5): fields, then a blank line that dispatches it. */
export function frameEvent(event: ServerSentEvent): string {
  let frame = "";
  if (event.comment !== undefined) {
    for (const line of event.comment.split(/\r\n|\r|\n/)) frame += `: ${line}\n`;
  }
  if (event.event !== undefined) frame += singleLine("event", event.event);
  if (event.id !== undefined) frame += singleLine("id", event.id);
  if (event.retry !== undefined) {
    // §9.2.6: the browser only accepts ASCII digits here.
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      throw invalidEvent("SSE retry must be a non-negative integer (milliseconds)");
    }
    frame += `retry: ${event.retry}\n`;
  }
  if (event.data !== undefined) {
    for (const line of event.data.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`;
  }
  return `${frame}\n`;
}

async function* frameEvents(events: AsyncIterable<ServerSentEvent>): AsyncGenerator<string> {
  for await (const event of events) yield frameEvent(event);
}
