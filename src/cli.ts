#!/usr/bin/env node
/**
 * The `mtaio` command. `mtaio serve ./app.js [--host H] [--port P] [--workers N|auto]` serves
 * the module's default export (or its `app` export): an `ASGIApplication` instance or a bare
 * ASGI callable. Ctrl-C (SIGINT) or SIGTERM closes gracefully; a second one exits at once.
 * With `--reload` this process only supervises: it runs `mtaio serve` again as a child and
 * restarts it when a source file changes (src/asgi/reload/).
 * `mtaio mqtt pub|sub …` is the MQTT command line (src/mqtt/cli/), loaded only when asked for.
 */
import cluster from "node:cluster";
import { readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { freePort, RELOAD_CHILD_ENV, superviseWithReload } from "./asgi/reload/supervisor.js";
import { loadApp } from "./asgi/server/app-loader.js";
import { runPrimary } from "./asgi/server/cluster.js";
import {
  type LifespanMode,
  resolveOptions,
  type ServeOptions,
  type ServerHandle,
} from "./asgi/server/options.js";
import { serve } from "./asgi/server/serve.js";

const USAGE = `Usage: mtaio serve <module>[:export] [options]
       mtaio mqtt pub|sub [options]   (mtaio mqtt --help)

Serve an ASGI app: the module's default export (or its export named "app", or the export
named after the colon), either an ASGIApplication instance or an async
(scope, receive, send) function.

Options:
  --host <host>               interface to bind (default 127.0.0.1)
  --port <port>, -p           TCP port, 0 for any free one (default 8000)
  --uds <path>                listen on this Unix domain socket instead of TCP
  --reload                    restart when a source file changes (development)
  --reload-dir <dir>          directory to watch, repeatable (default: the current one)
  --reload-include <glob>     also watch file names matching this, repeatable
                              (default *.ts *.mts *.cts *.tsx *.js *.mjs *.cjs *.jsx *.json)
  --reload-exclude <glob>     ignore names matching this, repeatable
                              (default .* node_modules *~ *.swp *.swx)
  --workers <n|auto>, -w      worker processes; "auto" = one per core (default 1)
  --body-limit <bytes>        largest request body accepted (default 1048576)
  --limit-concurrency <n>     answer 503 beyond n requests and WebSockets at once
  --lifespan <mode>           auto | on | off (default auto)
  --root-path <path>          ASGI root_path, when mounted below a prefix
  --access-log                print one line per response
  --headers-timeout <ms>      time a client has to send the request head (default 20000)
  --request-timeout <ms>      time a client has to send the whole request (default 60000)
  --keep-alive-timeout <ms>   how long an idle keep-alive connection stays open
                              (default 5000)
  --write-timeout <ms>        how long a response waits for a client that reads nothing
                              (default 60000)
  --shutdown-timeout <ms>     how long shutdown waits for in-flight requests (default 30000)
  --max-header-size <bytes>   largest request head (default 16384)
  --forwarded-allow-ips <list>
                              comma-separated proxy addresses trusted for X-Forwarded-For
                              and X-Forwarded-Proto ("*" = any)
  --ssl-keyfile <file>        serve HTTPS with this PEM private key ...
  --ssl-certfile <file>       ... and this PEM certificate (chain)
  -h, --help                  show this help
`;

/**
 * Exit statuses of `mtaio serve`. A usage error is 1 in every `mtaio` command, as in
 * `mtaio mqtt` (whose 2 means "no connection") and mosquitto_pub; a server that cannot load its
 * app or start (or stop) exits 3, uvicorn's status for a failed startup.
 */
const EXIT_USAGE = 1;
const EXIT_SERVER_FAILED = 3;

function fail(message: string): never {
  process.stderr.write(`mtaio: ${message}\n\n${USAGE}`);
  process.exit(EXIT_USAGE);
}

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed)) fail(`--${name} must be a number`);
  return parsed;
}

async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    fail((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const [command, specifier, ...extra] = positionals;
  if (command !== "serve")
    fail(command === undefined ? "no command given" : `unknown command '${command}'`);
  if (specifier === undefined) fail("serve needs the path of a module that exports an ASGI app");
  if (extra.length > 0) fail(`unexpected argument '${extra[0]}'`);
  const lifespan = values.lifespan as LifespanMode | undefined;
  if (lifespan !== undefined && !["auto", "on", "off"].includes(lifespan)) {
    fail("--lifespan must be auto, on or off");
  }
  const workers =
    values.workers === undefined || values.workers === "auto"
      ? values.workers
      : number("workers", values.workers);
  const keyFile = values["ssl-keyfile"];
  const certFile = values["ssl-certfile"];
  if ((keyFile === undefined) !== (certFile === undefined)) {
    fail("--ssl-keyfile and --ssl-certfile go together");
  }
  let tls: ServeOptions["tls"];
  if (keyFile !== undefined && certFile !== undefined) {
    try {
      tls = { key: readFileSync(keyFile), cert: readFileSync(certFile) };
    } catch (error) {
      fail(`cannot read the TLS key or certificate: ${(error as Error).message}`);
    }
  }
  const options: ServeOptions = {
    host: values.host,
    port: number("port", values.port),
    uds: values.uds,
    limitConcurrency: number("limit-concurrency", values["limit-concurrency"]),
    workers: workers as number | "auto" | undefined,
    bodyLimit: number("body-limit", values["body-limit"]),
    lifespan,
    rootPath: values["root-path"],
    accessLog: values["access-log"],
    headersTimeout: number("headers-timeout", values["headers-timeout"]),
    requestTimeout: number("request-timeout", values["request-timeout"]),
    keepAliveTimeout: number("keep-alive-timeout", values["keep-alive-timeout"]),
    writeTimeout: number("write-timeout", values["write-timeout"]),
    shutdownTimeout: number("shutdown-timeout", values["shutdown-timeout"]),
    maxHeaderSize: number("max-header-size", values["max-header-size"]),
    forwardedAllowIps: values["forwarded-allow-ips"]
      ?.split(",")
      .map((ip) => ip.trim())
      .filter(Boolean),
    tls,
  };

  let resolved: ReturnType<typeof resolveOptions>;
  try {
    resolved = resolveOptions(options, availableParallelism());
  } catch (error) {
    fail((error as Error).message); // an option out of range is a usage error
  }
  const reloadChild = process.env[RELOAD_CHILD_ENV] === "1";
  if (values.reload && !reloadChild) {
    if (resolved.workers > 1) fail("--reload and --workers do not go together");
    const dirs = (values["reload-dir"] ?? ["."]).map((dir) => resolve(dir));
    for (const dir of dirs) {
      if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
        fail(`--reload-dir ${dir} is not a directory`);
      }
    }
    // A port picked once, so that every restarted child listens on the same one.
    const port =
      resolved.uds === undefined && resolved.port === 0 ? await freePort(resolved.host) : null;
    await superviseWithReload({
      args: port === null ? argv : [...argv, "--port", String(port)],
      dirs,
      include: values["reload-include"] ?? [],
      exclude: values["reload-exclude"] ?? [],
      log: (line) => process.stdout.write(`${line}\n`),
    });
    process.exit(0);
  }
  let handle: ServerHandle;
  try {
    if (resolved.workers > 1 && cluster.isPrimary) {
      // The primary only supervises; each worker runs this command again and loads the app.
      handle = await runPrimary(resolved);
    } else {
      handle = await serve(await loadApp(specifier), options);
      if (cluster.isWorker) return; // the worker's shutdown is driven by the primary
    }
  } catch (error) {
    process.stderr.write(`mtaio: ${(error as Error)?.message ?? String(error)}\n`);
    process.exit(EXIT_SERVER_FAILED);
  }
  const plural = handle.workers === 1 ? "" : `${handle.workers} workers, `;
  const where = resolved.uds === undefined ? handle.url : `unix socket ${resolved.uds}`;
  process.stdout.write(`mtaio: serving ${specifier} on ${where} (${plural}Ctrl-C to stop)\n`);

  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stdout.write(`mtaio: ${reason}, shutting down\n`);
    handle.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`mtaio: shutdown failed: ${String(error)}\n`);
        process.exit(EXIT_SERVER_FAILED);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  if (reloadChild && process.connected) {
    // The reloader closes the IPC channel to ask for a graceful stop (a restart), and the
    // channel also closes if the reloader dies: either way this child must not outlive it.
    delete process.env[RELOAD_CHILD_ENV];
    process.channel?.unref();
    process.once("disconnect", () => {
      if (!stopping) stop("asked by the reloader");
    });
  }
}

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      host: { type: "string" },
      port: { type: "string", short: "p" },
      uds: { type: "string" },
      reload: { type: "boolean" },
      "reload-dir": { type: "string", multiple: true },
      "reload-include": { type: "string", multiple: true },
      "reload-exclude": { type: "string", multiple: true },
      "limit-concurrency": { type: "string" },
      workers: { type: "string", short: "w" },
      "body-limit": { type: "string" },
      lifespan: { type: "string" },
      "root-path": { type: "string" },
      "access-log": { type: "boolean" },
      "headers-timeout": { type: "string" },
      "request-timeout": { type: "string" },
      "keep-alive-timeout": { type: "string" },
      "write-timeout": { type: "string" },
      "shutdown-timeout": { type: "string" },
      "max-header-size": { type: "string" },
      "forwarded-allow-ips": { type: "string" },
      "ssl-keyfile": { type: "string" },
      "ssl-certfile": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** `mtaio mqtt …`: its own flags (mosquitto's, where -h is the host), so it is routed first. */
async function mqtt(argv: string[]): Promise<void> {
  const { runMqttCommand } = await import("./mqtt/cli/main.js");
  const stop = new AbortController();
  let signals = 0;
  const onSignal = () => {
    // The first Ctrl-C ends `sub` cleanly (DISCONNECT, exit 0); a second one exits at once.
    if (++signals > 1) process.exit(130);
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // The reader of our output went away (`mtaio mqtt sub … | head -1`): stop like Ctrl-C
  // rather than crash on EPIPE.
  process.stdout.on("error", () => stop.abort());
  const code = await runMqttCommand(argv, {
    // A getter: opening stdin when no option reads it could keep the process alive.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    stop: stop.signal,
  });
  process.exitCode = code;
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  // Normally nothing is left and the process ends as soon as the socket has closed; the
  // unref'd timer only matters if something (an unread stdin, say) would keep it alive.
  setTimeout(() => process.exit(code), 2000).unref();
}

const argv = process.argv.slice(2);
if (argv[0] === "mqtt") void mqtt(argv.slice(1));
else void main(argv);
