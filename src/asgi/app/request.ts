import { HTTPError } from "../../errors.js";
import type { HTTPScope, Receive } from "../types.js";
import {
  headerParam,
  type MultipartLimits,
  parseMultipart,
  parseUrlencoded,
  type UploadedFile,
} from "./form.js";

export interface RequestOptions {
  /** Largest accepted body in bytes (default 1 MiB); more → 413. */
  maxBodySize?: number;
  /** Multipart limits (defaults: 1000 parts, 1 MiB per field). */
  multipart?: Partial<MultipartLimits>;
}

const utf8 = new TextDecoder("utf-8");

/**
 * Bytes → string, one char per byte. (TextDecoder("latin1") is really windows-1252 in the
 * WHATWG Encoding spec and would remap bytes 0x80–0x9F.) No copy: a view on the same memory.
 */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** JSON.parse reviver: a `__proto__` key never reaches an object (prototype pollution). */
function dropProto(this: unknown, key: string, value: unknown): unknown {
  return key === "__proto__" ? undefined : value;
}

/** An incoming HTTP request over an ASGI `http` scope; headers and query are parsed lazily. */
export class Request {
  readonly scope: HTTPScope;
  private readonly receiveEvent: Receive;
  /** Route parameters, filled in by the router. */
  params: Record<string, string | number> = {};
  private readonly maxBodySize: number;
  private readonly multipartLimits: MultipartLimits;
  private cachedHeaders: Record<string, string> | undefined;
  private cachedQuery: Record<string, string> | undefined;
  private cachedQueryString: string | undefined;
  private bodyPromise: Promise<Uint8Array> | undefined;
  private multipart: { fields: Record<string, string>; files: UploadedFile[] } | undefined;
  private abort: AbortController | undefined;

  constructor(scope: HTTPScope, receive: Receive, options: RequestOptions = {}) {
    this.scope = scope;
    this.receiveEvent = receive;
    this.maxBodySize = options.maxBodySize ?? 1024 * 1024;
    this.multipartLimits = {
      maxParts: options.multipart?.maxParts ?? 1000,
      maxFieldSize: options.multipart?.maxFieldSize ?? 1024 * 1024,
    };
  }

  get method(): string {
    return this.scope.method;
  }

  get path(): string {
    return this.scope.path;
  }

  get queryString(): string {
    this.cachedQueryString ??= latin1(this.scope.query_string);
    return this.cachedQueryString;
  }

  /** The query string parsed (null prototype; the last of a repeated key wins). */
  get query(): Record<string, string> {
    this.cachedQuery ??= parseUrlencoded(this.queryString);
    return this.cachedQuery;
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
    try {
      await this.body();
    } catch {
      return; // the error surfaces again from body()/json()/form() when the handler asks
    }
    // A compliant server blocks here until the client goes; stop on anything else.
    await this.receive();
  }

  /** The next ASGI event; notices a disconnect on the way. */
  async receive(): Promise<Awaited<ReturnType<Receive>>> {
    const event = await this.receiveEvent();
    if (event.type === "http.disconnect") {
      this.abort ??= new AbortController();
      this.abort.abort(new HTTPError(499, "Client disconnected", { code: "HTTP_DISCONNECTED" }));
    }
    return event;
  }

  /** The whole body, read once and cached; larger than `maxBodySize` → 413. */
  body(): Promise<Uint8Array> {
    this.bodyPromise ??= this.readBody();
    return this.bodyPromise;
  }

  private async readBody(): Promise<Uint8Array> {
    const declared = this.headers["content-length"];
    if (declared !== undefined && Number(declared) > this.maxBodySize) throw this.tooLarge();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const event = await this.receive();
      if (event.type === "http.disconnect") {
        throw new HTTPError(400, "Client disconnected", { code: "HTTP_DISCONNECTED" });
      }
      if (event.type !== "http.request") continue;
      if (event.body.byteLength > 0) {
        size += event.body.byteLength;
        if (size > this.maxBodySize) throw this.tooLarge();
        chunks.push(event.body);
      }
      if (!event.more_body) break;
    }
    if (chunks.length === 1) return chunks[0] as Uint8Array;
    const body = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return body;
  }

  private tooLarge(): HTTPError {
    return new HTTPError(413, "Request body too large", { code: "HTTP_BODY_TOO_LARGE" });
  }

  async text(): Promise<string> {
    return utf8.decode(await this.body());
  }

  private get mediaType(): string {
    const value = this.headers["content-type"] ?? "";
    return (value.split(";")[0] ?? "").trim().toLowerCase();
  }

  /** The body as JSON: 415 unless the content type is JSON, 400 when malformed. */
  async json(): Promise<unknown> {
    const type = this.mediaType;
    if (type !== "application/json" && !type.endsWith("+json")) {
      throw new HTTPError(415, "Expected a JSON body", { code: "HTTP_UNSUPPORTED_MEDIA_TYPE" });
    }
    const text = await this.text();
    try {
      return JSON.parse(text, dropProto);
    } catch (error) {
      throw new HTTPError(400, "Malformed JSON body", {
        code: "HTTP_MALFORMED_JSON",
        cause: error,
      });
    }
  }

  /** Form fields from urlencoded or multipart bodies (null prototype); 415 for other types. */
  async form(): Promise<Record<string, string>> {
    const type = this.mediaType;
    if (type === "application/x-www-form-urlencoded") {
      return parseUrlencoded(utf8.decode(await this.body()));
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

  private async parseMultipart(): Promise<{
    fields: Record<string, string>;
    files: UploadedFile[];
  }> {
    if (this.multipart === undefined) {
      const boundary = headerParam(this.headers["content-type"] ?? "", "boundary") ?? "";
      this.multipart = parseMultipart(await this.body(), boundary, this.multipartLimits);
    }
    return this.multipart;
  }
}
