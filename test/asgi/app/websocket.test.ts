/**
 * The framework's WebSocket routes over a real socket (serve() + the `ws` client): accept with
 * a subprotocol, typed path parameters, text/bytes/JSON both ways, `for await`, close codes,
 * refusal, middleware seeing websocket scopes, and an HTTP request to a WebSocket-only path.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import WS from "ws";
import {
  ASGIApplication,
  ASGIMiddleware,
  Router,
  type WebSocket,
} from "../../../src/asgi/app/index.js";
import { serve } from "../../../src/asgi/server/index.js";
import type { ServerHandle } from "../../../src/asgi/server/options.js";
import type { Receive, Scope, Send } from "../../../src/asgi/types.js";

const quiet = { error: () => {}, info: () => {} };
const servers: ServerHandle[] = [];

/** Messages are queued from the start: the first may arrive with the handshake's answer. */
const inbox = new WeakMap<WS, { queue: Buffer[]; waiter?: (data: Buffer) => void }>();

function open(url: string, protocols?: string[]): Promise<WS> {
  return new Promise((resolve, reject) => {
    const ws = new WS(url, protocols);
    const box: { queue: Buffer[]; waiter?: (data: Buffer) => void } = { queue: [] };
    inbox.set(ws, box);
    ws.on("message", (data) => {
      const waiter = box.waiter;
      box.waiter = undefined;
      if (waiter) waiter(data as Buffer);
      else box.queue.push(data as Buffer);
    });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

function nextData(ws: WS): Promise<Buffer> {
  const box = inbox.get(ws);
  if (!box) throw new Error("not opened with open()");
  const queued = box.queue.shift();
  if (queued) return Promise.resolve(queued);
  return new Promise((resolve) => {
    box.waiter = resolve;
  });
}

const nextMessage = async (ws: WS): Promise<string> => (await nextData(ws)).toString();

describe("Router.websocket and the WebSocket object", () => {
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it("routes by path with typed params, accepts a subprotocol, and talks text, bytes and JSON", async () => {
    const seen: string[] = [];
    const router = new Router().websocket(
      "/chat/{room}/{id:int}",
      async (ws: WebSocket, { room, id }) => {
        assert.deepEqual(ws.subprotocols, ["v1", "v2"]);
        await ws.accept({ subprotocol: "v2", headers: { "X-Room": room } });
        await ws.sendJson({ room, id, double: id * 2 });
        const bytes = await ws.receiveBytes();
        await ws.sendBytes(bytes.map((b) => b + 1));
        const json = (await ws.receiveJson()) as { hello: string };
        await ws.sendText(`hello ${json.hello}`);
        for await (const message of ws) seen.push(message.text ?? "bytes");
        seen.push("ended");
      },
    );
    const app = new ASGIApplication();
    app.include(router);
    const server = await serve(app.asgi, { port: 0, lifespan: "off", logger: quiet });
    servers.push(server);
    const ws = await open(`${server.url.replace("http", "ws")}/chat/lobby/21`, ["v1", "v2"]);
    assert.equal(ws.protocol, "v2");
    assert.deepEqual(JSON.parse(await nextMessage(ws)), { room: "lobby", id: 21, double: 42 });
    ws.send(Buffer.from([1, 2, 3]));
    assert.deepEqual([...(await nextData(ws))], [2, 3, 4]);
    ws.send(JSON.stringify({ hello: "世界" }));
    assert.equal(await nextMessage(ws), "hello 世界");
    ws.send("a");
    ws.send("b");
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    ws.close(1000);
    assert.equal(await closed, 1000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(seen, ["a", "b", "ended"]);
  });

  it("refuses a path without a WebSocket route (403), a close() before accept (403), and 404s HTTP to a WebSocket path", async () => {
    const router = new Router()
      .websocket("/private", async (ws) => {
        await ws.close(1008);
      })
      .websocket("/only-ws", async (ws) => {
        await ws.accept();
      });
    const app = new ASGIApplication();
    app.include(router);
    const server = await serve(app.asgi, { port: 0, lifespan: "off", logger: quiet });
    servers.push(server);
    const base = server.url.replace("http", "ws");
    await assert.rejects(open(`${base}/nowhere`), /HTTP 403/);
    await assert.rejects(open(`${base}/private`), /HTTP 403/);
    const http = await fetch(`${server.url}/only-ws`);
    assert.equal(http.status, 404);
  });

  it("middleware sees websocket scopes and may refuse them", async () => {
    class DenyEvil extends ASGIMiddleware {
      override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
        if (scope.type === "websocket" && scope.path.includes("evil")) {
          await receive();
          await send({ type: "websocket.close", code: 1008 });
          return;
        }
        await this.app(scope, receive, send);
      }
    }
    const router = new Router().websocket("/ws/{name}", async (ws, { name }) => {
      await ws.accept();
      await ws.sendText(name);
      await ws.close(4001, "done");
    });
    const app = new ASGIApplication();
    app.include(router);
    app.addMiddleware(DenyEvil);
    const server = await serve(app.asgi, { port: 0, lifespan: "off", logger: quiet });
    servers.push(server);
    const base = server.url.replace("http", "ws");
    await assert.rejects(open(`${base}/ws/evil`), /HTTP 403/);
    const ws = new WS(`${base}/ws/good`);
    const text = new Promise<string>((resolve) =>
      ws.once("message", (data) => resolve(data.toString())),
    );
    const closed = new Promise<[number, string]>((resolve) =>
      ws.once("close", (code, reason) => resolve([code, reason.toString()])),
    );
    assert.equal(await text, "good");
    assert.deepEqual(await closed, [4001, "done"]);
  });
});
