/**
 * `workers: N` on node:cluster. The primary forks N copies of the running script (same
 * argv and execArgv); in each, `serve()` sees `cluster.isWorker`, serves the app and reports
 * back. The primary never loads or runs the app: it waits for every worker to report ready,
 * restarts a worker that dies, and on `close()` asks each to shut down gracefully.
 */
import cluster, { type Worker } from "node:cluster";
import { ASGIError } from "../../errors.js";
import { type ASGIHTTPServer, formatURL, unixSocketURL } from "./http-server.js";
import type { ResolvedServeOptions, ServerHandle } from "./options.js";
import { claimSocketPath } from "./unix-socket.js";

type WorkerMessage =
  | { mtaio: "ready"; port: number }
  | { mtaio: "failed"; message: string }
  | { mtaio: "close" };

function isMessage(value: unknown): value is WorkerMessage {
  return typeof value === "object" && value !== null && "mtaio" in value;
}

/** Supervises `options.workers` processes; resolves once all of them listen. */
export async function runPrimary(options: ResolvedServeOptions): Promise<ServerHandle> {
  const { logger } = options;
  let closing = false;
  let port = options.port;
  const live = new Set<Worker>();

  const fork = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      live.add(worker);
      let ready = false;
      worker.on("message", (message: unknown) => {
        if (!isMessage(message)) return;
        if (message.mtaio === "ready") {
          ready = true;
          resolve(message.port);
        } else if (message.mtaio === "failed") {
          reject(new ASGIError(message.message, { code: "ASGI_WORKER_FAILED" }));
        }
      });
      worker.on("exit", (code, signal) => {
        live.delete(worker);
        if (!ready) {
          reject(
            new ASGIError(
              `Worker ${worker.process.pid} exited before it was ready (${signal ?? code})`,
              {
                code: "ASGI_WORKER_FAILED",
              },
            ),
          );
          return;
        }
        if (closing) return;
        logger.error(`Worker ${worker.process.pid} died (${signal ?? code}); starting another`);
        setTimeout(() => {
          if (!closing) fork().catch((error) => logger.error("Could not restart a worker", error));
        }, 500).unref();
      });
    });

  const stopAll = (): Promise<void> => {
    closing = true;
    const exits = [...live].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once("exit", () => resolve());
          const kill = setTimeout(
            () => worker.process.kill("SIGKILL"),
            options.shutdownTimeout + 5000,
          );
          kill.unref();
          worker.once("exit", () => clearTimeout(kill));
          if (worker.isConnected()) worker.send({ mtaio: "close" } satisfies WorkerMessage);
          else worker.process.kill("SIGTERM");
        }),
    );
    return Promise.all(exits).then(() => undefined);
  };

  // The primary holds the listening socket the workers share: it claims the path once, before
  // any worker asks for it (a worker would find the socket the first one bound in use).
  if (options.uds !== undefined) await claimSocketPath(options.uds);
  try {
    const ports = await Promise.all(Array.from({ length: options.workers }, fork));
    port = ports[0];
  } catch (error) {
    await stopAll();
    throw error;
  }
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= stopAll();
    return closed;
  };
  const scheme = options.tls === undefined ? "http" : "https";
  const uds = options.uds;
  return {
    host: uds ?? options.host,
    port: uds === undefined ? port : 0,
    url: uds === undefined ? formatURL(options.host, port, scheme) : unixSocketURL(uds, scheme),
    workers: options.workers,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Serves in a cluster worker; reports to the primary and shuts down when it asks. */
export async function runWorker(server: ASGIHTTPServer): Promise<ServerHandle> {
  const send = (message: WorkerMessage) => {
    if (process.connected) process.send?.(message);
  };
  let handle: ServerHandle;
  try {
    handle = await server.start();
  } catch (error) {
    send({ mtaio: "failed", message: error instanceof Error ? error.message : String(error) });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
    throw error;
  }
  const shutdown = () => {
    void handle.close().finally(() => process.exit(0));
  };
  process.on("message", (message: unknown) => {
    if (isMessage(message) && message.mtaio === "close") shutdown();
  });
  process.once("disconnect", shutdown); // the primary is gone
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
  send({ mtaio: "ready", port: handle.port });
  return handle;
}
