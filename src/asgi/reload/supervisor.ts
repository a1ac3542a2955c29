/**
 * `mtaio serve --reload`: this process never loads the app. It runs `mtaio serve` again as a
 * child process, watches the source directories, and replaces the child when a source file
 * changes (what uvicorn's reloader does). A fresh process is the only way to load changed
 * ES modules: Node's module cache cannot be emptied.
 *
 * The child is asked to stop by closing the IPC channel between the two (it then shuts down
 * gracefully, lifespan included) rather than by a signal: Ctrl-C in a terminal already
 * signals both processes, and the CLI takes a second signal as "exit at once".
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { resolvePatterns, TreeWatcher } from "./file-watcher.js";

/** The environment variable that tells `mtaio serve` it runs under the reloader. */
export const RELOAD_CHILD_ENV = "MTAIO_RELOAD_CHILD";

/** How long a child may take to shut down before it is killed. */
const STOP_GRACE_MS = 5000;

/** What the reloader watches and runs. */
export interface ReloadOptions {
  /** The `mtaio` arguments the child runs with (`serve app.js --port …`). */
  args: string[];
  /** Directories to watch (absolute). */
  dirs: string[];
  /** Extra glob patterns of file names to watch (`--reload-include`). */
  include: string[];
  /** Extra glob patterns of names to ignore (`--reload-exclude`). */
  exclude: string[];
  /** Where the reloader's own lines go. */
  log: (line: string) => void;
}

/**
 * A port that is free now on `host`, for `--port 0`: every child then binds the same one,
 * so the URL stays the same across restarts.
 */
export async function freePort(host: string): Promise<number> {
  const probe = createServer();
  probe.listen(0, host);
  await once(probe, "listening");
  const address = probe.address();
  probe.close();
  await once(probe, "close");
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return address.port;
}

/**
 * Runs `mtaio <args>` in a child process and restarts it on source changes until SIGINT or
 * SIGTERM; then stops the child and resolves.
 */
export async function superviseWithReload(options: ReloadOptions): Promise<void> {
  const { log } = options;
  let child: ChildProcess | null = null;
  let restartWanted = false;
  let stopping = false;

  const start = () => {
    const started = spawn(
      process.execPath,
      [...process.execArgv, process.argv[1] as string, ...options.args],
      {
        stdio: ["inherit", "inherit", "inherit", "ipc"],
        env: { ...process.env, [RELOAD_CHILD_ENV]: "1" },
      },
    );
    child = started;
    started.once("exit", (code, signal) => {
      if (child === started) child = null;
      if (stopping) return;
      if (restartWanted) {
        restartWanted = false;
        start();
      } else {
        log(`mtaio: the app stopped (${signal ?? code}); waiting for a change to restart it`);
      }
    });
  };

  /** Asks the running child to shut down; kills it if it takes too long. */
  const stopChild = (running: ChildProcess) => {
    if (running.connected) running.disconnect();
    else running.kill("SIGTERM");
    const kill = setTimeout(() => running.kill("SIGKILL"), STOP_GRACE_MS);
    kill.unref();
    running.once("exit", () => clearTimeout(kill));
  };

  const watcher = new TreeWatcher(
    options.dirs,
    resolvePatterns(options.include, options.exclude),
    (paths) => {
      if (stopping) return;
      const shown = paths.length === 1 ? paths[0] : `${paths[0]} and ${paths.length - 1} more`;
      log(`mtaio: ${shown} changed, restarting`);
      const running: ChildProcess | null = child;
      if (running === null) {
        start();
      } else if (!restartWanted) {
        // Changes that come while the old child shuts down are covered by the one restart.
        restartWanted = true;
        stopChild(running);
      }
    },
    (message) => log(`mtaio: reload: ${message}`),
  );
  log(`mtaio: watching ${options.dirs.join(", ")} for changes (--reload)`);
  start();

  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  stopping = true;
  watcher.close();
  // A second signal while waiting: give up on the child's graceful shutdown.
  const hurry = () => (child as ChildProcess | null)?.kill("SIGKILL");
  process.once("SIGINT", hurry);
  process.once("SIGTERM", hurry);
  const running = child as ChildProcess | null;
  if (running !== null && running.exitCode === null && running.signalCode === null) {
    const exited = once(running, "exit");
    stopChild(running);
    await exited;
  }
}
