/**
 * `fromFetchHandler(handler)`: a fetch-style app (a Hono app's `fetch`, any
 * `(Request) => Response | Promise<Response>`) as an ASGI app, to `serve()` or to `mount()`
 * inside another ASGI app.
 *
 * The request body streams from `http.request` events into the `Request`'s body, and the
 * `Response` body streams out as `http.response.body` events, each sent once the server has
 * taken the previous one (ASGI `send` is the backpressure).
 */
import { ASGIError } from "../../errors.js";
import type { ASGIApp, ASGIHeaders, HTTPScope, Receive, Scope, Send } from "../types.js";
import { answerLifespan, sendText } from "./plain-replies.js";

/** A fetch-style handler as `fromFetchHandler` calls it (Hono's `app.fetch` is one). */
export type FetchStyleHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@link fromFetchHandler}. */
export interface FromFetchHandlerOptions {
  /**
   * Give the handler a URL without `scope.root_path` in front of the path (default `true`):
   * under `mount("/hono", …)` a request for `/hono/hello` reaches the handler as `/hello`, as
   * a Hono app with routes at `/hello` expects. `false` keeps the full path (a Hono app with
   * `basePath("/hono")`).
   */
  stripRootPath?: boolean;
}

const EMPTY = new Uint8Array(0);
const latin1 = new TextDecoder("latin1");

function latin1Text(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i] as number);
  return text;
}

/** `path` re-encoded for a URL (when the server gave no `raw_path`): every segment escaped. */
function encodePath(path: string): string {
  return path
    .split("/")
    .map((segment) => encodeURIComponent(segment))
    .join("/");
}

/** The path the handler sees, as it came on the wire when the scope has it. */
function targetPath(scope: HTTPScope, strip: boolean): string {
  const root = scope.root_path.endsWith("/") ? scope.root_path.slice(0, -1) : scope.root_path;
  const raw = scope.raw_path === null ? null : latin1Text(scope.raw_path);
  if (strip && root !== "") {
    // A mount prefix is plain segments, so it reads the same raw and decoded.
    if (raw?.startsWith(root)) return raw.slice(root.length) || "/";
    if (scope.path.startsWith(root)) return encodePath(scope.path.slice(root.length)) || "/";
  }
  return raw ?? encodePath(scope.path);
}

/**
 * The request URL: scheme, the `Host` header (else the server address), and the path
 * and query. A `Host` that does not parse as an authority falls back to the server address,
 * then to `localhost`: a forged header must not turn into a different URL.
 */
function urlOf(scope: HTTPScope, strip: boolean): URL {
  const query = scope.query_string.length > 0 ? `?${latin1.decode(scope.query_string)}` : "";
  const target = `${targetPath(scope, strip)}${query}`;
  const host = scope.headers.find(([name]) => name === "host")?.[1];
  const server =
    scope.server === null
      ? undefined
      : scope.server[1] === null
        ? scope.server[0]
        : `${scope.server[0].includes(":") ? `[${scope.server[0]}]` : scope.server[0]}:${scope.server[1]}`;
  for (const authority of [host, server, "localhost"]) {
    if (authority === undefined || /[/?#@\\\s]/.test(authority)) continue;
    try {
      const url = new URL(`${scope.scheme}://${authority}${target}`);
      if (url.host !== "") return url;
    } catch {
      // Try the next authority.
    }
  }
  return new URL(`${scope.scheme}://localhost/`);
}

/** The request body as a stream pulled from `receive()`: nothing is read before it is asked for. */
function bodyOf(receive: Receive, abort: AbortController, bodyOver: () => void) {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const event = await receive();
        if (event.type === "http.disconnect") {
          abort.abort();
          controller.error(new Error("The client disconnected before the request body was read"));
          return;
        }
        if (event.type !== "http.request") continue;
        if (!event.more_body) {
          if (event.body.byteLength > 0) controller.enqueue(event.body);
          controller.close();
          bodyOver();
          return;
        }
        if (event.body.byteLength > 0) {
          controller.enqueue(event.body);
          return;
        }
      }
    },
  });
}

/** Fetch §2.2.1: the `Request` constructor throws for these methods. */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
const REASONS: Record<number, string> = { 400: "Bad Request", 405: "Method Not Allowed" };

/** A plain-text answer given without calling the handler. */
function refuse(send: Send, status: 400 | 405): Promise<void> {
  return sendText(send, status, REASONS[status] as string);
}

/** The response head as ASGI pairs; each `Set-Cookie` stays a line of its own. */
function headersOf(headers: Headers): ASGIHeaders {
  const pairs: ASGIHeaders = [];
  for (const [name, value] of headers) {
    if (name !== "set-cookie") pairs.push([name, value]);
  }
  for (const cookie of headers.getSetCookie()) pairs.push(["set-cookie", cookie]);
  return pairs;
}

/**
 * Runs a fetch-style handler as an ASGI app. Lifespan events are answered at once (a fetch
 * app has no startup hook to run).
 *
 * @example
 * ```ts
 * const hono = new Hono().get("/hello", (c) => c.text("hi"));
 * await serve(mount("/hono", fromFetchHandler(hono.fetch), app), { port: 8000 });
 * // GET /hono/hello → Hono sees http://host/hello
 * ```
 */
export function fromFetchHandler(
  handler: FetchStyleHandler,
  options: FromFetchHandlerOptions = {},
): ASGIApp {
  const strip = options.stripRootPath ?? true;
  return async (scope: Scope, receive: Receive, send: Send) => {
    if (scope.type === "lifespan") return answerLifespan(receive, send);
    if (scope.type !== "http") return;
    const abort = new AbortController();
    let responseDone = false;
    // Once the body is read, the next event is http.disconnect: when it comes before the
    // response is over, the client went away, and the handler learns it from `signal`.
    const watchDisconnect = () => {
      receive().then(
        (event) => {
          if (event.type === "http.disconnect" && !responseDone) abort.abort();
        },
        () => {},
      );
    };
    const headers = new Headers();
    for (const [name, value] of scope.headers) {
      try {
        headers.append(name, value);
      } catch {
        // Only a server that skipped header validation lets such a line through.
        return refuse(send, 400);
      }
    }
    const method = scope.method.toUpperCase();
    const hasBody = method !== "GET" && method !== "HEAD";
    const init: RequestInit & { duplex?: "half" } = {
      method: scope.method,
      headers,
      signal: abort.signal,
    };
    if (FORBIDDEN_METHODS.has(method)) return refuse(send, 405);
    if (hasBody) {
      init.body = bodyOf(receive, abort, watchDisconnect);
      init.duplex = "half"; // a streamed request body (Fetch: RequestInit.duplex)
    }
    let request: Request;
    try {
      request = new Request(urlOf(scope, strip), init);
    } catch {
      // A method that is not an HTTP token: only a server that skipped validation passes one.
      return refuse(send, 400);
    }
    if (!hasBody) {
      // The (empty) body of a GET or HEAD is read here, so the disconnect watch comes next.
      void receive().then(watchDisconnect, () => {});
    }
    const response = await handler(request);
    await send({
      type: "http.response.start",
      status: response.status,
      headers: headersOf(response.headers),
    });
    const body = response.body;
    if (body === null) {
      responseDone = true;
      await send({ type: "http.response.body", body: EMPTY, more_body: false });
      return;
    }
    const reader = body.getReader();
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        if (!(chunk.value instanceof Uint8Array)) {
          throw new ASGIError("A fetch Response body must yield Uint8Array chunks", {
            code: "ASGI_INVALID_BODY",
          });
        }
        if (chunk.value.byteLength > 0) {
          await send({ type: "http.response.body", body: chunk.value, more_body: true });
        }
      }
    } catch (error) {
      abort.abort();
      await reader.cancel(error).catch(() => {});
      throw error;
    }
    responseDone = true;
    await send({ type: "http.response.body", body: EMPTY, more_body: false });
  };
}
