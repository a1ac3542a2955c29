/**
 * `toFetchHandler(app)`: any ASGI app as a WHATWG fetch handler, `(Request) => Promise<Response>`,
 * the shape Bun, Deno, Cloudflare Workers and Node's own `fetch` types serve.
 *
 * Both bodies stream: the request body is handed to the app as `http.request` events while it
 * arrives, and the `Response` is returned as soon as the app sends `http.response.start`, its
 * body fed by `http.response.body` events with backpressure (a `send()` resolves once the
 * consumer has room for the chunk).
 */
import { ASGIError } from "../../errors.js";
import { decodePathSegment } from "../path-decode.js";
import type {
  ASGIApp,
  ASGIHeaders,
  HTTPResponseStartEvent,
  HTTPScope,
  ReceiveEvent,
  SendEvent,
} from "../types.js";
import { clientDisconnected } from "./errors.js";
import { Lifespan } from "./lifespan.js";

/** A fetch-style handler (what `Deno.serve`, `Bun.serve({ fetch })` and Workers call). */
export interface FetchHandler {
  (request: Request, context?: unknown): Promise<Response>;
  /**
   * Runs lifespan shutdown when `lifespan: "lazy"` started it (a no-op otherwise): call it
   * where the runtime lets you know it stops, if it does.
   */
  close(): Promise<void>;
}

/** Options of {@link toFetchHandler}. */
export interface ToFetchHandlerOptions {
  /**
   * The client address for `scope.client`, from the request and the runtime's second handler
   * argument (Deno's `info.remoteAddr`, Bun's `server.requestIP(request)`). Default: `null`.
   */
  client?: (request: Request, context: unknown) => [host: string, port: number] | null;
  /** `scope.root_path`, when the runtime serves the app below a prefix. Default `""`. */
  rootPath?: string;
  /**
   * Bytes the response stream holds before `send()` waits for the consumer to read.
   * Default 64 KiB.
   */
  highWaterMark?: number;
  /**
   * Receives errors the app raised before completing its response (the client gets a 500, or
   * a body that ends in an error). Default: `console.error`.
   */
  onError?: (error: unknown) => void;
  /**
   * `"off"` (default): the lifespan protocol is not run. `"lazy"`: lifespan startup runs once,
   * at the first request, which waits for it; each scope then gets a copy of the lifespan
   * state. An app that does not speak lifespan is served without it; one that reports
   * `lifespan.startup.failed` gets every request answered 500. Shutdown runs on `close()`.
   */
  lifespan?: "off" | "lazy";
}

const EMPTY = new Uint8Array(0);
const DISCONNECT: ReceiveEvent = { type: "http.disconnect" };
/** Fetch forbids a body with these statuses (Fetch §2.2.3 "null body status"). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const latin1 = new TextEncoder();

function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

function plainResponse(status: number, text: string): Response {
  const body = latin1.encode(text);
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "content-length": String(body.length) },
  });
}

/** `[host, port]` of the URL, the port defaulted from the scheme; IPv6 without brackets. */
function serverOf(url: URL): [string, number] {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  return [host, port];
}

/**
 * The ASGI scope for a WHATWG request, or `null` when its path does not decode (the 400 a
 * server gives). Header names come lower-case from `Headers`; values are byte strings, so
 * latin1 as the scope wants them. `Host` is added from the URL when the runtime left it out.
 */
function scopeOf(
  request: Request,
  context: unknown,
  options: ToFetchHandlerOptions,
): HTTPScope | null {
  const url = new URL(request.url);
  const rawPath = url.pathname;
  const path = decodePathSegment(rawPath);
  if (path === null) return null;
  const headers: ASGIHeaders = [];
  let host = false;
  for (const [name, value] of request.headers) {
    if (name === "set-cookie") continue; // a response header; never joined into one line
    if (name === "host") host = true;
    headers.push([name, value]);
  }
  if (!host) headers.unshift(["host", url.host]);
  const query = url.search.length > 1 ? url.search.slice(1) : "";
  return {
    type: "http",
    asgi: { version: "3.0", spec_version: "2.4" },
    http_version: "1.1",
    method: request.method,
    scheme: url.protocol === "https:" ? "https" : "http",
    path,
    raw_path: latin1Bytes(rawPath),
    query_string: query === "" ? EMPTY : latin1Bytes(query),
    root_path: options.rootPath ?? "",
    headers,
    client: options.client?.(request, context) ?? null,
    server: serverOf(url),
  };
}

/** The response head as a WHATWG `Headers` (multiple `Set-Cookie` lines kept apart). */
function headersOf(event: HTTPResponseStartEvent): Headers {
  const headers = new Headers();
  for (const [name, value] of event.headers ?? []) {
    try {
      headers.append(name, value);
    } catch (cause) {
      throw new ASGIError(`Invalid response header from the ASGI app: ${JSON.stringify(name)}`, {
        code: "ASGI_INVALID_HEADER",
        cause,
      });
    }
  }
  return headers;
}

/**
 * Runs an ASGI app (or an `ASGIApplication`) as a fetch handler. Fetch runtimes have no start
 * and stop events to drive the lifespan protocol: by default it is not run, and with
 * `lifespan: "lazy"` startup runs at the first request (see {@link ToFetchHandlerOptions}).
 *
 * @example
 * ```ts
 * const handler = toFetchHandler(app);
 * Deno.serve(handler); // or Bun.serve({ fetch: handler }), or export default { fetch: handler }
 * ```
 */
export function toFetchHandler(
  app: ASGIApp | { asgi: ASGIApp },
  options: ToFetchHandlerOptions = {},
): FetchHandler {
  const asgi = typeof app === "function" ? app : app.asgi;
  const highWaterMark = options.highWaterMark ?? 64 * 1024;
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const lifespan =
    options.lifespan === "lazy"
      ? new Lifespan(asgi, "auto", {
          error: (_message, error) => onError(error),
          info: () => {},
        })
      : null;
  let started: Promise<void> | undefined;
  const run = (scope: HTTPScope, request: Request): Promise<Response> =>
    new Promise<Response>((resolve) => {
      if (lifespan?.supported) scope.state = { ...lifespan.state };
      const exchange = new FetchExchange(request, highWaterMark, resolve, onError);
      let result: Promise<void>;
      try {
        // Promise.resolve: a plain-JavaScript app may return nothing, or throw at once.
        result = Promise.resolve(asgi(scope, exchange.receive, exchange.send));
      } catch (error) {
        result = Promise.reject(error);
      }
      result.then(
        () => exchange.appReturned(),
        (error: unknown) => exchange.appFailed(error),
      );
    });
  const handler = (request: Request, context?: unknown): Promise<Response> => {
    const scope = scopeOf(request, context, options);
    if (scope === null) return Promise.resolve(plainResponse(400, "Bad Request"));
    if (lifespan === null) return run(scope, request);
    started ??= lifespan.startup();
    return started.then(
      () => run(scope, request),
      (error: unknown) => {
        try {
          onError(error);
        } catch {
          // A failing reporter must not cost the client its response.
        }
        return plainResponse(500, "Internal Server Error");
      },
    );
  };
  return Object.assign(handler, {
    close: async () => {
      if (started !== undefined)
        await started.then(
          () => lifespan?.shutdown(),
          () => {},
        );
    },
  });
}

/** Where the response is: no head yet, head out and body streaming, or over. */
const State = { Waiting: 0, Streaming: 1, Complete: 2 } as const;
type State = (typeof State)[keyof typeof State];

/** One request through the app: its receive/send pair and the response stream. */
class FetchExchange {
  private state: State = State.Waiting;
  private disconnected = false;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null;
  /** The last `http.request` event (`more_body: false`) has been received. */
  private bodyDone = false;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** Set by the stream's `pull`: the consumer has room for a chunk. */
  private demand = false;
  private wakeSender: (() => void) | undefined;
  private wakeReceiver: (() => void) | undefined;
  private readonly ended: Promise<void>;

  constructor(
    private readonly request: Request,
    private readonly highWaterMark: number,
    private readonly resolve: (response: Response) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.reader = request.body?.getReader() ?? null;
    this.ended = new Promise<void>((wake) => (this.wakeReceiver = wake));
    if (request.signal.aborted) this.disconnect();
    else request.signal.addEventListener("abort", () => this.disconnect(), { once: true });
  }

  /** The client went away (request aborted, response stream cancelled). */
  private disconnect(): void {
    if (this.disconnected) return;
    this.disconnected = true;
    this.wakeReceiver?.();
    this.wakeSender?.();
    this.reader?.cancel().catch(() => {});
  }

  /** ASGI `receive`: the body as it arrives, then `http.disconnect` once the exchange is over. */
  readonly receive = async (): Promise<ReceiveEvent> => {
    if (this.disconnected) return DISCONNECT;
    if (this.bodyDone) {
      // ASGI: after the last body chunk, the next event is http.disconnect, once the response
      // is sent or the client has gone.
      await this.ended;
      return DISCONNECT;
    }
    const reader = this.reader;
    if (reader === null) {
      this.bodyDone = true;
      return { type: "http.request", body: EMPTY, more_body: false };
    }
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch {
      this.disconnect();
      return DISCONNECT;
    }
    if (chunk.done) {
      this.bodyDone = true;
      return { type: "http.request", body: EMPTY, more_body: false };
    }
    return { type: "http.request", body: chunk.value, more_body: true };
  };

  /** ASGI `send`: the head resolves the `Response`; body chunks wait for the consumer. */
  readonly send = async (event: SendEvent): Promise<void> => {
    if (this.disconnected) throw clientDisconnected();
    if (event.type === "http.response.start") {
      if (this.state !== State.Waiting) {
        throw new ASGIError("http.response.start sent twice", { code: "ASGI_UNEXPECTED_MESSAGE" });
      }
      this.start(event);
      return;
    }
    if (event.type !== "http.response.body" || this.state !== State.Streaming) {
      throw new ASGIError(`Unexpected ASGI message '${String(event.type)}' on an HTTP scope`, {
        code: "ASGI_UNEXPECTED_MESSAGE",
      });
    }
    const body = event.body ?? EMPTY;
    const more = event.more_body === true;
    const controller = this.controller;
    if (body.byteLength > 0 && controller !== undefined) {
      while (!this.demand && !this.disconnected) {
        await new Promise<void>((wake) => (this.wakeSender = wake));
      }
      if (this.disconnected) throw clientDisconnected();
      // Cleared before enqueue: enqueue may call `pull` at once when there is room left.
      this.demand = false;
      controller.enqueue(body);
    }
    if (!more) this.complete();
  };

  private start(event: HTTPResponseStartEvent): void {
    if (!Number.isInteger(event.status) || event.status < 200 || event.status > 599) {
      throw new ASGIError(`The fetch API cannot answer with status ${event.status}`, {
        code: "ASGI_INVALID_STATUS",
      });
    }
    const headers = headersOf(event);
    this.state = State.Streaming;
    if (NULL_BODY_STATUSES.has(event.status)) {
      this.resolve(new Response(null, { status: event.status, headers }));
      return;
    }
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => {
          this.demand = true;
          this.wakeSender?.();
        },
        cancel: () => this.disconnect(),
      },
      { highWaterMark: this.highWaterMark, size: (chunk) => chunk.byteLength },
    );
    this.resolve(new Response(body, { status: event.status, headers }));
  }

  private complete(): void {
    this.state = State.Complete;
    this.controller?.close();
    this.wakeReceiver?.();
  }

  appReturned(): void {
    if (this.state === State.Complete || this.disconnected) return;
    this.fail(
      new ASGIError("ASGI app returned without completing the response", {
        code: "ASGI_INCOMPLETE_RESPONSE",
      }),
    );
  }

  appFailed(error: unknown): void {
    if (this.state === State.Complete || this.disconnected) return;
    this.fail(error);
  }

  /** A 500 when the head is not out yet; otherwise the body stream errors (a cut connection). */
  private fail(error: unknown): void {
    try {
      this.onError(error);
    } catch {
      // A failing reporter must not cost the client its response.
    }
    if (this.state === State.Waiting) {
      this.resolve(plainResponse(500, "Internal Server Error"));
    } else {
      this.controller?.error(error);
    }
    this.state = State.Complete;
    this.wakeReceiver?.();
    if (this.request.body !== null) this.reader?.cancel().catch(() => {});
  }
}
