import type { ASGIApp, Receive, Scope, Send } from "../types.js";

/**
 * Base class of middleware: `this.app` is the next ASGI callable (the reference's `self.app`)
 * and `call()` is the reference's `__call__`. The default `call` passes everything through.
 */
export class ASGIMiddleware<Options = Record<string, unknown>> {
  readonly app: ASGIApp;
  readonly options: Options;

  constructor(app: ASGIApp, options?: Options) {
    this.app = app;
    this.options = options ?? ({} as Options);
  }

  async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    await this.app(scope, receive, send);
  }
}

export type MiddlewareClass<Options = Record<string, unknown>> = new (
  app: ASGIApp,
  options?: Options,
) => ASGIMiddleware<Options>;
