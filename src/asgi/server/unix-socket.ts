/**
 * Taking a Unix domain socket path for `serve({ uds })`. A server that dies without closing
 * leaves its socket file behind, and `listen()` on that path then fails with EADDRINUSE:
 * such a stale file is removed first, as uvicorn and nginx do. Nothing else is ever removed:
 * a path that is not a socket (a typo naming a real file) and a socket a live server answers
 * on are refused.
 */
import { lstat, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { ASGIError } from "../../errors.js";

/** How long a connection attempt may take before the socket counts as in use. */
const PROBE_TIMEOUT_MS = 2000;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/**
 * True when a server accepts connections on `path`; false when nobody listens there (the
 * file is stale). Errors other than "nobody there" reject.
 */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect(path);
    const done = (result: boolean | Error) => {
      probe.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    // A listener whose backlog is full does not answer at once: it is still alive.
    probe.setTimeout(PROBE_TIMEOUT_MS, () => done(true));
    probe.once("connect", () => done(true));
    probe.once("error", (error) => {
      const code = errorCode(error);
      done(code === "ECONNREFUSED" || code === "ENOENT" ? false : error);
    });
  });
}

/**
 * Makes `path` free for `listen()`: nothing there, or a stale socket file (removed). Rejects
 * with `ASGIError` `ASGI_UDS_NOT_SOCKET` when something else is at the path and
 * `ASGI_UDS_IN_USE` when a server still listens on it.
 */
export async function claimSocketPath(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (error) {
    if (errorCode(error) === "ENOENT") return;
    throw error;
  }
  if (!isSocket) {
    throw new ASGIError(`${path} exists and is not a socket; not replacing it`, {
      code: "ASGI_UDS_NOT_SOCKET",
    });
  }
  if (await answers(path)) {
    throw new ASGIError(`Another server is listening on ${path}`, { code: "ASGI_UDS_IN_USE" });
  }
  try {
    await unlink(path);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
  }
}
