/**
 * The framework's body readers take events mtaio's server already holds without waiting on a
 * promise when the server's own receive() reaches them (src/asgi/fast-path.ts). These tests pin
 * down that the shortcut changes nothing but timing: the same body as through plain ASGI
 * events, a body split across reads still arrives whole, limits and disconnects come out as
 * before, and a wrapped receive() gets no shortcut.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ASGIApplication,
  ASGIMiddleware,
  type Request,
  Response,
  Router,
} from "../../src/asgi/app/index.js";
import { DIRECT_RECEIVE, type DirectReceive } from "../../src/asgi/fast-path.js";
import type { Receive, ReceiveEvent, Scope, Send } from "../../src/asgi/types.js";
import { gate, hasWholeResponse, RawClient, responseBody, sleep, start } from "./server/helpers.js";

/** Forwards every receive() and counts them: receive() is no longer the server's. */
class ReceiveCounter extends ASGIMiddleware {
  static calls = 0;
  override async call(scope: Scope, receive: Receive, send: Send): Promise<void> {
    await this.app(
      scope,
      () => {
        ReceiveCounter.calls++;
        return receive();
      },
      send,
    );
  }
}

/** True when `promise` is already resolved: its reaction runs before that of a later one. */
async function settledAtOnce(promise: Promise<unknown>): Promise<boolean> {
  promise.catch(() => {});
  const later = Symbol("later");
  return (await Promise.race([promise, Promise.resolve(later)])) !== later;
}

function echoApp(options: { middleware?: boolean; maxBodySize?: number } = {}) {
  const seen: { atOnce: boolean | undefined } = { atOnce: undefined };
  const started = gate();
  const router = new Router();
  router.post("/echo", async (request: Request) => {
    const parsed = request.json(); // takes what the server holds, synchronously
    started.open();
    seen.atOnce = await settledAtOnce(parsed);
    return Response.json({ got: await parsed, text: await request.text() });
  });
  const app = new ASGIApplication({ maxBodySize: options.maxBodySize }).include(router);
  if (options.middleware) app.addMiddleware(ReceiveCounter);
  return { app, seen, started: started.promise };
}

const BODY = JSON.stringify({ name: "mtaio", tags: ["ä", "✓"], nested: { n: 1 } });

function post(port: number, body: string) {
  return fetch(`http://127.0.0.1:${port}/echo`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
}

/** The response body of a POST whose head and body go out in one write (one TCP segment). */
async function postInOneWrite(port: number, body: string): Promise<string> {
  const bytes = Buffer.from(body);
  const client = new RawClient(port);
  await client.write(
    Buffer.concat([
      Buffer.from(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          `Content-Length: ${bytes.byteLength}\r\n\r\n`,
      ),
      bytes,
    ]),
  );
  const text = await client.until(hasWholeResponse, "the echo");
  client.destroy();
  return responseBody(text);
}

describe("the framework's direct body read from mtaio's server", () => {
  it("reads the same body as plain ASGI events do, parsed without waiting when it came whole", async () => {
    const direct = echoApp();
    const wrapped = echoApp({ middleware: true });
    await using directServer = await start(direct.app.asgi);
    await using wrappedServer = await start(wrapped.app.asgi);
    ReceiveCounter.calls = 0;
    const viaEvents = await postInOneWrite(wrappedServer.port, BODY);
    assert.ok(ReceiveCounter.calls >= 1, "the middleware's receive() was used");
    assert.equal(wrapped.seen.atOnce, false, "through events, json() waits for receive()");
    const viaDirect = await postInOneWrite(directServer.port, BODY);
    assert.equal(viaDirect, viaEvents);
    assert.deepEqual(JSON.parse(viaDirect), { got: JSON.parse(BODY), text: BODY });
    assert.equal(direct.seen.atOnce, true, "the buffered body was parsed at once");
  });

  it("a body split across reads is gathered from the taken part and the awaited rest", async () => {
    const { app, seen, started } = echoApp();
    await using handle = await start(app.asgi);
    const bytes = Buffer.from(BODY);
    const client = new RawClient(handle.port);
    await client.write(
      Buffer.concat([
        Buffer.from(
          `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${bytes.byteLength}\r\n\r\n`,
        ),
        bytes.subarray(0, 10),
      ]),
    );
    await started; // the handler has asked for the body, with only what has arrived so far
    await client.write(bytes.subarray(10));
    const text = await client.until(hasWholeResponse, "the echo");
    client.destroy();
    const answer = JSON.parse(responseBody(text));
    assert.deepEqual(answer, { got: JSON.parse(BODY), text: BODY });
    assert.equal(seen.atOnce, false, "the rest had to be waited for");
  });

  it("the framework's limit holds across the taken and the awaited parts: 413", async () => {
    const { app } = echoApp({ maxBodySize: 16 });
    await using handle = await start(app.asgi);
    for (const split of [false, true]) {
      const client = new RawClient(handle.port);
      await client.write(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          "Transfer-Encoding: chunked\r\n\r\n" +
          "a\r\n[1,2,3,4,5\r\n",
      );
      if (split) await sleep(50);
      await client.write("a\r\n,6,7,8,9]\r\n0\r\n\r\n");
      const text = await client.until((t) => t.includes("\r\n\r\n"), "the 413");
      client.destroy();
      assert.match(text, /^HTTP\/1\.1 413 /, `split=${split}`);
    }
  });

  it("a client that leaves mid-body: the reader gets a disconnect, the server keeps serving", async () => {
    const failed = gate<unknown>();
    const router = new Router();
    router.post("/echo", async (request: Request) => {
      try {
        return Response.json(await request.json());
      } catch (error) {
        failed.open(error);
        throw error;
      }
    });
    await using handle = await start(new ASGIApplication().include(router).asgi);
    const client = new RawClient(handle.port);
    await client.write(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    await sleep(50);
    client.destroy();
    const error = (await failed.promise) as { statusCode?: number; code?: string };
    assert.equal(error.code, "HTTP_DISCONNECTED");
    assert.deepEqual(await (await post(handle.port, "[1]")).json(), [1]);
  });

  it("only the server's own receive() carries the mark; receiveNow() defers to a pending receive()", async () => {
    let checked = false;
    await using handle = await start(async (scope, receive, send) => {
      if (scope.type !== "http") return;
      const direct = (receive as DirectReceive)[DIRECT_RECEIVE];
      assert.ok(direct !== undefined, "the server's receive() is marked");
      const first = direct.receiveNow() as ReceiveEvent;
      assert.equal(first.type, "http.request");
      // The request is answered; the next event is the disconnect, once the client goes. While
      // a receive() waits for it, receiveNow() takes nothing and a second receive() still fails.
      await send({ type: "http.response.start", status: 200, headers: [] });
      const pending = receive();
      assert.equal(direct.receiveNow(), null);
      await assert.rejects(receive(), /before it resolved/);
      await send({ type: "http.response.body", body: Buffer.from("ok") });
      assert.equal((await pending).type, "http.disconnect");
      checked = true;
    });
    assert.equal(await (await fetch(handle.url)).text(), "ok");
    assert.equal(checked, true);
    const wrapped: Receive = () => Promise.resolve({ type: "http.disconnect" });
    assert.equal((wrapped as DirectReceive)[DIRECT_RECEIVE], undefined);
  });
});
