import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
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
});
