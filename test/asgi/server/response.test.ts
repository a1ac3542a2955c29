import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ASGIApp, ASGIHeaders } from "../../../src/asgi/types.js";
import { ASGIError } from "../../../src/errors.js";
import { gate, RawClient, sleep, start, textApp } from "./helpers.js";

describe("responses", () => {
  it("adds Content-Length to a whole body and keeps the app's headers", async () => {
    await using handle = await start(async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await send({
        type: "http.response.start",
        status: 201,
        headers: [
          ["content-type", "application/json"],
          ["set-cookie", "a=1"],
          ["set-cookie", "b=2"],
        ],
      });
      await send({ type: "http.response.body", body: Buffer.from('{"ok":true}') });
    });
    const response = await fetch(handle.url);
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("content-length"), "11");
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
    assert.equal(await response.text(), '{"ok":true}');
  });

  it("sends every byte value of a small and a large whole body unchanged", async () => {
    // Small bodies take a different write path (latin1 text) than large ones (a Buffer); a
    // Uint8Array view with an offset checks that only the viewed bytes go out.
    const all = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
    const backing = new Uint8Array(300).fill(0x21);
    backing.set(all, 20);
    const small = backing.subarray(20, 276);
    const large = Buffer.alloc(4096 + 256);
    for (let i = 0; i < large.length; i++) large[i] = (i * 7) & 0xff;
    await using handle = await start(async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await send({ type: "http.response.start", status: 200 });
      await send({ type: "http.response.body", body: scope.path === "/small" ? small : large });
    });
    for (const [path, expected] of [
      ["/small", all],
      ["/large", large],
    ] as const) {
      const response = await fetch(`${handle.url}${path}`);
      assert.equal(response.headers.get("content-length"), String(expected.byteLength));
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), new Uint8Array(expected));
    }
  });

  it("streams chunks in order with chunked encoding", async () => {
    await using handle = await start(async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await send({ type: "http.response.start", status: 200 });
      for (const part of ["one ", "two ", "three"]) {
        await send({ type: "http.response.body", body: Buffer.from(part), more_body: true });
      }
      await send({ type: "http.response.body" });
    });
    const response = await fetch(handle.url);
    assert.equal(response.headers.get("transfer-encoding"), "chunked");
    assert.equal(await response.text(), "one two three");
  });

  it("makes send() wait for drain while the client does not read", async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x62);
    const total = 64;
    let sent = 0;
    await using handle = await start(async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await send({
        type: "http.response.start",
        status: 200,
        headers: [["content-length", String(total * chunk.length)]],
      });
      for (let i = 0; i < total; i++) {
        await send({ type: "http.response.body", body: chunk, more_body: i < total - 1 });
        sent++;
      }
    });
    const client = new RawClient(handle.port);
    client.socket.pause();
    await client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await sleep(300);
    assert.ok(sent < total, `send() kept resolving without a reader (${sent} of ${total})`);
    let bytes = 0;
    client.socket.removeAllListeners("data");
    client.socket.on("data", (data: string) => {
      bytes += data.length;
    });
    client.socket.resume();
    while (sent < total || bytes < total * chunk.length) await sleep(10);
    assert.ok(bytes > total * chunk.length, "head and the whole body arrived");
    client.destroy();
  });

  it("sends no body for HEAD but keeps the GET Content-Length", async () => {
    await using handle = await start(textApp("hello"));
    const response = await fetch(handle.url, { method: "HEAD" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-length"), "5");
    assert.equal(await response.text(), "");
  });

  it("keeps the app's own framing header, in any case, and adds no second one", async () => {
    for (const [name, value, body] of [
      ["content-length", "5", "hello"],
      ["Content-Length", "5", "hello"],
      ["CONTENT-LENGTH", "5", "hello"],
      ["Transfer-Encoding", "chunked", "5\r\nhello\r\n0\r\n\r\n"],
    ] as const) {
      await using handle = await start(async (scope, _receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        await send({ type: "http.response.start", status: 200, headers: [[name, value]] });
        await send({ type: "http.response.body", body: Buffer.from("hello") });
      });
      const client = new RawClient(handle.port);
      await client.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      const text = await client.untilClosed();
      const end = text.indexOf("\r\n\r\n");
      assert.ok(end > 0, `${name}: a complete head`);
      const head = text.slice(0, end);
      const rest = text.slice(end + 4);
      const framing = head
        .split("\r\n")
        .filter((line) => /^(content-length|transfer-encoding):/i.test(line));
      assert.deepEqual(
        framing.map((line) => line.toLowerCase()),
        [`${name.toLowerCase()}: ${value}`],
        name,
      );
      assert.equal(rest, body, name);
    }
  });

  it("adds no Content-Length to a 204", async () => {
    await using handle = await start(async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await send({ type: "http.response.start", status: 204 });
      await send({ type: "http.response.body" });
    });
    const client = new RawClient(handle.port);
    await client.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const text = await client.untilClosed();
    assert.match(text, /^HTTP\/1\.1 204 /);
    assert.doesNotMatch(text, /content-length/i);
  });
});

describe("misbehaving apps", () => {
  for (const [label, headers] of [
    ["CR/LF in a value", [["x-evil", "a\r\nSet-Cookie: pwned=1"]]],
    ["NUL in a value", [["x-evil", "a\0b"]]],
    ["an invalid name", [["bad name", "v"]]],
    ["a name with a colon", [["x:y", "v"]]],
  ] as Array<[string, ASGIHeaders]>) {
    it(`rejects ${label} with ASGI_INVALID_HEADER, answers 500 and keeps serving`, async () => {
      let caught: unknown;
      await using handle = await start(async (scope, _receive, send) => {
        if (scope.type !== "http") throw new Error("no lifespan");
        if (scope.path === "/fine") {
          await send({ type: "http.response.start", status: 200 });
          await send({ type: "http.response.body", body: Buffer.from("fine") });
          return;
        }
        await send({ type: "http.response.start", status: 200, headers });
        try {
          await send({ type: "http.response.body", body: Buffer.from("body") });
        } catch (error) {
          caught = error;
          throw error;
        }
      });
      const client = new RawClient(handle.port);
      await client.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      const text = await client.untilClosed();
      assert.match(text, /^HTTP\/1\.1 500 /);
      assert.doesNotMatch(text, /pwned|x-evil/i);
      assert.ok(caught instanceof ASGIError);
      assert.equal((caught as ASGIError).code, "ASGI_INVALID_HEADER");
      assert.equal(handle.logger.errors.length, 1);
      assert.equal((handle.logger.errors[0].error as ASGIError).code, "ASGI_INVALID_HEADER");
      assert.equal(await (await fetch(`${handle.url}/fine`)).text(), "fine");
    });
  }

  it("turns a thrown error into a 500 that leaks nothing, and keeps serving", async () => {
    await using handle = await start(async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      if (scope.path === "/boom") throw new Error("secret database password");
      await send({ type: "http.response.start", status: 200 });
      await send({ type: "http.response.body", body: Buffer.from("still here") });
    });
    const response = await fetch(`${handle.url}/boom`);
    assert.equal(response.status, 500);
    const text = await response.text();
    assert.equal(text, "Internal Server Error");
    assert.equal(handle.logger.errors.length, 1);
    assert.match(String(handle.logger.errors[0].error), /secret/);
    assert.equal(await (await fetch(handle.url)).text(), "still here");
  });

  it("answers 500 when the app returns without responding", async () => {
    await using handle = await start(async (scope) => {
      if (scope.type !== "http") throw new Error("no lifespan");
    });
    assert.equal((await fetch(handle.url)).status, 500);
    assert.match(handle.logger.errors[0].message, /without sending a response/);
  });

  it("cuts the connection when the app returns mid-stream", async () => {
    await using handle = await start(async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await send({ type: "http.response.start", status: 200 });
      await send({ type: "http.response.body", body: Buffer.from("partial"), more_body: true });
    });
    // Either the head never arrives or the body is cut: never a complete-looking response.
    await assert.rejects(async () => (await fetch(handle.url)).text());
    assert.match(handle.logger.errors[0].message, /without completing the response/);
  });

  it("rejects out-of-order events with ASGI_UNEXPECTED_MESSAGE", async () => {
    const codes: string[] = [];
    const done = gate();
    const record = async (promise: Promise<void>) => {
      try {
        await promise;
        codes.push("ok");
      } catch (error) {
        codes.push((error as ASGIError).code);
      }
    };
    const app: ASGIApp = async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await record(send({ type: "http.response.body", body: Buffer.from("early") }));
      await record(send({ type: "http.response.start", status: 200 }));
      await record(send({ type: "http.response.start", status: 200 }));
      await record(send({ type: "http.response.body", body: Buffer.from("ok") }));
      await record(send({ type: "http.response.body", body: Buffer.from("late") }));
      done.open();
    };
    await using handle = await start(app);
    assert.equal(await (await fetch(handle.url)).text(), "ok");
    await done.promise;
    assert.deepEqual(codes, [
      "ASGI_UNEXPECTED_MESSAGE",
      "ok",
      "ASGI_UNEXPECTED_MESSAGE",
      "ok",
      "ASGI_UNEXPECTED_MESSAGE",
    ]);
  });

  it("rejects a non-latin1 header value, a malformed header list and a string body", async () => {
    const codes: string[] = [];
    const done = gate();
    await using handle = await start(async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      const attempts: Array<() => Promise<void>> = [
        async () => {
          await send({ type: "http.response.start", status: 200, headers: [["x-kana", "あ"]] });
          await send({ type: "http.response.body", body: Buffer.from("no") });
        },
        async () => {
          const broken = [null] as unknown as ASGIHeaders;
          await send({ type: "http.response.start", status: 200, headers: broken });
          await send({ type: "http.response.body", body: Buffer.from("no") });
        },
        async () => {
          await send({ type: "http.response.start", status: 200 });
          const text = "not bytes" as unknown as Uint8Array;
          await send({ type: "http.response.body", body: text });
        },
      ];
      for (const attempt of attempts) {
        try {
          await attempt();
        } catch (error) {
          codes.push((error as ASGIError).code);
        }
      }
      await send({ type: "http.response.body", body: Buffer.from("recovered") });
      done.open();
    });
    const response = await fetch(handle.url);
    assert.equal(await response.text(), "recovered");
    await done.promise;
    assert.deepEqual(codes, [
      "ASGI_INVALID_HEADER",
      "ASGI_INVALID_HEADER",
      "ASGI_UNEXPECTED_MESSAGE",
    ]);
  });

  it("rejects a second receive() while one is pending", async () => {
    const result = gate<string>();
    await using handle = await start(async (scope, receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await receive(); // the (empty) body
      const first = receive(); // waits for a disconnect
      try {
        await receive();
        result.open("resolved");
      } catch (error) {
        result.open((error as ASGIError).code);
      }
      await send({ type: "http.response.start", status: 200 });
      await send({ type: "http.response.body" });
      assert.deepEqual(await first, { type: "http.disconnect" });
    });
    assert.equal((await fetch(handle.url)).status, 200);
    assert.equal(await result.promise, "ASGI_UNEXPECTED_MESSAGE");
    assert.equal(handle.logger.errors.length, 0);
  });

  it("rejects an invalid status with ASGI_INVALID_STATUS", async () => {
    await using handle = await start(async (scope, _receive, send) => {
      if (scope.type !== "http") throw new Error("no lifespan");
      await send({ type: "http.response.start", status: 42 });
      await send({ type: "http.response.body" });
    });
    assert.equal((await fetch(handle.url)).status, 500);
    assert.equal((handle.logger.errors[0].error as ASGIError).code, "ASGI_INVALID_STATUS");
  });
});
