/**
 * The ASGI `websocket` scope on `serve()`, over real sockets with the `ws` client: accept,
 * messages both ways, subprotocols and extra headers, refusals (close → 403, an HTTP response
 * through `websocket.http.response`, an app that returns or throws before accepting), the
 * message size limit (1009), server shutdown (1001) and malformed handshakes.
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { connect } from "node:net";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import { ASGIApplication } from "../../../src/asgi/app/index.js";
import { serve } from "../../../src/asgi/server/index.js";
import type { ServeOptions, ServerHandle } from "../../../src/asgi/server/options.js";
import type { ASGIApp, ReceiveEvent, WebSocketScope } from "../../../src/asgi/types.js";

const servers: ServerHandle[] = [];
const quiet = { error: () => {}, info: () => {} };

async function start(app: ASGIApp, options: ServeOptions = {}): Promise<ServerHandle> {
  const server = await serve(app, { port: 0, lifespan: "off", logger: quiet, ...options });
  servers.push(server);
  return server;
}

const wsURL = (server: ServerHandle, path = "/ws") => `${server.url.replace("http", "ws")}${path}`;

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
}

function refused(
  ws: WebSocket,
): Promise<{ status: number; body: string; headers: IncomingMessage["headers"] }> {
  return new Promise((resolve, reject) => {
    ws.once("open", () => reject(new Error("the handshake was accepted")));
    ws.once("error", () => {});
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

/** An echo app that records what it saw. */
function echoApp(seen: { scope?: WebSocketScope; events: ReceiveEvent[] }): ASGIApp {
  return async (scope, receive, send) => {
    if (scope.type !== "websocket") return;
    seen.scope = scope;
    const connect = await receive();
    seen.events.push(connect);
    await send({
      type: "websocket.accept",
      subprotocol: scope.subprotocols.includes("chat.v2") ? "chat.v2" : null,
      headers: [["x-accepted-by", "mtaio"]],
    });
    for (;;) {
      const event = await receive();
      seen.events.push(event);
      if (event.type === "websocket.disconnect") return;
      if (event.type !== "websocket.receive") continue;
      if (event.text !== undefined)
        await send({ type: "websocket.send", text: `echo: ${event.text}` });
      else if (event.bytes) await send({ type: "websocket.send", bytes: event.bytes });
    }
  };
}

describe("serve(): ASGI websocket scope", () => {
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it("accepts, echoes text and bytes, and reports the client's close code", async () => {
    const seen: { scope?: WebSocketScope; events: ReceiveEvent[] } = { events: [] };
    const server = await start(echoApp(seen));
    const ws = new WebSocket(`${wsURL(server, "/ws/caf%C3%A9")}?room=1`, ["chat.v1", "chat.v2"]);
    let upgradeHeaders: IncomingMessage["headers"] = {};
    ws.once("upgrade", (res) => {
      upgradeHeaders = res.headers;
    });
    await opened(ws);
    assert.equal(ws.protocol, "chat.v2");
    assert.equal(upgradeHeaders["x-accepted-by"], "mtaio");
    const replies: string[] = [];
    const got = new Promise<void>((resolve) =>
      ws.on("message", (data, isBinary) => {
        replies.push(
          isBinary ? `bytes:${Buffer.from(data as Buffer).toString("hex")}` : data.toString(),
        );
        if (replies.length === 2) resolve();
      }),
    );
    ws.send("こんにちは");
    ws.send(Buffer.from([1, 2, 3]));
    await got;
    assert.deepEqual(replies, ["echo: こんにちは", "bytes:010203"]);
    const done = closed(ws);
    ws.close(4000, "bye");
    await done;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const scope = seen.scope as WebSocketScope;
    assert.equal(scope.type, "websocket");
    assert.equal(scope.scheme, "ws");
    assert.equal(scope.path, "/ws/café");
    assert.equal(Buffer.from(scope.query_string).toString(), "room=1");
    assert.deepEqual(scope.subprotocols, ["chat.v1", "chat.v2"]);
    assert.ok(scope.headers.some(([name]) => name === "sec-websocket-key"));
    assert.deepEqual(seen.events[0], { type: "websocket.connect" });
    assert.deepEqual(seen.events.at(-1), {
      type: "websocket.disconnect",
      code: 4000,
      reason: "bye",
    });
  });

  it("refuses with 403 on websocket.close before accept, and when the app returns first", async () => {
    const server = await start(async (scope, receive, send) => {
      if (scope.type !== "websocket") return;
      await receive();
      if (scope.path === "/close") await send({ type: "websocket.close", code: 1008 });
    });
    assert.equal((await refused(new WebSocket(wsURL(server, "/close")))).status, 403);
    assert.equal((await refused(new WebSocket(wsURL(server, "/return")))).status, 403);
  });

  it("an app that throws before accepting gives 500", async () => {
    const server = await start(async (scope) => {
      if (scope.type === "websocket") throw new Error("boom");
    });
    assert.equal((await refused(new WebSocket(wsURL(server)))).status, 500);
  });

  it("refuses with the app's own HTTP response (websocket.http.response)", async () => {
    const server = await start(async (scope, receive, send) => {
      if (scope.type !== "websocket") return;
      assert.ok(scope.extensions?.["websocket.http.response"]);
      await receive();
      await send({
        type: "websocket.http.response.start",
        status: 401,
        headers: [["www-authenticate", 'Bearer realm="chat"']],
      });
      await send({
        type: "websocket.http.response.body",
        body: Buffer.from("log in"),
        more_body: true,
      });
      await send({ type: "websocket.http.response.body", body: Buffer.from(" first") });
    });
    const answer = await refused(new WebSocket(wsURL(server)));
    assert.equal(answer.status, 401);
    assert.equal(answer.body, "log in first");
    assert.equal(answer.headers["www-authenticate"], 'Bearer realm="chat"');
  });

  it("closes with 1009 on a message over the limit, and the app sees the disconnect", async () => {
    const seen: { scope?: WebSocketScope; events: ReceiveEvent[] } = { events: [] };
    const server = await start(echoApp(seen), { websocketMaxMessageSize: 1024 });
    const ws = new WebSocket(wsURL(server));
    await opened(ws);
    const done = closed(ws);
    ws.send(Buffer.alloc(2000));
    assert.equal((await done).code, 1009);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((seen.events.at(-1) as { code?: number }).code, 1009);
  });

  it("close() of the server closes open WebSockets with 1001", async () => {
    const seen: { scope?: WebSocketScope; events: ReceiveEvent[] } = { events: [] };
    const server = await serve(echoApp(seen), { port: 0, lifespan: "off", logger: quiet });
    const ws = new WebSocket(wsURL(server));
    await opened(ws);
    const done = closed(ws);
    await server.close();
    assert.equal((await done).code, 1001);
  });

  it("refuses malformed handshakes before the app runs (400, 426)", async () => {
    let calls = 0;
    const server = await start(async (scope) => {
      if (scope.type === "websocket") calls++;
    });
    const raw = (head: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(server.port, "127.0.0.1", () => socket.write(head));
        let text = "";
        socket.on("data", (chunk) => {
          text += chunk.toString("latin1");
        });
        socket.on("end", () => resolve(text));
        socket.on("error", reject);
      });
    const base = `GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n`;
    const noKey = await raw(`${base}Sec-WebSocket-Version: 13\r\n\r\n`);
    assert.match(noKey, /^HTTP\/1\.1 400 /);
    const oldVersion = await raw(
      `${base}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n`,
    );
    assert.match(oldVersion, /^HTTP\/1\.1 426 /);
    assert.match(oldVersion, /Sec-WebSocket-Version: 13/);
    const twoHosts = await raw(
      `${base}Host: evil\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    assert.match(twoHosts, /^HTTP\/1\.1 400 /);
    assert.equal(calls, 0);
  });

  it("ASGIApplication, which has no WebSocket routes yet, refuses with 403", async () => {
    const server = await start(new ASGIApplication().asgi);
    assert.equal((await refused(new WebSocket(wsURL(server)))).status, 403);
  });
});
