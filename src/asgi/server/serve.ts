/** `serve(app, options)`: run an ASGI app on Node's HTTP server (the role uvicorn plays). */
import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import type { ASGIApp } from "../types.js";
import { runPrimary, runWorker } from "./cluster.js";
import { ASGIHTTPServer } from "./http-server.js";
import { resolveOptions, type ServeOptions, type ServerHandle } from "./options.js";

/**
 * Serves `app` over HTTP/1.1 and resolves once it accepts connections (after lifespan
 * startup). Rejects if lifespan startup fails or the port cannot be bound.
 *
 * With `workers` > 1 the calling script runs again in each worker (node:cluster): there
 * `serve()` serves the app; in the primary it only supervises the workers.
 */
export async function serve(app: ASGIApp, options: ServeOptions = {}): Promise<ServerHandle> {
  if (typeof app !== "function") {
    throw new TypeError("serve(): app must be an ASGI callable (scope, receive, send) => Promise");
  }
  const resolved = resolveOptions(options, availableParallelism());
  if (resolved.workers > 1) {
    if (cluster.isPrimary) return runPrimary(resolved);
    // Every worker asks for the same address, so the cluster primary hands them one shared
    // listening socket (for `port: 0` too: the same random port).
    return runWorker(new ASGIHTTPServer(app, resolved));
  }
  return new ASGIHTTPServer(app, resolved).start();
}
