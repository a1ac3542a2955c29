import type { ASGIApp, Receive, Scope, Send } from "../types.js";

/**
 * Base class of middleware: `this.app` is the next ASGI callable (the reference's `self.app`)
 * and `call()` is the reference's `__call__`. The default `call` passes everything through.
 *
 * @example
 * ```ts
 * class RequestId extends ASGIMiddleware<{ header: string }> {
 *   override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
 *     await this.app(scope, receive, (event) => {
 *       if (event.type === "http.response.start") {
 *         (event.headers ??= []).push([this.options.header, crypto.randomUUID()]);
 *       }
 *       return send(event);
 *     });
 *   }
 * }
 * app.addMiddleware(RequestId, { header: "x-request-id" });
 * ```
 */
export class ASGIMiddleware<Options = Record<string, unknown>> {
  /** The next ASGI callable in the stack (the application, or the next middleware). */
  readonly app: ASGIApp;
  /** The options given to `app.addMiddleware(Class, options)` (`{}` when none were given). */
  readonly options: Options;

  constructor(app: ASGIApp, options?: Options) {
    this.app = app;
    this.options = options ?? ({} as Options);
  }

  /**
   * Handles one ASGI call. Override it to act before and after `this.app(scope, receive, send)`
   * or to answer without calling it; the default passes the call through unchanged.
   *
   * @example
   * ```ts
   * class Timing extends ASGIMiddleware {
   *   override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
   *     const started = performance.now();
   *     await this.app(scope, receive, send);
   *     console.log(scope.type, performance.now() - started, "ms");
   *   }
   * }
   * app.addMiddleware(Timing);
   * ```
   */
  async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    await this.app(scope, receive, send);
  }
}

/** A middleware class as `app.addMiddleware()` takes it: built with the next app and options. */
export type MiddlewareClass<Options = Record<string, unknown>> = new (
  app: ASGIApp,
  options?: Options,
) => ASGIMiddleware<Options>;
