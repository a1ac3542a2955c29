/** `serve(app, options)`: run an ASGI app on Node's HTTP server (the role uvicorn plays). */
import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import type { ASGIApp } from "../types.js";
import { type ASGIAppProvider, toASGIApp } from "./app-loader.js";
import { runPrimary, runWorker } from "./cluster.js";
import { ASGIHTTPServer } from "./http-server.js";
import { resolveOptions, type ServeOptions, type ServerHandle } from "./options.js";

/**
 * Serves `app` (an ASGI callable, or an `ASGIApplication` — anything with an `asgi` callable)
 * over HTTP/1.1 and resolves once it accepts connections (after lifespan
 * startup). Rejects if lifespan startup fails or the port cannot be bound.
 *
 * With `workers` > 1 the calling script runs again in each worker (node:cluster): there
 * `serve()` serves the app; in the primary it only supervises the workers.
 *
 * @example
 * ```ts
 * const server = await serve(app, { host: "0.0.0.0", port: 8000, workers: "auto" });
 * console.log(`listening on ${server.url}`);
 * process.once("SIGTERM", () => void server.close());
 * ```
 */
export async function serve(
  app: ASGIApp | ASGIAppProvider,
  options: ServeOptions = {},
): Promise<ServerHandle> {
  const callable = toASGIApp(app);
  if (callable === null) {
    throw new TypeError(
      "serve(): app must be an ASGI callable (scope, receive, send) => Promise, or an object " +
        "with one as its `asgi` property (an ASGIApplication)",
    );
  }
  const resolved = resolveOptions(options, availableParallelism());
  if (resolved.workers > 1) {
    if (cluster.isPrimary) return runPrimary(resolved);
    // Every worker asks for the same address, so the cluster primary hands them one shared
    // listening socket (for `port: 0` too: the same random port).
    return runWorker(new ASGIHTTPServer(callable, resolved));
  }
  return new ASGIHTTPServer(callable, resolved).start();
}
