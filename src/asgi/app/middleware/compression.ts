/**
 * Response compression (RFC 9110 §8.4 Content-Encoding, §12.5.3 Accept-Encoding): gzip
 * (RFC 1952) or Brotli (RFC 7932) with `node:zlib`, negotiated per request. A body sent whole is
 * compressed off the event loop; a streamed body is compressed chunk by chunk, each chunk
 * flushed so a client sees it as soon as the app sends it.
 */
import { Buffer } from "node:buffer";
import { promisify } from "node:util";
import zlib from "node:zlib";
import type {
  ASGIApp,
  ASGIHeaders,
  HTTPResponseStartEvent,
  Receive,
  Scope,
  Send,
  SendEvent,
} from "../../types.js";
import { ASGIMiddleware } from "../middleware.js";
import { appendVary, headerValue, removeHeader } from "./shared.js";

/** A content coding this middleware produces. */
export type CompressionEncoding = "br" | "gzip";

/** Options of {@link CompressionMiddleware}. */
export interface CompressionOptions {
  /** Bodies smaller than this (in bytes, sent whole) go uncompressed. Default 500. */
  minimumSize?: number;
  /** Codings offered, in the server's order of preference. Default `["br", "gzip"]`. */
  encodings?: readonly CompressionEncoding[];
  /** gzip level, 1 (fast) to 9 (small). Default 6, zlib's own default. */
  gzipLevel?: number;
  /** Brotli quality, 0 to 11. Default 4: near gzip's speed, smaller output. */
  brotliQuality?: number;
  /**
   * Media types never compressed. Default `["text/event-stream"]`: compressing server-sent
   * events buffers them in some proxies and gains little.
   */
  excludedMediaTypes?: readonly string[];
}

const gzip = promisify(zlib.gzip);
const brotliCompress = promisify(zlib.brotliCompress);

/**
 * The coding to use for an `Accept-Encoding` value (RFC 9110 §12.5.3): the acceptable coding
 * with the highest q-value, ties broken by the server's order; `*` stands for any coding not
 * listed; `q=0` refuses. `undefined` means identity.
 *
 * @example
 * ```ts
 * negotiateEncoding("gzip, br;q=0.5", ["br", "gzip"]); // "gzip"
 * negotiateEncoding("*;q=0", ["br", "gzip"]); // undefined: identity only
 * ```
 */
export function negotiateEncoding(
  acceptEncoding: string,
  offered: readonly CompressionEncoding[],
): CompressionEncoding | undefined {
  const weights = new Map<string, number>();
  for (const item of acceptEncoding.split(",")) {
    const [coding = "", ...params] = item.split(";");
    const name = coding.trim().toLowerCase();
    if (name.length === 0) continue;
    let q = 1;
    for (const param of params) {
      const [key = "", value = ""] = param.split("=");
      if (key.trim().toLowerCase() !== "q") continue;
      const parsed = Number(value.trim());
      // §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
      q = Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 0;
    }
    // "x-gzip" is an alias of "gzip" (§8.4.1.3).
    weights.set(name === "x-gzip" ? "gzip" : name, q);
  }
  const wildcard = weights.get("*");
  let best: CompressionEncoding | undefined;
  let bestQ = 0;
  for (const encoding of offered) {
    const q = weights.get(encoding) ?? wildcard ?? 0;
    if (q > bestQ) {
      best = encoding;
      bestQ = q;
    }
  }
  return best;
}

/**
 * Compresses responses with gzip or Brotli when the client accepts it (q-values honoured)
 * and the response is worth it: at least `minimumSize` bytes when sent whole, not already
 * encoded, not `text/event-stream`. Adds `Content-Encoding` and `Vary: Accept-Encoding`; a
 * whole body gets the new `Content-Length`, a streamed one none (it is chunked).
 *
 * @example
 * ```ts
 * app.addMiddleware(CompressionMiddleware, { minimumSize: 1000 });
 * ```
 */
export class CompressionMiddleware extends ASGIMiddleware<CompressionOptions> {
  private readonly settings: Settings;

  constructor(app: ASGIApp, options?: CompressionOptions) {
    super(app, options);
    const given = this.options;
    this.settings = {
      minimumSize: given.minimumSize ?? 500,
      encodings: given.encodings ?? ["br", "gzip"],
      excluded: (given.excludedMediaTypes ?? ["text/event-stream"]).map((type) =>
        type.toLowerCase(),
      ),
      gzip: { level: given.gzipLevel ?? 6 },
      brotli: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: given.brotliQuality ?? 4 } },
    };
  }

  override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    // A HEAD answer has no body to compress, yet its headers must match the GET's (§9.3.2).
    if (scope.type !== "http" || scope.method === "HEAD") return this.app(scope, receive, send);
    const accept = headerValue(scope.headers, "accept-encoding");
    const encoding =
      accept === undefined ? undefined : negotiateEncoding(accept, this.settings.encodings);
    if (encoding === undefined) return this.app(scope, receive, send);
    const responder = new CompressingResponder(this.settings, encoding, send);
    try {
      await this.app(scope, receive, (event) => responder.send(event));
      await responder.finish();
    } finally {
      responder.abort();
    }
  }
}

/** The options resolved once per middleware instance. */
interface Settings {
  minimumSize: number;
  encodings: readonly CompressionEncoding[];
  excluded: readonly string[];
  gzip: zlib.ZlibOptions;
  brotli: zlib.BrotliOptions;
}

/** Whether a response with these headers may be compressed at all. */
function compressible(settings: Settings, start: HTTPResponseStartEvent): boolean {
  // 1xx, 204 and 304 have no body (RFC 9110 §6.4.1); 206 ranges count identity bytes (§14).
  const status = start.status;
  if (status < 200 || status === 204 || status === 206 || status === 304) return false;
  const headers = start.headers ?? [];
  if (headerValue(headers, "content-encoding") !== undefined) return false;
  const type = (headerValue(headers, "content-type") ?? "").split(";")[0] ?? "";
  return !settings.excluded.includes(type.trim().toLowerCase());
}

/** One response's state: holds `http.response.start` until the first body event decides. */
class CompressingResponder {
  private start: HTTPResponseStartEvent | undefined;
  /** "pending" until the first body event; then "identity", "whole" or "stream". */
  private mode: "pending" | "identity" | "whole" | "stream" = "pending";
  private stream: zlib.Gzip | zlib.BrotliCompress | undefined;
  /** Compressed output not yet sent downstream. */
  private readonly output: Buffer[] = [];
  private ended: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    private readonly settings: Settings,
    private readonly encoding: CompressionEncoding,
    private readonly downstream: Send,
  ) {}

  async send(event: SendEvent): Promise<void> {
    if (event.type === "http.response.start") {
      if (compressible(this.settings, event)) {
        this.start = event;
        return;
      }
      this.mode = "identity";
      return this.downstream(event);
    }
    if (event.type !== "http.response.body" || this.mode === "identity") {
      return this.downstream(event);
    }
    const body = event.body ?? new Uint8Array(0);
    const more = event.more_body === true;
    if (this.mode === "pending") {
      const start = this.start as HTTPResponseStartEvent;
      if (!more) {
        if (body.byteLength < this.settings.minimumSize) {
          this.mode = "identity";
          await this.downstream(start);
          return this.downstream(event);
        }
        this.mode = "whole";
        const compressed =
          this.encoding === "gzip"
            ? await gzip(body, this.settings.gzip)
            : await brotliCompress(body, this.settings.brotli);
        const headers = this.encodedHeaders(start);
        headers.push(["content-length", String(compressed.byteLength)]);
        await this.downstream({ ...start, headers });
        return this.downstream({ type: "http.response.body", body: compressed, more_body: false });
      }
      this.mode = "stream";
      await this.downstream({ ...start, headers: this.encodedHeaders(start) });
      this.openStream();
    }
    if (this.mode === "whole") return this.downstream(event);
    await this.writeChunk(body, more);
  }

  /** Sends a held `http.response.start` if the app ended without a body event. */
  async finish(): Promise<void> {
    if (this.mode === "pending" && this.start !== undefined) {
      this.mode = "identity";
      await this.downstream(this.start);
    }
  }

  /** Tears the compressor down if the app failed part-way. */
  abort(): void {
    this.stream?.destroy();
  }

  private encodedHeaders(start: HTTPResponseStartEvent): ASGIHeaders {
    const headers: ASGIHeaders = [...(start.headers ?? [])];
    // The length of the identity body no longer applies (RFC 9110 §8.6).
    removeHeader(headers, "content-length");
    headers.push(["content-encoding", this.encoding]);
    appendVary(headers, "Accept-Encoding");
    // A strong validator promises identical bytes (RFC 9110 §8.8.1), which the encoded body is
    // not; weakened, as nginx does, it still serves conditional requests.
    for (const pair of headers) {
      if (pair[0].toLowerCase() === "etag" && pair[1].startsWith('"')) pair[1] = `W/${pair[1]}`;
    }
    return headers;
  }

  private openStream(): void {
    const stream =
      this.encoding === "gzip"
        ? zlib.createGzip(this.settings.gzip)
        : zlib.createBrotliCompress(this.settings.brotli);
    this.stream = stream;
    stream.on("data", (chunk: Buffer) => this.output.push(chunk));
    stream.on("error", (error) => {
      this.failure ??= error;
    });
    this.ended = new Promise<void>((resolve) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
    });
  }

  private async writeChunk(body: Uint8Array, more: boolean): Promise<void> {
    const stream = this.stream as zlib.Gzip | zlib.BrotliCompress;
    if (body.byteLength > 0) stream.write(body);
    if (more) {
      // A sync flush ends the output on a byte boundary: the client can decode everything the
      // app has sent so far, which streamed responses (progress, logs) rely on.
      const kind =
        this.encoding === "gzip"
          ? zlib.constants.Z_SYNC_FLUSH
          : zlib.constants.BROTLI_OPERATION_FLUSH;
      await new Promise<void>((resolve) => stream.flush(kind, () => resolve()));
    } else {
      stream.end();
      await this.ended;
      // Anything the app sends after its last chunk goes on unchanged, for the server to refuse.
      this.mode = "identity";
    }
    if (this.failure !== undefined) throw this.failure;
    const compressed = Buffer.concat(this.output.splice(0));
    if (more && compressed.byteLength === 0) return;
    await this.downstream({ type: "http.response.body", body: compressed, more_body: more });
  }
}
