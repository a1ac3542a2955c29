/**
 * `serve({ uds })` (uvicorn's `--uds`) over real Unix domain sockets: HTTP over the socket
 * path, `scope.server` as `[path, null]`, a stale socket file replaced, a regular file and a
 * socket a live server holds refused, the file removed on close, and the same with workers.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ASGIApp } from "../../../src/asgi/types.js";
import { ASGIError } from "../../../src/errors.js";
import { start } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "mtaio-uds-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const echoServer: ASGIApp = async (scope, _receive, send) => {
  if (scope.type !== "http") throw new Error("no lifespan");
  await send({ type: "http.response.start", status: 200, headers: [] });
  const body = JSON.stringify({ server: scope.server, client: scope.client, path: scope.path });
  await send({ type: "http.response.body", body: Buffer.from(body) });
};

/** GET `path` over the Unix socket at `socketPath`. */
function get(socketPath: string, path: string): Promise<{ status: number; body: string }> {
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

/** A socket file with nobody listening: what a server killed with SIGKILL leaves behind. */
async function staleSocket(path: string): Promise<void> {
  const script = `require("node:net").createServer().listen(${JSON.stringify(path)}, () => console.log("up"))`;
  const holder = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  await once(holder.stdout, "data");
  holder.kill("SIGKILL");
  await once(holder, "exit");
  assert.ok(lstatSync(path).isSocket());
}

describe("serve({ uds })", () => {
  it("serves HTTP on the socket path, with scope.server = [path, null], and removes it on close", async () => {
    const path = join(dir, "app.sock");
    const server = await start(echoServer, { uds: path });
    assert.equal(server.host, path);
    assert.equal(server.port, 0);
    assert.equal(server.url, `http+unix://${encodeURIComponent(path)}`);
    assert.ok(lstatSync(path).isSocket());
    const { status, body } = await get(path, "/hello");
    assert.equal(status, 200);
    assert.deepEqual(JSON.parse(body), { server: [path, null], client: null, path: "/hello" });
    await server.close();
    assert.equal(existsSync(path), false, "the socket file is gone after close()");
  });

  it("replaces a stale socket file left by a server that died", async () => {
    const path = join(dir, "stale.sock");
    await staleSocket(path);
    const server = await start(echoServer, { uds: path });
    assert.equal((await get(path, "/")).status, 200);
    await server.close();
  });

  it("refuses a path that is a regular file, and leaves the file alone", async () => {
    const path = join(dir, "not-a-socket");
    writeFileSync(path, "precious");
    await assert.rejects(
      start(echoServer, { uds: path }),
      (error: unknown) => error instanceof ASGIError && error.code === "ASGI_UDS_NOT_SOCKET",
    );
    assert.equal(readFileSync(path, "utf8"), "precious");
  });

  it("refuses a socket another server is listening on, and leaves that server running", async () => {
    const path = join(dir, "busy.sock");
    const first = await start(echoServer, { uds: path });
    await assert.rejects(
      start(echoServer, { uds: path }),
      (error: unknown) => error instanceof ASGIError && error.code === "ASGI_UDS_IN_USE",
    );
    assert.equal((await get(path, "/still")).status, 200);
    await first.close();
  });
});
