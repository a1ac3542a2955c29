/**
 * Shared plumbing for the helpers that run real protocol servers in tests (one module per
 * server beside this one: mosquitto.ts, dovecot.ts, postfix.ts, …). Each helper:
 *   - checks its binary with `serverSkip()` (a loud skip locally, a failure under CI=true),
 *   - writes a config into a fresh temp directory (`tempDir()`),
 *   - picks a free loopback port (`freePort()`),
 *   - starts the server in the foreground with `startProcess()` and waits until it listens,
 *   - stops it (and removes the temp dir) in `stop()`.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { appendFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** True where `binary` can be run (PATH plus the sbin directories servers live in). */
export function hasBinary(binary: string): boolean {
  if (binary.includes("/")) return spawnSync("test", ["-x", binary]).status === 0;
  const path = `${process.env.PATH ?? ""}:/usr/sbin:/sbin:/usr/lib/postfix/sbin`;
  return (
    spawnSync("sh", ["-c", `command -v ${binary}`], { env: { ...process.env, PATH: path } })
      .status === 0
  );
}

/**
 * Use as `describe("…", { skip: serverSkip("mosquitto", "mosquitto") }, …)`.
 * Returns a skip reason when a binary is missing, printing a loud notice and recording it for
 * the summary of `npm test`. Under `CI=true` it never skips: the suite runs and fails, because
 * a skipped suite must not count as a pass there.
 */
export function serverSkip(binaries: string | string[], debianPackage: string): string | false {
  const missing = (Array.isArray(binaries) ? binaries : [binaries]).filter((b) => !hasBinary(b));
  if (missing.length === 0) return false;
  const reason = `${missing.join(", ")} not installed (Debian package ${debianPackage})`;
  console.error(`\n!!!!! SKIPPING real-server suite: ${reason} !!!!!\n`);
  if (process.env.MTAIO_SKIP_LOG) appendFileSync(process.env.MTAIO_SKIP_LOG, `${reason}\n`);
  return process.env.CI === "true" ? false : reason;
}

/** A free TCP port on 127.0.0.1 (bound once with port 0, then released). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs `start` again (at most `attempts` times) when it failed because a port taken from
 * `freePort()` was bound by someone else before the server could bind it: test files run in
 * parallel, and the port is free only when `freePort()` looks.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      const clash = /Address already in use|EADDRINUSE/.test(String((error as Error)?.message));
      if (!clash || attempt >= attempts) throw error;
    }
  }
}

export interface TempDir {
  path: string;
  file(name: string, content: string | Uint8Array): Promise<string>;
  remove(): Promise<void>;
}

/** A fresh directory under `parent` (the OS temp dir by default), removed by `remove()`. */
export async function tempDir(prefix: string, parent = tmpdir()): Promise<TempDir> {
  const path = await mkdtemp(join(parent, `mtaio-${prefix}-`));
  return {
    path,
    async file(name, content) {
      const file = join(path, name);
      await writeFile(file, content);
      return file;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** Resolves once something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForPort(port: number, host = "127.0.0.1", timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = netConnect({ port, host });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunningProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartProcessOptions {
  command: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves when the server is ready (typically `() => waitForPort(port)`). */
  ready: () => Promise<void>;
  readyTimeoutMs?: number;
}

/** Starts a server in the foreground; rejects with its output if it exits or is not ready. */
export async function startProcess(options: StartProcessOptions): Promise<RunningProcess> {
  const child = spawn(options.command, options.args ?? [], {
    env: {
      ...process.env,
      PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin`,
      ...options.env,
    },
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let exitedEarly = false;
  exited.then(() => {
    exitedEarly = true;
  });

  const running: RunningProcess = {
    child,
    output: () => output,
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };

  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      options.ready(),
      exited.then(() => {
        throw new Error("exited before it was ready");
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    await running.stop();
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${options.command} ${exitedEarly ? "exited" : "failed"}: ${why}\n--- output ---\n${output}`,
    );
  } finally {
    clearTimeout(timer);
  }
  return running;
}

export interface TestCertificates {
  /** PEM of the CA that signed the server and client certificates (trust this in clients). */
  ca: string;
  caFile: string;
  cert: string;
  certFile: string;
  key: string;
  keyFile: string;
  /** A client certificate signed by the same CA (for mutual TLS). */
  clientCert: string;
  clientCertFile: string;
  clientKey: string;
  clientKeyFile: string;
}

/** The names a test server certificate is made for, unless a test asks for others. */
const SERVER_NAMES = ["DNS:localhost", "IP:127.0.0.1", "IP:127.0.0.2", "IP:::1"];

/**
 * Makes a throw-away CA and a server certificate for `localhost` / 127.0.0.1 / 127.0.0.2 / ::1
 * (plus a client certificate) with openssl, into `dir`. Made at test time, never committed.
 * `serverNames` replaces the server certificate's names (subjectAltName entries such as
 * `DNS:wrong.invalid`): a certificate that does not match the host a client dials.
 */
export async function makeCertificates(
  dir: string,
  serverNames: readonly string[] = SERVER_NAMES,
): Promise<TestCertificates> {
  const p = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileAsync("openssl", args, { cwd: dir });
  await writeFile(
    p("server.ext"),
    `subjectAltName=${serverNames.join(",")}\nextendedKeyUsage=serverAuth\n`,
  );
  await writeFile(p("client.ext"), "extendedKeyUsage=clientAuth\n");
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=mtaio test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  for (const who of ["server", "client"]) {
    const cn = who === "server" ? serverNames[0].replace(/^\w+:/, "") : "mtaio test client";
    await openssl([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      `${who}.key`,
      "-out",
      `${who}.csr`,
    ]);
    await openssl([
      "x509",
      "-req",
      "-in",
      `${who}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-out",
      `${who}.pem`,
      "-extfile",
      `${who}.ext`,
    ]);
  }
  const { readFile } = await import("node:fs/promises");
  const read = (name: string) => readFile(p(name), "utf8");
  return {
    ca: await read("ca.pem"),
    caFile: p("ca.pem"),
    cert: await read("server.pem"),
    certFile: p("server.pem"),
    key: await read("server.key"),
    keyFile: p("server.key"),
    clientCert: await read("client.pem"),
    clientCertFile: p("client.pem"),
    clientKey: await read("client.key"),
    clientKeyFile: p("client.key"),
  };
}
