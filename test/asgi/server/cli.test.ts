import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const cli = fileURLToPath(new URL("../../../src/cli.ts", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

function mtaio(...args: string[]): Run {
  const child = spawn(process.execPath, ["--import", "tsx", cli, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const run: Run = {
    child,
    stdout: "",
    stderr: "",
    exit: once(child, "exit").then(([code]) => {
      children.delete(child);
      return code as number | null;
    }),
  };
  child.stdout?.on("data", (data: Buffer) => {
    run.stdout += data.toString();
  });
  child.stderr?.on("data", (data: Buffer) => {
    run.stderr += data.toString();
  });
  return run;
}

/** The URL the CLI prints once it listens. */
async function listening(run: Run): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const match = /on (http:\/\/\S+)/.exec(run.stdout);
    if (match) return match[1];
    if (run.child.exitCode !== null) throw new Error(`mtaio exited: ${run.stderr}`);
    if (Date.now() > deadline) throw new Error(`mtaio did not start: ${run.stdout}${run.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves once `pattern` shows up in the CLI's output (or fails when it exits first). */
async function printed(run: Run, pattern: RegExp): Promise<RegExpExecArray> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const match = pattern.exec(run.stdout);
    if (match) return match;
    if (run.child.exitCode !== null) throw new Error(`mtaio exited: ${run.stdout}${run.stderr}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} in: ${run.stdout}${run.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** GET over a Unix domain socket. */
function getUnix(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: "localhost" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The body at `url` once it is not `previous` (the reloaded app answers differently). */
async function changedAnswer(url: string, previous: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const text = await (await fetch(url, { headers: { connection: "close" } })).text();
      if (text !== previous) return text;
    } catch {
      // Between two children nobody listens for a moment.
    }
    if (Date.now() > deadline) throw new Error(`${url} still answers ${previous}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mtaio-cli-"));
  tempDirs.push(dir);
  return dir;
}

/** An app module that answers every request with `text`. */
function writeApp(file: string, text: string): void {
  writeFileSync(
    file,
    `export default async function app(scope, _receive, send) {
  if (scope.type !== "http") throw new Error("no lifespan");
  await send({ type: "http.response.start", status: 200, headers: [["x-pid", String(process.pid)]] });
  await send({ type: "http.response.body", body: Buffer.from(${JSON.stringify(text)}) });
}
`,
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("mtaio serve (CLI)", () => {
  it("serves an ASGIApplication-like default export and stops on SIGTERM", async () => {
    const run = mtaio("serve", fixture("app-object.mjs"), "--port", "0");
    const url = await listening(run);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await (await fetch(url)).text(), "hello from an app object");
    run.child.kill("SIGTERM");
    assert.equal(await run.exit, 0);
  });

  it("serves a named `app` export with lifespan, shutting it down on SIGINT", async () => {
    const run = mtaio("serve", fixture("named-app.mjs"), "--port", "0", "--host", "127.0.0.1");
    const url = await listening(run);
    assert.equal(await (await fetch(url)).text(), "started=yes");
    run.child.kill("SIGINT");
    assert.equal(await run.exit, 0);
    assert.match(run.stdout, /fixture: lifespan shutdown/);
  });

  it("serves the export named after a colon", async () => {
    const run = mtaio(
      "serve",
      `${fixture("named-app.mjs")}:app`,
      "--port",
      "0",
      "--lifespan",
      "off",
    );
    const url = await listening(run);
    assert.equal(await (await fetch(url)).text(), "started=undefined");
    run.child.kill("SIGTERM");
    assert.equal(await run.exit, 0);
  });

  it("runs workers that share the port, replaces a dead one, and go away with the primary", async () => {
    const run = mtaio("serve", fixture("app-object.mjs"), "--port", "0", "--workers", "2");
    const url = await listening(run);
    assert.match(run.stdout, /2 workers/);
    const pids = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const response = await fetch(url, { headers: { connection: "close" } });
      assert.equal(await response.text(), "hello from an app object");
      pids.add(Number(response.headers.get("x-pid")));
    }
    assert.ok(!pids.has(run.child.pid!), "the primary does not serve");

    // A worker that dies is replaced; meanwhile the other one keeps serving.
    await assert.rejects(fetch(`${url}/crash`, { headers: { connection: "close" } }));
    const after = await fetch(url, { headers: { connection: "close" } });
    assert.equal(after.status, 200);
    pids.add(Number(after.headers.get("x-pid")));
    const deadline = Date.now() + 15_000;
    while (!/starting another/.test(run.stderr) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(run.stderr, /died \(3\); starting another/);
    for (let i = 0; i < 20; i++) {
      const response = await fetch(url, { headers: { connection: "close" } });
      pids.add(Number(response.headers.get("x-pid")));
    }
    run.child.kill("SIGTERM");
    assert.equal(await run.exit, 0);
    for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} exited`);
  });

  it("fails clearly for a module without an app, a bad option, an unknown command or a failed startup", async () => {
    const noApp = mtaio("serve", fixture("no-app.mjs"), "--port", "0");
    const badPort = mtaio("serve", fixture("app-object.mjs"), "--port", "nope");
    const unknown = mtaio("launch");
    const failing = mtaio("serve", fixture("failing-startup.mjs"), "--port", "0");
    const failingWorkers = mtaio("serve", fixture("failing-startup.mjs"), "--port", "0", "-w", "2");
    // 1 is a usage error in every mtaio command (as in mtaio mqtt); 3 a server that cannot start.
    assert.equal(await noApp.exit, 3);
    assert.match(noApp.stderr, /exports no ASGI app/);
    assert.equal(await badPort.exit, 1);
    assert.match(badPort.stderr, /--port must be a number/);
    assert.equal(await unknown.exit, 1);
    assert.match(unknown.stderr, /unknown command 'launch'/);
    for (const run of [failing, failingWorkers]) {
      assert.equal(await run.exit, 3);
      assert.match(run.stderr, /lifespan startup failed: cannot reach the database/);
    }
  });

  it("--uds serves on a Unix socket, with workers too, and removes it on exit", async () => {
    const dir = tempDir();
    for (const workers of ["1", "2"]) {
      const path = join(dir, `app-${workers}.sock`);
      const run = mtaio("serve", fixture("gated-app.mjs"), "--uds", path, "-w", workers);
      await printed(run, /on unix socket (\S+) \(/);
      assert.ok(lstatSync(path).isSocket());
      const { status, body } = await getUnix(path, "/hi");
      assert.equal(status, 200);
      assert.match(body, /^\/hi \d+$/);
      run.child.kill("SIGTERM");
      assert.equal(await run.exit, 0);
      assert.equal(existsSync(path), false, `socket file removed (${workers} worker(s))`);
    }
    const notSocket = join(dir, "file");
    writeFileSync(notSocket, "x");
    const refused = mtaio("serve", fixture("gated-app.mjs"), "--uds", notSocket);
    // A failed startup: exit 3, as uvicorn's.
    assert.equal(await refused.exit, 3);
    assert.match(refused.stderr, /exists and is not a socket/);
  });

  it("--limit-concurrency answers 503 beyond N requests in the app", async () => {
    const run = mtaio("serve", fixture("gated-app.mjs"), "--port", "0", "--limit-concurrency", "2");
    const url = await listening(run);
    const slow = [fetch(`${url}/slow`), fetch(`${url}/slow`)];
    // Wait until both are in the app: a third request is refused from then on.
    let refused: Response;
    for (;;) {
      refused = await fetch(`${url}/third`);
      if (refused.status === 503) break;
      await refused.text();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(refused.headers.get("connection"), "close");
    assert.equal(await refused.text(), "Service Unavailable");
    run.child.kill("SIGUSR2"); // the app lets the slow requests finish
    for (const response of await Promise.all(slow)) assert.equal(response.status, 200);
    run.child.kill("SIGTERM");
    assert.equal(await run.exit, 0);
  });

  it("--reload restarts the app when a watched source file changes", async () => {
    const dir = tempDir();
    const app = join(dir, "app.mjs");
    writeApp(app, "first");
    const run = mtaio("serve", app, "--port", "0", "--reload", "--reload-dir", dir);
    const url = await listening(run);
    assert.equal(await (await fetch(url)).text(), "first");
    const firstChild = Number((await fetch(url)).headers.get("x-pid"));
    assert.notEqual(firstChild, run.child.pid, "the app runs in a child process");

    writeApp(app, "second");
    assert.equal(await changedAnswer(url, "first"), "second", "same URL, new code");
    assert.match(run.stdout, /app\.mjs changed, restarting/);

    // A file that is not watched (not a source file name) restarts nothing.
    writeFileSync(join(dir, "notes.txt"), "ignored");
    // A syntax error: the child exits, the reloader waits; fixing the file brings it back.
    writeFileSync(app, "export default {{{");
    await printed(run, /the app stopped \(3\); waiting for a change/);
    writeApp(app, "third");
    assert.equal(await changedAnswer(url, "second"), "third");
    assert.doesNotMatch(run.stdout, /notes\.txt/);

    const lastChild = Number((await fetch(url)).headers.get("x-pid"));
    assert.equal(alive(firstChild), false, "the replaced child exited");
    run.child.kill("SIGTERM");
    assert.equal(await run.exit, 0);
    assert.equal(alive(lastChild), false, "the child stops with the reloader");
  });

  it("--reload: the app's process does not outlive a reloader killed with SIGKILL", async () => {
    const dir = tempDir();
    const app = join(dir, "app.mjs");
    writeApp(app, "orphan?");
    const run = mtaio("serve", app, "--port", "0", "--reload", "--reload-dir", dir);
    const url = await listening(run);
    const child = Number((await fetch(url)).headers.get("x-pid"));
    assert.ok(alive(child));
    run.child.kill("SIGKILL");
    await run.exit;
    const deadline = Date.now() + 15_000;
    while (alive(child) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(alive(child), false, "the child saw its IPC channel close and stopped");
  });

  it("--reload refuses --workers and a missing directory", async () => {
    const withWorkers = mtaio("serve", fixture("app-object.mjs"), "--reload", "-w", "2");
    const missing = mtaio(
      "serve",
      fixture("app-object.mjs"),
      "--reload",
      "--reload-dir",
      "/nope/x",
    );
    // Usage errors: exit 1, as mosquitto_pub's and `mtaio mqtt`'s.
    assert.equal(await withWorkers.exit, 1);
    assert.match(withWorkers.stderr, /--reload and --workers do not go together/);
    assert.equal(await missing.exit, 1);
    assert.match(missing.stderr, /is not a directory/);
  });
});
