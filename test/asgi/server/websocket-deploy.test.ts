/**
 * WebSockets the way they are deployed: over TLS (`wss://`, verified against a test CA, with
 * `scope.scheme` "wss") and with `serve({ workers: 2 })` (node:cluster, from the built dist/),
 * where both workers take WebSocket connections on the one port and stopping the primary
 * closes them with 1001.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import type { ASGIApp } from "../../../src/asgi/types.js";
import {
  makeCertificates,
  serverSkip,
  type TempDir,
  type TestCertificates,
  tempDir,
} from "../../servers/common.js";
import { sleep, start } from "./helpers.js";

const distServer = new URL("../../../dist/asgi/server/index.js", import.meta.url);
const built = existsSync(fileURLToPath(distServer))
  ? false
  : "dist/ not built (npm run build; npm test builds it)";

/** Accepts and answers each text message with "<scheme> <pid>: <text>". */
const echo: ASGIApp = async (scope, receive, send) => {
  if (scope.type !== "websocket") return;
  await receive();
  await send({ type: "websocket.accept" });
  for (;;) {
    const event = await receive();
    if (event.type !== "websocket.receive") return;
    await send({ type: "websocket.send", text: `${scope.scheme} ${process.pid}: ${event.text}` });
  }
};

function open(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function ask(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once("message", (data: Buffer) => resolve(data.toString()));
    ws.send(text);
  });
}

describe("WebSockets over TLS (wss://)", { skip: serverSkip("openssl", "openssl") }, () => {
  let dir: TempDir;
  let certificates: TestCertificates;
  before(async () => {
    dir = await tempDir("asgi-wss");
    certificates = await makeCertificates(dir.path);
  });
  after(() => dir?.remove());

  it("accepts wss:// with scope.scheme wss, and a client that does not trust the CA fails", async () => {
    await using handle = await start(echo, {
      lifespan: "off",
      tls: { key: certificates.key, cert: certificates.cert },
    });
    const url = `wss://127.0.0.1:${handle.port}/ws`;
    const ws = await open(url, { ca: certificates.ca });
    assert.equal(await ask(ws, "secret"), `wss ${process.pid}: secret`);
    const closed = new Promise<number>((resolve) => ws.once("close", resolve));
    ws.close(1000);
    assert.equal(await closed, 1000);
    await assert.rejects(open(url), /self-signed|unable to verify|certificate/i);
  });
});

describe("WebSockets with serve({ workers: 2 })", () => {
  let child: ChildProcess | undefined;
  let dir: TempDir | undefined;
  after(async () => {
    child?.kill("SIGKILL");
    await dir?.remove();
  });

  it("both workers take WebSocket connections; stopping the primary closes them with 1001", {
    skip: built,
  }, async () => {
    dir = await tempDir("asgi-ws-workers");
    const script = await dir.file(
      "workers.mjs",
      `import cluster from "node:cluster";
import { serve } from ${JSON.stringify(distServer.href)};
const handle = await serve(
  async (scope, receive, send) => {
    if (scope.type !== "websocket") return;
    await receive();
    await send({ type: "websocket.accept" });
    for (;;) {
      const event = await receive();
      if (event.type !== "websocket.receive") return;
      await send({ type: "websocket.send", text: String(process.pid) });
    }
  },
  { port: 0, workers: 2, lifespan: "off" },
);
if (cluster.isPrimary) {
  console.log("primary on " + handle.url);
  process.once("SIGTERM", () => void handle.close().then(() => process.exit(0)));
}
`,
    );
    const spawned = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "pipe"] });
    child = spawned;
    let output = "";
    spawned.stdout?.on("data", (data: Buffer) => {
      output += data.toString();
    });
    spawned.stderr?.on("data", (data: Buffer) => {
      output += data.toString();
    });
    let url = "";
    for (let i = 0; i < 800 && url === ""; i++) {
      url = /http:\/\/(127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? "";
      if (spawned.exitCode !== null) break;
      await sleep(25);
    }
    assert.ok(url, `no URL printed: ${output}`);
    const sockets: WebSocket[] = [];
    const pids = new Set<string>();
    for (let i = 0; i < 16 && pids.size < 2; i++) {
      const ws = await open(`ws://${url}/ws`);
      sockets.push(ws);
      pids.add(await ask(ws, "who"));
    }
    assert.equal(pids.size, 2, "both workers answered");
    assert.ok(!pids.has(String(spawned.pid)), "the primary does not serve");
    const codes = Promise.all(
      sockets.map((ws) => new Promise<number>((resolve) => ws.once("close", resolve))),
    );
    const exited = new Promise<number | null>((resolve) => spawned.once("exit", resolve));
    spawned.kill("SIGTERM");
    assert.deepEqual(
      new Set(await codes),
      new Set([1001]),
      "every WebSocket was closed with 1001 (going away)",
    );
    assert.equal(await exited, 0, output);
  });
});
