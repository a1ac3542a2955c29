/**
 * TestClient.websocket(): the framework's WebSocket routes driven in-process, as Starlette's
 * test client does: accept with a subprotocol, messages both ways, close codes both ways,
 * refusals (403 and an HTTP response), and an app's exception reaching the test.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ASGIApplication,
  Router,
  TestClient,
  TestWebSocketRefused,
} from "../../../src/asgi/app/index.js";

function chatApp(): TestClient {
  const events: string[] = [];
  const router = new Router()
    .websocket("/rooms/{room}", async (ws, { room }) => {
      await ws.accept({ subprotocol: ws.subprotocols[0] });
      await ws.sendJson({ joined: room });
      for await (const message of ws) {
        if (message.text === "bye") {
          await ws.close(4000, "asked to leave");
          return;
        }
        if (message.text !== undefined) await ws.sendText(`${room}: ${message.text}`);
        else await ws.sendBytes(message.bytes.map((b) => b ^ 0xff));
      }
      events.push("client left");
    })
    .websocket("/private", async (ws) => {
      await ws.close(1008);
    })
    .websocket("/boom", async (ws) => {
      await ws.accept();
      await ws.receiveText();
      throw new Error("kaboom");
    });
  const app = new ASGIApplication();
  app.include(router);
  return new TestClient(app);
}

describe("TestClient.websocket()", () => {
  it("talks to a route in-process: subprotocol, JSON, text, bytes and the app's close", async () => {
    const client = chatApp();
    const ws = await client.websocket("/rooms/lobby", { subprotocols: ["chat.v1", "chat.v2"] });
    assert.equal(ws.subprotocol, "chat.v1");
    assert.deepEqual(await ws.receiveJson(), { joined: "lobby" });
    ws.sendText("hello");
    assert.equal(await ws.receiveText(), "lobby: hello");
    ws.sendBytes(new Uint8Array([0, 1, 2]));
    assert.deepEqual([...(await ws.receiveBytes())], [255, 254, 253]);
    ws.sendText("bye");
    await assert.rejects(ws.receive(), { code: "ASGI_WEBSOCKET_CLOSED" });
    assert.equal(ws.closeCode, 4000);
    assert.equal(ws.closeReason, "asked to leave");
  });

  it("refuses: close before accept is 403, a path without a route is 403", async () => {
    const client = chatApp();
    await assert.rejects(client.websocket("/private"), (error: unknown) => {
      assert.ok(error instanceof TestWebSocketRefused);
      assert.equal(error.status, 403);
      return true;
    });
    await assert.rejects(client.websocket("/nowhere"), { code: "ASGI_WEBSOCKET_REFUSED" });
  });

  it("an exception in the app after accepting reaches the test", async () => {
    const ws = await chatApp().websocket("/boom");
    ws.sendText("go");
    await assert.rejects(ws.receive(), /kaboom/);
    assert.equal(ws.closeCode, 1011);
  });

  it("a raw ASGI app can refuse with its own HTTP response", async () => {
    const client = new TestClient(async (scope, receive, send) => {
      if (scope.type !== "websocket") return;
      await receive();
      await send({ type: "websocket.http.response.start", status: 401, headers: [] });
      await send({
        type: "websocket.http.response.body",
        body: new TextEncoder().encode("log in"),
      });
    });
    await assert.rejects(client.websocket("/"), (error: unknown) => {
      assert.ok(error instanceof TestWebSocketRefused);
      assert.equal(error.status, 401);
      assert.equal(new TextDecoder().decode(error.body), "log in");
      return true;
    });
  });
});
