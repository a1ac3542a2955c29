import { HTTPError } from "../../errors.js";
import type { ASGIApp, HTTPScope, LifespanScope, Receive, Scope, Send } from "../types.js";
import type { MiddlewareClass } from "./middleware.js";
import { Request, type RequestOptions } from "./request.js";
import { Response } from "./response.js";
import type { Router } from "./router.js";

const NOT_FOUND = '{"detail":"Not Found"}';

/**
 * The framework's application. Subclass it and override `handleRequest`, or `include()`
 * routers and keep the default dispatch. `app.asgi` is the ASGI callable for `serve()`.
 */
export class ASGIApplication {
  private readonly routers: Router[] = [];
  private readonly middleware: Array<{
    Class: MiddlewareClass<never>;
    options: unknown;
  }> = [];
  private stack: ASGIApp | undefined;
  protected readonly requestOptions: RequestOptions;
  /** The ASGI 3.0 callable, bound once: its identity is stable. */
  readonly asgi: ASGIApp;

  constructor(options: RequestOptions = {}) {
    this.requestOptions = options;
    this.asgi = (scope, receive, send) => {
      this.stack ??= this.buildStack();
      return this.stack(scope, receive, send);
    };
  }

  /** Adds routers that the default `handleRequest` dispatches to, in order. */
  include(router: Router): this {
    this.routers.push(router);
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

  async handleRequest(request: Request): Promise<Response> {
    for (const router of this.routers) {
      const response = await router.dispatch(request);
      if (response !== null) return response;
    }
    return new Response(NOT_FOUND, 404, { "content-type": "application/json" });
  }

  /**
   * Answers an error raised while handling a request: HTTPError (and ValidationError) → its
   * status, `{"detail": …}` and headers; anything else → a 500 that reveals nothing.
   */
  async handleError(error: unknown, send: Send): Promise<void> {
    if (error instanceof HTTPError) {
      await Response.json({ detail: error.detail }, error.statusCode, error.headers).send(send);
      return;
    }
    await Response.json({ detail: "Internal Server Error" }, 500).send(send);
  }

  private buildStack(): ASGIApp {
    let app: ASGIApp = (scope, receive, send) => this.dispatch(scope, receive, send);
    for (const { Class, options } of this.middleware) {
      const instance = new Class(app, options as never);
      app = (scope, receive, send) => instance.call(scope, receive, send);
    }
    return app;
  }

  private dispatch(scope: Scope, receive: Receive, send: Send): Promise<void> {
    if (scope.type === "http") return this.handleHTTP(scope, receive, send);
    if (scope.type === "lifespan") return this.handleLifespan(scope, receive, send);
    return Promise.resolve();
  }

  private async handleHTTP(scope: HTTPScope, receive: Receive, send: Send): Promise<void> {
    const request = new Request(scope, receive, this.requestOptions);
    let response: Response | undefined;
    try {
      response = await this.handleRequest(request);
      await response.send(send, scope.method !== "HEAD");
    } catch (error) {
      // Too late for an error response once the status line is out: let the server abort.
      if (response?.started === true) throw error;
      await this.handleError(error, send);
    }
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
