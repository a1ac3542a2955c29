import { ASGIError } from "../../errors.js";
import type { ASGIHeaders, Send } from "../types.js";

/** A chunk a streaming body may yield: bytes, or text sent as UTF-8. */
export type BodyChunk = Uint8Array | string;

/** One server-sent event (HTML Living Standard §9.2 "Server-sent events"). */
export interface ServerSentEvent {
  data: string;
  event?: string;
  id?: string;
}

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
 */
export class Response {
  statusCode: number;
  headers: Record<string, string>;
  body: Uint8Array | AsyncIterable<BodyChunk>;
  /** Set once `send()` has emitted `http.response.start`: an error now cannot be answered. */
  started = false;

  constructor(
    body: Uint8Array | string | AsyncIterable<BodyChunk> = new Uint8Array(0),
    statusCode = 200,
    headers: Record<string, string> = {},
  ) {
    this.statusCode = statusCode;
    this.headers = Object.create(null) as Record<string, string>;
    for (const name of Object.keys(headers)) {
      const value = String(headers[name]);
      checkHeader(name, value);
      this.headers[name.toLowerCase()] = value;
    }
    this.body = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  }

  private static withType(
    body: string,
    type: string,
    statusCode: number,
    headers: Record<string, string> | undefined,
  ): Response {
    const response = new Response(body, statusCode, headers);
    if (response.headers["content-type"] === undefined) response.headers["content-type"] = type;
    return response;
  }

  static text(content: string, statusCode = 200, headers?: Record<string, string>): Response {
    return Response.withType(content, "text/plain; charset=utf-8", statusCode, headers);
  }

  static html(content: string, statusCode = 200, headers?: Record<string, string>): Response {
    return Response.withType(content, "text/html; charset=utf-8", statusCode, headers);
  }

  static json(content: unknown, statusCode = 200, headers?: Record<string, string>): Response {
    return Response.withType(
      JSON.stringify(content) ?? "null",
      "application/json",
      statusCode,
      headers,
    );
  }

  static redirect(location: string, statusCode = 302): Response {
    return new Response(new Uint8Array(0), statusCode, { location });
  }

  static stream(
    iterable: AsyncIterable<BodyChunk>,
    statusCode = 200,
    headers?: Record<string, string>,
  ): Response {
    const response = new Response(iterable, statusCode, headers);
    if (response.headers["content-type"] === undefined) {
      response.headers["content-type"] = "application/octet-stream";
    }
    return response;
  }

  /** Server-sent events; a newline inside `data` becomes several `data:` lines (§9.2.6). */
  static sse(
    events: AsyncIterable<ServerSentEvent>,
    statusCode = 200,
    headers?: Record<string, string>,
  ): Response {
    const response = new Response(frameEvents(events), statusCode, headers);
    response.headers["content-type"] = "text/event-stream";
    response.headers["cache-control"] = "no-cache";
    return response;
  }

  /** Sends this response as ASGI `http.response.start` + `http.response.body` events. */
  async send(send: Send, includeBody = true): Promise<void> {
    const headers: ASGIHeaders = [];
    for (const name of Object.keys(this.headers)) {
      const value = this.headers[name] as string;
      checkHeader(name, value);
      headers.push([name, value]);
    }
    const body = this.body;
    if (body instanceof Uint8Array) {
      if (this.headers["content-length"] === undefined) {
        headers.push(["content-length", String(body.byteLength)]);
      }
      this.started = true;
      await send({ type: "http.response.start", status: this.statusCode, headers });
      await send({
        type: "http.response.body",
        body: includeBody ? body : new Uint8Array(0),
        more_body: false,
      });
      return;
    }
    this.started = true;
    await send({ type: "http.response.start", status: this.statusCode, headers });
    if (includeBody) {
      for await (const chunk of body) {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
        if (bytes.byteLength > 0) {
          await send({ type: "http.response.body", body: bytes, more_body: true });
        }
      }
    }
    await send({ type: "http.response.body", body: new Uint8Array(0), more_body: false });
  }
}

function singleLine(field: string, value: string): string {
  if (hasControlBreak(value)) {
    throw new ASGIError(`SSE ${field} must not contain CR, LF or NUL`, {
      code: "ASGI_INVALID_EVENT",
    });
  }
  return `${field}: ${value}\n`;
}

async function* frameEvents(events: AsyncIterable<ServerSentEvent>): AsyncGenerator<string> {
  for await (const event of events) {
    let frame = "";
    if (event.event !== undefined) frame += singleLine("event", event.event);
    if (event.id !== undefined) frame += singleLine("id", event.id);
    for (const line of event.data.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`;
    yield `${frame}\n`;
  }
}
