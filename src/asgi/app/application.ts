import { Buffer } from "node:buffer";
import { HTTPError } from "../../errors.js";
import { SETTLED } from "../fast-path.js";
import type {
  ASGIApp,
  ASGIHeaders,
  HTTPScope,
  LifespanScope,
  Receive,
  Send,
  WebSocketScope,
} from "../types.js";
import type { MiddlewareClass } from "./middleware.js";
import { mountedAppOf, mountedScope } from "./mount.js";
import { Request, type RequestOptions } from "./request.js";
import { Response } from "./response.js";
import { rawPathBelowRoot } from "./root-path.js";
import { type IncludeOptions, Router } from "./router.js";
import { WebSocket, WebSocketDisconnect } from "./websocket.js";

const NOT_FOUND = '{"detail":"Not Found"}';
/** `Response.send` as the framework defines it (a subclass may override it). */
const SEND = Response.prototype.send;

/** Where the application reports errors it answers with a 500. `console` fits. */
export interface ApplicationLogger {
  /**
   * Reports an error the application answered with a 500, with the error itself when there is one.
   */
  error(message: string, error?: unknown): void;
}

/**
 * Options of `new ASGIApplication()`: the request limits of {@link RequestOptions} and a logger.
 */
export interface ApplicationOptions extends RequestOptions {
  /**
   * Receives every error that the default `handleError` turns into a 500 (the response itself
   * reveals nothing). Default: one line and the stack on `console.error`.
   */
  logger?: ApplicationLogger;
}

/** One line naming the request, then the stack: what an operator needs to find the bug. */
const consoleLogger: ApplicationLogger = {
  error(message, error) {
    const stack = error instanceof Error ? (error.stack ?? String(error)) : String(error);
    console.error(`${message}\n${stack}`);
  },
};

/** Control characters from a request path must not forge log lines. */
function printable(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/**
 * The framework's application. Subclass it and override `handleRequest`, or `include()`
 * routers and keep the default dispatch. `app.asgi` is the ASGI callable for `serve()`.
 *
 * @example
 * ```ts
 * const app = new ASGIApplication({ maxBodySize: 64 * 1024 });
 * app.include(new Router().get("/", () => Response.json({ hello: "world" })));
 * await serve(app, { port: 8000 });
 * ```
 */
export class ASGIApplication {
  private readonly routers: Router[] = [];
  private readonly middleware: Array<{
    Class: MiddlewareClass<never>;
    options: unknown;
  }> = [];
  private stack: ASGIApp | undefined;
  /** `handleRequest` is the default one: requests may go straight to the routers. */
  private directDispatch = false;
  /** The request limits every `Request` of this application is built with. */
  protected readonly requestOptions: RequestOptions;
  /** Where errors answered with a 500 are reported (`options.logger`, else `console.error`). */
  protected readonly logger: ApplicationLogger;
  /** The ASGI 3.0 callable, bound once: its identity is stable. */
  readonly asgi: ASGIApp;

  constructor(options: ApplicationOptions = {}) {
    this.requestOptions = options;
    this.logger = options.logger ?? consoleLogger;
    this.asgi = (scope, receive, send) => {
      this.stack ??= this.buildStack();
      return this.stack(scope, receive, send);
    };
  }

  /**
   * Adds routers that the default `handleRequest` dispatches to, in order; with `prefix`, the
   * router's routes are served under it (see `Router.include`).
   */
  include(router: Router, options: IncludeOptions = {}): this {
    const prefix = options.prefix ?? "";
    this.routers.push(prefix === "" ? router : new Router().include(router, options));
    return this;
  }

  /**
   * Wraps the app in middleware. Like Starlette, the last one added is the outermost: it sees
   * the request first and the response last. Add middleware before serving.
   */
  addMiddleware<Options>(Class: MiddlewareClass<Options>, options?: Options): this {
    this.middleware.push({ Class: Class as unknown as MiddlewareClass<never>, options });
    this.stack = undefined;
    return this;
  }

  /** Runs on lifespan startup (before the server accepts requests). */
  async startup(): Promise<void> {}

  /** Runs on lifespan shutdown. */
  async shutdown(): Promise<void> {}

  /**
   * Answers one request. The default dispatches to the included routers in order (a JSON 404
   * when none has a route for it); override it to handle requests
   * yourself, and call `super.handleRequest(request)` to fall back to the routers.
   *
   * @example
   * ```ts
   * class App extends ASGIApplication {
   *   override async handleRequest(request: Request): Promise<Response> {
   *     if (request.path === "/health") return Response.text("ok");
   *     return super.handleRequest(request);
   *   }
   * }
   * ```
   */
  async handleRequest(request: Request): Promise<Response> {
    return this.route(request);
  }

  /** The default dispatch without an async frame: a synchronous handler stays synchronous. */
  private route(request: Request): Response | Promise<Response> {
    const routers = this.routers;
    for (let i = 0; i < routers.length; i++) {
      const response = (routers[i] as Router).dispatch(request);
      if (response !== null) return response;
    }
    return new Response(NOT_FOUND, 404, { "content-type": "application/json" });
  }

  /**
   * Answers an error raised while handling a request: HTTPError (and ValidationError) → its
   * status, `{"detail": …}` and headers; anything else → a 500 that reveals nothing to the
   * client and is reported, with its stack, to the `logger` option.
   */
  async handleError(error: unknown, send: Send, scope?: HTTPScope): Promise<void> {
    if (error instanceof HTTPError) {
      await Response.json({ detail: error.detail }, error.statusCode, error.headers).send(send);
      return;
    }
    const request = scope === undefined ? "a request" : `${scope.method} ${printable(scope.path)}`;
    try {
      this.logger.error(`mtaio: unhandled error in ${request}, answered 500`, error);
    } catch {
      // A failing logger must not cost the client its response.
    }
    await Response.json({ detail: "Internal Server Error" }, 500).send(send);
  }

  /**
   * The middleware chain, built once at the first event (not per request): the innermost app
   * handles `http` scopes without an async frame of its own.
   */
  private buildStack(): ASGIApp {
    this.directDispatch = this.handleRequest === ASGIApplication.prototype.handleRequest;
    let app: ASGIApp = (scope, receive, send) =>
      scope.type === "http"
        ? this.handleHTTP(scope, receive, send)
        : scope.type === "lifespan"
          ? this.handleLifespan(scope, receive, send)
          : this.handleWebSocket(scope, receive, send);
    for (const { Class, options } of this.middleware) {
      const instance = new Class(app, options as never);
      app = instance.call.bind(instance);
    }
    return app;
  }

  /**
   * A WebSocket connection: the first included router with a WebSocket route for the path
   * handles it. Without one the app returns without accepting, which refuses it (403).
   */
  private async handleWebSocket(
    scope: WebSocketScope,
    receive: Receive,
    send: Send,
  ): Promise<void> {
    const raw =
      scope.raw_path === null
        ? encodeURI(scope.path)
        : Buffer.from(
            scope.raw_path.buffer,
            scope.raw_path.byteOffset,
            scope.raw_path.length,
          ).toString("latin1");
    // Routes are matched below root_path, as HTTP routes are (Request.routePath).
    const below = scope.root_path ? rawPathBelowRoot(raw, scope.root_path) : raw;
    for (const router of this.routers) {
      const found = router.resolveWebSocket(below);
      if (found === null) continue;
      // A mounted app (router.mount) takes the connection as it is.
      const mounted = mountedAppOf(found.handler);
      if (mounted !== undefined) return mounted(mountedScope(scope, found.params), receive, send);
      const websocket = new WebSocket(scope, receive, send);
      websocket.params = found.params;
      try {
        await found.handler(websocket, found.params);
      } catch (error) {
        // The client leaving is the normal end of a connection, not an error of the app.
        if (!(error instanceof WebSocketDisconnect)) throw error;
      }
      return;
    }
  }

  /**
   * One request. Fast path: with the default `handleRequest` and a handler that returns a
   * Response synchronously, the only async frame is `Response.send`.
   */
  private handleHTTP(scope: HTTPScope, receive: Receive, send: Send): Promise<void> {
    const request = new Request(scope, receive, this.requestOptions);
    let result: Response | Promise<Response>;
    try {
      result = this.directDispatch ? this.route(request) : this.handleRequest(request);
    } catch (error) {
      return this.handleError(error, send, scope);
    }
    if (result instanceof Response && result.send === SEND) {
      // Only the head can fail before the status line is out: answered here. Once `emit`
      // runs the response has started, and its errors go to the server as they are (what
      // `afterSendError` would do), so no `catch` (closure, promise, microtask) per request.
      let headers: ASGIHeaders;
      try {
        headers = result.head();
      } catch (error) {
        return this.handleError(error, send, scope);
      }
      return result.emit(send, headers, scope.method !== "HEAD");
    }
    if (result instanceof Response) {
      // A subclass with its own `send()`: called as such, its errors answered as above.
      return result
        .send(send, scope.method !== "HEAD")
        .catch((error: unknown) => this.afterSendError(error, result as Response, send, scope));
    }
    return this.finish(result, send, scope);
  }

  /**
   * An async handler's response, sent once it settles. A `then` rather than an async frame:
   * the same one microtask for the handler's promise, without a suspended frame to resume.
   * A fulfilled SETTLED is not returned (a promise resolved with a promise costs two more
   * microtasks), see fast-path.ts.
   */
  private finish(pending: Promise<Response>, send: Send, scope: HTTPScope): Promise<void> {
    return pending.then(
      (response) => {
        let sent: Promise<void>;
        try {
          sent = response.send(send, scope.method !== "HEAD");
        } catch (error) {
          return this.afterSendError(error, response, send, scope);
        }
        if (sent === SETTLED) return undefined;
        return sent.catch((error: unknown) => this.afterSendError(error, response, send, scope));
      },
      (error: unknown) => this.handleError(error, send, scope),
    );
  }

  /** Too late for an error response once the status line is out: let the server abort. */
  private afterSendError(
    error: unknown,
    response: Response,
    send: Send,
    scope: HTTPScope,
  ): Promise<void> {
    if (response.started) return Promise.reject(error);
    return this.handleError(error, send, scope);
  }

  private async handleLifespan(_scope: LifespanScope, receive: Receive, send: Send) {
    for (;;) {
      const event = await receive();
      if (event.type === "lifespan.startup") {
        try {
          await this.startup();
        } catch (error) {
          await send({ type: "lifespan.startup.failed", message: String(error) });
          return;
        }
        await send({ type: "lifespan.startup.complete" });
      } else if (event.type === "lifespan.shutdown") {
        try {
          await this.shutdown();
        } catch (error) {
          await send({ type: "lifespan.shutdown.failed", message: String(error) });
          return;
        }
        await send({ type: "lifespan.shutdown.complete" });
        return;
      }
    }
  }
}
