/**
 * `limitConcurrency` (uvicorn's `--limit-concurrency`) over real sockets: with N requests or
 * WebSockets in the app, one more gets `503` with `Connection: close` and never reaches the
 * app; once one finishes, the next is served again.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import type { ServerHandle } from "../../../src/asgi/server/options.js";
import type { ASGIApp } from "../../../src/asgi/types.js";
import { gate, hasWholeResponse, RawClient, start } from "./helpers.js";

const servers: ServerHandle[] = [];
after(() => Promise.all(servers.map((server) => server.close())));

/** An app whose `/slow` requests (and WebSockets) wait for `release`; it counts what it sees. */
function slowApp() {
  const release = gate();
  const seen: string[] = [];
  const app: ASGIApp = async (scope, receive, send) => {
    if (scope.type === "lifespan") throw new Error("no lifespan");
    seen.push(`${scope.type} ${scope.path}`);
    if (scope.type === "websocket") {
      await receive();
      await send({ type: "websocket.accept" });
      await release.promise;
      await send({ type: "websocket.close", code: 1000 });
      return;
    }
    if (scope.path === "/slow") await release.promise;
    await send({ type: "http.response.start", status: 200, headers: [] });
    await send({ type: "http.response.body", body: Buffer.from(`done ${scope.path}`) });
  };
  return { app, release, seen };
}

async function waitFor(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * The first answer other than 503: the app's slot is given back just after its response went
 * out, so a request sent at once may still find the server full.
 */
async function servedAgain(url: string): Promise<Response> {
  for (;;) {
    const response = await fetch(url);
    if (response.status !== 503) return response;
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

describe("serve({ limitConcurrency })", () => {
  it("answers 503 with Connection: close beyond N requests, and serves again after", async () => {
    const { app, release, seen } = slowApp();
    const server = await start(app, { limitConcurrency: 2 });
    servers.push(server);
    const slow = [new RawClient(server.port), new RawClient(server.port)];
    for (const client of slow) await client.write(request("/slow"));
    await waitFor(() => seen.length === 2);

    // The third request, with a pipelined canary behind it on the same connection.
    const extra = new RawClient(server.port);
    await extra.write(request("/third") + request("/canary"));
    const refused = await extra.untilClosed();
    assert.match(refused, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(refused, /\r\nconnection: close\r\n/i);
    assert.match(refused, /\r\ncontent-length: 19\r\n/i);
    assert.ok(refused.endsWith("\r\n\r\nService Unavailable"), refused);
    assert.equal(extra.responses(), 1, "nothing behind the 503 is answered");
    assert.deepEqual(seen, ["http /slow", "http /slow"], "neither reached the app");

    release.open();
    for (const client of slow) {
      assert.match(await client.until(hasWholeResponse), /200 OK[\s\S]*done \/slow$/);
    }
    const response = await servedAgain(`${server.url}/after`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "done /after");
  });

  it("counts open WebSockets, and refuses one more with a 503", async () => {
    const { app, release, seen } = slowApp();
    const server = await start(app, { limitConcurrency: 1 });
    servers.push(server);
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/ws`);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));

    // An HTTP request while the WebSocket is open, then a second WebSocket.
    const busy = await fetch(`${server.url}/plain`);
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get("connection"), "close");
    const second = new WebSocket(`${server.url.replace("http", "ws")}/ws2`);
    const status = await new Promise<number>((resolve, reject) => {
      second.once("open", () => reject(new Error("accepted")));
      second.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
      second.once("error", () => {});
    });
    assert.equal(status, 503);
    assert.deepEqual(seen, ["websocket /ws"]);

    release.open();
    await new Promise((resolve) => ws.once("close", resolve));
    await waitFor(() => seen.length === 1); // nothing else was let in meanwhile
    const again = await servedAgain(`${server.url}/plain`);
    assert.equal(await again.text(), "done /plain");
  });

  it("refuses a limit that is not a positive integer", async () => {
    const { app } = slowApp();
    await assert.rejects(start(app, { limitConcurrency: 0 }), /limitConcurrency/);
    await assert.rejects(start(app, { limitConcurrency: 1.5 }), /limitConcurrency/);
  });
});
