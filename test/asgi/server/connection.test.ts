import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ReceiveEvent } from "../../../src/asgi/types.js";
import { ASGIError } from "../../../src/errors.js";
import { gate, RawClient, sleep, start, textApp } from "./helpers.js";

describe("connections", () => {
  it("reuses a keep-alive connection for several requests", async () => {
    await using handle = await start(textApp((scope) => `${scope.path} ${scope.client?.[1]}`));
    const client = new RawClient(handle.port);
    await client.write("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
    await client.until((t) => t.includes("/one "), "first response");
    await client.write("GET /two HTTP/1.1\r\nHost: x\r\n\r\n");
    const text = await client.until((t) => t.includes("/two "), "second response");
    assert.equal(client.responses(), 2);
    assert.equal(client.closed, false);
    const ports = [...text.matchAll(/\/(?:one|two) (\d+)/g)].map((m) => m[1]);
    assert.equal(ports[0], ports[1], "same client port: same connection");
    assert.match(text, /keep-alive/i);
    client.destroy();
  });

  it("answers pipelined requests in order", async () => {
    await using handle = await start(textApp((scope) => `<${scope.path}>`));
    const client = new RawClient(handle.port);
    await client.write(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    const text = await client.untilClosed();
    assert.deepEqual(
      [...text.matchAll(/<(\/\w)>/g)].map((m) => m[1]),
      ["/a", "/b", "/c"],
    );
  });

  it("tells the app http.disconnect when the client leaves mid-stream, and send() rejects", async () => {
    const events = gate<{ receive: ReceiveEvent; sendError: unknown }>();
    const streaming = gate();
    await using handle = await start(async (scope, receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await receive(); // the (empty) body
      await send({ type: "http.response.start", status: 200 });
      await send({ type: "http.response.body", body: Buffer.from("tick\n"), more_body: true });
      streaming.open();
      const event = await receive(); // blocks until the client is gone
      let sendError: unknown;
      try {
        for (let i = 0; i < 100; i++) {
          await send({ type: "http.response.body", body: Buffer.from("tick\n"), more_body: true });
          await sleep(5);
        }
      } catch (error) {
        sendError = error;
      }
      events.open({ receive: event, sendError });
    });
    const client = new RawClient(handle.port);
    await client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await client.until((t) => t.includes("tick"), "the first chunk");
    await streaming.promise;
    client.destroy();
    const { receive, sendError } = await events.promise;
    assert.deepEqual(receive, { type: "http.disconnect" });
    assert.ok(sendError instanceof ASGIError);
    assert.equal(sendError.code, "ASGI_CLIENT_DISCONNECTED");
    await sleep(20);
    assert.equal(handle.logger.errors.length, 0, "a client leaving is not an app error");
  });

  it("tells the app http.disconnect when the client leaves during the upload", async () => {
    const events = gate<ReceiveEvent[]>();
    await using handle = await start(async (scope, receive) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      const seen: ReceiveEvent[] = [];
      for (;;) {
        const event = await receive();
        seen.push(event);
        if (event.type !== "http.request" || !event.more_body) break;
      }
      events.open(seen);
    });
    const client = new RawClient(handle.port);
    await client.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
    await sleep(50);
    client.destroy();
    const seen = await events.promise;
    assert.deepEqual(seen.at(-1), { type: "http.disconnect" });
    const bytes = seen.reduce((n, e) => n + (e.type === "http.request" ? e.body.byteLength : 0), 0);
    assert.equal(bytes, 10);
  });

  it("cuts off a client that sends its head too slowly (408)", async () => {
    await using handle = await start(textApp("never"), {
      headersTimeout: 300,
      requestTimeout: 600,
    });
    const client = new RawClient(handle.port);
    await client.write("GET / HTTP/1.1\r\nHost: x\r\n");
    const text = await client.untilClosed();
    assert.match(text, /^HTTP\/1\.1 408 /);
  });

  it("cuts off a client that sends its body too slowly", async () => {
    const app = gate<ReceiveEvent>();
    await using handle = await start(
      async (scope, receive) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        for (;;) {
          const event = await receive();
          if (event.type !== "http.request" || !event.more_body) return app.open(event);
        }
      },
      { headersTimeout: 200, requestTimeout: 400 },
    );
    const client = new RawClient(handle.port);
    await client.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12");
    await client.untilClosed();
    assert.deepEqual(await app.promise, { type: "http.disconnect" });
  });

  it("closes an idle keep-alive connection after keepAliveTimeout", async () => {
    await using handle = await start(textApp("ok"), { keepAliveTimeout: 200 });
    const client = new RawClient(handle.port);
    await client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await client.until((t) => t.endsWith("ok"), "the response");
    const text = await client.untilClosed();
    assert.equal(client.responses(), 1);
    assert.match(text, /keep-alive: timeout=/i);
  });

  it("writes an access log line per response when asked", async () => {
    const lines: string[] = [];
    await using handle = await start(textApp("ok", 201), {
      accessLog: true,
      logger: { error: () => {}, info: (line) => lines.push(line) },
    });
    await (await fetch(`${handle.url}/path?q=1`)).text();
    await sleep(10);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^127\.0\.0\.1:\d+ - "GET \/path\?q=1 HTTP\/1\.1" 201$/);
  });

  it("closes the connection of a client that stops reading (writeTimeout)", async () => {
    const outcome = gate<unknown>();
    const chunk = Buffer.alloc(1024 * 1024, 0x63);
    await using handle = await start(
      async (scope, _receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        await send({ type: "http.response.start", status: 200 });
        try {
          for (let i = 0; i < 1000; i++) {
            await send({ type: "http.response.body", body: chunk, more_body: true });
          }
          outcome.open("sent everything");
        } catch (error) {
          outcome.open(error);
        }
      },
      { writeTimeout: 300 },
    );
    const client = new RawClient(handle.port);
    client.socket.pause(); // reads nothing
    await client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const error = await outcome.promise;
    assert.ok(error instanceof ASGIError, String(error));
    assert.equal(error.code, "ASGI_CLIENT_DISCONNECTED");
    assert.match(handle.logger.errors[0].message, /read nothing for 300 ms/);
    client.destroy();
  });

  it("survives a burst of clients that abort at every stage, and keeps serving", async () => {
    await using handle = await start(async (scope, receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      for (;;) {
        const event = await receive();
        if (event.type !== "http.request" || !event.more_body) break;
      }
      await send({ type: "http.response.start", status: 200 });
      await send({
        type: "http.response.body",
        body: Buffer.from("x".repeat(100_000)),
        more_body: true,
      });
      await send({ type: "http.response.body" });
    });
    const stages = [
      "",
      "GET / HT",
      "GET / HTTP/1.1\r\nHost: x\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc",
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
    ];
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const client = new RawClient(handle.port);
        await client.write(stages[i % stages.length]);
        await sleep(i % 7);
        client.destroy();
      }),
    );
    const response = await fetch(handle.url);
    assert.equal(response.status, 200);
    assert.equal((await response.text()).length, 100_000);
    await sleep(50);
    assert.deepEqual(
      handle.logger.errors.map((e) => e.message),
      [],
      "aborted clients are not app errors",
    );
  });
});
